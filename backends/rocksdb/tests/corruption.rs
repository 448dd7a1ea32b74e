//! Damaged bytes on disk: a typed error for the damaged key, never a panic, and every other key
//! still reads.

use serde_json::json;
use stowage_core::{ErrorKind, KeyValueStore, Value};
use stowage_rocksdb::RocksDbStore;

/// Values of about 5 KiB: larger than RocksDB's 4 KiB blocks, so each sits in its own block.
fn value(i: usize) -> Value {
    Value::try_from(json!({"i": i, "text": format!("MARKER-{i:04}-{}", "y".repeat(5000))})).unwrap()
}

async fn write_ten(path: &std::path::Path) {
    let store = RocksDbStore::builder(path)
        .compression(false)
        .open()
        .unwrap();
    for i in 0..10 {
        store
            .put("c", &format!("k{i}"), value(i), None)
            .await
            .unwrap();
    }
    store.flush().await.unwrap();
}

async fn check_only_k5_is_damaged(path: &std::path::Path) {
    let store = RocksDbStore::builder(path)
        .compression(false)
        .open()
        .unwrap();
    let err = store.get("c", "k5").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupted, "{err}");
    assert_eq!(
        store.ttl("c", "k5").await.unwrap_err().kind(),
        ErrorKind::Corrupted
    );
    for i in (0..10).filter(|&i| i != 5) {
        let got = store.get("c", &format!("k{i}")).await.unwrap();
        assert_eq!(got, Some(value(i)), "k{i}");
    }
    // The damaged key can be deleted and written again.
    assert!(store.delete("c", "k5").await.unwrap());
    store.put("c", "k5", value(55), None).await.unwrap();
    assert_eq!(store.get("c", "k5").await.unwrap(), Some(value(55)));
}

/// Flip bytes inside one stored value, rewritten through RocksDB so its own checksums stay valid
/// (as after a bit flip in memory before a write): only the envelope's CRC can tell.
#[tokio::test]
async fn flipped_bytes_in_one_record_are_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.rocksdb");
    write_ten(&path).await;
    {
        let db = stowage_rocksdb::rocksdb::DB::open_default(&path).unwrap();
        let pk = stowage_core::codec::binary::physical_key("c", "k5");
        let mut record = db.get(&pk).unwrap().unwrap();
        let at = record.len() / 2;
        record[at] ^= 0x01;
        record[at + 1] ^= 0x01;
        db.put(&pk, &record).unwrap();
    }
    check_only_k5_is_damaged(&path).await;
    // The keys listing still includes every key (the damaged one was rewritten since).
    let store = RocksDbStore::open(&path).unwrap();
    assert_eq!(store.keys("c").await.unwrap().len(), 10);
}

/// Flip a byte of one value inside an SST file: RocksDB's block checksum catches it, and the
/// error is typed.
#[tokio::test]
async fn flipped_byte_in_an_sst_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.rocksdb");
    write_ten(&path).await;
    let marker = b"MARKER-0005-";
    let mut hits = 0;
    for entry in std::fs::read_dir(&path).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().is_none_or(|e| e != "sst") {
            continue;
        }
        let mut bytes = std::fs::read(&file).unwrap();
        if let Some(pos) = bytes.windows(marker.len()).position(|w| w == marker) {
            bytes[pos + marker.len() + 3] ^= 0x04;
            std::fs::write(&file, &bytes).unwrap();
            hits += 1;
        }
    }
    assert_eq!(
        hits, 1,
        "the value is in exactly one SST file, uncompressed"
    );
    check_only_k5_is_damaged(&path).await;
}
