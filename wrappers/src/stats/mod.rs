//! Per-collection statistics: hits, misses, puts and deletes.
//!
//! The counters live in the [`StatsLayer`]; keep a clone of it to read them after applying it.
//! Reads count one hit or one miss per key asked for (`get`, `get_many`, `ttl`, `ttl_many`);
//! writes count one put per entry; deletes count the keys asked for and the entries removed;
//! failed calls count as errors. Enumeration, destroy and cull are forwarded uncounted.
//!
//! **Order with a cache**: statistics outside a [passthrough cache](crate::passthrough) count
//! what callers see; inside it (between the cache and the remote store) they count what reaches
//! the remote store.
//!
//! ```
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::stats::StatsLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let stats = StatsLayer::new();
//! let store = MemoryStore::new().layer(stats.clone());
//! store.put("tokens", "a", Value::empty(), None).await?;
//! store.get_many("tokens", &["a", "b"]).await?;
//!
//! let tokens = stats.collection("tokens");
//! assert_eq!((tokens.hits, tokens.misses, tokens.puts), (1, 1, 1));
//! assert_eq!(stats.totals().hits, 1);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::RwLock;
use stowage_core::{Entry, KeyValueStore, Layer, Result, Value, async_trait};

/// The counts of one collection (or of all, from [`StatsLayer::totals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CollectionStats {
    /// Keys read and found.
    pub hits: u64,
    /// Keys read and not found (absent or expired).
    pub misses: u64,
    /// Entries written.
    pub puts: u64,
    /// Keys asked to be deleted.
    pub deletes: u64,
    /// Entries actually removed by deletes.
    pub deleted: u64,
    /// Calls that returned an error.
    pub errors: u64,
}

impl CollectionStats {
    /// Hits over reads, or `None` before any read.
    pub fn hit_ratio(&self) -> Option<f64> {
        let reads = self.hits + self.misses;
        (reads > 0).then(|| self.hits as f64 / reads as f64)
    }

    fn add(&mut self, o: &CollectionStats) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.puts += o.puts;
        self.deletes += o.deletes;
        self.deleted += o.deleted;
        self.errors += o.errors;
    }
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    puts: AtomicU64,
    deletes: AtomicU64,
    deleted: AtomicU64,
    errors: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> CollectionStats {
        CollectionStats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            puts: self.puts.load(Relaxed),
            deletes: self.deletes.load(Relaxed),
            deleted: self.deleted.load(Relaxed),
            errors: self.errors.load(Relaxed),
        }
    }
}

#[derive(Default)]
struct Registry {
    by_collection: RwLock<HashMap<String, Arc<Counters>>>,
}

impl Registry {
    fn counters(&self, collection: &str) -> Arc<Counters> {
        if let Some(c) = self.by_collection.read().get(collection) {
            return c.clone();
        }
        self.by_collection
            .write()
            .entry(collection.to_owned())
            .or_default()
            .clone()
    }
}

/// Counts operations per collection; see the [module docs](self). Clones share the counters.
#[derive(Clone, Default)]
pub struct StatsLayer {
    registry: Arc<Registry>,
}

impl StatsLayer {
    /// A layer with all counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counts of one collection (zero when never used).
    pub fn collection(&self, collection: &str) -> CollectionStats {
        self.registry
            .by_collection
            .read()
            .get(collection)
            .map(|c| c.snapshot())
            .unwrap_or_default()
    }

    /// The counts of every collection used so far.
    pub fn snapshot(&self) -> HashMap<String, CollectionStats> {
        self.registry
            .by_collection
            .read()
            .iter()
            .map(|(name, c)| (name.clone(), c.snapshot()))
            .collect()
    }

    /// The counts summed over all collections.
    pub fn totals(&self) -> CollectionStats {
        let mut total = CollectionStats::default();
        for c in self.registry.by_collection.read().values() {
            total.add(&c.snapshot());
        }
        total
    }

    /// Forget every count.
    pub fn reset(&self) {
        self.registry.by_collection.write().clear();
    }
}

impl fmt::Debug for StatsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatsLayer")
            .field("totals", &self.totals())
            .finish()
    }
}

impl<S> Layer<S> for StatsLayer {
    type Store = StatsStore<S>;

    fn layer(&self, inner: S) -> StatsStore<S> {
        StatsStore {
            inner,
            layer: self.clone(),
        }
    }
}

/// A store that counts its operations; built by [`StatsLayer`].
#[derive(Debug, Clone)]
pub struct StatsStore<S> {
    inner: S,
    layer: StatsLayer,
}

impl<S> StatsStore<S> {
    /// The layer holding the counters.
    pub fn stats(&self) -> &StatsLayer {
        &self.layer
    }

    fn count<T>(
        &self,
        collection: &str,
        result: Result<T>,
        on_ok: impl FnOnce(&Counters, &T),
    ) -> Result<T> {
        let counters = self.layer.registry.counters(collection);
        match &result {
            Ok(v) => on_ok(&counters, v),
            Err(_) => {
                counters.errors.fetch_add(1, Relaxed);
            }
        }
        result
    }
}

fn hits_misses<T>(c: &Counters, found: &[Option<T>]) {
    let hits = found.iter().filter(|v| v.is_some()).count() as u64;
    c.hits.fetch_add(hits, Relaxed);
    c.misses.fetch_add(found.len() as u64 - hits, Relaxed);
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for StatsStore<S> {
    stowage_core::delegate_methods!(inner => capabilities, keys, collections, destroy_collection, destroy, cull);

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        let r = self.inner.get(collection, key).await;
        self.count(collection, r, |c, v| {
            hits_misses(c, std::slice::from_ref(v));
        })
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let r = self.inner.get_many(collection, keys).await;
        self.count(collection, r, |c, v| hits_misses(c, v))
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        let r = self.inner.ttl(collection, key).await;
        self.count(collection, r, |c, v| {
            hits_misses(c, std::slice::from_ref(v));
        })
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let r = self.inner.ttl_many(collection, keys).await;
        self.count(collection, r, |c, v| hits_misses(c, v))
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let r = self.inner.put(collection, key, value, ttl).await;
        self.count(collection, r, |c, _| {
            c.puts.fetch_add(1, Relaxed);
        })
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let r = self.inner.put_if_absent(collection, key, value, ttl).await;
        self.count(collection, r, |c, _| {
            c.puts.fetch_add(1, Relaxed);
        })
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let r = self.inner.put_many(collection, entries, ttl).await;
        self.count(collection, r, |c, _| {
            c.puts.fetch_add(entries.len() as u64, Relaxed);
        })
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        let r = self.inner.delete(collection, key).await;
        self.count(collection, r, |c, removed| {
            c.deletes.fetch_add(1, Relaxed);
            c.deleted.fetch_add(u64::from(*removed), Relaxed);
        })
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        let r = self.inner.delete_many(collection, keys).await;
        self.count(collection, r, |c, removed| {
            c.deletes.fetch_add(keys.len() as u64, Relaxed);
            c.deleted.fetch_add(*removed as u64, Relaxed);
        })
    }
}
