//! A stored compressed envelope whose data is the fuzzer's bytes (as base64): reading it
//! through the layer gives a value or a typed error, within the decompression limit.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::compression::CompressionLayer;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let raw = MemoryStore::new();
    let store = raw
        .clone()
        .layer(CompressionLayer::builder().max_decompressed(1 << 20).build());
    let stored = serde_json::json!({
        "__compressed_data__": base64::engine::general_purpose::STANDARD.encode(data),
        "__compression_version__": 1,
        "__compression_algorithm__": "gzip",
    });
    runtime().block_on(async {
        raw.put("c", "k", Value::try_from(stored).unwrap(), None).await.unwrap();
        if let Err(e) = store.get("c", "k").await {
            assert!(matches!(e.kind(), ErrorKind::Corrupted | ErrorKind::ValueTooLarge));
        }
    });
});
