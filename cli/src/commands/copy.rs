//! `copy`: entries from one store to another, in batches, with their remaining TTLs.
//!
//! Per batch: read the source entries (`ttl_many`), drop the expired ones, read the same keys
//! from the destination and drop those it already holds with the same value and expiry (so a
//! re-run changes nothing and an interrupted run can simply be started again), then write the
//! rest with `put_many`, one call per expiry instant. A batch write that fails is retried key
//! by key, so one bad entry does not fail its neighbours. `--jobs` batches run at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use stowage::{DynStore, Entry, Error, Value};

use super::Ctx;
use super::list::lacks;
use crate::args::CopyArgs;
use crate::exit::{BACKEND, CmdResult, Failure, PARTIAL};
use crate::{output, redact};

/// Expiry instants closer than this count as the same when comparing with the destination:
/// backends keep them at different precisions, and the copy itself takes a moment.
const SAME_EXPIRY: Duration = Duration::from_secs(2);

/// How many failure messages the summary keeps.
const KEEP_ERRORS: usize = 5;

/// What happened to the entries so far.
#[derive(Debug, Default)]
struct Tally {
    copied: u64,
    unchanged: u64,
    expired: u64,
    failed: u64,
    errors: Vec<String>,
}

impl Tally {
    /// Entries accounted for.
    fn entries(&self) -> u64 {
        self.copied + self.unchanged + self.expired + self.failed
    }

    /// Add another batch's counts.
    fn add(&mut self, other: Tally) {
        self.copied += other.copied;
        self.unchanged += other.unchanged;
        self.expired += other.expired;
        self.failed += other.failed;
        let room = KEEP_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }

    fn fail(&mut self, n: usize, collection: &str, err: &Error) {
        self.failed += n as u64;
        if self.errors.len() < KEEP_ERRORS {
            self.errors
                .push(format!("collection `{collection}`: {err}"));
        }
    }
}

/// Whether the destination already holds `src`'s value with the same expiry.
fn same(src: &Entry, dst: &Entry) -> bool {
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

/// Copy one batch of `keys` of `collection`; what happened to each.
async fn batch(
    src: DynStore,
    dst: DynStore,
    collection: Arc<str>,
    keys: Vec<String>,
    dry_run: bool,
) -> Tally {
    let mut tally = Tally::default();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    copy_batch(&src, &dst, &collection, &keys, dry_run, &mut tally).await;
    tally
}

async fn copy_batch(
    src: &DynStore,
    dst: &DynStore,
    collection: &str,
    keys: &[&str],
    dry_run: bool,
    tally: &mut Tally,
) {
    tracing::debug!(collection, keys = keys.len(), "batch");
    let entries = match src.ttl_many(collection, keys).await {
        Ok(e) => e,
        Err(e) => return tally.fail(keys.len(), collection, &e),
    };
    let now = SystemTime::now();
    let live: Vec<(&str, Entry)> = keys
        .iter()
        .zip(entries)
        .filter_map(|(k, e)| match e {
            Some(e) if !e.is_expired_at(now) => Some((*k, e)),
            _ => {
                tally.expired += 1;
                None
            }
        })
        .collect();
    if live.is_empty() {
        return;
    }
    let live_keys: Vec<&str> = live.iter().map(|(k, _)| *k).collect();
    let existing: Vec<Result<Option<Entry>, Error>> = match dst
        .ttl_many(collection, &live_keys)
        .await
    {
        Ok(e) => e.into_iter().map(Ok).collect(),
        Err(e) => {
            // One key the destination cannot hold fails the whole batch read: ask key by key.
            tracing::info!(error = %e, "batch read of the destination failed; reading key by key");
            let mut each = Vec::with_capacity(live_keys.len());
            for key in &live_keys {
                each.push(dst.ttl(collection, key).await);
            }
            each
        }
    };
    // Group what is to be written by expiry instant: one `put_many` per TTL.
    let mut groups: HashMap<Option<SystemTime>, Vec<(&str, Value)>> = HashMap::new();
    for ((key, entry), held) in live.into_iter().zip(existing) {
        let held = match held {
            Ok(h) => h,
            Err(e) => {
                tally.fail(1, collection, &e.with_collection(collection));
                continue;
            }
        };
        if held.is_some_and(|h| same(&entry, &h)) {
            tally.unchanged += 1;
        } else {
            groups
                .entry(entry.expires_at)
                .or_default()
                .push((key, entry.value));
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
            Err(e) => {
                tracing::info!(error = %e, "batch write failed; retrying key by key");
                for (key, value) in pairs {
                    match dst.put(collection, key, value, ttl).await {
                        Ok(()) => tally.copied += 1,
                        Err(e) => tally.fail(1, collection, &e.with_collection(collection)),
                    }
                }
            }
        }
    }
}

/// The collections to copy: those named, or every one the source lists.
async fn collections(src: &DynStore, a: &CopyArgs) -> CmdResult<Vec<String>> {
    if !a.collections.is_empty() {
        return Ok(a.collections.clone());
    }
    if !src.capabilities().collections {
        return Err(lacks(
            &a.src,
            "collections",
            "list its collections; name them with --collection",
        ));
    }
    let mut names = src.collections().await?;
    names.sort_unstable();
    Ok(names)
}

fn progress_bar(total: u64, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{bar:30} {pos}/{len} entries  {rate} entries/s  ETA {eta}  {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}", state.per_sec());
        },
    )
    .progress_chars("=> ");
    ProgressBar::new(total).with_style(style)
}

