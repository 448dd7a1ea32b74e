//! redb's errors, turned into Stowage's [`Error`] once.

use stowage_core::{Error, ErrorKind};

pub(crate) const BACKEND: &str = "disk";

/// Convert any redb error into an [`Error`] with a kind the caller can act on.
pub(crate) fn from_redb(err: impl Into<redb::Error>) -> Error {
    let err: redb::Error = err.into();
    let kind = match &err {
        redb::Error::Corrupted(_) | redb::Error::UpgradeRequired(_) => ErrorKind::Corrupted,
        redb::Error::ValueTooLarge(_) => ErrorKind::ValueTooLarge,
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Backend,
    };
    let message = match kind {
        ErrorKind::Unavailable => format!("the database file is already open elsewhere: {err}"),
        _ => format!("redb: {err}"),
    };
    Error::new(kind, message)
        .with_backend(BACKEND)
        .with_source(err)
}

/// An I/O error around the database file (creating its directory, reading its size).
pub(crate) fn from_io(what: &str, err: std::io::Error) -> Error {
    Error::new(ErrorKind::Backend, format!("{what}: {err}"))
        .with_backend(BACKEND)
        .with_source(err)
}
