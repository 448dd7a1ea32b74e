//! [`RocksDbStore`]: the [`KeyValueStore`] implementation over RocksDB.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use stowage_core::embedded::EmbeddedStore;
use stowage_core::{Error, ErrorKind, Expiry, ReadPath, Result};

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
    store: EmbeddedStore<Core>,
    path: Arc<Path>,
    durability: Durability,
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
        if let Some(dir) = config
            .options
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
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
        let db = rocksdb::DB::open(&opts, &config.options.path)
            .map_err(|e| from_rocks(e).with_operation("open"))?;
        let core = Core::new(db, config.durability);
        let store =
            EmbeddedStore::with_options(BACKEND, core, Expiry::Approximate, &config.options)?;
        Ok(RocksDbStore {
            store,
            path: config.options.path.into(),
            durability: config.durability,
        })
    }

    /// The RocksDB directory.
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

    /// Flush the memtable to an SST file and fsync the WAL: everything written so far is on
    /// disk, whatever the [`Durability`].
    pub async fn flush(&self) -> Result<()> {
        self.store.run("flush", "", |core| core.flush()).await
    }

    /// Compact the whole database now. The expiry filter drops every expired entry and the space
    /// of deleted entries is reclaimed. RocksDB also does this on its own as data is written, and
    /// for idle files every [`periodic_compaction`](RocksDbConfig::periodic_compaction).
    pub async fn compact(&self) -> Result<()> {
        self.store
            .run("compact", "", |core| {
                core.compact();
                Ok(())
            })
            .await
    }
}

stowage_core::delegate_store!(RocksDbStore => store);
