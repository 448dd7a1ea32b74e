//! Keep every collection inside one collection of the inner store.
//!
//! Collection `c`, key `k` is stored in the single collection as key `c__k`, the layout of
//! py-key-value's `SingleCollectionWrapper`. Useful for backends where each collection costs a
//! table or a database.
//!
//! Unlike the Python wrapper, a collection name containing the separator is refused
//! ([`InvalidCollection`](ErrorKind::InvalidCollection)): otherwise collection `a__b` with key
//! `c` and collection `a` with key `b__c` would share one stored key.
//!
//! ```
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::single_collection::SingleCollectionLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let raw = MemoryStore::new();
//! let store = raw.clone().layer(SingleCollectionLayer::new("everything")?);
//! store.put("tokens", "alice", Value::empty(), None).await?;
//! assert!(raw.get("everything", "tokens__alice").await?.is_some());
//! assert_eq!(store.collections().await?, vec!["tokens".to_string()]);
//! assert!(store.put("a__b", "k", Value::empty(), None).await.is_err());
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait, rules,
};

use crate::context::context;

/// The separator between collection and key, as in py-key-value.
pub const DEFAULT_SEPARATOR: &str = "__";

/// The name this layer gives the errors it raises itself.
const LAYER: &str = "single_collection";

#[derive(Debug)]
struct Config {
    single: String,
    separator: String,
}

/// Maps every collection into one; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SingleCollectionLayer {
    config: Arc<Config>,
}

impl SingleCollectionLayer {
    /// Store everything in collection `single`, with keys `collection__key`.
    pub fn new(single: &str) -> Result<Self> {
        Self::with_separator(single, DEFAULT_SEPARATOR)
    }

    /// Store everything in collection `single`, with keys `collection{separator}key`. Errors with
    /// [`ErrorKind::Config`] when `single` is not a valid collection name or `separator` is
    /// empty.
    pub fn with_separator(single: &str, separator: &str) -> Result<Self> {
        rules::check_collection(single, None).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("single collection name: {}", e.message()),
            )
        })?;
        if separator.is_empty() {
            return Err(Error::new(ErrorKind::Config, "separator must not be empty"));
        }
        Ok(SingleCollectionLayer {
            config: Arc::new(Config {
                single: single.to_owned(),
                separator: separator.to_owned(),
            }),
        })
    }
}

impl<S> Layer<S> for SingleCollectionLayer {
    type Store = SingleCollectionStore<S>;

    fn layer(&self, inner: S) -> SingleCollectionStore<S> {
        SingleCollectionStore {
            inner,
            config: self.config.clone(),
        }
    }
}

/// A store keeping all collections in one; built by [`SingleCollectionLayer`].
#[derive(Debug, Clone)]
pub struct SingleCollectionStore<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S: KeyValueStore> SingleCollectionStore<S> {
    fn single(&self) -> &str {
        &self.config.single
    }

    /// Check `collection` (errors name this layer and `op`).
    fn check_collection(&self, op: &'static str, collection: &str) -> Result<()> {
        self.check_collection_rules(collection)
            .map_err(context(LAYER, op, collection))
    }

    fn check_collection_rules(&self, collection: &str) -> Result<()> {
        self.capabilities().check_collection(collection)?;
        // Injective: the first separator of `collection{sep}key` must be the one written, so a
        // collection may neither contain the separator nor end with the start of one (`a_` +
        // `__` + `b` would read back as `a` + `__` + `_b`).
        let sep = &self.config.separator;
        if format!("{collection}{sep}").find(sep.as_str()) != Some(collection.len()) {
            return Err(Error::new(
                ErrorKind::InvalidCollection,
                format!(
                    "collection name must not contain `{}` nor end with its start in a \
                     single-collection store",
                    self.config.separator
                ),
            ));
        }
        Ok(())
    }

    /// The inner key of `key` in `collection`, both checked (errors name this layer and `op`).
    fn map(&self, op: &'static str, collection: &str, key: &str) -> Result<String> {
        self.check_collection(op, collection)?;
        self.capabilities()
            .check_key(key)
            .map_err(context(LAYER, op, collection))?;
        Ok(format!("{collection}{}{key}", self.config.separator))
    }

