//! Interop with the real Python `py-key-value-aio` `RedisStore` (from PyPI, in the venv
//! `scripts/test.sh` builds): Python writes and Stowage reads, Stowage writes and Python reads,
//! values and remaining TTLs, with and without a namespace.

mod common;

use std::time::Duration;

use serde_json::{Value as Json, json};
use stowage_core::codec::json as envelope;
use stowage_core::testkit::{obj, unique};
use stowage_core::{KeyValueStore, Value};
use stowage_redis::RedisStore;

/// Run the Python side with `args`, feeding `input` as JSON; its stdout parsed as JSON (or Null).
fn py(args: &[&str], input: &Json) -> Json {
    let script = stowage_core::testkit::python::package_file("tests/py/redis_interop.py");
    stowage_core::testkit::python::run_json(&script, args, Some(input))
}

fn values() -> Vec<(&'static str, Json, Option<f64>)> {
    vec![
        ("plain", json!({"a": 1, "b": [true, null, 2.5]}), None),
        (
            "with-ttl",
            json!({"token": "abc", "n": {"deep": [1, 2]}}),
            Some(100.0),
        ),
        (
            "ключ🔑 with::colons",
            json!({"text": "é☃😀 \"quoted\"\n", "big": i64::MAX}),
            Some(3600.0),
        ),
    ]
}

async fn raw_get(url: &str, key: &str) -> Vec<u8> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async::<Option<Vec<u8>>>(&mut conn)
        .await
        .unwrap()
        .expect("the key exists")
}

#[track_caller]
fn assert_ttl_near(actual: Option<Duration>, expected: Option<f64>) {
    match (actual, expected) {
        (None, None) => {}
        (Some(a), Some(e)) => {
            let a = a.as_secs_f64();
            assert!(
                a <= e && a > e - 30.0,
                "remaining TTL {a}s, written with {e}s"
            );
        }
        other => panic!("TTL mismatch: {other:?}"),
    }
}

async fn python_writes_stowage_reads(store: RedisStore, prefix: Option<&str>) {
    let url = common::single_url();
    let c = unique("py-to-rs");
    let items: Vec<Json> = values()
        .iter()
        .map(|(k, v, ttl)| json!({"key": k, "value": v, "ttl": ttl}))
        .collect();
    let mut args = vec!["write", url.as_str(), c.as_str()];
    args.extend(prefix);
    py(&args, &Json::Array(items));

    for (key, value, ttl) in values() {
        let entry = store
            .ttl(&c, key)
            .await
            .unwrap()
            .expect("written by Python");
        assert_eq!(Json::Object(entry.value.to_map()), value, "{key}");
        assert_ttl_near(entry.remaining_ttl(), ttl);
        assert!(entry.created_at.is_some());
        let got = store.get(&c, key).await.unwrap().expect("hit");
        assert_eq!(Json::Object(got.to_map()), value);

        // Python's bytes are exactly what Stowage writes for the same entry.
        let raw = raw_get(&url, &store.redis_key(&c, key)).await;
        let env = envelope::decode(&raw).unwrap();
        let physical = match prefix {
            Some(p) => format!("{p}__{c}"),
            None => c.clone(),
        };
        assert_eq!(env.collection.as_deref(), Some(physical.as_str()));
        assert_eq!(env.key.as_deref(), Some(key));
        let again = envelope::encode(&physical, key, &env.value, env.created_at, env.expires_at);
        assert_eq!(again.as_bytes(), &raw[..], "byte-identical envelope");
    }

    // A batch written by Python's put_many (MSET without TTL, SETEX with one).
    let batch: Vec<Json> = (0..20)
        .map(|i| json!({"key": format!("b{i}"), "value": {"i": i}}))
        .collect();
    let keys: Vec<String> = (0..20).map(|i| format!("b{i}")).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    for ttl in ["none", "50"] {
        let mut args = vec!["put_many", url.as_str(), c.as_str(), ttl];
        args.extend(prefix);
        py(&args, &Json::Array(batch.clone()));
        let got = store.ttl_many(&c, &key_refs).await.unwrap();
        for (i, e) in got.into_iter().enumerate() {
            let e = e.expect("batch entry");
            assert_eq!(e.value.to_map()["i"], i);
            assert_ttl_near(e.remaining_ttl(), (ttl == "50").then_some(50.0));
        }
    }
    let mut listed = store.keys(&c).await.unwrap();
    listed.sort();
    assert_eq!(listed.len(), 3 + 20);
    assert!(store.destroy_collection(&c).await.unwrap());
}

