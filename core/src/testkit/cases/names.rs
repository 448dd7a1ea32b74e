//! Names and TTL rules: what is accepted, what is refused, and that refusals change nothing.

use std::time::Duration;

use serde_json::json;

use crate::error::ErrorKind;
use crate::rules::{self, MAX_TTL};
use crate::testkit::{Store, assert_kind, assert_same, obj, unique};

/// Keys and collections in any script, with spaces, slashes and punctuation, round-trip.
pub async fn unicode_names_round_trip(store: Store) {
    let collections = [
        unique("コレクション"),
        unique("colección con espacios"),
        unique("a/b.c:d"),
    ];
    let keys = [
        "ключ🔑",
        "with space",
        "slash/and\\back",
        "dots.and:colons",
        "键",
        "🗝️",
    ];
    for c in &collections {
        for (i, k) in keys.iter().enumerate() {
            store
                .put(c, k, obj(json!({"i": i, "c": c})), None)
                .await
                .unwrap();
        }
    }
    for c in &collections {
        for (i, k) in keys.iter().enumerate() {
            let got = store.get(c, k).await.unwrap().expect("hit").to_map();
            assert_eq!(got["i"], i);
            assert_eq!(got["c"], c.as_str());
        }
    }
}

fn long_name(len: usize) -> String {
    // Multi-byte characters, so limits are tested in bytes, padded to the exact length.
    let mut s = "é".repeat(len / 2);
    if s.len() < len {
        s.push('x');
    }
    s
}

/// Keys and collections as long as the store allows (or 1 KiB when unlimited) round-trip.
pub async fn long_names_round_trip(store: Store) {
    let caps = store.capabilities();
    let key = long_name(caps.max_key_len.unwrap_or(1024));
    let suffix = unique("");
    let coll_len = caps
        .max_collection_len
        .unwrap_or(1024)
        .saturating_sub(suffix.len());
    let c = format!("{}{suffix}", long_name(coll_len));
    let v = obj(json!({"long": true}));
    store.put(&c, &key, v.clone(), None).await.unwrap();
    assert_same(store.get(&c, &key).await.unwrap().as_ref(), &v);
    assert!(store.delete(&c, &key).await.unwrap());
}

/// Names one byte past the store's limit are refused and write nothing; without a limit, 16 KiB
/// names work.
pub async fn names_over_the_limit_are_refused(store: Store) {
    let caps = store.capabilities();
    let c = unique("limits");
    let v = obj(json!({"v": 1}));
    match caps.max_key_len {
        Some(max) => {
            let key = "k".repeat(max + 1);
            assert_kind(
                store.put(&c, &key, v.clone(), None).await,
                ErrorKind::InvalidKey,
            );
            assert_kind(store.get(&c, &key).await, ErrorKind::InvalidKey);
            assert_kind(
                store.put_many(&c, &[(&key, v.clone())], None).await,
                ErrorKind::InvalidKey,
            );
        }
        None => {
            let key = "k".repeat(16 * 1024);
            store.put(&c, &key, v.clone(), None).await.unwrap();
            assert_same(store.get(&c, &key).await.unwrap().as_ref(), &v);
            assert!(store.delete(&c, &key).await.unwrap());
        }
    }
    if let Some(max) = caps.max_collection_len {
        let long = "c".repeat(max + 1);
        assert_kind(
            store.put(&long, "k", v.clone(), None).await,
            ErrorKind::InvalidCollection,
        );
        assert_kind(store.get(&long, "k").await, ErrorKind::InvalidCollection);
    }
    assert_eq!(store.get(&c, "k").await.unwrap(), None);
}

/// An empty key is `InvalidKey` for every operation, and nothing changes.
pub async fn empty_key_is_refused_everywhere(store: Store) {
    let c = unique("names");
    let v = obj(json!({"v": 1}));
    store.put(&c, "present", v.clone(), None).await.unwrap();
    assert_kind(store.get(&c, "").await, ErrorKind::InvalidKey);
    assert_kind(
        store.get_many(&c, &["present", ""]).await,
        ErrorKind::InvalidKey,
    );
    assert_kind(store.ttl(&c, "").await, ErrorKind::InvalidKey);
    assert_kind(store.ttl_many(&c, &[""]).await, ErrorKind::InvalidKey);
    assert_kind(
        store.put(&c, "", v.clone(), None).await,
        ErrorKind::InvalidKey,
    );
    assert_kind(
        store
            .put_many(&c, &[("fresh", v.clone()), ("", v.clone())], None)
            .await,
        ErrorKind::InvalidKey,
    );
    assert_kind(store.delete(&c, "").await, ErrorKind::InvalidKey);
    assert_kind(
        store.delete_many(&c, &["present", ""]).await,
        ErrorKind::InvalidKey,
    );
    assert_same(store.get(&c, "present").await.unwrap().as_ref(), &v);
    assert_eq!(store.get(&c, "fresh").await.unwrap(), None);
}

