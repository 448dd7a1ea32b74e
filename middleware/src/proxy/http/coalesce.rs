//! Coalescing concurrent identical misses: one upstream call per key at a time, in one process.
//!
//! A request the cache may answer takes its key's turn before the lookup; the next identical
//! request waits for that turn, then looks up again and finds the answer the first one stored.
//! When the first answer is not stored (an error, say), the next request goes upstream itself,
//! still one at a time. Requests for different keys, or from different callers, never wait for
//! each other.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OwnedMutexGuard;

type Turns = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// The keys whose answer is being fetched.
#[derive(Debug, Default, Clone)]
pub(super) struct Flights {
    turns: Turns,
}

/// A request's turn at its key: the next identical request waits until this is dropped.
#[derive(Debug)]
pub(super) struct Turn {
    guard: Option<OwnedMutexGuard<()>>,
    key: String,
    turns: Turns,
}

impl Flights {
    /// Wait for the turn at `key`.
    pub(super) async fn turn(&self, key: String) -> Turn {
        let lock = self.turns.lock().entry(key.clone()).or_default().clone();
        let guard = lock.lock_owned().await;
        Turn {
            guard: Some(guard),
            key,
            turns: self.turns.clone(),
        }
    }

    /// How many keys have a request fetching or waiting.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.turns.lock().len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut turns = self.turns.lock();
        drop(self.guard.take());
        // Only the map holds the lock now: nobody waits, forget the key.
        if turns
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            turns.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_key_at_a_time_and_keys_are_forgotten() {
        let flights = Flights::default();
        let first = flights.turn("k".into()).await;
        let other = flights.turn("other".into()).await;
        let waiting = tokio::spawn({
            let flights = flights.clone();
            async move { flights.turn("k".into()).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a second turn at one key waits");
        drop(first);
        let second = waiting.await.unwrap();
        assert_eq!(flights.len(), 2);
        drop(second);
        drop(other);
        assert_eq!(flights.len(), 0);
    }
}
