//! Property tests of the stored formats: every decoder of stored bytes gives a typed error or a
//! value for any input, never a panic; values round-trip through both envelopes with their text
//! (numbers included) exactly as written.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use stowage_core::codec::{binary, json};
use stowage_core::testkit::arbitrary::object_text;
use stowage_core::{Entry, ErrorKind, Value};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A stored envelope of either format, then damaged: bytes replaced, cut or inserted.
fn damaged(bytes: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = bytes.len().max(1);
    prop::collection::vec((0..len, any::<u8>(), 0u8..3), 1..6).prop_map(move |edits| {
        let mut b = bytes.clone();
        for (at, byte, kind) in edits {
            let at = at.min(b.len());
            match kind {
                0 if at < b.len() => b[at] = byte,
                1 => b.truncate(at),
                _ => b.insert(at, byte),
            }
        }
        b
    })
}

fn envelopes() -> impl Strategy<Value = Vec<u8>> {
    object_text().prop_flat_map(|text| {
        let value = Value::from_json(&text).unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let entry = Entry::new(value.clone(), Some(at), Some(at + Duration::from_secs(60)));
        let binary = binary::encode(&entry);
        let json = json::encode("c", "k", &value, Some(at), None).into_bytes();
        prop_oneof![damaged(binary), damaged(json)]
    })
}

fn decode_everything(bytes: &[u8]) {
    let now = SystemTime::now();
    for result in [
        binary::decode(bytes).map(drop),
        binary::decode_header(bytes).map(drop),
        binary::decode_live(bytes, now).map(drop),
        json::decode(bytes).map(drop),
        json::decode_entry(bytes).map(drop),
    ] {
        if let Err(e) = result {
            // Stored bytes that cannot be read are corruption, never a panic or a caller error.
            assert_eq!(e.kind(), ErrorKind::Corrupted, "{e}");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes);
    }

    #[test]
    fn damaged_envelopes_never_panic_a_decoder(bytes in envelopes()) {
        decode_everything(&bytes);
    }

    #[test]
    fn values_keep_their_text(text in object_text()) {
        let value = Value::from_json(&text).unwrap();
        prop_assert_eq!(value.as_str(), text.as_str());
    }

    #[test]
    fn the_binary_envelope_round_trips(text in object_text(), secs in 0u64..4_000_000_000) {
        let value = Value::from_json(&text).unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let entry = Entry::new(value, Some(at), Some(at + Duration::from_millis(1500)));
        let back = binary::decode(&binary::encode(&entry)).unwrap();
        prop_assert_eq!(back.value.as_str(), text.as_str());
        prop_assert_eq!(back.expires_at, entry.expires_at);
    }

    #[test]
    fn the_json_envelope_round_trips(
        text in object_text(),
        collection in "[^:]{1,12}",
        key in ".{1,12}",
    ) {
        let value = Value::from_json(&text).unwrap();
        let stored = json::encode(&collection, &key, &value, None, None);
        let back = json::decode(stored.as_bytes()).unwrap();
        prop_assert_eq!(back.value.as_str(), text.as_str());
        prop_assert_eq!(back.collection.as_deref(), Some(collection.as_str()));
        prop_assert_eq!(back.key.as_deref(), Some(key.as_str()));
    }
}
