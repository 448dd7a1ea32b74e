//! Deletes and their return values.

use serde_json::json;

use crate::testkit::{Store, assert_same, obj, unique};

/// Deleting a live key returns `true` and removes it.
pub async fn delete_existing_returns_true(store: Store) {
    let c = unique("del");
    store
        .put(&c, "k", obj(json!({"a": 1})), None)
        .await
        .unwrap();
    assert!(store.delete(&c, "k").await.unwrap());
    assert_eq!(store.get(&c, "k").await.unwrap(), None);
    assert!(store.ttl(&c, "k").await.unwrap().is_none());
}

/// Deleting a key never written returns `false`.
pub async fn delete_missing_returns_false(store: Store) {
    let c = unique("del");
    assert!(!store.delete(&c, "never").await.unwrap());
}

/// The second delete of one key returns `false`.
pub async fn delete_twice(store: Store) {
    let c = unique("del");
    store
        .put(&c, "k", obj(json!({"a": 1})), None)
        .await
        .unwrap();
    assert!(store.delete(&c, "k").await.unwrap());
    assert!(!store.delete(&c, "k").await.unwrap());
}

/// `delete_many` counts only the keys that held live entries.
pub async fn delete_many_counts_live_entries(store: Store) {
    let c = unique("del");
    for k in ["a", "b", "c"] {
        store.put(&c, k, obj(json!({"k": k})), None).await.unwrap();
    }
    let removed = store.delete_many(&c, &["a", "missing", "c"]).await.unwrap();
    assert_eq!(removed, 2);
    let got = store.get_many(&c, &["a", "b", "c"]).await.unwrap();
    assert!(got[0].is_none() && got[1].is_some() && got[2].is_none());
    assert_eq!(store.delete_many(&c, &["a", "c"]).await.unwrap(), 0);
}

/// `delete_many` of no keys removes nothing.
pub async fn delete_many_of_nothing_is_zero(store: Store) {
    let c = unique("del");
    store
        .put(&c, "k", obj(json!({"a": 1})), None)
        .await
        .unwrap();
    assert_eq!(store.delete_many(&c, &[]).await.unwrap(), 0);
    assert!(store.get(&c, "k").await.unwrap().is_some());
}

/// A delete touches only its own key in its own collection.
pub async fn delete_leaves_other_keys(store: Store) {
    let (c, d) = (unique("del"), unique("del-other"));
    let v = obj(json!({"keep": true}));
    store.put(&c, "gone", v.clone(), None).await.unwrap();
    store.put(&c, "kept", v.clone(), None).await.unwrap();
    store.put(&d, "gone", v.clone(), None).await.unwrap();
    assert!(store.delete(&c, "gone").await.unwrap());
    assert_same(store.get(&c, "kept").await.unwrap().as_ref(), &v);
    assert_same(store.get(&d, "gone").await.unwrap().as_ref(), &v);
}
