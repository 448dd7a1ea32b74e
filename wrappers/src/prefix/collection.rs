//! [`CollectionPrefixLayer`]: prefix every collection name.

use std::sync::Arc;
use std::time::Duration;

use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait, rules,
};

use super::DEFAULT_SEPARATOR;
use crate::context::context;

/// The name this layer gives the errors it raises itself.
const LAYER: &str = "collection_prefix";

/// Stores collection `c` as `{prefix}{separator}c`; see the [module docs](super).
///
/// ```
/// use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
/// use stowage_memory::MemoryStore;
/// use stowage_wrappers::prefix::CollectionPrefixLayer;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// let raw = MemoryStore::new();
/// let tenant = raw.clone().layer(CollectionPrefixLayer::new("tenant-a")?);
/// tenant.put("tokens", "k", Value::empty(), None).await?;
/// assert!(raw.get("tenant-a__tokens", "k").await?.is_some());
/// assert_eq!(tenant.collections().await?, vec!["tokens".to_string()]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CollectionPrefixLayer {
    head: Arc<str>,
}

impl CollectionPrefixLayer {
    /// Prefix collections with `prefix` and `__`. Errors with [`ErrorKind::Config`] when
    /// `prefix` is empty, contains `::`, or contains the separator or ends with its start (then
    /// two prefixes would share names: `a_` + `x` and `a` + `_x` are both `a___x`).
    pub fn new(prefix: &str) -> Result<Self> {
        Self::with_separator(prefix, DEFAULT_SEPARATOR)
    }

    /// Prefix collections with `prefix` and `separator`.
    pub fn with_separator(prefix: &str, separator: &str) -> Result<Self> {
        let head = format!("{prefix}{separator}");
        if prefix.is_empty()
            || rules::check_collection(&head, None).is_err()
            || !super::ends_at_its_separator(prefix, separator)
        {
            return Err(Error::new(
                ErrorKind::Config,
                "collection prefix must be non-empty, must not contain `::` nor the separator, \
                 and must not end with the separator's start",
            ));
        }
        Ok(CollectionPrefixLayer { head: head.into() })
    }
}

impl<S> Layer<S> for CollectionPrefixLayer {
    type Store = CollectionPrefixStore<S>;

    fn layer(&self, inner: S) -> CollectionPrefixStore<S> {
        CollectionPrefixStore {
            inner,
            head: self.head.clone(),
        }
    }
}

/// A store whose collection names are prefixed; built by [`CollectionPrefixLayer`].
#[derive(Debug, Clone)]
pub struct CollectionPrefixStore<S> {
    inner: S,
    head: Arc<str>,
}

impl<S: KeyValueStore> CollectionPrefixStore<S> {
    /// The inner collection of `collection`, checked first (errors name this layer and `op`).
    fn map(&self, op: &'static str, collection: &str) -> Result<String> {
        self.capabilities()
            .check_collection(collection)
            .map_err(context(LAYER, op, collection))?;
        Ok(format!("{}{collection}", self.head))
    }

    async fn own_collections(&self) -> Result<Vec<String>> {
        Ok(self
            .inner
            .collections()
            .await?
            .into_iter()
            .filter_map(|c| c.strip_prefix(&*self.head).map(str::to_owned))
            .filter(|c| !c.is_empty())
            .collect())
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for CollectionPrefixStore<S> {
    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        inner
            .with_max_collection_len(
                inner
                    .max_collection_len
                    .map(|m| m.saturating_sub(self.head.len())),
            )
            .with_destroy(inner.collections && inner.destroy_collection)
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        self.inner.get(&self.map("get", collection)?, key).await
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        self.inner
            .get_many(&self.map("get_many", collection)?, keys)
            .await
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.inner.ttl(&self.map("ttl", collection)?, key).await
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.inner
            .ttl_many(&self.map("ttl_many", collection)?, keys)
            .await
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.inner
            .put(&self.map("put", collection)?, key, value, ttl)
            .await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let collection = self.map("put_if_absent", collection)?;
        self.inner.put_if_absent(&collection, key, value, ttl).await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.inner
            .put_many(&self.map("put_many", collection)?, entries, ttl)
            .await
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        self.inner
            .delete(&self.map("delete", collection)?, key)
            .await
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.inner
            .delete_many(&self.map("delete_many", collection)?, keys)
            .await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.inner.keys(&self.map("keys", collection)?).await
    }

    async fn collections(&self) -> Result<Vec<String>> {
        self.own_collections().await
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        self.inner
            .destroy_collection(&self.map("destroy_collection", collection)?)
            .await
    }

    async fn destroy(&self) -> Result<bool> {
        if !self.capabilities().destroy {
            return Err(Error::unsupported("destroy"));
        }
        let mut any = false;
        for c in self.own_collections().await? {
            any |= self
                .inner
                .destroy_collection(&format!("{}{c}", self.head))
                .await?;
        }
        Ok(any)
    }

    async fn cull(&self) -> Result<usize> {
        self.inner.cull().await
    }
}
