//! [`MemoryStore`]: the [`KeyValueStore`] implementation.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use stowage_core::checks::context;
use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, Expiry, KeyValueStore, Result, Value, async_trait, rules,
};

use crate::config::MemoryConfig;
use crate::core::{Engine, entry_cost};

const BACKEND: &str = "memory";

/// A bounded, concurrent in-memory store.
///
/// - **Bounded**: at most [`max_entries`](MemoryConfig::max_entries) entries and
///   [`max_bytes`](MemoryConfig::max_bytes) bytes; a write past either bound evicts entries by
///   sampling, as Redis does: an expired entry when the sample holds one, otherwise one not read
///   since it was last sampled.
/// - **Expiry**: per-entry TTL, emulated: expired entries are never returned, are removed when a
///   read finds them, are preferred by eviction, and are removed in bulk by `cull()` or by an optional
///   background sweeper ([`sweep_interval`](MemoryConfig::sweep_interval)).
/// - **Every optional capability**: `keys`, `collections`, `destroy_collection`, `destroy` and
///   `cull`. Enumeration scans every shard (O(entries)).
/// - **Concurrency**: sharded read-write locks; reads share locks and never copy values.
/// - **Durability**: none — everything is lost when the process exits.
///
/// Cloning a `MemoryStore` gives another handle to the same data.
///
/// ```
/// use std::time::Duration;
/// use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
/// use stowage_memory::MemoryStore;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// let store = MemoryStore::new();
/// store.put("sessions", "s1", Value::from_json(r#"{"user":"alice"}"#)?, Some(Duration::from_secs(60))).await?;
/// assert!(store.get("sessions", "s1").await?.is_some());
/// assert_eq!(store.keys("sessions").await?, vec!["s1".to_string()]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStore {
    engine: Arc<Engine>,
    caps: Capabilities,
    max_bytes: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    context(BACKEND, op, collection)
}

impl MemoryStore {
    /// A store with the default limits (see [`MemoryConfig`]) and no background sweeper.
    pub fn new() -> Self {
        Self::from_config(MemoryConfig::default()).expect("the default configuration is valid")
    }

    /// A builder for limits and housekeeping.
    pub fn builder() -> MemoryConfig {
        MemoryConfig::default()
    }

    pub(crate) fn from_config(config: MemoryConfig) -> Result<Self> {
        config.validate()?;
        let caps = Capabilities::all(Expiry::Emulated)
            .with_max_value_len(Some(config.effective_max_value_len()));
        let engine = Arc::new(Engine::new(&config));
        if let Some(every) = config.sweep_interval {
            let handle = tokio::runtime::Handle::try_current().map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    "memory store: a sweep interval needs a Tokio runtime when the store is built",
                )
                .with_backend(BACKEND)
            })?;
            handle.spawn(sweep(Arc::downgrade(&engine), every));
        }
        Ok(MemoryStore {
            engine,
            caps,
            max_bytes: config.max_bytes,
        })
    }

    /// Entries held, including expired ones not yet removed.
    pub fn len(&self) -> usize {
        self.engine.len()
    }

    /// Whether the store holds no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes charged against [`max_bytes`](MemoryConfig::max_bytes).
    pub fn bytes(&self) -> usize {
        self.engine.bytes()
    }

    /// Entries evicted to stay within the bounds since the store was built.
    pub fn evictions(&self) -> u64 {
        self.engine.evictions()
    }

    /// What the memory store adds to the contract's checks: an entry must fit its byte budget.
    fn check_cost(&self, collection: &str, key: &str, value: &Value) -> Result<()> {
        let cost = entry_cost(collection, key, value);
        let max = self.max_bytes;
        if cost > max {
            return Err(Error::new(
                ErrorKind::ValueTooLarge,
                format!("entry needs {cost} bytes; the store holds at most {max}"),
            ));
        }
        Ok(())
    }
}

async fn sweep(engine: Weak<Engine>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match engine.upgrade() {
            Some(engine) => {
                engine.cull(SystemTime::now());
            }
            None => return,
        }
    }
}

#[async_trait]
impl KeyValueStore for MemoryStore {
    fn capabilities(&self) -> Capabilities {
        self.caps
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        self.caps
            .check(collection, key)
            .map_err(ctx("get", collection))?;
        Ok(self.engine.get(collection, key, SystemTime::now()))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        self.caps
            .check_many(collection, keys.iter().copied())
            .map_err(ctx("get_many", collection))?;
        let now = SystemTime::now();
        Ok(keys
            .iter()
            .map(|k| self.engine.get(collection, k, now))
            .collect())
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.caps
            .check(collection, key)
            .map_err(ctx("ttl", collection))?;
        Ok(self.engine.get_entry(collection, key, SystemTime::now()))
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.caps
            .check_many(collection, keys.iter().copied())
            .map_err(ctx("ttl_many", collection))?;
        let now = SystemTime::now();
        Ok(keys
            .iter()
            .map(|k| self.engine.get_entry(collection, k, now))
            .collect())
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let check = || {
            self.caps.check_put(collection, key, &value, ttl)?;
            self.check_cost(collection, key, &value)
        };
        check().map_err(ctx("put", collection))?;
        let now = SystemTime::now();
        self.engine
            .insert(collection, key, value, now, rules::expires_at(now, ttl));
        Ok(())
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let check = || {
            self.caps.check_put_many(collection, entries, ttl)?;
            entries
                .iter()
                .try_for_each(|(k, v)| self.check_cost(collection, k, v))
        };
        check().map_err(ctx("put_many", collection))?;
        let now = SystemTime::now();
        let expires_at = rules::expires_at(now, ttl);
        for (k, v) in entries {
            self.engine
                .insert(collection, k, v.clone(), now, expires_at);
        }
        Ok(())
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let check = || {
            self.caps.check_put(collection, key, &value, ttl)?;
            self.check_cost(collection, key, &value)
        };
        check().map_err(ctx("put_if_absent", collection))?;
        let now = SystemTime::now();
        let expires_at = rules::expires_at(now, ttl);
        Ok(self
            .engine
            .insert_if_absent(collection, key, value, now, expires_at))
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        self.caps
            .check(collection, key)
            .map_err(ctx("delete", collection))?;
        Ok(self.engine.remove(collection, key, SystemTime::now()))
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.caps
            .check_many(collection, keys.iter().copied())
            .map_err(ctx("delete_many", collection))?;
        let now = SystemTime::now();
        Ok(keys
            .iter()
            .filter(|k| self.engine.remove(collection, k, now))
            .count())
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.caps
            .check_collection(collection)
            .map_err(ctx("keys", collection))?;
        Ok(self.engine.keys(collection, SystemTime::now()))
    }

    async fn collections(&self) -> Result<Vec<String>> {
        Ok(self.engine.collections(SystemTime::now()))
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        self.caps
            .check_collection(collection)
            .map_err(ctx("destroy_collection", collection))?;
        Ok(self.engine.remove_collection(collection, SystemTime::now()))
    }

    async fn destroy(&self) -> Result<bool> {
        Ok(self.engine.clear(SystemTime::now()))
    }

    async fn cull(&self) -> Result<usize> {
        Ok(self.engine.cull(SystemTime::now()))
    }
}
