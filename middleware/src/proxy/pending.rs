//! The requests of the client's waiting for the server's answers, and the proxy's own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value as Json;

use super::Proxy;
use super::decide::Awaiting;
use crate::request::SkipReason;

/// At most this many requests wait for an answer; past it, new misses are not stored.
const MAX_PENDING: usize = 65_536;
/// A request unanswered for this long is forgotten (its answer, if it ever comes, is relayed
/// but not stored).
const PENDING_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// How often the pending requests are swept for old ones.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// A request of the client's waiting for the server's answer.
pub(super) struct Waiting {
    /// What its answer is for.
    pub(super) awaiting: Awaiting,
    pub(super) since: Instant,
}

#[derive(Default)]
pub(super) struct PendingState {
    pub(super) requests: HashMap<String, Waiting>,
    pub(super) last_sweep: Option<Instant>,
    /// Requests the proxy sent the server itself (to learn the tools' annotations), by id.
    pub(super) own: HashMap<String, tokio::sync::oneshot::Sender<Option<Json>>>,
    pub(super) own_sent: u64,
    /// Whether every page of the tool list was read since the last `list_changed`.
    pub(super) tools_listed: bool,
}

/// Requests waiting for the server's answer, by normalised id.
pub(super) type Pending = Arc<Mutex<PendingState>>;

impl PendingState {
    /// Forget the requests older than [`PENDING_MAX_AGE`] at `now`.
    fn sweep(&mut self, now: Instant) {
        self.last_sweep = Some(now);
        self.requests
            .retain(|_, w| now.duration_since(w.since) < PENDING_MAX_AGE);
    }

    /// Note a request with `id`. A second request with an id already waiting makes both
    /// answers unstorable: which is which cannot be told.
    pub(super) fn insert(&mut self, proxy: &Proxy, id: String, awaiting: Awaiting) {
        let now = Instant::now();
        if self
            .last_sweep
            .is_none_or(|t| now.duration_since(t) >= SWEEP_EVERY)
        {
            self.sweep(now);
        }
        if let Some(earlier) = self.requests.get_mut(&id) {
            if let Some(t) = earlier.awaiting.ticket.take() {
                let _ = proxy.cache.skip(t, SkipReason::AmbiguousId);
            }
            earlier.awaiting.tools_list = false;
            if let Some(t) = awaiting.ticket {
                let _ = proxy.cache.skip(t, SkipReason::AmbiguousId);
            }
            return;
        }
        if self.requests.len() >= MAX_PENDING {
            if let Some(t) = awaiting.ticket {
                let _ = proxy.cache.skip(t, SkipReason::Invalidated);
            }
            return;
        }
        self.requests.insert(
            id,
            Waiting {
                awaiting,
                since: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_never_answered_are_forgotten() {
        let proxy = Proxy::new(
            crate::ResponseCache::in_memory(),
            crate::Caller::anonymous(),
        );
        let mut state = PendingState::default();
        for i in 0..3 {
            state.insert(&proxy, format!("{i}"), Awaiting::default());
        }
        assert_eq!(state.requests.len(), 3);
        let later = Instant::now() + PENDING_MAX_AGE;
        state.insert(&proxy, "new".into(), Awaiting::default());
        state.sweep(later - Duration::from_secs(1));
        assert_eq!(state.requests.len(), 4, "young requests stay");
        state.sweep(later + SWEEP_EVERY);
        assert!(state.requests.is_empty(), "old requests go");
    }
}
