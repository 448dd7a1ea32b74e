//! [`RocksDbStore`]: the [`KeyValueStore`] implementation over RocksDB.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stowage_core::codec::binary;
use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, Expiry, KeyValueStore, Result, Value, async_trait, rules,
};

use crate::config::{Durability, RocksDbConfig};
use crate::core::Core;
use crate::error::{BACKEND, from_rocks};
use crate::filter;

/// A durable key-value store in a RocksDB directory.
///
/// See the [crate documentation](crate) for the file layout, durability and expiry. Cloning a
/// `RocksDbStore` gives another handle to the same open database.
///
/// ```
/// use std::time::Duration;
/// use stowage_core::{KeyValueStore, Value};
/// use stowage_rocksdb::RocksDbStore;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let store = RocksDbStore::open(dir.path().join("cache.rocksdb"))?;
/// store.put("sessions", "s1", Value::from_json(r#"{"user":"alice"}"#)?, Some(Duration::from_secs(60))).await?;
/// assert!(store.get("sessions", "s1").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RocksDbStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    core: Arc<Core>,
    caps: Capabilities,
    path: PathBuf,
    durability: Durability,
}

fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    move |e| {
        e.with_backend(BACKEND)
            .with_operation(op)
            .with_collection(collection)
    }
}

impl RocksDbStore {
    /// Open (or create) the RocksDB directory at `path` with the default settings: WAL fsynced
    /// on every write, LZ4 compression, expired entries dropped during compaction.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        RocksDbConfig::new(path).open()
    }

    /// A builder for the directory at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> RocksDbConfig {
        RocksDbConfig::new(path)
    }

    pub(crate) fn from_config(config: RocksDbConfig) -> Result<Self> {
        config.validate()?;
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new(
                    ErrorKind::Backend,
                    format!("cannot create the database directory: {e}"),
                )
                .with_backend(BACKEND)
                .with_source(e)
            })?;
        }
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        opts.increase_parallelism(i32::try_from(cores).unwrap_or(2).max(2));
        opts.set_compression_type(if config.compression {
            rocksdb::DBCompressionType::Lz4
        } else {
            rocksdb::DBCompressionType::None
        });
        opts.set_compaction_filter(filter::NAME, filter::drop_expired);
        opts.set_periodic_compaction_seconds(config.periodic_compaction.as_secs());
        if let Some(bytes) = config.write_buffer_size {
            opts.set_write_buffer_size(bytes);
        }
        // RocksDB's own info logs: keep a few, not one per open.
        opts.set_keep_log_file_num(4);
        let db = rocksdb::DB::open(&opts, &config.path)
            .map_err(|e| from_rocks(e).with_operation("open"))?;
        let core = Arc::new(Core::new(db, config.durability));
        let caps =
            Capabilities::all(Expiry::Approximate).with_max_value_len(Some(config.max_value_len));
        Ok(RocksDbStore {
            inner: Arc::new(Inner {
                core,
                caps,
                path: config.path,
                durability: config.durability,
            }),
        })
    }

    /// The RocksDB directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The durability of writes.
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Flush the memtable to an SST file and fsync the WAL: everything written so far is on
    /// disk, whatever the [`Durability`].
    pub async fn flush(&self) -> Result<()> {
        self.run("flush", "", |core| core.flush()).await
    }

    /// Compact the whole database now. The expiry filter drops every expired entry and the space
    /// of deleted entries is reclaimed. RocksDB also does this on its own as data is written, and
    /// for idle files every [`periodic_compaction`](RocksDbConfig::periodic_compaction).
    pub async fn compact(&self) -> Result<()> {
        self.run("compact", "", |core| {
            core.compact();
            Ok(())
        })
        .await
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
impl KeyValueStore for RocksDbStore {
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
