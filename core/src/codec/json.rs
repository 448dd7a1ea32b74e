//! The JSON envelope of `py-key-value-aio` 0.4.x.
//!
//! The remote backends (Redis, DynamoDB) store each entry as the JSON document Python's
//! `BasicSerializationAdapter(date_format="isoformat", value_format="dict").dump_json` writes, so
//! that a Python server and a Rust server can share one database:
//!
//! ```text
//! {"collection": "tokens", "created_at": "2026-11-22T03:16:48.123456+00:00", "expires_at": "2026-11-22T03:17:48.123456+00:00", "key": "alice", "value": {"t": "x"}, "version": 1}
//! ```
//!
//! - Members in sorted order (Python's `json.dumps(…, sort_keys=True)`), separated by `", "` and
//!   `": "` as Python's defaults do; `created_at` and `expires_at` are left out when absent.
//! - `collection` and `key` are written with Python's `ensure_ascii` escaping (`\u20ac`), so the
//!   envelope is byte-for-byte the one Python writes. The `value` object is embedded verbatim: it is
//!   the caller's JSON text, not re-sorted or re-escaped (Python reads any valid JSON).
//! - Timestamps are ISO-8601 UTC as Python's `datetime.isoformat()` prints an aware UTC datetime:
//!   microsecond precision, the fraction left out when it is zero, and `+00:00` for the offset
//!   (see [`format_timestamp`]).
//!
//! Reading ([`decode`]) accepts everything Python's `load_json` accepts and Stowage can represent:
//! members in any order, unknown members ignored, `value` as an object or as a string holding a
//! JSON object, timestamps with any offset or `Z` and any number of fractional digits. Anything
//! else (not JSON, no `value`, a `value` that is not an object, a bad timestamp, a `version` other
//! than 1) is [`ErrorKind::Corrupted`]: the stored bytes cannot be read, and the caller did nothing
//! wrong.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use stowage_core::codec::json;
//! use stowage_core::Value;
//!
//! let created = json::parse_timestamp("2026-11-22T03:16:48.123456+00:00")?;
//! let expires = created + Duration::from_secs(60);
//! let value = Value::from_json(r#"{"t": "x"}"#)?;
//! let text = json::encode("tokens", "alice", &value, Some(created), Some(expires));
//! assert_eq!(
//!     text,
//!     r#"{"collection": "tokens", "created_at": "2026-11-22T03:16:48.123456+00:00", "expires_at": "2026-11-22T03:17:48.123456+00:00", "key": "alice", "value": {"t": "x"}, "version": 1}"#
//! );
//!
//! let back = json::decode(text.as_bytes())?;
//! assert_eq!(back.value, value);
//! assert_eq!(back.expires_at, Some(expires));
//! assert_eq!(back.key.as_deref(), Some("alice"));
//! # Ok::<(), stowage_core::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::{canonical, utc};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// The `version` member Stowage writes, and the only one it reads (absent is read as 1).
pub const VERSION: u64 = 1;

/// Render the envelope of one entry, exactly as `py-key-value-aio` 0.4.x renders it.
///
/// `created_at` and `expires_at` are written with [`format_timestamp`] (microsecond precision,
/// truncated) and left out when `None`.
pub fn encode(
    collection: &str,
    key: &str,
    value: &Value,
    created_at: Option<SystemTime>,
    expires_at: Option<SystemTime>,
) -> String {
    let pieces = encode_pieces(collection, key, value, created_at, expires_at);
    let mut out = String::with_capacity(pieces.len());
    pieces.strs().into_iter().for_each(|s| out.push_str(s));
    out
}

