//! Memory-store specifics: bounds, eviction order, the sweeper and configuration errors.

use std::time::Duration;

use serde_json::json;
use stowage_core::{ErrorKind, KeyValueStore, Value};
use stowage_memory::MemoryStore;

fn v(n: usize) -> Value {
    Value::try_from(json!({"n": n})).unwrap()
}

#[tokio::test]
async fn entry_bound_holds_under_many_writes() {
    let store = MemoryStore::builder().max_entries(100).build().unwrap();
    for i in 0..5_000 {
        store.put("c", &format!("k{i}"), v(i), None).await.unwrap();
        assert!(
            store.len() <= 100,
            "{} entries after write {i}",
            store.len()
        );
    }
    assert_eq!(store.len(), 100);
    assert_eq!(store.evictions(), 4_900);
    assert_eq!(store.keys("c").await.unwrap().len(), 100);
    // The most recent write always survives its own eviction pass.
    assert!(store.get("c", "k4999").await.unwrap().is_some());
}

#[tokio::test]
async fn byte_bound_holds() {
    let max = 64 * 1024;
    let store = MemoryStore::builder().max_bytes(max).build().unwrap();
    let blob = Value::try_from(json!({"b": "x".repeat(1000)})).unwrap();
    for i in 0..1_000 {
        store
            .put("c", &format!("k{i}"), blob.clone(), None)
            .await
            .unwrap();
        assert!(
            store.bytes() <= max,
            "{} bytes after write {i}",
            store.bytes()
        );
    }
    assert!(
        store.len() >= 50,
        "the budget fits about 58 entries, holds {}",
        store.len()
    );
}

#[tokio::test]
async fn bounds_hold_under_concurrent_writers() {
    let store = MemoryStore::builder()
        .max_entries(256)
        .shards(4)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..2_000 {
                store
                    .put("c", &format!("{t}-{i}"), v(i), None)
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(store.len() <= 256, "{} entries", store.len());
    assert_eq!(store.keys("c").await.unwrap().len(), store.len());
}

#[tokio::test]
async fn recently_read_entries_survive_eviction_more_often() {
    let store = MemoryStore::builder()
        .max_entries(1_000)
        .shards(1)
        .build()
        .unwrap();
    for i in 0..1_000 {
        store.put("c", &format!("k{i}"), v(i), None).await.unwrap();
    }
    let hot: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    // Keep reading the hot tenth while writing 500 new keys.
    for i in 0..500 {
        for k in hot.iter().skip(i % 10).step_by(10) {
            store.get("c", k).await.unwrap();
        }
        store
            .put("c", &format!("new{i}"), v(i), None)
            .await
            .unwrap();
    }
    let refs: Vec<&str> = hot.iter().map(String::as_str).collect();
    let hot_alive = store
        .get_many("c", &refs)
        .await
        .unwrap()
        .iter()
        .flatten()
        .count();
    let cold: Vec<String> = (500..1000).map(|i| format!("k{i}")).collect();
    let refs: Vec<&str> = cold.iter().map(String::as_str).collect();
    let cold_alive = store
        .get_many("c", &refs)
        .await
        .unwrap()
        .iter()
        .flatten()
        .count();
    // Half the old entries had to go; the hot ones should mostly stay.
    assert!(
        hot_alive * 5 > cold_alive,
        "hot {hot_alive}/100 vs cold {cold_alive}/500"
    );
    assert!(
        hot_alive >= 80,
        "only {hot_alive} of 100 hot entries survived"
    );
}

#[tokio::test]
async fn expired_entries_are_evicted_preferentially() {
    // 500 expired and 500 live entries fill the store; 500 more writes must evict 500. Sampling
    // eight entries per eviction takes an expired one while any is likely in the sample, so about
    // 110 live entries go (random eviction would take about 300).
    let store = MemoryStore::builder()
        .max_entries(1_000)
        .shards(1)
        .build()
        .unwrap();
    for i in 0..500 {
        store
            .put(
                "c",
                &format!("short{i}"),
                v(i),
                Some(Duration::from_millis(50)),
            )
            .await
            .unwrap();
        store
            .put("c", &format!("long{i}"), v(i), None)
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..500 {
        store
            .put("c", &format!("new{i}"), v(i), None)
            .await
            .unwrap();
    }
    assert_eq!(store.len(), 1_000);
    let live = store.keys("c").await.unwrap();
    assert!(live.iter().all(|k| !k.starts_with("short")));
    let live_lost = 1_000 - live.len();
    assert!(
        live_lost <= 200,
        "{live_lost} live entries evicted while expired ones were there"
    );
}

#[tokio::test]
async fn oversized_entry_is_refused_and_store_kept() {
    let store = MemoryStore::builder().max_bytes(4096).build().unwrap();
    assert_eq!(store.capabilities().max_value_len, Some(2048));
    store.put("c", "k", v(1), None).await.unwrap();
    let big = Value::try_from(json!({"b": "x".repeat(3000)})).unwrap();
    let err = store.put("c", "k", big, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValueTooLarge);
    assert_eq!(err.backend(), Some("memory"));
    assert_eq!(store.get("c", "k").await.unwrap(), Some(v(1)));
    // A huge key can make an entry too large even with a small value.
    let err = store
        .put("c", &"k".repeat(5000), v(2), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValueTooLarge);
}

#[tokio::test]
async fn sweeper_removes_expired_entries_without_reads() {
    let store = MemoryStore::builder()
        .sweep_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    for i in 0..100 {
        store
            .put("c", &format!("k{i}"), v(i), Some(Duration::from_millis(30)))
            .await
            .unwrap();
    }
    store.put("c", "live", v(0), None).await.unwrap();
    assert_eq!(store.len(), 101);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.len(), 1, "the sweeper left {} entries", store.len());
}

#[test]
fn sweeper_outside_a_runtime_is_a_config_error() {
    let err = MemoryStore::builder()
        .sweep_interval(Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn zero_limits_are_config_errors() {
    for builder in [
        MemoryStore::builder().max_entries(0),
        MemoryStore::builder().max_bytes(0),
        MemoryStore::builder().max_value_len(0),
        MemoryStore::builder().shards(0),
    ] {
        assert_eq!(builder.build().unwrap_err().kind(), ErrorKind::Config);
    }
}

#[tokio::test]
async fn cull_counts_and_frees() {
    let store = MemoryStore::new();
    for i in 0..10 {
        store
            .put("c", &format!("k{i}"), v(i), Some(Duration::from_millis(20)))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(store.len(), 10);
    assert_eq!(store.cull().await.unwrap(), 10);
    assert_eq!(store.len(), 0);
    assert_eq!(store.bytes(), 0);
}
