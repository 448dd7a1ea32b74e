//! Optional capabilities: enumeration, destroy and cull, tested when declared and checked to say
//! `Unsupported` when not.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::error::ErrorKind;
use crate::testkit::{Store, assert_kind, assert_same, obj, unique};
use crate::value::Value;

/// `keys` lists every live key, past any page size, and nothing else.
pub async fn keys_lists_every_key(store: Store) {
    let c = unique("enum");
    if !store.capabilities().keys {
        return assert_kind(store.keys(&c).await, ErrorKind::Unsupported);
    }
    let keys: Vec<String> = (0..1200).map(|i| format!("key-{i}")).collect();
    let entries: Vec<(&str, Value)> = keys.iter().map(|k| (k.as_str(), obj(json!({})))).collect();
    store.put_many(&c, &entries, None).await.unwrap();
    store
        .put(&unique("enum-other"), "stranger", obj(json!({})), None)
        .await
        .unwrap();
    assert!(store.delete(&c, "key-0").await.unwrap());
    let listed: BTreeSet<String> = store.keys(&c).await.unwrap().into_iter().collect();
    let expected: BTreeSet<String> = keys[1..].iter().cloned().collect();
    assert_eq!(listed.len(), 1199);
    assert_eq!(listed, expected);
}

/// `keys` of a collection never written is empty.
pub async fn keys_of_unknown_collection_is_empty(store: Store) {
    let c = unique("enum");
    if store.capabilities().keys {
        assert!(store.keys(&c).await.unwrap().is_empty());
    } else {
        assert_kind(store.keys(&c).await, ErrorKind::Unsupported);
    }
}

/// `collections` lists the collections holding keys.
pub async fn collections_lists_collections(store: Store) {
    if !store.capabilities().collections {
        return assert_kind(store.collections().await, ErrorKind::Unsupported);
    }
    let (a, b) = (unique("coll-a"), unique("coll-b"));
    store.put(&a, "k", obj(json!({})), None).await.unwrap();
    store.put(&b, "k", obj(json!({})), None).await.unwrap();
    let listed = store.collections().await.unwrap();
    assert!(listed.contains(&a) && listed.contains(&b), "{listed:?}");
    assert_eq!(
        listed.iter().filter(|c| **c == a).count(),
        1,
        "listed twice"
    );
    store.delete(&b, "k").await.unwrap();
    let listed = store.collections().await.unwrap();
    assert!(listed.contains(&a));
}

/// `destroy_collection` empties one collection and leaves the others.
pub async fn destroy_collection_removes_only_it(store: Store) {
    let (a, b) = (unique("destroy-a"), unique("destroy-b"));
    if !store.capabilities().destroy_collection {
        return assert_kind(store.destroy_collection(&a).await, ErrorKind::Unsupported);
    }
    let v = obj(json!({"v": 1}));
    store
        .put_many(&a, &[("x", v.clone()), ("y", v.clone())], None)
        .await
        .unwrap();
    store.put(&b, "x", v.clone(), None).await.unwrap();
    assert!(store.destroy_collection(&a).await.unwrap());
    assert!(
        store
            .get_many(&a, &["x", "y"])
            .await
            .unwrap()
            .iter()
            .all(Option::is_none)
    );
    assert_same(store.get(&b, "x").await.unwrap().as_ref(), &v);
    assert!(
        !store.destroy_collection(&a).await.unwrap(),
        "second destroy finds nothing"
    );
    if store.capabilities().collections {
        assert!(!store.collections().await.unwrap().contains(&a));
    }
    // The collection is usable again.
    store.put(&a, "x", v.clone(), None).await.unwrap();
    assert_same(store.get(&a, "x").await.unwrap().as_ref(), &v);
}

/// `destroy` removes everything the store holds.
pub async fn destroy_removes_everything(store: Store) {
    if !store.capabilities().destroy {
        return assert_kind(store.destroy().await, ErrorKind::Unsupported);
    }
    let (a, b) = (unique("all-a"), unique("all-b"));
    store.put(&a, "x", obj(json!({})), None).await.unwrap();
    store
        .put(&b, "y", obj(json!({})), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(store.destroy().await.unwrap());
    assert_eq!(store.get(&a, "x").await.unwrap(), None);
    assert_eq!(store.get(&b, "y").await.unwrap(), None);
    if store.capabilities().collections {
        assert!(store.collections().await.unwrap().is_empty());
    }
    store
        .put(&a, "x", obj(json!({"again": true})), None)
        .await
        .unwrap();
    assert!(store.get(&a, "x").await.unwrap().is_some());
}

/// `cull` removes expired entries and keeps live ones.
pub async fn cull_removes_expired_entries(store: Store) {
    if !store.capabilities().cull {
        return assert_kind(store.cull().await, ErrorKind::Unsupported);
    }
    let c = unique("cull");
    let live = obj(json!({"live": true}));
    let short: Vec<String> = (0..5).map(|i| format!("short-{i}")).collect();
    let entries: Vec<(&str, Value)> = short.iter().map(|k| (k.as_str(), obj(json!({})))).collect();
    store
        .put_many(&c, &entries, Some(Duration::from_millis(200)))
        .await
        .unwrap();
    store.put(&c, "live", live.clone(), None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let removed = store.cull().await.unwrap();
    assert!(removed <= 5 + 1_000_000, "{removed}");
    assert_same(store.get(&c, "live").await.unwrap().as_ref(), &live);
    if store.capabilities().keys {
        assert_eq!(store.keys(&c).await.unwrap(), vec!["live".to_string()]);
    }
    assert_eq!(
        store.cull().await.unwrap(),
        0,
        "a second cull finds nothing"
    );
}

/// Every capability the store does not declare answers `Unsupported`, and every declared one
/// answers without that error.
pub async fn missing_capabilities_say_unsupported(store: Store) {
    let caps = store.capabilities();
    let c = unique("caps");
    let probe = store.put_if_absent(&c, "probe", obj(json!({})), None);
    let checks = [
        (caps.put_if_absent, probe.await.err()),
        (caps.keys, store.keys(&c).await.err()),
        (caps.collections, store.collections().await.err()),
        (
            caps.destroy_collection,
            store.destroy_collection(&c).await.err(),
        ),
        (caps.cull, store.cull().await.err()),
    ];
    for (i, (declared, err)) in checks.into_iter().enumerate() {
        let unsupported = err
            .as_ref()
            .is_some_and(|e| e.kind() == ErrorKind::Unsupported);
        assert_eq!(
            !declared, unsupported,
            "capability #{i}: declared {declared}, got {err:?}"
        );
    }
    if !caps.destroy {
        assert_kind(store.destroy().await, ErrorKind::Unsupported);
    }
}
