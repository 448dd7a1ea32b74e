//! Concurrent calls to one node or cluster, coalesced into pipelines.
//!
//! While few calls are in flight, each is sent as itself (on one node over the next connection
//! of the pool). Once [`DIRECT_BELOW`] or more are in flight, a call joins a queue instead. The first
//! call to find the queue empty schedules a flush: a task that lets the runtime run once more
//! (calls issued in the meantime join the queue) and then sends the queue as one pipeline. A
//! queue that reaches a quarter of the calls in flight (at most [`MAX_PIPELINE`]) is sent at once,
//! so several pipelines stay in flight and the server works on one while the client reads
//! another.
//!
//! Each call gets its own command's reply, a server error included (the pipeline ignores errors,
//! so one failing command does not fail its neighbours); a failed round trip gives every call of
//! that pipeline the same error. Flushes run as tasks of their own: a caller that stops waiting
//! never takes other calls' replies with it.
//!
//! In a cluster, the queue is split by the primary that the store's slot map gives each key, and
//! each part goes as one pipeline over the store's own connection to that primary (see
//! `slots`); only `get`s and `put`s join the queue there, as a call redirected by `MOVED` or
//! `ASK` is sent again through the cluster client.
//!
//! Under load this turns many small round trips into fewer larger ones: one channel message, one
//! reply channel and one timer per pipeline instead of per call in the client, and one read of
//! the socket per pipeline on the server.

mod cluster;
mod commands;

use std::io;
use std::mem;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, RedisResult, Value as RedisValue};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::pool::{Pool, within};
use crate::slots::SlotMap;

/// Calls in flight below which a call is sent as itself, without queueing.
pub(crate) const DIRECT_BELOW: usize = 8;

/// The most calls one pipeline carries.
pub(crate) const MAX_PIPELINE: usize = 16;

/// A pipeline is sent once it holds this fraction of the calls in flight.
const SHARE_OF_IN_FLIGHT: usize = 4;

/// Where the calls go.
pub(crate) enum Target {
    /// One node, over a pool of connections.
    Node(Pool),
    /// A Redis Cluster: a pipeline goes to one primary, with the calls whose keys the slot map
    /// places there.
    Cluster {
        conn: ClusterConnection,
        map: Arc<SlotMap>,
    },
}

/// Calls to one node or cluster, sent as themselves or queued and sent as pipelines by tasks
/// spawned on the store's runtime.
pub(crate) struct Coalescer {
    target: Target,
    timeout: Duration,
    runtime: Handle,
    /// `false`: every call goes as itself.
    enabled: bool,
    queue: Mutex<Queue>,
    in_flight: AtomicUsize,
    stats: Stats,
}

/// What the coalescer sent, for tests and diagnostics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Calls sent as themselves.
    pub(crate) direct: AtomicU64,
    /// Pipelines of two or more calls.
    pub(crate) pipelines: AtomicU64,
    /// Calls sent in those pipelines.
    pub(crate) pipelined_calls: AtomicU64,
    /// Calls of cluster pipelines that failed and were sent again one by one.
    pub(crate) resent: AtomicU64,
}

#[derive(Default)]
struct Queue {
    calls: Vec<Call>,
    /// A flush task is scheduled and has not taken the queue yet.
    flush_scheduled: bool,
}

struct Call {
    cmd: Cmd,
    reply: Reply,
}

/// Where a call's reply goes.
type Reply = oneshot::Sender<RedisResult<RedisValue>>;

/// What a call that joined the queue has to start.
enum Flush {
    /// Nothing: a scheduled flush will take the call.
    None,
    /// A flush that takes the queue after the runtime has run once more.
    Scheduled,
    /// A flush of these calls, right away.
    Now(Vec<Call>),
}

