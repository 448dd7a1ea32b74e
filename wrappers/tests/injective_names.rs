//! The names layers build are injective: every pair of names the single-collection layout
//! (`collection__key`) accepts reads back its own value, checked exhaustively over short names
//! made of `a` and `_` (the separator's own character, where collisions would hide); prefixes
//! that would make two prefixed stores share a name are refused.

use serde_json::json;
use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
use stowage_memory::MemoryStore;
use stowage_wrappers::single_collection::SingleCollectionLayer;

/// Every name of 1 to `max` characters over `a` and `_`.
fn names(max: u32) -> Vec<String> {
    (1..=max)
        .flat_map(|len| {
            (0..1u32 << len).map(move |bits| {
                (0..len)
                    .map(|i| if bits >> i & 1 == 1 { '_' } else { 'a' })
                    .collect()
            })
        })
        .collect()
}

#[tokio::test]
async fn every_accepted_pair_reads_back_its_own_value() {
    let store = MemoryStore::new().layer(SingleCollectionLayer::new("all").unwrap());
    let names = names(4);
    let mut accepted = Vec::new();
    for c in &names {
        for k in &names {
            let v = Value::from_serialize(&json!({"c": c, "k": k})).unwrap();
            match store.put(c, k, v.clone(), None).await {
                Ok(()) => accepted.push((c, k, v)),
                Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidCollection, "{c:?} {k:?}"),
            }
        }
    }
    for (c, k, v) in &accepted {
        let got = store.get(c, k).await.unwrap();
        assert_eq!(got.as_ref(), Some(v), "({c:?}, {k:?}) was overwritten");
    }
    // The pair that used to collide: `a_` is refused, `a` + `_b` is an ordinary entry.
    let v = Value::from_serialize(&json!({"v": 1})).unwrap();
    let err = store.put("a_", "b", v.clone(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCollection);
    store.put("a", "_b", v.clone(), None).await.unwrap();
    assert!(
        accepted.len() > names.len(),
        "too few names accepted to mean anything"
    );
}

/// Two prefix layers over one store never share a name: a prefix that contains the separator or
/// ends with its start is refused.
#[test]
fn colliding_prefixes_are_refused() {
    use stowage_wrappers::prefix::{CollectionPrefixLayer, KeyPrefixLayer};
    for bad in ["a_", "a__b", "__"] {
        assert_eq!(
            CollectionPrefixLayer::new(bad).unwrap_err().kind(),
            ErrorKind::Config,
            "{bad}"
        );
        assert_eq!(
            KeyPrefixLayer::new(bad).unwrap_err().kind(),
            ErrorKind::Config,
            "{bad}"
        );
    }
    for good in ["a", "_a", "a_b", "tenant"] {
        assert!(CollectionPrefixLayer::new(good).is_ok(), "{good}");
        assert!(KeyPrefixLayer::new(good).is_ok(), "{good}");
    }
}
