//! Writing the envelope, byte for byte as py-key-value-aio writes it.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::super::utc;
use crate::value::Value;

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
pub(in crate::codec) fn push_timestamp_general(out: &mut String, at: SystemTime) {
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