/// An empty collection is `InvalidCollection` for every operation, and nothing changes.
pub async fn empty_collection_is_refused_everywhere(store: Store) {
    let v = obj(json!({"v": 1}));
    let kinds = ErrorKind::InvalidCollection;
    assert_kind(store.get("", "k").await, kinds);
    assert_kind(store.get_many("", &["k"]).await, kinds);
    assert_kind(store.ttl("", "k").await, kinds);
    assert_kind(store.ttl_many("", &["k"]).await, kinds);
    assert_kind(store.put("", "k", v.clone(), None).await, kinds);
    assert_kind(store.put_many("", &[("k", v.clone())], None).await, kinds);
    assert_kind(store.delete("", "k").await, kinds);
    assert_kind(store.delete_many("", &["k"]).await, kinds);
    let caps = store.capabilities();
    if caps.keys {
        assert_kind(store.keys("").await, kinds);
    }
    if caps.destroy_collection {
        assert_kind(store.destroy_collection("").await, kinds);
    }
    if caps.collections {
        assert!(
            !store
                .collections()
                .await
                .unwrap()
                .iter()
                .any(String::is_empty)
        );
    }
}

/// A collection containing `::` or ending with `:` is refused, so `a::b` + `c` never meets
/// `a` + `b::c`, nor `a:` + `b` meets `a` + `:b`.
pub async fn separator_in_collection_is_refused(store: Store) {
    let base = unique("sep");
    let bad = format!("{base}::x");
    let v = obj(json!({"v": 1}));
    assert_kind(
        store.put(&bad, "k", v.clone(), None).await,
        ErrorKind::InvalidCollection,
    );
    assert_kind(
        store.put(&format!("{base}::"), "k", v.clone(), None).await,
        ErrorKind::InvalidCollection,
    );
    assert_kind(store.get(&bad, "k").await, ErrorKind::InvalidCollection);
    assert_kind(store.delete(&bad, "k").await, ErrorKind::InvalidCollection);
    assert_eq!(store.get(&base, "x::k").await.unwrap(), None);
    let colon = format!("{base}:");
    assert_kind(
        store.put(&colon, "b", v.clone(), None).await,
        ErrorKind::InvalidCollection,
    );
    assert_kind(store.get(&colon, "b").await, ErrorKind::InvalidCollection);
    // The pair that would have shared `base:::b` with it is an ordinary entry.
    store.put(&base, ":b", v.clone(), None).await.unwrap();
    assert_same(store.get(&base, ":b").await.unwrap().as_ref(), &v);
}

/// Keys may contain `::`; `k::x` and `k` are different keys.
pub async fn separator_in_key_is_allowed(store: Store) {
    let c = unique("sep");
    let (a, b) = (obj(json!({"k": "a::b"})), obj(json!({"k": "a"})));
    store.put(&c, "a::b", a.clone(), None).await.unwrap();
    store.put(&c, "a", b.clone(), None).await.unwrap();
    assert_same(store.get(&c, "a::b").await.unwrap().as_ref(), &a);
    assert_same(store.get(&c, "a").await.unwrap().as_ref(), &b);
}

/// A zero TTL is `InvalidTtl` for `put` and `put_many`, and the old value stays.
pub async fn zero_ttl_is_refused(store: Store) {
    let c = unique("names");
    let old = obj(json!({"old": true}));
    store.put(&c, "k", old.clone(), None).await.unwrap();
    let new = obj(json!({"new": true}));
    assert_kind(
        store.put(&c, "k", new.clone(), Some(Duration::ZERO)).await,
        ErrorKind::InvalidTtl,
    );
    assert_kind(
        store
            .put_many(
                &c,
                &[("k", new.clone()), ("other", new)],
                Some(Duration::ZERO),
            )
            .await,
        ErrorKind::InvalidTtl,
    );
    let entry = store.ttl(&c, "k").await.unwrap().expect("old entry");
    assert_same(Some(&entry.value), &old);
    assert_eq!(entry.expires_at, None);
    assert_eq!(store.get(&c, "other").await.unwrap(), None);
}

/// Negative TTLs (as Python callers pass them) are refused on conversion, and TTLs past
/// [`MAX_TTL`] are refused by the store; the old value stays.
pub async fn negative_and_huge_ttls_are_refused(store: Store) {
    let c = unique("names");
    let old = obj(json!({"old": true}));
    store.put(&c, "k", old.clone(), None).await.unwrap();
    assert_kind(rules::ttl_from_secs_f64(-1.0), ErrorKind::InvalidTtl);
    assert_kind(rules::ttl_from_secs_f64(-0.001), ErrorKind::InvalidTtl);
    assert_kind(rules::ttl_from_secs_f64(f64::NAN), ErrorKind::InvalidTtl);
    let huge = MAX_TTL + Duration::from_secs(1);
    assert_kind(
        store.put(&c, "k", obj(json!({"new": 1})), Some(huge)).await,
        ErrorKind::InvalidTtl,
    );
    assert_kind(
        store
            .put(&c, "k", obj(json!({"new": 1})), Some(Duration::MAX))
            .await,
        ErrorKind::InvalidTtl,
    );
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &old);
    // The longest allowed TTL works.
    store
        .put(&c, "long", old.clone(), Some(MAX_TTL))
        .await
        .unwrap();
    assert!(
        store
            .ttl(&c, "long")
            .await
            .unwrap()
            .expect("entry")
            .expires_at
            .is_some()
    );
}

/// A batch with one bad key writes none of its entries.
pub async fn bad_batch_writes_nothing(store: Store) {
    let c = unique("names");
    let v = obj(json!({"v": 1}));
    let result = store
        .put_many(
            &c,
            &[
                ("a", v.clone()),
                ("b", v.clone()),
                ("", v.clone()),
                ("d", v),
            ],
            None,
        )
        .await;
    assert_kind(result, ErrorKind::InvalidKey);
    let got = store.get_many(&c, &["a", "b", "d"]).await.unwrap();
    assert!(
        got.iter().all(Option::is_none),
        "a refused batch wrote {got:?}"
    );
}
