//! Batch operations: order, misses, duplicates, sizes past backend batch limits.

use serde_json::json;

use crate::testkit::{Store, assert_same, obj, unique};
use crate::value::Value;

/// `get_many` answers in the order asked, `None` for misses.
pub async fn get_many_keeps_order_and_misses(store: Store) {
    let c = unique("batch");
    let (a, b) = (obj(json!({"k": "a"})), obj(json!({"k": "b"})));
    store.put(&c, "a", a.clone(), None).await.unwrap();
    store.put(&c, "b", b.clone(), None).await.unwrap();
    let got = store.get_many(&c, &["b", "missing", "a"]).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_same(got[0].as_ref(), &b);
    assert_eq!(got[1], None);
    assert_same(got[2].as_ref(), &a);
}

/// `get_many` of no keys is an empty list.
pub async fn get_many_of_nothing_is_empty(store: Store) {
    let c = unique("batch");
    assert!(store.get_many(&c, &[]).await.unwrap().is_empty());
    assert!(store.ttl_many(&c, &[]).await.unwrap().is_empty());
}

/// A key asked for twice is answered twice.
pub async fn get_many_repeated_key(store: Store) {
    let c = unique("batch");
    let v = obj(json!({"x": 1}));
    store.put(&c, "a", v.clone(), None).await.unwrap();
    let got = store.get_many(&c, &["a", "a"]).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_same(got[0].as_ref(), &v);
    assert_same(got[1].as_ref(), &v);
}

/// What `put_many` writes, `get_many` and `get` read.
pub async fn put_many_then_get_many(store: Store) {
    let c = unique("batch");
    let entries: Vec<(String, Value)> = (0..10)
        .map(|i| (format!("k{i}"), obj(json!({"i": i}))))
        .collect();
    let refs: Vec<(&str, Value)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    store.put_many(&c, &refs, None).await.unwrap();
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let got = store.get_many(&c, &keys).await.unwrap();
    for ((_, v), g) in entries.iter().zip(&got) {
        assert_same(g.as_ref(), v);
    }
    assert_same(store.get(&c, "k7").await.unwrap().as_ref(), &entries[7].1);
}

/// `put_many` of no entries succeeds and writes nothing.
pub async fn put_many_of_nothing_is_ok(store: Store) {
    let c = unique("batch");
    store.put_many(&c, &[], None).await.unwrap();
    assert_eq!(store.get(&c, "anything").await.unwrap(), None);
}

/// When a key repeats in one `put_many`, the last pair wins.
pub async fn put_many_last_duplicate_wins(store: Store) {
    let c = unique("batch");
    let last = obj(json!({"v": "last"}));
    store
        .put_many(
            &c,
            &[("k", obj(json!({"v": "first"}))), ("k", last.clone())],
            None,
        )
        .await
        .unwrap();
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &last);
}

/// `ttl_many` keeps order and reports misses.
pub async fn ttl_many_keeps_order_and_misses(store: Store) {
    let c = unique("batch");
    let v = obj(json!({"v": 1}));
    store.put(&c, "a", v.clone(), None).await.unwrap();
    let got = store.ttl_many(&c, &["missing", "a"]).await.unwrap();
    assert_eq!(got.len(), 2);
    assert!(got[0].is_none());
    let entry = got[1].as_ref().expect("entry for a");
    assert_same(Some(&entry.value), &v);
    assert_eq!(entry.expires_at, None);
}

/// Batches of 250 (past DynamoDB's 25-write and 100-read limits) round-trip completely.
pub async fn large_batches_round_trip(store: Store) {
    let c = unique("batch");
    let keys: Vec<String> = (0..250).map(|i| format!("key-{i:03}")).collect();
    let entries: Vec<(&str, Value)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), obj(json!({"i": i}))))
        .collect();
    store.put_many(&c, &entries, None).await.unwrap();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let got = store.get_many(&c, &refs).await.unwrap();
    assert_eq!(got.len(), 250);
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.as_ref().expect("hit").to_map()["i"], i, "key {i}");
    }
    assert_eq!(store.delete_many(&c, &refs).await.unwrap(), 250);
    assert!(
        store
            .get_many(&c, &refs)
            .await
            .unwrap()
            .iter()
            .all(Option::is_none)
    );
}
