//! SDK errors, sorted into the kinds a caller can act on.

use std::fmt::Debug;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use stowage_core::{Error, ErrorKind};

pub(crate) const BACKEND: &str = "dynamodb";

/// Error codes meaning "try again later".
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

/// The service's error code, when the error came from the service.
pub(crate) fn service_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// Convert an SDK error into Stowage's error type.
pub(crate) fn convert<E, R>(e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let (kind, message) = match &e {
        SdkError::ConstructionFailure(_) => (
            ErrorKind::Config,
            "the DynamoDB request could not be built".to_owned(),
        ),
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, "DynamoDB timed out".to_owned()),
        SdkError::DispatchFailure(d) => (
            ErrorKind::Unavailable,
            format!("DynamoDB could not be reached: {d:?}"),
        ),
        SdkError::ResponseError(_) => (
            ErrorKind::Unavailable,
            "DynamoDB sent a response that could not be read".to_owned(),
        ),
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("unknown");
            let text = s.err().message().unwrap_or("");
            let kind = if RETRYABLE_CODES.contains(&code) {
                ErrorKind::Unavailable
            } else if code == "ValidationException" && text.contains("size has exceeded") {
                ErrorKind::ValueTooLarge
            } else if code == "ResourceNotFoundException"
                || code == "UnrecognizedClientException"
                || code == "AccessDeniedException"
            {
                ErrorKind::Config
            } else {
                ErrorKind::Backend
            };
            (kind, format!("DynamoDB {code}: {text}"))
        }
        _ => (ErrorKind::Backend, "DynamoDB request failed".to_owned()),
    };
    Error::new(kind, message)
        .with_backend(BACKEND)
        .with_source(e)
}

/// The error for a call that outlived its deadline.
pub(crate) fn timed_out(after: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("DynamoDB did not answer within {after:?}"),
    )
    .with_backend(BACKEND)
}

/// The error for a builder the SDK refused.
pub(crate) fn build_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(
        ErrorKind::Backend,
        format!("DynamoDB request could not be built: {e}"),
    )
    .with_backend(BACKEND)
    .with_source(e)
}
