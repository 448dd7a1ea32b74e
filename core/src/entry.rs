//! [`Entry`]: a value with its metadata.

use std::time::{Duration, SystemTime};

use crate::value::Value;

/// A stored value with its metadata, as returned by
/// [`KeyValueStore::ttl`](crate::KeyValueStore::ttl).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use stowage_core::{Entry, Value};
///
/// let now = SystemTime::now();
/// let entry = Entry::new(Value::empty(), Some(now), Some(now + Duration::from_secs(60)));
/// let left = entry.remaining_ttl().unwrap();
/// assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(55));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stored object.
    pub value: Value,
    /// When the entry was written, when the backend records it.
    pub created_at: Option<SystemTime>,
    /// When the entry expires; `None` means never.
    pub expires_at: Option<SystemTime>,
}

impl Entry {
    /// An entry from its parts.
    pub fn new(
        value: Value,
        created_at: Option<SystemTime>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        Entry {
            value,
            created_at,
            expires_at,
        }
    }

    /// Time left before expiry, measured now; `None` when the entry never expires. An entry
    /// that is already past its expiry reports zero (stores never return such entries).
    pub fn remaining_ttl(&self) -> Option<Duration> {
        self.remaining_ttl_at(SystemTime::now())
    }

    /// Time left before expiry, measured at `now`.
    pub fn remaining_ttl_at(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at
            .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    }

    /// Whether the entry is expired at `now` (an entry expires at the instant `expires_at`).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The value and the remaining TTL, the pair `py-key-value`'s `ttl()` returns.
    pub fn into_pair(self) -> (Value, Option<Duration>) {
        let ttl = self.remaining_ttl();
        (self.value, ttl)
    }
}
