//! Route collections to different stores.
//!
//! Each collection goes to the first route that matches it (an exact name, or a name prefix);
//! every other collection goes to the store the layer wraps. For example, sessions in Redis,
//! tokens in an encrypted disk store, and the rest in memory.
//!
//! Capabilities are what every store offers (the intersection; the tightest name and value
//! limits). `collections()` lists, from each routed store, only the collections routed to it,
//! and from the default store the rest. `destroy()` destroys the default store and each routed
//! store's routed collections; `cull()` culls every store.
//!
//! ```
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::routing::RoutingLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let sessions = MemoryStore::new();
//! let store = MemoryStore::new().layer(
//!     RoutingLayer::new()
//!         .route("sessions", sessions.clone())
//!         .route_prefix("cache-", MemoryStore::new()),
//! );
//! store.put("sessions", "s1", Value::empty(), None).await?;
//! assert!(sessions.get("sessions", "s1").await?.is_some());
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use stowage_core::{
    Capabilities, DynStore, Entry, Error, KeyValueStore, Layer, Result, Value, async_trait,
};

use crate::context::context;

/// The name this layer gives the errors it raises itself.
const LAYER: &str = "routing";

/// Which collections a route takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Exactly this collection.
    Exact(String),
    /// Every collection whose name starts with this.
    Prefix(String),
}

impl Route {
    fn matches(&self, collection: &str) -> bool {
        match self {
            Route::Exact(name) => name == collection,
            Route::Prefix(prefix) => collection.starts_with(prefix.as_str()),
        }
    }
}

/// Routes collections to stores; see the [module docs](self).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RoutingLayer {
    routes: Arc<Vec<(Route, DynStore)>>,
}

impl RoutingLayer {
    /// No routes: everything goes to the wrapped store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Send collection `name` to `store`.
    pub fn route(self, name: &str, store: impl KeyValueStore + 'static) -> Self {
        self.with(Route::Exact(name.to_owned()), Arc::new(store))
    }

    /// Send every collection starting with `prefix` to `store`.
    pub fn route_prefix(self, prefix: &str, store: impl KeyValueStore + 'static) -> Self {
        self.with(Route::Prefix(prefix.to_owned()), Arc::new(store))
    }

    /// Add a route to a shared store.
    pub fn with(mut self, route: Route, store: DynStore) -> Self {
        Arc::make_mut(&mut self.routes).push((route, store));
        self
    }
}

impl<S> Layer<S> for RoutingLayer {
    type Store = RoutingStore<S>;

    fn layer(&self, inner: S) -> RoutingStore<S> {
        RoutingStore {
            default: inner,
            routes: self.routes.clone(),
        }
    }
}

/// A store routing collections to stores; built by [`RoutingLayer`].
#[derive(Debug, Clone)]
pub struct RoutingStore<S> {
    default: S,
    routes: Arc<Vec<(Route, DynStore)>>,
}

fn min_opt(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl<S: KeyValueStore> RoutingStore<S> {
    fn target(&self, collection: &str) -> &dyn KeyValueStore {
        self.routes
            .iter()
            .find(|(route, _)| route.matches(collection))
            .map_or(&self.default as &dyn KeyValueStore, |(_, s)| &**s)
    }

    /// Whether `collection` of store number `index` (`None`: the default) is visible.
    fn owns(&self, index: Option<usize>, collection: &str) -> bool {
        let first = self.routes.iter().position(|(r, _)| r.matches(collection));
        first == index
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for RoutingStore<S> {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.default.capabilities();
        for (_, store) in self.routes.iter() {
            let c = store.capabilities();
            caps = caps
                .with_put_if_absent(caps.put_if_absent && c.put_if_absent)
                .with_keys(caps.keys && c.keys)
                .with_collections(caps.collections && c.collections)
                .with_destroy_collection(caps.destroy_collection && c.destroy_collection)
                .with_cull(caps.cull && c.cull)
                .with_max_key_len(min_opt(caps.max_key_len, c.max_key_len))
                .with_max_collection_len(min_opt(caps.max_collection_len, c.max_collection_len))
                .with_max_value_len(min_opt(caps.max_value_len, c.max_value_len));
        }
        caps.with_destroy(
            self.default.capabilities().destroy
                && (self.routes.is_empty() || caps.collections)
                && caps.destroy_collection,
        )
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        self.target(collection).get(collection, key).await
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        self.target(collection).get_many(collection, keys).await
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.target(collection).ttl(collection, key).await
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.target(collection).ttl_many(collection, keys).await
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.capabilities()
            .check_value(value.len(), ttl)
            .map_err(context(LAYER, "put", collection))?;
        self.target(collection)
            .put(collection, key, value, ttl)
            .await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        self.capabilities()
            .check_value(value.len(), ttl)
            .map_err(context(LAYER, "put_if_absent", collection))?;
        self.target(collection)
            .put_if_absent(collection, key, value, ttl)
            .await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let caps = self.capabilities();
        for (_, v) in entries {
            caps.check_value(v.len(), ttl)
                .map_err(context(LAYER, "put_many", collection))?;
        }
        self.target(collection)
            .put_many(collection, entries, ttl)
            .await
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        self.target(collection).delete(collection, key).await
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.target(collection).delete_many(collection, keys).await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        if !self.capabilities().keys {
            return Err(Error::unsupported("keys"));
        }
        self.target(collection).keys(collection).await
    }

    async fn collections(&self) -> Result<Vec<String>> {
        if !self.capabilities().collections {
            return Err(Error::unsupported("collections"));
        }
        let mut all = BTreeSet::new();
        for c in self.default.collections().await? {
            if self.owns(None, &c) {
                all.insert(c);
            }
        }
        for (i, (_, store)) in self.routes.iter().enumerate() {
            for c in store.collections().await? {
                if self.owns(Some(i), &c) {
                    all.insert(c);
                }
            }
        }
        Ok(all.into_iter().collect())
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        if !self.capabilities().destroy_collection {
            return Err(Error::unsupported("destroy_collection"));
        }
        self.target(collection).destroy_collection(collection).await
    }

    async fn destroy(&self) -> Result<bool> {
        if !self.capabilities().destroy {
            return Err(Error::unsupported("destroy"));
        }
        let mut any = self.default.destroy().await?;
        for (i, (_, store)) in self.routes.iter().enumerate() {
            for c in store.collections().await? {
                if self.owns(Some(i), &c) {
                    any |= store.destroy_collection(&c).await?;
                }
            }
        }
        Ok(any)
    }

    async fn cull(&self) -> Result<usize> {
        if !self.capabilities().cull {
            return Err(Error::unsupported("cull"));
        }
        let mut removed = self.default.cull().await?;
        for (_, store) in self.routes.iter() {
            removed += store.cull().await?;
        }
        Ok(removed)
    }
}
