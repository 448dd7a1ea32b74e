//! [`EmbeddedStore`]: the [`KeyValueStore`] over an [`Engine`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{Engine, Record, Sweeper};
use crate::checks::context;
use crate::codec::binary;
use crate::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, ReadPath, Result, Value, async_trait,
    rules,
};

/// A [`KeyValueStore`] over an [`Engine`]. Cloning gives another handle to the same engine.
///
/// ```
/// use std::time::SystemTime;
/// use stowage_core::embedded::{EmbeddedStore, Engine, Record};
/// use stowage_core::{Capabilities, Entry, Expiry, KeyValueStore, ReadPath, Result, Value};
///
/// /// A toy engine: a `BTreeMap` behind a mutex.
/// #[derive(Default)]
/// struct Toy(std::sync::Mutex<std::collections::BTreeMap<Vec<u8>, Vec<u8>>>);
///
/// impl Engine for Toy {
///     fn get_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<Vec<Option<Entry>>> {
///         let map = self.0.lock().unwrap();
///         keys.iter()
///             .map(|k| map.get(k).map_or(Ok(None), |v| stowage_core::codec::binary::decode_live(v, now)))
///             .collect()
///     }
///     fn put_many(&self, records: Vec<Record>) -> Result<()> {
///         self.0.lock().unwrap().extend(records);
///         Ok(())
///     }
///     fn put_if_absent(&self, key: Vec<u8>, record: Vec<u8>, now: SystemTime) -> Result<bool> {
///         let mut map = self.0.lock().unwrap();
///         let live = map.get(&key).is_some_and(|old| {
///             stowage_core::codec::binary::decode_header(old).is_ok_and(|h| !h.is_expired_at(now))
///         });
///         if !live {
///             map.insert(key, record);
///         }
///         Ok(!live)
///     }
///     fn delete_many(&self, keys: &[Vec<u8>], _: SystemTime) -> Result<usize> {
///         let mut map = self.0.lock().unwrap();
///         Ok(keys.iter().filter(|k| map.remove(*k).is_some()).count())
///     }
///     fn keys(&self, _: &[u8], _: &[u8], _: SystemTime) -> Result<Vec<String>> { Ok(vec![]) }
///     fn collections(&self, _: SystemTime) -> Result<Vec<String>> { Ok(vec![]) }
///     fn remove_range(&self, _: &[u8], _: &[u8]) -> Result<bool> { Ok(false) }
///     fn clear(&self) -> Result<bool> { Ok(false) }
///     fn cull(&self, _: SystemTime) -> Result<usize> { Ok(0) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let store = EmbeddedStore::new("toy", Toy::default(), Capabilities::all(Expiry::Emulated))
///     .with_read_path(ReadPath::Inline);
/// store.put("c", "k", Value::from_json(r#"{"a":1}"#)?, None).await?;
/// assert_eq!(store.get("c", "k").await?.unwrap().as_str(), r#"{"a":1}"#);
/// # Ok(()) }
/// ```
pub struct EmbeddedStore<E> {
    pub(super) engine: Arc<E>,
    pub(super) caps: Capabilities,
    pub(super) read_path: ReadPath,
    pub(super) backend: &'static str,
    // Shared by every handle; the thread stops when the last one is dropped.
    pub(super) sweeper: Option<Arc<Sweeper>>,
}

impl<E> Clone for EmbeddedStore<E> {
    fn clone(&self) -> Self {
        EmbeddedStore {
            engine: Arc::clone(&self.engine),
            caps: self.caps,
            read_path: self.read_path,
            backend: self.backend,
            sweeper: self.sweeper.clone(),
        }
    }
}

impl<E> fmt::Debug for EmbeddedStore<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("backend", &self.backend)
            .field("caps", &self.caps)
            .field("read_path", &self.read_path)
            .field("sweeper", &self.sweeper.is_some())
            .finish_non_exhaustive()
    }
}

impl<E: Engine> EmbeddedStore<E> {
    /// A store over `engine`, named `backend` in errors, declaring `caps` (which also bound
    /// value sizes). Reads are offloaded and no sweeper runs until configured.
    pub fn new(backend: &'static str, engine: E, caps: Capabilities) -> Self {
        EmbeddedStore {
            engine: Arc::new(engine),
            caps,
            read_path: ReadPath::default(),
            backend,
            sweeper: None,
        }
    }

    /// Where point reads run; see [`ReadPath`].
    #[must_use]
    pub fn with_read_path(mut self, read_path: ReadPath) -> Self {
        self.read_path = read_path;
        self
    }

