//! The async store over a synchronous, in-process engine: what the redb, sled and RocksDB
//! backends share (feature `embedded`).
//!
//! A backend implements [`Engine`]: a handful of blocking calls on physical keys
//! ([`binary::physical_key`]) and version-1 binary envelopes ([`binary::encode`]).
//! [`EmbeddedStore`] turns it into a [`KeyValueStore`]:
//!
//! - names, TTLs and value sizes are checked before the engine is called, so bad input never
//!   reaches the disk;
//! - entries are encoded with `created_at` and `expires_at`, and expired entries are filtered out
//!   of every read and listing;
//! - no engine call stalls a runtime worker: writes and scans run on Tokio's blocking pool;
//!   point reads the engine can answer from memory alone ([`Engine::get_many_cached`]) run on
//!   the calling task, and the others block in place (`block_in_place`, which hands the
//!   worker's other tasks to another thread) on a multi-thread runtime or go to the blocking
//!   pool on a current-thread one; [`ReadPath::Inline`] runs every point read on the calling
//!   task;
//! - an optional [`Sweeper`] thread culls expired entries at an interval.
//!
//! The backend's own store type holds an `EmbeddedStore` and forwards the trait to it with
//! [`delegate_store!`](crate::delegate_store).

mod sweeper;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::codec::binary;
use crate::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, ReadPath, Result, Value, async_trait,
    rules,
};

pub use sweeper::Sweeper;

/// A physical key and its encoded envelope, as written to the engine.
pub type Record = (Vec<u8>, Vec<u8>);

/// The blocking calls an embedded engine provides. Every call may wait on the disk.
///
/// Keys are physical keys: `collection ‖ 0xFF ‖ key` ([`binary::physical_key`]), so one
/// collection is one contiguous key range, `[collection_start, collection_end)`. Values are
/// binary envelopes; the engine decodes them with [`binary::decode_live`] (reads) or
/// [`binary::decode_header`] (expiry checks) and never returns an entry expired at `now`.
pub trait Engine: Send + Sync + 'static {
    /// The live entries of `keys`, in order, from one consistent view. A damaged envelope is a
    /// [`ErrorKind::Corrupted`] error.
    fn get_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<Vec<Option<Entry>>>;
    /// The live entries of `keys` when the engine can answer from memory alone, without waiting
    /// on the disk (RocksDB: its memtables and block cache); `None` when any key would need a
    /// disk read, or when the engine cannot tell. With [`ReadPath::Offload`] a read tries this on
    /// the calling task first and blocks in place (or moves to the blocking pool) only on `None`.
    /// The default is `None`.
    fn get_many_cached(
        &self,
        keys: &[Vec<u8>],
        now: SystemTime,
    ) -> Option<Result<Vec<Option<Entry>>>> {
        let _ = (keys, now);
        None
    }
    /// The live entry of one key: [`Engine::get_many`] without its vectors. The default calls
    /// `get_many`; engines override it when one lookup is cheaper on its own.
    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Entry>> {
        let mut found = self.get_many(&[key.to_vec()], now)?;
        Ok(found.pop().flatten())
    }
    /// The live entry of one key when the engine can answer from memory alone; see
    /// [`Engine::get_many_cached`], which the default calls.
    fn get_cached(&self, key: &[u8], now: SystemTime) -> Option<Result<Option<Entry>>> {
        self.get_many_cached(&[key.to_vec()], now)
            .map(|found| found.map(|mut v| v.pop().flatten()))
    }
    /// Write every record atomically, with the engine's configured durability.
    fn put_many(&self, records: Vec<Record>) -> Result<()>;
    /// Remove `keys`; how many of them held live (unexpired) entries.
    fn delete_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<usize>;
    /// The user keys of live entries whose physical keys lie in `[start, end)`.
    fn keys(&self, start: &[u8], end: &[u8], now: SystemTime) -> Result<Vec<String>>;
    /// Every collection holding at least one live entry.
    fn collections(&self, now: SystemTime) -> Result<Vec<String>>;
    /// Remove every entry in `[start, end)`; whether there were any.
    fn remove_range(&self, start: &[u8], end: &[u8]) -> Result<bool>;
    /// Remove everything; whether there was anything.
    fn clear(&self) -> Result<bool>;
    /// Remove every entry expired at `now`; how many.
    fn cull(&self, now: SystemTime) -> Result<usize>;
}

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
    engine: Arc<E>,
    caps: Capabilities,
    read_path: ReadPath,
    backend: &'static str,
    // Shared by every handle; the thread stops when the last one is dropped.
    sweeper: Option<Arc<Sweeper>>,
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

