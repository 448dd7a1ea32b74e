//! A stored Fernet envelope whose data is the fuzzer's bytes (as base64, and as text): reading
//! it through the layer gives a value or a typed error.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::fernet::{FernetKey, FernetLayer};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let key = FernetKey::from_base64(&base64::engine::general_purpose::URL_SAFE.encode([7u8; 32]))
        .unwrap();
    let raw = MemoryStore::new();
    let store = raw.clone().layer(FernetLayer::new(key));
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let text = String::from_utf8_lossy(data).into_owned();
    runtime().block_on(async {
        for payload in [b64, text] {
            let stored = serde_json::json!({"__encrypted_data__": payload, "__encryption_version__": 1});
            raw.put("c", "k", Value::try_from(stored).unwrap(), None).await.unwrap();
            if let Err(e) = store.get("c", "k").await {
                assert!(matches!(e.kind(), ErrorKind::Corrupted | ErrorKind::DecryptionFailed));
            }
        }
    });
});
