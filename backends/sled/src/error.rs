//! sled's errors, turned into Stowage's [`Error`] once.

use stowage_core::{Error, ErrorKind};

pub(crate) const BACKEND: &str = "sled";

/// Convert a sled error into an [`Error`] with a kind the caller can act on.
pub(crate) fn from_sled(err: sled::Error) -> Error {
    let kind = match &err {
        sled::Error::Corruption { .. } => ErrorKind::Corrupted,
        e if is_lock_error(e) => ErrorKind::Unavailable,
        _ => ErrorKind::Backend,
    };
    let message = match kind {
        ErrorKind::Unavailable => format!("the sled directory is locked by another process: {err}"),
        _ => format!("sled: {err}"),
    };
    Error::new(kind, message)
        .with_backend(BACKEND)
        .with_source(err)
}

/// Whether `err` says another process holds the database's lock.
pub(crate) fn is_lock_error(err: &sled::Error) -> bool {
    matches!(err, sled::Error::Io(e) if e.to_string().contains("could not acquire lock"))
}
