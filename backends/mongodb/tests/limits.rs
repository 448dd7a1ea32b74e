//! MongoDB-specific behaviour: the 16 MiB document limit, values BSON cannot hold, collection
//! names Mongo refuses, foreign documents, URLs, and an unreachable server.

mod common;

use std::time::{Duration, Instant};

use mongodb::bson::doc;
use serde_json::json;
use stowage_core::testkit::{assert_kind, assert_same, obj, unique};
use stowage_core::{ErrorKind, KeyValueStore, Value};
use stowage_mongodb::{MAX_DOCUMENT_LEN, MongoStore};

#[tokio::test(flavor = "multi_thread")]
async fn documents_past_16_mib_are_value_too_large() {
    let store = common::store().await;
    let c = unique("big");
    let old = obj(json!({"old": true}));
    store.put(&c, "k", old.clone(), None).await.unwrap();

    // Past the limit as JSON text already.
    let text = Value::from_json(format!(
        r#"{{"blob": "{}"}}"#,
        "x".repeat(MAX_DOCUMENT_LEN + 1)
    ))
    .unwrap();
    assert_kind(
        store.put(&c, "k", text, None).await,
        ErrorKind::ValueTooLarge,
    );

    // About 4 MiB of JSON whose BSON form (an index name and a type byte per element) is past
    // 16 MiB.
    let mut zeros = String::from(r#"{"a": ["#);
    zeros.push_str(&"0,".repeat(2_000_000));
    zeros.push_str("0]}");
    let zeros = Value::from_json(zeros).unwrap();
    assert!(zeros.len() < MAX_DOCUMENT_LEN);
    assert_kind(
        store.put(&c, "k", zeros.clone(), None).await,
        ErrorKind::ValueTooLarge,
    );
    assert_kind(
        store
            .put_many(&c, &[("fresh", old.clone()), ("k", zeros)], None)
            .await,
        ErrorKind::ValueTooLarge,
    );
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &old);
    assert_eq!(store.get(&c, "fresh").await.unwrap(), None);

    // Just under the limit is stored and read back.
    let near = Value::from_json(format!(
        r#"{{"blob": "{}"}}"#,
        "y".repeat(MAX_DOCUMENT_LEN - 64 * 1024)
    ))
    .unwrap();
    store.put(&c, "near", near.clone(), None).await.unwrap();
    assert_same(store.get(&c, "near").await.unwrap().as_ref(), &near);
    store.destroy().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn values_bson_cannot_hold_are_invalid() {
    let store = common::store().await;
    let c = unique("bson");
    for text in [r#"{"n": 18446744073709551615}"#, "{\"nul\\u0000name\": 1}"] {
        let v = Value::from_json(text).unwrap();
        assert_kind(store.put(&c, "k", v, None).await, ErrorKind::InvalidValue);
    }
    assert_eq!(store.get(&c, "k").await.unwrap(), None);
    store.destroy().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn collection_names_mongo_refuses() {
    let store = common::store().await;
    let v = obj(json!({"v": 1}));
    for bad in ["with$dollar", "system.users", "nul\0char"] {
        assert_kind(
            store.put(bad, "k", v.clone(), None).await,
            ErrorKind::InvalidCollection,
        );
        assert_kind(store.get(bad, "k").await, ErrorKind::InvalidCollection);
    }
    let max = store.capabilities().max_collection_len.unwrap();
    assert_eq!(max, 255 - 1 - store.database().name().len());
    assert_kind(
        store.put(&"c".repeat(max + 1), "k", v, None).await,
        ErrorKind::InvalidCollection,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_documents_are_corrupted_not_panics() {
    let store = common::store().await;
    let c = unique("foreign");
    let coll = store.database().collection::<mongodb::bson::Document>(&c);
    coll.insert_many([
        doc! {"key": "text", "value": "not a document"},
        doc! {"key": "no-object", "value": {"other": 1}},
        doc! {"key": "bad-date", "value": {"object": {}}, "expires_at": "tomorrow"},
    ])
    .await
    .unwrap();
    for key in ["text", "no-object", "bad-date"] {
        assert_kind(store.get(&c, key).await, ErrorKind::Corrupted);
    }
    // Overwriting a foreign document repairs it.
    store
        .put(&c, "text", obj(json!({"ok": 1})), None)
        .await
        .unwrap();
    assert!(store.get(&c, "text").await.unwrap().is_some());
    store.destroy().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn database_comes_from_the_url_or_the_default() {
    let base = common::url();
    let db = common::unique_database();
    let with_db = base.replacen("/?", &format!("/{db}?"), 1);
    let store = MongoStore::connect(with_db).await.unwrap();
    assert_eq!(store.database().name(), db);
    let store = MongoStore::connect(base).await.unwrap();
    assert_eq!(store.database().name(), "kv-store-adapter");
    assert_kind(MongoStore::connect("not a url").await, ErrorKind::Config);
    assert_kind(
        MongoStore::builder()
            .url(common::url())
            .database("bad.name")
            .build()
            .await,
        ErrorKind::Config,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_a_retryable_error_within_the_timeout() {
    // Port 9 on loopback: nothing listens there.
    let store = MongoStore::builder()
        .url("mongodb://127.0.0.1:9/?directConnection=true")
        .timeout(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    let start = Instant::now();
    let err = store.get("c", "k").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let err = store.put("c", "k", obj(json!({})), None).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_write_creates_the_key_and_ttl_indexes() {
    use futures::TryStreamExt;
    let store = common::store().await;
    let c = unique("indexes");
    store
        .put(&c, "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    let coll = store.database().collection::<mongodb::bson::Document>(&c);
    let indexes: Vec<_> = coll
        .list_indexes()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let find = |name: &str| {
        indexes
            .iter()
            .find(|i| i.options.as_ref().and_then(|o| o.name.as_deref()) == Some(name))
            .unwrap_or_else(|| panic!("index {name} in {indexes:?}"))
    };
    let key = find("key_1");
    assert_eq!(key.keys, doc! {"key": 1});
    assert_eq!(key.options.as_ref().unwrap().unique, Some(true));
    let ttl = find("expires_at_1");
    assert_eq!(ttl.keys, doc! {"expires_at": 1});
    assert_eq!(
        ttl.options.as_ref().unwrap().expire_after,
        Some(Duration::ZERO)
    );
    store.destroy().await.unwrap();
}

/// The database may be the application's own (it comes from the URL path): `collections`,
/// `cull` and `destroy` see only the collections this store (or py-key-value) created, known by
/// their `key_1` and `expires_at_1` indexes.
#[tokio::test(flavor = "multi_thread")]
async fn destroy_leaves_the_applications_own_collections() {
    let store = common::store().await;
    let app = store
        .database()
        .collection::<mongodb::bson::Document>("app_users");
    app.insert_one(doc! {"name": "alice", "key": "not ours"})
        .await
        .unwrap();
    let mine = unique("mine");
    store
        .put(&mine, "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    assert_eq!(store.collections().await.unwrap(), vec![mine.clone()]);
    assert_eq!(store.cull().await.unwrap(), 0);
    assert!(store.destroy().await.unwrap());
    assert_eq!(store.get(&mine, "k").await.unwrap(), None);
    let names = store.database().list_collection_names().await.unwrap();
    assert!(names.contains(&"app_users".to_owned()), "{names:?}");
    assert!(!names.contains(&mine), "{names:?}");
    assert_eq!(app.count_documents(doc! {}).await.unwrap(), 1);
    store.database().drop().await.unwrap();
}

/// A write refused by an index of the application's (here a unique index on a field of the
/// value) is an error that names the index but never the values that collided.
#[tokio::test(flavor = "multi_thread")]
async fn duplicate_key_errors_show_no_stored_values() {
    use mongodb::IndexModel;
    use mongodb::options::IndexOptions;
    let store = common::store().await;
    let c = unique("dup");
    store
        .put(&c, "a", obj(json!({"email": "alice@example.com"})), None)
        .await
        .unwrap();
    store
        .database()
        .collection::<mongodb::bson::Document>(&c)
        .create_index(
            IndexModel::builder()
                .keys(doc! {"value.object.email": 1})
                .options(IndexOptions::builder().unique(true).build())
                .build(),
        )
        .await
        .unwrap();
    let err = store
        .put(&c, "b", obj(json!({"email": "alice@example.com"})), None)
        .await
        .unwrap_err();
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!shown.contains("alice@example.com"), "{shown}");
    store.database().drop().await.unwrap();
}
