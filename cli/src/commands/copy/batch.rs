//! One batch of a copy: read the source entries, drop the expired ones and those the
//! destination already holds unchanged, write the rest with their remaining TTLs.
//!
//! An error about one entry (its name, its value, its stored bytes) fails that entry only: a
//! batch call that fails with one is retried key by key. An error about a store (unreachable,
//! timed out, misconfigured) fails the rest of the batch and stops the copy, which can then
//! simply be run again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stowage::{DynStore, Entry, Error, ErrorKind, Value};

/// Expiry instants closer than this count as the same when comparing with the destination:
/// backends keep them at different precisions, and the copy itself takes a moment.
const SAME_EXPIRY: Duration = Duration::from_secs(2);

/// How many failure messages a tally keeps.
const KEEP_ERRORS: usize = 5;

/// What happened to the entries of one batch, or of the whole copy.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Written (or, in a dry run, to be written).
    pub(super) copied: u64,
    /// Already in the destination with the same value and expiry.
    pub(super) unchanged: u64,
    /// Gone or expired in the source by the time they were read or written.
    pub(super) expired: u64,
    /// Not copied because of an error.
    pub(super) failed: u64,
    /// The first few errors, with their collection.
    pub(super) errors: Vec<String>,
    /// The store-level error that stopped the copy, if one did.
    pub(super) stopped: Option<Error>,
}

impl Tally {
    /// Entries accounted for.
    pub(super) fn entries(&self) -> u64 {
        self.copied + self.unchanged + self.expired + self.failed
    }

    /// Add another batch's counts.
    pub(super) fn add(&mut self, other: Tally) {
        self.copied += other.copied;
        self.unchanged += other.unchanged;
        self.expired += other.expired;
        self.failed += other.failed;
        let room = KEEP_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
        if self.stopped.is_none() {
            self.stopped = other.stopped;
        }
    }

    fn fail(&mut self, n: usize, collection: &str, err: &Error) {
        self.failed += n as u64;
        if self.errors.len() < KEEP_ERRORS {
            self.errors
                .push(format!("collection `{collection}`: {err}"));
        }
    }
}

/// Whether `err` concerns one entry rather than the store.
fn per_entry(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::InvalidKey
            | ErrorKind::InvalidCollection
            | ErrorKind::InvalidTtl
            | ErrorKind::InvalidValue
            | ErrorKind::ValueTooLarge
            | ErrorKind::Corrupted
            | ErrorKind::DecryptionFailed
    )
}

/// Whether the destination already holds `src`'s value with the same expiry.
pub(super) fn same(src: &Entry, dst: &Entry) -> bool {
    let expiry = match (src.expires_at, dst.expires_at) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let gap = a.duration_since(b).or_else(|_| b.duration_since(a));
            gap.is_ok_and(|g| g <= SAME_EXPIRY)
        }
        _ => false,
    };
    expiry && (src.value.as_str() == dst.value.as_str() || src.value.to_map() == dst.value.to_map())
}

/// The entries of `keys`, one result each; key by key when the batch read fails because of
/// one entry. `Err` for a store-level failure.
async fn read_each(
    store: &DynStore,
    collection: &str,
    keys: &[&str],
) -> Result<Vec<Result<Option<Entry>, Error>>, Error> {
    match store.ttl_many(collection, keys).await {
        Ok(entries) => Ok(entries.into_iter().map(Ok).collect()),
        Err(e) if per_entry(&e) => {
            tracing::info!(error = %e, "a batch read failed on one entry; reading key by key");
            let mut each = Vec::with_capacity(keys.len());
            for key in keys {
                match store.ttl(collection, key).await {
                    Err(e) if !per_entry(&e) => return Err(e),
                    r => each.push(r),
                }
            }
            Ok(each)
        }
        Err(e) => Err(e),
    }
}

/// Copy one batch of `keys` of `collection`; what happened to each.
pub(super) async fn run(
    src: DynStore,
    dst: DynStore,
    collection: Arc<str>,
    keys: Vec<String>,
    dry_run: bool,
) -> Tally {
    let mut tally = Tally::default();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    if let Err(e) = copy(&src, &dst, &collection, &keys, dry_run, &mut tally).await {
        let left = keys.len() as u64 - tally.entries();
        tally.fail(left as usize, &collection, &e);
        tally.stopped = Some(e);
    }
    tally
}

