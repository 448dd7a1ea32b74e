//! Interop with the real `py-key-value-aio` 0.4.6 `DynamoDBStore`: what one side writes, the
//! other reads, with its remaining TTL, on the same server and table.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use interop::rich;
use serde_json::json;
use stowage_core::KeyValueStore;
use stowage_core::testkit::{interop, obj, unique};

fn args(table: &str, collection: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut a = json!({"endpoint": common::endpoint(), "table": table, "collection": collection});
    a.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    a
}

#[tokio::test(flavor = "multi_thread")]
async fn python_writes_stowage_reads() {
    let table = common::unique_table();
    let c = unique("py-writes");
    // Python creates the table here; Stowage then verifies it.
    for payload in interop::python_writes() {
        common::run_python("write", args(&table, &c, payload)).await;
    }
    let store = common::config(&table)
        .create_table(false)
        .build()
        .await
        .unwrap();
    interop::stowage_reads_what_python_wrote(&store, &c).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stowage_writes_python_reads() {
    let table = common::unique_table();
    let store = common::config(&table).build().await.unwrap();
    let c = unique("rs-writes");
    interop::stowage_writes(&store, &c).await;
    // An entry Python wrote with a TTL, overwritten by Stowage without one, never expires.
    common::run_python("write", args(&table, &c, interop::python_overwrite())).await;
    interop::stowage_overwrites(&store, &c).await;
    let read = common::run_python("read", args(&table, &c, interop::python_reads())).await;
    interop::check_what_python_read(&read);
}

/// Attribute names and types of a stored item, and the member names of its envelope.
fn shape(item: &std::collections::HashMap<String, AttributeValue>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, v) in item {
        let kind = match v {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            _ => "other",
        };
        out.insert(name.clone(), kind.to_owned());
    }
    if let Some(AttributeValue::S(text)) = item.get("value") {
        let envelope: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).unwrap();
        for (k, v) in envelope {
            let kind = if v.is_string() {
                "string"
            } else if v.is_object() {
                "object"
            } else {
                "number"
            };
            out.insert(format!("envelope.{k}"), kind.to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn both_sides_store_the_same_item_shape() {
    let table = common::unique_table();
    let store = common::config(&table).build().await.unwrap();
    let c = unique("shape");
    common::run_python(
        "write",
        args(
            &table,
            &c,
            json!({"entries": [
            {"key": "py", "value": rich(), "ttl": 60.0},
            {"key": "py-forever", "value": rich(), "ttl": null}]}),
        ),
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
    let get = |key: &'static str| {
        let (client, table, c) = (store.client().clone(), table.clone(), c.clone());
        async move {
            client
                .get_item()
                .table_name(table)
                .key("collection", AttributeValue::S(c))
                .key("key", AttributeValue::S(key.to_owned()))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .expect(key)
        }
    };
    let (py, rs) = (get("py").await, get("rs").await);
    assert_eq!(shape(&py), shape(&rs));
    assert_eq!(
        shape(&get("py-forever").await),
        shape(&get("rs-forever").await)
    );
    assert!(!get("rs-forever").await.contains_key("ttl"));
    // The `ttl` attribute is the envelope's expiry truncated to whole seconds.
    let AttributeValue::S(text) = &rs["value"] else {
        panic!()
    };
    let env = stowage_core::codec::json::decode(text.as_bytes()).unwrap();
    let expires = env
        .expires_at
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert_eq!(rs["ttl"], AttributeValue::N(expires.as_secs().to_string()));
    // The table Stowage created has TTL on for `ttl`, as Python expects.
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let d = ttl.time_to_live_description().unwrap();
    assert_eq!(d.attribute_name(), Some("ttl"));
}
