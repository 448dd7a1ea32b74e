//! One conversion from the `redis` crate's errors into Stowage's [`Error`].

use redis::{ErrorKind as RedisKind, RedisError, ServerErrorKind};
use stowage_core::checks::context;
use stowage_core::{Error, ErrorKind};

pub(crate) const BACKEND: &str = "redis";

/// The context every error of an operation on `collection` gets: backend, operation, collection.
pub(crate) fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    context(BACKEND, op, collection)
}

/// The Stowage kind of a `redis` error: what the caller can do about it.
fn kind_of(e: &RedisError) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    if is_tls_failure(e) {
        // An untrusted or invalid certificate will not fix itself: fix the configuration.
        return ErrorKind::Config;
    }
    match e.kind() {
        RedisKind::Io | RedisKind::ClusterConnectionNotFound => ErrorKind::Unavailable,
        RedisKind::Server(
            ServerErrorKind::BusyLoading
            | ServerErrorKind::TryAgain
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown
            | ServerErrorKind::Moved
            | ServerErrorKind::Ask,
        ) => ErrorKind::Unavailable,
        RedisKind::AuthenticationFailed
        | RedisKind::InvalidClientConfig
        | RedisKind::Server(ServerErrorKind::NoPerm) => ErrorKind::Config,
        RedisKind::Server(ServerErrorKind::ReadOnly) => ErrorKind::ReadOnly,
        _ if e.code() == Some("WRONGTYPE") => ErrorKind::Corrupted,
        _ if e.is_connection_dropped() || e.is_unrecoverable_error() => ErrorKind::Unavailable,
        _ => ErrorKind::Backend,
    }
}

/// Whether a TLS handshake failed on the certificate (untrusted issuer, wrong name, expired).
///
/// The `redis` crate keeps rustls's error inside an `io::Error`, whose `source()` skips it, so
/// the certificate failure is recognised by rustls's message (`invalid peer certificate: …`).
fn is_tls_failure(e: &RedisError) -> bool {
    cfg!(feature = "tls")
        && e.kind() == RedisKind::Io
        && e.to_string().contains("invalid peer certificate")
}

/// Convert a `redis` error, keeping it as the source.
pub(crate) fn from_redis(e: RedisError) -> Error {
    let kind = kind_of(&e);
    let message = match kind {
        ErrorKind::Corrupted => {
            format!("a key of this store holds a non-string Redis value: {e}")
        }
        _ => e.to_string(),
    };
    Error::new(kind, message)
        .with_source(e)
        .with_backend(BACKEND)
}

/// A configuration error.
pub(crate) fn config(message: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("redis store: {}", message.into()),
    )
    .with_backend(BACKEND)
}
