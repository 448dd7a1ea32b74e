//! Fernet layer: typed failures, rotation, and secrets kept out of Debug output and logs.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::json;
use stowage_core::testkit::{assert_kind, obj};
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::fernet::{FernetKey, FernetLayer};

fn key(text: &str) -> FernetKey {
    FernetKey::from_base64(text).unwrap()
}

fn fresh() -> (String, FernetLayer) {
    let text = FernetKey::generate_text().to_string();
    let layer = FernetLayer::new(key(&text));
    (text, layer)
}

/// Write one value through `layer` and return the envelope's encrypted data.
async fn sealed_data(raw: &MemoryStore, layer: &FernetLayer) -> String {
    let store = raw.clone().layer(layer.clone());
    store
        .put("c", "k", obj(json!({"secret": "hunter2"})), None)
        .await
        .unwrap();
    let stored = raw.get("c", "k").await.unwrap().unwrap().to_map();
    stored["__encrypted_data__"].as_str().unwrap().to_owned()
}

async fn plant(raw: &MemoryStore, envelope: serde_json::Value) {
    raw.put("c", "k", obj(envelope), None).await.unwrap();
}

#[tokio::test]
async fn wrong_key_is_decryption_failed_or_a_miss() {
    let raw = MemoryStore::new();
    let (_, a) = fresh();
    let (_, b) = fresh();
    sealed_data(&raw, &a).await;
    let wrong = raw.clone().layer(b);
    assert_kind(wrong.get("c", "k").await, ErrorKind::DecryptionFailed);
    assert_kind(
        wrong.get_many("c", &["k"]).await,
        ErrorKind::DecryptionFailed,
    );
    assert_kind(wrong.ttl("c", "k").await, ErrorKind::DecryptionFailed);
    assert_kind(
        wrong.ttl_many("c", &["k"]).await,
        ErrorKind::DecryptionFailed,
    );

    let (_, c) = fresh();
    let lenient = raw.clone().layer(
        FernetLayer::builder()
            .keys([
                key(&FernetKey::generate_text()),
                key(&FernetKey::generate_text()),
            ])
            .miss_on_failure(true)
            .build()
            .unwrap(),
    );
    assert_eq!(lenient.get("c", "k").await.unwrap(), None);
    assert_eq!(
        lenient.get_many("c", &["k", "x"]).await.unwrap(),
        vec![None, None]
    );
    assert_eq!(lenient.ttl("c", "k").await.unwrap(), None);
    drop(c);
    // The data is untouched by failed reads.
    assert!(raw.clone().layer(a).get("c", "k").await.unwrap().is_some());
}

#[tokio::test]
async fn truncated_token_is_decryption_failed() {
    let raw = MemoryStore::new();
    let (_, layer) = fresh();
    let data = sealed_data(&raw, &layer).await;
    let token = STANDARD.decode(&data).unwrap();
    // Padding `=` carries no data (dropping it leaves the same token): cut real characters.
    let token = String::from_utf8(token)
        .unwrap()
        .trim_end_matches('=')
        .to_owned();
    let token = token.as_bytes();
    for cut in [1, 10, 40, token.len() - 1] {
        let short = STANDARD.encode(&token[..token.len() - cut]);
        plant(
            &raw,
            json!({"__encrypted_data__": short, "__encryption_version__": 1}),
        )
        .await;
        let store = raw.clone().layer(layer.clone());
        assert_kind(store.get("c", "k").await, ErrorKind::DecryptionFailed);
    }
    // Cut inside the outer base64 itself.
    plant(
        &raw,
        json!({"__encrypted_data__": &data[..data.len() - 3], "__encryption_version__": 1}),
    )
    .await;
    let store = raw.clone().layer(layer);
    assert_kind(store.get("c", "k").await, ErrorKind::DecryptionFailed);
}

#[tokio::test]
async fn tampered_ciphertext_is_decryption_failed() {
    let raw = MemoryStore::new();
    let (_, layer) = fresh();
    let data = sealed_data(&raw, &layer).await;
    let token_text = String::from_utf8(STANDARD.decode(&data).unwrap()).unwrap();
    let mut token = URL_SAFE.decode(&token_text).unwrap();
    // Flip one bit in the timestamp, the IV, the ciphertext and the HMAC in turn.
    for at in [3, 12, 30, token.len() - 5] {
        token[at] ^= 0x01;
        let text = STANDARD.encode(URL_SAFE.encode(&token));
        token[at] ^= 0x01;
        plant(
            &raw,
            json!({"__encrypted_data__": text, "__encryption_version__": 1}),
        )
        .await;
        let store = raw.clone().layer(layer.clone());
        assert_kind(store.get("c", "k").await, ErrorKind::DecryptionFailed);
    }
    // Garbage that is not base64 at all.
    plant(
        &raw,
        json!({"__encrypted_data__": "%%%not base64%%%", "__encryption_version__": 1}),
    )
    .await;
    assert_kind(
        raw.clone().layer(layer).get("c", "k").await,
        ErrorKind::DecryptionFailed,
    );
}

