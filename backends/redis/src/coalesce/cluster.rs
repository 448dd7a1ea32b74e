//! The cluster half of the coalescer: a queue split by the primary that the slot map gives each
//! key, a pipeline per primary, and redirected calls sent again through the cluster client.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use redis::aio::ConnectionLike;
use redis::cluster_async::ClusterConnection;
use redis::{Arg, Cmd, RedisError};

use super::{Call, Coalescer, Reply, fail_all, miscounted};
use crate::pool::within;
use crate::slots::{SlotMap, slot};

impl Coalescer {
    /// `calls` grouped by the primary that the slot map gives their key, a pipeline per primary
    /// over the store's connection to it (a lone call, or one for a primary without such a
    /// connection, as itself through the cluster client), all at once. A call answered `MOVED`
    /// or `ASK`, or every call of a pipeline whose connection failed other than by timing out, is
    /// sent again through the cluster client, which follows redirections, within what is left of
    /// the deadline; the slot map is then read again.
    pub(super) async fn send_to_cluster(
        &self,
        conn: &ClusterConnection,
        map: &Arc<SlotMap>,
        calls: Vec<Call>,
    ) {
        let started = Instant::now();
        let table = map.current();
        let mut by_node: Vec<Vec<Call>> = Vec::new();
        let mut loose = Vec::new();
        for call in calls {
            match key_slot(&call.cmd).and_then(|s| table.owner(s)) {
                Some(node) => {
                    if by_node.len() <= node {
                        by_node.resize_with(node + 1, Vec::new);
                    }
                    by_node[node].push(call);
                }
                None => loose.push(call),
            }
        }
        let pipelines = by_node
            .into_iter()
            .enumerate()
            .filter(|(_, calls)| !calls.is_empty())
            .map(|(node, calls)| {
                let (host, port) = table.node(node);
                self.pipeline_to(conn, map, host, *port, calls, started)
            });
        self.stats
            .direct
            .fetch_add(loose.len() as u64, Ordering::Relaxed);
        let singles = loose.into_iter().map(|Call { cmd, reply }| async move {
            self.one(conn, &cmd, reply, None).await;
        });
        futures_util::future::join(join_all(pipelines), join_all(singles)).await;
    }

    async fn pipeline_to(
        &self,
        conn: &ClusterConnection,
        map: &Arc<SlotMap>,
        host: &str,
        port: u16,
        calls: Vec<Call>,
        started: Instant,
    ) {
        let mut link = match map.link(host, port) {
            Some(link) if calls.len() > 1 => link,
            _ => {
                // A lone call, or no connection of the store's to this primary.
                self.stats
                    .direct
                    .fetch_add(calls.len() as u64, Ordering::Relaxed);
                let each = calls.into_iter().map(|Call { cmd, reply }| async move {
                    self.one(conn, &cmd, reply, None).await;
                });
                join_all(each).await;
                return;
            }
        };
        let (pipe, replies, sent) = self.send_pipeline(&mut link, calls).await;
        let again: Vec<_> = match sent {
            Ok(results) if results.len() == replies.len() => {
                let mut again = Vec::new();
                for ((reply, result), cmd) in replies.into_iter().zip(results).zip(pipe.cmd_iter())
                {
                    match result {
                        Err(e) if redirected(&e) => again.push((cmd, reply)),
                        result => {
                            let _ = reply.send(result);
                        }
                    }
                }
                again
            }
            Ok(results) => {
                let e = miscounted(replies.len(), results.len());
                fail_all(replies, &e);
                return;
            }
            Err(e) if e.is_timeout() => {
                fail_all(replies, &e);
                return;
            }
            // The primary's connection failed: the cluster client may know better (a failover).
            Err(_) => pipe.cmd_iter().zip(replies).collect(),
        };
        if again.is_empty() {
            return;
        }
        self.stats
            .resent
            .fetch_add(again.len() as u64, Ordering::Relaxed);
        map.refresh(conn, &self.runtime);
        let left = self.timeout.saturating_sub(started.elapsed());
        let each = again
            .into_iter()
            .map(|(cmd, reply)| self.one(conn, cmd, reply, Some(left)));
        join_all(each).await;
    }

    /// One call as itself through the cluster client (which bounds it with the store's
    /// deadline), within `left` when given.
    async fn one(&self, conn: &ClusterConnection, cmd: &Cmd, reply: Reply, left: Option<Duration>) {
        let mut conn = conn.clone();
        let result = match left {
            Some(left) => within(left, conn.req_packed_command(cmd)).await,
            None => conn.req_packed_command(cmd).await,
        };
        let _ = reply.send(result);
    }
}

/// Whether a command was answered by a primary that does not serve its key (now).
fn redirected(e: &RedisError) -> bool {
    matches!(
        e.kind(),
        redis::ErrorKind::Server(redis::ServerErrorKind::Moved | redis::ServerErrorKind::Ask)
    )
}

/// The hash slot of a command's first key (its first argument after the name).
fn key_slot(cmd: &Cmd) -> Option<u16> {
    match cmd.args_iter().nth(1)? {
        Arg::Simple(key) => Some(slot(key)),
        _ => None,
    }
}
