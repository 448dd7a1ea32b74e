//! Damaged bytes in a stored record: a typed error for that key, never a panic, and every other
//! key still reads.

use serde_json::json;
use stowage_core::{ErrorKind, KeyValueStore, Value};
use stowage_sled::SledStore;

fn value(i: usize) -> Value {
    Value::try_from(json!({"i": i, "text": format!("MARKER-{i:04}-{}", "y".repeat(200))})).unwrap()
}

/// Flip bytes inside one stored value. The record is rewritten through sled, so sled's own log
/// checksums stay valid (as after a bit flip in memory before a write); only the envelope's CRC
/// can tell.
#[tokio::test]
async fn flipped_bytes_in_one_record_are_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sled");
    {
        let store = SledStore::builder(&path).no_sweeper().open().unwrap();
        for i in 0..10 {
            store
                .put("c", &format!("k{i}"), value(i), None)
                .await
                .unwrap();
        }
    }
    {
        // sled frees the directory lock from background threads just after a drop: wait for it.
        let db = loop {
            match stowage_sled::sled::open(&path) {
                Ok(db) => break db,
                Err(e) if e.to_string().contains("could not acquire lock") => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("{e}"),
            }
        };
        let tree = db.open_tree("stowage").unwrap();
        let pk = stowage_core::codec::binary::physical_key("c", "k5");
        let mut record = tree.get(&pk).unwrap().unwrap().to_vec();
        let at = record.len() / 2;
        record[at] ^= 0x01;
        record[at + 1] ^= 0x01;
        tree.insert(pk, record).unwrap();
        db.flush().unwrap();
    }
    let store = SledStore::builder(&path).no_sweeper().open().unwrap();
    // A second store on the same live directory is refused with a typed, retryable error.
    let locked = SledStore::builder(&path).no_sweeper().open().unwrap_err();
    assert_eq!(locked.kind(), ErrorKind::Unavailable, "{locked}");
    let err = store.get("c", "k5").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupted, "{err}");
    assert_eq!(
        store.ttl("c", "k5").await.unwrap_err().kind(),
        ErrorKind::Corrupted
    );
    for i in (0..10).filter(|&i| i != 5) {
        assert_eq!(
            store.get("c", &format!("k{i}")).await.unwrap(),
            Some(value(i)),
            "k{i}"
        );
    }
    assert!(store.keys("c").await.unwrap().contains(&"k5".to_string()));
    assert!(store.delete("c", "k5").await.unwrap());
    store.put("c", "k5", value(55), None).await.unwrap();
    assert_eq!(store.get("c", "k5").await.unwrap(), Some(value(55)));
}
