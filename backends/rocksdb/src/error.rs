//! RocksDB's errors, turned into Stowage's [`Error`] once.

use stowage_core::{Error, ErrorKind};

pub(crate) const BACKEND: &str = "rocksdb";

/// Convert a RocksDB error into an [`Error`] with a kind the caller can act on.
pub(crate) fn from_rocks(err: rocksdb::Error) -> Error {
    use rocksdb::ErrorKind as K;
    let kind = match err.kind() {
        K::Corruption => ErrorKind::Corrupted,
        K::TimedOut => ErrorKind::Timeout,
        K::Busy | K::TryAgain | K::ShutdownInProgress => ErrorKind::Unavailable,
        // Opening a directory another store holds: "IO error: lock … Resource temporarily unavailable".
        K::IOError if err.as_ref().contains("lock") => ErrorKind::Unavailable,
        K::InvalidArgument | K::NotSupported => ErrorKind::Config,
        _ => ErrorKind::Backend,
    };
    Error::new(kind, format!("rocksdb: {err}"))
        .with_backend(BACKEND)
        .with_source(err)
}