fn ctx(backend: &'static str, op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    move |e| {
        let e = e.with_backend(backend).with_operation(op);
        if collection.is_empty() {
            e
        } else {
            e.with_collection(collection)
        }
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

    /// Run a blocking engine call on Tokio's blocking pool, so a runtime worker never waits on
    /// disk I/O. Errors are tagged with the backend, `op` and `collection` (when not empty).
    pub async fn run<T, F>(&self, op: &'static str, collection: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&E) -> Result<T> + Send + 'static,
    {
        let engine = Arc::clone(&self.engine);
        let result = match tokio::task::spawn_blocking(move || f(&engine)).await {
            Ok(r) => r,
            Err(e) => Err(Error::new(
                ErrorKind::Backend,
                format!("the engine call did not complete: {e}"),
            )),
        };
        result.map_err(ctx(self.backend, op, collection))
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
            .map_err(ctx(self.backend, op, collection))?;
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

    fn check_put(
        &self,
        collection: &str,
        key: &str,
        value: &Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.caps.check(collection, key)?;
        self.caps.check_value(value.len(), ttl)
    }

    /// A point read of `keys` on the read path configured: on the calling task with
    /// [`ReadPath::Inline`]; otherwise on the calling task when the engine answers from memory
    /// (`cached`), and when it cannot, in place with `block_in_place` on a multi-thread runtime
    /// or on the blocking pool on any other.
    async fn read<K, T>(
        &self,
        op: &'static str,
        collection: &str,
        keys: K,
        get: fn(&E, &K, SystemTime) -> Result<T>,
        cached: fn(&E, &K, SystemTime) -> Option<Result<T>>,
    ) -> Result<T>
    where
        K: Send + 'static,
        T: Send + 'static,
    {
        let now = SystemTime::now();
        let answer = match self.read_path {
            ReadPath::Inline => Some(get(&self.engine, &keys, now)),
            ReadPath::Offload => cached(&self.engine, &keys, now),
        };
        match answer {
            Some(answer) => answer.map_err(ctx(self.backend, op, collection)),
            None if blocking_in_place_allowed() => {
                // The read blocks this thread; Tokio hands the worker's other tasks to another
                // thread first, so they keep running. No thread hop when the read is quick.
                tokio::task::block_in_place(|| get(&self.engine, &keys, now)).map_err(ctx(
                    self.backend,
                    op,
                    collection,
                ))
            }
            None => {
                self.run(op, collection, move |engine| get(engine, &keys, now))
                    .await
            }
        }
    }

    /// One key's live entry.
    async fn entry(&self, op: &'static str, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.caps
            .check(collection, key)
            .map_err(ctx(self.backend, op, collection))?;
        let pk = binary::physical_key(collection, key);
        self.read(
            op,
            collection,
            pk,
            |e, pk, now| e.get(pk, now),
            |e, pk, now| e.get_cached(pk, now),
        )
        .await
    }

    /// The live entries of `keys`, in order.
    async fn entries(
        &self,
        op: &'static str,
        collection: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Entry>>> {
        self.caps
            .check_many(collection, keys.iter().copied())
            .map_err(ctx(self.backend, op, collection))?;
        let pks: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| binary::physical_key(collection, k))
            .collect();
        self.read(
            op,
            collection,
            pks,
            |e, pks, now| e.get_many(pks, now),
            |e, pks, now| e.get_many_cached(pks, now),
        )
        .await
    }
}

/// Whether this thread may block with [`tokio::task::block_in_place`]: inside a multi-thread
/// runtime (on a worker, or in its `block_on`). Anywhere else (a current-thread runtime, where it
/// would panic) reads go to the blocking pool.
fn blocking_in_place_allowed() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
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
        self.check_put(collection, key, &value, ttl).map_err(ctx(
            self.backend,
            "put",
            collection,
        ))?;
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
        let check = || {
            self.caps.check_collection(collection)?;
            rules::check_ttl(ttl)?;
            entries
                .iter()
                .try_for_each(|(k, v)| self.check_put(collection, k, v, ttl))
        };
        check().map_err(ctx(self.backend, "put_many", collection))?;
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

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        Ok(self.delete_keys("delete", collection, &[key]).await? > 0)
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.delete_keys("delete_many", collection, keys).await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.caps
            .check_collection(collection)
            .map_err(ctx(self.backend, "keys", collection))?;
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
        self.caps.check_collection(collection).map_err(ctx(
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
