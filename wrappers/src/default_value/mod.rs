//! Default values on a miss.
//!
//! A read that finds nothing returns a default instead of `None`: per collection
//! ([`DefaultValueLayer::for_collection`]) or for every collection
//! ([`DefaultValueLayer::for_all`]). The default is never written to the store. `ttl()` on a
//! miss returns the default with no creation time and an expiry [`DefaultValueLayer::ttl`] from
//! now (none by default), as py-key-value's `DefaultValueWrapper`.
//!
//! ```
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::default_value::DefaultValueLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let store = MemoryStore::new().layer(
//!     DefaultValueLayer::new().for_collection("settings", Value::from_json(r#"{"theme":"dark"}"#)?),
//! );
//! assert_eq!(store.get("settings", "alice").await?.unwrap().as_str(), r#"{"theme":"dark"}"#);
//! assert!(store.get("other", "alice").await?.is_none());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stowage_core::{Entry, KeyValueStore, Layer, Result, Value, async_trait};

#[derive(Debug, Default, Clone)]
struct Defaults {
    by_collection: HashMap<String, Value>,
    all: Option<Value>,
    ttl: Option<Duration>,
}

/// Returns defaults on misses; see the [module docs](self).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct DefaultValueLayer {
    defaults: Arc<Defaults>,
}

impl DefaultValueLayer {
    /// No defaults yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The default for misses in `collection` (takes precedence over [`Self::for_all`]).
    pub fn for_collection(mut self, collection: &str, value: Value) -> Self {
        Arc::make_mut(&mut self.defaults)
            .by_collection
            .insert(collection.to_owned(), value);
        self
    }

    /// The default for misses in every other collection.
    pub fn for_all(mut self, value: Value) -> Self {
        Arc::make_mut(&mut self.defaults).all = Some(value);
        self
    }

    /// The remaining TTL reported by `ttl()` for a default. Default: none.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        Arc::make_mut(&mut self.defaults).ttl = Some(ttl);
        self
    }
}

impl<S> Layer<S> for DefaultValueLayer {
    type Store = DefaultValueStore<S>;

    fn layer(&self, inner: S) -> DefaultValueStore<S> {
        DefaultValueStore {
            inner,
            defaults: self.defaults.clone(),
        }
    }
}

/// A store that returns defaults on misses; built by [`DefaultValueLayer`].
#[derive(Debug, Clone)]
pub struct DefaultValueStore<S> {
    inner: S,
    defaults: Arc<Defaults>,
}

impl<S> DefaultValueStore<S> {
    fn default_for(&self, collection: &str) -> Option<&Value> {
        self.defaults
            .by_collection
            .get(collection)
            .or(self.defaults.all.as_ref())
    }

    fn default_entry(&self, collection: &str) -> Option<Entry> {
        self.default_for(collection).map(|v| {
            let expires = stowage_core::rules::expires_at(SystemTime::now(), self.defaults.ttl);
            Entry::new(v.clone(), None, expires)
        })
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for DefaultValueStore<S> {
    stowage_core::delegate_methods!(inner => capabilities, put, put_many, put_if_absent, delete, delete_many, keys, collections, destroy_collection, destroy, cull);

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        let found = self.inner.get(collection, key).await?;
        Ok(found.or_else(|| self.default_for(collection).cloned()))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let found = self.inner.get_many(collection, keys).await?;
        Ok(found
            .into_iter()
            .map(|v| v.or_else(|| self.default_for(collection).cloned()))
            .collect())
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        let found = self.inner.ttl(collection, key).await?;
        Ok(found.or_else(|| self.default_entry(collection)))
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let found = self.inner.ttl_many(collection, keys).await?;
        Ok(found
            .into_iter()
            .map(|e| e.or_else(|| self.default_entry(collection)))
            .collect())
    }
}
