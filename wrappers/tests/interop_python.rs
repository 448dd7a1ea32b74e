//! Interop with the real Python package: py-key-value-aio's FernetEncryptionWrapper and
//! CompressionWrapper read what these layers write, and the other way round.
//!
//! Needs `STOWAGE_TEST_PYTHON` (the venv built by `scripts/test.sh`); fails without it.

use serde_json::{Value as Json, json};
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::compression::CompressionLayer;
use stowage_wrappers::fernet::{FernetKey, FernetLayer};

fn python(request: Json) -> Json {
    let script = stowage_core::testkit::python::package_file("tests/py/interop.py");
    stowage_core::testkit::python::run_json(&script, &[], Some(&request))
}

fn samples() -> Vec<Json> {
    vec![
        json!({"access_token": "abc", "expires_in": 3600, "scopes": ["read", "write"]}),
        json!({}),
        json!({"unicode": "🔑 ключ 保存", "escapes": "\"\\\n\t", "nested": {"a": [1, 2.5, null, true]}}),
        json!({"big": "x".repeat(100_000)}),
    ]
}

fn values() -> Vec<Value> {
    samples()
        .into_iter()
        .map(|j| Value::try_from(j).unwrap())
        .collect()
}

async fn rust_write(layer: FernetLayer, values: &[Value]) -> Vec<Json> {
    let raw = MemoryStore::new();
    let store = raw.clone().layer(layer);
    let mut stored = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let k = format!("k{i}");
        store.put("interop", &k, v.clone(), None).await.unwrap();
        let s = raw.get("interop", &k).await.unwrap().unwrap();
        stored.push(serde_json::from_str::<Json>(s.as_str()).unwrap());
    }
    stored
}

async fn rust_read(layer: FernetLayer, stored: &[Json]) -> Vec<stowage_core::Result<Value>> {
    let raw = MemoryStore::new();
    let store = raw.clone().layer(layer);
    let mut out = Vec::new();
    for (i, s) in stored.iter().enumerate() {
        let k = format!("k{i}");
        raw.put("interop", &k, Value::try_from(s.clone()).unwrap(), None)
            .await
            .unwrap();
        out.push(store.get("interop", &k).await.map(|v| v.expect("stored")));
    }
    out
}

fn assert_envelope(stored: &Json) {
    let map = stored.as_object().expect("an object");
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(map["__encrypted_data__"].is_string());
    assert_eq!(map["__encryption_version__"], json!(1));
}

#[tokio::test]
async fn rust_encrypts_python_decrypts() {
    let key = FernetKey::generate_text();
    let stored = rust_write(
        FernetLayer::new(FernetKey::from_base64(&key).unwrap()),
        &values(),
    )
    .await;
    stored.iter().for_each(assert_envelope);
    let answer = python(json!({"op": "decrypt", "key": key.as_str(), "stored": stored}));
    assert_eq!(answer["values"], json!(samples()), "{answer}");
}

#[tokio::test]
async fn python_encrypts_rust_decrypts() {
    let key = FernetKey::generate_text();
    let answer = python(json!({"op": "encrypt", "key": key.as_str(), "values": samples()}));
    let stored = answer["stored"].as_array().unwrap().clone();
    stored.iter().for_each(assert_envelope);
    let read = rust_read(
        FernetLayer::new(FernetKey::from_base64(&key).unwrap()),
        &stored,
    )
    .await;
    for (got, want) in read.into_iter().zip(samples()) {
        assert_eq!(got.unwrap().to_map(), *want.as_object().unwrap());
    }
}

