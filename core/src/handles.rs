//! Conveniences over any store: [`KeyValueStoreExt`], [`Collection`] and [`Typed`] handles.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::entry::Entry;
use crate::error::Result;
use crate::layer::Layer;
use crate::store::KeyValueStore;
use crate::value::Value;

/// The name of the collection used when none is chosen, as in `py-key-value`.
pub const DEFAULT_COLLECTION: &str = "default_collection";

/// Conveniences implemented for every [`KeyValueStore`].
///
/// ```
/// # async fn demo<S: stowage_core::KeyValueStore + Clone>(store: S) -> stowage_core::Result<()> {
/// use serde::{Deserialize, Serialize};
/// use stowage_core::KeyValueStoreExt;
///
/// #[derive(Serialize, Deserialize)]
/// struct Token { access: String }
///
/// let tokens = store.typed::<Token>("tokens");
/// tokens.put("alice", &Token { access: "abc".into() }, None).await?;
/// assert_eq!(tokens.get("alice").await?.unwrap().access, "abc");
/// # Ok(()) }
/// ```
pub trait KeyValueStoreExt: KeyValueStore {
    /// A handle bound to one collection.
    fn collection(&self, name: impl Into<String>) -> Collection<Self>
    where
        Self: Clone + Sized,
    {
        Collection {
            store: self.clone(),
            name: Arc::from(name.into()),
        }
    }

    /// A handle bound to one collection that converts values to and from `T`.
    fn typed<T>(&self, collection: impl Into<String>) -> Typed<Self, T>
    where
        Self: Clone + Sized,
    {
        Typed {
            inner: self.collection(collection),
            _type: PhantomData,
        }
    }

    /// Wrap this store with `layer`.
    fn layer<L: Layer<Self>>(self, layer: L) -> L::Store
    where
        Self: Sized,
    {
        layer.layer(self)
    }

    /// This store behind an `Arc<dyn KeyValueStore>`.
    fn into_dyn(self) -> Arc<dyn KeyValueStore>
    where
        Self: Sized + 'static,
    {
        Arc::new(self)
    }
}

impl<S: KeyValueStore + ?Sized> KeyValueStoreExt for S {}

/// A store bound to one collection. Cheap to clone.
///
/// ```
/// # async fn demo<S: stowage_core::KeyValueStore + Clone>(store: S) -> stowage_core::Result<()> {
/// use stowage_core::{KeyValueStoreExt, Value};
///
/// let sessions = store.collection("sessions");
/// sessions.put("s1", Value::from_json(r#"{"user":"alice"}"#)?, None).await?;
/// assert!(sessions.delete("s1").await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Collection<S> {
    store: S,
    name: Arc<str>,
}

impl<S> fmt::Debug for Collection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collection")
            .field("name", &&*self.name)
            .finish_non_exhaustive()
    }
}

impl<S: KeyValueStore> Collection<S> {
    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// See [`KeyValueStore::get`].
    pub async fn get(&self, key: &str) -> Result<Option<Value>> {
        self.store.get(&self.name, key).await
    }

    /// See [`KeyValueStore::get_many`].
    pub async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        self.store.get_many(&self.name, keys).await
    }

    /// See [`KeyValueStore::ttl`].
    pub async fn ttl(&self, key: &str) -> Result<Option<Entry>> {
        self.store.ttl(&self.name, key).await
    }

    /// See [`KeyValueStore::ttl_many`].
    pub async fn ttl_many(&self, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.store.ttl_many(&self.name, keys).await
    }

    /// See [`KeyValueStore::put`].
    pub async fn put(&self, key: &str, value: Value, ttl: Option<Duration>) -> Result<()> {
        self.store.put(&self.name, key, value, ttl).await
    }

    /// See [`KeyValueStore::put_many`].
    pub async fn put_many(&self, entries: &[(&str, Value)], ttl: Option<Duration>) -> Result<()> {
        self.store.put_many(&self.name, entries, ttl).await
    }

    /// See [`KeyValueStore::delete`].
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.store.delete(&self.name, key).await
    }

    /// See [`KeyValueStore::delete_many`].
    pub async fn delete_many(&self, keys: &[&str]) -> Result<usize> {
        self.store.delete_many(&self.name, keys).await
    }

    /// See [`KeyValueStore::keys`].
    pub async fn keys(&self) -> Result<Vec<String>> {
        self.store.keys(&self.name).await
    }

    /// Remove the whole collection; see [`KeyValueStore::destroy_collection`].
    pub async fn destroy(&self) -> Result<bool> {
        self.store.destroy_collection(&self.name).await
    }
}

/// A collection handle that stores and loads `T` (any type whose JSON form is an object).
///
/// Built with [`KeyValueStoreExt::typed`]. Cheap to clone.
///
/// Numbers are as exact as `T` holds them: `T` is written with `serde_json` straight to text
/// and read straight from it. A field of type `serde_json::Value` (or a `T` that is one) rounds
/// integers beyond 64 bits and decimals beyond `f64` when read; to pass numbers through exactly,
/// use `Box<serde_json::value::RawValue>` fields, or the untyped [`Collection`] and [`Value`].
pub struct Typed<S, T> {
    inner: Collection<S>,
    _type: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for Typed<S, T> {
    fn clone(&self) -> Self {
        Typed {
            inner: self.inner.clone(),
            _type: PhantomData,
        }
    }
}

impl<S, T> fmt::Debug for Typed<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Typed")
            .field("collection", &&*self.inner.name)
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<S: KeyValueStore, T: Serialize + DeserializeOwned> Typed<S, T> {
    /// The untyped collection handle underneath.
    pub fn collection(&self) -> &Collection<S> {
        &self.inner
    }

    /// Load `key` as `T`. A stored object of another shape is an
    /// [`InvalidValue`](crate::ErrorKind::InvalidValue) error.
    pub async fn get(&self, key: &str) -> Result<Option<T>> {
        self.inner
            .get(key)
            .await?
            .map(|v| v.deserialize())
            .transpose()
    }

    /// Load several keys, in order, `None` for misses.
    pub async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<T>>> {
        self.inner
            .get_many(keys)
            .await?
            .into_iter()
            .map(|v| v.map(|v| v.deserialize()).transpose())
            .collect()
    }

    /// Load `key` with its remaining TTL.
    pub async fn ttl(&self, key: &str) -> Result<Option<(T, Option<Duration>)>> {
        match self.inner.ttl(key).await? {
            Some(entry) => {
                let (value, ttl) = entry.into_pair();
                Ok(Some((value.deserialize()?, ttl)))
            }
            None => Ok(None),
        }
    }

    /// Store `value` under `key`.
    pub async fn put(&self, key: &str, value: &T, ttl: Option<Duration>) -> Result<()>
    where
        T: Sync,
    {
        self.inner
            .put(key, Value::from_serialize(value)?, ttl)
            .await
    }

    /// Store several values with one TTL. Nothing is written if any value fails to convert.
    pub async fn put_many(&self, entries: &[(&str, &T)], ttl: Option<Duration>) -> Result<()>
    where
        T: Sync,
    {
        let values = entries
            .iter()
            .map(|(k, v)| Ok((*k, Value::from_serialize(*v)?)))
            .collect::<Result<Vec<_>>>()?;
        self.inner.put_many(&values, ttl).await
    }

    /// Remove `key`.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.inner.delete(key).await
    }
}