    fn map_all(&self, op: &'static str, collection: &str, keys: &[&str]) -> Result<Vec<String>> {
        self.check_collection(op, collection)?;
        keys.iter().map(|k| self.map(op, collection, k)).collect()
    }

    async fn own_keys(&self, collection: &str) -> Result<Vec<String>> {
        let head = format!("{collection}{}", self.config.separator);
        Ok(self
            .inner
            .keys(self.single())
            .await?
            .into_iter()
            .filter_map(|k| k.strip_prefix(&head).map(str::to_owned))
            .collect())
    }
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for SingleCollectionStore<S> {
    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        // With a key limit on the inner store, split it between collection and key.
        let (max_coll, max_key) = match inner.max_key_len {
            Some(limit) => {
                let coll = (limit / 4).min(inner.max_collection_len.unwrap_or(usize::MAX));
                (
                    Some(coll),
                    Some(limit.saturating_sub(coll + self.config.separator.len())),
                )
            }
            None => (inner.max_collection_len, None),
        };
        inner
            .with_max_collection_len(max_coll)
            .with_max_key_len(max_key)
            .with_collections(inner.keys)
            .with_destroy_collection(inner.keys)
            .with_destroy(inner.destroy_collection)
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        let key = self.map("get", collection, key)?;
        self.inner.get(self.single(), &key).await
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let keys = self.map_all("get_many", collection, keys)?;
        self.inner.get_many(self.single(), &refs(&keys)).await
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        let key = self.map("ttl", collection, key)?;
        self.inner.ttl(self.single(), &key).await
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let keys = self.map_all("ttl_many", collection, keys)?;
        self.inner.ttl_many(self.single(), &refs(&keys)).await
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let key = self.map("put", collection, key)?;
        self.inner.put(self.single(), &key, value, ttl).await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let key = self.map("put_if_absent", collection, key)?;
        self.inner
            .put_if_absent(self.single(), &key, value, ttl)
            .await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.check_collection("put_many", collection)?;
        let keys = entries
            .iter()
            .map(|(k, _)| self.map("put_many", collection, k))
            .collect::<Result<Vec<_>>>()?;
        let mapped: Vec<(&str, Value)> = keys
            .iter()
            .zip(entries)
            .map(|(k, (_, v))| (k.as_str(), v.clone()))
            .collect();
        self.inner.put_many(self.single(), &mapped, ttl).await
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        let key = self.map("delete", collection, key)?;
        self.inner.delete(self.single(), &key).await
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        let keys = self.map_all("delete_many", collection, keys)?;
        self.inner.delete_many(self.single(), &refs(&keys)).await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.check_collection("keys", collection)?;
        self.own_keys(collection).await
    }

    async fn collections(&self) -> Result<Vec<String>> {
        if !self.capabilities().collections {
            return Err(Error::unsupported("collections"));
        }
        let sep = &self.config.separator;
        let names: BTreeSet<String> = self
            .inner
            .keys(self.single())
            .await?
            .into_iter()
            .filter_map(|k| k.split_once(sep.as_str()).map(|(c, _)| c.to_owned()))
            .collect();
        Ok(names.into_iter().collect())
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        if !self.capabilities().destroy_collection {
            return Err(Error::unsupported("destroy_collection"));
        }
        self.check_collection("destroy_collection", collection)?;
        let keys = self.map_all(
            "destroy_collection",
            collection,
            &refs(&self.own_keys(collection).await?),
        )?;
        Ok(self.inner.delete_many(self.single(), &refs(&keys)).await? > 0)
    }

    async fn destroy(&self) -> Result<bool> {
        if !self.capabilities().destroy {
            return Err(Error::unsupported("destroy"));
        }
        let single = self.single().to_owned();
        self.inner.destroy_collection(&single).await
    }

    async fn cull(&self) -> Result<usize> {
        self.inner.cull().await
    }
}
