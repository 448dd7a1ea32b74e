//! Limits on the size of values written: reject them, or skip them silently.
//!
//! Sizes are the value's JSON text in bytes. A value over [`SizeLimitLayer::max`] is refused as
//! [`ValueTooLarge`](ErrorKind::ValueTooLarge) by default, or skipped (not written, no error)
//! with [`Action::Skip`] — useful in front of a cache, where an oversized answer should just
//! not be cached. A value under [`SizeLimitLayer::min`] is skipped by default. These are the
//! defaults of py-key-value's `LimitSizeWrapper`. Reads are not limited.
//!
//! A batch with a value to reject writes nothing; skipped values are left out of the batch.
//! With rejection on, the store's declared `max_value_len` becomes the limit.
//!
//! ```
//! use stowage_core::{ErrorKind, KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::size_limit::{Action, SizeLimitLayer};
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let store = MemoryStore::new().layer(SizeLimitLayer::new().max(64, Action::Skip));
//! let big = Value::from_json(format!(r#"{{"a":"{}"}}"#, "x".repeat(100)))?;
//! store.put("c", "k", big, None).await?; // skipped
//! assert!(store.get("c", "k").await?.is_none());
//! # Ok(()) }
//! ```

use std::time::Duration;

use stowage_core::{
    Capabilities, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait,
};

use crate::context::context;

/// The name this layer gives the errors it raises itself.
const LAYER: &str = "size_limit";

/// What to do with a value outside the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Fail with [`ErrorKind::ValueTooLarge`] (for a value too small, too:
    /// [`ErrorKind::InvalidValue`]).
    Reject,
    /// Do not write it, and report success.
    Skip,
}

/// Limits value sizes; see the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct SizeLimitLayer {
    max: Option<(usize, Action)>,
    min: Option<(usize, Action)>,
}

impl SizeLimitLayer {
    /// No limits yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Values over `bytes` get `action`.
    pub fn max(mut self, bytes: usize, action: Action) -> Self {
        self.max = Some((bytes, action));
        self
    }

    /// Values under `bytes` get `action`.
    pub fn min(mut self, bytes: usize, action: Action) -> Self {
        self.min = Some((bytes, action));
        self
    }

    /// `Ok(true)` to write, `Ok(false)` to skip.
    fn admit(&self, value: &Value) -> Result<bool> {
        let len = value.len();
        if let Some((max, action)) = self.max.filter(|(m, _)| len > *m) {
            return match action {
                Action::Skip => Ok(false),
                Action::Reject => Err(Error::new(
                    ErrorKind::ValueTooLarge,
                    format!("value is {len} bytes; the limit is {max}"),
                )),
            };
        }
        if let Some((min, action)) = self.min.filter(|(m, _)| len < *m) {
            return match action {
                Action::Skip => Ok(false),
                Action::Reject => Err(Error::new(
                    ErrorKind::InvalidValue,
                    format!("value is {len} bytes; the minimum is {min}"),
                )),
            };
        }
        Ok(true)
    }
}

impl<S> Layer<S> for SizeLimitLayer {
    type Store = SizeLimitStore<S>;

    fn layer(&self, inner: S) -> SizeLimitStore<S> {
        SizeLimitStore {
            inner,
            limits: *self,
        }
    }
}

/// A store with value size limits; built by [`SizeLimitLayer`].
#[derive(Debug, Clone)]
pub struct SizeLimitStore<S> {
    inner: S,
    limits: SizeLimitLayer,
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for SizeLimitStore<S> {
    stowage_core::delegate_methods!(inner => get, get_many, ttl, ttl_many, delete, delete_many, keys, collections, destroy_collection, destroy, cull);

    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        match self.limits.max {
            Some((max, Action::Reject)) => {
                inner.with_max_value_len(Some(inner.max_value_len.map_or(max, |m| m.min(max))))
            }
            _ => inner,
        }
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        if !self
            .limits
            .admit(&value)
            .map_err(context(LAYER, "put", collection))?
        {
            // Skipped, but bad input is still refused.
            self.inner
                .capabilities()
                .check(collection, key)
                .map_err(context(LAYER, "put", collection))?;
            return stowage_core::rules::check_ttl(ttl).map_err(context(LAYER, "put", collection));
        }
        self.inner.put(collection, key, value, ttl).await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let wrap = || context(LAYER, "put_if_absent", collection);
        if !self.limits.admit(&value).map_err(wrap())? {
            // A skipping limit cannot skip here: `false` would claim a live entry holds the key.
            return Err(wrap()(Error::new(
                ErrorKind::ValueTooLarge,
                format!(
                    "a value of {} bytes is outside the size limits, and an insert cannot be skipped",
                    value.len()
                ),
            )));
        }
        self.inner.put_if_absent(collection, key, value, ttl).await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let mut kept = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            if self
                .limits
                .admit(v)
                .map_err(context(LAYER, "put_many", collection))?
            {
                kept.push((*k, v.clone()));
            }
        }
        if kept.len() == entries.len() {
            return self.inner.put_many(collection, entries, ttl).await;
        }
        self.inner
            .capabilities()
            .check_many(collection, entries.iter().map(|(k, _)| *k))
            .map_err(context(LAYER, "put_many", collection))?;
        stowage_core::rules::check_ttl(ttl).map_err(context(LAYER, "put_many", collection))?;
        self.inner.put_many(collection, &kept, ttl).await
    }
}
