//! The commands the store sends, over the coalescer's target: one node or a cluster, each round
//! trip within the deadline.

use std::sync::Arc;

use futures_util::future::try_join_all;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult};

use super::{Coalescer, Target};
use crate::pool::within;
use crate::slots;

impl Coalescer {
    /// The cluster client's connection; `None` on a single node.
    #[cfg(test)]
    pub(crate) fn cluster_connection(&self) -> Option<&redis::cluster_async::ClusterConnection> {
        match self.target() {
            Target::Node(_) => None,
            Target::Cluster { conn, .. } => Some(conn),
        }
    }

    /// Whether this is a cluster connection.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.target(), Target::Cluster { .. })
    }

    /// `fut`, or a timeout error (an I/O `TimedOut`, so it maps to a retryable `Timeout`) once
    /// the deadline passes. A cluster connection enforces the same deadline itself (its overall
    /// response timeout, set to `timeout` when it is built), so only one timer runs per call.
    async fn bounded<T>(&self, fut: impl Future<Output = RedisResult<T>>) -> RedisResult<T> {
        if self.is_cluster() {
            return fut.await;
        }
        within(self.timeout(), fut).await
    }

    /// Run one command: on a single node in the next pipeline of concurrent calls (see
    /// [`Coalescer::coalesced`]); in a cluster as itself, where the client splits multi-key `MGET`/`DEL` by
    /// slot.
    pub(crate) async fn query<T: FromRedisValue>(self: &Arc<Self>, cmd: Cmd) -> RedisResult<T> {
        match self.target() {
            Target::Node(_) => self.coalesced(cmd).await,
            Target::Cluster { conn, .. } => cmd.query_async(&mut conn.clone()).await,
        }
    }

    /// Run one single-key command that may run twice with the same effect (`GET`, `SET`): in the
    /// next pipeline of concurrent calls on a single node and in a cluster, where a pipeline that
    /// reached a primary no longer serving one of its keys is sent again call by call.
    pub(crate) async fn query_idempotent<T: FromRedisValue>(
        self: &Arc<Self>,
        cmd: Cmd,
    ) -> RedisResult<T> {
        self.coalesced(cmd).await
    }

    /// Run independent single-key commands: one pipeline on a single node, concurrent commands
    /// (pipelined per node by the client) in a cluster, where a pipeline may not span slots.
    pub(crate) async fn run_all(&self, cmds: Vec<Cmd>) -> RedisResult<()> {
        self.bounded(self.run_all_unbounded(cmds)).await
    }

    async fn run_all_unbounded(&self, cmds: Vec<Cmd>) -> RedisResult<()> {
        match self.target() {
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
        match self.target() {
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