#[tokio::test]
async fn unknown_version_and_malformed_envelopes_are_corrupted() {
    let raw = MemoryStore::new();
    let (_, layer) = fresh();
    let data = sealed_data(&raw, &layer).await;
    let store = raw.clone().layer(layer.clone());
    for envelope in [
        json!({"__encrypted_data__": data, "__encryption_version__": 2}),
        json!({"__encrypted_data__": data, "__encryption_version__": 0}),
        json!({"__encrypted_data__": data, "__encryption_version__": "1"}),
        json!({"__encrypted_data__": data, "__encryption_version__": 1.5}),
        json!({"__encrypted_data__": data}),
        json!({"__encrypted_data__": 42, "__encryption_version__": 1}),
        json!({"__encrypted_data__": null, "__encryption_version__": 1}),
    ] {
        plant(&raw, envelope.clone()).await;
        assert_kind(store.get("c", "k").await, ErrorKind::Corrupted);
        let err = store.get("c", "k").await.unwrap_err();
        assert!(!err.message().is_empty(), "{envelope}");
    }
    // The same envelope, members reordered and spaced: still read.
    plant(
        &raw,
        json!({"__encryption_version__": 1, "__encrypted_data__": data}),
    )
    .await;
    assert!(store.get("c", "k").await.unwrap().is_some());
    // With miss_on_failure, all of these read as misses.
    let lenient = raw.clone().layer(
        FernetLayer::builder()
            .key(key(&FernetKey::generate_text()))
            .miss_on_failure(true)
            .build()
            .unwrap(),
    );
    plant(
        &raw,
        json!({"__encrypted_data__": data, "__encryption_version__": 9}),
    )
    .await;
    assert_eq!(lenient.get("c", "k").await.unwrap(), None);
}

