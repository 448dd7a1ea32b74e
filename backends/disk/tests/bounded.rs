//! Expired entries are removed without the caller asking: with the sweeper on, a long run of
//! short-TTL writes keeps the file bounded.

use std::time::Duration;

use stowage_core::testkit::bounded::{
    Growth, at_most_one_batch_left, short_ttl_writes_stay_bounded,
};
use stowage_disk::DiskStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_ttl_writes_keep_the_file_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = DiskStore::builder(&path)
        .sweep_interval(Duration::from_millis(100))
        .open()
        .unwrap();
    // redb grows its file by doubling a region; when a busy machine delays one sweep, the live
    // set can outgrow the region once. One doubling is allowed, steady growth is not: a store that
    // kept expired entries would reach about three times its early size by the last third.
    let growth = Growth { num: 2, den: 1 };
    short_ttl_writes_stay_bounded("disk", &store, 60, growth, || async {
        std::fs::metadata(&path).unwrap().len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    at_most_one_batch_left("disk", &store).await;
}
