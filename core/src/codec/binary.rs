//! The compact, versioned binary envelope of the embedded backends (redb, sled, RocksDB).
//!
//! One stored entry is one record:
//!
//! ```text
//! offset  size  field
//! 0       1     version, 0x01
//! 1       n     postcard body:  created_at  Option<u64>   nanoseconds since the Unix epoch
//!                               expires_at  Option<u64>   nanoseconds since the Unix epoch
//!                               value       bytes         the value's JSON text (varint length)
//! 1 + n   4     CRC-32 (IEEE) of every byte before it, little-endian
//! ```
//!
//! postcard writes an `Option` as a `0x00`/`0x01` tag, integers as LEB128 varints and bytes as a
//! varint length then the bytes, so a 1 KiB value costs 1 KiB plus about 25 bytes. The value stays
//! JSON text, never a decoded tree, so any binary encoding can carry it.
//!
//! The checksum is what makes damage visible: a flipped byte inside a JSON string would otherwise
//! decode into a plausible but wrong value. [`decode`] checks, in order: length, checksum,
//! version, body, no trailing bytes, and that the value is a JSON object. Any failure is an
//! [`ErrorKind::Corrupted`] error; nothing here panics on any input.
//!
//! A later format gets a new version byte; readers keep decoding every version they know and
//! refuse the rest with [`ErrorKind::Corrupted`] naming the version.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use stowage_core::codec::binary;
//! use stowage_core::{Entry, Value};
//!
//! let now = SystemTime::now();
//! let entry = Entry::new(Value::from_json(r#"{"a":1}"#)?, Some(now), Some(now + Duration::from_secs(60)));
//! let bytes = binary::encode(&entry);
//! assert_eq!(binary::decode(&bytes)?, entry);
//! assert!(!binary::decode_header(&bytes)?.is_expired_at(now));
//!
//! let mut damaged = bytes.clone();
//! damaged[12] ^= 0x20;
//! assert_eq!(binary::decode(&damaged).unwrap_err().kind(), stowage_core::ErrorKind::Corrupted);
//! # Ok::<(), stowage_core::Error>(())
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// The version byte this build writes.
pub const VERSION: u8 = 1;

/// Bytes of the version byte plus the checksum trailer.
const FRAME: usize = 1 + 4;

#[derive(Serialize)]
struct BodyOut<'a> {
    created_at: Option<u64>,
    expires_at: Option<u64>,
    value: &'a [u8],
}

#[derive(Deserialize)]
struct BodyIn<'a> {
    created_at: Option<u64>,
    expires_at: Option<u64>,
    #[serde(borrow)]
    value: &'a [u8],
}

/// The timestamps of an entry, read without parsing its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// When the entry was written.
    pub created_at: Option<SystemTime>,
    /// When the entry expires; `None` means never.
    pub expires_at: Option<SystemTime>,
}

