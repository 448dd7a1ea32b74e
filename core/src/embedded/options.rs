//! [`EmbeddedOptions`]: the settings every embedded backend shares (where its files are, the
//! largest value, the expiry sweeper, where reads run), their checks, and the builder methods
//! each backend's configuration exposes for them ([`embedded_options!`](crate::embedded_options)).

use std::path::PathBuf;
use std::time::Duration;

use super::{EmbeddedStore, Engine};
use crate::capabilities::{Capabilities, Expiry};
use crate::error::{Error, ErrorKind, Result};
use crate::read_path::ReadPath;

/// Default bound on one value's JSON text: 64 MiB.
pub const DEFAULT_MAX_VALUE_LEN: usize = 64 * 1024 * 1024;

/// The largest bound on one value a configuration accepts: 1 GiB.
pub const MAX_VALUE_LEN_LIMIT: usize = 1 << 30;

/// Default interval of the background expiry sweeper: 5 minutes.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(300);

/// What every embedded backend's configuration holds besides its engine's own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmbeddedOptions {
    /// The database file or directory.
    pub path: PathBuf,
    /// The largest value (JSON text, in bytes) a write accepts.
    pub max_value_len: usize,
    /// The interval of the background expiry sweeper; `None` runs none.
    pub sweep_interval: Option<Duration>,
    /// Where point reads run.
    pub read_path: ReadPath,
}

impl EmbeddedOptions {
    /// The defaults for a store at `path`: [`DEFAULT_MAX_VALUE_LEN`], a sweeper every
    /// [`DEFAULT_SWEEP_INTERVAL`] when `sweeper` is set, reads offloaded.
    pub fn new(path: impl Into<PathBuf>, sweeper: bool) -> Self {
        EmbeddedOptions {
            path: path.into(),
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            sweep_interval: sweeper.then_some(DEFAULT_SWEEP_INTERVAL),
            read_path: ReadPath::Offload,
        }
    }

    /// Check the settings; errors are [`ErrorKind::Config`] naming `backend`.
    pub fn validate(&self, backend: &'static str) -> Result<()> {
        let bad = |what: String| Err(Error::new(ErrorKind::Config, what).with_backend(backend));
        if self.max_value_len == 0 || self.max_value_len > MAX_VALUE_LEN_LIMIT {
            return bad(format!(
                "{backend} store: max_value_len must be between 1 and 1 GiB, got {}",
                self.max_value_len
            ));
        }
        if self.sweep_interval.is_some_and(|d| d.is_zero()) {
            return bad(format!(
                "{backend} store: sweep_interval must be greater than zero"
            ));
        }
        Ok(())
    }
}

impl<E: Engine> EmbeddedStore<E> {
    /// The store over `engine` with these options: every capability with `expiry`, the value
    /// bound, the read path, and the sweeper when one is asked for.
    pub fn with_options(
        backend: &'static str,
        engine: E,
        expiry: Expiry,
        options: &EmbeddedOptions,
    ) -> Result<Self> {
        let caps = Capabilities::all(expiry).with_max_value_len(Some(options.max_value_len));
        let mut store = EmbeddedStore::new(backend, engine, caps).with_read_path(options.read_path);
        if let Some(every) = options.sweep_interval {
            store = store.sweep_every(every)?;
        }
        Ok(store)
    }
}

/// The builder methods of [`EmbeddedOptions`], for a configuration type with a field
/// `options: EmbeddedOptions`: `max_value_len` and `read_path`, and with `sweeper` also
/// `sweep_interval` and `no_sweeper`.
///
/// ```ignore
/// impl DiskConfig {
///     stowage_core::embedded_options!(sweeper);
/// }
/// ```
#[macro_export]
macro_rules! embedded_options {
    () => {
        /// The largest value (JSON text, in bytes) a write accepts; larger ones are
        /// [`ValueTooLarge`]($crate::ErrorKind::ValueTooLarge). Default
        /// [`DEFAULT_MAX_VALUE_LEN`]($crate::embedded::DEFAULT_MAX_VALUE_LEN), at most 1 GiB.
        pub fn max_value_len(mut self, max: usize) -> Self {
            self.options.max_value_len = max;
            self
        }

        /// Where reads run: blocking in place with the worker's other tasks handed away (the
        /// default, [`ReadPath::Offload`]($crate::ReadPath::Offload)) or as a direct engine
        /// call on the calling task ([`ReadPath::Inline`]($crate::ReadPath::Inline), for
        /// read-mostly data that stays cached). Writes and scans always run on the blocking
        /// pool.
        pub fn read_path(mut self, path: $crate::ReadPath) -> Self {
            self.options.read_path = path;
            self
        }
    };
    (sweeper) => {
        $crate::embedded_options!();

        /// Remove expired entries on a background thread at this interval. Default
        /// [`DEFAULT_SWEEP_INTERVAL`]($crate::embedded::DEFAULT_SWEEP_INTERVAL). The thread holds
        /// no strong reference to the store and ends when the last handle is dropped.
        pub fn sweep_interval(mut self, every: std::time::Duration) -> Self {
            self.options.sweep_interval = Some(every);
            self
        }

        /// Run no background sweeper: expired entries are still never returned, and
        /// [`cull`]($crate::KeyValueStore::cull) removes them on demand.
        pub fn no_sweeper(mut self) -> Self {
            self.options.sweep_interval = None;
            self
        }
    };
}
