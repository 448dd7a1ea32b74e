//! A two-tier cache: a fast local store in front of a slower one.
//!
//! The layer wraps the *remote* (authoritative) store and holds the *local* tier (usually a
//! [`MemoryStore`](https://docs.rs/stowage-memory)). Reads try the local tier first; a miss
//! loads the entry from the remote store and keeps a copy locally, for at most
//! [`PassthroughLayer::max_local_ttl`] (30 minutes by default, as py-key-value's
//! `PassthroughCacheWrapper`) and never past the entry's own expiry. Writes and deletes go to
//! the remote store, then drop the local copy.
//!
//! - `get` / `get_many` are served by the local tier when it can.
//! - `ttl` / `ttl_many` always ask the remote store (the local copy's expiry is capped, so it
//!   would misreport the entry's), and refresh the local copy.
//! - A failing local tier is treated as a miss; the remote store's errors are returned.
//!
//! # Concurrent misses on the same key
//!
//! When many callers miss the same key at once, one of them loads it from the remote store and
//! the others wait for that load: the remote store sees one read, not one per caller. A write
//! to the key while it loads keeps the loaded (older) value out of the local tier. If the
//! loading caller is cancelled, a waiter takes over.
//!
//! ```
//! use std::sync::Arc;
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::passthrough::PassthroughLayer;
//! use stowage_wrappers::stats::StatsLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let remote_stats = StatsLayer::new();
//! let remote = MemoryStore::new().layer(remote_stats.clone());
//! remote.put("c", "hot", Value::from_json(r#"{"v":1}"#)?, None).await?;
//!
//! let cache = PassthroughLayer::new(MemoryStore::new())?;
//! let store = Arc::new(remote.layer(cache.clone()));
//! let readers: Vec<_> = (0..50)
//!     .map(|_| {
//!         let store = store.clone();
//!         tokio::spawn(async move { store.get("c", "hot").await })
//!     })
//!     .collect();
//! for r in readers {
//!     assert!(r.await.unwrap()?.is_some());
//! }
//! // 50 concurrent readers, one remote read.
//! assert_eq!(remote_stats.collection("c").hits, 1);
//! # Ok(()) }
//! ```
//!
//! **Order with statistics**: a [`StatsLayer`](crate::stats::StatsLayer) outside this layer
//! counts what callers see; under it (on the remote store, as above) it counts remote reads.

mod flight;
mod tiers;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use stowage_core::{
    Capabilities, DynStore, Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value,
    async_trait, rules,
};

use flight::Flights;

/// Default cap on how long the local tier keeps a copy: 30 minutes.
pub const DEFAULT_MAX_LOCAL_TTL: Duration = Duration::from_secs(30 * 60);

/// Counts of the cache's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PassthroughStats {
    /// Keys served by the local tier.
    pub local_hits: u64,
    /// Keys read from the remote store.
    pub remote_loads: u64,
    /// Keys whose load was shared with a concurrent caller.
    pub coalesced: u64,
}

#[derive(Default)]
struct Counters {
    local_hits: AtomicU64,
    remote_loads: AtomicU64,
    coalesced: AtomicU64,
}

struct Shared {
    local: DynStore,
    max_local_ttl: Duration,
    flights: Arc<Flights>,
    counters: Counters,
}

/// The two-tier cache; see the [module docs](self). Clones share the local tier.
#[derive(Clone)]
pub struct PassthroughLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for PassthroughLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassthroughLayer")
            .field("local", &self.shared.local)
            .field("max_local_ttl", &self.shared.max_local_ttl)
            .field("stats", &self.stats())
            .finish()
    }
}

impl PassthroughLayer {
    /// A cache with `local` as its local tier and the default TTL cap.
    ///
    /// Errors with [`ErrorKind::Config`] when `local` cannot `destroy_collection` and `destroy`
    /// (needed to drop its copies when the remote store's collections are destroyed).
    pub fn new(local: impl KeyValueStore + 'static) -> Result<Self> {
        let caps = local.capabilities();
        if !(caps.destroy_collection && caps.destroy) {
            return Err(Error::new(
                ErrorKind::Config,
                "the local tier of a passthrough cache must support destroy_collection and destroy",
            ));
        }
        Ok(PassthroughLayer {
            shared: Arc::new(Shared {
                local: Arc::new(local),
                max_local_ttl: DEFAULT_MAX_LOCAL_TTL,
                flights: Arc::default(),
                counters: Counters::default(),
            }),
        })
    }

