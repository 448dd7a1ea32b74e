//! [`MemoryConfig`]: limits and housekeeping of a [`MemoryStore`](crate::MemoryStore).

use std::time::Duration;

use stowage_core::{Error, ErrorKind, Result};

/// Default bound on the number of entries: 100 000.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;
/// Default bound on the bytes held (keys, names, values and bookkeeping): 256 MiB.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024 * 1024;
/// Default bound on one value's JSON text: 16 MiB (never more than half of `max_bytes`).
pub const DEFAULT_MAX_VALUE_LEN: usize = 16 * 1024 * 1024;
/// Default number of lock shards: 64.
pub const DEFAULT_SHARDS: usize = 64;

/// Bookkeeping bytes charged per entry on top of its names and value.
pub(crate) const ENTRY_OVERHEAD: usize = 96;

/// The configuration of a [`MemoryStore`](crate::MemoryStore), built with
/// [`MemoryStore::builder`](crate::MemoryStore::builder).
///
/// ```
/// use std::time::Duration;
/// use stowage_memory::MemoryStore;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// let store = MemoryStore::builder()
///     // At most 10 000 entries…
///     .max_entries(10_000)
///     // …and at most 64 MiB, counting keys, names, values and bookkeeping.
///     .max_bytes(64 * 1024 * 1024)
///     // No single value over 1 MiB.
///     .max_value_len(1024 * 1024)
///     // Remove expired entries every 30 s in the background (needs a Tokio runtime).
///     .sweep_interval(Duration::from_secs(30))
///     .build()?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct MemoryConfig {
    pub(crate) max_entries: usize,
    pub(crate) max_bytes: usize,
    pub(crate) max_value_len: usize,
    pub(crate) shards: usize,
    pub(crate) sweep_interval: Option<Duration>,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            shards: DEFAULT_SHARDS,
            sweep_interval: None,
        }
    }
}

impl MemoryConfig {
    /// The most entries the store holds; past it, writes evict the least recently used entries
    /// (expired ones first). Default [`DEFAULT_MAX_ENTRIES`].
    pub fn max_entries(mut self, max: usize) -> Self {
        self.max_entries = max;
        self
    }

    /// The most bytes the store holds, counting each entry's names, value and a fixed overhead.
    /// Default [`DEFAULT_MAX_BYTES`].
    pub fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// The largest value (JSON text, in bytes) a `put` accepts; larger ones are
    /// [`ValueTooLarge`](ErrorKind::ValueTooLarge). Clamped to half of `max_bytes`.
    /// Default [`DEFAULT_MAX_VALUE_LEN`].
    pub fn max_value_len(mut self, max: usize) -> Self {
        self.max_value_len = max;
        self
    }

    /// Number of independently locked shards (rounded up to a power of two). More shards mean
    /// less contention between writers. Default [`DEFAULT_SHARDS`].
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Run a background task that removes expired entries at this interval. Off by default:
    /// expired entries are never returned, are evicted first under pressure, and
    /// [`cull`](stowage_core::KeyValueStore::cull) removes them on demand. Needs a Tokio runtime
    /// when the store is built; the task stops when the last handle to the store is dropped.
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// Build the store.
    ///
    /// Errors with [`ErrorKind::Config`] when a limit is zero, or when a sweeper is asked for
    /// outside a Tokio runtime.
    pub fn build(self) -> Result<crate::MemoryStore> {
        crate::MemoryStore::from_config(self)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let zero = |what: &str| {
            Err(Error::new(
                ErrorKind::Config,
                format!("memory store: {what} must be greater than zero"),
            )
            .with_backend("memory"))
        };
        if self.max_entries == 0 {
            return zero("max_entries");
        }
        if self.max_bytes < ENTRY_OVERHEAD * 2 {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "memory store: max_bytes must be at least {}",
                    ENTRY_OVERHEAD * 2
                ),
            )
            .with_backend("memory"));
        }
        if self.max_value_len == 0 {
            return zero("max_value_len");
        }
        if self.shards == 0 {
            return zero("shards");
        }
        if self.sweep_interval.is_some_and(|d| d.is_zero()) {
            return zero("sweep_interval");
        }
        Ok(())
    }

    pub(crate) fn effective_max_value_len(&self) -> usize {
        self.max_value_len.min(self.max_bytes / 2)
    }
}
