//! The stored layout: collection names, key shapes and value shapes, written down so that a
//! program in another language can read (and write) what these stores keep.
//!
//! Every value is a JSON object (the Stowage contract); every record carries `"version": 1` where
//! the shape is this crate's own, so a later release can tell old records from new ones.
//!
//! | store | collection (default) | key | value |
//! | --- | --- | --- | --- |
//! | events | [`EVENTS`] | the event id, [`event_id`] | [`EventRecord`] |
//! | events | [`EVENT_HEADS`] | the escaped stream id, [`escape_stream_id`] | [`HeadRecord`] |
//! | sessions | [`SESSIONS`] | the `Mcp-Session-Id` | rmcp's `SessionState` as JSON |
//! | credentials | [`CREDENTIALS`] | the slot's key (e.g. the server URL) | rmcp's `StoredCredentials` as JSON |
//! | credentials | [`CREDENTIAL_LOCKS`] | the slot's key | [`LeaseRecord`] |
//! | state | [`OAUTH_STATE`] | the CSRF token | rmcp's `StoredAuthorizationState` as JSON |

use serde::{Deserialize, Serialize};

/// Default collection of event records.
///
/// ```
/// assert_eq!(stowage_rmcp::layout::EVENTS, "rmcp_events");
/// ```
pub const EVENTS: &str = "rmcp_events";
/// Default collection of per-stream heads (the next sequence number to try).
///
/// ```
/// assert_eq!(stowage_rmcp::layout::EVENT_HEADS, "rmcp_event_heads");
/// ```
pub const EVENT_HEADS: &str = "rmcp_event_heads";
/// Default collection of session states.
///
/// ```
/// assert_eq!(stowage_rmcp::layout::SESSIONS, "rmcp_sessions");
/// ```
pub const SESSIONS: &str = "rmcp_sessions";
/// Default collection of OAuth credentials.
///
/// ```
/// assert_eq!(stowage_rmcp::layout::CREDENTIALS, "rmcp_credentials");
/// ```
pub const CREDENTIALS: &str = "rmcp_credentials";
/// Default collection of refresh-guard leases.
///
/// ```
/// assert_eq!(stowage_rmcp::layout::CREDENTIAL_LOCKS, "rmcp_credential_locks");
/// ```
pub const CREDENTIAL_LOCKS: &str = "rmcp_credential_locks";
/// Default collection of OAuth CSRF state entries.
///
/// ```
/// assert_eq!(stowage_rmcp::layout::OAUTH_STATE, "rmcp_oauth_state");
/// ```
pub const OAUTH_STATE: &str = "rmcp_oauth_state";

/// The version written in every record of this crate's own shape.
///
/// ```
/// assert_eq!(stowage_rmcp::layout::RECORD_VERSION, 1);
/// ```
pub const RECORD_VERSION: u32 = 1;

/// One stored SSE event, the value under its event id in [`EVENTS`].
///
/// ```json
/// {"version":1,"stream_id":"…","seq":3,
///  "message":{"jsonrpc":"2.0","method":"notifications/progress","params":{…}},
///  "retry_ms":null}
/// ```
///
/// `message` is the JSON-RPC message exactly as it goes on the wire (`null` for a priming
/// event, which carries only a reconnection hint); `retry_ms` is the SSE `retry:` field in
/// milliseconds, or `null`.
///
/// ```
/// use stowage_rmcp::layout::EventRecord;
///
/// let record: EventRecord = serde_json::from_str(
///     r#"{"version":1,"stream_id":"s","seq":0,"message":null,"retry_ms":3000}"#,
/// ).unwrap();
/// assert_eq!(record.retry_ms, Some(3000));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// The stream the event belongs to, as rmcp named it.
    pub stream_id: String,
    /// The event's position in its stream, from 0.
    pub seq: u64,
    /// The JSON-RPC message, or `None` for a priming event.
    pub message: Option<serde_json::Value>,
    /// The SSE reconnection hint in milliseconds.
    pub retry_ms: Option<u64>,
}

