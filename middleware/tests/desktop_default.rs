//! The desktop default store (an encrypted disk store with a generated key), built here on
//! Linux from a directory, as macOS and Windows would build it in their data directory.
#![cfg(feature = "desktop")]

mod common;

use std::path::PathBuf;

use common::tempdir;
use stowage_core::{ErrorKind, Value};
use stowage_mcp::Namespace;
use stowage_mcp::defaults::{self, Platform, StoreChoice};

fn ns(name: &str) -> Namespace {
    Namespace::new(name).unwrap()
}

#[tokio::test]
async fn the_macos_choice_opens_an_encrypted_persistent_store() {
    let home = tempdir("home");
    let env = |name: &str| (name == "HOME").then(|| home.display().to_string());
    let choice = defaults::choose(Platform::MacOs, &env).unwrap();
    let StoreChoice::EncryptedDisk { dir } = &choice else {
        panic!("{choice:?}")
    };
    assert!(dir.starts_with(&home));

    let secret = r#"{"content":[{"type":"text","text":"plain-text-marker-9d1c"}]}"#;
    {
        let store = defaults::open_choice(&choice, &ns("srv")).await.unwrap();
        store
            .put(
                "mcp-tools-call",
                "k",
                Value::from_json(secret).unwrap(),
                None,
            )
            .await
            .unwrap();
    }
    // The key was generated with owner-only permissions, and the database holds no plaintext.
    let key_path = choice.key_path().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(dir).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o077, 0);
    }
    let db = std::fs::read(choice.database_path(&ns("srv")).unwrap()).unwrap();
    assert!(!db.windows(22).any(|w| w == b"plain-text-marker-9d1c"));

    // Reopened (the next run of the program): same key, same data.
    let store = defaults::open_choice(&choice, &ns("srv")).await.unwrap();
    let back = store.get("mcp-tools-call", "k").await.unwrap().unwrap();
    assert_eq!(back.as_str(), secret);
    drop(store);
    let _ = std::fs::remove_dir_all(home);
}

#[cfg(unix)]
#[tokio::test]
async fn a_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir("perm");
    let store = defaults::open_encrypted_disk(&dir, &ns("srv"))
        .await
        .unwrap();
    drop(store);
    let key = dir.join("cache.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = defaults::open_encrypted_disk(&dir, &ns("srv"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("chmod 600"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_damaged_key_file_is_a_config_error_that_does_not_echo_it() {
    let dir = tempdir("bad");
    let key = dir.join("cache.key");
    {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        use std::io::Write;
        o.open(&key)
            .unwrap()
            .write_all(b"not-a-fernet-key")
            .unwrap();
    }
    let err = defaults::open_encrypted_disk(&dir, &ns("srv"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!err.to_string().contains("not-a-fernet-key"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn urls_open_through_the_facade() {
    let store = defaults::open_url("memory://").await.unwrap();
    assert!(store.capabilities().keys);
    let dir = tempdir("url");
    let url = format!("disk://{}", dir.join("c.redb").display());
    let store = defaults::open_url(&url).await.unwrap();
    store.put("c", "k", Value::empty(), None).await.unwrap();
    drop(store);
    // A backend this build leaves out names its feature (RocksDB: no crate of the workspace turns
    // it on, and feature unification would hide any other).
    let err = defaults::open_url("rocksdb:///nonexistent/db")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("rocksdb"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn each_server_namespace_has_its_own_database_and_a_second_process_falls_back() {
    let dir = tempdir("many");
    let choice = StoreChoice::EncryptedDisk { dir: dir.clone() };
    // Two servers at once: two databases, both open.
    let (github, w1) = defaults::open_choice_or_memory(&choice, &ns("github"))
        .await
        .unwrap();
    let (files, w2) = defaults::open_choice_or_memory(&choice, &ns("files"))
        .await
        .unwrap();
    assert!(w1.is_none() && w2.is_none(), "{w1:?} {w2:?}");
    github
        .put("c", "k", Value::from_json(r#"{"a":1}"#).unwrap(), None)
        .await
        .unwrap();
    assert!(files.get("c", "k").await.unwrap().is_none());
    assert!(choice.database_path(&ns("github")).unwrap().exists());
    assert!(choice.database_path(&ns("files")).unwrap().exists());

    // The same server again, while the first holds its database: opening it directly is an
    // error; the proxy's way falls back to memory and says why.
    assert!(defaults::open_choice(&choice, &ns("github")).await.is_err());
    let (again, warning) = defaults::open_choice_or_memory(&choice, &ns("github"))
        .await
        .unwrap();
    let warning = warning.expect("a warning");
    assert!(warning.contains("in memory"), "{warning}");
    assert!(
        again.get("c", "k").await.unwrap().is_none(),
        "a fresh memory store"
    );
    // An explicit URL that fails is still an error.
    let url = StoreChoice::Url(format!("disk://{}", dir.join("github.redb").display()));
    assert!(
        defaults::open_choice_or_memory(&url, &ns("x"))
            .await
            .is_err()
    );
    drop((github, files, again));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_cache_dir_variable_picks_encrypted_disk_stores_on_any_platform() {
    let env = |name: &str| match name {
        "STOWAGE_MCP_CACHE_DIR" => Some("/var/cache/mcp".to_string()),
        _ => None,
    };
    for p in [Platform::Linux, Platform::MacOs, Platform::Windows] {
        assert_eq!(
            defaults::choose(p, &env).unwrap(),
            StoreChoice::EncryptedDisk {
                dir: PathBuf::from("/var/cache/mcp")
            }
        );
    }
    let with_url = |name: &str| match name {
        "STOWAGE_MCP_CACHE_DIR" => Some("/var/cache/mcp".to_string()),
        "STOWAGE_STORE_URL" => Some("memory://".to_string()),
        _ => None,
    };
    assert_eq!(
        defaults::choose(Platform::Linux, &with_url).unwrap(),
        StoreChoice::Url("memory://".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_starting_at_once_all_get_the_key_whole() {
    // The first start on a machine: several proxies create the key file at the same moment.
    // Each must read a whole key (a half-written one would make it refuse the disk store).
    for round in 0..30 {
        let dir = tempdir("key-race");
        let opens = (0..8).map(|i| {
            let dir = dir.clone();
            tokio::spawn(async move {
                defaults::open_encrypted_disk(&dir, &ns(&format!("server{i}"))).await
            })
        });
        for opened in futures::future::join_all(opens).await {
            if let Err(e) = opened.unwrap() {
                panic!("round {round}: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