    /// Start a background thread that culls expired entries every `every` (see [`Sweeper`]).
    ///
    /// Errors with [`ErrorKind::Backend`] when the thread cannot be started.
    pub fn sweep_every(mut self, every: Duration) -> Result<Self> {
        let sweeper = Sweeper::start(&self.engine, self.backend, every).map_err(|e| {
            Error::new(
                ErrorKind::Backend,
                format!("cannot start the sweeper thread: {e}"),
            )
            .with_backend(self.backend)
            .with_source(e)
        })?;
        self.sweeper = Some(Arc::new(sweeper));
        Ok(self)
    }

    /// The read path this store was built with.
    pub fn read_path(&self) -> ReadPath {
        self.read_path
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<E> {
        &self.engine
    }

    fn record(value: &Value, now: SystemTime, ttl: Option<Duration>) -> Vec<u8> {
        binary::encode_parts(Some(now), rules::expires_at(now, ttl), value)
    }

    /// `delete` and `delete_many`, with errors naming the operation called.
    async fn delete_keys(
        &self,
        op: &'static str,
        collection: &str,
        keys: &[&str],
    ) -> Result<usize> {
        self.caps
            .check_many(collection, keys.iter().copied())
            .map_err(context(self.backend, op, collection))?;
        if keys.is_empty() {
            return Ok(0);
        }
        let pks: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| binary::physical_key(collection, k))
            .collect();
        let now = SystemTime::now();
        self.run(op, collection, move |engine| engine.delete_many(&pks, now))
            .await
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<E: Engine> KeyValueStore for EmbeddedStore<E> {
    fn capabilities(&self) -> Capabilities {
        self.caps
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        Ok(self.entry("get", collection, key).await?.map(|e| e.value))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let found = self.entries("get_many", collection, keys).await?;
        Ok(found.into_iter().map(|e| e.map(|e| e.value)).collect())
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.entry("ttl", collection, key).await
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.entries("ttl_many", collection, keys).await
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.caps
            .check_put(collection, key, &value, ttl)
            .map_err(context(self.backend, "put", collection))?;
        let record = vec![(
            binary::physical_key(collection, key),
            Self::record(&value, SystemTime::now(), ttl),
        )];
        self.run("put", collection, move |engine| engine.put_many(record))
            .await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.caps
            .check_put_many(collection, entries, ttl)
            .map_err(context(self.backend, "put_many", collection))?;
        if entries.is_empty() {
            return Ok(());
        }
        let now = SystemTime::now();
        let records: Vec<Record> = entries
            .iter()
            .map(|(k, v)| {
                (
                    binary::physical_key(collection, k),
                    Self::record(v, now, ttl),
                )
            })
            .collect();
        self.run("put_many", collection, move |engine| {
            engine.put_many(records)
        })
        .await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        self.caps
            .check_put(collection, key, &value, ttl)
            .map_err(context(self.backend, "put_if_absent", collection))?;
        let now = SystemTime::now();
        let (pk, record) = (
            binary::physical_key(collection, key),
            Self::record(&value, now, ttl),
        );
        self.run("put_if_absent", collection, move |engine| {
            engine.put_if_absent(pk, record, now)
        })
        .await
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        Ok(self.delete_keys("delete", collection, &[key]).await? > 0)
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.delete_keys("delete_many", collection, keys).await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.caps.check_collection(collection).map_err(context(
            self.backend,
            "keys",
            collection,
        ))?;
        let (start, end) = (
            binary::collection_start(collection),
            binary::collection_end(collection),
        );
        let now = SystemTime::now();
        self.run("keys", collection, move |engine| {
            engine.keys(&start, &end, now)
        })
        .await
    }

    async fn collections(&self) -> Result<Vec<String>> {
        let now = SystemTime::now();
        self.run("collections", "", move |engine| engine.collections(now))
            .await
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        self.caps.check_collection(collection).map_err(context(
            self.backend,
            "destroy_collection",
            collection,
        ))?;
        let (start, end) = (
            binary::collection_start(collection),
            binary::collection_end(collection),
        );
        self.run("destroy_collection", collection, move |engine| {
            engine.remove_range(&start, &end)
        })
        .await
    }

    async fn destroy(&self) -> Result<bool> {
        self.run("destroy", "", |engine| engine.clear()).await
    }

    async fn cull(&self) -> Result<usize> {
        let now = SystemTime::now();
        self.run("cull", "", move |engine| engine.cull(now)).await
    }
}
