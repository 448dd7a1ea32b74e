//! Single-flight loading: concurrent misses for one key wait for one load.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use stowage_core::{Entry, Error, ErrorKind, Result};
use tokio::sync::Notify;

/// How a load ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Loaded(Option<Entry>),
    Failed(ErrorKind, String),
    /// The loading task was dropped before it finished; waiters load again.
    Abandoned,
}

/// One load in progress.
#[derive(Debug, Default)]
pub(crate) struct Flight {
    outcome: OnceLock<Outcome>,
    done: Notify,
    /// Set when a write to the key happened during the load: its result must not be cached.
    /// Held while the result is put in the local tier.
    pub(crate) invalidated: tokio::sync::Mutex<bool>,
}

impl Flight {
    pub(crate) fn finish(&self, outcome: Outcome) {
        let _ = self.outcome.set(outcome);
        self.done.notify_waiters();
    }

    pub(crate) async fn wait(&self) -> Outcome {
        loop {
            let notified = self.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            notified.await;
        }
    }
}

pub(crate) type FlightKey = (String, String);

/// The loads in progress, by (collection, key).
#[derive(Debug, Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<FlightKey, Arc<Flight>>>,
}

/// Either this caller loads the key, or it waits for another's load.
pub(crate) enum Role {
    Owner(OwnerGuard),
    Waiter(Arc<Flight>),
}

impl Flights {
    pub(crate) fn join(self: &Arc<Self>, collection: &str, key: &str) -> Role {
        let mut map = self.map.lock();
        let k = (collection.to_owned(), key.to_owned());
        if let Some(f) = map.get(&k) {
            return Role::Waiter(f.clone());
        }
        let flight = Arc::new(Flight::default());
        map.insert(k.clone(), flight.clone());
        Role::Owner(OwnerGuard {
            flights: self.clone(),
            key: k,
            flight,
        })
    }

    /// Mark the loads of these keys (or of the whole collection, or everything) as stale.
    pub(crate) async fn invalidate(&self, filter: impl Fn(&FlightKey) -> bool) {
        let hit: Vec<Arc<Flight>> = self
            .map
            .lock()
            .iter()
            .filter(|(k, _)| filter(k))
            .map(|(_, f)| f.clone())
            .collect();
        for flight in hit {
            *flight.invalidated.lock().await = true;
        }
    }
}

/// The loader's handle. Dropping it unfinished tells the waiters to load again; dropping it
/// always removes the flight from the table.
pub(crate) struct OwnerGuard {
    flights: Arc<Flights>,
    key: FlightKey,
    pub(crate) flight: Arc<Flight>,
}

impl OwnerGuard {
    pub(crate) fn key(&self) -> &str {
        &self.key.1
    }
}

impl Drop for OwnerGuard {
    fn drop(&mut self) {
        let mut map = self.flights.map.lock();
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
        drop(map);
        self.flight.finish(Outcome::Abandoned);
    }
}

pub(crate) fn outcome_of(result: &Result<Option<Entry>>) -> Outcome {
    match result {
        Ok(e) => Outcome::Loaded(e.clone()),
        Err(e) => Outcome::Failed(e.kind(), e.message().to_owned()),
    }
}

pub(crate) fn error_of(kind: ErrorKind, message: &str) -> Error {
    Error::new(kind, message.to_owned()).with_operation("passthrough load")
}
