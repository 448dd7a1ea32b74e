//! Expired entries are removed without the caller asking: with the sweeper on, a long run of
//! short-TTL writes keeps sled's files bounded.

use std::time::Duration;

use serde_json::json;
use stowage_core::{KeyValueStore, Value};
use stowage_sled::SledStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_ttl_writes_keep_the_files_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::builder(dir.path().join("store.sled"))
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
        sizes.push(store.size_on_disk().await.unwrap());
    }
    let written = (ROUNDS * PER_ROUND * 1000) as u64;
    let early = *sizes[..ROUNDS / 3].iter().max().unwrap();
    let late = *sizes[2 * ROUNDS / 3..].iter().max().unwrap();
    eprintln!(
        "sled: wrote {written} value bytes; files max {early} in the first third, {late} in the last"
    );
    assert!(
        late <= early + early / 2 + (1 << 20),
        "the files keep growing: {early} bytes early, {late} late ({sizes:?})"
    );
    assert!(
        late * 4 < written,
        "the files hold most of what was written: {late} of {written}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left = store.cull().await.unwrap();
    assert!(left <= PER_ROUND, "{left} expired entries were never swept");
}
