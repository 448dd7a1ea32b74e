//! `StowageCredentialStore` over memory, a redb file and Redis: the slot, the refresh guard
//! (tasks racing, lease expiry, own-lease release), rejected refresh tokens, Fernet at rest and
//! across a restart; and on Redis, two processes racing for the guard and a holder killed with
//! SIGKILL.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::transport::auth::{AuthError, CredentialStore, StoredCredentials};
use serde_json::json;
use stowage_core::{DynStore, KeyValueStore, KeyValueStoreExt, Value};
use stowage_rmcp::{Error, StowageCredentialStore};
use stowage_wrappers::fernet::{FernetKey, FernetLayer};

use common::Backend;

const SERVER: &str = "https://mcp.example.com/mcp";

fn credentials(access: &str) -> StoredCredentials {
    serde_json::from_value(json!({
        "client_id": "client-1",
        "token_response": {
            "access_token": access, "token_type": "bearer",
            "refresh_token": format!("refresh-of-{access}"), "expires_in": 3600
        },
        "granted_scopes": ["read"], "token_received_at": 1_767_225_600u64
    }))
    .unwrap()
}

fn access_token(c: &StoredCredentials) -> String {
    serde_json::to_value(c).unwrap()["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn the_slot_saves_loads_and_clears(b: Backend) {
    let key = stowage_core::testkit::unique(SERVER);
    let one = StowageCredentialStore::new(b.store.clone(), key.clone()).unwrap();
    let two = StowageCredentialStore::new(b.second_handle().await, key).unwrap();
    assert!(one.load().await.unwrap().is_none());
    one.save(credentials("tok-a")).await.unwrap();
    assert_eq!(
        access_token(&two.load().await.unwrap().unwrap()),
        "tok-a",
        "{}",
        b.name
    );
    two.clear().await.unwrap();
    assert!(one.load().await.unwrap().is_none());
}

async fn racing_tasks_hold_the_guard_one_at_a_time(b: Backend) {
    let key = stowage_core::testkit::unique(SERVER);
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..8 {
        // Half on a handle of their own (a new connection on Redis).
        let store: DynStore = if i % 2 == 0 {
            b.store.clone()
        } else {
            b.second_handle().await
        };
        let creds = StowageCredentialStore::new(store, key.clone())
            .unwrap()
            .with_wait(Duration::from_secs(20), Duration::from_millis(5));
        let (inside, most) = (inside.clone(), most.clone());
        tasks.push(tokio::spawn(async move {
            let guard = creds
                .acquire_refresh_guard()
                .await
                .unwrap()
                .expect("a guard");
            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            // Read-modify-write of the credentials under the guard: lost updates show a leak.
            let count = creds.load().await.unwrap().map_or(0, |c| {
                access_token(&c)
                    .trim_start_matches("n")
                    .parse::<u32>()
                    .unwrap()
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
            creds
                .save(credentials(&format!("n{}", count + 1)))
                .await
                .unwrap();
            inside.fetch_sub(1, Ordering::SeqCst);
            drop(guard);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "{}: two holders at once",
        b.name
    );
    let last = StowageCredentialStore::new(b.store.clone(), key).unwrap();
    assert_eq!(
        access_token(&last.load().await.unwrap().unwrap()),
        "n8",
        "{}",
        b.name
    );
}

async fn a_dead_holders_lease_expires(b: Backend) {
    let key = stowage_core::testkit::unique(SERVER);
    let creds = StowageCredentialStore::new(b.store.clone(), key)
        .unwrap()
        .with_lease(Duration::from_millis(400));
    let lease = creds.lock().await.unwrap();
    std::mem::forget(lease); // a holder that never releases: it died
    assert!(creds.try_lock().await.unwrap().is_none(), "{}", b.name);
    let started = Instant::now();
    let again = creds.lock().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(again);
}

async fn a_late_release_leaves_the_next_holders_lease_alone(b: Backend) {
    let key = stowage_core::testkit::unique(SERVER);
    let creds = StowageCredentialStore::new(b.store.clone(), key)
        .unwrap()
        .with_lease(Duration::from_millis(300));
    let slow = creds.lock().await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await; // its lease ran out
    let next = creds
        .try_lock()
        .await
        .unwrap()
        .expect("free after the lease");
    slow.release().await.unwrap();
    assert!(
        creds.try_lock().await.unwrap().is_none(),
        "{}: released another's lease",
        b.name
    );
    next.release().await.unwrap();
    assert!(creds.try_lock().await.unwrap().is_some());
}

async fn waiting_too_long_is_a_credential_store_error(b: Backend) {
    let key = stowage_core::testkit::unique(SERVER);
    let creds = StowageCredentialStore::new(b.store.clone(), key)
        .unwrap()
        .with_wait(Duration::from_millis(200), Duration::from_millis(20));
    let _held = creds.lock().await.unwrap();
    match creds.acquire_refresh_guard().await {
        Err(AuthError::CredentialStoreError(message)) => {
            assert!(message.contains("refresh guard"), "{message}")
        }
        Err(other) => panic!("{}: {other:?}", b.name),
        Ok(_) => panic!("{}: a second holder", b.name),
    }
}

async fn a_rejected_refresh_token_clears_only_the_credentials_that_carried_it(b: Backend) {
    let key = stowage_core::testkit::unique(SERVER);
    let creds = StowageCredentialStore::new(b.store.clone(), key).unwrap();
    creds.save(credentials("old")).await.unwrap();
    creds
        .on_refresh_token_rejected(&credentials("old"))
        .await
        .unwrap();
    assert!(creds.load().await.unwrap().is_none(), "{}", b.name);
    creds.save(credentials("new")).await.unwrap();
    creds
        .on_refresh_token_rejected(&credentials("old"))
        .await
        .unwrap();
    assert_eq!(access_token(&creds.load().await.unwrap().unwrap()), "new");
}

on_every_backend!(
    the_slot_saves_loads_and_clears,
    racing_tasks_hold_the_guard_one_at_a_time,
    a_dead_holders_lease_expires,
    a_late_release_leaves_the_next_holders_lease_alone,
    waiting_too_long_is_a_credential_store_error,
    a_rejected_refresh_token_clears_only_the_credentials_that_carried_it,
);

#[test]
fn a_store_without_the_atomic_insert_is_refused() {
    let refused = StowageCredentialStore::new(common::WithoutInsert::default(), SERVER);
    assert!(
        matches!(refused, Err(Error::PutIfAbsentUnsupported)),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fernet_on_disk_keeps_tokens_out_of_the_file_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.redb");
    let key_text = FernetKey::generate_text();
    let open = |path: &std::path::Path| {
        let disk = stowage_disk::DiskStore::open(path).unwrap();
        let layer = FernetLayer::builder()
            .key(FernetKey::from_base64(&key_text).unwrap())
            .build()
            .unwrap();
        (disk.clone(), disk.layer(layer))
    };
    {
        let (raw, sealed) = open(&path);
        let creds = StowageCredentialStore::new(sealed, SERVER).unwrap();
        creds
            .save(credentials("access-in-clear-would-be-bad"))
            .await
            .unwrap();
        let stored: Value = raw.get("rmcp_credentials", SERVER).await.unwrap().unwrap();
        assert!(stored.as_str().contains("__encrypted_data__"));
        assert!(!stored.as_str().contains("access-in-clear"), "{stored}");
        raw.flush().await.unwrap();
    }
    // The process restarts: the file holds no token in clear, and the credentials come back.
    let bytes = std::fs::read(&path).unwrap();
    let needle = b"access-in-clear";
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "token in clear in the file"
    );
    assert!(
        !bytes.windows(10).any(|w| w == b"refresh-of"),
        "refresh token in clear"
    );
    let (_raw, sealed) = open(&path);
    let creds = StowageCredentialStore::new(sealed, SERVER).unwrap();
    let loaded = creds.load().await.unwrap().expect("survived the restart");
    assert_eq!(access_token(&loaded), "access-in-clear-would-be-bad");
}

// ---- Two processes on one Redis: this test binary started again as a child. ----

const CHILD_ROLE: &str = "STOWAGE_RMCP_TEST_CHILD";
const CHILD_NS: &str = "STOWAGE_RMCP_TEST_NAMESPACE";

fn spawn_child(role: &str, namespace: &str) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROLE, role)
        .env(CHILD_NS, namespace)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs only as a child (the environment names its role); in a normal run it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process_entry() {
    let Ok(role) = std::env::var(CHILD_ROLE) else {
        return;
    };
    let namespace = std::env::var(CHILD_NS).unwrap();
    let store = common::redis_in(&namespace).await;
    let creds = StowageCredentialStore::new(store, SERVER)
        .unwrap()
        .with_lease(Duration::from_secs(2))
        .with_wait(Duration::from_secs(30), Duration::from_millis(5));
    match role.as_str() {
        "refresher" => {
            for _ in 0..10 {
                let guard = creds.acquire_refresh_guard().await.unwrap().unwrap();
                let n = creds.load().await.unwrap().map_or(0, |c| {
                    access_token(&c)
                        .trim_start_matches('n')
                        .parse::<u32>()
                        .unwrap()
                });
                tokio::time::sleep(Duration::from_millis(10)).await;
                creds
                    .save(credentials(&format!("n{}", n + 1)))
                    .await
                    .unwrap();
                drop(guard);
            }
        }
        "holder" => {
            let lease = creds.lock().await.unwrap();
            println!("HOLDING");
            std::mem::forget(lease);
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        other => panic!("unknown role {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_two_processes_refresh_one_at_a_time() {
    let namespace = stowage_core::testkit::unique("rmcp-procs");
    let mut children: Vec<_> = (0..2)
        .map(|_| spawn_child("refresher", &namespace))
        .collect();
    for child in &mut children {
        assert!(child.wait().unwrap().success());
    }
    // Twenty read-modify-writes under the guard, none lost.
    let creds = StowageCredentialStore::new(common::redis_in(&namespace).await, SERVER).unwrap();
    assert_eq!(access_token(&creds.load().await.unwrap().unwrap()), "n20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_holder_killed_with_sigkill_frees_the_guard_when_its_lease_expires() {
    use std::io::BufRead;

    let namespace = stowage_core::testkit::unique("rmcp-kill");
    let mut child = spawn_child("holder", &namespace);
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("HOLDING") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child ended early"
        );
    }
    let creds = StowageCredentialStore::new(common::redis_in(&namespace).await, SERVER).unwrap();
    assert!(
        creds.try_lock().await.unwrap().is_none(),
        "the child holds it"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        creds.try_lock().await.unwrap().is_none(),
        "still leased right after the kill"
    );
    let started = Instant::now();
    let lease = creds.lock().await.unwrap();
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    drop(lease);
}
