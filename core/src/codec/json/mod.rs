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
//! than 1) is [`ErrorKind::Corrupted`](crate::ErrorKind::Corrupted): the stored bytes cannot be read, and the caller did nothing
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

use std::time::SystemTime;

use crate::entry::Entry;
use crate::value::Value;

mod decode;
pub(super) mod encode;

pub use decode::{decode, decode_entry, decode_entry_owned, parse_timestamp};
pub use encode::{Pieces, encode, encode_pieces, format_timestamp};

/// The `version` member Stowage writes, and the only one it reads (absent is read as 1).
pub const VERSION: u64 = 1;
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

#[cfg(test)]
mod tests;