/// The envelope [`encode`] renders, in three pieces: everything before the value's text, the
/// value's text itself (borrowed, not copied), and everything after it. A writer that sends
/// the pieces one after the other (a socket buffer, a Redis command's argument) saves joining
/// them into one `String` first.
///
/// ```
/// use stowage_core::codec::json;
/// use stowage_core::Value;
///
/// let value = Value::from_json(r#"{"t": "x"}"#)?;
/// let pieces = json::encode_pieces("tokens", "alice", &value, None, None);
/// let [head, body, tail] = pieces.as_bytes();
/// assert_eq!(head, br#"{"collection": "tokens", "key": "alice", "value": "#);
/// assert_eq!(body, value.as_bytes());
/// assert_eq!(tail, br#", "version": 1}"#);
/// assert_eq!(pieces.len(), pieces.to_string().len());
/// assert_eq!(pieces.to_string(), json::encode("tokens", "alice", &value, None, None));
/// # Ok::<(), stowage_core::Error>(())
/// ```
pub fn encode_pieces<'v>(
    collection: &str,
    key: &str,
    value: &'v Value,
    created_at: Option<SystemTime>,
    expires_at: Option<SystemTime>,
) -> Pieces<'v> {
    let mut head = String::with_capacity(collection.len() + key.len() + 128);
    head.push_str("{\"collection\": ");
    push_py_string(&mut head, collection);
    if let Some(at) = created_at {
        head.push_str(", \"created_at\": \"");
        push_timestamp(&mut head, at);
        head.push('"');
    }
    if let Some(at) = expires_at {
        head.push_str(", \"expires_at\": \"");
        push_timestamp(&mut head, at);
        head.push('"');
    }
    head.push_str(", \"key\": ");
    push_py_string(&mut head, key);
    head.push_str(", \"value\": ");
    Pieces { head, value }
}

/// An envelope in three pieces; see [`encode_pieces`]. `Display` writes the whole envelope.
#[derive(Debug, Clone)]
pub struct Pieces<'v> {
    head: String,
    value: &'v Value,
}

impl Pieces<'_> {
    const TAIL: &'static str = ", \"version\": 1}";

    fn strs(&self) -> [&str; 3] {
        [&self.head, self.value.as_str(), Self::TAIL]
    }

    /// The head, the value's text and the tail, in order.
    pub fn as_bytes(&self) -> [&[u8]; 3] {
        self.strs().map(str::as_bytes)
    }

    /// Length of the whole envelope in bytes.
    #[allow(clippy::len_without_is_empty)] // an envelope is never empty
    pub fn len(&self) -> usize {
        self.strs().iter().map(|s| s.len()).sum()
    }
}

impl std::fmt::Display for Pieces<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.strs().into_iter().try_for_each(|s| f.write_str(s))
    }
}

/// A decoded envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// The `collection` member, when present.
    pub collection: Option<String>,
    /// The `key` member, when present.
    pub key: Option<String>,
    /// The stored object.
    pub value: Value,
    /// When the entry was written, when recorded.
    pub created_at: Option<SystemTime>,
    /// When the entry expires; `None` means never.
    pub expires_at: Option<SystemTime>,
}

impl Envelope {
    /// The value with its timestamps, as [`KeyValueStore::ttl`](crate::KeyValueStore::ttl)
    /// returns it.
    pub fn into_entry(self) -> Entry {
        Entry::new(self.value, self.created_at, self.expires_at)
    }

