//! The stored format: py-key-value's encrypted value envelope.
//!
//! ```text
//! {"__encrypted_data__":"<standard base64 of the Fernet token's text>","__encryption_version__":1}
//! ```
//!
//! The plaintext is the value's JSON text (UTF-8). Keys, collection and timestamps stay in clear.

use base64_simd::STANDARD;
use serde_json::{Map, Value as Json};
use stowage_core::{Error, ErrorKind, Result, Value};

use super::key::FernetKey;

/// The member holding the encrypted data.
pub const ENCRYPTED_DATA_KEY: &str = "__encrypted_data__";
/// The member holding the envelope's version.
pub const ENCRYPTION_VERSION_KEY: &str = "__encryption_version__";
/// The only envelope version this library reads and writes.
pub const ENCRYPTION_VERSION: i64 = 1;

const PREFIX: &str = "{\"__encrypted_data__\":\"";

/// The "current time" given to the `fernet` crate when decrypting: past any token's timestamp,
/// so a token stamped in the future by a writer whose clock runs ahead opens, as it does in
/// Python's `cryptography` when no TTL is asked for (the crate alone refuses tokens stamped more
/// than 60 s ahead). No TTL is checked, so the time is used for nothing else; half of `u64`
/// leaves room for the crate's own `+ 60`.
const ANY_TIME: u64 = u64::MAX / 2;
const SUFFIX: &str = "\",\"__encryption_version__\":1}";

/// What a stored value turned out to be.
pub(crate) enum Opened {
    /// Decrypted with the key at this index (0 is the primary key).
    Decrypted(Value, usize),
    /// Not an envelope at all: a value written without encryption.
    Plaintext(Value),
}

/// The key set: encrypt with the first, decrypt with any.
#[derive(Clone)]
pub(crate) struct Cipher {
    keys: Vec<FernetKey>,
}

fn corrupted(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::Corrupted, message).with_backend("fernet")
}

fn b64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

impl Cipher {
    pub(crate) fn new(keys: Vec<FernetKey>) -> Self {
        Cipher { keys }
    }

    pub(crate) fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// The length of the envelope for a plaintext of `n` bytes.
    pub(crate) fn envelope_len(n: usize) -> usize {
        let ciphertext = (n / 16 + 1) * 16;
        let token = b64_len(1 + 8 + 16 + ciphertext + 32);
        PREFIX.len() + b64_len(token) + SUFFIX.len()
    }

    /// The largest plaintext whose envelope fits in `limit` bytes.
    pub(crate) fn max_plaintext(limit: usize) -> usize {
        let (mut lo, mut hi) = (0usize, limit);
        if Self::envelope_len(0) > limit {
            return 0;
        }
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if Self::envelope_len(mid) <= limit {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// Encrypt `value` into an envelope with the primary key.
    pub(crate) fn seal(&self, value: &Value) -> Value {
        let token = self.keys[0].fernet.encrypt(value.as_bytes());
        let data_len = b64_len(token.len());
        let mut text = String::with_capacity(PREFIX.len() + data_len + SUFFIX.len());
        text.push_str(PREFIX);
        STANDARD.encode_append(token.as_bytes(), &mut text);
        text.push_str(SUFFIX);
        // The text is a JSON object by construction: base64 never needs escaping.
        Value::from_trusted_json(text)
    }

    /// Open a stored value: decrypt an envelope, or report a value that is not one.
    pub(crate) fn open(&self, stored: &Value) -> Result<Opened> {
        let text = stored.as_str();
        if let Some(data) = text
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_suffix(SUFFIX))
            .filter(|data| !data.contains(['"', '\\']))
        {
            return self.decrypt_data(data);
        }
        // Not in the exact shape this library writes: read it as a generic JSON object.
        let map: Map<String, Json> = stored.to_map();
        let Some(data) = map.get(ENCRYPTED_DATA_KEY) else {
            return Ok(Opened::Plaintext(stored.clone()));
        };
        let version = match map.get(ENCRYPTION_VERSION_KEY) {
            None => return Err(corrupted("encrypted value has no encryption version")),
            Some(Json::Number(n)) if n.is_i64() || n.is_u64() => n.as_i64(),
            Some(_) => {
                return Err(corrupted(
                    "encrypted value has an encryption version that is not an integer",
                ));
            }
        };
        if version != Some(ENCRYPTION_VERSION) {
            return Err(corrupted(format!(
                "encrypted value has encryption version {}, but only version {ENCRYPTION_VERSION} is supported",
                map[ENCRYPTION_VERSION_KEY]
            )));
        }
        match data {
            Json::String(data) => self.decrypt_data(data),
            _ => Err(corrupted("encrypted value's data is not a string")),
        }
    }

    fn decrypt_data(&self, data: &str) -> Result<Opened> {
        let failed = || {
            Error::new(
                ErrorKind::DecryptionFailed,
                format!(
                    "the value could not be decrypted with any of the {} configured keys \
                     (wrong key, truncated or tampered data)",
                    self.keys.len()
                ),
            )
            .with_backend("fernet")
        };
        let token = STANDARD.decode_to_vec(data).map_err(|_| failed())?;
        let token = std::str::from_utf8(&token).map_err(|_| failed())?;
        for (index, key) in self.keys.iter().enumerate() {
            if let Ok(plain) = key.fernet.decrypt_at_time(token, None, ANY_TIME) {
                let value = Value::from_stored(&plain).map_err(|e| {
                    corrupted(format!(
                        "decrypted data is not a JSON object: {}",
                        e.message()
                    ))
                })?;
                return Ok(Opened::Decrypted(value, index));
            }
        }
        Err(failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose clock runs an hour ahead stamps its tokens in the future; they open.
    #[test]
    fn tokens_stamped_in_the_future_open() {
        let key = FernetKey::from_base64(&FernetKey::generate_text()).unwrap();
        let cipher = Cipher::new(vec![key.clone()]);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for ahead in [61, 3600, 10 * 365 * 24 * 3600] {
            let token = key.fernet.encrypt_at_time(br#"{"a":1}"#, now + ahead);
            let mut text = PREFIX.to_owned();
            STANDARD.encode_append(token.as_bytes(), &mut text);
            text.push_str(SUFFIX);
            match cipher.open(&Value::from_json(text).unwrap()) {
                Ok(Opened::Decrypted(value, 0)) => assert_eq!(value.as_str(), r#"{"a":1}"#),
                Ok(_) => panic!("{ahead} s ahead: not decrypted with the primary key"),
                Err(e) => panic!("{ahead} s ahead: {e}"),
            }
        }
    }

    #[test]
    fn envelope_len_is_exact() {
        let cipher = Cipher::new(vec![
            FernetKey::from_base64(&FernetKey::generate_text()).unwrap(),
        ]);
        for n in [0usize, 1, 15, 16, 17, 100, 1000, 4095] {
            let value = Value::from_json(format!("{{\"a\":\"{}\"}}", "x".repeat(n))).unwrap();
            let sealed = cipher.seal(&value);
            assert_eq!(sealed.len(), Cipher::envelope_len(value.len()), "n = {n}");
        }
    }

    #[test]
    fn max_plaintext_fits() {
        for limit in [0usize, 10, 200, 1000, 1 << 20] {
            let max = Cipher::max_plaintext(limit);
            if Cipher::envelope_len(0) <= limit {
                assert!(Cipher::envelope_len(max) <= limit);
                assert!(Cipher::envelope_len(max + 1) > limit);
            } else {
                assert_eq!(max, 0);
            }
        }
    }
}
