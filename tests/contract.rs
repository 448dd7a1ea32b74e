//! The store contract through the facade: the whole kit in one call, and each bad-input rule
//! shown to give its own typed error while leaving the store as it was.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use stowage::memory::MemoryStore;
use stowage::{ErrorKind, KeyValueStore, Value, rules};

#[test]
fn the_whole_kit_in_one_call() {
    stowage_core::testkit::run_all(|| async { MemoryStore::new() });
}

async fn store_with_one_entry() -> (Arc<dyn KeyValueStore>, Value) {
    let store: Arc<dyn KeyValueStore> = Arc::new(MemoryStore::new());
    let v = Value::from_serialize(&json!({"kept": true})).unwrap();
    store.put("c", "k", v.clone(), None).await.unwrap();
    (store, v)
}

async fn assert_unchanged(store: &Arc<dyn KeyValueStore>, v: &Value) {
    assert_eq!(store.get("c", "k").await.unwrap().as_ref(), Some(v));
    assert_eq!(store.keys("c").await.unwrap(), vec!["k".to_string()]);
    assert_eq!(store.collections().await.unwrap(), vec!["c".to_string()]);
    let entry = store.ttl("c", "k").await.unwrap().unwrap();
    assert_eq!(entry.expires_at, None);
}

fn new_value() -> Value {
    Value::from_serialize(&json!({"new": true})).unwrap()
}

#[tokio::test]
async fn empty_key() {
    let (store, v) = store_with_one_entry().await;
    let err = store.put("c", "", new_value(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKey);
    assert_eq!(err.operation(), Some("put"));
    assert_unchanged(&store, &v).await;
}

#[tokio::test]
async fn empty_collection() {
    let (store, v) = store_with_one_entry().await;
    let err = store.put("", "k", new_value(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCollection);
    assert_unchanged(&store, &v).await;
}

#[tokio::test]
async fn collection_with_separator() {
    let (store, v) = store_with_one_entry().await;
    let err = store.put("c::x", "k", new_value(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCollection);
    assert!(err.to_string().contains("::"), "{err}");
    assert_unchanged(&store, &v).await;
}

#[tokio::test]
async fn zero_ttl() {
    let (store, v) = store_with_one_entry().await;
    let err = store
        .put("c", "k", new_value(), Some(Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTtl);
    assert_unchanged(&store, &v).await;
}

#[tokio::test]
async fn negative_ttl() {
    let (store, v) = store_with_one_entry().await;
    // A negative TTL cannot be a `Duration`; callers holding signed seconds convert with
    // `rules::ttl_from_secs_f64`, which refuses it, so the store is never called.
    let err = rules::ttl_from_secs_f64(-30.0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTtl);
    let result = async {
        let ttl = rules::ttl_from_secs_f64(-30.0)?;
        store.put("c", "k", new_value(), Some(ttl)).await
    }
    .await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidTtl);
    assert_unchanged(&store, &v).await;
}

#[tokio::test]
async fn value_that_is_not_an_object() {
    let (store, v) = store_with_one_entry().await;
    let result = async {
        let value = Value::from_serialize(&json!(["an", "array"]))?;
        store.put("c", "k", value, None).await
    }
    .await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidValue);
    assert_unchanged(&store, &v).await;
}

#[tokio::test]
async fn invalid_json_text() {
    let (store, v) = store_with_one_entry().await;
    let result = async {
        let value = Value::from_json(r#"{"unterminated": "#)?;
        store.put("c", "k", value, None).await
    }
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    assert!(err.message().contains("invalid JSON"), "{err}");
    assert_unchanged(&store, &v).await;
}
