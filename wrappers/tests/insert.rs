//! `put_if_absent` through the layers whose answer is not plain forwarding: the cache tier, a
//! silently read-only store, a skipping size limit, the fallback and retries.

mod common;

use std::time::Duration;

use common::FaultLayer;
use serde_json::json;
use stowage_core::testkit::{assert_kind, obj};
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt};
use stowage_memory::MemoryStore;
use stowage_wrappers::fallback::FallbackLayer;
use stowage_wrappers::passthrough::PassthroughLayer;
use stowage_wrappers::read_only::ReadOnlyLayer;
use stowage_wrappers::retry::RetryLayer;
use stowage_wrappers::size_limit::{Action, SizeLimitLayer};

#[tokio::test]
async fn the_cache_tier_never_answers_an_insert() {
    let remote = MemoryStore::new();
    let store = remote
        .clone()
        .layer(PassthroughLayer::new(MemoryStore::new()).unwrap());
    store
        .put("c", "k", obj(json!({"v": "old"})), None)
        .await
        .unwrap();
    // Now held by the local tier too.
    assert_eq!(
        store.get("c", "k").await.unwrap().unwrap().to_map()["v"],
        "old"
    );
    // Another process removes it from the shared store.
    assert!(remote.delete("c", "k").await.unwrap());
    let new = obj(json!({"v": "new"}));
    assert!(
        store.put_if_absent("c", "k", new, None).await.unwrap(),
        "the remote store decides, not the stale local copy"
    );
    assert_eq!(
        store.get("c", "k").await.unwrap().unwrap().to_map()["v"],
        "new"
    );
    assert_eq!(
        remote.get("c", "k").await.unwrap().unwrap().to_map()["v"],
        "new"
    );
}

#[tokio::test]
async fn a_silent_read_only_store_refuses_an_insert() {
    let raw = MemoryStore::new();
    let silent = raw.clone().layer(ReadOnlyLayer::silent());
    assert_kind(
        silent.put_if_absent("c", "k", obj(json!({})), None).await,
        ErrorKind::ReadOnly,
    );
    assert_eq!(raw.get("c", "k").await.unwrap(), None);
    let refusing = raw.clone().layer(ReadOnlyLayer::new());
    assert_kind(
        refusing.put_if_absent("c", "k", obj(json!({})), None).await,
        ErrorKind::ReadOnly,
    );
    assert_eq!(raw.get("c", "k").await.unwrap(), None);
}

#[tokio::test]
async fn a_skipping_size_limit_refuses_an_insert_it_would_skip() {
    let raw = MemoryStore::new();
    let skipping = raw
        .clone()
        .layer(SizeLimitLayer::new().max(50, Action::Skip));
    let big = obj(json!({"blob": "x".repeat(100)}));
    assert_kind(
        skipping.put_if_absent("c", "k", big, None).await,
        ErrorKind::ValueTooLarge,
    );
    assert_eq!(raw.get("c", "k").await.unwrap(), None);
    assert!(
        skipping
            .put_if_absent("c", "k", obj(json!({})), None)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_fallback_never_takes_an_insert() {
    let faults = FaultLayer::healthy();
    faults.set_down(true);
    let replica = MemoryStore::new();
    let store = MemoryStore::new().layer(faults.clone()).layer(
        FallbackLayer::new(replica.clone())
            .when(|_| true)
            .write_to_fallback(true),
    );
    assert_kind(
        store.put_if_absent("c", "k", obj(json!({})), None).await,
        ErrorKind::Unavailable,
    );
    assert_eq!(replica.get("c", "k").await.unwrap(), None);
}

#[tokio::test]
async fn a_retry_that_finds_its_own_lost_insert_reports_it() {
    // The inner store inserts, then the answer is lost (an injected fault after the call).
    let faults = FaultLayer::healthy();
    let raw = MemoryStore::new();
    let store = raw.clone().layer(faults.clone()).layer(
        RetryLayer::builder()
            .max_retries(3)
            .initial_delay(Duration::from_millis(1))
            .build(),
    );
    faults.lose_next_answers(1);
    let mine = obj(json!({"holder": "me"}));
    assert!(store.put_if_absent("c", "k", mine, None).await.unwrap());
    assert_eq!(faults.injected(), 1, "the first answer was lost");
    // A different holder's value is not mistaken for this call's own.
    faults.lose_next_answers(1);
    let other = obj(json!({"holder": "someone else"}));
    assert!(!store.put_if_absent("c", "k", other, None).await.unwrap());
    assert_eq!(
        raw.get("c", "k").await.unwrap().unwrap().to_map()["holder"],
        "me"
    );
}
