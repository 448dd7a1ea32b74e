//! Shared helpers of the DynamoDB tests: the server URL and isolated stores.

#![allow(dead_code, unreachable_pub)]

use stowage_dynamodb::{DynamoConfig, DynamoStore};

/// The test server's endpoint, from `STOWAGE_TEST_DYNAMODB_URL`. Panics (the test fails, it is
/// never skipped) when it is missing.
pub fn endpoint() -> String {
    std::env::var("STOWAGE_TEST_DYNAMODB_URL").unwrap_or_else(|_| {
        panic!(
            "STOWAGE_TEST_DYNAMODB_URL is not set: run the tests through scripts/test.sh, which \
             starts DynamoDB Local and sets it"
        )
    })
}

/// A table name no other test uses.
pub fn unique_table() -> String {
    stowage_core::testkit::unique("stowage-test")
}

/// The configuration for `table` on the test server.
pub fn config(table: &str) -> DynamoConfig {
    DynamoStore::builder(table)
        .endpoint(endpoint())
        .region("us-east-1")
        .credentials("test", "test")
}

/// A store on a table of its own, so `destroy()` touches nothing else.
pub async fn store() -> DynamoStore {
    config(&unique_table())
        .build()
        .await
        .expect("a DynamoDB store")
}

/// Run `tests/py/interop.py MODE ARGS` with the real Python package and parse its JSON output.
pub async fn run_python(mode: &str, args: serde_json::Value) -> serde_json::Value {
    let mode = mode.to_owned();
    tokio::task::spawn_blocking(move || {
        let script = stowage_core::testkit::python::package_file("tests/py/interop.py");
        stowage_core::testkit::python::run_json(&script, &[&mode, &args.to_string()], None)
    })
    .await
    .expect("the Python task")
}
