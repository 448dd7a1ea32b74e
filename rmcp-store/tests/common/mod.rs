//! Shared helpers of the stowage-rmcp tests: real stores (memory, a redb file in a temporary
//! directory, a namespace of its own on the test Redis server and on the test Redis Cluster),
//! and a store that lacks the atomic insert.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use stowage_core::{Capabilities, DynStore, Entry, KeyValueStore, Result, Value, async_trait};

/// A store under test; keeps its temporary directory alive as long as it lives.
pub struct Backend {
    pub name: &'static str,
    pub store: DynStore,
    /// The Redis namespace, for a second connection to the same data.
    namespace: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// Another handle on the same data: a new connection for Redis (as another process would
    /// have), the same store otherwise (one redb file admits one process at a time).
    pub async fn second_handle(&self) -> DynStore {
        match &self.namespace {
            Some(ns) => match ns.strip_prefix("cluster:") {
                Some(ns) => Arc::new(cluster_in(ns).await),
                None => Arc::new(redis_in(ns).await),
            },
            None => self.store.clone(),
        }
    }
}

pub fn memory() -> Backend {
    Backend {
        name: "memory",
        store: Arc::new(stowage_memory::MemoryStore::new()),
        namespace: None,
        _dir: None,
    }
}

pub fn disk() -> Backend {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = stowage_disk::DiskStore::open(dir.path().join("store.redb")).expect("open redb");
    Backend {
        name: "disk",
        store: Arc::new(store),
        namespace: None,
        _dir: Some(dir),
    }
}

/// The test Redis server's URL, or a failure that says how to get one (tests never skip).
pub fn redis_url() -> String {
    std::env::var("STOWAGE_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("STOWAGE_TEST_REDIS_URL is not set: run scripts/test.sh, which starts Redis")
    })
}

/// A Redis store in `namespace`.
pub async fn redis_in(namespace: &str) -> stowage_redis::RedisStore {
    stowage_redis::RedisStore::builder()
        .url(redis_url())
        .namespace(namespace)
        .build()
        .await
        .expect("connect to the test Redis server")
}

/// A Redis Cluster store in `namespace`.
pub async fn cluster_in(namespace: &str) -> stowage_redis::RedisStore {
    let url = std::env::var("STOWAGE_TEST_REDIS_CLUSTER_URL").unwrap_or_else(|_| {
        panic!("STOWAGE_TEST_REDIS_CLUSTER_URL is not set: run scripts/test.sh, which starts it")
    });
    stowage_redis::RedisStore::builder()
        .url(url)
        .cluster(true)
        .namespace(namespace)
        .build()
        .await
        .expect("connect to the test Redis Cluster")
}

pub async fn cluster() -> Backend {
    let namespace = stowage_core::testkit::unique("rmcp");
    let store = cluster_in(&namespace).await;
    Backend {
        name: "cluster",
        store: Arc::new(store),
        namespace: Some(format!("cluster:{namespace}")),
        _dir: None,
    }
}

pub async fn redis() -> Backend {
    let namespace = stowage_core::testkit::unique("rmcp");
    let store = redis_in(&namespace).await;
    Backend {
        name: "redis",
        store: Arc::new(store),
        namespace: Some(namespace),
        _dir: None,
    }
}

/// Generate one `#[tokio::test]` per backend for each async fn `name(Backend)` listed.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::memory()).await })*
        }
        mod disk {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::disk()).await })*
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::redis().await).await })*
        }
        mod cluster {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::cluster().await).await })*
        }
    };
}

/// A real memory store that, like a third-party store written before the atomic insert existed,
/// does not declare `put_if_absent` (and so refuses it, by the trait's default).
#[derive(Debug, Default)]
pub struct WithoutInsert(pub stowage_memory::MemoryStore);

#[async_trait]
impl KeyValueStore for WithoutInsert {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities().with_put_if_absent(false)
    }
    async fn get(&self, c: &str, k: &str) -> Result<Option<Value>> {
        self.0.get(c, k).await
    }
    async fn get_many(&self, c: &str, k: &[&str]) -> Result<Vec<Option<Value>>> {
        self.0.get_many(c, k).await
    }
    async fn ttl(&self, c: &str, k: &str) -> Result<Option<Entry>> {
        self.0.ttl(c, k).await
    }
    async fn ttl_many(&self, c: &str, k: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.0.ttl_many(c, k).await
    }
    async fn put(&self, c: &str, k: &str, v: Value, ttl: Option<Duration>) -> Result<()> {
        self.0.put(c, k, v, ttl).await
    }
    async fn put_many(&self, c: &str, e: &[(&str, Value)], ttl: Option<Duration>) -> Result<()> {
        self.0.put_many(c, e, ttl).await
    }
    async fn delete(&self, c: &str, k: &str) -> Result<bool> {
        self.0.delete(c, k).await
    }
    async fn delete_many(&self, c: &str, k: &[&str]) -> Result<usize> {
        self.0.delete_many(c, k).await
    }
}
