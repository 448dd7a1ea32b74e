//! Property tests of the layers that decode what they stored: any stored object — a damaged
//! Fernet token, a damaged gzip stream, an envelope of the wrong shape — reads as a typed error
//! or a value, never a panic; and any value round-trips through the layer with its text intact.

use std::io::Write as _;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use proptest::prelude::*;
use stowage_core::testkit::arbitrary::object_text;
use stowage_core::{DynStore, ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::compression::CompressionLayer;
use stowage_wrappers::fernet::{FernetKey, FernetLayer};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn fernet_key() -> FernetKey {
    FernetKey::from_base64(
        &STANDARD
            .encode([7u8; 32])
            .replace('+', "-")
            .replace('/', "_"),
    )
    .unwrap()
}

fn fernet(raw: &MemoryStore) -> DynStore {
    std::sync::Arc::new(raw.clone().layer(FernetLayer::new(fernet_key())))
}

fn compressed(raw: &MemoryStore) -> DynStore {
    std::sync::Arc::new(
        raw.clone()
            .layer(CompressionLayer::builder().min_size(0).build()),
    )
}

/// Plant `stored` under `c`/`k` in `raw` and read it through `layered`: a value or one of the
/// errors a reader of damaged data may get, never a panic.
fn read_planted(raw: &MemoryStore, layered: &DynStore, stored: &serde_json::Value) {
    runtime().block_on(async {
        let Ok(value) = Value::try_from(stored.clone()) else {
            return;
        };
        raw.put("c", "k", value, None).await.unwrap();
        if let Err(e) = layered.get("c", "k").await {
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::Corrupted | ErrorKind::DecryptionFailed | ErrorKind::ValueTooLarge
                ),
                "{e}"
            );
        }
    });
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Base64 text that a decoder will look into: of arbitrary bytes, of a real token or gzip
/// stream with bytes changed, or arbitrary text.
fn payload(real: Vec<u8>, url_safe: bool) -> impl Strategy<Value = String> {
    let len = real.len().max(1);
    let encode = move |b: &[u8]| {
        if url_safe {
            URL_SAFE.encode(b)
        } else {
            STANDARD.encode(b)
        }
    };
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200).prop_map(move |b| encode(&b)),
        prop::collection::vec((0..len, any::<u8>()), 1..4).prop_map(move |edits| {
            let mut b = real.clone();
            for (at, byte) in edits {
                let at = at.min(b.len() - 1);
                b[at] = byte;
            }
            encode(&b)
        }),
        ".{0,80}",
    ]
}

fn sealed_token() -> Vec<u8> {
    let raw = MemoryStore::new();
    runtime().block_on(async {
        fernet(&raw)
            .put("c", "k", Value::from_json(r#"{"a":1}"#).unwrap(), None)
            .await
            .unwrap();
        let stored = raw.get("c", "k").await.unwrap().unwrap().to_map();
        // The stored data is standard base64 of the token's text.
        STANDARD
            .decode(stored["__encrypted_data__"].as_str().unwrap())
            .unwrap()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_stored_fernet_envelope_reads_as_a_value_or_a_typed_error(
        data in payload(sealed_token(), false),
        version in prop_oneof![Just(serde_json::json!(1)), any::<i64>().prop_map(serde_json::Value::from), Just(serde_json::json!("1"))],
        extra in proptest::bool::ANY,
    ) {
        let raw = MemoryStore::new();
        let mut stored = serde_json::json!({"__encrypted_data__": data, "__encryption_version__": version});
        if extra {
            stored["other"] = serde_json::json!(true);
        }
        read_planted(&raw, &fernet(&raw), &stored);
    }

    #[test]
    fn any_stored_compressed_envelope_reads_as_a_value_or_a_typed_error(
        data in payload(gzip(br#"{"a":"some text to compress"}"#), false),
        algorithm in prop_oneof![Just("gzip".to_owned()), ".{0,6}"],
    ) {
        let raw = MemoryStore::new();
        let stored = serde_json::json!({
            "__compressed_data__": data,
            "__compression_version__": 1,
            "__compression_algorithm__": algorithm,
        });
        read_planted(&raw, &compressed(&raw), &stored);
    }

    #[test]
    fn gzip_of_anything_reads_as_a_value_or_a_typed_error(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let raw = MemoryStore::new();
        let stored = serde_json::json!({
            "__compressed_data__": STANDARD.encode(gzip(&bytes)),
            "__compression_version__": 1,
            "__compression_algorithm__": "gzip",
        });
        read_planted(&raw, &compressed(&raw), &stored);
    }

    #[test]
    fn values_round_trip_through_fernet_and_compression_with_their_text(text in object_text()) {
        let raw = MemoryStore::new();
        for store in [fernet(&raw), compressed(&raw)] {
            let back = runtime().block_on(async {
                store.put("c", "k", Value::from_json(&text).unwrap(), None).await.unwrap();
                store.get("c", "k").await.unwrap().unwrap()
            });
            prop_assert_eq!(back.as_str(), text.as_str());
        }
    }
}