#[tokio::test]
async fn the_same_passphrase_opens_the_same_data() {
    let (source, salt) = ("correct horse battery staple", "stowage-salt");
    let key = tokio::task::spawn_blocking(move || FernetKey::derive(source, salt).unwrap())
        .await
        .unwrap();
    let layer = FernetLayer::new(key);
    // Rust → Python
    let stored = rust_write(layer.clone(), &values()).await;
    let answer =
        python(json!({"op": "decrypt", "source_material": source, "salt": salt, "stored": stored}));
    assert_eq!(answer["values"], json!(samples()), "{answer}");
    // Python → Rust
    let answer = python(
        json!({"op": "encrypt", "source_material": source, "salt": salt, "values": samples()}),
    );
    let read = rust_read(layer, answer["stored"].as_array().unwrap()).await;
    for (got, want) in read.into_iter().zip(samples()) {
        assert_eq!(got.unwrap().to_map(), *want.as_object().unwrap());
    }
}

#[tokio::test]
async fn a_different_passphrase_does_not() {
    let answer = python(
        json!({"op": "encrypt", "source_material": "one", "salt": "s", "values": [{"a": 1}]}),
    );
    let key = tokio::task::spawn_blocking(|| FernetKey::derive("two", "s").unwrap())
        .await
        .unwrap();
    let read = rust_read(FernetLayer::new(key), answer["stored"].as_array().unwrap()).await;
    assert_eq!(
        read[0].as_ref().unwrap_err().kind(),
        ErrorKind::DecryptionFailed
    );
}

#[tokio::test]
async fn rotation_is_understood_on_both_sides() {
    let (a, b) = (FernetKey::generate_text(), FernetKey::generate_text());
    // Written by Rust under A, read by Python's MultiFernet([B, A]).
    let stored = rust_write(
        FernetLayer::new(FernetKey::from_base64(&a).unwrap()),
        &values(),
    )
    .await;
    let answer =
        python(json!({"op": "decrypt", "key": [b.as_str(), a.as_str()], "stored": stored}));
    assert_eq!(answer["values"], json!(samples()), "{answer}");
    // Python with B alone cannot.
    let answer = python(json!({"op": "decrypt", "key": b.as_str(), "stored": stored}));
    assert_eq!(answer["error"], "DecryptionError", "{answer}");
    // Written by Python under MultiFernet([B, A]) (so under B), read by Rust with [A, B].
    let answer =
        python(json!({"op": "encrypt", "key": [b.as_str(), a.as_str()], "values": samples()}));
    let layer = FernetLayer::builder()
        .key(FernetKey::from_base64(&a).unwrap())
        .key(FernetKey::from_base64(&b).unwrap())
        .build()
        .unwrap();
    let read = rust_read(layer, answer["stored"].as_array().unwrap()).await;
    assert!(read.iter().all(Result::is_ok));
}

#[tokio::test]
async fn compression_formats_match() {
    let raw = MemoryStore::new();
    let store = raw
        .clone()
        .layer(CompressionLayer::builder().min_size(64).build());
    // Rust → Python
    let mut stored = Vec::new();
    for (i, v) in values().into_iter().enumerate() {
        let k = format!("k{i}");
        store.put("c", &k, v, None).await.unwrap();
        let s = raw.get("c", &k).await.unwrap().unwrap();
        stored.push(serde_json::from_str::<Json>(s.as_str()).unwrap());
    }
    assert!(
        stored[3].get("__compressed_data__").is_some(),
        "the big value is compressed"
    );
    assert_eq!(stored[3]["__compression_algorithm__"], "gzip");
    let answer = python(json!({"op": "decompress", "stored": stored}));
    assert_eq!(answer["values"], json!(samples()), "{answer}");
    // Python → Rust
    let answer = python(json!({"op": "compress", "min_size": 64, "values": samples()}));
    let py_stored = answer["stored"].as_array().unwrap();
    assert!(py_stored[3].get("__compressed_data__").is_some());
    for (i, (s, want)) in py_stored.iter().zip(samples()).enumerate() {
        let k = format!("p{i}");
        raw.put("c", &k, Value::try_from(s.clone()).unwrap(), None)
            .await
            .unwrap();
        let got = store.get("c", &k).await.unwrap().unwrap();
        assert_eq!(got.to_map(), *want.as_object().unwrap());
    }
}
