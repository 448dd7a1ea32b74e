//! [`DiskConfig`]: where and how a [`DiskStore`](crate::DiskStore) keeps its file.

use std::path::PathBuf;

use stowage_core::embedded::EmbeddedOptions;
use stowage_core::{Error, ErrorKind, Result};

pub use stowage_core::embedded::{DEFAULT_MAX_VALUE_LEN, DEFAULT_SWEEP_INTERVAL};

/// What a successful write guarantees if the process or machine crashes right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Every write transaction is fsynced before `put`/`put_many`/`delete` returns (redb
    /// `Durability::Immediate`): an acknowledged write survives a crash or power loss. The default.
    #[default]
    Immediate,
    /// Writes are committed in memory only (redb `Durability::None`) and reach the disk with the
    /// next immediate commit: [`DiskStore::flush`](crate::DiskStore::flush), a `cull`, or a
    /// `destroy`. A crash loses every write since then; the file itself stays consistent. Much
    /// faster for caches that can be rebuilt.
    None,
}

/// The configuration of a [`DiskStore`](crate::DiskStore), from
/// [`DiskStore::builder`](crate::DiskStore::builder).
///
/// ```
/// use std::time::Duration;
/// use stowage_disk::{DiskStore, Durability};
///
/// # fn main() -> stowage_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let store = DiskStore::builder(dir.path().join("cache.redb"))
///     // fsync every write (the default); `Durability::None` trades crash safety for speed.
///     .durability(Durability::Immediate)
///     // Remove expired entries every minute on a background thread (default: every 5 min).
///     .sweep_interval(Duration::from_secs(60))
///     // redb's page cache, in bytes (default: redb's own, 1 GiB).
///     .cache_size(64 * 1024 * 1024)
///     // No single value over 1 MiB.
///     .max_value_len(1024 * 1024)
///     .open()?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct DiskConfig {
    pub(crate) options: EmbeddedOptions,
    pub(crate) durability: Durability,
    pub(crate) cache_size: Option<usize>,
}

impl DiskConfig {
    stowage_core::embedded_options!(sweeper);

    /// The defaults, for a database file at `path` (created when missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DiskConfig {
            options: EmbeddedOptions::new(path, true),
            durability: Durability::default(),
            cache_size: None,
        }
    }

    /// What an acknowledged write guarantees after a crash. Default [`Durability::Immediate`].
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The size of redb's page cache in bytes. Default: redb's default.
    pub fn cache_size(mut self, bytes: usize) -> Self {
        self.cache_size = Some(bytes);
        self
    }

    /// Open (or create) the database file.
    ///
    /// Errors with [`ErrorKind::Config`] for a bad setting, [`ErrorKind::Unavailable`] when the
    /// file is already open (in this or another process), and [`ErrorKind::Corrupted`] when the
    /// file is not a readable redb database.
    pub fn open(self) -> Result<crate::DiskStore> {
        crate::DiskStore::from_config(self)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::new(ErrorKind::Config, what).with_backend("disk"));
        self.options.validate("disk")?;
        if self.cache_size == Some(0) {
            return bad("disk store: cache_size must be greater than zero".into());
        }
        Ok(())
    }
}
