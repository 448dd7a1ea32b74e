//! rmcp's OAuth client (`AuthorizationManager`) with `StowageCredentialStore` over a
//! Fernet-encrypted Redis store, against a loopback token endpoint that rotates refresh tokens
//! and rejects a used one (`invalid_grant`), as real providers do. Four managers, each on its
//! own Redis connection, refresh at once: with the guard they take turns, each using the token
//! the previous one saved, and none is rejected; without it (the control) they collide. And on
//! a Fernet-sealed redb file, a refreshed token survives a restart and is never in the file in
//! clear.

mod common;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationMetadata, CredentialRefreshGuard,
    CredentialStore, OAuthClientConfig, StoredCredentials,
};
use serde_json::json;
use stowage_core::{DynStore, KeyValueStore, KeyValueStoreExt};
use stowage_rmcp::StowageCredentialStore;
use stowage_wrappers::fernet::{FernetKey, FernetLayer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MANAGERS: usize = 4;

/// The token endpoint's state: the one refresh token it accepts, and what it answered.
#[derive(Debug, Default)]
struct Provider {
    valid_refresh: String,
    issued: u32,
    rejected: u32,
}

/// Serve `POST /token` on a loopback port; each answer comes after a pause, so overlapping
/// refreshes really overlap.
async fn token_endpoint(provider: Arc<Mutex<Provider>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let provider = provider.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let body = loop {
                    let mut chunk = [0u8; 4096];
                    let n = socket.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "the client hung up");
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            break body.to_owned();
                        }
                    }
                };
                let refresh = body
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("refresh_token="))
                    .unwrap_or_default()
                    .to_owned();
                tokio::time::sleep(Duration::from_millis(150)).await;
                let (status, answer) = {
                    let mut p = provider.lock();
                    if refresh == p.valid_refresh {
                        p.issued += 1;
                        p.valid_refresh = format!("refresh-{}", p.issued);
                        let answer = json!({
                            "access_token": format!("access-{}", p.issued), "token_type": "bearer",
                            "expires_in": 3600, "refresh_token": p.valid_refresh
                        });
                        ("200 OK", answer)
                    } else {
                        p.rejected += 1;
                        ("400 Bad Request", json!({"error": "invalid_grant"}))
                    }
                };
                let answer = answer.to_string();
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                socket.write_all(response.as_bytes()).await.unwrap();
            });
        }
    });
    port
}

fn credentials(access: &str, refresh: &str) -> StoredCredentials {
    serde_json::from_value(json!({
        "client_id": "client-1",
        "token_response": {"access_token": access, "token_type": "bearer",
                           "refresh_token": refresh, "expires_in": 3600},
        "granted_scopes": [],
        // Received long ago: expired, so the next use refreshes it.
        "token_received_at": 1_000u64
    }))
    .unwrap()
}

/// The credential store without its refresh guard: rmcp's default (no coordination).
struct Unguarded(StowageCredentialStore);

#[async_trait::async_trait]
impl CredentialStore for Unguarded {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        self.0.load().await
    }
    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        self.0.save(credentials).await
    }
    async fn clear(&self) -> Result<(), AuthError> {
        self.0.clear().await
    }
    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        Ok(None)
    }
}

/// A Fernet-sealed store on its own Redis connection, in `namespace`.
async fn sealed(namespace: &str, key: &str) -> DynStore {
    let layer = FernetLayer::builder()
        .key(FernetKey::from_base64(key).unwrap())
        .build()
        .unwrap();
    Arc::new(common::redis_in(namespace).await.layer(layer))
}

/// An OAuth client of the MCP server at `base`, its authorization server at the same place.
async fn manager(base: &str) -> AuthorizationManager {
    let mut manager = AuthorizationManager::new(format!("{base}/mcp"))
        .await
        .unwrap();
    manager.set_metadata(
        serde_json::from_value::<AuthorizationMetadata>(json!({
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
        }))
        .unwrap(),
    );
    manager
        .configure_client(OAuthClientConfig::new(
            "client-1",
            "http://127.0.0.1/callback",
        ))
        .unwrap();
    manager
}

