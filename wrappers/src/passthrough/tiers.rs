//! The two tiers of [`PassthroughStore`]: loading from the remote store (one load per key at a
//! time), keeping local copies, forgetting them.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime};

use stowage_core::{Entry, KeyValueStore, Result};

use super::PassthroughStore;
use super::flight::{Outcome, OwnerGuard, Role, error_of, outcome_of};

impl<S: KeyValueStore> PassthroughStore<S> {
    pub(super) fn local(&self) -> &dyn KeyValueStore {
        &*self.shared.local
    }

    /// The TTL of a local copy of `entry`, or `None` when not worth keeping.
    pub(super) fn local_ttl(&self, entry: &Entry) -> Option<Duration> {
        let cap = self.shared.max_local_ttl;
        match entry.expires_at {
            None => Some(cap),
            Some(at) => match at.duration_since(SystemTime::now()) {
                // A millisecond early, so the copy never outlives the entry.
                Ok(left) if left > Duration::from_millis(1) => {
                    Some((left - Duration::from_millis(1)).min(cap))
                }
                _ => None,
            },
        }
    }

    /// Put a loaded entry in the local tier unless a write invalidated the load.
    pub(super) async fn keep(&self, collection: &str, guard: &OwnerGuard, entry: &Entry) {
        let Some(ttl) = self.local_ttl(entry) else {
            return;
        };
        let invalidated = guard.flight.invalidated.lock().await;
        if *invalidated {
            return;
        }
        if let Err(e) = self
            .local()
            .put(collection, guard.key(), entry.value.clone(), Some(ttl))
            .await
        {
            tracing::debug!(error = %e, "stowage: local tier refused a copy");
        }
    }

    /// Load one key from the remote store, sharing the load with concurrent callers.
    pub(super) async fn load(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        loop {
            match self.shared.flights.join(collection, key) {
                Role::Owner(guard) => {
                    self.shared.counters.remote_loads.fetch_add(1, Relaxed);
                    let result = self.remote.ttl(collection, key).await;
                    if let Ok(Some(entry)) = &result {
                        self.keep(collection, &guard, entry).await;
                    }
                    guard.flight.finish(outcome_of(&result));
                    return result;
                }
                Role::Waiter(flight) => {
                    self.shared.counters.coalesced.fetch_add(1, Relaxed);
                    match flight.wait().await {
                        Outcome::Loaded(entry) => return Ok(entry),
                        Outcome::Failed(kind, message) => return Err(error_of(kind, &message)),
                        Outcome::Abandoned => continue,
                    }
                }
            }
        }
    }

    /// Load several keys: one remote batch for the keys nobody else is loading.
    pub(super) async fn load_many(
        &self,
        collection: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Entry>>> {
        let mut owned: Vec<(usize, OwnerGuard)> = Vec::new();
        let mut waiting = Vec::new();
        let mut out: Vec<Option<Entry>> = vec![None; keys.len()];
        let mut first_of = std::collections::HashMap::new();
        let mut repeats = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if let Some(&j) = first_of.get(key) {
                repeats.push((i, j));
                continue;
            }
            first_of.insert(*key, i);
            match self.shared.flights.join(collection, key) {
                Role::Owner(guard) => owned.push((i, guard)),
                Role::Waiter(flight) => waiting.push((i, flight)),
            }
        }
        if !owned.is_empty() {
            let ks: Vec<&str> = owned.iter().map(|(i, _)| keys[*i]).collect();
            self.shared
                .counters
                .remote_loads
                .fetch_add(ks.len() as u64, Relaxed);
            let loaded = self.remote.ttl_many(collection, &ks).await;
            match loaded {
                Ok(entries) => {
                    for ((i, guard), entry) in owned.iter().zip(entries) {
                        if let Some(e) = &entry {
                            self.keep(collection, guard, e).await;
                        }
                        guard.flight.finish(Outcome::Loaded(entry.clone()));
                        out[*i] = entry;
                    }
                }
                Err(e) => {
                    for (_, guard) in &owned {
                        guard
                            .flight
                            .finish(Outcome::Failed(e.kind(), e.message().to_owned()));
                    }
                    return Err(e);
                }
            }
        }
        drop(owned);
        for (i, flight) in waiting {
            self.shared.counters.coalesced.fetch_add(1, Relaxed);
            out[i] = match flight.wait().await {
                Outcome::Loaded(entry) => entry,
                Outcome::Failed(kind, message) => return Err(error_of(kind, &message)),
                Outcome::Abandoned => self.load(collection, keys[i]).await?,
            };
        }
        for (i, j) in repeats {
            out[i] = out[j].clone();
        }
        Ok(out)
    }

    pub(super) async fn forget(&self, collection: &str, keys: &[&str]) {
        self.shared
            .flights
            .invalidate(|(c, k)| c == collection && keys.contains(&k.as_str()))
            .await;
        if let Err(e) = self.local().delete_many(collection, keys).await {
            tracing::warn!(error = %e, "stowage: could not drop local copies");
        }
    }
}
