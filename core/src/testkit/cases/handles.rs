//! Collection and typed handles over the store.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::ErrorKind;
use crate::handles::KeyValueStoreExt;
use crate::testkit::{Store, assert_kind, obj, unique};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Token {
    access_token: String,
    expires_in: u32,
    scopes: Vec<String>,
    refresh: Option<String>,
}

/// A typed handle stores and loads a struct, alone and in batches.
pub async fn typed_handle_round_trips(store: Store) {
    let tokens = store.typed::<Token>(unique("tokens"));
    let t = Token {
        access_token: "at-1".into(),
        expires_in: 3600,
        scopes: vec!["read".into(), "write".into()],
        refresh: None,
    };
    tokens.put("alice", &t, None).await.unwrap();
    assert_eq!(tokens.get("alice").await.unwrap(), Some(t.clone()));
    let t2 = Token {
        access_token: "at-2".into(),
        ..t.clone()
    };
    tokens
        .put_many(&[("bob", &t2)], Some(std::time::Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(
        tokens.get_many(&["alice", "nobody", "bob"]).await.unwrap(),
        vec![Some(t), None, Some(t2.clone())]
    );
    let (loaded, ttl) = tokens.ttl("bob").await.unwrap().expect("bob");
    assert_eq!(loaded, t2);
    assert!(ttl.is_some());
    assert!(tokens.delete("bob").await.unwrap());
    assert_eq!(tokens.get("bob").await.unwrap(), None);
}

/// Loading a stored object of another shape is `InvalidValue`, not a panic.
pub async fn typed_handle_shape_mismatch_is_invalid_value(store: Store) {
    let c = unique("tokens");
    store
        .put(&c, "odd", obj(json!({"access_token": 5})), None)
        .await
        .unwrap();
    let tokens = store.typed::<Token>(c);
    assert_kind(tokens.get("odd").await, ErrorKind::InvalidValue);
}

/// A collection handle reads and writes its own collection only.
pub async fn collection_handle_binds_its_collection(store: Store) {
    let name = unique("sessions");
    let sessions = store.collection(name.clone());
    assert_eq!(sessions.name(), name);
    sessions
        .put("s1", obj(json!({"user": "alice"})), None)
        .await
        .unwrap();
    assert!(store.get(&name, "s1").await.unwrap().is_some());
    assert!(store.get(&unique("other"), "s1").await.unwrap().is_none());
    assert_eq!(sessions.get_many(&["s1", "s2"]).await.unwrap().len(), 2);
    if store.capabilities().keys {
        assert_eq!(sessions.keys().await.unwrap(), vec!["s1".to_string()]);
    }
    assert!(sessions.delete("s1").await.unwrap());
    assert!(sessions.get("s1").await.unwrap().is_none());
}
