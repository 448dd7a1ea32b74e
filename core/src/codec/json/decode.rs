//! Reading the envelope: the fast path for the canonical layout, the general one for anything
//! else a writer may produce.

use std::borrow::Cow;
use std::time::SystemTime;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::super::{canonical, utc};
use super::{Envelope, VERSION};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    collection: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<Box<RawValue>>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    version: Option<serde_json::Number>,
}

fn corrupted(message: impl Into<Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::Corrupted, message)
}

/// The common shape, read in one pass: `value` is borrowed as raw JSON, checked to be an object.
#[derive(Deserialize)]
struct FastDocument<'a> {
    #[serde(default, borrow)]
    collection: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    value: &'a RawValue,
    #[serde(default, borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    expires_at: Option<Cow<'a, str>>,
    #[serde(default)]
    version: Option<serde_json::Number>,
}

/// The members of an envelope, however it was read.
pub(super) struct Parts<'a> {
    pub(super) collection: Option<Cow<'a, str>>,
    pub(super) key: Option<Cow<'a, str>>,
    pub(super) value: Value,
    pub(super) created_at: Option<Cow<'a, str>>,
    pub(super) expires_at: Option<Cow<'a, str>>,
    pub(super) version: Option<serde_json::Number>,
}

impl<'a> FastDocument<'a> {
    fn into_parts(self) -> Option<Parts<'a>> {
        Some(Parts {
            value: Value::try_from(self.value).ok()?,
            collection: self.collection,
            key: self.key,
            created_at: self.created_at,
            expires_at: self.expires_at,
            version: self.version,
        })
    }
}

/// Parse stored envelope bytes.
///
/// Errors with [`ErrorKind::Corrupted`] when the bytes are not an envelope Stowage can read.
pub fn decode(bytes: &[u8]) -> Result<Envelope> {
    let (parts, created_at, expires_at) = decode_parts(bytes)?;
    Ok(Envelope {
        collection: parts.collection.map(Cow::into_owned),
        key: parts.key.map(Cow::into_owned),
        value: parts.value,
        created_at,
        expires_at,
    })
}

/// Parse stored envelope bytes into the entry they hold, as [`decode`] does but without
/// copying out the `collection` and `key` members (what a store's reads need).
///
/// ```
/// use stowage_core::codec::json;
///
/// let entry = json::decode_entry(br#"{"key": "k", "value": {"a": 1}, "version": 1}"#)?;
/// assert_eq!(entry.value.as_str(), r#"{"a": 1}"#);
/// assert_eq!(entry.expires_at, None);
/// # Ok::<(), stowage_core::Error>(())
/// ```
pub fn decode_entry(bytes: &[u8]) -> Result<Entry> {
    let (parts, created_at, expires_at) = decode_parts(bytes)?;
    Ok(Entry::new(parts.value, created_at, expires_at))
}

type Decoded<'a> = (Parts<'a>, Option<SystemTime>, Option<SystemTime>);

/// Parse stored envelope bytes into their entry, as [`decode_entry`] does, taking the buffer:
/// the entry's value then shares it instead of being copied out of it, which saves a copy per
/// read when each read gets a fresh buffer anyway (a network reply).
///
/// ```
/// use stowage_core::codec::json;
///
/// let stored = br#"{"collection": "c", "key": "k", "value": {"a": 1}, "version": 1}"#.to_vec();
/// let entry = json::decode_entry_owned(stored)?;
/// assert_eq!(entry.value.as_str(), r#"{"a": 1}"#);
/// # Ok::<(), stowage_core::Error>(())
/// ```
pub fn decode_entry_owned(bytes: Vec<u8>) -> Result<Entry> {
    // Shared when proving it UTF-8 is cheap (ASCII: `ByteString`'s own check is fast there);
    // other text is checked by the fast `utf8::check` and its value copied.
    let buffer = bytes::Bytes::from(bytes);
    let Some(text) = crate::utf8::shared(&buffer, &buffer) else {
        return decode_entry(&buffer);
    };
    match decode_canonical(&text, |value| Value::from_valid_object_in(&text, value)) {
        Some((parts, created_at, expires_at)) => {
            Ok(Entry::new(parts.value, created_at, expires_at))
        }
        None => decode_entry(text.as_bytes()),
    }
}

