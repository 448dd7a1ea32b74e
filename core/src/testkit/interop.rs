//! The interop scenario with py-key-value-aio that every remote backend runs: what Python
//! writes, Stowage reads with its remaining TTL, and the other way round.
//!
//! A backend's test supplies the store and a way to run its Python side; the payloads here are
//! the `entries`/`keys` members its runner takes (the backend adds its connection members).
//!
//! ```ignore
//! for payload in interop::python_writes() {
//!     run_python("write", args(&c, payload)).await;
//! }
//! interop::stowage_reads_what_python_wrote(&store, &c).await;
//! ```

use std::time::Duration;

use serde_json::{Value as Json, json};

use super::obj;
use crate::{KeyValueStore, Value};

/// How long both sides wait for the half-second entry to expire: Python's expiry is in whole
/// seconds on some stores.
pub const EXPIRY_WAIT: Duration = Duration::from_millis(1100);

/// An object with every kind of JSON member, non-ASCII and escapes included.
pub fn rich() -> Json {
    json!({
        "s": "é😀\n\"q\"", "i": 42, "big": 1_099_511_627_776_i64, "f": 2.5, "neg": -1,
        "b": true, "n": null, "arr": [1, "x", {"y": []}], "o": {"nested": {"deep": "v"}}, "e": {}
    })
}

/// `got` (seconds left) is a little under `set`: some stores keep whole seconds.
pub fn assert_ttl_near(got: Option<f64>, set: f64) {
    let got = got.expect("a remaining TTL");
    assert!(
        got <= set && got > set - 15.0,
        "remaining {got}s for a TTL of {set}s"
    );
}

/// What Python writes, in two calls of its runner's `write` (the second with `put_many`).
pub fn python_writes() -> [Json; 2] {
    [
        json!({"entries": [
            {"key": "with-ttl", "value": rich(), "ttl": 300.0},
            {"key": "forever", "value": {"a": 1}, "ttl": null},
            {"key": "ключ🔑", "value": {"unicode": "ключ"}, "ttl": 100.0},
            {"key": "short", "value": {"gone": true}, "ttl": 0.5},
        ]}),
        json!({"many": true, "entries": [
            {"key": "m1", "value": {"m": 1}, "ttl": 200.0},
            {"key": "m2", "value": {"m": 2}, "ttl": 200.0},
        ]}),
    ]
}

/// Read back, through `store`, what [`python_writes`] wrote to `collection`.
pub async fn stowage_reads_what_python_wrote<S: KeyValueStore + ?Sized>(
    store: &S,
    collection: &str,
) {
    let c = collection;
    let entry = store.ttl(c, "with-ttl").await.unwrap().expect("entry");
    assert_eq!(entry.value.to_map(), obj(rich()).to_map());
    assert_ttl_near(entry.remaining_ttl().map(|d| d.as_secs_f64()), 300.0);
    assert!(entry.created_at.is_some());
    let forever = store.ttl(c, "forever").await.unwrap().expect("entry");
    assert_eq!(forever.expires_at, None);
    let got = store
        .ttl_many(c, &["ключ🔑", "m1", "m2", "absent"])
        .await
        .unwrap();
    let unicode = got[0].as_ref().expect("the unicode key");
    assert_eq!(unicode.value.to_map()["unicode"], "ключ");
    assert_ttl_near(unicode.remaining_ttl().map(|d| d.as_secs_f64()), 100.0);
    for (i, e) in got[1..3].iter().enumerate() {
        let e = e.as_ref().expect("put_many entry");
        assert_eq!(e.value.to_map()["m"], i + 1);
        assert_ttl_near(e.remaining_ttl().map(|d| d.as_secs_f64()), 200.0);
    }
    assert!(got[3].is_none());
    tokio::time::sleep(EXPIRY_WAIT).await;
    assert_eq!(store.get(c, "short").await.unwrap(), None);
    let mut keys = store.keys(c).await.unwrap();
    keys.sort();
    assert_eq!(keys, ["forever", "m1", "m2", "with-ttl", "ключ🔑"]);
}

/// Write, through `store`, what Python reads in [`check_what_python_read`]; then Python
/// writes [`python_overwrite`] and Stowage overwrites it with [`stowage_overwrites`].
pub async fn stowage_writes<S: KeyValueStore + ?Sized>(store: &S, collection: &str) {
    let c = collection;
    store
        .put(c, "with-ttl", obj(rich()), Some(Duration::from_secs(300)))
        .await
        .unwrap();
    store
        .put(c, "forever", obj(json!({"a": 1})), None)
        .await
        .unwrap();
    store
        .put(
            c,
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
        .put_many(c, &many, Some(Duration::from_secs(200)))
        .await
        .unwrap();
}

/// The entry Python writes with a TTL before Stowage overwrites it without one.
pub fn python_overwrite() -> Json {
    json!({"entries": [{"key": "overwritten", "value": {"v": "python"}, "ttl": 60.0}]})
}

/// Overwrite Python's entry without a TTL: it must never expire on either side.
pub async fn stowage_overwrites<S: KeyValueStore + ?Sized>(store: &S, collection: &str) {
    store
        .put(collection, "overwritten", obj(json!({"v": "rust"})), None)
        .await
        .unwrap();
    tokio::time::sleep(EXPIRY_WAIT).await;
}

/// The keys Python's runner reads back (its `read` payload).
pub fn python_reads() -> Json {
    json!({"keys": ["with-ttl", "forever", "short", "m1", "ключ🔑", "overwritten", "absent"]})
}

/// Check what Python read (one `{"value", "ttl"}` or `null` per key of [`python_reads`]).
pub fn check_what_python_read(read: &Json) {
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
