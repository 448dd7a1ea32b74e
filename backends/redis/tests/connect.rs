//! Connection settings against the real server: ACL users from the URL or the builder, wrong
//! credentials, unreachable servers, and the cluster chosen by URL.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use stowage_core::testkit::{obj, unique};
use stowage_core::{ErrorKind, KeyValueStore};
use stowage_redis::RedisStore;

async fn admin() -> redis::aio::MultiplexedConnection {
    redis::Client::open(common::single_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn acl_user_from_url_and_from_builder() {
    let user = unique("user");
    let password = "p@ss word/with:odd chars";
    let mut admin = admin().await;
    let () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(format!(">{password}"))
        .arg("~*")
        .arg("+@all")
        .query_async(&mut admin)
        .await
        .unwrap();

    let base = url::Url::parse(&common::single_url()).unwrap();
    let mut with_creds = base.clone();
    with_creds.set_username(&user).unwrap();
    with_creds.set_password(Some(password)).unwrap();
    let from_url = RedisStore::builder()
        .url(with_creds.as_str())
        .namespace(unique("acl"))
        .build()
        .await
        .unwrap();
    let c = unique("acl");
    from_url
        .put(&c, "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();
    // The connection really is that user's.
    let whoami: String = redis::cmd("ACL")
        .arg("WHOAMI")
        .query_async(
            &mut redis::Client::open(with_creds.as_str())
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(whoami, user);

    let from_builder = RedisStore::builder()
        .url(base.as_str())
        .username(&user)
        .password(password)
        .namespace(unique("acl"))
        .build()
        .await
        .unwrap();
    from_builder
        .put(&c, "k", obj(json!({"v": 2})), None)
        .await
        .unwrap();

    let err = RedisStore::builder()
        .url(base.as_str())
        .username(&user)
        .password("wrong")
        .build()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(!err.to_string().contains("wrong"), "{err}");

    assert!(from_url.destroy().await.unwrap());
    assert!(from_builder.destroy().await.unwrap());
    let _: i64 = redis::cmd("ACL")
        .arg("DELUSER")
        .arg(&user)
        .query_async(&mut admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn unreachable_server_is_a_retryable_error_in_time() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let err = RedisStore::builder()
        .url(format!("redis://127.0.0.1:{port}/"))
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_millis(300))
        .build()
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cluster_chosen_by_url() {
    let seed = common::cluster_url();
    let as_scheme = seed.replacen("redis://", "redis+cluster://", 1);
    let ns = unique("by-url");
    let as_query = format!("{seed}?cluster=true&namespace={ns}");
    for url in [as_scheme.as_str(), as_query.as_str()] {
        let store = RedisStore::open(url).await.unwrap();
        assert!(store.is_cluster(), "{url}");
        let c = unique("c");
        let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
        let entries: Vec<(&str, stowage_core::Value)> =
            keys.iter().map(|k| (k.as_str(), obj(json!({})))).collect();
        store
            .put_many(&c, &entries, Some(Duration::from_secs(30)))
            .await
            .unwrap();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert!(
            store
                .get_many(&c, &refs)
                .await
                .unwrap()
                .iter()
                .all(Option::is_some)
        );
        assert_eq!(store.keys(&c).await.unwrap().len(), 50);
        assert_eq!(store.delete_many(&c, &refs).await.unwrap(), 50);
    }
    let single = RedisStore::open(&common::single_url()).await.unwrap();
    assert!(!single.is_cluster());
}
