//! Damaged bytes on disk: a typed error for the damaged key, never a panic, and every other key
//! still reads.

use serde_json::json;
use stowage_core::{ErrorKind, KeyValueStore, Value};
use stowage_disk::DiskStore;
use stowage_disk::redb::{self, ReadableDatabase};

const TABLE: redb::TableDefinition<'static, &[u8], &[u8]> = redb::TableDefinition::new("stowage");

fn value(i: usize) -> Value {
    Value::try_from(json!({"i": i, "text": format!("MARKER-{i:04}-{}", "y".repeat(200))})).unwrap()
}

fn physical(key: &str) -> Vec<u8> {
    stowage_core::codec::binary::physical_key("c", key)
}

async fn write_ten(path: &std::path::Path) {
    let store = DiskStore::builder(path).no_sweeper().open().unwrap();
    for i in 0..10 {
        store
            .put("c", &format!("k{i}"), value(i), None)
            .await
            .unwrap();
    }
}

async fn check_only_k5_is_damaged(path: &std::path::Path) {
    let store = DiskStore::builder(path).no_sweeper().open().unwrap();
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
    // The damaged key is still listed, can be deleted, and the key is usable again.
    assert!(store.keys("c").await.unwrap().contains(&"k5".to_string()));
    assert!(store.delete("c", "k5").await.unwrap());
    store.put("c", "k5", value(55), None).await.unwrap();
    assert_eq!(store.get("c", "k5").await.unwrap(), Some(value(55)));
}

/// Flip bytes inside one stored value (the record is rewritten through redb, so redb's own page
/// checksums stay valid, as after a bit flip in memory before a write).
#[tokio::test]
async fn flipped_bytes_in_one_record_are_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    write_ten(&path).await;
    {
        let db = redb::Database::open(&path).unwrap();
        let mut record = {
            let txn = db.begin_read().unwrap();
            let table = txn.open_table(TABLE).unwrap();
            table
                .get(physical("k5").as_slice())
                .unwrap()
                .unwrap()
                .value()
                .to_vec()
        };
        // Inside the JSON text: still valid JSON, a different value. Only the checksum knows.
        let at = record.len() / 2;
        record[at] ^= 0x01;
        record[at + 1] ^= 0x01;
        let txn = db.begin_write().unwrap();
        txn.open_table(TABLE)
            .unwrap()
            .insert(physical("k5").as_slice(), record.as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    check_only_k5_is_damaged(&path).await;
}

/// Flip a byte of one value directly in the database file, where redb does not look.
#[tokio::test]
async fn flipped_byte_in_the_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    write_ten(&path).await;
    let mut bytes = std::fs::read(&path).unwrap();
    let marker = b"MARKER-0005-";
    let mut hits = 0;
    let mut at = 0;
    while let Some(pos) = bytes[at..].windows(marker.len()).position(|w| w == marker) {
        // Every copy (redb keeps old pages until reused); the live one is among them.
        let i = at + pos + marker.len() + 3;
        bytes[i] ^= 0x04;
        hits += 1;
        at = i;
    }
    assert!(hits > 0, "the value is stored in the file uncompressed");
    std::fs::write(&path, &bytes).unwrap();
    check_only_k5_is_damaged(&path).await;
}
