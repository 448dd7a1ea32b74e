//! Interop with the real `py-key-value-aio` 0.4.6 `MongoDBStore`: what one side writes, the other
//! reads, with its remaining TTL, on the same server and database.

mod common;

use std::time::Duration;

use interop::rich;
use mongodb::bson::{Bson, Document, doc};
use serde_json::json;
use stowage_core::KeyValueStore;
use stowage_core::testkit::{interop, obj, unique};

/// The runner's arguments: the connection, the collection, and the scenario's payload.
fn args(db: &str, collection: &str, payload: serde_json::Value) -> serde_json::Value {
    let mut a = json!({"url": common::url(), "db": db, "collection": collection});
    a.as_object_mut()
        .unwrap()
        .extend(payload.as_object().unwrap().clone());
    a
}

async fn store_in(db: &str) -> stowage_mongodb::MongoStore {
    stowage_mongodb::MongoStore::builder()
        .url(common::url())
        .database(db)
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn python_writes_stowage_reads() {
    let db = common::unique_database();
    let store = store_in(&db).await;
    let c = unique("py-writes");
    for payload in interop::python_writes() {
        common::run_python("write", args(&db, &c, payload)).await;
    }
    interop::stowage_reads_what_python_wrote(&store, &c).await;
    assert!(store.delete(&c, "forever").await.unwrap());
    store.destroy().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn stowage_writes_python_reads() {
    let db = common::unique_database();
    let store = store_in(&db).await;
    let c = unique("rs-writes");
    interop::stowage_writes(&store, &c).await;
    // An entry Python wrote with a TTL, overwritten by Stowage without one, never expires.
    common::run_python("write", args(&db, &c, interop::python_overwrite())).await;
    interop::stowage_overwrites(&store, &c).await;
    let read = common::run_python("read", args(&db, &c, interop::python_reads())).await;
    interop::check_what_python_read(&read);
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
