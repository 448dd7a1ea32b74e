//! Expired entries are removed without the caller asking: with the sweeper on, a long run of
//! short-TTL writes keeps the file bounded.

use std::time::Duration;

use serde_json::json;
use stowage_core::{KeyValueStore, Value};
use stowage_disk::DiskStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_ttl_writes_keep_the_file_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = DiskStore::builder(&path)
        .sweep_interval(Duration::from_millis(100))
        .open()
        .unwrap();
    let value = Value::try_from(json!({"blob": "z".repeat(1000)})).unwrap();
    const ROUNDS: usize = 60;
    const PER_ROUND: usize = 500;
    let mut sizes = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let keys: Vec<String> = (0..PER_ROUND).map(|i| format!("r{round}-{i}")).collect();
        let entries: Vec<(&str, Value)> =
            keys.iter().map(|k| (k.as_str(), value.clone())).collect();
        store
            .put_many("short", &entries, Some(Duration::from_millis(50)))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        sizes.push(std::fs::metadata(&path).unwrap().len());
    }
    let written = (ROUNDS * PER_ROUND * 1000) as u64;
    let early = *sizes[..ROUNDS / 3].iter().max().unwrap();
    let late = *sizes[2 * ROUNDS / 3..].iter().max().unwrap();
    eprintln!(
        "disk: wrote {written} value bytes; file max {early} in the first third, {late} in the last"
    );
    // redb grows its file by doubling a region; when a busy machine delays one sweep, the live
    // set can outgrow the region once. One doubling is allowed, steady growth is not: a store that
    // kept expired entries would reach about three times its early size by the last third.
    assert!(
        late <= 2 * early + (1 << 20),
        "the file keeps growing: {early} bytes early, {late} late ({sizes:?})"
    );
    assert!(
        late * 4 < written,
        "the file holds most of what was written: {late} of {written}"
    );
    // The sweeper removed the expired entries: nothing much is left to cull.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left = store.cull().await.unwrap();
    assert!(left <= PER_ROUND, "{left} expired entries were never swept");
}
