//! The name and TTL rules every store enforces.
//!
//! - Keys and collections are non-empty UTF-8 (a `&str` is always UTF-8).
//! - A collection may not contain `::` nor end with `:`, so the `collection::key` layout of remote
//!   backends can never map two pairs to one physical key (`("a:", "b")` and `("a", ":b")` would
//!   both be `a:::b`; with these rules the first `::` of a physical key always ends the
//!   collection). Keys may contain `::` and start with `:`.
//! - A backend may set tighter length limits (in bytes); it declares them in its
//!   [`Capabilities`](crate::Capabilities) and rejects longer names with a clear error.
//! - A TTL of `None` means "never expires". A zero TTL is refused, and so is one longer than
//!   [`MAX_TTL`]; negative TTLs cannot be expressed as a [`Duration`], and
//!   [`ttl_from_secs_f64`] refuses them when converting from signed seconds.
//!
//! Backends call these checks before touching storage, so bad input never half-writes.

use std::time::{Duration, SystemTime};

use crate::error::{Error, ErrorKind, Result};

/// The separator between collection and key in physical key layouts; forbidden in collections.
pub const COLLECTION_SEPARATOR: &str = "::";

/// The longest TTL any store accepts: 100 years. Longer TTLs overflow some backends' clocks; use
/// `None` for "never expires".
pub const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Check a key against the rules and an optional length limit in bytes.
///
/// ```
/// use stowage_core::{rules, ErrorKind};
///
/// assert!(rules::check_key("user:42", None).is_ok());
/// assert_eq!(rules::check_key("", None).unwrap_err().kind(), ErrorKind::InvalidKey);
/// assert_eq!(rules::check_key("abcdef", Some(4)).unwrap_err().kind(), ErrorKind::InvalidKey);
/// ```
pub fn check_key(key: &str, max_len: Option<usize>) -> Result<()> {
    if key.is_empty() {
        return Err(Error::new(ErrorKind::InvalidKey, "key must not be empty"));
    }
    if let Some(max) = max_len.filter(|&max| key.len() > max) {
        return Err(Error::new(
            ErrorKind::InvalidKey,
            format!(
                "key is {} bytes long; this store allows at most {max}",
                key.len()
            ),
        ));
    }
    Ok(())
}

/// Check a collection name against the rules and an optional length limit in bytes.
///
/// ```
/// use stowage_core::{rules, ErrorKind};
///
/// assert!(rules::check_collection("tokens", None).is_ok());
/// assert_eq!(rules::check_collection("a::b", None).unwrap_err().kind(), ErrorKind::InvalidCollection);
/// assert_eq!(rules::check_collection("a:", None).unwrap_err().kind(), ErrorKind::InvalidCollection);
/// assert!(rules::check_collection("a:b", None).is_ok());
/// ```
pub fn check_collection(collection: &str, max_len: Option<usize>) -> Result<()> {
    if collection.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidCollection,
            "collection name must not be empty",
        ));
    }
    if collection.contains(COLLECTION_SEPARATOR) {
        return Err(Error::new(
            ErrorKind::InvalidCollection,
            format!("collection name must not contain `{COLLECTION_SEPARATOR}`"),
        ));
    }
    if collection.ends_with(':') {
        return Err(Error::new(
            ErrorKind::InvalidCollection,
            "collection name must not end with `:` (`a:` + `b` and `a` + `:b` would share the \
             physical key `a:::b`)",
        ));
    }
    if let Some(max) = max_len.filter(|&max| collection.len() > max) {
        return Err(Error::new(
            ErrorKind::InvalidCollection,
            format!(
                "collection name is {} bytes long; this store allows at most {max}",
                collection.len()
            ),
        ));
    }
    Ok(())
}

/// Check a TTL: `None` is fine; zero and anything over [`MAX_TTL`] are refused.
///
/// ```
/// use std::time::Duration;
/// use stowage_core::{rules, ErrorKind};
///
/// assert!(rules::check_ttl(None).is_ok());
/// assert!(rules::check_ttl(Some(Duration::from_millis(1))).is_ok());
/// assert_eq!(rules::check_ttl(Some(Duration::ZERO)).unwrap_err().kind(), ErrorKind::InvalidTtl);
/// ```
pub fn check_ttl(ttl: Option<Duration>) -> Result<()> {
    match ttl {
        Some(t) if t.is_zero() => Err(Error::new(
            ErrorKind::InvalidTtl,
            "TTL must be positive; pass None for an entry that never expires",
        )),
        Some(t) if t > MAX_TTL => Err(Error::new(
            ErrorKind::InvalidTtl,
            format!(
                "TTL of {}s is longer than the maximum of {}s; pass None for an entry that never expires",
                t.as_secs(),
                MAX_TTL.as_secs()
            ),
        )),
        _ => Ok(()),
    }
}

