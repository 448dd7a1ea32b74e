//! [`FernetKey`]: one Fernet key, from raw key text or derived from a passphrase.

use std::fmt;

use stowage_core::{Error, ErrorKind, Result};
use zeroize::{Zeroize, Zeroizing};

/// PBKDF2-HMAC-SHA256 iterations used by [`FernetKey::derive`], the same as py-key-value's
/// `FernetEncryptionWrapper`, so the same passphrase and salt give the same key in both.
pub const KDF_ITERATIONS: u32 = 1_200_000;

/// One Fernet key (128-bit signing key + 128-bit AES key).
///
/// The key material never appears in `Debug` output, and it is wiped from memory when the key
/// is dropped.
///
/// ```
/// use stowage_wrappers::fernet::FernetKey;
///
/// // A fresh random key, as url-safe base64 text: keep it somewhere safe.
/// let text = FernetKey::generate_text();
/// let key = FernetKey::from_base64(&text)?;
/// assert_eq!(format!("{key:?}"), "FernetKey(<redacted>)");
///
/// // Not a key: a typed error, never a panic.
/// assert!(FernetKey::from_base64("too short").is_err());
/// # Ok::<(), stowage_core::Error>(())
/// ```
#[derive(Clone)]
pub struct FernetKey {
    pub(crate) fernet: fernet::Fernet,
}

impl FernetKey {
    /// A key from its url-safe base64 text (44 characters, as Python's `Fernet.generate_key()`
    /// prints it; the trailing `=` may be left out).
    ///
    /// Errors with [`ErrorKind::Config`] when the text is not 32 bytes of url-safe base64. The
    /// message never repeats the text.
    pub fn from_base64(text: &str) -> Result<Self> {
        fernet::Fernet::new(text.trim())
            .map(|fernet| FernetKey { fernet })
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Config,
                    "a Fernet key must be 32 bytes of url-safe base64 (44 characters)",
                )
            })
    }

    /// Derive a key from source material (a passphrase or secret) and a salt, exactly as
    /// py-key-value's `FernetEncryptionWrapper(source_material=…, salt=…)` does: PBKDF2 with
    /// HMAC-SHA256, [`KDF_ITERATIONS`] iterations, a 32-byte output. The same inputs open the same
    /// data from Python and from Rust.
    ///
    /// Deliberately slow (about a second in an optimised build): derive once at start-up, and
    /// from async code call it inside `tokio::task::spawn_blocking`.
    ///
    /// Errors with [`ErrorKind::Config`] when either input is empty or only whitespace (as the
    /// Python wrapper refuses them).
    pub fn derive(source_material: &str, salt: &str) -> Result<Self> {
        if source_material.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "Fernet key derivation needs non-empty source material",
            ));
        }
        if salt.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "Fernet key derivation needs a non-empty salt",
            ));
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            source_material.as_bytes(),
            salt.as_bytes(),
            KDF_ITERATIONS,
            raw.as_mut(),
        );
        let text = Zeroizing::new(base64_simd::URL_SAFE.encode_to_string(raw.as_ref()));
        Self::from_base64(&text)
    }

    /// A new random key as url-safe base64 text, ready for [`FernetKey::from_base64`] and for
    /// Python's `Fernet(key)`. The text is wiped from memory when dropped.
    pub fn generate_text() -> Zeroizing<String> {
        let mut text = fernet::Fernet::generate_key();
        let out = Zeroizing::new(text.clone());
        text.zeroize();
        out
    }
}

impl fmt::Debug for FernetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FernetKey(<redacted>)")
    }
}