/// Four managers refresh at once; what each got, and what the provider saw.
async fn race(guarded: bool) -> (Vec<Result<(), AuthError>>, Provider, String, DynStore) {
    let provider = Arc::new(Mutex::new(Provider {
        valid_refresh: "refresh-0".into(),
        ..Provider::default()
    }));
    let port = token_endpoint(provider.clone()).await;
    let base = format!("http://127.0.0.1:{port}");
    let namespace = stowage_core::testkit::unique("rmcp-oauth");
    let key = FernetKey::generate_text();
    let first = StowageCredentialStore::new(sealed(&namespace, &key).await, &base).unwrap();
    first
        .save(credentials("access-0", "refresh-0"))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for _ in 0..MANAGERS {
        let store = StowageCredentialStore::new(sealed(&namespace, &key).await, &base)
            .unwrap()
            .with_wait(Duration::from_secs(30), Duration::from_millis(10));
        let mut manager = manager(&base).await;
        if guarded {
            manager.set_credential_store(store);
        } else {
            manager.set_credential_store(Unguarded(store));
        }
        tasks.push(tokio::spawn(async move {
            manager.refresh_token().await.map(|_| ())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let provider = std::mem::take(&mut *provider.lock());
    // The raw store (no Fernet) on a connection of its own.
    let raw: DynStore = Arc::new(common::redis_in(&namespace).await);
    (results, provider, base, raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_guard_concurrent_refreshes_take_turns_and_none_is_rejected() {
    let (results, provider, base, raw) = race(true).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!((provider.issued, provider.rejected), (MANAGERS as u32, 0));
    // The last refresh's token is what is stored, sealed: no token in clear in Redis.
    let stored = raw.get("rmcp_credentials", &base).await.unwrap().unwrap();
    assert!(stored.as_str().contains("__encrypted_data__"));
    assert!(!stored.as_str().contains("access-") && !stored.as_str().contains("refresh-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_without_the_guard_concurrent_refreshes_collide() {
    let (results, provider, _, _) = race(false).await;
    let rejected = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::TokenRefreshRejected(_))))
        .count();
    assert!(rejected > 0 && provider.rejected > 0, "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_fernet_disk_refreshed_credentials_survive_a_restart_and_never_touch_the_file_in_clear()
{
    let provider = Arc::new(Mutex::new(Provider {
        valid_refresh: "refresh-0".into(),
        ..Provider::default()
    }));
    let base = format!(
        "http://127.0.0.1:{}",
        token_endpoint(provider.clone()).await
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.redb");
    let key = FernetKey::generate_text();
    let open = |path: &std::path::Path| {
        let disk = stowage_disk::DiskStore::open(path).unwrap();
        let layer = FernetLayer::builder()
            .key(FernetKey::from_base64(&key).unwrap())
            .build()
            .unwrap();
        (disk.clone(), disk.layer(layer))
    };
    {
        let (disk, sealed) = open(&path);
        let store = StowageCredentialStore::new(sealed, &base).unwrap();
        store
            .save(credentials("access-0", "refresh-0"))
            .await
            .unwrap();
        let mut client = manager(&base).await;
        client.set_credential_store(store);
        // The stored token has expired: the manager refreshes it and saves the new one.
        assert_eq!(client.get_access_token().await.unwrap(), "access-1");
        disk.flush().await.unwrap();
    } // the process ends: store and manager dropped, the file closed
    let bytes = std::fs::read(&path).unwrap();
    for secret in [&b"access-"[..], b"refresh-"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "a token in clear in the file"
        );
    }
    let (_disk, sealed) = open(&path);
    let mut client = manager(&base).await;
    client.set_credential_store(StowageCredentialStore::new(sealed, &base).unwrap());
    assert_eq!(client.get_access_token().await.unwrap(), "access-1");
    // Served from the store: no second token request.
    assert_eq!(provider.lock().issued, 1);
}
