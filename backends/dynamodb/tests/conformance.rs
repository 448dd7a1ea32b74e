//! The whole conformance kit against DynamoDB Local, each case on a table of its own.

mod common;

stowage_core::conformance_tests!(common::store);

/// Three clients on one table race on `put_if_absent`: one winner per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_race_across_clients() {
    let table = common::unique_table();
    let mut handles: Vec<stowage_core::testkit::Store> = Vec::new();
    for _ in 0..3 {
        handles.push(std::sync::Arc::new(
            common::config(&table).build().await.unwrap(),
        ));
    }
    stowage_core::testkit::cases::insert::insert_race_across_handles(handles).await;
}
