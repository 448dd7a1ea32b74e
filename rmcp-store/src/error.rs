//! The crate's error type. rmcp's traits box it (`EventStoreError`, `SessionStoreError`) or
//! carry its text (`AuthError::CredentialStoreError`).

use std::fmt;
use std::time::Duration;

/// What went wrong in one of this crate's stores.
///
/// ```
/// use stowage_rmcp::Error;
///
/// let error = Error::UnknownEvent { event_id: "s#9".into() };
/// assert!(error.to_string().contains("s#9"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The underlying store failed; its kind says whether to retry.
    Store(stowage_core::Error),
    /// No live event has this id: it never existed, expired, or was dropped by the per-stream
    /// cap. The client must start over (a new request), not resume.
    UnknownEvent {
        /// The id asked for.
        event_id: String,
    },
    /// The id is not of the shape this store hands out (`<stream>#<seq>`).
    MalformedEventId {
        /// The id asked for.
        event_id: String,
    },
    /// The store does not declare the atomic insert (`put_if_absent`) that unique event ids and
    /// the refresh guard need; use a backend and wrapper stack that does.
    PutIfAbsentUnsupported,
    /// A stored record is not of the documented shape.
    Corrupted {
        /// The collection it was read from.
        collection: String,
        /// Its key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value could not be turned into JSON (or a stream kept colliding on its sequence
    /// numbers).
    Encode(String),
    /// The refresh guard stayed held by another holder for this long.
    GuardTimeout {
        /// How long the caller waited.
        waited: Duration,
    },
}

impl Error {
    /// A [`Corrupted`](Error::Corrupted) error.
    ///
    /// ```
    /// let error = stowage_rmcp::Error::corrupted("c", "k", "not JSON");
    /// assert!(error.to_string().contains("c/k"));
    /// ```
    pub fn corrupted(collection: &str, key: &str, reason: impl fmt::Display) -> Self {
        Error::Corrupted {
            collection: collection.to_owned(),
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(e) => write!(f, "store failed: {e}"),
            Error::UnknownEvent { event_id } => write!(
                f,
                "unknown event id {event_id:?}: it never existed, expired, or was dropped by the \
                 per-stream cap; start a new request instead of resuming"
            ),
            Error::MalformedEventId { event_id } => write!(
                f,
                "malformed event id {event_id:?}: expected <stream>#<sequence number>"
            ),
            Error::PutIfAbsentUnsupported => f.write_str(
                "the store does not support put_if_absent (the atomic insert unique event ids and \
                 the refresh guard need); use a backend and wrappers that declare it",
            ),
            Error::Corrupted {
                collection,
                key,
                reason,
            } => write!(f, "corrupted record at {collection}/{key}: {reason}"),
            Error::Encode(reason) => write!(f, "cannot store the value: {reason}"),
            Error::GuardTimeout { waited } => write!(
                f,
                "the refresh guard is still held by another holder after {waited:?}"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<stowage_core::Error> for Error {
    fn from(error: stowage_core::Error) -> Self {
        Error::Store(error)
    }
}

#[cfg(any(feature = "events-sessions", feature = "auth"))]
/// The error of a failed `put_if_absent`: a refusal (a wrapper that cannot answer it honestly)
/// becomes [`Error::PutIfAbsentUnsupported`].
pub(crate) fn insert_error(error: stowage_core::Error) -> Error {
    if error.kind() == stowage_core::ErrorKind::Unsupported {
        Error::PutIfAbsentUnsupported
    } else {
        Error::Store(error)
    }
}

#[cfg(any(feature = "events-sessions", feature = "auth"))]
/// `Err(PutIfAbsentUnsupported)` unless `store` declares the atomic insert.
pub(crate) fn require_put_if_absent(store: &dyn stowage_core::KeyValueStore) -> Result<(), Error> {
    if store.capabilities().put_if_absent {
        Ok(())
    } else {
        Err(Error::PutIfAbsentUnsupported)
    }
}

#[cfg(feature = "auth")]
impl From<Error> for rmcp::transport::auth::AuthError {
    fn from(error: Error) -> Self {
        rmcp::transport::auth::AuthError::CredentialStoreError(error.to_string())
    }
}