fn decode_parts(bytes: &[u8]) -> Result<Decoded<'_>> {
    if let Some(decoded) = crate::utf8::check(bytes)
        .ok()
        .and_then(|text| decode_canonical(text, Value::from_valid_object))
    {
        return Ok(decoded);
    }
    // One pass for other shapes of the common case (the value an object); the general reader
    // below handles a value stored as a JSON string, and reports what is wrong otherwise.
    let parts = match serde_json::from_slice::<FastDocument>(bytes)
        .ok()
        .and_then(FastDocument::into_parts)
    {
        Some(parts) => parts,
        None => decode_general(bytes)?,
    };
    if let Some(version) = parts
        .version
        .as_ref()
        .filter(|v| v.as_u64() != Some(VERSION))
    {
        return Err(corrupted(format!(
            "stored envelope has version {version}; this release reads version {VERSION}"
        )));
    }
    let created_at = parse_optional(parts.created_at.as_deref(), "created_at")?;
    let expires_at = parse_optional(parts.expires_at.as_deref(), "expires_at")?;
    Ok((parts, created_at, expires_at))
}

/// The envelope in the exact shape Stowage and Python write, its members found by
/// [`canonical::scan`] and its value checked with one JSON pass; `None` sends the bytes to the
/// general reader, which gives the same result for them or says what is wrong.
pub(super) fn decode_canonical<'a>(
    text: &'a str,
    value_of: impl FnOnce(&str) -> Value,
) -> Option<Decoded<'a>> {
    let found = canonical::scan(text)?;
    // One JSON value and nothing after it; `scan` saw that it is an object.
    serde_json::from_str::<IgnoredAny>(found.value).ok()?;
    let created_at = parse_optional(found.created_at, "created_at").ok()?;
    let expires_at = parse_optional(found.expires_at, "expires_at").ok()?;
    let parts = Parts {
        collection: Some(Cow::Borrowed(found.collection)),
        key: Some(Cow::Borrowed(found.key)),
        value: value_of(found.value),
        created_at: None,
        expires_at: None,
        version: None,
    };
    Some((parts, created_at, expires_at))
}

pub(super) fn decode_general(bytes: &[u8]) -> Result<Parts<'static>> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| {
        corrupted(format!(
            "stored envelope is not valid JSON of the expected shape: {e}"
        ))
        .with_source(e)
    })?;
    let raw = doc
        .value
        .ok_or_else(|| corrupted("stored envelope has no `value` member"))?;
    let value = match raw.get().as_bytes().first() {
        Some(b'"') => {
            let text: String = serde_json::from_str(raw.get())
                .map_err(|e| corrupted("stored `value` string is damaged").with_source(e))?;
            Value::from_stored(text.as_bytes())?
        }
        _ => Value::from_stored(raw.get().as_bytes())?,
    };
    Ok(Parts {
        collection: doc.collection.map(Cow::Owned),
        key: doc.key.map(Cow::Owned),
        value,
        created_at: doc.created_at.map(Cow::Owned),
        expires_at: doc.expires_at.map(Cow::Owned),
        version: doc.version,
    })
}

fn parse_optional(text: Option<&str>, member: &str) -> Result<Option<SystemTime>> {
    match text {
        // Python treats an empty string as absent (`if created_at := …`).
        None | Some("") => Ok(None),
        Some(t) => parse_timestamp(t).map(Some).map_err(|e| {
            corrupted(format!(
                "stored `{member}` is not a timestamp: {}",
                e.message()
            ))
        }),
    }
}

/// Parse an ISO-8601 / RFC 3339 timestamp with an offset (`+00:00`, `Z`, or any other), as
/// Python's `datetime.fromisoformat` reads what `py-key-value` writes.
///
/// Errors with [`ErrorKind::Corrupted`] when the text is not such a timestamp (a timestamp
/// without an offset is refused: Python could not compare it with the current time either).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use stowage_core::codec::json::parse_timestamp;
///
/// let t = parse_timestamp("1970-01-01T00:00:01.5+00:00")?;
/// assert_eq!(t, UNIX_EPOCH + Duration::from_millis(1500));
/// assert_eq!(parse_timestamp("1970-01-01T01:00:01.5+01:00")?, t);
/// assert!(parse_timestamp("yesterday").is_err());
/// # Ok::<(), stowage_core::Error>(())
/// ```
pub fn parse_timestamp(text: &str) -> Result<SystemTime> {
    if let Some(at) = utc::parse(text) {
        return Ok(at);
    }
    let ts: jiff::Timestamp = text.parse().map_err(|e: jiff::Error| {
        corrupted(format!(
            "`{text}` is not an ISO-8601 timestamp with an offset: {e}"
        ))
    })?;
    Ok(SystemTime::from(ts))
}
