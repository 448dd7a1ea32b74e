//! DynamoDB-specific behaviour: batch limits (25 writes, 100 gets), the 400 KiB item limit,
//! table creation and verification, and an unreachable endpoint.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde_json::json;
use stowage_core::testkit::{assert_kind, assert_same, obj, unique};
use stowage_core::{ErrorKind, KeyValueStore, Value};
use stowage_dynamodb::{MAX_BATCH_GET, MAX_BATCH_WRITE, MAX_ITEM_LEN};

#[tokio::test(flavor = "multi_thread")]
async fn batches_cross_the_dynamodb_limits() {
    let store = common::store().await;
    let c = unique("batch");
    // 10 full batches of 25 writes and a partial one, with a repeated key (the last wins; one
    // BatchWriteItem may not name a key twice).
    let keys: Vec<String> = (0..260).map(|i| format!("k{i:03}")).collect();
    let mut entries: Vec<(&str, Value)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), obj(json!({"i": i}))))
        .collect();
    entries.push(("k007", obj(json!({"i": "last"}))));
    assert!(entries.len() > 10 * MAX_BATCH_WRITE);
    store
        .put_many(&c, &entries, Some(Duration::from_secs(600)))
        .await
        .unwrap();

    // 3 BatchGetItems of up to 100 keys, with repeats and misses, in the caller's order.
    let mut wanted: Vec<&str> = keys.iter().rev().map(String::as_str).collect();
    wanted.extend(["absent-1", "k000", "absent-2"]);
    assert!(wanted.len() > 2 * MAX_BATCH_GET);
    let got = store.get_many(&c, &wanted).await.unwrap();
    assert_eq!(got.len(), wanted.len());
    for (k, v) in wanted.iter().zip(&got) {
        match k.strip_prefix('k') {
            Some("007") => assert_eq!(v.as_ref().unwrap().to_map()["i"], "last"),
            Some(n) => assert_eq!(v.as_ref().unwrap().to_map()["i"], n.parse::<u64>().unwrap()),
            None => assert!(v.is_none(), "{k}"),
        }
    }
    let entries = store.ttl_many(&c, &wanted).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.is_some()).count(), 261);
    assert_eq!(store.keys(&c).await.unwrap().len(), 260);

    let doomed: Vec<&str> = keys[..130]
        .iter()
        .map(String::as_str)
        .chain(["absent"])
        .collect();
    assert_eq!(store.delete_many(&c, &doomed).await.unwrap(), 130);
    assert_eq!(store.keys(&c).await.unwrap().len(), 130);
    assert!(store.destroy_collection(&c).await.unwrap());
    assert!(store.keys(&c).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn items_over_400_kib_are_value_too_large() {
    let store = common::store().await;
    let c = unique("big");
    let old = obj(json!({"old": true}));
    store.put(&c, "k", old.clone(), None).await.unwrap();
    let big = Value::from_json(format!(r#"{{"blob": "{}"}}"#, "x".repeat(MAX_ITEM_LEN))).unwrap();
    assert_kind(
        store.put(&c, "k", big.clone(), None).await,
        ErrorKind::ValueTooLarge,
    );
    assert_kind(
        store
            .put_many(&c, &[("fresh", old.clone()), ("k", big)], None)
            .await,
        ErrorKind::ValueTooLarge,
    );
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &old);
    assert_eq!(store.get(&c, "fresh").await.unwrap(), None);

    // The largest value the store declares, with the longest names in four-byte characters (the
    // envelope escapes them to twelve bytes each), fits in a real DynamoDB item.
    let caps = store.capabilities();
    let max = caps.max_value_len.unwrap();
    let value = Value::from_json(format!(r#"{{"b": "{}"}}"#, "y".repeat(max - 10))).unwrap();
    let long_c = "😀".repeat(caps.max_collection_len.unwrap() / 4 - 4) + &unique("")[..13];
    let long_k = "😀".repeat(caps.max_key_len.unwrap() / 4);
    store
        .put(
            &long_c,
            &long_k,
            value.clone(),
            Some(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert_eq!(store.get(&long_c, &long_k).await.unwrap(), Some(value));
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_are_created_or_verified() {
    // Not allowed to create: a missing table is a configuration error.
    let missing = common::unique_table();
    assert_kind(
        common::config(&missing).create_table(false).build().await,
        ErrorKind::Config,
    );
    // A table with another key schema is refused.
    let other = common::unique_table();
    let store = common::store().await;
    store
        .client()
        .create_table()
        .table_name(&other)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    assert_kind(common::config(&other).build().await, ErrorKind::Config);
    // Created once, the table is reused by later stores.
    let table = common::unique_table();
    let first = common::config(&table).build().await.unwrap();
    first
        .put("c", "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    let second = common::config(&table)
        .create_table(false)
        .build()
        .await
        .unwrap();
    assert!(second.get("c", "k").await.unwrap().is_some());
    // Bad names and URLs never reach the server.
    assert_kind(common::config("no").build().await, ErrorKind::Config);
    assert_kind(
        stowage_dynamodb::DynamoStore::connect("dynamodb://t?nonsense=1").await,
        ErrorKind::Config,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_is_a_retryable_error_within_the_timeout() {
    let start = Instant::now();
    let err = common::config(&common::unique_table())
        .endpoint("http://127.0.0.1:9")
        .timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(35),
        "took {:?}",
        start.elapsed()
    );
}

/// A table may hold other data with the same key schema: `collections`, `keys` and `destroy`
/// see only the items in the store's format (a string `value`, its envelope).
#[tokio::test(flavor = "multi_thread")]
async fn destroy_leaves_other_items_of_a_shared_table() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let store = common::store().await;
    let c = unique("shared");
    store
        .put(&c, "mine", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    for (key, value) in [
        ("theirs-number", Some(AttributeValue::N("7".into()))),
        ("theirs-none", None),
    ] {
        let mut put = store
            .client()
            .put_item()
            .table_name(store.table())
            .item("collection", AttributeValue::S(c.clone()))
            .item("key", AttributeValue::S(key.into()));
        if let Some(v) = value {
            put = put.item("value", v);
        }
        put.send().await.unwrap();
    }
    assert_eq!(store.keys(&c).await.unwrap(), vec!["mine".to_owned()]);
    assert!(store.destroy().await.unwrap());
    let left = store
        .client()
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let mut keys: Vec<_> = left
        .iter()
        .filter_map(|i| i.get("key")?.as_s().ok().cloned())
        .collect();
    keys.sort();
    assert_eq!(keys, ["theirs-none", "theirs-number"]);
}
