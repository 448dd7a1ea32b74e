//! [`KeyPrefixLayer`]: prefix every key.

use std::sync::Arc;
use std::time::Duration;

use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait,
};

use super::DEFAULT_SEPARATOR;
use crate::context::context;

/// The name this layer gives the errors it raises itself.
const LAYER: &str = "key_prefix";

/// Stores key `k` as `{prefix}{separator}k`; see the [module docs](super).
///
/// ```
/// use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
/// use stowage_memory::MemoryStore;
/// use stowage_wrappers::prefix::KeyPrefixLayer;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// let raw = MemoryStore::new();
/// let app = raw.clone().layer(KeyPrefixLayer::new("app1")?);
/// app.put("c", "user", Value::empty(), None).await?;
/// assert!(raw.get("c", "app1__user").await?.is_some());
/// assert_eq!(app.keys("c").await?, vec!["user".to_string()]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct KeyPrefixLayer {
    head: Arc<str>,
}

impl KeyPrefixLayer {
    /// Prefix keys with `prefix` and `__`. Errors with [`ErrorKind::Config`] when `prefix` is
    /// empty, or contains the separator or ends with its start (then two prefixes would share
    /// keys: `a_` + `k` and `a` + `_k` are both `a___k`).
    pub fn new(prefix: &str) -> Result<Self> {
        Self::with_separator(prefix, DEFAULT_SEPARATOR)
    }

    /// Prefix keys with `prefix` and `separator`.
    pub fn with_separator(prefix: &str, separator: &str) -> Result<Self> {
        if prefix.is_empty() || !super::ends_at_its_separator(prefix, separator) {
            return Err(Error::new(
                ErrorKind::Config,
                "key prefix must be non-empty, must not contain the separator, and must not end \
                 with the separator's start",
            ));
        }
        Ok(KeyPrefixLayer {
            head: format!("{prefix}{separator}").into(),
        })
    }
}

impl<S> Layer<S> for KeyPrefixLayer {
    type Store = KeyPrefixStore<S>;

    fn layer(&self, inner: S) -> KeyPrefixStore<S> {
        KeyPrefixStore {
            inner,
            head: self.head.clone(),
        }
    }
}

/// A store whose keys are prefixed; built by [`KeyPrefixLayer`].
#[derive(Debug, Clone)]
pub struct KeyPrefixStore<S> {
    inner: S,
    head: Arc<str>,
}

impl<S: KeyValueStore> KeyPrefixStore<S> {
    /// The inner key of `key`, checked first (errors name this layer and `op`).
    fn map(&self, op: &'static str, collection: &str, key: &str) -> Result<String> {
        self.capabilities()
            .check_key(key)
            .map_err(context(LAYER, op, collection))?;
        Ok(format!("{}{key}", self.head))
    }

    fn map_all(&self, op: &'static str, collection: &str, keys: &[&str]) -> Result<Vec<String>> {
        keys.iter().map(|k| self.map(op, collection, k)).collect()
    }

    fn own_keys(&self, inner_keys: Vec<String>) -> Vec<String> {
        inner_keys
            .into_iter()
            .filter_map(|k| k.strip_prefix(&*self.head).map(str::to_owned))
            .filter(|k| !k.is_empty())
            .collect()
    }

    async fn destroy_own(&self, collection: &str) -> Result<bool> {
        let mine: Vec<String> = self
            .inner
            .keys(collection)
            .await?
            .into_iter()
            .filter(|k| k.starts_with(&*self.head))
            .collect();
        let refs: Vec<&str> = mine.iter().map(String::as_str).collect();
        Ok(self.inner.delete_many(collection, &refs).await? > 0)
    }
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for KeyPrefixStore<S> {
    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        inner
            .with_max_key_len(inner.max_key_len.map(|m| m.saturating_sub(self.head.len())))
            .with_destroy_collection(inner.keys)
            .with_collections(inner.collections && inner.keys)
            .with_destroy(inner.collections && inner.keys)
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        self.inner
            .get(collection, &self.map("get", collection, key)?)
            .await
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let keys = self.map_all("get_many", collection, keys)?;
        self.inner.get_many(collection, &refs(&keys)).await
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.inner
            .ttl(collection, &self.map("ttl", collection, key)?)
            .await
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let keys = self.map_all("ttl_many", collection, keys)?;
        self.inner.ttl_many(collection, &refs(&keys)).await
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.inner
            .put(collection, &self.map("put", collection, key)?, value, ttl)
            .await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let key = self.map("put_if_absent", collection, key)?;
        self.inner.put_if_absent(collection, &key, value, ttl).await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let keys = entries
            .iter()
            .map(|(k, _)| self.map("put_many", collection, k))
            .collect::<Result<Vec<_>>>()?;
        let mapped: Vec<(&str, Value)> = keys
            .iter()
            .zip(entries)
            .map(|(k, (_, v))| (k.as_str(), v.clone()))
            .collect();
        self.inner.put_many(collection, &mapped, ttl).await
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        self.inner
            .delete(collection, &self.map("delete", collection, key)?)
            .await
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        let keys = self.map_all("delete_many", collection, keys)?;
        self.inner.delete_many(collection, &refs(&keys)).await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        Ok(self.own_keys(self.inner.keys(collection).await?))
    }

    async fn collections(&self) -> Result<Vec<String>> {
        if !self.capabilities().collections {
            return Err(Error::unsupported("collections"));
        }
        let mut mine = Vec::new();
        for c in self.inner.collections().await? {
            if !self.own_keys(self.inner.keys(&c).await?).is_empty() {
                mine.push(c);
            }
        }
        Ok(mine)
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        if !self.capabilities().destroy_collection {
            return Err(Error::unsupported("destroy_collection"));
        }
        self.capabilities()
            .check_collection(collection)
            .map_err(context(LAYER, "destroy_collection", collection))?;
        self.destroy_own(collection).await
    }

    async fn destroy(&self) -> Result<bool> {
        if !self.capabilities().destroy {
            return Err(Error::unsupported("destroy"));
        }
        let mut any = false;
        for c in self.inner.collections().await? {
            any |= self.destroy_own(&c).await?;
        }
        Ok(any)
    }

    async fn cull(&self) -> Result<usize> {
        self.inner.cull().await
    }
}
