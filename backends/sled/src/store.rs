//! [`SledStore`]: the [`KeyValueStore`] implementation over sled.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use stowage_core::embedded::EmbeddedStore;
use stowage_core::{Expiry, ReadPath, Result};

use crate::config::{Durability, SledConfig};
use crate::core::Core;
use crate::error::{BACKEND, from_sled, is_lock_error};

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
    store: EmbeddedStore<Core>,
    path: Arc<Path>,
    durability: Durability,
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
        let mut sled_config = sled::Config::new().path(&config.options.path);
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
        let core = Core::new(db, config.durability)?;
        let store = EmbeddedStore::with_options(BACKEND, core, Expiry::Emulated, &config.options)?;
        Ok(SledStore {
            store,
            path: config.options.path.into(),
            durability: config.durability,
        })
    }

    /// The sled directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durability of writes.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Where reads run; see [`ReadPath`].
    pub fn read_path(&self) -> ReadPath {
        self.store.read_path()
    }

    /// Make every write so far durable (fsync sled's log). Only needed with
    /// [`Durability::Periodic`]; with the default every write is already durable when acknowledged.
    pub async fn flush(&self) -> Result<()> {
        self.store.run("flush", "", |core| core.flush()).await
    }

    /// Bytes sled's files take on disk.
    pub async fn size_on_disk(&self) -> Result<u64> {
        self.store
            .run("size_on_disk", "", |core| core.size_on_disk())
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

stowage_core::delegate_store!(SledStore => store);
