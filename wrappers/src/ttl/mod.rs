//! Default and clamped TTLs for writes.
//!
//! - A **default TTL** is given to writes that pass none.
//! - TTLs are **clamped** between a minimum and a maximum.
//!
//! The TTL a caller passes is checked first (zero or past
//! [`MAX_TTL`](stowage_core::rules::MAX_TTL) is still [`InvalidTtl`](ErrorKind::InvalidTtl)),
//! then clamped; reads pass through unchanged. This is py-key-value's `TTLClampWrapper` (its
//! `missing_ttl` is the default TTL here).
//!
//! ```
//! use std::time::Duration;
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::ttl::TtlLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let store = MemoryStore::new().layer(
//!     TtlLayer::builder()
//!         // Writes without a TTL expire after an hour…
//!         .default_ttl(Duration::from_secs(3600))
//!         // …and no entry lives longer than a day or shorter than a minute.
//!         .max(Duration::from_secs(86_400))
//!         .min(Duration::from_secs(60))
//!         .build()?,
//! );
//! store.put("c", "k", Value::empty(), None).await?;
//! let left = store.ttl("c", "k").await?.unwrap().remaining_ttl().unwrap();
//! assert!(left <= Duration::from_secs(3600) && left > Duration::from_secs(3500));
//!
//! store.put("c", "k", Value::empty(), Some(Duration::from_secs(1))).await?;
//! let left = store.ttl("c", "k").await?.unwrap().remaining_ttl().unwrap();
//! assert!(left > Duration::from_secs(50), "raised to the minimum");
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use stowage_core::{Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait, rules};

use crate::context::context;

/// The name this layer gives the errors it raises itself.
const LAYER: &str = "ttl";

/// Builds a [`TtlLayer`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct TtlBuilder {
    default_ttl: Option<Duration>,
    min: Option<Duration>,
    max: Option<Duration>,
}

impl TtlBuilder {
    /// The TTL given to writes that pass none. Default: none (such entries never expire).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// The shortest TTL a write may set; shorter ones are raised to it. Default: no minimum.
    pub fn min(mut self, min: Duration) -> Self {
        self.min = Some(min);
        self
    }

    /// The longest TTL a write may set; longer ones are lowered to it. Default: no maximum.
    /// A write without TTL (and without a default) still never expires.
    pub fn max(mut self, max: Duration) -> Self {
        self.max = Some(max);
        self
    }

    /// Build the layer. Errors with [`ErrorKind::Config`] when a TTL is zero or past
    /// [`MAX_TTL`](rules::MAX_TTL), or when the minimum exceeds the maximum. The default TTL is
    /// clamped like any other.
    pub fn build(self) -> Result<TtlLayer> {
        for ttl in [self.default_ttl, self.min, self.max] {
            rules::check_ttl(ttl).map_err(|e| {
                Error::new(ErrorKind::Config, format!("TTL layer: {}", e.message()))
            })?;
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(Error::new(
                ErrorKind::Config,
                "TTL layer: the minimum TTL is longer than the maximum",
            ));
        }
        Ok(TtlLayer {
            config: Arc::new(self),
        })
    }
}

/// Gives writes a default TTL and clamps their TTLs; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct TtlLayer {
    config: Arc<TtlBuilder>,
}

impl TtlLayer {
    /// A builder with no default, no minimum and no maximum.
    pub fn builder() -> TtlBuilder {
        TtlBuilder::default()
    }

    /// The TTL a write with `ttl` gets: checked, defaulted, clamped.
    pub fn effective_ttl(&self, ttl: Option<Duration>) -> Result<Option<Duration>> {
        rules::check_ttl(ttl)?;
        let c = &self.config;
        Ok(ttl.or(c.default_ttl).map(|t| {
            let t = c.max.map_or(t, |max| t.min(max));
            c.min.map_or(t, |min| t.max(min))
        }))
    }
}

impl<S> Layer<S> for TtlLayer {
    type Store = TtlStore<S>;

    fn layer(&self, inner: S) -> TtlStore<S> {
        TtlStore {
            inner,
            layer: self.clone(),
        }
    }
}

/// A store whose writes get default and clamped TTLs; built by [`TtlLayer`].
#[derive(Debug, Clone)]
pub struct TtlStore<S> {
    inner: S,
    layer: TtlLayer,
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for TtlStore<S> {
    stowage_core::delegate_methods!(inner => capabilities, get, get_many, ttl, ttl_many, delete, delete_many, keys, collections, destroy_collection, destroy, cull);

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let ttl = self
            .layer
            .effective_ttl(ttl)
            .map_err(context(LAYER, "put", collection))?;
        self.inner.put(collection, key, value, ttl).await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let ttl =
            self.layer
                .effective_ttl(ttl)
                .map_err(context(LAYER, "put_if_absent", collection))?;
        self.inner.put_if_absent(collection, key, value, ttl).await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let ttl = self
            .layer
            .effective_ttl(ttl)
            .map_err(context(LAYER, "put_many", collection))?;
        self.inner.put_many(collection, entries, ttl).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_and_defaults() {
        let s = Duration::from_secs;
        let layer = TtlLayer::builder()
            .default_ttl(s(50))
            .min(s(10))
            .max(s(100))
            .build()
            .unwrap();
        assert_eq!(layer.effective_ttl(None).unwrap(), Some(s(50)));
        assert_eq!(layer.effective_ttl(Some(s(1))).unwrap(), Some(s(10)));
        assert_eq!(layer.effective_ttl(Some(s(1000))).unwrap(), Some(s(100)));
        assert_eq!(layer.effective_ttl(Some(s(42))).unwrap(), Some(s(42)));
        assert!(layer.effective_ttl(Some(Duration::ZERO)).is_err());
        let none = TtlLayer::builder().max(s(5)).build().unwrap();
        assert_eq!(none.effective_ttl(None).unwrap(), None);
    }

    #[test]
    fn bad_configs_are_refused() {
        let s = Duration::from_secs;
        assert!(TtlLayer::builder().min(s(10)).max(s(5)).build().is_err());
        assert!(
            TtlLayer::builder()
                .default_ttl(Duration::ZERO)
                .build()
                .is_err()
        );
        assert!(TtlLayer::builder().max(Duration::MAX).build().is_err());
    }
}
