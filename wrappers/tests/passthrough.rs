//! The two-tier cache: coalesced misses, invalidation, the local TTL cap.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::FaultLayer;
use serde_json::json;
use stowage_core::testkit::obj;
use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::passthrough::PassthroughLayer;
use stowage_wrappers::stats::StatsLayer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_load_once() {
    let remote_stats = StatsLayer::new();
    let faults = FaultLayer::healthy();
    // A slow remote store, so the readers really overlap.
    faults.set_stall(Duration::from_millis(100));
    let remote = MemoryStore::new()
        .layer(remote_stats.clone())
        .layer(faults.clone());
    remote
        .put("c", "hot", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    let cache = PassthroughLayer::new(MemoryStore::new()).unwrap();
    let store = Arc::new(remote.layer(cache.clone()));

    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store.get("c", "hot").await.unwrap()
                } else {
                    store.get_many("c", &["hot"]).await.unwrap().remove(0)
                }
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().to_map()["v"], 1);
    }
    assert_eq!(remote_stats.collection("c").hits, 1, "one remote read");
    let stats = cache.stats();
    assert_eq!(stats.remote_loads, 1);
    assert_eq!(stats.coalesced + stats.local_hits, 63);

    // Now served locally.
    faults.set_down(true);
    assert!(store.get("c", "hot").await.unwrap().is_some());
}

#[tokio::test]
async fn writes_and_deletes_drop_the_local_copy() {
    let remote = MemoryStore::new();
    let cache = PassthroughLayer::new(MemoryStore::new()).unwrap();
    let store = remote.clone().layer(cache.clone());
    store
        .put("c", "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    assert_eq!(store.get("c", "k").await.unwrap().unwrap().to_map()["v"], 1);
    assert!(cache.local().get("c", "k").await.unwrap().is_some());

    store
        .put("c", "k", obj(json!({"v": 2})), None)
        .await
        .unwrap();
    assert!(cache.local().get("c", "k").await.unwrap().is_none());
    assert_eq!(store.get("c", "k").await.unwrap().unwrap().to_map()["v"], 2);

    assert!(store.delete("c", "k").await.unwrap());
    assert!(store.get("c", "k").await.unwrap().is_none());

    store
        .put_many("c", &[("a", obj(json!({}))), ("b", obj(json!({})))], None)
        .await
        .unwrap();
    store.get_many("c", &["a", "b"]).await.unwrap();
    assert!(store.destroy_collection("c").await.unwrap());
    assert!(cache.local().get("c", "a").await.unwrap().is_none());
}

#[tokio::test]
async fn a_write_during_a_load_keeps_the_old_value_out() {
    let faults = FaultLayer::healthy();
    // The remote read happens at once; its answer arrives 200 ms later.
    faults.set_stall_after(Duration::from_millis(200));
    let remote = MemoryStore::new();
    remote
        .put("c", "k", obj(json!({"v": "old"})), None)
        .await
        .unwrap();
    let cache = PassthroughLayer::new(MemoryStore::new()).unwrap();
    let slow = Arc::new(remote.clone().layer(faults.clone()).layer(cache.clone()));

    // The read starts (slow remote), then a write lands while it loads.
    let reader = {
        let slow = slow.clone();
        tokio::spawn(async move { slow.get("c", "k").await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fast = remote.clone().layer(cache.clone());
    fast.put("c", "k", obj(json!({"v": "new"})), None)
        .await
        .unwrap();
    let seen = reader.await.unwrap().unwrap().unwrap();
    assert_eq!(
        seen.to_map()["v"],
        "old",
        "the read started before the write"
    );
    // The local tier does not keep that old value.
    let local = cache.local().get("c", "k").await.unwrap();
    assert!(local.is_none(), "{local:?}");
    faults.set_stall_after(Duration::ZERO);
    assert_eq!(
        slow.get("c", "k").await.unwrap().unwrap().to_map()["v"],
        "new"
    );
}

#[tokio::test]
async fn local_copies_are_capped_and_never_outlive_the_entry() {
    let cache = PassthroughLayer::new(MemoryStore::new())
        .unwrap()
        .max_local_ttl(Duration::from_secs(60))
        .unwrap();
    let store = MemoryStore::new().layer(cache.clone());
    store
        .put("c", "forever", obj(json!({})), None)
        .await
        .unwrap();
    store
        .put("c", "short", obj(json!({})), Some(Duration::from_secs(5)))
        .await
        .unwrap();
    store.get_many("c", &["forever", "short"]).await.unwrap();
    let forever = cache.local().ttl("c", "forever").await.unwrap().unwrap();
    let left = forever.remaining_ttl().unwrap();
    assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(55));
    let short = cache.local().ttl("c", "short").await.unwrap().unwrap();
    assert!(short.remaining_ttl().unwrap() <= Duration::from_secs(5));
    // ttl() reports the remote entry, not the capped copy.
    assert_eq!(
        store.ttl("c", "forever").await.unwrap().unwrap().expires_at,
        None
    );
}

#[tokio::test]
async fn a_failing_local_tier_is_a_miss() {
    let local_faults = FaultLayer::healthy();
    let local = MemoryStore::new().layer(local_faults.clone());
    let cache = PassthroughLayer::new(local).unwrap();
    let store = MemoryStore::new().layer(cache.clone());
    store
        .put("c", "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    local_faults.set_down(true);
    assert!(store.get("c", "k").await.unwrap().is_some());
    assert_eq!(
        store.get_many("c", &["k", "x"]).await.unwrap()[0]
            .as_ref()
            .unwrap()
            .to_map()["v"],
        1
    );
}

#[tokio::test]
async fn remote_errors_reach_every_waiter() {
    let faults = FaultLayer::healthy();
    faults.set_down(true);
    faults.set_stall(Duration::from_millis(50));
    let store = Arc::new(
        MemoryStore::new()
            .layer(faults)
            .layer(PassthroughLayer::new(MemoryStore::new()).unwrap()),
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.get("c", "k").await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), stowage_core::ErrorKind::Unavailable);
    }
}

#[tokio::test]
async fn a_cancelled_loader_hands_over() {
    let faults = FaultLayer::healthy();
    faults.set_stall(Duration::from_millis(200));
    let remote = MemoryStore::new();
    remote
        .put("c", "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    let store = Arc::new(
        remote
            .layer(faults.clone())
            .layer(PassthroughLayer::new(MemoryStore::new()).unwrap()),
    );
    let first = {
        let store = store.clone();
        tokio::spawn(async move { store.get("c", "k").await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = {
        let store = store.clone();
        tokio::spawn(async move { store.get("c", "k").await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    first.abort();
    let got = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the waiter does not hang")
        .unwrap()
        .unwrap();
    assert!(got.is_some());
}

/// As in py-key-value-aio 0.5: a cached empty object is a hit like any other value, served from
/// the local tier without asking the remote store again.
#[tokio::test]
async fn a_cached_empty_object_is_a_hit() {
    let remote = MemoryStore::new();
    remote
        .put("c", "empty", Value::empty(), None)
        .await
        .unwrap();
    let cache = PassthroughLayer::new(MemoryStore::new()).unwrap();
    let store = remote.layer(cache.clone());
    for _ in 0..3 {
        assert_eq!(store.get("c", "empty").await.unwrap(), Some(Value::empty()));
    }
    let stats = cache.stats();
    assert_eq!((stats.remote_loads, stats.local_hits), (1, 2), "{stats:?}");
}