/// Convert a TTL in (possibly fractional, possibly negative) seconds, as Python callers pass it,
/// into a checked [`Duration`].
///
/// ```
/// use std::time::Duration;
/// use stowage_core::{rules, ErrorKind};
///
/// assert_eq!(rules::ttl_from_secs_f64(1.5)?, Duration::from_millis(1500));
/// assert_eq!(rules::ttl_from_secs_f64(-1.0).unwrap_err().kind(), ErrorKind::InvalidTtl);
/// assert_eq!(rules::ttl_from_secs_f64(f64::NAN).unwrap_err().kind(), ErrorKind::InvalidTtl);
/// # Ok::<(), stowage_core::Error>(())
/// ```
pub fn ttl_from_secs_f64(secs: f64) -> Result<Duration> {
    if !secs.is_finite() || secs <= 0.0 {
        return Err(Error::new(
            ErrorKind::InvalidTtl,
            format!("TTL must be a positive number of seconds, got {secs}"),
        ));
    }
    if secs > MAX_TTL.as_secs_f64() {
        return check_ttl(Some(MAX_TTL + Duration::from_secs(1))).map(|_| MAX_TTL);
    }
    let ttl = Duration::from_secs_f64(secs);
    check_ttl(Some(ttl))?;
    Ok(ttl)
}

/// The expiry instant of an entry written at `now` with `ttl`.
///
/// The TTL must have passed [`check_ttl`]; larger ones saturate to `None`-like far future
/// instead of panicking.
pub fn expires_at(now: SystemTime, ttl: Option<Duration>) -> Option<SystemTime> {
    ttl.map(|t| now.checked_add(t).unwrap_or(now + MAX_TTL))
}

/// The instant `secs` seconds after (or, negative, before) the Unix epoch, or `None` when this
/// platform's [`SystemTime`] cannot hold it. Stored data becomes a time through this (or
/// [`instant_from_unix_millis`]), never through `UNIX_EPOCH + Duration`, which panics out of
/// range: a stored `ttl` of `1e300` is an error, not a crash, on every platform.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use stowage_core::rules;
///
/// assert_eq!(rules::instant_from_unix_secs(10), Some(UNIX_EPOCH + Duration::from_secs(10)));
/// assert_eq!(rules::instant_from_unix_secs(-10), UNIX_EPOCH.checked_sub(Duration::from_secs(10)));
/// let _ = rules::instant_from_unix_secs(i64::MAX); // `None` where SystemTime is narrower
/// ```
pub fn instant_from_unix_secs(secs: i64) -> Option<SystemTime> {
    let offset = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(offset)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(offset)
    }
}

/// The instant `millis` milliseconds from the Unix epoch (BSON dates), or `None` when this
/// platform's [`SystemTime`] cannot hold it; see [`instant_from_unix_secs`].
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use stowage_core::rules;
///
/// assert_eq!(rules::instant_from_unix_millis(1_500), Some(UNIX_EPOCH + Duration::from_millis(1_500)));
/// ```
pub fn instant_from_unix_millis(millis: i64) -> Option<SystemTime> {
    let offset = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(offset)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_rules() {
        assert!(check_collection("a:b", None).is_ok());
        assert!(check_collection("ключ", None).is_ok());
        assert!(check_collection("::", None).is_err());
        assert!(check_collection("x::", None).is_err());
        assert!(check_collection("abcd", Some(4)).is_ok());
        assert!(check_collection("abcde", Some(4)).is_err());
    }

    #[test]
    fn keys_may_hold_the_separator() {
        assert!(check_key("a::b", None).is_ok());
    }

    #[test]
    fn ttl_limits() {
        assert!(check_ttl(Some(MAX_TTL)).is_ok());
        assert!(check_ttl(Some(MAX_TTL + Duration::from_nanos(1))).is_err());
        assert!(check_ttl(Some(Duration::MAX)).is_err());
        assert!(ttl_from_secs_f64(0.0).is_err());
        assert!(ttl_from_secs_f64(f64::INFINITY).is_err());
        assert!(ttl_from_secs_f64(1e300).is_err());
        assert_eq!(ttl_from_secs_f64(1e-9).unwrap(), Duration::from_nanos(1));
        // Below a nanosecond rounds to zero, which is refused.
        assert!(ttl_from_secs_f64(1e-12).is_err());
    }

    #[test]
    fn expires_at_never_panics() {
        let now = SystemTime::now();
        assert!(expires_at(now, Some(Duration::MAX)).is_some());
        assert_eq!(expires_at(now, None), None);
    }
}
