//! Shared helpers of the stowage-redis tests: server URLs from the environment, unique namespaces.

#![allow(dead_code, unreachable_pub)]

use stowage_redis::RedisStore;

/// The URL in `var`, or a failure that says how to get one (tests never skip).
pub fn env_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run scripts/test.sh, which starts the Redis servers")
    })
}

/// The single-node server.
pub fn single_url() -> String {
    env_url("STOWAGE_TEST_REDIS_URL")
}

/// The seed node of the cluster.
pub fn cluster_url() -> String {
    env_url("STOWAGE_TEST_REDIS_CLUSTER_URL")
}

/// A store on the single node, in a namespace of its own.
pub async fn single_store() -> RedisStore {
    RedisStore::builder()
        .url(single_url())
        .namespace(stowage_core::testkit::unique("t"))
        .build()
        .await
        .expect("connect to the single Redis node")
}

/// A store on the cluster, in a namespace of its own.
pub async fn cluster_store() -> RedisStore {
    RedisStore::builder()
        .url(cluster_url())
        .cluster(true)
        .namespace(stowage_core::testkit::unique("t"))
        .build()
        .await
        .expect("connect to the Redis Cluster")
}
