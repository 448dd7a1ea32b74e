//! Connections to one node, handed out in turn, and the deadline every round trip runs under.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use redis::RedisResult;
use redis::aio::ConnectionManager;

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