#[tokio::test]
async fn plaintext_is_refused_unless_accepted() {
    let raw = MemoryStore::new();
    let (text, layer) = fresh();
    plant(&raw, json!({"plain": true})).await;
    assert_kind(
        raw.clone().layer(layer).get("c", "k").await,
        ErrorKind::DecryptionFailed,
    );
    let accepting = raw.clone().layer(
        FernetLayer::builder()
            .key(key(&text))
            .accept_plaintext(true)
            .build()
            .unwrap(),
    );
    assert_eq!(
        accepting.get("c", "k").await.unwrap().unwrap().to_map()["plain"],
        true
    );
    // Migrating: the re-encrypt helper encrypts it.
    let report = accepting.reencrypt_collection("c").await.unwrap();
    assert_eq!(report.reencrypted, 1);
    let stored = raw.get("c", "k").await.unwrap().unwrap();
    assert!(stored.to_map().contains_key("__encrypted_data__"));
    assert!(
        raw.clone()
            .layer(FernetLayer::new(key(&text)))
            .get("c", "k")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn rotation() {
    let raw = MemoryStore::new();
    let (a, b) = (
        FernetKey::generate_text().to_string(),
        FernetKey::generate_text().to_string(),
    );
    let data: Vec<(String, Value)> = (0..300)
        .map(|i| {
            (
                format!("key-{i}"),
                obj(json!({"i": i, "token": format!("t{i}")})),
            )
        })
        .collect();
    let entries: Vec<(&str, Value)> = data.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();

    // 1. Write under key A (one entry with a TTL, to check it is kept).
    let under_a = raw.clone().layer(FernetLayer::new(key(&a)));
    under_a.put_many("tokens", &entries, None).await.unwrap();
    under_a
        .put_many("other", &entries[..5], None)
        .await
        .unwrap();
    under_a
        .put(
            "tokens",
            "expiring",
            obj(json!({"e": 1})),
            Some(Duration::from_secs(600)),
        )
        .await
        .unwrap();

    // 2. Keys [B, A]: everything still reads; new writes use B.
    let rotating = raw.clone().layer(
        FernetLayer::builder()
            .key(key(&b))
            .key(key(&a))
            .build()
            .unwrap(),
    );
    let keys: Vec<&str> = data.iter().map(|(k, _)| k.as_str()).collect();
    let got = rotating.get_many("tokens", &keys).await.unwrap();
    for ((_, want), got) in data.iter().zip(&got) {
        assert_eq!(got.as_ref(), Some(want));
    }
    rotating
        .put(
            "tokens",
            "written-during-rotation",
            obj(json!({"new": 1})),
            None,
        )
        .await
        .unwrap();

    // 3. Re-encrypt.
    let report = rotating.reencrypt_all().await.unwrap();
    assert_eq!(report.examined, 300 + 1 + 1 + 5);
    assert_eq!(report.reencrypted, 300 + 1 + 5);
    assert_eq!(report.current, 1);
    assert_eq!(report.failed, 0);
    let again = rotating.reencrypt_all().await.unwrap();
    assert_eq!(again.reencrypted, 0);

    // 4. Keys [B] alone: everything still reads, TTLs kept.
    let under_b = raw.clone().layer(FernetLayer::new(key(&b)));
    let got = under_b.get_many("tokens", &keys).await.unwrap();
    for ((_, want), got) in data.iter().zip(&got) {
        assert_eq!(got.as_ref(), Some(want));
    }
    assert!(
        under_b
            .get("tokens", "written-during-rotation")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        under_b.get_many("other", &keys[..5]).await.unwrap().len(),
        5
    );
    let left = under_b
        .ttl("tokens", "expiring")
        .await
        .unwrap()
        .unwrap()
        .remaining_ttl()
        .unwrap();
    assert!(left > Duration::from_secs(590) && left <= Duration::from_secs(600));
    // And A alone no longer opens anything.
    assert_kind(
        raw.clone()
            .layer(FernetLayer::new(key(&a)))
            .get("tokens", "key-0")
            .await,
        ErrorKind::DecryptionFailed,
    );
}

#[tokio::test]
async fn reencrypt_counts_undecryptable_entries_and_leaves_them() {
    let raw = MemoryStore::new();
    let (_, stranger) = fresh();
    sealed_data(&raw, &stranger).await;
    let before = raw.get("c", "k").await.unwrap();
    let (_, mine) = fresh();
    let report = raw
        .clone()
        .layer(mine)
        .reencrypt_collection("c")
        .await
        .unwrap();
    assert_eq!(
        (report.examined, report.failed, report.reencrypted),
        (1, 1, 0)
    );
    assert_eq!(raw.get("c", "k").await.unwrap(), before);
}

#[test]
fn bad_keys_are_config_errors() {
    for text in ["", "short", "!!!!", &"A".repeat(42), &"A".repeat(100)] {
        assert_kind(FernetKey::from_base64(text), ErrorKind::Config);
    }
    assert_kind(FernetKey::derive("", "salt"), ErrorKind::Config);
    assert_kind(FernetKey::derive("   ", "salt"), ErrorKind::Config);
    assert_kind(FernetKey::derive("source", " "), ErrorKind::Config);
    assert_kind(FernetLayer::builder().build(), ErrorKind::Config);
}

#[tokio::test]
async fn key_material_never_shows() {
    let text = FernetKey::generate_text().to_string();
    let raw_bytes = URL_SAFE.decode(&text).unwrap();
    let layer = FernetLayer::builder()
        .key(key(&text))
        .key(key(&text))
        .build()
        .unwrap();
    let store = MemoryStore::new().layer(layer.clone());
    let err = FernetKey::from_base64(&text[..20]).unwrap_err();
    let (_, other) = fresh();
    store
        .put("c", "k", obj(json!({"a": 1})), None)
        .await
        .unwrap();
    let decrypt_err = store
        .inner()
        .clone()
        .layer(other)
        .get("c", "k")
        .await
        .unwrap_err();
    let shown = format!(
        "{:?} {:?} {:?} {:?} {err} {err:?} {decrypt_err} {decrypt_err:?}",
        key(&text),
        layer,
        store,
        FernetLayer::builder().key(key(&text))
    );
    assert!(!shown.contains(&text), "{shown}");
    assert!(!shown.contains(&text[..20]), "{shown}");
    for window in raw_bytes.windows(4) {
        assert!(!shown.contains(&format!("{window:?}")[1..10]));
    }
    assert!(shown.contains("<redacted>"));
}
