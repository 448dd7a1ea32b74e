//! [`SledConfig`]: where and how a [`SledStore`](crate::SledStore) keeps its files.

use std::path::PathBuf;
use std::time::Duration;

use stowage_core::embedded::EmbeddedOptions;
use stowage_core::{Error, ErrorKind, Result};

pub use stowage_core::embedded::{DEFAULT_MAX_VALUE_LEN, DEFAULT_SWEEP_INTERVAL};

/// What a successful write guarantees if the process or machine crashes right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Every write calls sled's `flush()` (its log is written and fsynced) before it returns: an
    /// acknowledged write survives a crash or power loss. The default.
    #[default]
    Immediate,
    /// Writes return once they are in sled's in-memory log; sled's own background thread flushes
    /// at this interval (sled's default is 500 ms). A crash loses up to one interval of writes.
    Periodic(Duration),
}

/// The configuration of a [`SledStore`](crate::SledStore), from
/// [`SledStore::builder`](crate::SledStore::builder).
///
/// ```
/// use std::time::Duration;
/// use stowage_sled::{Durability, SledStore};
///
/// # fn main() -> stowage_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let store = SledStore::builder(dir.path().join("cache.sled"))
///     // Flush every write (the default); `Periodic` trades crash safety for speed.
///     .durability(Durability::Immediate)
///     // Remove expired entries every minute on a background thread (default: every 5 min).
///     .sweep_interval(Duration::from_secs(60))
///     // sled's page cache, in bytes (default: sled's own, 1 GiB).
///     .cache_capacity(64 * 1024 * 1024)
///     .open()?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SledConfig {
    pub(crate) options: EmbeddedOptions,
    pub(crate) durability: Durability,
    pub(crate) cache_capacity: Option<u64>,
}

impl SledConfig {
    stowage_core::embedded_options!(sweeper);

    /// The defaults, for a sled directory at `path` (created when missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SledConfig {
            options: EmbeddedOptions::new(path, true),
            durability: Durability::default(),
            cache_capacity: None,
        }
    }

    /// What an acknowledged write guarantees after a crash. Default [`Durability::Immediate`].
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The size of sled's page cache in bytes. Default: sled's default.
    pub fn cache_capacity(mut self, bytes: u64) -> Self {
        self.cache_capacity = Some(bytes);
        self
    }

    /// Open (or create) the store.
    ///
    /// Errors with [`ErrorKind::Config`] for a bad setting, [`ErrorKind::Unavailable`] when the
    /// directory is already open by another process, and [`ErrorKind::Corrupted`] when sled finds
    /// its files damaged.
    pub fn open(self) -> Result<crate::SledStore> {
        crate::SledStore::from_config(self)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::new(ErrorKind::Config, what).with_backend("sled"));
        self.options.validate("sled")?;
        if let Durability::Periodic(d) = self.durability
            && d.as_millis() == 0
        {
            return bad("sled store: the flush interval must be at least 1 ms".into());
        }
        if self.cache_capacity == Some(0) {
            return bad("sled store: cache_capacity must be greater than zero".into());
        }
        Ok(())
    }
}