/// The batch's work; `Err` (with the entries not yet accounted for) on a store-level failure.
async fn copy(
    src: &DynStore,
    dst: &DynStore,
    collection: &str,
    keys: &[&str],
    dry_run: bool,
    tally: &mut Tally,
) -> Result<(), Error> {
    tracing::debug!(collection, keys = keys.len(), "batch");
    let now = SystemTime::now();
    let mut live: Vec<(&str, Entry)> = Vec::with_capacity(keys.len());
    for (key, read) in keys.iter().zip(read_each(src, collection, keys).await?) {
        match read {
            Ok(Some(e)) if !e.is_expired_at(now) => live.push((key, e)),
            Ok(_) => tally.expired += 1,
            Err(e) => tally.fail(1, collection, &e.with_collection(collection)),
        }
    }
    if live.is_empty() {
        return Ok(());
    }
    let live_keys: Vec<&str> = live.iter().map(|(k, _)| *k).collect();
    let held = read_each(dst, collection, &live_keys).await?;
    // What is to be written, by expiry instant: one `put_many` per TTL.
    let mut groups: HashMap<Option<SystemTime>, Vec<(&str, Value)>> = HashMap::new();
    for ((key, entry), held) in live.into_iter().zip(held) {
        match held {
            Err(e) => tally.fail(1, collection, &e.with_collection(collection)),
            Ok(Some(h)) if same(&entry, &h) => tally.unchanged += 1,
            Ok(_) => groups
                .entry(entry.expires_at)
                .or_default()
                .push((key, entry.value)),
        }
    }
    for (expires_at, pairs) in groups {
        let ttl = match expires_at {
            None => None,
            Some(at) => match at.duration_since(SystemTime::now()) {
                Ok(left) if left >= Duration::from_millis(1) => Some(left),
                _ => {
                    tally.expired += pairs.len() as u64;
                    continue;
                }
            },
        };
        if dry_run {
            tally.copied += pairs.len() as u64;
            continue;
        }
        match dst.put_many(collection, &pairs, ttl).await {
            Ok(()) => tally.copied += pairs.len() as u64,
            Err(e) if per_entry(&e) => {
                tracing::info!(error = %e, "a batch write failed on one entry; writing key by key");
                for (key, value) in pairs {
                    match dst.put(collection, key, value, ttl).await {
                        Ok(()) => tally.copied += 1,
                        Err(e) if per_entry(&e) => {
                            tally.fail(1, collection, &e.with_collection(collection));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str, expires_at: Option<SystemTime>) -> Entry {
        Entry::new(Value::from_json(json).unwrap(), None, expires_at)
    }

    #[test]
    fn same_value_and_expiry_within_the_tolerance_is_unchanged() {
        let t = SystemTime::now() + Duration::from_secs(100);
        let a = entry(r#"{"a":1,"b":2}"#, Some(t));
        let near = Some(t + Duration::from_millis(900));
        assert!(same(&a, &entry(r#"{"b":2,"a":1}"#, near)));
        let far = Some(t + Duration::from_secs(5));
        assert!(!same(&a, &entry(r#"{"a":1,"b":2}"#, far)));
        assert!(!same(&a, &entry(r#"{"a":1,"b":2}"#, None)));
        assert!(!same(&a, &entry(r#"{"a":2,"b":2}"#, Some(t))));
        assert!(same(&entry("{}", None), &entry("{}", None)));
    }

    #[test]
    fn entry_errors_are_told_from_store_errors() {
        assert!(per_entry(&Error::new(ErrorKind::InvalidKey, "too long")));
        assert!(per_entry(&Error::new(ErrorKind::Corrupted, "bad bytes")));
        assert!(!per_entry(&Error::new(ErrorKind::Unavailable, "down")));
        assert!(!per_entry(&Error::new(ErrorKind::Timeout, "slow")));
    }
}
