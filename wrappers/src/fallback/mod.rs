//! Fall back to a second store when the first fails.
//!
//! Reads (`get`, `get_many`, `ttl`, `ttl_many`, `keys`, `collections`) that fail on the primary
//! store with a matching error are answered by the secondary store. Writes go to the primary
//! only, unless [`FallbackLayer::write_to_fallback`] is on (then a failed write goes to the
//! secondary instead, and the two stores diverge until repaired: use it for caches, not for
//! records).
//!
//! By default only retryable errors ([`Unavailable`](stowage_core::ErrorKind::Unavailable),
//! [`Timeout`](stowage_core::ErrorKind::Timeout)) trigger the fallback: a bad key would fail on
//! both stores, and a value that cannot be decrypted must not be replaced by an older copy.
//! [`FallbackLayer::when`] chooses otherwise.
//!
//! ```
//! use stowage_core::KeyValueStoreExt;
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::fallback::FallbackLayer;
//!
//! let replica = MemoryStore::new();
//! let store = MemoryStore::new().layer(FallbackLayer::new(replica));
//! # drop(store);
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use stowage_core::{
    Capabilities, DynStore, Entry, Error, KeyValueStore, Layer, Result, Value, async_trait,
};

type Predicate = Arc<dyn Fn(&Error) -> bool + Send + Sync>;

/// Falls back to a secondary store; see the [module docs](self).
#[derive(Clone)]
pub struct FallbackLayer {
    secondary: DynStore,
    when: Predicate,
    write_to_fallback: bool,
}

impl fmt::Debug for FallbackLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackLayer")
            .field("secondary", &self.secondary)
            .field("write_to_fallback", &self.write_to_fallback)
            .finish_non_exhaustive()
    }
}

impl FallbackLayer {
    /// Fall back to `secondary` on retryable errors; writes to the primary only.
    pub fn new(secondary: impl KeyValueStore + 'static) -> Self {
        FallbackLayer {
            secondary: Arc::new(secondary),
            when: Arc::new(Error::is_retryable),
            write_to_fallback: false,
        }
    }

    /// Fall back on the errors for which `predicate` is true.
    #[must_use]
    pub fn when(mut self, predicate: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.when = Arc::new(predicate);
        self
    }

    /// Send failed writes to the secondary store too. Default off.
    #[must_use]
    pub fn write_to_fallback(mut self, on: bool) -> Self {
        self.write_to_fallback = on;
        self
    }
}

impl<S> Layer<S> for FallbackLayer {
    type Store = FallbackStore<S>;

    fn layer(&self, inner: S) -> FallbackStore<S> {
        FallbackStore {
            primary: inner,
            layer: self.clone(),
        }
    }
}

/// A store with a fallback; built by [`FallbackLayer`].
#[derive(Clone, Debug)]
pub struct FallbackStore<S> {
    primary: S,
    layer: FallbackLayer,
}

macro_rules! read {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self.primary.$method($($arg),*).await {
            Err(e) if ($self.layer.when)(&e) => {
                tracing::debug!(error = %e, "stowage: primary failed, reading the fallback");
                $self.layer.secondary.$method($($arg),*).await
            }
            other => other,
        }
    };
}

macro_rules! write {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self.primary.$method($($arg),*).await {
            Err(e) if $self.layer.write_to_fallback && ($self.layer.when)(&e) => {
                tracing::debug!(error = %e, "stowage: primary failed, writing the fallback");
                $self.layer.secondary.$method($($arg),*).await
            }
            other => other,
        }
    };
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for FallbackStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.primary.capabilities()
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        read!(self.get(collection, key))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        read!(self.get_many(collection, keys))
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        read!(self.ttl(collection, key))
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        read!(self.ttl_many(collection, keys))
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        write!(self.put(collection, key, value.clone(), ttl))
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        // The primary only: an insert that moved to the fallback would be atomic there alone,
        // and two callers could each win in a different store.
        self.primary
            .put_if_absent(collection, key, value, ttl)
            .await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        write!(self.put_many(collection, entries, ttl))
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        write!(self.delete(collection, key))
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        write!(self.delete_many(collection, keys))
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        read!(self.keys(collection))
    }

    async fn collections(&self) -> Result<Vec<String>> {
        read!(self.collections())
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        self.primary.destroy_collection(collection).await
    }

    async fn destroy(&self) -> Result<bool> {
        self.primary.destroy().await
    }

    async fn cull(&self) -> Result<usize> {
        self.primary.cull().await
    }
}