/// Count a finished batch.
fn finished(
    joined: Option<Result<Tally, tokio::task::JoinError>>,
    tally: &mut Tally,
    bar: &ProgressBar,
) -> CmdResult {
    match joined {
        Some(Ok(t)) => {
            bar.inc(t.entries());
            tally.add(t);
            Ok(())
        }
        Some(Err(e)) => Err(Failure::new(BACKEND, format!("a copy task failed: {e}"))),
        None => Ok(()),
    }
}

/// `stowage copy`.
pub(crate) async fn run(ctx: &Ctx, a: CopyArgs) -> CmdResult {
    let src = ctx.layers.open(&a.src).await?;
    let dst = ctx.layers.open(&a.dst).await?;
    if !src.capabilities().keys {
        return Err(lacks(&a.src, "keys", "list the keys to copy"));
    }
    let names = collections(&src, &a).await?;
    let mut plan = Vec::with_capacity(names.len());
    for name in names {
        let mut keys = src
            .keys(&name)
            .await
            .map_err(|e| Failure::from(e).context(format_args!("listing collection `{name}`")))?;
        keys.sort_unstable();
        plan.push((name, keys));
    }
    let total: u64 = plan.iter().map(|(_, k)| k.len() as u64).sum();
    let started = Instant::now();
    let bar = progress_bar(total, ctx.json);
    let mut tally = Tally::default();
    let mut running = tokio::task::JoinSet::new();
    let jobs = usize::from(a.jobs);
    for (name, keys) in &plan {
        tracing::info!(collection = %name, entries = keys.len(), "copying collection");
        bar.set_message(name.clone());
        let collection: Arc<str> = Arc::from(name.as_str());
        for chunk in keys.chunks(usize::from(a.batch_size)) {
            while running.len() >= jobs {
                finished(running.join_next().await, &mut tally, &bar)?;
            }
            running.spawn(batch(
                src.clone(),
                dst.clone(),
                collection.clone(),
                chunk.to_vec(),
                a.dry_run,
            ));
        }
    }
    while !running.is_empty() {
        finished(running.join_next().await, &mut tally, &bar)?;
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let rate = total as f64 / secs.max(1e-9);
    let errors: Vec<String> = tally.errors.iter().map(|e| redact::text(e)).collect();
    if ctx.json {
        output::json(&json!({
            "collections": plan.len(),
            "entries": total,
            "copied": tally.copied,
            "skipped": tally.unchanged + tally.expired,
            "unchanged": tally.unchanged,
            "expired": tally.expired,
            "failed": tally.failed,
            "dry_run": a.dry_run,
            "seconds": secs,
            "entries_per_sec": rate,
            "errors": errors,
        }));
    } else {
        let verb = if a.dry_run { "would copy" } else { "copied" };
        output::line(format!(
            "{verb} {}, skipped {} ({} unchanged, {} expired), failed {} — {} entries of {} collection(s) in {:.1}s ({rate:.0} entries/s){}",
            tally.copied,
            tally.unchanged + tally.expired,
            tally.unchanged,
            tally.expired,
            tally.failed,
            total,
            plan.len(),
            secs,
            if a.dry_run {
                "; dry run: nothing written"
            } else {
                ""
            },
        ));
    }
    if tally.failed > 0 {
        return Err(Failure::new(
            PARTIAL,
            format!(
                "{} entries failed to copy; first errors:\n  {}",
                tally.failed,
                errors.join("\n  ")
            ),
        ));
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
        assert!(same(
            &a,
            &entry(r#"{"b":2,"a":1}"#, Some(t + Duration::from_millis(900)))
        ));
        assert!(!same(
            &a,
            &entry(r#"{"a":1,"b":2}"#, Some(t + Duration::from_secs(5)))
        ));
        assert!(!same(&a, &entry(r#"{"a":1,"b":2}"#, None)));
        assert!(!same(&a, &entry(r#"{"a":2,"b":2}"#, Some(t))));
        assert!(same(&entry("{}", None), &entry("{}", None)));
    }
}
