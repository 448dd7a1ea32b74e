//! TTLs: remaining time, metadata and expiry.

use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::testkit::{EXPIRY_WAIT, SHORT_TTL, Store, assert_same, obj, unique};

/// Without a TTL an entry has no expiry, and `ttl` says so.
pub async fn no_ttl_never_expires(store: Store) {
    let c = unique("ttl");
    store
        .put(&c, "k", obj(json!({"a": 1})), None)
        .await
        .unwrap();
    let entry = store.ttl(&c, "k").await.unwrap().expect("entry");
    assert_eq!(entry.expires_at, None);
    assert_eq!(entry.remaining_ttl(), None);
}

/// The remaining TTL is positive and no more than what was set.
pub async fn ttl_remaining_is_within_bounds(store: Store) {
    let c = unique("ttl");
    let set = Duration::from_secs(100);
    let v = obj(json!({"a": 1}));
    store.put(&c, "k", v.clone(), Some(set)).await.unwrap();
    let entry = store.ttl(&c, "k").await.unwrap().expect("entry");
    assert_same(Some(&entry.value), &v);
    let left = entry.remaining_ttl().expect("a remaining TTL");
    assert!(left <= set, "remaining {left:?} exceeds the {set:?} set");
    assert!(
        left > Duration::from_secs(90),
        "remaining {left:?} is far below {set:?}"
    );
}

/// `ttl` of a key never written is `None`.
pub async fn ttl_of_missing_is_none(store: Store) {
    let c = unique("ttl");
    assert!(store.ttl(&c, "absent").await.unwrap().is_none());
}

/// `created_at`, when recorded, is about now, and `expires_at` is `created_at + ttl`.
pub async fn entry_metadata_is_consistent(store: Store) {
    let c = unique("ttl");
    let before = SystemTime::now() - Duration::from_secs(2);
    let ttl = Duration::from_secs(300);
    store
        .put(&c, "k", obj(json!({"a": 1})), Some(ttl))
        .await
        .unwrap();
    let after = SystemTime::now() + Duration::from_secs(2);
    let entry = store.ttl(&c, "k").await.unwrap().expect("entry");
    let expires = entry.expires_at.expect("expires_at");
    assert!(
        expires > before + ttl && expires < after + ttl,
        "expires_at {expires:?}"
    );
    if let Some(created) = entry.created_at {
        assert!(
            created > before && created < after,
            "created_at {created:?}"
        );
        let span = expires
            .duration_since(created)
            .expect("expires after created");
        assert!(span.abs_diff(ttl) < Duration::from_secs(1), "span {span:?}");
    }
}

/// After its TTL, an entry is gone from `get`, `get_many`, `ttl`, `ttl_many` and `keys`, while an
/// entry without TTL stays.
pub async fn entries_expire_for_every_read(store: Store) {
    let c = unique("ttl");
    let keep = obj(json!({"keep": true}));
    store
        .put(&c, "short", obj(json!({"a": 1})), Some(SHORT_TTL))
        .await
        .unwrap();
    store.put(&c, "keep", keep.clone(), None).await.unwrap();
    assert!(
        store.get(&c, "short").await.unwrap().is_some(),
        "alive before its TTL"
    );
    tokio::time::sleep(EXPIRY_WAIT).await;
    assert_eq!(store.get(&c, "short").await.unwrap(), None);
    assert_eq!(
        store.get_many(&c, &["short", "keep"]).await.unwrap()[0],
        None
    );
    assert!(store.ttl(&c, "short").await.unwrap().is_none());
    assert!(store.ttl_many(&c, &["short"]).await.unwrap()[0].is_none());
    if store.capabilities().keys {
        assert_eq!(store.keys(&c).await.unwrap(), vec!["keep".to_string()]);
    }
    assert_same(store.get(&c, "keep").await.unwrap().as_ref(), &keep);
}

/// One TTL applies to every entry of a `put_many`.
pub async fn put_many_ttl_applies_to_every_entry(store: Store) {
    let c = unique("ttl");
    let entries = [("a", obj(json!({"a": 1}))), ("b", obj(json!({"b": 2})))];
    store.put_many(&c, &entries, Some(SHORT_TTL)).await.unwrap();
    let got = store.ttl_many(&c, &["a", "b"]).await.unwrap();
    for e in &got {
        let left = e.as_ref().expect("entry").remaining_ttl().expect("ttl");
        assert!(left <= SHORT_TTL);
    }
    tokio::time::sleep(EXPIRY_WAIT).await;
    assert!(
        store
            .get_many(&c, &["a", "b"])
            .await
            .unwrap()
            .iter()
            .all(Option::is_none)
    );
}

/// Overwriting with no TTL removes the earlier expiry.
pub async fn overwrite_without_ttl_clears_expiry(store: Store) {
    let c = unique("ttl");
    store
        .put(&c, "k", obj(json!({"v": 1})), Some(SHORT_TTL))
        .await
        .unwrap();
    let v2 = obj(json!({"v": 2}));
    store.put(&c, "k", v2.clone(), None).await.unwrap();
    assert_eq!(
        store.ttl(&c, "k").await.unwrap().expect("entry").expires_at,
        None
    );
    tokio::time::sleep(EXPIRY_WAIT).await;
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &v2);
}

/// Overwriting with a TTL makes a permanent entry expire.
pub async fn overwrite_with_ttl_adds_expiry(store: Store) {
    let c = unique("ttl");
    store
        .put(&c, "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    store
        .put(&c, "k", obj(json!({"v": 2})), Some(SHORT_TTL))
        .await
        .unwrap();
    tokio::time::sleep(EXPIRY_WAIT).await;
    assert_eq!(store.get(&c, "k").await.unwrap(), None);
}

/// A key whose entry expired can be written and read again.
pub async fn expired_key_can_be_written_again(store: Store) {
    let c = unique("ttl");
    store
        .put(&c, "k", obj(json!({"v": 1})), Some(SHORT_TTL))
        .await
        .unwrap();
    tokio::time::sleep(EXPIRY_WAIT).await;
    let v = obj(json!({"v": "again"}));
    store.put(&c, "k", v.clone(), None).await.unwrap();
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &v);
}

/// A TTL below one second is honoured, not rounded up to a whole second.
pub async fn subsecond_ttl_expires(store: Store) {
    let c = unique("ttl");
    store
        .put(
            &c,
            "k",
            obj(json!({"v": 1})),
            Some(Duration::from_millis(250)),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(store.get(&c, "k").await.unwrap(), None);
}
