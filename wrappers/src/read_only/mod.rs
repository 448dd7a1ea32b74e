//! Refuse writes: a read-only view of a store, switchable at run time.
//!
//! While enabled (the default), `put`, `put_many`, `delete`, `delete_many`,
//! `destroy_collection`, `destroy` and `cull` answer [`ReadOnly`](ErrorKind::ReadOnly) — or,
//! with [`ReadOnlyLayer::silent`], do nothing and report nothing removed, as py-key-value's
//! `ReadOnlyWrapper(raise_on_write=False)`. Reads pass through. The layer is a switch: keep a
//! clone and call [`ReadOnlyLayer::set_enabled`] to enter or leave a maintenance window.
//! Capabilities are those of the inner store: the operations exist, they are refused.
//!
//! ```
//! use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::read_only::ReadOnlyLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let raw = MemoryStore::new();
//! raw.put("c", "k", Value::empty(), None).await?;
//! let switch = ReadOnlyLayer::new();
//! let store = raw.layer(switch.clone());
//! assert!(store.get("c", "k").await?.is_some());
//! let err = store.delete("c", "k").await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::ReadOnly);
//!
//! switch.set_enabled(false);
//! assert!(store.delete("c", "k").await?);
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use stowage_core::{Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait};

#[derive(Debug)]
struct State {
    enabled: AtomicBool,
    silent: bool,
}

/// Makes a store read-only; see the [module docs](self). Clones share the switch.
#[derive(Debug, Clone)]
pub struct ReadOnlyLayer {
    state: Arc<State>,
}

impl Default for ReadOnlyLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ReadOnlyLayer {
    /// Enabled; writes answer [`ErrorKind::ReadOnly`].
    pub fn new() -> Self {
        Self::build(false)
    }

    /// Enabled; writes are silently ignored (deletes report nothing removed).
    pub fn silent() -> Self {
        Self::build(true)
    }

    fn build(silent: bool) -> Self {
        ReadOnlyLayer {
            state: Arc::new(State {
                enabled: AtomicBool::new(true),
                silent,
            }),
        }
    }

    /// Turn write refusal on or off, for every store built from this layer.
    pub fn set_enabled(&self, enabled: bool) {
        self.state.enabled.store(enabled, Ordering::SeqCst);
    }

    /// Whether writes are refused now.
    pub fn is_enabled(&self) -> bool {
        self.state.enabled.load(Ordering::SeqCst)
    }
}

impl<S> Layer<S> for ReadOnlyLayer {
    type Store = ReadOnlyStore<S>;

    fn layer(&self, inner: S) -> ReadOnlyStore<S> {
        ReadOnlyStore {
            inner,
            layer: self.clone(),
        }
    }
}

/// A store that refuses writes while its switch is on; built by [`ReadOnlyLayer`].
#[derive(Debug, Clone)]
pub struct ReadOnlyStore<S> {
    inner: S,
    layer: ReadOnlyLayer,
}

enum Gate {
    Open,
    Ignore,
}

impl<S: KeyValueStore> ReadOnlyStore<S> {
    /// `Open` when writes go through; `Ignore` when silently dropped; an error otherwise.
    fn gate(&self, op: &'static str, collection: Option<&str>) -> Result<Gate> {
        if !self.layer.is_enabled() {
            return Ok(Gate::Open);
        }
        if self.layer.state.silent {
            return Ok(Gate::Ignore);
        }
        let err = Error::new(
            ErrorKind::ReadOnly,
            "this store is read-only; writes are refused",
        )
        .with_operation(op);
        Err(match collection {
            Some(c) => err.with_collection(c),
            None => err,
        })
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for ReadOnlyStore<S> {
    stowage_core::delegate_methods!(inner => capabilities, get, get_many, ttl, ttl_many, keys, collections);

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        match self.gate("put", Some(collection))? {
            Gate::Open => self.inner.put(collection, key, value, ttl).await,
            Gate::Ignore => Ok(()),
        }
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        match self.gate("put_if_absent", Some(collection))? {
            Gate::Open => self.inner.put_if_absent(collection, key, value, ttl).await,
            // A dropped insert has no honest answer: neither "inserted" nor "already there".
            Gate::Ignore => Err(Error::new(
                ErrorKind::ReadOnly,
                "this store is read-only; an insert cannot be silently dropped",
            )
            .with_operation("put_if_absent")
            .with_collection(collection)),
        }
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        match self.gate("put_many", Some(collection))? {
            Gate::Open => self.inner.put_many(collection, entries, ttl).await,
            Gate::Ignore => Ok(()),
        }
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        match self.gate("delete", Some(collection))? {
            Gate::Open => self.inner.delete(collection, key).await,
            Gate::Ignore => Ok(false),
        }
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        match self.gate("delete_many", Some(collection))? {
            Gate::Open => self.inner.delete_many(collection, keys).await,
            Gate::Ignore => Ok(0),
        }
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        if !self.capabilities().destroy_collection {
            return Err(Error::unsupported("destroy_collection"));
        }
        match self.gate("destroy_collection", Some(collection))? {
            Gate::Open => self.inner.destroy_collection(collection).await,
            Gate::Ignore => Ok(false),
        }
    }

    async fn destroy(&self) -> Result<bool> {
        if !self.capabilities().destroy {
            return Err(Error::unsupported("destroy"));
        }
        match self.gate("destroy", None)? {
            Gate::Open => self.inner.destroy().await,
            Gate::Ignore => Ok(false),
        }
    }

    async fn cull(&self) -> Result<usize> {
        if !self.capabilities().cull {
            return Err(Error::unsupported("cull"));
        }
        match self.gate("cull", None)? {
            Gate::Open => self.inner.cull().await,
            Gate::Ignore => Ok(0),
        }
    }
}
