//! Retry, timeout and fallback against injected faults over the real memory store.

mod common;

use std::time::Duration;

use common::FaultLayer;
use serde_json::json;
use stowage_core::testkit::{assert_kind, obj};
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt};
use stowage_memory::MemoryStore;
use stowage_wrappers::fallback::FallbackLayer;
use stowage_wrappers::retry::RetryLayer;
use stowage_wrappers::timeout::TimeoutLayer;

fn quick_retry(n: u32) -> RetryLayer {
    RetryLayer::builder()
        .max_retries(n)
        .initial_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(2))
        .build()
}

#[tokio::test]
async fn retry_recovers_from_transient_failures() {
    let faults = FaultLayer::every(2);
    let store = MemoryStore::new()
        .layer(faults.clone())
        .layer(quick_retry(3));
    for i in 0..20 {
        store
            .put("c", &format!("k{i}"), obj(json!({"i": i})), None)
            .await
            .unwrap();
    }
    assert!(faults.injected() >= 10, "{}", faults.injected());
    assert_eq!(store.get_many("c", &["k0", "k19"]).await.unwrap().len(), 2);
}

#[tokio::test]
async fn retry_gives_up_after_max_retries() {
    let faults = FaultLayer::healthy();
    faults.set_down(true);
    let store = MemoryStore::new()
        .layer(faults.clone())
        .layer(quick_retry(4));
    assert_kind(store.get("c", "k").await, ErrorKind::Unavailable);
    assert_eq!(faults.calls(), 5, "one try and four retries");
}

#[tokio::test]
async fn retry_never_repeats_permanent_errors() {
    let faults = FaultLayer::healthy();
    faults.set_down(true);
    faults.fail_with(ErrorKind::Corrupted);
    let store = MemoryStore::new()
        .layer(faults.clone())
        .layer(quick_retry(4));
    assert_kind(store.get("c", "k").await, ErrorKind::Corrupted);
    assert_eq!(faults.calls(), 1);
    // Bad input from the real store is not retried either.
    let faults = FaultLayer::healthy();
    let store = MemoryStore::new()
        .layer(faults.clone())
        .layer(quick_retry(4));
    assert_kind(store.get("c", "").await, ErrorKind::InvalidKey);
    assert_eq!(faults.calls(), 1);
}

#[tokio::test]
async fn timeout_cuts_slow_calls_and_retry_repeats_them() {
    let faults = FaultLayer::healthy();
    faults.set_stall(Duration::from_millis(500));
    let store = MemoryStore::new()
        .layer(faults.clone())
        .layer(TimeoutLayer::new(Duration::from_millis(20)));
    let err = store.get("c", "k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert_eq!(err.operation(), Some("get"));

    // Timeout inside retry: each attempt has its own deadline.
    let retried = MemoryStore::new()
        .layer(faults.clone())
        .layer(TimeoutLayer::new(Duration::from_millis(20)))
        .layer(quick_retry(2));
    let before = faults.calls();
    assert_kind(
        retried.put("c", "k", obj(json!({})), None).await,
        ErrorKind::Timeout,
    );
    assert_eq!(faults.calls() - before, 3);

    // A healthy store answers within the deadline.
    faults.set_stall(Duration::ZERO);
    retried
        .put("c", "k", obj(json!({"ok": 1})), None)
        .await
        .unwrap();
    assert!(retried.get("c", "k").await.unwrap().is_some());
}

#[tokio::test]
async fn fallback_serves_reads_when_the_primary_is_down() {
    let replica = MemoryStore::new();
    replica
        .put("c", "k", obj(json!({"from": "replica"})), None)
        .await
        .unwrap();
    let faults = FaultLayer::healthy();
    let primary = MemoryStore::new();
    primary
        .put("c", "k", obj(json!({"from": "primary"})), None)
        .await
        .unwrap();
    let store = primary
        .clone()
        .layer(faults.clone())
        .layer(FallbackLayer::new(replica.clone()));

    assert_eq!(
        store.get("c", "k").await.unwrap().unwrap().to_map()["from"],
        "primary"
    );
    faults.set_down(true);
    assert_eq!(
        store.get("c", "k").await.unwrap().unwrap().to_map()["from"],
        "replica"
    );
    assert_eq!(store.get_many("c", &["k", "x"]).await.unwrap()[1], None);
    assert!(store.ttl("c", "k").await.unwrap().is_some());
    assert_eq!(store.keys("c").await.unwrap(), vec!["k".to_string()]);
    // Writes go to the primary only: they fail, and the replica is untouched.
    assert_kind(
        store.put("c", "k2", obj(json!({})), None).await,
        ErrorKind::Unavailable,
    );
    assert_kind(store.delete("c", "k").await, ErrorKind::Unavailable);
    assert!(replica.get("c", "k2").await.unwrap().is_none());
    assert!(replica.get("c", "k").await.unwrap().is_some());
}

#[tokio::test]
async fn fallback_ignores_permanent_errors_unless_told() {
    let faults = FaultLayer::healthy();
    faults.set_down(true);
    faults.fail_with(ErrorKind::DecryptionFailed);
    let replica = MemoryStore::new();
    replica
        .put("c", "k", obj(json!({"stale": true})), None)
        .await
        .unwrap();
    let store = MemoryStore::new()
        .layer(faults.clone())
        .layer(FallbackLayer::new(replica.clone()));
    assert_kind(store.get("c", "k").await, ErrorKind::DecryptionFailed);

    let any = MemoryStore::new().layer(faults.clone()).layer(
        FallbackLayer::new(replica.clone())
            .when(|_| true)
            .write_to_fallback(true),
    );
    assert!(any.get("c", "k").await.unwrap().is_some());
    any.put("c", "w", obj(json!({})), None).await.unwrap();
    assert!(replica.get("c", "w").await.unwrap().is_some());
}
