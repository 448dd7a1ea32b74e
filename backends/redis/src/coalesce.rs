//! Concurrent calls to one node, coalesced into pipelines.
//!
//! While few calls are in flight, each goes straight to the next connection of the pool, as
//! itself. Once [`DIRECT_BELOW`] or more are in flight, a call joins a queue instead. The first
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
//! Under load this turns many small round trips into fewer larger ones: one channel message, one
//! reply channel and one timer per pipeline instead of per call in the client, and one read of
//! the socket per pipeline on the server.

use std::io;
use std::mem;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::{Cmd, FromRedisValue, Pipeline, RedisError, RedisResult, Value as RedisValue};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::conn::{Pool, within};

/// Calls in flight below which a call is sent as itself, without queueing.
pub(crate) const DIRECT_BELOW: usize = 8;

/// The most calls one pipeline carries.
pub(crate) const MAX_PIPELINE: usize = 16;

/// A pipeline is sent once it holds this fraction of the calls in flight.
const SHARE_OF_IN_FLIGHT: usize = 4;

/// Calls to one node, sent as themselves or queued and sent as pipelines by tasks spawned on the
/// store's runtime.
pub(crate) struct Coalescer {
    pool: Pool,
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
}

#[derive(Default)]
struct Queue {
    calls: Vec<Call>,
    /// A flush task is scheduled and has not taken the queue yet.
    flush_scheduled: bool,
}

struct Call {
    cmd: Cmd,
    reply: oneshot::Sender<RedisResult<RedisValue>>,
}

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
    /// Calls over `pool`, each round trip bounded by `timeout`; flush tasks run on `runtime` (the
    /// store's). With `enabled` false every call is sent as itself.
    pub(crate) fn new(pool: Pool, timeout: Duration, runtime: Handle, enabled: bool) -> Self {
        Coalescer {
            pool,
            timeout,
            runtime,
            enabled,
            queue: Mutex::new(Queue::default()),
            in_flight: AtomicUsize::new(0),
            stats: Stats::default(),
        }
    }

    /// What this coalescer has sent so far.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Run `cmd`, as itself or in a pipeline, and convert its reply.
    pub(crate) async fn query<T: FromRedisValue>(self: &Arc<Self>, cmd: Cmd) -> RedisResult<T> {
        let before = self.in_flight.fetch_add(1, Ordering::Relaxed);
        let _counted = InFlight(&self.in_flight);
        if !self.enabled || before < DIRECT_BELOW {
            self.stats.direct.fetch_add(1, Ordering::Relaxed);
            return within(self.timeout, cmd.query_async(&mut self.pool.pick())).await;
        }
        let (reply, answer) = oneshot::channel();
        let batch = (before / SHARE_OF_IN_FLIGHT).clamp(2, MAX_PIPELINE);
        match self.enqueue(Call { cmd, reply }, batch) {
            Flush::None => {}
            Flush::Scheduled => {
                let this = Arc::clone(self);
                self.runtime.spawn(async move {
                    // Let the tasks the runtime has ready issue their calls first.
                    tokio::task::yield_now().await;
                    let calls = this.take();
                    this.send(calls).await;
                });
            }
            Flush::Now(calls) => {
                let this = Arc::clone(self);
                self.runtime.spawn(async move { this.send(calls).await });
            }
        }
        let value = answer.await.unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the Redis call was dropped before its reply (the runtime is shutting down)",
            )
            .into())
        })?;
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

    /// Send `calls` as one pipeline (a lone call as itself) and hand out the replies. A caller
    /// that stopped waiting has dropped its receiver; its reply is dropped with it.
    async fn send(&self, calls: Vec<Call>) {
        let mut conn = self.pool.pick();
        match <[Call; 1]>::try_from(calls) {
            Ok([call]) => {
                self.stats.direct.fetch_add(1, Ordering::Relaxed);
                let result = within(self.timeout, conn.send_packed_command(&call.cmd)).await;
                let _ = call.reply.send(result);
            }
            Err(calls) if calls.is_empty() => {}
            Err(calls) => {
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
                let sent = pipe.query_async::<Vec<RedisResult<RedisValue>>>(&mut conn);
                let failed = match within(self.timeout, sent).await {
                    Ok(results) if results.len() == replies.len() => {
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(result);
                        }
                        return;
                    }
                    Ok(results) => miscounted(replies.len(), results.len()),
                    Err(e) => e,
                };
                for reply in replies {
                    let _ = reply.send(Err(failed.clone()));
                }
            }
        }
    }
}

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