impl Header {
    /// Whether the entry is expired at `now` (it expires at the instant `expires_at`).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

fn to_nanos(t: SystemTime) -> u64 {
    // Times before 1970 clamp to the epoch; times past year 2554 clamp to u64::MAX nanoseconds.
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn from_nanos(n: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(n)
}

fn corrupted(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::Corrupted, message)
}

/// Encode an entry as a version-1 record.
pub fn encode(entry: &Entry) -> Vec<u8> {
    encode_parts(entry.created_at, entry.expires_at, &entry.value)
}

/// Encode an entry from its parts, without building an [`Entry`].
pub fn encode_parts(
    created_at: Option<SystemTime>,
    expires_at: Option<SystemTime>,
    value: &Value,
) -> Vec<u8> {
    let body = BodyOut {
        created_at: created_at.map(to_nanos),
        expires_at: expires_at.map(to_nanos),
        value: value.as_bytes(),
    };
    // 1 version byte, at most 2 × 11 bytes of timestamps, at most 10 bytes of length, 4 of CRC.
    let mut out = Vec::with_capacity(value.len() + 40);
    out.push(VERSION);
    let mut out = postcard::to_extend(&body, out)
        .expect("postcard serialization of integers and bytes into a Vec cannot fail");
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn checked_body(bytes: &[u8]) -> Result<BodyIn<'_>> {
    if bytes.len() < FRAME + 3 {
        return Err(corrupted(format!(
            "stored entry is {} bytes, shorter than any valid envelope",
            bytes.len()
        )));
    }
    let (framed, trailer) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    if crc32fast::hash(framed) != stored {
        return Err(corrupted("stored entry fails its checksum"));
    }
    let (&version, body) = framed
        .split_first()
        .ok_or_else(|| corrupted("stored entry is empty"))?;
    if version != VERSION {
        return Err(corrupted(format!(
            "stored entry has envelope version {version}; this build reads version {VERSION}"
        )));
    }
    let (decoded, rest): (BodyIn<'_>, &[u8]) = postcard::take_from_bytes(body)
        .map_err(|e| corrupted("stored entry body does not decode").with_source(e))?;
    if !rest.is_empty() {
        return Err(corrupted(format!(
            "stored entry has {} unexpected trailing bytes",
            rest.len()
        )));
    }
    Ok(decoded)
}

/// Decode a record's timestamps only, checking its checksum and version but not parsing the
/// value. Cheap enough for compaction filters and expiry sweeps.
pub fn decode_header(bytes: &[u8]) -> Result<Header> {
    let body = checked_body(bytes)?;
    Ok(Header {
        created_at: body.created_at.map(from_nanos),
        expires_at: body.expires_at.map(from_nanos),
    })
}

/// Decode a whole record. Errors with [`ErrorKind::Corrupted`] when the bytes are damaged,
/// written by an unknown version, or hold a value that is not a JSON object.
pub fn decode(bytes: &[u8]) -> Result<Entry> {
    let body = checked_body(bytes)?;
    let value = Value::from_checksummed(body.value)?;
    Ok(Entry::new(
        value,
        body.created_at.map(from_nanos),
        body.expires_at.map(from_nanos),
    ))
}

/// Decode a record and return its entry only when it is live at `now`: `Ok(None)` when it has
/// expired. The value of an expired entry is not parsed.
pub fn decode_live(bytes: &[u8], now: SystemTime) -> Result<Option<Entry>> {
    live(bytes, now, Value::from_checksummed)
}

/// [`decode_live`] for a record the caller owns (an engine's reference-counted buffer, a
/// `Vec`): the value keeps sharing the record instead of being copied out of it, unless it is
/// under half of it.
///
/// ```
/// use std::time::SystemTime;
/// use stowage_core::codec::binary;
/// use stowage_core::{Entry, Value};
///
/// let record = binary::encode(&Entry::new(Value::from_json(r#"{"a": 1}"#)?, None, None));
/// let entry = binary::decode_live_owned(record, SystemTime::now())?.expect("live");
/// assert_eq!(entry.value.as_str(), r#"{"a": 1}"#);
/// # Ok::<(), stowage_core::Error>(())
/// ```
pub fn decode_live_owned<B>(record: B, now: SystemTime) -> Result<Option<Entry>>
where
    B: AsRef<[u8]> + Send + 'static,
{
    let record = bytes::Bytes::from_owner(record);
    live(&record, now, |value| {
        Value::from_checksummed_in(&record, value)
    })
}

fn live(
    bytes: &[u8],
    now: SystemTime,
    value_of: impl FnOnce(&[u8]) -> Result<Value>,
) -> Result<Option<Entry>> {
    let body = checked_body(bytes)?;
    if body.expires_at.is_some_and(|at| from_nanos(at) <= now) {
        return Ok(None);
    }
    Ok(Some(Entry::new(
        value_of(body.value)?,
        body.created_at.map(from_nanos),
        body.expires_at.map(from_nanos),
    )))
}

/// The byte between collection and key in the physical keys of the embedded backends. `0xFF`
/// never occurs in UTF-8, so no `(collection, key)` pair can be mistaken for another and every
/// collection's keys are one contiguous range.
///
/// Physical key: `collection bytes ‖ 0xFF ‖ key bytes`. All keys of `c` sort in
/// `[c ‖ 0xFF, c ‖ 0xFF ‖ 0xFF)`, since a UTF-8 key never starts with `0xFF`.
///
/// ```
/// use stowage_core::codec::binary;
///
/// let pk = binary::physical_key("tokens", "alice");
/// assert_eq!(pk, b"tokens\xffalice");
/// assert_eq!(binary::split_physical_key(&pk), Some(("tokens", "alice")));
/// assert!(binary::collection_start("tokens").as_slice() <= pk.as_slice());
/// assert!(pk.as_slice() < binary::collection_end("tokens").as_slice());
/// ```
pub const KEY_SEPARATOR: u8 = 0xFF;

/// The physical key of `key` in `collection`.
pub fn physical_key(collection: &str, key: &str) -> Vec<u8> {
    let mut pk = Vec::with_capacity(collection.len() + 1 + key.len());
    pk.extend_from_slice(collection.as_bytes());
    pk.push(KEY_SEPARATOR);
    pk.extend_from_slice(key.as_bytes());
    pk
}

/// The first physical key a collection can hold (inclusive bound): `collection ‖ 0xFF`.
pub fn collection_start(collection: &str) -> Vec<u8> {
    let mut pk = Vec::with_capacity(collection.len() + 1);
    pk.extend_from_slice(collection.as_bytes());
    pk.push(KEY_SEPARATOR);
    pk
}

/// A bound past every physical key of a collection (exclusive): `collection ‖ 0xFF ‖ 0xFF`.
pub fn collection_end(collection: &str) -> Vec<u8> {
    let mut pk = collection_start(collection);
    pk.push(KEY_SEPARATOR);
    pk
}

/// Split a physical key into collection and key; `None` when it is not one (no separator, or
/// not UTF-8 on either side).
pub fn split_physical_key(pk: &[u8]) -> Option<(&str, &str)> {
    let at = pk.iter().position(|&b| b == KEY_SEPARATOR)?;
    let collection = std::str::from_utf8(&pk[..at]).ok()?;
    let key = std::str::from_utf8(&pk[at + 1..]).ok()?;
    Some((collection, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_entry() -> Entry {
        let created = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        Entry::new(
            Value::from_json(r#"{"a":1}"#).unwrap(),
            Some(created),
            Some(created + Duration::from_millis(60_500)),
        )
    }

    /// The version-1 bytes of [`fixture_entry`]. Changing them breaks every store written so far:
    /// add a version instead.
    const FIXTURE_V1: &[u8] = &[
        0x01, // version
        0x01, 0x80, 0x80, 0xa8, 0xb1, 0xe3, 0x9f, 0xe7, 0xcb, 0x17, // Some(1.7e18 ns)
        0x01, 0x80, 0xfa, 0xfa, 0xe1, 0xc4, 0xa1, 0xe7, 0xcb,
        0x17, // Some(1.7e18 + 60.5e9 ns)
        0x07, b'{', b'"', b'a', b'"', b':', b'1', b'}', // value: varint length 7, JSON text
        0x60, 0x4e, 0x53, 0xb2, // CRC-32 (IEEE) of the bytes above, little-endian
    ];

    /// The version-1 bytes of an entry without timestamps holding `{}`.
    const FIXTURE_V1_BARE: &[u8] = &[0x01, 0x00, 0x00, 0x02, b'{', b'}', 0xd4, 0x0b, 0x65, 0x9b];

    #[test]
    fn physical_keys_keep_collections_apart() {
        // "a" + key "b…" and "ab" + key "…" never collide, and ranges do not overlap.
        let a = physical_key("a", "bc");
        let ab = physical_key("ab", "c");
        assert_ne!(a, ab);
        assert!(
            !(collection_start("ab").as_slice() <= a.as_slice()
                && a.as_slice() < collection_end("ab").as_slice())
        );
        assert!(
            collection_start("a").as_slice() <= a.as_slice()
                && a.as_slice() < collection_end("a").as_slice()
        );
        assert!(
            !(collection_start("a").as_slice() <= ab.as_slice()
                && ab.as_slice() < collection_end("a").as_slice())
        );
        assert_eq!(
            split_physical_key(&physical_key("c", "k::\u{10FFFF}")),
            Some(("c", "k::\u{10FFFF}"))
        );
        assert_eq!(split_physical_key(b"no separator"), None);
        assert_eq!(split_physical_key(b"c\xff\xfe"), None);
    }

    #[test]
    fn version_1_layout_is_pinned() {
        assert_eq!(encode(&fixture_entry()), FIXTURE_V1);
        assert_eq!(decode(FIXTURE_V1).unwrap(), fixture_entry());
        let bare = Entry::new(Value::empty(), None, None);
        assert_eq!(encode(&bare), FIXTURE_V1_BARE);
        assert_eq!(decode(FIXTURE_V1_BARE).unwrap(), bare);
    }

    #[test]
    fn round_trip_keeps_nanoseconds() {
        let now = SystemTime::now();
        let e = Entry::new(
            Value::from_json(r#"{"x":"é\n","n":[1,2.5,null]}"#).unwrap(),
            Some(now),
            Some(now + Duration::from_nanos(1_234_567_891)),
        );
        let bytes = encode(&e);
        assert_eq!(decode(&bytes).unwrap(), e);
        let h = decode_header(&bytes).unwrap();
        assert_eq!(h.created_at, e.created_at);
        assert_eq!(h.expires_at, e.expires_at);
    }

    #[test]
    fn an_owned_record_shares_a_large_value_and_reads_like_a_borrowed_one() {
        let now = SystemTime::now();
        let big = Value::from_serialize(&serde_json::json!({ "d": "x".repeat(1000) })).unwrap();
        let small = Value::from_json(r#"{"a": 1}"#).unwrap();
        let accents =
            Value::from_serialize(&serde_json::json!({ "d": "h\u{e9}llo \u{2603} ".repeat(80) }))
                .unwrap();
        for (value, shared) in [(big, true), (small, false), (accents, false)] {
            let record = encode(&Entry::new(value.clone(), Some(now), None));
            let range = record.as_ptr_range();
            let copy = record.clone();
            let entry = decode_live_owned(record, now).unwrap().unwrap();
            assert_eq!(Some(&entry), decode_live(&copy, now).unwrap().as_ref());
            assert_eq!(entry.value, value);
            assert_eq!(range.contains(&entry.value.as_str().as_ptr()), shared);
        }
        // Damage and expiry read the same way too.
        let e = fixture_entry();
        let mut damaged = encode(&e);
        let mid = damaged.len() / 2;
        damaged[mid] ^= 0x20;
        let err = decode_live_owned(damaged, e.created_at.unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        let at = e.expires_at.unwrap();
        assert!(decode_live_owned(encode(&e), at).unwrap().is_none());
    }

    #[test]
    fn decode_live_filters_expired() {
        let e = fixture_entry();
        let at = e.expires_at.unwrap();
        let bytes = encode(&e);
        assert!(
            decode_live(&bytes, at - Duration::from_nanos(1))
                .unwrap()
                .is_some()
        );
        assert!(decode_live(&bytes, at).unwrap().is_none());
        assert!(decode_header(&bytes).unwrap().is_expired_at(at));
    }

    #[test]
    fn unknown_version_is_corrupted_and_named() {
        let mut bytes = FIXTURE_V1.to_vec();
        bytes[0] = 2;
        let n = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..n]).to_le_bytes();
        bytes[n..].copy_from_slice(&crc);
        let err = decode(&bytes).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(err.message().contains("version 2"), "{err}");
    }

    #[test]
    fn every_single_byte_flip_is_detected() {
        let bytes = FIXTURE_V1;
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut d = bytes.to_vec();
                d[i] ^= 1 << bit;
                assert_eq!(
                    decode(&d).unwrap_err().kind(),
                    ErrorKind::Corrupted,
                    "flip of bit {bit} in byte {i}"
                );
            }
        }
    }

    #[test]
    fn truncation_and_extension_are_detected() {
        let bytes = encode(&fixture_entry());
        for n in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..n]).unwrap_err().kind(),
                ErrorKind::Corrupted
            );
        }
        // Trailing garbage behind a body, under a valid checksum, is refused too.
        let mut longer = bytes[..bytes.len() - 4].to_vec();
        longer.push(0);
        let crc = crc32fast::hash(&longer).to_le_bytes();
        longer.extend_from_slice(&crc);
        let err = decode(&longer).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(err.message().contains("trailing"), "{err}");
    }

