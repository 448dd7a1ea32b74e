//! Expired entries are removed without the caller asking: the compaction filter drops them as
//! RocksDB compacts, so a long run of short-TTL writes keeps the directory bounded.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use stowage_core::{KeyValueStore, Value};
use stowage_rocksdb::RocksDbStore;

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_ttl_writes_keep_the_directory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.rocksdb");
    let store = RocksDbStore::builder(&path)
        .write_buffer_size(512 * 1024)
        // Files of unique, non-overlapping keys are moved between levels without being rewritten,
        // so only periodic compaction shows them to the expiry filter: the bound is about one
        // period of writes. One second here; a day by default.
        .periodic_compaction(Duration::from_secs(1))
        .compression(false)
        .open()
        .unwrap();
    let value = Value::try_from(json!({"blob": "z".repeat(1000)})).unwrap();
    const ROUNDS: usize = 100;
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
        sizes.push(dir_size(&path));
    }
    let written = (ROUNDS * PER_ROUND * 1000) as u64;
    let early = *sizes[..ROUNDS / 3].iter().max().unwrap();
    let late = *sizes[2 * ROUNDS / 3..].iter().max().unwrap();
    eprintln!(
        "rocksdb: wrote {written} value bytes; directory max {early} in the first third, {late} in the last"
    );
    assert!(
        late <= early + early / 2 + (1 << 20),
        "the directory keeps growing: {early} bytes early, {late} late ({sizes:?})"
    );
    assert!(
        late * 3 < written,
        "the directory holds most of what was written: {late} of {written}"
    );
    // Nothing was culled by hand: the compaction filter did the work. A full compaction now
    // leaves (almost) no entries behind.
    store.compact().await.unwrap();
    let left = store.cull().await.unwrap();
    assert!(
        left <= PER_ROUND,
        "{left} expired entries survived compaction"
    );
}