/// Counts a call in flight until dropped (also when its caller stops waiting).
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Coalescer {
    /// Calls to `target`, each round trip bounded by `timeout` (a cluster connection bounds its
    /// own with the same deadline); flush tasks run on `runtime` (the store's). With `enabled`
    /// false every call is sent as itself.
    pub(crate) fn new(target: Target, timeout: Duration, runtime: Handle, enabled: bool) -> Self {
        Coalescer {
            target,
            timeout,
            runtime,
            enabled,
            queue: Mutex::new(Queue::default()),
            in_flight: AtomicUsize::new(0),
            stats: Stats::default(),
        }
    }

    /// Where the calls go.
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// The deadline of one round trip.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What this coalescer has sent so far.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The cluster's slot map; `None` on a single node.
    #[cfg(test)]
    pub(crate) fn slot_map(&self) -> Option<&Arc<SlotMap>> {
        match &self.target {
            Target::Node(_) => None,
            Target::Cluster { map, .. } => Some(map),
        }
    }

    /// Run `cmd`, as itself or in a pipeline, and convert its reply.
    pub(crate) async fn coalesced<T: FromRedisValue>(self: &Arc<Self>, cmd: Cmd) -> RedisResult<T> {
        let before = self.in_flight.fetch_add(1, Ordering::Relaxed);
        let _counted = InFlight(&self.in_flight);
        if !self.enabled || before < DIRECT_BELOW {
            self.stats.direct.fetch_add(1, Ordering::Relaxed);
            return match &self.target {
                Target::Node(pool) => within(self.timeout, cmd.query_async(&mut pool.pick())).await,
                Target::Cluster { conn, .. } => cmd.query_async(&mut conn.clone()).await,
            };
        }
        let (reply, answer) = oneshot::channel();
        // About a quarter of the calls in flight per pipeline to each node.
        let nodes = match &self.target {
            Target::Node(_) => 1,
            Target::Cluster { map, .. } => map.primaries(),
        };
        let batch = (before * nodes / SHARE_OF_IN_FLIGHT).clamp(2, MAX_PIPELINE * nodes);
        // Flushes run on the runtime of the caller when there is one, so that a store built on
        // another runtime (one no longer driven, say) never strands a queued call; else on the
        // store's own.
        let runtime = Handle::try_current().unwrap_or_else(|_| self.runtime.clone());
        match self.enqueue(Call { cmd, reply }, batch) {
            Flush::None => {}
            Flush::Scheduled => {
                let this = Arc::clone(self);
                runtime.spawn(async move {
                    // Let the tasks the runtime has ready issue their calls first.
                    tokio::task::yield_now().await;
                    let calls = this.take();
                    this.send(calls).await;
                });
            }
            Flush::Now(calls) => {
                let this = Arc::clone(self);
                runtime.spawn(async move { this.send(calls).await });
            }
        }
        // A queued call has its own deadline, from the moment it was queued: it ends within the
        // configured timeout whatever happens to its pipeline.
        let value = within(self.timeout, async {
            answer.await.unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the Redis call was dropped before its reply (the runtime is shutting down)",
                )
                .into())
            })
        })
        .await?;
        Ok(T::from_redis_value(value.extract_error()?)?)
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue holds no invariant that a panic could leave half-updated.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `call`; a queue of `batch` calls is sent at once.
    fn enqueue(&self, call: Call, batch: usize) -> Flush {
        let mut queue = self.lock();
        queue.calls.push(call);
        if queue.calls.len() >= batch {
            Flush::Now(mem::take(&mut queue.calls))
        } else if queue.flush_scheduled {
            Flush::None
        } else {
            queue.flush_scheduled = true;
            Flush::Scheduled
        }
    }

    fn take(&self) -> Vec<Call> {
        let mut queue = self.lock();
        queue.flush_scheduled = false;
        mem::take(&mut queue.calls)
    }

    /// Send `calls` and hand out the replies. A caller that stopped waiting has dropped its
    /// receiver; its reply is dropped with it.
    async fn send(&self, calls: Vec<Call>) {
        match &self.target {
            Target::Node(pool) => self.send_to_node(pool, calls).await,
            Target::Cluster { conn, map } => self.send_to_cluster(conn, map, calls).await,
        }
    }

    /// `calls` as one pipeline (a lone call as itself) over the pool's next connection.
    async fn send_to_node(&self, pool: &Pool, calls: Vec<Call>) {
        let mut conn = pool.pick();
        match <[Call; 1]>::try_from(calls) {
            Ok([call]) => {
                self.stats.direct.fetch_add(1, Ordering::Relaxed);
                let result = within(self.timeout, conn.send_packed_command(&call.cmd)).await;
                let _ = call.reply.send(result);
            }
            Err(calls) if calls.is_empty() => {}
            Err(calls) => {
                let (_, replies, sent) = self.send_pipeline(&mut conn, calls).await;
                match sent {
                    Ok(results) if results.len() == replies.len() => {
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(result);
                        }
                    }
                    Ok(results) => {
                        let e = miscounted(replies.len(), results.len());
                        fail_all(replies, &e);
                    }
                    Err(e) => fail_all(replies, &e),
                }
            }
        }
    }

    /// `calls` as one pipeline over `conn`, within the deadline: the pipeline (its commands, to
    /// send again), the callers' reply channels in order, and the replies, or the error of the
    /// whole round trip.
    async fn send_pipeline(
        &self,
        conn: &mut ConnectionManager,
        calls: Vec<Call>,
    ) -> (
        Pipeline,
        Vec<Reply>,
        RedisResult<Vec<RedisResult<RedisValue>>>,
    ) {
        self.stats.pipelines.fetch_add(1, Ordering::Relaxed);
        self.stats
            .pipelined_calls
            .fetch_add(calls.len() as u64, Ordering::Relaxed);
        let mut pipe = Pipeline::with_capacity(calls.len());
        let mut replies = Vec::with_capacity(calls.len());
        for call in calls {
            pipe.add_command(call.cmd);
            replies.push(call.reply);
        }
        pipe.ignore_errors();
        let sent = pipe.query_async::<Vec<RedisResult<RedisValue>>>(conn);
        let sent = within(self.timeout, sent).await;
        (pipe, replies, sent)
    }
}

/// Give every reply channel the same error.
fn fail_all(replies: Vec<Reply>, e: &RedisError) {
    for reply in replies {
        // A caller that stopped waiting has dropped its receiver.
        let _ = reply.send(Err(e.clone()));
    }
}

/// The error of a pipeline whose reply count differs from its command count.
fn miscounted(sent: usize, got: usize) -> RedisError {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a pipeline of {sent} commands got {got} replies"),
    )
    .into()
}

impl std::fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer")
            .field("enabled", &self.enabled)
            .field("timeout", &self.timeout)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
