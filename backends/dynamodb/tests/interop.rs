//! Interop with the real `py-key-value-aio` 0.4.6 `DynamoDBStore`: what one side writes, the
//! other reads, with its remaining TTL, on the same server and table.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use stowage_core::testkit::{obj, unique};
use stowage_core::{KeyValueStore, Value};

fn rich() -> serde_json::Value {
    json!({
        "s": "é😀\n\"q\"", "i": 42, "big": 1_099_511_627_776_i64, "f": 2.5, "neg": -1,
        "b": true, "n": null, "arr": [1, "x", {"y": []}], "o": {"nested": {"deep": "v"}}, "e": {}
    })
}

/// Python truncates the `ttl` attribute to whole seconds and lets it win on read, so its
/// remaining TTL may be up to a second short.
fn assert_ttl_near(got: Option<f64>, set: f64) {
    let got = got.expect("a remaining TTL");
    assert!(
        got <= set && got > set - 15.0,
        "remaining {got}s for a TTL of {set}s"
    );
}

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
    common::run_python(
        "write",
        args(
            &table,
            &c,
            json!({"entries": [
                {"key": "with-ttl", "value": rich(), "ttl": 300.0},
                {"key": "forever", "value": {"a": 1}, "ttl": null},
                {"key": "ключ🔑", "value": {"unicode": "ключ"}, "ttl": 100.0},
                {"key": "short", "value": {"gone": true}, "ttl": 0.5},
            ]}),
        ),
    )
    .await;
    common::run_python(
        "write",
        args(
            &table,
            &c,
            json!({"many": true, "entries": [
                {"key": "m1", "value": {"m": 1}, "ttl": 200.0},
                {"key": "m2", "value": {"m": 2}, "ttl": 200.0},
            ]}),
        ),
    )
    .await;
    let store = common::config(&table)
        .create_table(false)
        .build()
        .await
        .unwrap();

    let entry = store.ttl(&c, "with-ttl").await.unwrap().expect("entry");
    assert_eq!(entry.value.to_map(), obj(rich()).to_map());
    assert_ttl_near(entry.remaining_ttl().map(|d| d.as_secs_f64()), 300.0);
    assert!(entry.created_at.is_some());
    assert_eq!(
        store
            .ttl(&c, "forever")
            .await
            .unwrap()
            .expect("entry")
            .expires_at,
        None
    );
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
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(store.get(&c, "short").await.unwrap(), None);
    let mut keys = store.keys(&c).await.unwrap();
    keys.sort();
    assert_eq!(keys, ["forever", "m1", "m2", "with-ttl", "ключ🔑"]);
    assert!(store.delete(&c, "forever").await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn stowage_writes_python_reads() {
    let table = common::unique_table();
    let store = common::config(&table).build().await.unwrap();
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
    common::run_python(
        "write",
        args(
            &table,
            &c,
            json!({"entries": [{"key": "overwritten", "value": {"v": "python"}, "ttl": 60.0}]}),
        ),
    )
    .await;
    store
        .put(&c, "overwritten", obj(json!({"v": "rust"})), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let read = common::run_python(
        "read",
        args(&table, &c, json!({"keys": ["with-ttl", "forever", "short", "m1", "ключ🔑", "overwritten", "absent"]})),
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
