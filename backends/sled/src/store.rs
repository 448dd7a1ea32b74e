//! [`SledStore`]: the [`KeyValueStore`] implementation over sled.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stowage_core::codec::binary;
use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, Expiry, KeyValueStore, Result, Value, async_trait, rules,
};

use crate::config::{Durability, SledConfig};
use crate::core::Core;
use crate::error::{BACKEND, from_io, from_sled};
use crate::sweeper::Sweeper;

/// A durable key-value store in a sled directory.
///
/// See the [crate documentation](crate) for the file layout, durability and expiry. Cloning a
/// `SledStore` gives another handle to the same open store.
///
/// ```
/// use std::time::Duration;
/// use stowage_core::{KeyValueStore, Value};
/// use stowage_sled::SledStore;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let store = SledStore::open(dir.path().join("cache.sled"))?;
/// store.put("sessions", "s1", Value::from_json(r#"{"user":"alice"}"#)?, Some(Duration::from_secs(60))).await?;
/// assert!(store.get("sessions", "s1").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SledStore {
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

impl SledStore {
    /// Open (or create) the sled directory at `path` with the default settings: flushed
    /// writes and a sweeper every [`DEFAULT_SWEEP_INTERVAL`](crate::DEFAULT_SWEEP_INTERVAL).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        SledConfig::new(path).open()
    }

    /// A builder for the file at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> SledConfig {
        SledConfig::new(path)
    }

    pub(crate) fn from_config(config: SledConfig) -> Result<Self> {
        config.validate()?;
        let mut sled_config = sled::Config::new().path(&config.path);
        sled_config = match config.durability {
            // Every write flushes itself; sled's thread still flushes what others wrote.
            Durability::Immediate => sled_config.flush_every_ms(Some(500)),
            Durability::Periodic(every) => sled_config
                .flush_every_ms(Some(u64::try_from(every.as_millis()).unwrap_or(u64::MAX))),
        };
        if let Some(bytes) = config.cache_capacity {
            sled_config = sled_config.cache_capacity(bytes);
        }
        let db =
            open_waiting_for_lock(&sled_config).map_err(|e| from_sled(e).with_operation("open"))?;
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
        Ok(SledStore {
            inner: Arc::new(Inner {
                core,
                caps,
                path: config.path,
                durability: config.durability,
                _sweeper: sweeper,
            }),
        })
    }

    /// The sled directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The durability of writes.
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Make every write so far durable (fsync sled's log). Only needed with
    /// [`Durability::Periodic`]; with the default every write is already durable when acknowledged.
    pub async fn flush(&self) -> Result<()> {
        self.run("flush", "", |core| core.flush()).await
    }

    /// Bytes sled's files take on disk.
    pub async fn size_on_disk(&self) -> Result<u64> {
        self.run("size_on_disk", "", |core| core.size_on_disk())
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

/// How long `open` waits for a file lock that a just-dropped store still holds.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Open, waiting up to [`LOCK_WAIT`] for the directory's lock. sled releases it from background
/// threads shortly after the last handle of a store is dropped, so reopening right after a drop
/// in the same process would otherwise fail. A lock held by a live store still fails, after the
/// wait, as [`ErrorKind::Unavailable`].
fn open_waiting_for_lock(config: &sled::Config) -> sled::Result<sled::Db> {
    let start = std::time::Instant::now();
    loop {
        match config.open() {
            Err(e) if is_lock_error(&e) && start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

pub(crate) fn is_lock_error(err: &sled::Error) -> bool {
    matches!(err, sled::Error::Io(e) if e.to_string().contains("could not acquire lock"))
}

#[async_trait]
impl KeyValueStore for SledStore {
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
        self.run("put", collection, move |core| core.put_many(record))
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
        self.run("put_many", collection, move |core| core.put_many(records))
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
