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
    let message = match &*e.kind {
        MongoKind::Command(c) => {
            format!("MongoDB error {} ({}): {}", c.code, c.code_name, c.message)
        }
        MongoKind::Write(WriteFailure::WriteError(w)) => {
            format!("MongoDB write error {}: {}", w.code, w.message)
        }
        other => format!("MongoDB: {other}"),
    };
    Error::new(kind, message)
        .with_backend(BACKEND)
        .with_source(e)
}

/// The error for a call that outlived its deadline.
pub(crate) fn timed_out(after: std::time::Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("MongoDB did not answer within {after:?}"),
    )
    .with_backend(BACKEND)
}
