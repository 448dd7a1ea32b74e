//! [`DiskStore`]: the [`KeyValueStore`] implementation over redb.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use stowage_core::embedded::EmbeddedStore;
use stowage_core::{Expiry, ReadPath, Result};

use crate::config::{DiskConfig, Durability};
use crate::core::Core;
use crate::error::{BACKEND, from_io, from_redb};

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
    store: EmbeddedStore<Core>,
    path: Arc<Path>,
    durability: Durability,
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
        if let Some(dir) = config
            .options
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| from_io("cannot create the database directory", e))?;
        }
        let mut builder = redb::Builder::new();
        if let Some(bytes) = config.cache_size {
            builder.set_cache_size(bytes);
        }
        let db = builder
            .create(&config.options.path)
            .map_err(|e| from_redb(e).with_operation("open"))?;
        let core = Core::new(db, config.durability)?;
        let store = EmbeddedStore::with_options(BACKEND, core, Expiry::Emulated, &config.options)?;
        Ok(DiskStore {
            store,
            path: config.options.path.into(),
            durability: config.durability,
        })
    }

    /// The database file.
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

    /// Make every write so far durable (an fsynced empty commit). Only needed with
    /// [`Durability::None`]; with the default every write is already durable when acknowledged.
    pub async fn flush(&self) -> Result<()> {
        self.store.run("flush", "", |core| core.flush()).await
    }
}

stowage_core::delegate_store!(DiskStore => store);
