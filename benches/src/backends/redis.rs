//! `redis`, `redis-cluster`: the Stowage Redis store (`redis-uncoalesced`,
//! `redis-cluster-uncoalesced`: with every call sent as itself); `redis-raw`, `redis-cluster-raw`: the raw
//! `redis` crate on the same server, the same connection kind (a reconnecting multiplexed
//! connection), the same concurrency and the same JSON text, stored as is (no envelope).
//!
//! URLs come from `--url redis=…` / `--url redis-cluster=…` (or `STOWAGE_BENCH_URL_REDIS`,
//! `STOWAGE_BENCH_URL_REDIS_CLUSTER`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use stowage_redis::RedisStore;

use super::{Backend, BuildContext};
use crate::adapter::{Adapter, Payload};

pub(super) fn backends() -> Vec<Backend> {
    vec![
        Backend {
            name: "redis",
            about: "stowage-redis on one Redis node (py-key-value envelope, namespace stowage-bench)",
            baseline: Some("redis-raw"),
            embedded: false,
            build: build_stowage,
        },
        Backend {
            name: "redis-uncoalesced",
            about: "stowage-redis on one Redis node with .coalesce(false): every call sent as itself",
            baseline: Some("redis-raw"),
            embedded: false,
            build: |ctx| stowage(ctx, ctx.url("redis")?, false, false),
        },
        Backend {
            name: "redis-raw",
            about: "raw redis crate, ConnectionManagers used in turn (as many as the store's \
                    default connections), same server (baseline for redis)",
            baseline: None,
            embedded: false,
            build: build_raw,
        },
        Backend {
            name: "redis-cluster",
            about: "stowage-redis on a Redis Cluster",
            baseline: Some("redis-cluster-raw"),
            embedded: false,
            build: build_stowage_cluster,
        },
        Backend {
            name: "redis-cluster-uncoalesced",
            about: "stowage-redis on a Redis Cluster with .coalesce(false): every call sent as itself",
            baseline: Some("redis-cluster-raw"),
            embedded: false,
            build: |ctx| stowage(ctx, ctx.url("redis-cluster")?, true, false),
        },
        Backend {
            name: "redis-cluster-raw",
            about: "raw redis crate, cluster connection, same cluster (baseline for redis-cluster)",
            baseline: None,
            embedded: false,
            build: |ctx| build_raw_cluster(ctx, false),
        },
        Backend {
            name: "redis-cluster-raw-bounded",
            about: "raw redis crate, cluster connection with the store's per-call deadline and \
                    retries (separates the deadline's cost from the store's own)",
            baseline: Some("redis-cluster-raw"),
            embedded: false,
            build: |ctx| build_raw_cluster(ctx, true),
        },
    ]
}

/// Run an async constructor from the harness's synchronous `build` (inside its runtime), so the
/// connection's driver task lives on the runtime that drives the workload.
fn block_on<T>(fut: impl Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(fut))
}

fn stowage(
    ctx: &BuildContext,
    url: String,
    cluster: bool,
    coalesce: bool,
) -> Result<Box<dyn Adapter>> {
    let store = block_on(
        RedisStore::builder()
            .url(url)
            .cluster(cluster)
            .coalesce(coalesce)
            .namespace("stowage-bench")
            .build(),
    )
    .context("connecting the Stowage Redis store")?;
    Ok(Box::new(ctx.stowage(Arc::new(store))))
}

fn build_stowage(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    stowage(ctx, ctx.url("redis")?, false, true)
}

fn build_stowage_cluster(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    stowage(ctx, ctx.url("redis-cluster")?, true, true)
}

/// The raw client: the JSON text under `raw-bench::key`, `SET … PX` for TTLs; its
/// connections used in turn, as the store uses its own.
struct Raw<C> {
    conns: Vec<C>,
    next: AtomicUsize,
}

impl<C: Clone> Raw<C> {
    fn new(conns: Vec<C>) -> Self {
        Raw {
            conns,
            next: AtomicUsize::new(0),
        }
    }

    fn conn(&self) -> C {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        self.conns[i].clone()
    }
}

fn raw_key(key: &str) -> String {
    format!("raw-bench::{key}")
}

fn build_raw(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    let client = redis::Client::open(ctx.url("redis")?)?;
    let conns = (0..stowage_redis::DEFAULT_CONNECTIONS)
        .map(|_| block_on(ConnectionManager::new(client.clone())).context("connecting to Redis"))
        .collect::<Result<_>>()?;
    Ok(Box::new(Raw::new(conns)))
}

/// The raw cluster client: the crate's defaults (no deadline), or `bounded` with the store's
/// cluster settings (an overall deadline per call of `stowage_redis::DEFAULT_TIMEOUT`, two retries).
fn build_raw_cluster(ctx: &BuildContext, bounded: bool) -> Result<Box<dyn Adapter>> {
    let mut builder = redis::cluster::ClusterClientBuilder::new(vec![ctx.url("redis-cluster")?]);
    if bounded {
        builder = builder
            .overall_response_timeout(Some(stowage_redis::DEFAULT_TIMEOUT))
            .retries(2)
            .min_retry_wait(20)
            .max_retry_wait(200);
    }
    let client = builder.build()?;
    let conn = block_on(client.get_async_connection()).context("connecting to the cluster")?;
    Ok(Box::new(Raw::new(vec![conn])))
}

#[async_trait]
impl<C> Adapter for Raw<C>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn get(&self, key: &str) -> Result<bool> {
        let found: Option<Vec<u8>> = self.conn().get(raw_key(key)).await?;
        Ok(found.is_some())
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        let () = self.conn().set(raw_key(key), &*payload.json).await?;
        Ok(())
    }

    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let () = self
            .conn()
            .pset_ex(raw_key(key), &*payload.json, ms)
            .await?;
        Ok(())
    }

    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        let pairs: Vec<(String, &str)> = entries
            .iter()
            .map(|(k, p)| (raw_key(k), &*p.json))
            .collect();
        let () = self.conn().mset(&pairs).await?;
        Ok(())
    }
}
