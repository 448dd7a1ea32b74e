//! Expired entries are removed without the caller asking: with the sweeper on, a long run of
//! short-TTL writes keeps sled's files bounded.

use std::time::Duration;

use stowage_core::testkit::bounded::{
    Growth, at_most_one_batch_left, short_ttl_writes_stay_bounded,
};
use stowage_sled::SledStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_ttl_writes_keep_the_files_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::builder(dir.path().join("store.sled"))
        .sweep_interval(Duration::from_millis(100))
        .open()
        .unwrap();
    let growth = Growth { num: 3, den: 2 };
    short_ttl_writes_stay_bounded("sled", &store, 60, growth, || async {
        store.size_on_disk().await.unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    at_most_one_batch_left("sled", &store).await;
}