    #[test]
    fn non_object_payload_under_a_valid_checksum_is_corrupted() {
        for payload in [&b"[1]"[..], b"{\"a\":", b"\xff\xfe"] {
            let mut out = vec![VERSION];
            let body = BodyOut {
                created_at: None,
                expires_at: None,
                value: payload,
            };
            let mut out = postcard::to_extend(&body, std::mem::take(&mut out)).unwrap();
            let crc = crc32fast::hash(&out).to_le_bytes();
            out.extend_from_slice(&crc);
            assert_eq!(decode(&out).unwrap_err().kind(), ErrorKind::Corrupted);
            assert!(decode_header(&out).is_ok());
        }
    }

    #[test]
    fn checksummed_text_is_trusted_but_never_panics() {
        // Under a valid checksum the JSON grammar is not re-checked (a writer's `Value` was), so
        // hand-made text with the right braces decodes; every use of it is then an error or an
        // empty answer, never a panic.
        let mut out = vec![VERSION];
        let body = BodyOut {
            created_at: None,
            expires_at: None,
            value: b"{not json}",
        };
        out = postcard::to_extend(&body, out).unwrap();
        let crc = crc32fast::hash(&out).to_le_bytes();
        out.extend_from_slice(&crc);
        let value = decode(&out).unwrap().value;
        assert_eq!(value.as_str(), "{not json}");
        assert!(value.to_map().is_empty());
        assert!(value.deserialize::<serde_json::Value>().is_err());
        assert!(serde_json::to_string(&value).is_err());
    }

    /// A small deterministic generator, so the property test needs no dependency.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let valid = encode(&fixture_entry());
        for round in 0..200_000u32 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                // Pure noise of any length, with a plausible version byte half of the time.
                let len = (rng.next() % 64) as usize;
                let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if round % 4 == 0 && !b.is_empty() {
                    b[0] = VERSION;
                }
                b
            } else {
                // A valid record with a few random bytes changed, then its checksum fixed up so
                // the body decoder itself is exercised.
                let mut b = valid.clone();
                for _ in 0..=(rng.next() % 3) {
                    let i = 1 + (rng.next() as usize) % (b.len() - 5);
                    b[i] = rng.next() as u8;
                }
                let n = b.len() - 4;
                let crc = crc32fast::hash(&b[..n]).to_le_bytes();
                b[n..].copy_from_slice(&crc);
                b
            };
            match decode(&bytes) {
                Ok(e) => assert!(e.value.as_str().starts_with('{')),
                Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupted),
            }
            let _ = decode_header(&bytes);
            let _ = decode_live(&bytes, SystemTime::now());
        }
    }
}
