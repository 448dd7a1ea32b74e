//! Errors carry their context: which backend refused, in which operation.

use std::time::Duration;

use serde_json::json;

use crate::error::{Error, Result};
use crate::testkit::{Store, obj, unique};

/// Check that `result` is an error naming a backend and `operation`.
fn assert_context<T: std::fmt::Debug>(result: Result<T>, operation: &str) {
    let err: Error = match result {
        Ok(v) => panic!("{operation}: expected an error, got {v:?}"),
        Err(e) => e,
    };
    assert!(
        err.backend().is_some(),
        "{operation}: the error names no backend: {err:?}"
    );
    assert_eq!(
        err.operation(),
        Some(operation),
        "{operation}: the error names another operation: {err:?}"
    );
}

/// Every operation refusing bad input says which backend and which operation refused, so an
/// error read in a log far from its call (through layers, retries, a cache) can be placed.
pub async fn every_error_names_its_backend_and_operation(store: Store) {
    let c = unique("errors");
    let v = obj(json!({"v": 1}));
    assert_context(store.get(&c, "").await, "get");
    assert_context(store.get("", "k").await, "get");
    assert_context(store.get_many(&c, &["k", ""]).await, "get_many");
    assert_context(store.ttl(&c, "").await, "ttl");
    assert_context(store.ttl_many(&c, &["", "k"]).await, "ttl_many");
    assert_context(store.put(&c, "", v.clone(), None).await, "put");
    assert_context(
        store.put(&c, "k", v.clone(), Some(Duration::ZERO)).await,
        "put",
    );
    assert_context(
        store
            .put_many(&c, &[("k", v.clone()), ("", v.clone())], None)
            .await,
        "put_many",
    );
    assert_context(store.delete(&c, "").await, "delete");
    assert_context(store.delete_many("", &["k"]).await, "delete_many");
    let caps = store.capabilities();
    if caps.put_if_absent {
        assert_context(
            store.put_if_absent(&c, "", v.clone(), None).await,
            "put_if_absent",
        );
        assert_context(
            store
                .put_if_absent(&c, "k", v.clone(), Some(Duration::ZERO))
                .await,
            "put_if_absent",
        );
    }
    if caps.keys {
        assert_context(store.keys("").await, "keys");
    }
    if caps.destroy_collection {
        assert_context(store.destroy_collection("").await, "destroy_collection");
    }
}