async fn stowage_writes_python_reads(store: RedisStore, prefix: Option<&str>) {
    let url = common::single_url();
    let c = unique("rs-to-py");
    for (key, value, ttl) in values() {
        let ttl = ttl.map(Duration::from_secs_f64);
        store
            .put(&c, key, Value::try_from(value).unwrap(), ttl)
            .await
            .unwrap();
    }
    let batch: Vec<(String, Value)> = (0..20)
        .map(|i| (format!("b{i}"), obj(json!({"i": i}))))
        .collect();
    let batch_refs: Vec<(&str, Value)> =
        batch.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    store
        .put_many(&c, &batch_refs, Some(Duration::from_secs(50)))
        .await
        .unwrap();
    let unbatched: Vec<(String, Value)> = (0..5)
        .map(|i| (format!("n{i}"), obj(json!({"n": i}))))
        .collect();
    let unbatched_refs: Vec<(&str, Value)> = unbatched
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    store.put_many(&c, &unbatched_refs, None).await.unwrap();

    let mut keys: Vec<String> = values().iter().map(|(k, _, _)| k.to_string()).collect();
    keys.extend(batch.iter().map(|(k, _)| k.clone()));
    keys.extend(unbatched.iter().map(|(k, _)| k.clone()));
    keys.push("missing".into());
    let mut args = vec!["read", url.as_str(), c.as_str()];
    args.extend(prefix);
    let out = py(&args, &json!(keys));
    let ttl = out["ttl"].as_array().unwrap();
    let get_many = out["get_many"].as_array().unwrap();
    for (i, (key, value, written)) in values().into_iter().enumerate() {
        assert_eq!(ttl[i]["value"], value, "{key}");
        assert_eq!(get_many[i], value, "{key}");
        let remaining = ttl[i]["ttl"].as_f64().map(Duration::from_secs_f64);
        assert_ttl_near(remaining, written);
    }
    for i in 0..20 {
        let at = 3 + i;
        assert_eq!(ttl[at]["value"], json!({"i": i}));
        assert_ttl_near(
            ttl[at]["ttl"].as_f64().map(Duration::from_secs_f64),
            Some(50.0),
        );
    }
    for i in 0..5 {
        let at = 23 + i;
        assert_eq!(get_many[at], json!({"n": i}));
        assert_eq!(ttl[at]["ttl"], Json::Null);
    }
    assert_eq!(ttl[28]["value"], Json::Null);
    assert_eq!(get_many[28], Json::Null);

    let mut args = vec!["keys", url.as_str(), c.as_str()];
    args.extend(prefix);
    let listed = py(&args, &Json::Null);
    assert_eq!(listed.as_array().unwrap().len(), 28);
    assert!(store.destroy_collection(&c).await.unwrap());
}

async fn plain_store() -> RedisStore {
    RedisStore::open(&common::single_url()).await.unwrap()
}

#[tokio::test]
async fn python_writes_stowage_reads_plain_layout() {
    python_writes_stowage_reads(plain_store().await, None).await;
}

#[tokio::test]
async fn stowage_writes_python_reads_plain_layout() {
    stowage_writes_python_reads(plain_store().await, None).await;
}

#[tokio::test]
async fn namespace_matches_prefix_collections_wrapper() {
    let ns = unique("ns");
    let store = RedisStore::builder()
        .url(common::single_url())
        .namespace(&ns)
        .build()
        .await
        .unwrap();
    python_writes_stowage_reads(store.clone(), Some(&ns)).await;
    stowage_writes_python_reads(store.clone(), Some(&ns)).await;
    store.put("left", "k", obj(json!({})), None).await.unwrap();
    assert!(store.destroy().await.unwrap());
    assert!(store.collections().await.unwrap().is_empty());
}

#[tokio::test]
async fn damaged_entries_are_corrupted_not_panics() {
    let store = plain_store().await;
    let c = unique("damaged");
    let url = common::single_url();
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for (key, bytes) in [
        ("garbage", &b"\xff\x00not json"[..]),
        ("no-value", b"{\"version\": 1}"),
        ("bad-time", b"{\"value\": {}, \"expires_at\": \"tomorrow\"}"),
    ] {
        redis::cmd("SET")
            .arg(store.redis_key(&c, key))
            .arg(bytes)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        let err = store.get(&c, key).await.unwrap_err();
        assert_eq!(
            err.kind(),
            stowage_core::ErrorKind::Corrupted,
            "{key}: {err}"
        );
        assert_eq!(
            store.get_many(&c, &[key]).await.unwrap_err().kind(),
            stowage_core::ErrorKind::Corrupted
        );
        // Overwriting repairs it.
        store
            .put(&c, key, obj(json!({"ok": 1})), None)
            .await
            .unwrap();
        assert!(store.get(&c, key).await.unwrap().is_some());
    }
    // A key of another type is corrupted data too, not a crash.
    redis::cmd("RPUSH")
        .arg(store.redis_key(&c, "list"))
        .arg("x")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        store.get(&c, "list").await.unwrap_err().kind(),
        stowage_core::ErrorKind::Corrupted
    );
    assert!(store.destroy_collection(&c).await.unwrap());
}
