//! Interop with the real `py-key-value-aio` 0.4.6 `MongoDBStore`: what one side writes, the other
//! reads, with its remaining TTL, on the same server and database.

mod common;

use std::time::Duration;

use mongodb::bson::{Bson, Document, doc};
use serde_json::json;
use stowage_core::testkit::{obj, unique};
use stowage_core::{KeyValueStore, Value};

fn rich() -> serde_json::Value {
    json!({
        "s": "é😀\n\"q\"", "i": 42, "big": 1_099_511_627_776_i64, "f": 2.5, "neg": -1,
        "b": true, "n": null, "arr": [1, "x", {"y": []}], "o": {"nested": {"deep": "v"}}, "e": {}
    })
}

fn assert_ttl_near(got: Option<f64>, set: f64) {
    let got = got.expect("a remaining TTL");
    assert!(
        got <= set && got > set - 15.0,
        "remaining {got}s for a TTL of {set}s"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_writes_stowage_reads() {
    let db = common::unique_database();
    let store = stowage_mongodb::MongoStore::builder()
        .url(common::url())
        .database(&db)
        .build()
        .await
        .unwrap();
    let c = unique("py-writes");
    common::run_python(
        "write",
        json!({"url": common::url(), "db": db, "collection": c, "entries": [
            {"key": "with-ttl", "value": rich(), "ttl": 300.0},
            {"key": "forever", "value": {"a": 1}, "ttl": null},
            {"key": "ключ🔑", "value": {"unicode": "ключ"}, "ttl": 100.0},
            {"key": "short", "value": {"gone": true}, "ttl": 0.5},
        ]}),
    )
    .await;
    common::run_python(
        "write",
        json!({"url": common::url(), "db": db, "collection": c, "many": true, "entries": [
            {"key": "m1", "value": {"m": 1}, "ttl": 200.0},
            {"key": "m2", "value": {"m": 2}, "ttl": 200.0},
        ]}),
    )
    .await;

    let entry = store.ttl(&c, "with-ttl").await.unwrap().expect("entry");
    assert_eq!(entry.value.to_map(), obj(rich()).to_map());
    assert_ttl_near(entry.remaining_ttl().map(|d| d.as_secs_f64()), 300.0);
    assert!(entry.created_at.is_some());
    let forever = store.ttl(&c, "forever").await.unwrap().expect("entry");
    assert_eq!(forever.expires_at, None);
    let got = store
        .ttl_many(&c, &["ключ🔑", "m1", "m2", "absent"])
        .await
        .unwrap();
    assert_eq!(got[0].as_ref().unwrap().value.to_map()["unicode"], "ключ");
    assert_ttl_near(
        got[0]
            .as_ref()
            .unwrap()
            .remaining_ttl()
            .map(|d| d.as_secs_f64()),
        100.0,
    );
    for (i, e) in got[1..3].iter().enumerate() {
        let e = e.as_ref().expect("put_many entry");
        assert_eq!(e.value.to_map()["m"], i + 1);
        assert_ttl_near(e.remaining_ttl().map(|d| d.as_secs_f64()), 200.0);
    }
    assert!(got[3].is_none());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(store.get(&c, "short").await.unwrap(), None);
    let mut keys = store.keys(&c).await.unwrap();
    keys.sort();
    assert_eq!(keys, ["forever", "m1", "m2", "with-ttl", "ключ🔑"]);
    assert!(store.delete(&c, "forever").await.unwrap());
    store.destroy().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn stowage_writes_python_reads() {
    let db = common::unique_database();
    let store = stowage_mongodb::MongoStore::builder()
        .url(common::url())
        .database(&db)
        .build()
        .await
        .unwrap();
    let c = unique("rs-writes");
    store
        .put(&c, "with-ttl", obj(rich()), Some(Duration::from_secs(300)))
        .await
        .unwrap();
    store
        .put(&c, "forever", obj(json!({"a": 1})), None)
        .await
        .unwrap();
    store
        .put(
            &c,
            "short",
            obj(json!({"gone": true})),
            Some(Duration::from_millis(500)),
        )
        .await
        .unwrap();
    let many: Vec<(&str, Value)> = vec![
        ("m1", obj(json!({"m": 1}))),
        ("ключ🔑", obj(json!({"m": 2}))),
    ];
    store
        .put_many(&c, &many, Some(Duration::from_secs(200)))
        .await
        .unwrap();
    // An entry Python wrote with a TTL, overwritten by Stowage without one, never expires.
    common::run_python(
        "write",
        json!({"url": common::url(), "db": db, "collection": c, "entries": [
            {"key": "overwritten", "value": {"v": "python"}, "ttl": 60.0}]}),
    )
    .await;
    store
        .put(&c, "overwritten", obj(json!({"v": "rust"})), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;

    let read = common::run_python(
        "read",
        json!({"url": common::url(), "db": db, "collection": c,
               "keys": ["with-ttl", "forever", "short", "m1", "ключ🔑", "overwritten", "absent"]}),
    )
    .await;
    let read = read.as_array().expect("a list");
    assert_eq!(read[0]["value"], rich());
    assert_ttl_near(read[0]["ttl"].as_f64(), 300.0);
    assert_eq!(read[1], json!({"value": {"a": 1}, "ttl": null}));
    assert!(
        read[2].is_null(),
        "expired entry read by Python: {}",
        read[2]
    );
    assert_eq!(read[3]["value"], json!({"m": 1}));
    assert_ttl_near(read[3]["ttl"].as_f64(), 200.0);
    assert_eq!(read[4]["value"], json!({"m": 2}));
    assert_eq!(read[5], json!({"value": {"v": "rust"}, "ttl": null}));
    assert!(read[6].is_null());
    store.destroy().await.unwrap();
}

/// Field names and BSON types of a stored document, `_id` aside, with those of `value.object`.
fn shape(doc: &Document) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = doc
        .iter()
        .filter(|(k, _)| *k != "_id" && *k != "key")
        .map(|(k, v)| (k.clone(), format!("{:?}", v.element_type())))
        .collect();
    if let Some(Bson::Document(object)) =
        doc.get_document("value").ok().and_then(|v| v.get("object"))
    {
        out.extend(
            object
                .iter()
                .map(|(k, v)| (format!("object.{k}"), format!("{:?}", v.element_type()))),
        );
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn both_sides_store_the_same_document_shape() {
    let db = common::unique_database();
    let store = stowage_mongodb::MongoStore::builder()
        .url(common::url())
        .database(&db)
        .build()
        .await
        .unwrap();
    let c = unique("shape");
    common::run_python(
        "write",
        json!({"url": common::url(), "db": db, "collection": c, "entries": [
            {"key": "py", "value": rich(), "ttl": 60.0},
            {"key": "py-forever", "value": rich(), "ttl": null}]}),
    )
    .await;
    store
        .put(&c, "rs", obj(rich()), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    store
        .put(&c, "rs-forever", obj(rich()), None)
        .await
        .unwrap();
    let coll = store.database().collection::<Document>(&c);
    let get = |key: &'static str| {
        let coll = coll.clone();
        async move { coll.find_one(doc! {"key": key}).await.unwrap().expect(key) }
    };
    let (py, rs) = (get("py").await, get("rs").await);
    assert_eq!(shape(&py), shape(&rs));
    assert_eq!(py.get("version"), Some(&Bson::Int32(1)));
    assert_eq!(py.get_str("collection").unwrap(), c);
    assert!(matches!(rs.get("expires_at"), Some(Bson::DateTime(_))));
    assert_eq!(
        shape(&get("py-forever").await),
        shape(&get("rs-forever").await)
    );
    assert!(!get("rs-forever").await.contains_key("expires_at"));
    // Python created this collection: its indexes are kept, and Stowage still writes to it.
    let names = coll.list_index_names().await.unwrap();
    assert!(
        names.contains(&"key_1".to_owned()) && names.contains(&"expires_at_1".to_owned()),
        "{names:?}"
    );
    store.destroy().await.unwrap();
}
