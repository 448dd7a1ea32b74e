//! [`DiskStore`]: the [`KeyValueStore`] implementation over redb.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stowage_core::codec::binary;
use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, Expiry, KeyValueStore, Result, Value, async_trait, rules,
};

use crate::config::{DiskConfig, Durability};
use crate::core::Core;
use crate::error::{BACKEND, from_io, from_redb};
use crate::sweeper::Sweeper;

/// A durable key-value store in one redb file: the default disk backend.
///
/// See the [crate documentation](crate) for the file layout, durability and expiry. Cloning a
/// `DiskStore` gives another handle to the same open file.
///
/// ```
/// use std::time::Duration;
/// use stowage_core::{KeyValueStore, Value};
/// use stowage_disk::DiskStore;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let store = DiskStore::open(dir.path().join("cache.redb"))?;
/// store.put("sessions", "s1", Value::from_json(r#"{"user":"alice"}"#)?, Some(Duration::from_secs(60))).await?;
/// assert!(store.get("sessions", "s1").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DiskStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    core: Arc<Core>,
    caps: Capabilities,
    path: PathBuf,
    durability: Durability,
    // Dropped with the last handle, which stops the sweeper thread.
    _sweeper: Option<Sweeper>,
}

fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    move |e| {
        e.with_backend(BACKEND)
            .with_operation(op)
            .with_collection(collection)
    }
}

impl DiskStore {
    /// Open (or create) the database file at `path` with the default settings: immediate
    /// durability and a sweeper every [`DEFAULT_SWEEP_INTERVAL`](crate::DEFAULT_SWEEP_INTERVAL).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        DiskConfig::new(path).open()
    }

    /// A builder for the file at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> DiskConfig {
        DiskConfig::new(path)
    }

    pub(crate) fn from_config(config: DiskConfig) -> Result<Self> {
        config.validate()?;
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| from_io("cannot create the database directory", e))?;
        }
        let mut builder = redb::Builder::new();
        if let Some(bytes) = config.cache_size {
            builder.set_cache_size(bytes);
        }
        let db = builder
            .create(&config.path)
            .map_err(|e| from_redb(e).with_operation("open"))?;
        let core = Arc::new(Core::new(db, config.durability)?);
        let sweeper = match config.sweep_interval {
            Some(every) => Some(
                Sweeper::start(&core, every)
                    .map_err(|e| from_io("cannot start the sweeper thread", e))?,
            ),
            None => None,
        };
        let caps =
            Capabilities::all(Expiry::Emulated).with_max_value_len(Some(config.max_value_len));
        Ok(DiskStore {
            inner: Arc::new(Inner {
                core,
                caps,
                path: config.path,
                durability: config.durability,
                _sweeper: sweeper,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The durability of writes.
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Make every write so far durable (an fsynced empty commit). Only needed with
    /// [`Durability::None`]; with the default every write is already durable when acknowledged.
    pub async fn flush(&self) -> Result<()> {
        self.run("flush", "", |core| core.flush()).await
    }

    /// Run a blocking engine call on Tokio's blocking pool, so a runtime worker never waits on
    /// disk I/O.
    async fn run<T, F>(&self, op: &'static str, collection: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core) -> Result<T> + Send + 'static,
    {
        let core = Arc::clone(&self.inner.core);
        let result = match tokio::task::spawn_blocking(move || f(&core)).await {
            Ok(r) => r,
            Err(e) => Err(Error::new(
                ErrorKind::Backend,
                format!("the engine call did not complete: {e}"),
            )),
        };
        result.map_err(|e| {
            let e = e.with_backend(BACKEND).with_operation(op);
            if collection.is_empty() {
                e
            } else {
                e.with_collection(collection)
            }
        })
    }

    fn record(&self, value: &Value, now: SystemTime, ttl: Option<Duration>) -> Vec<u8> {
        binary::encode_parts(Some(now), rules::expires_at(now, ttl), value)
    }

    fn check_put(
        &self,
        collection: &str,
        key: &str,
        value: &Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.inner.caps.check(collection, key)?;
        self.inner.caps.check_value(value.len(), ttl)
    }

    async fn entries(
        &self,
        op: &'static str,
        collection: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Entry>>> {
        self.inner
            .caps
            .check_many(collection, keys.iter().copied())
            .map_err(ctx(op, collection))?;
        let pks: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| binary::physical_key(collection, k))
            .collect();
        let now = SystemTime::now();
        self.run(op, collection, move |core| core.get_many(&pks, now))
            .await
    }
}

#[async_trait]
impl KeyValueStore for DiskStore {
    fn capabilities(&self) -> Capabilities {
        self.inner.caps
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        let mut found = self.entries("get", collection, &[key]).await?;
        Ok(found.pop().flatten().map(|e| e.value))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let found = self.entries("get_many", collection, keys).await?;
        Ok(found.into_iter().map(|e| e.map(|e| e.value)).collect())
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        let mut found = self.entries("ttl", collection, &[key]).await?;
        Ok(found.pop().flatten())
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
        self.check_put(collection, key, &value, ttl)
            .map_err(ctx("put", collection))?;
        let record = vec![(
            binary::physical_key(collection, key),
            self.record(&value, SystemTime::now(), ttl),
        )];
        self.run("put", collection, move |core| core.put_many(&record))
            .await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let check = || {
            self.inner.caps.check_collection(collection)?;
            rules::check_ttl(ttl)?;
            entries
                .iter()
                .try_for_each(|(k, v)| self.check_put(collection, k, v, ttl))
        };
        check().map_err(ctx("put_many", collection))?;
        if entries.is_empty() {
            return Ok(());
        }
        let now = SystemTime::now();
        let records: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(k, v)| {
                (
                    binary::physical_key(collection, k),
                    self.record(v, now, ttl),
                )
            })
            .collect();
        self.run("put_many", collection, move |core| core.put_many(&records))
            .await
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        Ok(self.delete_many(collection, &[key]).await? > 0)
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.inner
            .caps
            .check_many(collection, keys.iter().copied())
            .map_err(ctx("delete_many", collection))?;
        if keys.is_empty() {
            return Ok(0);
        }
        let pks: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| binary::physical_key(collection, k))
            .collect();
        let now = SystemTime::now();
        self.run("delete_many", collection, move |core| {
            core.delete_many(&pks, now)
        })
        .await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.inner
            .caps
            .check_collection(collection)
            .map_err(ctx("keys", collection))?;
        let (start, end) = (
            binary::collection_start(collection),
            binary::collection_end(collection),
        );
        let now = SystemTime::now();
        self.run("keys", collection, move |core| core.keys(&start, &end, now))
            .await
    }

    async fn collections(&self) -> Result<Vec<String>> {
        let now = SystemTime::now();
        self.run("collections", "", move |core| core.collections(now))
            .await
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        self.inner
            .caps
            .check_collection(collection)
            .map_err(ctx("destroy_collection", collection))?;
        let (start, end) = (
            binary::collection_start(collection),
            binary::collection_end(collection),
        );
        self.run("destroy_collection", collection, move |core| {
            core.remove_range(&start, &end)
        })
        .await
    }

    async fn destroy(&self) -> Result<bool> {
        self.run("destroy", "", |core| core.clear()).await
    }

    async fn cull(&self) -> Result<usize> {
        let now = SystemTime::now();
        self.run("cull", "", move |core| core.cull(now)).await
    }
}