    /// Keep local copies at most `ttl` (also for entries that never expire). Errors with
    /// [`ErrorKind::Config`] for a zero TTL or one past [`MAX_TTL`](rules::MAX_TTL).
    pub fn max_local_ttl(self, ttl: Duration) -> Result<Self> {
        rules::check_ttl(Some(ttl))
            .map_err(|e| Error::new(ErrorKind::Config, e.message().to_owned()))?;
        let shared = &self.shared;
        Ok(PassthroughLayer {
            shared: Arc::new(Shared {
                local: shared.local.clone(),
                max_local_ttl: ttl,
                flights: Arc::default(),
                counters: Counters::default(),
            }),
        })
    }

    /// The local tier.
    pub fn local(&self) -> &DynStore {
        &self.shared.local
    }

    /// What the cache has done so far.
    pub fn stats(&self) -> PassthroughStats {
        let c = &self.shared.counters;
        PassthroughStats {
            local_hits: c.local_hits.load(Relaxed),
            remote_loads: c.remote_loads.load(Relaxed),
            coalesced: c.coalesced.load(Relaxed),
        }
    }
}

impl<S> Layer<S> for PassthroughLayer {
    type Store = PassthroughStore<S>;

    fn layer(&self, inner: S) -> PassthroughStore<S> {
        PassthroughStore {
            remote: inner,
            shared: self.shared.clone(),
        }
    }
}

/// A remote store with a local cache in front; built by [`PassthroughLayer`].
#[derive(Clone)]
pub struct PassthroughStore<S> {
    remote: S,
    shared: Arc<Shared>,
}

impl<S: fmt::Debug> fmt::Debug for PassthroughStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassthroughStore")
            .field("remote", &self.remote)
            .field("local", &self.shared.local)
            .finish()
    }
}

/// A read served by a remote load names the caller's operation (a `get` loads with `ttl`), and
/// this layer where the error came from a load shared with another caller.
fn served_as(operation: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    move |e| {
        e.in_operation(operation)
            .with_backend("passthrough")
            .with_collection(collection)
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for PassthroughStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.remote.capabilities()
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        if let Ok(Some(v)) = self.local().get(collection, key).await {
            self.shared.counters.local_hits.fetch_add(1, Relaxed);
            return Ok(Some(v));
        }
        let loaded = self.load(collection, key).await;
        Ok(loaded
            .map_err(served_as("get", collection))?
            .map(|e| e.value))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let mut found = match self.local().get_many(collection, keys).await {
            Ok(found) if found.len() == keys.len() => found,
            _ => vec![None; keys.len()],
        };
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
        self.shared
            .counters
            .local_hits
            .fetch_add((keys.len() - missing.len()) as u64, Relaxed);
        if missing.is_empty() {
            return Ok(found);
        }
        let ks: Vec<&str> = missing.iter().map(|&i| keys[i]).collect();
        let loaded = self
            .load_many(collection, &ks)
            .await
            .map_err(served_as("get_many", collection))?;
        for (i, entry) in missing.into_iter().zip(loaded) {
            found[i] = entry.map(|e| e.value);
        }
        Ok(found)
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        let loaded = self.load(collection, key).await;
        loaded.map_err(served_as("ttl", collection))
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let loaded = self.load_many(collection, keys).await;
        loaded.map_err(served_as("ttl_many", collection))
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let result = self.remote.put(collection, key, value, ttl).await;
        self.forget(collection, &[key]).await;
        result
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        // The remote decides; the local tier never answers an insert, and forgets the key.
        let result = self.remote.put_if_absent(collection, key, value, ttl).await;
        self.forget(collection, &[key]).await;
        result
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let result = self.remote.put_many(collection, entries, ttl).await;
        let keys: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
        self.forget(collection, &keys).await;
        result
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        let result = self.remote.delete(collection, key).await;
        self.forget(collection, &[key]).await;
        result
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        let result = self.remote.delete_many(collection, keys).await;
        self.forget(collection, keys).await;
        result
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.remote.keys(collection).await
    }

    async fn collections(&self) -> Result<Vec<String>> {
        self.remote.collections().await
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        let result = self.remote.destroy_collection(collection).await;
        if result.is_ok() {
            self.shared
                .flights
                .invalidate(|(c, _)| c == collection)
                .await;
            self.local().destroy_collection(collection).await?;
        }
        result
    }

    async fn destroy(&self) -> Result<bool> {
        let result = self.remote.destroy().await;
        if result.is_ok() {
            self.shared.flights.invalidate(|_| true).await;
            self.local().destroy().await?;
        }
        result
    }

    async fn cull(&self) -> Result<usize> {
        let removed = self.remote.cull().await?;
        if self.local().capabilities().cull {
            let _ = self.local().cull().await;
        }
        Ok(removed)
    }
}
