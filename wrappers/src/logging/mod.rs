//! Log every operation through [`tracing`].
//!
//! One event per operation, when it finishes, with target `stowage`: the operation, the
//! collection, the key (or the number of keys and the first few), the outcome (hit or miss,
//! counts, or the error) and the time taken. Failed operations are logged at `WARN`, the rest at
//! the chosen level (`DEBUG` by default).
//!
//! Values are **not** logged unless [`LoggingLayer::log_values`] is turned on; keys are logged
//! unless [`LoggingLayer::log_keys`] is turned off (turn it off when keys themselves are
//! secrets, such as raw tokens). Errors are logged by their message, which never holds values
//! or key material.
//!
//! ```
//! use tracing::Level;
//! use stowage_core::KeyValueStoreExt;
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::logging::LoggingLayer;
//!
//! let store = MemoryStore::new().layer(LoggingLayer::new().level(Level::INFO).log_keys(false));
//! # drop(store);
//! ```

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use stowage_core::{Capabilities, Entry, KeyValueStore, Layer, Result, Value, async_trait};
use tracing::Level;

/// How many keys of a batch are named in a log event.
const KEYS_SHOWN: usize = 5;

/// Logs operations; see the [module docs](self).
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct LoggingLayer {
    level: Level,
    log_values: bool,
    log_keys: bool,
}

impl Default for LoggingLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl LoggingLayer {
    /// Log at `DEBUG`, keys shown, values hidden.
    pub fn new() -> Self {
        LoggingLayer {
            level: Level::DEBUG,
            log_values: false,
            log_keys: true,
        }
    }

    /// The level of successful operations. Failures are always `WARN`.
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Include values in events (JSON text). Off by default: values often hold secrets.
    pub fn log_values(mut self, on: bool) -> Self {
        self.log_values = on;
        self
    }

    /// Include keys in events. On by default.
    pub fn log_keys(mut self, on: bool) -> Self {
        self.log_keys = on;
        self
    }
}

impl<S> Layer<S> for LoggingLayer {
    type Store = LoggingStore<S>;

    fn layer(&self, inner: S) -> LoggingStore<S> {
        LoggingStore {
            inner,
            config: *self,
        }
    }
}

/// A store that logs its operations; built by [`LoggingLayer`].
#[derive(Debug, Clone)]
pub struct LoggingStore<S> {
    inner: S,
    config: LoggingLayer,
}

macro_rules! event_at {
    ($level:expr, $($field:tt)*) => {
        match $level {
            Level::ERROR => tracing::event!(target: "stowage", Level::ERROR, $($field)*),
            Level::WARN => tracing::event!(target: "stowage", Level::WARN, $($field)*),
            Level::INFO => tracing::event!(target: "stowage", Level::INFO, $($field)*),
            Level::DEBUG => tracing::event!(target: "stowage", Level::DEBUG, $($field)*),
            _ => tracing::event!(target: "stowage", Level::TRACE, $($field)*),
        }
    };
}

fn enabled(level: Level) -> bool {
    match level {
        Level::ERROR => tracing::enabled!(target: "stowage", Level::ERROR),
        Level::WARN => tracing::enabled!(target: "stowage", Level::WARN),
        Level::INFO => tracing::enabled!(target: "stowage", Level::INFO),
        Level::DEBUG => tracing::enabled!(target: "stowage", Level::DEBUG),
        _ => tracing::enabled!(target: "stowage", Level::TRACE),
    }
}

