//! The bounded-growth check of the embedded backends: a long run of short-TTL writes must not
//! make the store's files grow without bound, because expired entries are removed without the
//! caller asking (a sweeper, a compaction filter).

use std::future::Future;
use std::time::Duration;

use crate::{KeyValueStore, Value};

/// How a backend's files may grow between the first and the last third of the run.
#[derive(Debug, Clone, Copy)]
pub struct Growth {
    /// The late size may be at most `early * num / den` plus one MiB.
    pub num: u64,
    /// See [`Growth::num`].
    pub den: u64,
}

/// Write `rounds` batches of 500 one-kilobyte values with a 50 ms TTL, 60 ms apart, measuring
/// the store's size on disk after each (`size`), then check that the size in the last third of
/// the run is within `growth` of the first third and well below (under a third of) what was
/// written. `name` appears in the messages.
///
/// The caller then checks what is left with [`at_most_one_batch_left`], after whatever its
/// engine needs first (a compaction, a pause for the sweeper).
pub async fn short_ttl_writes_stay_bounded<S, F, Fut>(
    name: &str,
    store: &S,
    rounds: usize,
    growth: Growth,
    size: F,
) -> Vec<u64>
where
    S: KeyValueStore + ?Sized,
    F: Fn() -> Fut,
    Fut: Future<Output = u64>,
{
    const PER_ROUND: usize = 500;
    let value = Value::from_json(format!(r#"{{"blob":"{}"}}"#, "z".repeat(1000))).unwrap();
    let mut sizes = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let keys: Vec<String> = (0..PER_ROUND).map(|i| format!("r{round}-{i}")).collect();
        let entries: Vec<(&str, Value)> =
            keys.iter().map(|k| (k.as_str(), value.clone())).collect();
        store
            .put_many("short", &entries, Some(Duration::from_millis(50)))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        sizes.push(size().await);
    }
    let written = (rounds * PER_ROUND * 1000) as u64;
    let early = *sizes[..rounds / 3].iter().max().unwrap();
    let late = *sizes[2 * rounds / 3..].iter().max().unwrap();
    eprintln!(
        "{name}: wrote {written} value bytes; size max {early} in the first third, {late} in the last"
    );
    assert!(
        late <= early * growth.num / growth.den + (1 << 20),
        "{name}: the files keep growing: {early} bytes early, {late} late ({sizes:?})"
    );
    assert!(
        late * 3 < written,
        "{name}: the files hold most of what was written: {late} of {written}"
    );
    sizes
}

/// After [`short_ttl_writes_stay_bounded`]: `cull` finds at most one batch of expired entries,
/// so the others were removed without the caller asking.
pub async fn at_most_one_batch_left<S: KeyValueStore + ?Sized>(name: &str, store: &S) {
    let left = store.cull().await.unwrap();
    assert!(
        left <= 500,
        "{name}: {left} expired entries were never removed"
    );
}

/// The total size of the files directly in `dir`.
pub fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(std::result::Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
