//! The background expiry sweeper: a plain thread that culls at an interval.
//!
//! It is a thread, not a Tokio task, so a store can be opened outside a runtime and a long sweep
//! never occupies a runtime worker. It holds only a [`Weak`] reference: dropping the last store
//! handle drops the sender, which wakes the thread and ends it.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use crate::core::Core;

/// Keeps the sweeper alive; dropping it stops the thread at its next wake-up (immediately).
#[derive(Debug)]
pub(crate) struct Sweeper {
    _stop: mpsc::Sender<()>,
}

impl Sweeper {
    pub(crate) fn start(core: &Arc<Core>, every: Duration) -> std::io::Result<Self> {
        let (stop, wake) = mpsc::channel::<()>();
        let core: Weak<Core> = Arc::downgrade(core);
        std::thread::Builder::new()
            .name("stowage-sled-sweeper".into())
            .spawn(move || {
                loop {
                    match wake.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let Some(core) = core.upgrade() else { return };
                    // Errors are retried at the next interval; reads never return expired entries.
                    let _ = core.cull(SystemTime::now());
                }
            })?;
        Ok(Sweeper { _stop: stop })
    }
}