    /// Whether the entry is expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

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
struct Parts<'a> {
    collection: Option<Cow<'a, str>>,
    key: Option<Cow<'a, str>>,
    value: Value,
    created_at: Option<Cow<'a, str>>,
    expires_at: Option<Cow<'a, str>>,
    version: Option<serde_json::Number>,
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
fn decode_canonical<'a>(
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

fn decode_general(bytes: &[u8]) -> Result<Parts<'static>> {
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

/// Format an instant as Python's `datetime.isoformat()` formats an aware UTC datetime:
/// `2026-11-22T03:16:48.123456+00:00`, or `2026-11-22T03:16:48+00:00` when the microseconds are
/// zero. Sub-microsecond digits are truncated (Python's datetimes hold microseconds).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use stowage_core::codec::json::format_timestamp;
///
/// assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00+00:00");
/// assert_eq!(format_timestamp(UNIX_EPOCH + Duration::from_nanos(1_500)), "1970-01-01T00:00:00.000001+00:00");
/// ```
pub fn format_timestamp(at: SystemTime) -> String {
    let mut out = String::with_capacity(32);
    push_timestamp(&mut out, at);
    out
}

fn push_timestamp(out: &mut String, at: SystemTime) {
    if !utc::push(out, at) {
        push_timestamp_general(out, at);
    }
}

/// [`push_timestamp`] for any instant, through `jiff` (clamped to its range).
pub(super) fn push_timestamp_general(out: &mut String, at: SystemTime) {
    let ts = jiff::Timestamp::try_from(at).unwrap_or(if at < SystemTime::UNIX_EPOCH {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    let dt = jiff::tz::Offset::UTC.to_datetime(ts);
    let micros = dt.subsec_nanosecond() / 1_000;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
    out.push_str("+00:00");
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

/// Append `s` as a JSON string the way Python's `json.dumps` writes it with its default
/// `ensure_ascii=True`: every character outside printable ASCII as a lower-case `\uXXXX` escape
/// (astral characters as surrogate pairs), except the short escapes Python uses.
fn push_py_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    // Written by py-key-value-aio 0.4.6:
    // BasicSerializationAdapter(date_format="isoformat", value_format="dict").dump_json(...)
    const PY_FULL: &str = r#"{"collection": "coll", "created_at": "2026-11-22T03:16:48.123456+00:00", "expires_at": "2026-11-22T03:17:48.123456+00:00", "key": "k\u20acy", "value": {"a": "\u00e9\u2603\ud83d\ude00\n", "b": [1, 2.5, null, true], "z": {"x": 2, "y": 1}}, "version": 1}"#;
    const PY_NO_EXPIRY: &str = r#"{"collection": "c", "created_at": "2026-01-02T03:04:05+00:00", "key": "k", "value": {}, "version": 1}"#;

    fn at(text: &str) -> SystemTime {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn python_documents_decode() {
        let env = decode(PY_FULL.as_bytes()).unwrap();
        assert_eq!(env.collection.as_deref(), Some("coll"));
        assert_eq!(env.key.as_deref(), Some("k€y"));
        let map = env.value.to_map();
        assert_eq!(map["a"], "é☃😀\n");
        assert_eq!(map["z"]["x"], 2);
        let created = UNIX_EPOCH + Duration::from_micros(1_795_317_408_123_456);
        assert_eq!(env.created_at, Some(created));
        assert_eq!(env.expires_at, Some(created + Duration::from_secs(60)));

        let env = decode(PY_NO_EXPIRY.as_bytes()).unwrap();
        assert_eq!(env.expires_at, None);
        assert_eq!(env.value.as_str(), "{}");
        assert_eq!(
            env.created_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_767_323_045))
        );
    }

    #[test]
    fn the_canonical_reader_takes_what_stowage_writes_and_agrees_with_the_general_one() {
        let created = at("2026-11-22T03:16:48.123456+00:00");
        let values = [
            Value::empty(),
            Value::from_json(r#"{"a": [1, {"b": "\"}\u00e9"}], "c": null}"#).unwrap(),
            Value::from_json(r#"{"k": "\", \"version\": 1}"}"#).unwrap(),
        ];
        for value in &values {
            for (created_at, expires_at) in [
                (None, None),
                (Some(created), None),
                (Some(created), Some(created + Duration::from_millis(1500))),
            ] {
                let text = encode("coll", "key", value, created_at, expires_at);
                let (fast, fast_created, fast_expires) =
                    decode_canonical(&text, Value::from_valid_object).expect("canonical");
                let general = decode_general(text.as_bytes()).unwrap();
                assert_eq!(fast.value, *value, "{text}");
                assert_eq!(fast.value, general.value);
                assert_eq!(fast.collection.as_deref(), Some("coll"));
                assert_eq!(fast.key.as_deref(), Some("key"));
                assert_eq!((fast_created, fast_expires), (created_at, expires_at));
                assert_eq!(decode(text.as_bytes()).unwrap().into_entry().value, *value);
            }
        }
        // Non-ASCII names are written escaped, which the general reader handles.
        let text = encode("coll", "k€y", &values[1], None, None);
        assert!(decode_canonical(&text, Value::from_valid_object).is_none());
        assert_eq!(decode(text.as_bytes()).unwrap().key.as_deref(), Some("k€y"));
    }

    #[test]
    fn what_the_canonical_reader_refuses_still_reads_or_fails_as_before() {
        // Looks canonical around the value, but the "value" holds two members' worth of text.
        let canonical = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| decode_canonical(text, Value::from_valid_object))
                .is_some()
        };
        let text = br#"{"collection": "c", "key": "k", "value": {}, "other": {}, "version": 1}"#;
        assert!(!canonical(text));
        let env = decode(text).unwrap();
        assert_eq!(env.value, Value::empty());
        // Broken JSON inside a canonical frame is corrupt, not a panic.
        for text in [
            &br#"{"collection": "c", "key": "k", "value": {"a": }, "version": 1}"#[..],
            br#"{"collection": "c", "key": "k", "value": {"a": 1}}, "version": 1}"#,
            br#"{"collection": "c", "created_at": "soon", "key": "k", "value": {}, "version": 1}"#,
            b"{\"collection\": \"c\", \"key\": \"\xff\", \"value\": {}, \"version\": 1}",
        ] {
            assert!(!canonical(text));
            let err = decode(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Corrupted, "{err}");
            let err = decode_entry_owned(text.to_vec()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Corrupted, "{err}");
        }
    }

    #[test]
    fn an_owned_read_keeps_a_large_value_in_its_buffer_and_copies_a_small_one() {
        let created = at("2026-11-22T03:16:48.123456+00:00");
        let big = Value::from_serialize(&serde_json::json!({ "d": "x".repeat(1000) })).unwrap();
        let small = Value::from_json(r#"{"a": 1}"#).unwrap();
        for (value, shared) in [(&big, true), (&small, false)] {
            let bytes = encode("c", "k", value, Some(created), None).into_bytes();
            let buffer = bytes.as_ptr_range();
            let entry = decode_entry_owned(bytes.clone()).unwrap();
            assert_eq!(entry, decode_entry(&bytes).unwrap());
            assert_eq!(entry.value, *value);
            // `bytes.clone()` moved into the call is a different buffer from `bytes`: compare
            // against a fresh one, moved in, whose address is known.
            let moved = bytes.clone();
            let moved_range = moved.as_ptr_range();
            let entry = decode_entry_owned(moved).unwrap();
            let at = entry.value.as_str().as_ptr();
            assert_eq!(moved_range.contains(&at), shared, "shared: {shared}");
            assert!(!buffer.contains(&at));
        }
        // Text beyond ASCII is read the same way, copied out of the buffer.
        let text = format!(r#"{{"d": "{}"}}"#, "h\u{e9}llo \u{2603} ".repeat(80));
        let accents = Value::from_json(text).unwrap();
        let bytes = encode("c", "k", &accents, None, None).into_bytes();
        let range = bytes.as_ptr_range();
        let entry = decode_entry_owned(bytes).unwrap();
        assert_eq!(entry.value, accents);
        assert!(!range.contains(&entry.value.as_str().as_ptr()));
        // Not canonical, or not UTF-8: the general reader, same answers as the borrowed one.
        let other = br#"{"value": "{\"a\": 1}", "key": "k"}"#.to_vec();
        assert_eq!(
            decode_entry_owned(other.clone()).unwrap(),
            decode_entry(&other).unwrap()
        );
    }

    #[test]
    fn encoding_matches_python_bytes() {
        // With a value in Python's own rendering, the whole document is byte-identical.
        let value = Value::from_json(
            r#"{"a": "\u00e9\u2603\ud83d\ude00\n", "b": [1, 2.5, null, true], "z": {"x": 2, "y": 1}}"#,
        )
        .unwrap();
        let created = at("2026-11-22T03:16:48.123456+00:00");
        let text = encode(
            "coll",
            "k€y",
            &value,
            Some(created),
            Some(created + Duration::from_secs(60)),
        );
        assert_eq!(text, PY_FULL);

        let text = encode(
            "c",
            "k",
            &Value::empty(),
            Some(at("2026-01-02T03:04:05+00:00")),
            None,
        );
        assert_eq!(text, PY_NO_EXPIRY);
    }

    #[test]
    fn round_trip_keeps_everything() {
        let value = Value::from_json(r#"{"z":1,"a":[{"q":"\"quoted\""}]}"#).unwrap();
        let created = UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_001);
        let expires = created + Duration::from_millis(1500);
        for (collection, key) in [
            ("c", "k"),
            ("tab\there", "new\nline"),
            ("ü", "😀::x"),
            ("q\"b\\", "\u{7f}\u{1}\u{8}\u{c}\r"),
        ] {
            let text = encode(collection, key, &value, Some(created), Some(expires));
            assert!(text.is_ascii(), "{text}");
            let env = decode(text.as_bytes()).unwrap();
            assert_eq!(env.collection.as_deref(), Some(collection));
            assert_eq!(env.key.as_deref(), Some(key));
            assert_eq!(env.value, value);
            assert_eq!(env.created_at, Some(created));
            assert_eq!(env.expires_at, Some(expires));
        }
    }

    #[test]
    fn timestamps_follow_python_isoformat() {
        let base = UNIX_EPOCH + Duration::from_secs(1_795_317_408);
        assert_eq!(format_timestamp(base), "2026-11-22T03:16:48+00:00");
        assert_eq!(
            format_timestamp(base + Duration::from_nanos(123_456_789)),
            "2026-11-22T03:16:48.123456+00:00"
        );
        assert_eq!(
            format_timestamp(base + Duration::from_micros(100)),
            "2026-11-22T03:16:48.000100+00:00"
        );
        assert_eq!(
            format_timestamp(base + Duration::from_nanos(999)),
            "2026-11-22T03:16:48+00:00"
        );
        assert_eq!(
            format_timestamp(UNIX_EPOCH - Duration::from_micros(1)),
            "1969-12-31T23:59:59.999999+00:00"
        );
    }

    #[test]
    fn timestamps_parse_what_python_accepts() {
        let t = at("2026-11-22T03:16:48.5+00:00");
        assert_eq!(t, at("2026-11-22T03:16:48.500000+00:00"));
        assert_eq!(t, at("2026-11-22T03:16:48.5Z"));
        assert_eq!(t, at("2026-11-22T05:16:48.5+02:00"));
        assert_eq!(t, at("2026-11-22 03:16:48.500+00:00"));
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T03:16:48",
            "not a date",
            "2026-13-01T00:00:00+00:00",
        ] {
            let err = parse_timestamp(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Corrupted, "{bad:?}");
        }
    }

    #[test]
    fn lenient_reading() {
        // Value stored as a JSON string (py-key-value's value_format="string"), members in any
        // order, unknown members, no version, empty or null timestamps.
        let env = decode(
            br#"{"value": "{\"a\": 1}", "extra": [1], "created_at": "", "expires_at": null}"#,
        )
        .unwrap();
        assert_eq!(env.value.to_map()["a"], 1);
        assert_eq!(env.created_at, None);
        assert_eq!(env.expires_at, None);
        assert_eq!(env.collection, None);
    }

    #[test]
    fn damaged_bytes_are_corrupted() {
        for bad in [
            &b""[..],
            b"\xff\xfe",
            b"not json",
            b"[1, 2]",
            b"{\"value\": {\"a\": 1}",
            b"{\"key\": \"k\"}",
            b"{\"value\": [1]}",
            b"{\"value\": 5}",
            b"{\"value\": \"[1]\"}",
            b"{\"value\": \"{broken\"}",
            b"{\"value\": {}, \"version\": 2}",
            b"{\"value\": {}, \"version\": \"1\"}",
            b"{\"value\": {}, \"created_at\": \"soon\"}",
            b"{\"value\": {}, \"expires_at\": 12}",
            b"{\"value\": {}, \"key\": 3}",
        ] {
            let err = decode(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Corrupted,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn expiry_check() {
        let env = decode(PY_FULL.as_bytes()).unwrap();
        let expires = env.expires_at.unwrap();
        assert!(!env.is_expired_at(expires - Duration::from_micros(1)));
        assert!(env.is_expired_at(expires));
        let entry = env.into_entry();
        assert_eq!(entry.expires_at, Some(expires));
    }
}
