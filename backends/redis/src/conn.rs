//! Thin helpers over the two kinds of Redis connection: one node behind a
//! [`ConnectionManager`] (reconnects by itself) or a
//! [`ClusterConnection`](redis::cluster_async::ClusterConnection) (follows slots and reconnects
//! by itself).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::try_join_all;
use redis::aio::ConnectionManager;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult};

use crate::coalesce::{Coalescer, Target};
use crate::slots;

/// A connection to one node or to a cluster (the coalescer's [`Target`]), with a deadline on
/// every round trip; cloning is cheap and shares it. On a single node every command of
/// [`query`](Conn::query) goes through the coalescer; in a cluster, those of
/// [`query_idempotent`](Conn::query_idempotent).
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    coalescer: Arc<Coalescer>,
}

/// Multiplexed connections to one node, each reconnecting by itself, handed out in turn.
#[derive(Clone)]
pub(crate) struct Pool {
    conns: Arc<[ConnectionManager]>,
    next: Arc<AtomicUsize>,
}

impl Pool {
    /// A pool of `conns`; at least one.
    pub(crate) fn new(conns: Vec<ConnectionManager>) -> Self {
        assert!(!conns.is_empty(), "a pool needs a connection");
        Pool {
            conns: conns.into(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The next connection in turn.
    pub(crate) fn pick(&self) -> ConnectionManager {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        self.conns[i].clone()
    }
}

impl Conn {
    pub(crate) fn new(coalescer: Coalescer) -> Self {
        Conn {
            coalescer: Arc::new(coalescer),
        }
    }

    /// The coalescer of this connection's calls.
    #[cfg(test)]
    pub(crate) fn coalescer(&self) -> &Coalescer {
        &self.coalescer
    }

    /// The cluster client's connection; `None` on a single node.
    #[cfg(test)]
    pub(crate) fn cluster_connection(&self) -> Option<&redis::cluster_async::ClusterConnection> {
        match self.coalescer.target() {
            Target::Node(_) => None,
            Target::Cluster { conn, .. } => Some(conn),
        }
    }

    /// Whether this is a cluster connection.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.coalescer.target(), Target::Cluster { .. })
    }

    /// `fut`, or a timeout error (an I/O `TimedOut`, so it maps to a retryable `Timeout`) once
    /// the deadline passes. A cluster connection enforces the same deadline itself (its overall
    /// response timeout, set to `timeout` when it is built), so only one timer runs per call.
    async fn bounded<T>(&self, fut: impl Future<Output = RedisResult<T>>) -> RedisResult<T> {
        if self.is_cluster() {
            return fut.await;
        }
        within(self.coalescer.timeout(), fut).await
    }

    /// Run one command: on a single node in the next pipeline of concurrent calls (see
    /// [`Coalescer`]); in a cluster as itself, where the client splits multi-key `MGET`/`DEL` by
    /// slot.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: Cmd) -> RedisResult<T> {
        match self.coalescer.target() {
            Target::Node(_) => self.coalescer.query(cmd).await,
            Target::Cluster { conn, .. } => cmd.query_async(&mut conn.clone()).await,
        }
    }

    /// Run one single-key command that may run twice with the same effect (`GET`, `SET`): in the
    /// next pipeline of concurrent calls on a single node and in a cluster, where a pipeline that
    /// reached a primary no longer serving one of its keys is sent again call by call.
    pub(crate) async fn query_idempotent<T: FromRedisValue>(&self, cmd: Cmd) -> RedisResult<T> {
        self.coalescer.query(cmd).await
    }

    /// Run independent single-key commands: one pipeline on a single node, concurrent commands
    /// (pipelined per node by the client) in a cluster, where a pipeline may not span slots.
    pub(crate) async fn run_all(&self, cmds: Vec<Cmd>) -> RedisResult<()> {
        self.bounded(self.run_all_unbounded(cmds)).await
    }

    async fn run_all_unbounded(&self, cmds: Vec<Cmd>) -> RedisResult<()> {
        match self.coalescer.target() {
            Target::Node(c) => {
                let mut pipe = Pipeline::with_capacity(cmds.len());
                for cmd in cmds {
                    pipe.add_command(cmd).ignore();
                }
                pipe.query_async::<()>(&mut c.pick()).await
            }
            Target::Cluster { conn: c, .. } => {
                try_join_all(cmds.iter().map(|cmd| {
                    let mut c = c.clone();
                    async move { cmd.query_async::<()>(&mut c).await }
                }))
                .await?;
                Ok(())
            }
        }
    }

    /// Every key matching `pattern`, by complete `SCAN` loops (on every primary of a cluster).
    /// Keys that are not UTF-8 are not this store's and are left out.
    pub(crate) async fn scan_all(&self, pattern: &str, count: usize) -> RedisResult<Vec<String>> {
        let mut out = Vec::new();
        match self.coalescer.target() {
            Target::Node(c) => {
                scan_loop(pattern, count, &mut out, |cmd| {
                    let mut c = c.pick();
                    self.bounded(async move { cmd.query_async(&mut c).await })
                })
                .await?;
            }
            Target::Cluster { conn: c, .. } => {
                let ranges = self.bounded(slots::read_ranges(c)).await?;
                for (host, port) in slots::Table::from_ranges(&ranges).primaries() {
                    scan_loop(pattern, count, &mut out, |cmd| {
                        let mut c = c.clone();
                        let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                            host: host.clone(),
                            port,
                        });
                        self.bounded(async move {
                            let value = c.route_command(cmd, route).await?;
                            FromRedisValue::from_redis_value(value).map_err(Into::into)
                        })
                    })
                    .await?;
                }
            }
        }
        Ok(out)
    }
}

/// `fut`, or a timeout error (an I/O `TimedOut`, so it maps to a retryable `Timeout`) once
/// `timeout` passes.
pub(crate) async fn within<T>(
    timeout: Duration,
    fut: impl Future<Output = RedisResult<T>>,
) -> RedisResult<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer from Redis within {timeout:?}"),
        )
        .into()),
    }
}

async fn scan_loop<F, Fut>(
    pattern: &str,
    count: usize,
    out: &mut Vec<String>,
    mut run: F,
) -> RedisResult<()>
where
    F: FnMut(Cmd) -> Fut,
    Fut: Future<Output = RedisResult<(u64, Vec<Vec<u8>>)>>,
{
    let mut cursor = 0u64;
    loop {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        let (next, keys) = run(cmd).await?;
        out.extend(keys.into_iter().filter_map(|k| String::from_utf8(k).ok()));
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
