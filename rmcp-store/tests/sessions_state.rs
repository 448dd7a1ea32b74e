//! `StowageSessionStore` and `StowageStateStore` over memory, a redb file and Redis.

mod common;

use std::time::Duration;

use rmcp::transport::auth::{StateStore, StoredAuthorizationState};
use rmcp::transport::streamable_http_server::session::{SessionState, SessionStore};
use serde_json::json;
use stowage_rmcp::{StowageSessionStore, StowageStateStore};

use common::Backend;

fn session_state(client: &str) -> SessionState {
    serde_json::from_value(json!({"initialize_params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {"sampling": {}},
        "clientInfo": {"name": client, "version": "1.0.0"}
    }}))
    .unwrap()
}

fn auth_state(csrf: &str) -> StoredAuthorizationState {
    serde_json::from_value(json!({
        "pkce_verifier": "verifier-secret", "csrf_token": csrf, "created_at": 1_767_225_600u64,
        "requested_scopes": ["read"]
    }))
    .unwrap()
}

async fn a_session_saved_by_one_handle_is_loaded_by_another(b: Backend) {
    let one = StowageSessionStore::new(b.store.clone());
    let two = StowageSessionStore::new(b.second_handle().await);
    let id = stowage_core::testkit::unique("session");
    assert!(two.load(&id).await.unwrap().is_none());
    one.store(&id, &session_state("alpha")).await.unwrap();
    let loaded = two
        .load(&id)
        .await
        .unwrap()
        .expect("restored on the other handle");
    assert_eq!(
        serde_json::to_value(&loaded).unwrap(),
        serde_json::to_value(session_state("alpha")).unwrap(),
        "{}",
        b.name
    );
    // The documented shape: rmcp's SessionState as it serializes.
    let raw = b.store.get("rmcp_sessions", &id).await.unwrap().unwrap();
    let raw: serde_json::Value = serde_json::from_str(raw.as_str()).unwrap();
    assert_eq!(raw["initialize_params"]["clientInfo"]["name"], "alpha");
    two.delete(&id).await.unwrap();
    assert!(one.load(&id).await.unwrap().is_none());
}

async fn sessions_expire_when_given_a_ttl(b: Backend) {
    let sessions =
        StowageSessionStore::new(b.store.clone()).with_ttl(Some(Duration::from_millis(300)));
    let id = stowage_core::testkit::unique("session");
    sessions.store(&id, &session_state("a")).await.unwrap();
    assert!(sessions.load(&id).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(sessions.load(&id).await.unwrap().is_none(), "{}", b.name);
}

async fn a_corrupted_session_is_an_error_not_a_miss(b: Backend) {
    let sessions = StowageSessionStore::new(b.store.clone());
    let id = stowage_core::testkit::unique("session");
    let junk = stowage_core::Value::from_json(r#"{"initialize_params":7}"#).unwrap();
    b.store.put("rmcp_sessions", &id, junk, None).await.unwrap();
    let error = sessions.load(&id).await.expect_err("an error");
    assert!(error.to_string().contains("corrupted"), "{error}");
}

async fn state_round_trips_and_is_deleted(b: Backend) {
    let states = StowageStateStore::new(b.store.clone());
    let csrf = stowage_core::testkit::unique("csrf");
    states.save(&csrf, auth_state(&csrf)).await.unwrap();
    let loaded = states.load(&csrf).await.unwrap().unwrap();
    assert_eq!(loaded.csrf_token, csrf);
    assert_eq!(loaded.pkce_verifier, "verifier-secret");
    assert_eq!(loaded.requested_scopes, vec!["read".to_owned()]);
    states.delete(&csrf).await.unwrap();
    assert!(states.load(&csrf).await.unwrap().is_none(), "{}", b.name);
}

async fn state_expires_on_its_own_ten_minutes_by_default(b: Backend) {
    let default = StowageStateStore::new(b.store.clone());
    let csrf = stowage_core::testkit::unique("csrf");
    default.save(&csrf, auth_state(&csrf)).await.unwrap();
    let entry = b
        .store
        .ttl("rmcp_oauth_state", &csrf)
        .await
        .unwrap()
        .unwrap();
    let left = entry.remaining_ttl().expect("an expiry");
    assert!(
        left > Duration::from_secs(9 * 60) && left <= Duration::from_secs(600),
        "{}: {left:?}",
        b.name
    );
    let short = StowageStateStore::new(b.store.clone()).with_ttl(Duration::from_millis(300));
    let csrf = stowage_core::testkit::unique("csrf");
    short.save(&csrf, auth_state(&csrf)).await.unwrap();
    assert!(short.load(&csrf).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Nobody deleted it.
    assert!(short.load(&csrf).await.unwrap().is_none(), "{}", b.name);
}

on_every_backend!(
    a_session_saved_by_one_handle_is_loaded_by_another,
    sessions_expire_when_given_a_ttl,
    a_corrupted_session_is_an_error_not_a_miss,
    state_round_trips_and_is_deleted,
    state_expires_on_its_own_ten_minutes_by_default,
);
