//! The background expiry sweeper: a plain thread that culls at an interval.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use super::Engine;

/// A thread that calls [`Engine::cull`] at an interval, started by
/// [`EmbeddedStore::sweep_every`](super::EmbeddedStore::sweep_every).
///
/// It is a thread, not a Tokio task, so a store can be opened outside a runtime and a long sweep
/// never occupies a runtime worker. It holds only a [`Weak`] reference to the engine; dropping
/// the `Sweeper` wakes the thread and ends it at once. Errors are retried at the next interval
/// (reads never return expired entries, so a missed sweep only delays reclaiming space).
#[derive(Debug)]
pub struct Sweeper {
    _stop: mpsc::Sender<()>,
}

impl Sweeper {
    /// Start the thread, named `stowage-{backend}-sweeper`.
    pub fn start<E: Engine>(
        engine: &Arc<E>,
        backend: &str,
        every: Duration,
    ) -> std::io::Result<Self> {
        let (stop, wake) = mpsc::channel::<()>();
        let engine: Weak<E> = Arc::downgrade(engine);
        std::thread::Builder::new()
            .name(format!("stowage-{backend}-sweeper"))
            .spawn(move || {
                loop {
                    match wake.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let Some(engine) = engine.upgrade() else {
                        return;
                    };
                    let _ = engine.cull(SystemTime::now());
                }
            })?;
        Ok(Sweeper { _stop: stop })
    }
}
