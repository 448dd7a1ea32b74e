//! The whole conformance kit against a real MongoDB-compatible server, each case on a database
//! of its own.

mod common;

stowage_core::conformance_tests!(common::store);

/// Three clients on one database race on `put_if_absent`: one winner per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_race_across_clients() {
    let database = common::unique_database();
    let mut handles: Vec<stowage_core::testkit::Store> = Vec::new();
    for _ in 0..3 {
        let store = stowage_mongodb::MongoStore::builder()
            .url(common::url())
            .database(&database)
            .build()
            .await
            .unwrap();
        handles.push(std::sync::Arc::new(store));
    }
    stowage_core::testkit::cases::insert::insert_race_across_handles(handles).await;
}
