//! The one error type of Stowage.
//!
//! Every fallible operation returns [`Error`]. Its [`ErrorKind`] says what went wrong in terms the
//! caller can act on, and [`Error::is_retryable`] says whether trying the same call again may
//! succeed. Context (backend, operation, collection) is attached where it is known, and the
//! underlying cause is kept as the error's [`source`](std::error::Error::source).

use std::borrow::Cow;
use std::fmt;

/// A `Result` whose error is Stowage's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms of what the caller should do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The key is empty, too long for the backend, or otherwise not allowed. Fix the key.
    InvalidKey,
    /// The collection name is empty, contains `::`, or is too long for the backend. Fix the name.
    InvalidCollection,
    /// The TTL is zero, negative, not a number, or too large. Pass `None` for "never expires".
    InvalidTtl,
    /// The value is not a JSON object, or is not valid JSON. Wrap scalars in an object.
    InvalidValue,
    /// The value (or the whole entry) is larger than the backend or a size-limit layer allows.
    ValueTooLarge,
    /// Stored bytes could not be decoded: they are corrupt or were written by an unknown format
    /// version. The entry is unreadable; delete or overwrite it.
    Corrupted,
    /// A stored value could not be decrypted with any configured key.
    DecryptionFailed,
    /// The store (or a layer) refuses writes.
    ReadOnly,
    /// The operation did not finish within its deadline. It may or may not have taken effect;
    /// retrying is safe for every Stowage operation, which are all idempotent.
    Timeout,
    /// The backend could not be reached or is temporarily failing. Retry later.
    Unavailable,
    /// The store does not offer this capability. Check [`Capabilities`](crate::Capabilities) first.
    Unsupported,
    /// The store's configuration is wrong (bad URL, missing option, conflicting settings).
    Config,
    /// Any other backend failure. The message and source say more.
    Backend,
}

impl ErrorKind {
    /// A short, stable, lower-case name of the kind, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidKey => "invalid key",
            ErrorKind::InvalidCollection => "invalid collection",
            ErrorKind::InvalidTtl => "invalid ttl",
            ErrorKind::InvalidValue => "invalid value",
            ErrorKind::ValueTooLarge => "value too large",
            ErrorKind::Corrupted => "corrupted data",
            ErrorKind::DecryptionFailed => "decryption failed",
            ErrorKind::ReadOnly => "read-only",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Unavailable => "backend unavailable",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Config => "configuration error",
            ErrorKind::Backend => "backend error",
        }
    }

    /// Whether an error of this kind may go away if the same call is tried again.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Timeout | ErrorKind::Unavailable)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error returned by every Stowage operation.
///
/// ```
/// use stowage_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::Unavailable, "connection refused")
///     .with_backend("redis")
///     .with_operation("get")
///     .with_collection("tokens");
/// assert_eq!(err.kind(), ErrorKind::Unavailable);
/// assert!(err.is_retryable());
/// assert_eq!(
///     err.to_string(),
///     "backend unavailable: connection refused (backend: redis, operation: get, collection: tokens)"
/// );
/// ```
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    backend: Option<&'static str>,
    operation: Option<&'static str>,
    collection: Option<String>,
    source: Option<Source>,
}

impl Error {
    /// A new error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
            backend: None,
            operation: None,
            collection: None,
            source: None,
        }
    }

    /// Shorthand for an [`ErrorKind::Unsupported`] error naming the missing capability.
    pub fn unsupported(capability: &'static str) -> Self {
        Error::new(
            ErrorKind::Unsupported,
            format!("this store does not support `{capability}`"),
        )
        .with_operation(capability)
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether trying the same call again may succeed (timeouts and unavailable backends).
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The message, without context.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The backend that produced the error, when known (`"memory"`, `"redis"`, …).
    pub fn backend(&self) -> Option<&'static str> {
        self.backend
    }

    /// The operation that failed, when known (`"get"`, `"put_many"`, …).
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }

    /// The collection the failed call named, when known.
    pub fn collection(&self) -> Option<&str> {
        self.collection.as_deref()
    }

    /// Attach the backend's name (kept if one is already set).
    #[must_use]
    pub fn with_backend(mut self, backend: &'static str) -> Self {
        self.backend.get_or_insert(backend);
        self
    }

    /// Attach the operation's name (kept if one is already set).
    #[must_use]
    pub fn with_operation(mut self, operation: &'static str) -> Self {
        self.operation.get_or_insert(operation);
        self
    }

    /// Name `operation` as the one that failed, replacing any already set: for a layer that
    /// serves one operation with another (a cache answering `get` with its remote store's `ttl`),
    /// so the error names what its caller called.
    #[must_use]
    pub fn in_operation(mut self, operation: &'static str) -> Self {
        self.operation = Some(operation);
        self
    }

    /// Attach the collection (kept if one is already set).
    #[must_use]
    pub fn with_collection(mut self, collection: impl Into<String>) -> Self {
        if self.collection.is_none() {
            self.collection = Some(collection.into());
        }
        self
    }

    /// Attach the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        let mut parts = Vec::with_capacity(3);
        if let Some(b) = self.backend {
            parts.push(format!("backend: {b}"));
        }
        if let Some(o) = self.operation {
            parts.push(format!("operation: {o}"));
        }
        if let Some(c) = &self.collection {
            parts.push(format!("collection: {c}"));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(b) = self.backend {
            d.field("backend", &b);
        }
        if let Some(o) = self.operation {
            d.field("operation", &o);
        }
        if let Some(c) = &self.collection {
            d.field("collection", c);
        }
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_kinds() {
        assert!(ErrorKind::Timeout.is_retryable());
        assert!(ErrorKind::Unavailable.is_retryable());
        assert!(!ErrorKind::InvalidKey.is_retryable());
        assert!(!ErrorKind::Corrupted.is_retryable());
    }

    #[test]
    fn context_is_kept_once() {
        let e = Error::new(ErrorKind::Backend, "x")
            .with_backend("a")
            .with_backend("b")
            .with_collection("c1")
            .with_collection("c2");
        assert_eq!(e.backend(), Some("a"));
        assert_eq!(e.collection(), Some("c1"));
    }

    #[test]
    fn source_is_exposed() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::new(ErrorKind::Backend, "write failed").with_source(io);
        let src = std::error::Error::source(&e).expect("source");
        assert_eq!(src.to_string(), "disk on fire");
    }
}
