//! Exit codes, and the error every command returns: a message and the code it exits with.
//!
//! The codes follow `sysexits.h` where one fits, so shell scripts and container health checks
//! can tell a missing key from an unreachable server from corrupt data.

use stowage::{Error, ErrorKind};

/// The command did what was asked.
pub(crate) const OK: u8 = 0;
/// The key (or entry) asked for does not exist or has expired.
pub(crate) const NOT_FOUND: u8 = 1;
/// Bad usage: unknown flag, missing argument, invalid key, collection, TTL or value.
pub(crate) const USAGE: u8 = 2;
/// The command ran, but some entries failed (`copy`).
pub(crate) const PARTIAL: u8 = 3;
/// The store does not offer the capability the command needs (`keys`, `cull`, …).
pub(crate) const UNSUPPORTED: u8 = 4;
/// The operator declined the confirmation (`destroy`).
pub(crate) const DECLINED: u8 = 5;
/// Stored data is corrupt or in an unknown format (`EX_DATAERR`).
pub(crate) const CORRUPTED: u8 = 65;
/// The backend could not be reached or is failing; retry later (`EX_UNAVAILABLE`).
pub(crate) const UNAVAILABLE: u8 = 69;
/// Any other backend failure (`EX_SOFTWARE`).
pub(crate) const BACKEND: u8 = 70;
/// The store refuses writes (`EX_CANTCREAT`).
pub(crate) const READ_ONLY: u8 = 73;
/// An operation timed out; retry later (`EX_TEMPFAIL`).
pub(crate) const TIMEOUT: u8 = 75;
/// A stored value could not be decrypted with the key given, or no key was given (`EX_NOPERM`).
pub(crate) const DECRYPTION_FAILED: u8 = 77;
/// The store URL or a layer's configuration is wrong (`EX_CONFIG`).
pub(crate) const CONFIG: u8 = 78;

/// Every code with its meaning, as `stowage --help` and the README list them.
pub(crate) const TABLE: &[(u8, &str)] = &[
    (OK, "success"),
    (NOT_FOUND, "key not found (or expired)"),
    (
        USAGE,
        "bad usage: flags, arguments, invalid key/collection/TTL/value",
    ),
    (PARTIAL, "copy finished with failed entries"),
    (
        UNSUPPORTED,
        "the store lacks the capability (keys, collections, cull, destroy)",
    ),
    (DECLINED, "destroy not confirmed"),
    (CORRUPTED, "corrupt stored data"),
    (UNAVAILABLE, "backend unavailable"),
    (BACKEND, "other backend error"),
    (READ_ONLY, "the store is read-only"),
    (TIMEOUT, "timed out"),
    (
        DECRYPTION_FAILED,
        "decryption failed (wrong or missing Fernet key)",
    ),
    (CONFIG, "bad store URL or layer configuration"),
];

/// The exit code for an error of `kind`.
pub(crate) fn code_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidKey
        | ErrorKind::InvalidCollection
        | ErrorKind::InvalidTtl
        | ErrorKind::InvalidValue
        | ErrorKind::ValueTooLarge => USAGE,
        ErrorKind::Corrupted => CORRUPTED,
        ErrorKind::DecryptionFailed => DECRYPTION_FAILED,
        ErrorKind::ReadOnly => READ_ONLY,
        ErrorKind::Timeout => TIMEOUT,
        ErrorKind::Unavailable => UNAVAILABLE,
        ErrorKind::Unsupported => UNSUPPORTED,
        ErrorKind::Config => CONFIG,
        _ => BACKEND,
    }
}

/// What a command returns when it fails: the message for standard error (redacted before it is
/// printed) and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The exit code.
    pub(crate) code: u8,
    /// What went wrong and, where known, what to do.
    pub(crate) message: String,
}

impl Failure {
    /// A failure with its own message and code.
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Bad usage (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::new(USAGE, message)
    }

    /// Prefix the message with what was being done.
    #[must_use]
    pub(crate) fn context(mut self, what: impl std::fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            // Drivers often repeat their cause in their own message: say each thing once.
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        if err.kind() == ErrorKind::DecryptionFailed {
            message.push_str(
                " (pass the store's Fernet key with --fernet-key-env VAR or STOWAGE_FERNET_KEY)",
            );
        }
        Failure::new(code_for(err.kind()), message)
    }
}

/// The result of a command.
pub(crate) type CmdResult<T = ()> = Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_its_documented_code() {
        let cases = [
            (ErrorKind::InvalidKey, 2),
            (ErrorKind::InvalidCollection, 2),
            (ErrorKind::InvalidTtl, 2),
            (ErrorKind::InvalidValue, 2),
            (ErrorKind::ValueTooLarge, 2),
            (ErrorKind::Corrupted, 65),
            (ErrorKind::DecryptionFailed, 77),
            (ErrorKind::ReadOnly, 73),
            (ErrorKind::Timeout, 75),
            (ErrorKind::Unavailable, 69),
            (ErrorKind::Unsupported, 4),
            (ErrorKind::Config, 78),
            (ErrorKind::Backend, 70),
        ];
        for (kind, code) in cases {
            assert_eq!(code_for(kind), code, "{kind}");
            assert!(TABLE.iter().any(|(c, _)| *c == code), "{code} undocumented");
        }
    }

    #[test]
    fn codes_are_distinct_and_nonzero_on_failure() {
        let mut codes: Vec<u8> = TABLE.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len());
        assert_eq!(TABLE[0].0, OK);
    }

    #[test]
    fn a_failure_keeps_the_cause_chain_and_hints_at_the_key() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = Error::new(ErrorKind::Unavailable, "cannot connect").with_source(io);
        let f = Failure::from(err);
        assert_eq!(f.code, UNAVAILABLE);
        assert!(
            f.message.ends_with("cannot connect: refused"),
            "{}",
            f.message
        );
        let f = Failure::from(Error::new(ErrorKind::DecryptionFailed, "no key opens it"));
        assert_eq!(f.code, DECRYPTION_FAILED);
        assert!(f.message.contains("--fernet-key-env"), "{}", f.message);
    }
}
