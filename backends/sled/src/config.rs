//! [`SledConfig`]: where and how a [`SledStore`](crate::SledStore) keeps its files.

use std::path::PathBuf;
use std::time::Duration;

use stowage_core::{Error, ErrorKind, ReadPath, Result};

/// Default bound on one value's JSON text: 64 MiB.
pub const DEFAULT_MAX_VALUE_LEN: usize = 64 * 1024 * 1024;

/// Default interval of the background expiry sweeper: 5 minutes.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(300);

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
    pub(crate) path: PathBuf,
    pub(crate) durability: Durability,
    pub(crate) cache_capacity: Option<u64>,
    pub(crate) max_value_len: usize,
    pub(crate) sweep_interval: Option<Duration>,
    pub(crate) read_path: ReadPath,
}

impl SledConfig {
    /// The defaults, for a sled directory at `path` (created when missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SledConfig {
            read_path: ReadPath::Offload,
            path: path.into(),
            durability: Durability::default(),
            cache_capacity: None,
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            sweep_interval: Some(DEFAULT_SWEEP_INTERVAL),
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

    /// The largest value (JSON text, in bytes) a write accepts; larger ones are
    /// [`ValueTooLarge`](ErrorKind::ValueTooLarge). Default [`DEFAULT_MAX_VALUE_LEN`], at most
    /// 1 GiB.
    pub fn max_value_len(mut self, max: usize) -> Self {
        self.max_value_len = max;
        self
    }

    /// Remove expired entries on a background thread at this interval. Default
    /// [`DEFAULT_SWEEP_INTERVAL`]. The thread ends when the last store handle is dropped.
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// Run no background sweeper: expired entries are still never returned, and
    /// [`cull`](stowage_core::KeyValueStore::cull) removes them on demand.
    pub fn no_sweeper(mut self) -> Self {
        self.sweep_interval = None;
        self
    }

    /// Where reads run: blocking in place with the worker's other tasks handed away (the
    /// default, [`ReadPath::Offload`]) or as a direct engine call on the calling task
    /// ([`ReadPath::Inline`], for read-mostly data that stays cached). Writes and scans always
    /// run on the blocking pool.
    pub fn read_path(mut self, path: ReadPath) -> Self {
        self.read_path = path;
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
        if self.max_value_len == 0 || self.max_value_len > 1 << 30 {
            return bad(format!(
                "sled store: max_value_len must be between 1 and 1 GiB, got {}",
                self.max_value_len
            ));
        }
        if self.sweep_interval.is_some_and(|d| d.is_zero()) {
            return bad("sled store: sweep_interval must be greater than zero".into());
        }
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