/// The head of a stream, the value under the escaped stream id in [`EVENT_HEADS`]:
/// `{"version":1,"next":4}`.
///
/// `next` is a hint — the sequence number a writer tries first. Sequence numbers are claimed by
/// inserting the event record itself with `put_if_absent`, so a stale head costs a retry, never a
/// duplicate id.
///
/// ```
/// use stowage_rmcp::layout::HeadRecord;
///
/// let head: HeadRecord = serde_json::from_str(r#"{"version":1,"next":4}"#).unwrap();
/// assert_eq!(head.next, 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadRecord {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// The next sequence number to try.
    pub next: u64,
}

/// The refresh guard's lease, the value under the slot's key in [`CREDENTIAL_LOCKS`]; it
/// expires with the lease TTL if its holder dies.
///
/// ```json
/// {"version":1,"holder":"9f2c…","pid":4242,"acquired_at_ms":1767225600000}
/// ```
///
/// ```
/// use stowage_rmcp::layout::LeaseRecord;
///
/// let lease: LeaseRecord = serde_json::from_str(
///     r#"{"version":1,"holder":"h","pid":1,"acquired_at_ms":0}"#,
/// ).unwrap();
/// assert_eq!(lease.holder, "h");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// A random id of this holding, so that only its holder releases it.
    pub holder: String,
    /// The holder's process id, for operators.
    pub pid: u32,
    /// When it was taken, milliseconds since the Unix epoch.
    pub acquired_at_ms: u64,
}

/// Escape a stream id for use in an event id and as a key: `%`, `#` and any byte outside
/// visible ASCII become `%XX` (upper-case hex), so the result is a valid HTTP header value and
/// contains no `#`.
///
/// ```
/// use stowage_rmcp::layout::escape_stream_id;
///
/// assert_eq!(escape_stream_id("abc:common"), "abc:common");
/// assert_eq!(escape_stream_id("a#b %"), "a%23b%20%25");
/// ```
pub fn escape_stream_id(stream_id: &str) -> String {
    let mut out = String::with_capacity(stream_id.len());
    for byte in stream_id.bytes() {
        if byte.is_ascii_graphic() && byte != b'%' && byte != b'#' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Undo [`escape_stream_id`]; `None` for a malformed escape.
///
/// ```
/// use stowage_rmcp::layout::unescape_stream_id;
///
/// assert_eq!(unescape_stream_id("a%23b%20%25").as_deref(), Some("a#b %"));
/// assert_eq!(unescape_stream_id("bad%2"), None);
/// ```
pub fn unescape_stream_id(escaped: &str) -> Option<String> {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = escaped.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The event id of sequence number `seq` of `stream_id`: `<escaped stream id>#<seq>`, with `seq`
/// in decimal. The id names its stream, so replay needs nothing else.
///
/// ```
/// use stowage_rmcp::layout::event_id;
///
/// assert_eq!(event_id("7f0c:common", 12), "7f0c:common#12");
/// ```
pub fn event_id(stream_id: &str, seq: u64) -> String {
    format!("{}#{seq}", escape_stream_id(stream_id))
}

/// The stream id and sequence number an event id names; `None` when it is not of this crate's
/// shape.
///
/// ```
/// use stowage_rmcp::layout::parse_event_id;
///
/// assert_eq!(parse_event_id("s%23x#3"), Some(("s#x".to_owned(), 3)));
/// assert_eq!(parse_event_id("0"), None);
/// assert_eq!(parse_event_id("s#+3"), None);
/// ```
pub fn parse_event_id(event_id: &str) -> Option<(String, u64)> {
    let (stream, seq) = event_id.split_once('#')?;
    if stream.is_empty() || seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The canonical form only: no leading zeros, so one event has one id.
    if seq.len() > 1 && seq.starts_with('0') {
        return None;
    }
    Some((unescape_stream_id(stream)?, seq.parse().ok()?))
}
