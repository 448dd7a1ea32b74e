//! Expired entries are removed without the caller asking: the compaction filter drops them as
//! RocksDB compacts, so a long run of short-TTL writes keeps the directory bounded.

use std::time::Duration;

use stowage_core::testkit::bounded::{
    Growth, at_most_one_batch_left, dir_size, short_ttl_writes_stay_bounded,
};
use stowage_rocksdb::RocksDbStore;

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
    let growth = Growth { num: 3, den: 2 };
    short_ttl_writes_stay_bounded("rocksdb", &store, 100, growth, || async { dir_size(&path) })
        .await;
    // Nothing was culled by hand: the compaction filter did the work. A full compaction now
    // leaves (almost) no entries behind.
    store.compact().await.unwrap();
    at_most_one_batch_left("rocksdb", &store).await;
}
