//! Shared helpers of the MongoDB tests: the server URL and isolated stores.

#![allow(dead_code, unreachable_pub)]

use stowage_mongodb::MongoStore;

/// The test server's URL, from `STOWAGE_TEST_MONGODB_URL`. Panics (the test fails, it is never
/// skipped) when it is missing.
pub fn url() -> String {
    std::env::var("STOWAGE_TEST_MONGODB_URL").unwrap_or_else(|_| {
        panic!(
            "STOWAGE_TEST_MONGODB_URL is not set: run the tests through scripts/test.sh, which \
             starts a MongoDB-compatible server and sets it"
        )
    })
}

/// A database name no other test uses.
pub fn unique_database() -> String {
    stowage_core::testkit::unique("stowage-test")
}

/// A store on a database of its own, so `destroy()` touches nothing else.
pub async fn store() -> MongoStore {
    MongoStore::builder()
        .url(url())
        .database(unique_database())
        .build()
        .await
        .expect("a MongoDB store")
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
