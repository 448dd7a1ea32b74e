//! Single-key round trips.

use serde_json::json;

use crate::testkit::{Store, assert_same, obj, unique};

/// A value put under a key is read back unchanged.
pub async fn put_then_get_round_trips(store: Store) {
    let c = unique("basic");
    let v = obj(json!({"name": "alice", "n": 1}));
    store.put(&c, "k", v.clone(), None).await.unwrap();
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &v);
}

/// Reading a key never written gives `None`, not an error.
pub async fn get_missing_is_none(store: Store) {
    let c = unique("basic");
    assert_eq!(store.get(&c, "absent").await.unwrap(), None);
}

/// A second put replaces the first value.
pub async fn put_overwrites(store: Store) {
    let c = unique("basic");
    store
        .put(&c, "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    let v2 = obj(json!({"v": 2}));
    store.put(&c, "k", v2.clone(), None).await.unwrap();
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &v2);
}

/// The same key in two collections holds two values.
pub async fn collections_are_isolated(store: Store) {
    let (a, b) = (unique("iso-a"), unique("iso-b"));
    let (va, vb) = (obj(json!({"in": "a"})), obj(json!({"in": "b"})));
    store.put(&a, "k", va.clone(), None).await.unwrap();
    store.put(&b, "k", vb.clone(), None).await.unwrap();
    assert_same(store.get(&a, "k").await.unwrap().as_ref(), &va);
    assert_same(store.get(&b, "k").await.unwrap().as_ref(), &vb);
    assert!(store.delete(&a, "k").await.unwrap());
    assert_same(store.get(&b, "k").await.unwrap().as_ref(), &vb);
}

/// Keys differing only in case are different keys.
pub async fn keys_are_case_sensitive(store: Store) {
    let c = unique("case");
    store
        .put(&c, "Key", obj(json!({"v": "upper"})), None)
        .await
        .unwrap();
    store
        .put(&c, "key", obj(json!({"v": "lower"})), None)
        .await
        .unwrap();
    assert_eq!(
        store.get(&c, "Key").await.unwrap().unwrap().to_map()["v"],
        "upper"
    );
    assert_eq!(
        store.get(&c, "key").await.unwrap().unwrap().to_map()["v"],
        "lower"
    );
}
