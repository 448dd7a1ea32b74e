//! [`RocksDbConfig`]: where and how a [`RocksDbStore`](crate::RocksDbStore) keeps its files.

use std::path::PathBuf;
use std::time::Duration;

use stowage_core::embedded::EmbeddedOptions;
use stowage_core::{Error, ErrorKind, Result};

pub use stowage_core::embedded::DEFAULT_MAX_VALUE_LEN;

/// Default age after which RocksDB recompacts an SST file even when nothing else would, so the
/// expiry filter also reaches data that no longer receives writes: 1 day.
pub const DEFAULT_PERIODIC_COMPACTION: Duration = Duration::from_secs(24 * 60 * 60);

/// What a successful write guarantees if the process or machine crashes right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Every write is appended to the write-ahead log and the log is fsynced before the write
    /// returns (`WriteOptions::set_sync(true)`): an acknowledged write survives a process crash
    /// and a power loss. The default.
    #[default]
    Sync,
    /// Every write is appended to the write-ahead log without fsync: it survives a process crash
    /// (the OS has the bytes) but a power loss or kernel crash can lose recent writes.
    Wal,
    /// No write-ahead log: writes live in the memtable until RocksDB flushes it to an SST file.
    /// A process crash loses everything since the last flush.
    None,
}

/// The configuration of a [`RocksDbStore`](crate::RocksDbStore), from
/// [`RocksDbStore::builder`](crate::RocksDbStore::builder).
///
/// ```
/// use std::time::Duration;
/// use stowage_rocksdb::{Durability, RocksDbStore};
///
/// # fn main() -> stowage_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let store = RocksDbStore::builder(dir.path().join("cache.rocksdb"))
///     // fsync the WAL on every write (the default); `Wal` survives process crashes only.
///     .durability(Durability::Sync)
///     // LZ4 block compression (the default).
///     .compression(true)
///     // Recompact idle SST files weekly so the expiry filter reaches them (default: daily).
///     .periodic_compaction(Duration::from_secs(7 * 24 * 3600))
///     // No single value over 1 MiB.
///     .max_value_len(1024 * 1024)
///     .open()?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RocksDbConfig {
    pub(crate) options: EmbeddedOptions,
    pub(crate) durability: Durability,
    pub(crate) compression: bool,
    pub(crate) periodic_compaction: Duration,
    pub(crate) write_buffer_size: Option<usize>,
}

impl RocksDbConfig {
    stowage_core::embedded_options!();

    /// The defaults, for a RocksDB directory at `path` (created when missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        RocksDbConfig {
            options: EmbeddedOptions::new(path, false),
            durability: Durability::default(),
            compression: true,
            periodic_compaction: DEFAULT_PERIODIC_COMPACTION,
            write_buffer_size: None,
        }
    }

    /// What an acknowledged write guarantees after a crash. Default [`Durability::Sync`].
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// LZ4 block compression. Default on.
    pub fn compression(mut self, on: bool) -> Self {
        self.compression = on;
        self
    }

    /// Recompact SST files older than this, so expired entries in files that receive no more
    /// writes are dropped too. Default [`DEFAULT_PERIODIC_COMPACTION`]; at least one second.
    pub fn periodic_compaction(mut self, every: Duration) -> Self {
        self.periodic_compaction = every;
        self
    }

    /// The memtable size in bytes (RocksDB's default is 64 MiB). Smaller memtables flush, and so
    /// compact and drop expired data, sooner.
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = Some(bytes);
        self
    }

    /// Open (or create) the store.
    ///
    /// Errors with [`ErrorKind::Config`] for a bad setting, [`ErrorKind::Unavailable`] when the
    /// directory is locked by another open store, and [`ErrorKind::Corrupted`] when RocksDB finds
    /// its files damaged.
    pub fn open(self) -> Result<crate::RocksDbStore> {
        crate::RocksDbStore::from_config(self)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::new(ErrorKind::Config, what).with_backend("rocksdb"));
        self.options.validate("rocksdb")?;
        if self.periodic_compaction < Duration::from_secs(1) {
            return bad("rocksdb store: periodic_compaction must be at least one second".into());
        }
        if self.write_buffer_size.is_some_and(|b| b < 64 * 1024) {
            return bad("rocksdb store: write_buffer_size must be at least 64 KiB".into());
        }
        Ok(())
    }
}
