//! What each remaining wrapper changes: read-only, prefixes, single collection, size limits,
//! routing, default values, TTL rules, statistics, compression thresholds and logging.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use stowage_core::testkit::{assert_kind, obj};
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::compression::CompressionLayer;
use stowage_wrappers::default_value::DefaultValueLayer;
use stowage_wrappers::logging::LoggingLayer;
use stowage_wrappers::prefix::{CollectionPrefixLayer, KeyPrefixLayer};
use stowage_wrappers::read_only::ReadOnlyLayer;
use stowage_wrappers::routing::RoutingLayer;
use stowage_wrappers::single_collection::SingleCollectionLayer;
use stowage_wrappers::size_limit::{Action, SizeLimitLayer};
use stowage_wrappers::stats::StatsLayer;
use stowage_wrappers::ttl::TtlLayer;

#[tokio::test]
async fn read_only_refuses_every_write_and_changes_nothing() {
    let raw = MemoryStore::new();
    raw.put("c", "k", obj(json!({"v": 1})), None).await.unwrap();
    let switch = ReadOnlyLayer::new();
    let store = raw.clone().layer(switch.clone());
    assert!(store.get("c", "k").await.unwrap().is_some());
    assert_eq!(store.keys("c").await.unwrap(), vec!["k".to_string()]);
    assert_kind(
        store.put("c", "k", obj(json!({"v": 2})), None).await,
        ErrorKind::ReadOnly,
    );
    assert_kind(
        store.put_many("c", &[("n", obj(json!({})))], None).await,
        ErrorKind::ReadOnly,
    );
    assert_kind(store.delete("c", "k").await, ErrorKind::ReadOnly);
    assert_kind(store.delete_many("c", &["k"]).await, ErrorKind::ReadOnly);
    assert_kind(store.destroy_collection("c").await, ErrorKind::ReadOnly);
    assert_kind(store.destroy().await, ErrorKind::ReadOnly);
    assert_kind(store.cull().await, ErrorKind::ReadOnly);
    assert_eq!(raw.get("c", "k").await.unwrap().unwrap().to_map()["v"], 1);
    assert_eq!(raw.get("c", "n").await.unwrap(), None);

    let silent = raw.clone().layer(ReadOnlyLayer::silent());
    silent
        .put("c", "k", obj(json!({"v": 3})), None)
        .await
        .unwrap();
    assert!(!silent.delete("c", "k").await.unwrap());
    assert_eq!(raw.get("c", "k").await.unwrap().unwrap().to_map()["v"], 1);

    switch.set_enabled(false);
    store
        .put("c", "k", obj(json!({"v": 4})), None)
        .await
        .unwrap();
    assert_eq!(raw.get("c", "k").await.unwrap().unwrap().to_map()["v"], 4);
}

#[tokio::test]
async fn prefixes_isolate_tenants() {
    let raw = MemoryStore::new();
    let a = raw.clone().layer(KeyPrefixLayer::new("a").unwrap());
    let b = raw.clone().layer(KeyPrefixLayer::new("b").unwrap());
    a.put("c", "k", obj(json!({"t": "a"})), None).await.unwrap();
    b.put("c", "k", obj(json!({"t": "b"})), None).await.unwrap();
    raw.put("c", "plain", obj(json!({})), None).await.unwrap();
    assert_eq!(a.get("c", "k").await.unwrap().unwrap().to_map()["t"], "a");
    assert_eq!(a.keys("c").await.unwrap(), vec!["k".to_string()]);
    assert!(a.destroy().await.unwrap());
    assert!(b.get("c", "k").await.unwrap().is_some());
    assert!(raw.get("c", "plain").await.unwrap().is_some());
    assert_kind(a.get("c", "").await, ErrorKind::InvalidKey);

    let t1 = raw.clone().layer(CollectionPrefixLayer::new("t1").unwrap());
    let t2 = raw.clone().layer(CollectionPrefixLayer::new("t2").unwrap());
    t1.put("tokens", "k", obj(json!({})), None).await.unwrap();
    t2.put("tokens", "k", obj(json!({})), None).await.unwrap();
    assert!(raw.get("t1__tokens", "k").await.unwrap().is_some());
    assert_eq!(t1.collections().await.unwrap(), vec!["tokens".to_string()]);
    assert!(t1.destroy().await.unwrap());
    assert!(t2.get("tokens", "k").await.unwrap().is_some());
    assert_kind(t1.get("", "k").await, ErrorKind::InvalidCollection);
    assert_kind(CollectionPrefixLayer::new("a::b"), ErrorKind::Config);
    assert_kind(KeyPrefixLayer::new(""), ErrorKind::Config);
}

