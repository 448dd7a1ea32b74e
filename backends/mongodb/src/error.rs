//! Driver errors, sorted into the kinds a caller can act on.

use mongodb::error::{Error as MongoError, ErrorKind as MongoKind, WriteFailure};
use stowage_core::{Error, ErrorKind};

pub(crate) const BACKEND: &str = "mongodb";

/// Server codes meaning "this node cannot serve now" (shutting down, stepping down, network).
const UNAVAILABLE_CODES: &[i32] = &[
    6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 46841,
];
/// Server codes for documents or commands past the BSON size limit.
const TOO_LARGE_CODES: &[i32] = &[10334, 17419, 17420, 10003];
/// `DuplicateKey`: two upserts of one new key raced on the unique `key` index.
pub(crate) const DUPLICATE_KEY: i32 = 11000;
/// Index already exists with other options or another name: created by someone else.
pub(crate) const INDEX_CONFLICT_CODES: &[i32] = &[68, 85, 86];

/// The server's error code, for command and write errors.
pub(crate) fn code(e: &MongoError) -> Option<i32> {
    match &*e.kind {
        MongoKind::Command(c) => Some(c.code),
        MongoKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        MongoKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        _ => None,
    }
}

/// Convert a driver error into Stowage's error type.
pub(crate) fn convert(e: MongoError) -> Error {
    let kind = match &*e.kind {
        MongoKind::Io(_)
        | MongoKind::ServerSelection { .. }
        | MongoKind::ConnectionPoolCleared { .. }
        | MongoKind::DnsResolve { .. } => ErrorKind::Unavailable,
        MongoKind::Authentication { .. }
        | MongoKind::InvalidTlsConfig { .. }
        | MongoKind::IncompatibleServer { .. } => ErrorKind::Config,
        _ => match code(&e) {
            Some(50) => ErrorKind::Timeout,
            Some(c) if UNAVAILABLE_CODES.contains(&c) => ErrorKind::Unavailable,
            Some(c) if TOO_LARGE_CODES.contains(&c) => ErrorKind::ValueTooLarge,
            _ if e.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR)
                || e.contains_label(mongodb::error::RETRYABLE_ERROR) =>
            {
                ErrorKind::Unavailable
            }
            _ => ErrorKind::Backend,
        },
    };
    let (message, shows_values) = match &*e.kind {
        MongoKind::Command(c) => (
            format!(
                "MongoDB error {} ({}): {}",
                c.code,
                c.code_name,
                without_values(&c.message)
            ),
            c.message.contains(DUP_KEY),
        ),
        MongoKind::Write(WriteFailure::WriteError(w)) => (
            format!(
                "MongoDB write error {}: {}",
                w.code,
                without_values(&w.message)
            ),
            w.message.contains(DUP_KEY),
        ),
        other => (format!("MongoDB: {other}"), false),
    };
    let error = Error::new(kind, message).with_backend(BACKEND);
    // The driver's error repeats the server's text: kept as the source only when that text
    // shows no stored values.
    if shows_values {
        error
    } else {
        error.with_source(e)
    }
}

/// Where a duplicate-key message starts quoting the values it found (`dup key: { key: "…" }`).
const DUP_KEY: &str = "dup key";

/// A server message without the values it quotes: a duplicate-key error names the index but not
/// the keys or values that collided (they may be an e-mail address or a token).
fn without_values(message: &str) -> std::borrow::Cow<'_, str> {
    match message.find(DUP_KEY) {
        Some(at) => format!("{}{DUP_KEY}: (values not shown)", &message[..at]).into(),
        None => message.into(),
    }
}

/// The error for a call that outlived its deadline.
pub(crate) fn timed_out(after: std::time::Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("MongoDB did not answer within {after:?}"),
    )
    .with_backend(BACKEND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_key_messages_show_no_values() {
        let server = r#"E11000 duplicate key error collection: db.c index: email_1 dup key: { email: "alice@example.com" }"#;
        let shown = without_values(server);
        assert!(!shown.contains("alice"), "{shown}");
        assert!(shown.contains("index: email_1"), "{shown}");
        assert_eq!(without_values("not authorized"), "not authorized");
    }
}
