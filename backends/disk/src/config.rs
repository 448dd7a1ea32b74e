//! [`DiskConfig`]: where and how a [`DiskStore`](crate::DiskStore) keeps its file.

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
    pub(crate) path: PathBuf,
    pub(crate) durability: Durability,
    pub(crate) cache_size: Option<usize>,
    pub(crate) max_value_len: usize,
    pub(crate) sweep_interval: Option<Duration>,
    pub(crate) read_path: ReadPath,
}

impl DiskConfig {
    /// The defaults, for a database file at `path` (created when missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DiskConfig {
            read_path: ReadPath::Offload,
            path: path.into(),
            durability: Durability::default(),
            cache_size: None,
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            sweep_interval: Some(DEFAULT_SWEEP_INTERVAL),
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

    /// The largest value (JSON text, in bytes) a write accepts; larger ones are
    /// [`ValueTooLarge`](ErrorKind::ValueTooLarge). Default [`DEFAULT_MAX_VALUE_LEN`], at most
    /// 1 GiB (redb's own limit is 3 GiB per value).
    pub fn max_value_len(mut self, max: usize) -> Self {
        self.max_value_len = max;
        self
    }

    /// Remove expired entries on a background thread at this interval. Default
    /// [`DEFAULT_SWEEP_INTERVAL`]. The thread holds no strong reference to the store and ends
    /// when the last handle is dropped.
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
        if self.max_value_len == 0 || self.max_value_len > 1 << 30 {
            return bad(format!(
                "disk store: max_value_len must be between 1 and 1 GiB, got {}",
                self.max_value_len
            ));
        }
        if self.sweep_interval.is_some_and(|d| d.is_zero()) {
            return bad("disk store: sweep_interval must be greater than zero".into());
        }
        if self.cache_size == Some(0) {
            return bad("disk store: cache_size must be greater than zero".into());
        }
        Ok(())
    }
}