#[tokio::test]
async fn single_collection_layout_matches_python_and_refuses_ambiguity() {
    let raw = MemoryStore::new();
    let store = raw.clone().layer(SingleCollectionLayer::new("kv").unwrap());
    store
        .put("users", "alice", obj(json!({})), None)
        .await
        .unwrap();
    store
        .put("tokens", "a__b", obj(json!({})), None)
        .await
        .unwrap();
    assert!(raw.get("kv", "users__alice").await.unwrap().is_some());
    assert!(raw.get("kv", "tokens__a__b").await.unwrap().is_some());
    let mut collections = store.collections().await.unwrap();
    collections.sort();
    assert_eq!(collections, vec!["tokens", "users"]);
    assert_eq!(
        store.keys("tokens").await.unwrap(),
        vec!["a__b".to_string()]
    );
    assert_kind(
        store.put("a__b", "c", obj(json!({})), None).await,
        ErrorKind::InvalidCollection,
    );
    assert!(store.destroy_collection("users").await.unwrap());
    assert!(store.get("tokens", "a__b").await.unwrap().is_some());
}

#[tokio::test]
async fn size_limits_reject_or_skip() {
    let big = obj(json!({"blob": "x".repeat(200)}));
    let small = obj(json!({}));
    let rejecting = MemoryStore::new().layer(SizeLimitLayer::new().max(100, Action::Reject));
    assert_eq!(rejecting.capabilities().max_value_len, Some(100));
    assert_kind(
        rejecting.put("c", "k", big.clone(), None).await,
        ErrorKind::ValueTooLarge,
    );
    assert_kind(
        rejecting
            .put_many("c", &[("a", small.clone()), ("b", big.clone())], None)
            .await,
        ErrorKind::ValueTooLarge,
    );
    assert_eq!(rejecting.get("c", "a").await.unwrap(), None);

    let skipping = MemoryStore::new().layer(
        SizeLimitLayer::new()
            .max(100, Action::Skip)
            .min(5, Action::Skip),
    );
    skipping
        .put_many(
            "c",
            &[
                ("a", obj(json!({"ok": 1}))),
                ("b", big.clone()),
                ("s", small),
            ],
            None,
        )
        .await
        .unwrap();
    let got = skipping.get_many("c", &["a", "b", "s"]).await.unwrap();
    assert!(got[0].is_some() && got[1].is_none() && got[2].is_none());
    // Skipping never hides bad input.
    assert_kind(
        skipping.put("c", "", big.clone(), None).await,
        ErrorKind::InvalidKey,
    );
    assert_kind(
        skipping.put("c", "k", big, Some(Duration::ZERO)).await,
        ErrorKind::InvalidTtl,
    );
}

#[tokio::test]
async fn routing_sends_collections_to_their_stores() {
    let sessions = MemoryStore::new();
    let caches = MemoryStore::new();
    let default = MemoryStore::new();
    let store = default.clone().layer(
        RoutingLayer::new()
            .route("sessions", sessions.clone())
            .route_prefix("cache-", caches.clone()),
    );
    store
        .put("sessions", "s", obj(json!({})), None)
        .await
        .unwrap();
    store
        .put("cache-tools", "t", obj(json!({})), None)
        .await
        .unwrap();
    store.put("other", "o", obj(json!({})), None).await.unwrap();
    assert!(sessions.get("sessions", "s").await.unwrap().is_some());
    assert!(caches.get("cache-tools", "t").await.unwrap().is_some());
    assert!(default.get("other", "o").await.unwrap().is_some());
    assert!(default.get("sessions", "s").await.unwrap().is_none());
    // A collection living in a store it is not routed to stays invisible.
    sessions
        .put("stray", "x", obj(json!({})), None)
        .await
        .unwrap();
    let mut all = store.collections().await.unwrap();
    all.sort();
    assert_eq!(all, vec!["cache-tools", "other", "sessions"]);
    assert!(store.destroy().await.unwrap());
    assert!(
        sessions.get("stray", "x").await.unwrap().is_some(),
        "not ours"
    );
    assert!(store.collections().await.unwrap().is_empty());
}