impl<S> LoggingStore<S> {
    fn keys_text(&self, keys: &[&str]) -> String {
        if !self.config.log_keys {
            return format!("<{} hidden>", keys.len());
        }
        let mut text = keys
            .iter()
            .take(KEYS_SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if keys.len() > KEYS_SHOWN {
            let _ = write!(text, ", … ({} keys)", keys.len());
        }
        text
    }

    fn values_text<'a>(&self, values: impl IntoIterator<Item = Option<&'a Value>>) -> String {
        if !self.config.log_values || !enabled(self.config.level) {
            return String::from("<hidden>");
        }
        values
            .into_iter()
            .map(|v| v.map_or("null", Value::as_str))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn log<T>(
        &self,
        (op, collection, keys, started): (&'static str, &str, &[&str], Instant),
        result: &Result<T>,
        outcome: impl FnOnce(&T) -> String,
        values: impl FnOnce(&T) -> String,
    ) {
        let wanted = if result.is_ok() {
            self.config.level
        } else {
            Level::WARN
        };
        if !enabled(wanted) {
            return;
        }
        let elapsed_us = started.elapsed().as_micros() as u64;
        let keys = self.keys_text(keys);
        match result {
            Ok(v) => {
                let outcome = outcome(v);
                let values = values(v);
                event_at!(
                    self.config.level,
                    op,
                    collection,
                    keys = %keys,
                    outcome = %outcome,
                    values = %values,
                    elapsed_us,
                    "stowage {op}"
                );
            }
            Err(e) => {
                tracing::event!(
                    target: "stowage",
                    Level::WARN,
                    op,
                    collection,
                    keys = %keys,
                    error = %e,
                    elapsed_us,
                    "stowage {op} failed"
                );
            }
        }
    }
}

fn found<T>(v: &[Option<T>]) -> String {
    let hits = v.iter().filter(|x| x.is_some()).count();
    format!("{hits} hits, {} misses", v.len() - hits)
}

fn hit<T>(v: &Option<T>) -> String {
    if v.is_some() { "hit" } else { "miss" }.to_owned()
}

fn none<T>(_: &T) -> String {
    String::new()
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for LoggingStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        let t = Instant::now();
        let r = self.inner.get(collection, key).await;
        self.log(("get", collection, &[key], t), &r, hit, |v| {
            self.values_text([v.as_ref()])
        });
        r
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let t = Instant::now();
        let r = self.inner.get_many(collection, keys).await;
        self.log(
            ("get_many", collection, keys, t),
            &r,
            |v| found(v),
            |v| self.values_text(v.iter().map(Option::as_ref)),
        );
        r
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        let t = Instant::now();
        let r = self.inner.ttl(collection, key).await;
        self.log(
            ("ttl", collection, &[key], t),
            &r,
            |e| match e {
                Some(e) => format!("hit, ttl {:?}", e.remaining_ttl()),
                None => "miss".into(),
            },
            |e| self.values_text([e.as_ref().map(|e| &e.value)]),
        );
        r
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let t = Instant::now();
        let r = self.inner.ttl_many(collection, keys).await;
        self.log(
            ("ttl_many", collection, keys, t),
            &r,
            |v| found(v),
            |v| self.values_text(v.iter().map(|e| e.as_ref().map(|e| &e.value))),
        );
        r
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let t = Instant::now();
        let shown = self.values_text([Some(&value)]);
        let r = self.inner.put(collection, key, value, ttl).await;
        self.log(
            ("put", collection, &[key], t),
            &r,
            |_| format!("ttl {ttl:?}"),
            |_| shown,
        );
        r
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let t = Instant::now();
        let shown = self.values_text([Some(&value)]);
        let r = self.inner.put_if_absent(collection, key, value, ttl).await;
        self.log(
            ("put_if_absent", collection, &[key], t),
            &r,
            |inserted| format!("ttl {ttl:?}, inserted {inserted}"),
            |_| shown,
        );
        r
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let t = Instant::now();
        let r = self.inner.put_many(collection, entries, ttl).await;
        let keys: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
        self.log(
            ("put_many", collection, &keys, t),
            &r,
            |_| format!("{} entries, ttl {ttl:?}", entries.len()),
            |_| self.values_text(entries.iter().map(|(_, v)| Some(v))),
        );
        r
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        let t = Instant::now();
        let r = self.inner.delete(collection, key).await;
        self.log(
            ("delete", collection, &[key], t),
            &r,
            |d| format!("removed: {d}"),
            none,
        );
        r
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        let t = Instant::now();
        let r = self.inner.delete_many(collection, keys).await;
        self.log(
            ("delete_many", collection, keys, t),
            &r,
            |n| format!("{n} removed"),
            none,
        );
        r
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        let t = Instant::now();
        let r = self.inner.keys(collection).await;
        self.log(
            ("keys", collection, &[], t),
            &r,
            |k| format!("{} keys", k.len()),
            none,
        );
        r
    }

    async fn collections(&self) -> Result<Vec<String>> {
        let t = Instant::now();
        let r = self.inner.collections().await;
        self.log(
            ("collections", "", &[], t),
            &r,
            |c| format!("{} collections", c.len()),
            none,
        );
        r
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        let t = Instant::now();
        let r = self.inner.destroy_collection(collection).await;
        self.log(
            ("destroy_collection", collection, &[], t),
            &r,
            |d| format!("removed: {d}"),
            none,
        );
        r
    }

    async fn destroy(&self) -> Result<bool> {
        let t = Instant::now();
        let r = self.inner.destroy().await;
        self.log(
            ("destroy", "", &[], t),
            &r,
            |d| format!("removed: {d}"),
            none,
        );
        r
    }

    async fn cull(&self) -> Result<usize> {
        let t = Instant::now();
        let r = self.inner.cull().await;
        self.log(("cull", "", &[], t), &r, |n| format!("{n} removed"), none);
        r
    }
}