#[tokio::test]
async fn defaults_fill_misses_without_being_stored() {
    let raw = MemoryStore::new();
    let d = Value::from_json(r#"{"theme":"light"}"#).unwrap();
    let store = raw.clone().layer(
        DefaultValueLayer::new()
            .for_collection("settings", d.clone())
            .for_all(obj(json!({"any": true})))
            .ttl(Duration::from_secs(30)),
    );
    assert_eq!(store.get("settings", "u").await.unwrap(), Some(d.clone()));
    assert_eq!(
        store.get("x", "u").await.unwrap().unwrap().to_map()["any"],
        true
    );
    let e = store.ttl("settings", "u").await.unwrap().unwrap();
    assert_eq!(e.value, d);
    assert!(e.remaining_ttl().unwrap() <= Duration::from_secs(30));
    assert_eq!(
        store.get_many("settings", &["a", "b"]).await.unwrap(),
        vec![Some(d.clone()), Some(d)]
    );
    assert!(raw.get("settings", "u").await.unwrap().is_none());
    store
        .put("settings", "u", obj(json!({"theme": "dark"})), None)
        .await
        .unwrap();
    assert_eq!(
        store.get("settings", "u").await.unwrap().unwrap().to_map()["theme"],
        "dark"
    );
}

#[tokio::test]
async fn ttl_layer_defaults_and_clamps_writes() {
    let store = MemoryStore::new().layer(
        TtlLayer::builder()
            .default_ttl(Duration::from_secs(100))
            .min(Duration::from_secs(10))
            .max(Duration::from_secs(1000))
            .build()
            .unwrap(),
    );
    let left = |e: Option<stowage_core::Entry>| e.unwrap().remaining_ttl().unwrap();
    store.put("c", "none", obj(json!({})), None).await.unwrap();
    store
        .put("c", "short", obj(json!({})), Some(Duration::from_millis(5)))
        .await
        .unwrap();
    store
        .put_many(
            "c",
            &[("long", obj(json!({})))],
            Some(Duration::from_secs(99_999)),
        )
        .await
        .unwrap();
    let n = left(store.ttl("c", "none").await.unwrap());
    assert!(n > Duration::from_secs(95) && n <= Duration::from_secs(100));
    let s = left(store.ttl("c", "short").await.unwrap());
    assert!(s > Duration::from_secs(5) && s <= Duration::from_secs(10));
    let l = left(store.ttl("c", "long").await.unwrap());
    assert!(l > Duration::from_secs(995) && l <= Duration::from_secs(1000));
    assert_kind(
        store
            .put("c", "z", obj(json!({})), Some(Duration::ZERO))
            .await,
        ErrorKind::InvalidTtl,
    );
}

#[tokio::test]
async fn statistics_count_per_collection() {
    let stats = StatsLayer::new();
    let store = MemoryStore::new().layer(stats.clone());
    store
        .put_many("a", &[("1", obj(json!({}))), ("2", obj(json!({})))], None)
        .await
        .unwrap();
    store.get("a", "1").await.unwrap();
    store.get_many("a", &["1", "2", "3"]).await.unwrap();
    store.ttl("a", "9").await.unwrap();
    store.delete_many("a", &["1", "9"]).await.unwrap();
    store.get("b", "x").await.unwrap();
    let _ = store.get("b", "").await;
    let a = stats.collection("a");
    assert_eq!(
        (a.hits, a.misses, a.puts, a.deletes, a.deleted, a.errors),
        (3, 2, 2, 2, 1, 0)
    );
    let b = stats.collection("b");
    assert_eq!((b.hits, b.misses, b.errors), (0, 1, 1));
    assert_eq!(stats.totals().misses, 3);
    assert_eq!(a.hit_ratio(), Some(0.6));
    stats.reset();
    assert_eq!(stats.totals(), Default::default());
}

#[tokio::test]
async fn compression_only_above_the_threshold_and_reads_plain_values() {
    let raw = MemoryStore::new();
    let store = raw
        .clone()
        .layer(CompressionLayer::builder().min_size(100).build());
    let small = obj(json!({"a": "short"}));
    let big = obj(json!({"a": "y".repeat(5000)}));
    let noise: String = (0..300)
        .map(|i| char::from(b'!' + ((i * 7919) % 90) as u8))
        .collect();
    let incompressible = obj(json!({"a": noise}));
    store.put("c", "small", small.clone(), None).await.unwrap();
    store.put("c", "big", big.clone(), None).await.unwrap();
    store
        .put("c", "noise", incompressible.clone(), None)
        .await
        .unwrap();
    assert_eq!(raw.get("c", "small").await.unwrap(), Some(small));
    assert!(
        raw.get("c", "big")
            .await
            .unwrap()
            .unwrap()
            .to_map()
            .contains_key("__compressed_data__")
    );
    assert_eq!(store.get("c", "big").await.unwrap(), Some(big));
    assert_eq!(store.get("c", "noise").await.unwrap(), Some(incompressible));
    // A value that looks like an envelope round-trips too.
    let tricky = obj(json!({"__compressed_data__": "not really"}));
    store
        .put("c", "tricky", tricky.clone(), None)
        .await
        .unwrap();
    assert_eq!(store.get("c", "tricky").await.unwrap(), Some(tricky));
    // A damaged envelope is a typed error.
    raw.put(
        "c",
        "bad",
        obj(json!({"__compressed_data__": "H4sI", "__compression_version__": 1, "__compression_algorithm__": "gzip"})),
        None,
    )
    .await
    .unwrap();
    assert_kind(store.get("c", "bad").await, ErrorKind::Corrupted);
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logging_hides_values_unless_asked() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let store = MemoryStore::new().layer(LoggingLayer::new());
    store
        .put(
            "tokens",
            "alice",
            obj(json!({"secret": "s3cr3t-value"})),
            None,
        )
        .await
        .unwrap();
    store.get("tokens", "alice").await.unwrap();
    let _ = store.get("tokens", "").await;
    let hidden_keys = MemoryStore::new().layer(LoggingLayer::new().log_keys(false));
    hidden_keys
        .get("tokens", "key-that-is-a-secret")
        .await
        .unwrap();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("op=\"put\"") || text.contains("op=put"),
        "{text}"
    );
    assert!(text.contains("alice"));
    assert!(text.contains("hit"));
    assert!(text.contains("WARN"), "failures are warnings: {text}");
    assert!(!text.contains("s3cr3t-value"), "{text}");
    assert!(!text.contains("key-that-is-a-secret"), "{text}");

    let shown = MemoryStore::new().layer(LoggingLayer::new().log_values(true));
    shown
        .put("tokens", "bob", obj(json!({"visible": "v4lue"})), None)
        .await
        .unwrap();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("v4lue"), "{text}");
}

/// As in py-key-value-aio 0.5: the default TTL of writes without one is clamped like any other.
#[tokio::test]
async fn ttl_clamp_applies_to_the_default_ttl() {
    let store = MemoryStore::new().layer(
        TtlLayer::builder()
            .default_ttl(Duration::from_secs(3600))
            .max(Duration::from_secs(60))
            .build()
            .unwrap(),
    );
    store
        .put("c", "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    let entry = store.ttl("c", "k").await.unwrap().unwrap();
    let left = entry.remaining_ttl().expect("the default TTL applies");
    assert!(left <= Duration::from_secs(60), "{left:?}");
}
