//! Retry with exponential backoff, on retryable errors only.
//!
//! A call failing with an error whose [`is_retryable`](stowage_core::Error::is_retryable) is
//! true ([`Timeout`](stowage_core::ErrorKind::Timeout),
//! [`Unavailable`](stowage_core::ErrorKind::Unavailable)) is tried again after a delay that
//! starts at [`RetryBuilder::initial_delay`] and is multiplied by
//! [`RetryBuilder::multiplier`] each time, up to [`RetryBuilder::max_delay`], with random jitter.
//! Every other error (bad input, corrupted data, decryption failure…) is returned at once. Every
//! Stowage operation is idempotent, so writes are retried too. `put_if_absent` is not, quite: an
//! attempt may insert and still fail to answer, so a retry that then finds a live value equal to
//! its own reports the insert as its own. Give callers racing on a key distinct values (a holder
//! id), and the one winner stays one.
//!
//! **Order with a timeout**: put the [timeout](crate::timeout) *inside* the retry
//! (`store.layer(timeout).layer(retry)`) so each attempt has its own deadline and a timed-out
//! attempt is retried. The other way round, the deadline covers all attempts together.
//!
//! ```
//! use std::time::Duration;
//! use stowage_core::KeyValueStoreExt;
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::retry::RetryLayer;
//!
//! let store = MemoryStore::new().layer(
//!     RetryLayer::builder()
//!         // At most 3 more attempts after the first…
//!         .max_retries(3)
//!         // …waiting 50 ms, then 100 ms, then 200 ms (each ±25% jitter)…
//!         .initial_delay(Duration::from_millis(50))
//!         .multiplier(2.0)
//!         // …but never more than 1 s between attempts.
//!         .max_delay(Duration::from_secs(1))
//!         .build(),
//! );
//! # drop(store);
//! ```

use std::sync::Arc;
use std::time::Duration;

use stowage_core::{Capabilities, Entry, KeyValueStore, Layer, Result, Value, async_trait};

/// Builds a [`RetryLayer`].
#[derive(Debug, Clone)]
#[must_use]
pub struct RetryBuilder {
    max_retries: u32,
    initial_delay: Duration,
    max_delay: Duration,
    multiplier: f64,
    jitter: bool,
}

impl Default for RetryBuilder {
    fn default() -> Self {
        RetryBuilder {
            max_retries: 3,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: true,
        }
    }
}

impl RetryBuilder {
    /// Attempts after the first. Default 3.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The delay before the first retry. Default 100 ms.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// The longest delay between attempts. Default 10 s.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Growth of the delay per attempt; values below 1 (and NaN) count as 1. Default 2.
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = if m >= 1.0 { m } else { 1.0 };
        self
    }

    /// Spread each delay randomly by ±25%, so clients do not retry in lockstep. Default on.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// Build the layer.
    pub fn build(self) -> RetryLayer {
        RetryLayer {
            config: Arc::new(self),
        }
    }
}

/// Retries retryable failures; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct RetryLayer {
    config: Arc<RetryBuilder>,
}

impl RetryLayer {
    /// A builder with the defaults (3 retries, 100 ms doubling up to 10 s, jitter).
    pub fn builder() -> RetryBuilder {
        RetryBuilder::default()
    }

    /// The delay before retry number `attempt` (0 for the first retry), without jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let c = &self.config;
        let factor = c.multiplier.powi(attempt.min(1000) as i32);
        let secs = c.initial_delay.as_secs_f64() * factor;
        if secs.is_finite() && secs < c.max_delay.as_secs_f64() {
            Duration::from_secs_f64(secs)
        } else {
            c.max_delay
        }
    }

    fn jittered(&self, attempt: u32) -> Duration {
        let d = self.delay(attempt);
        if self.config.jitter {
            d.mul_f64(0.75 + fastrand::f64() * 0.5)
        } else {
            d
        }
    }
}

impl Default for RetryLayer {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl<S> Layer<S> for RetryLayer {
    type Store = RetryStore<S>;

    fn layer(&self, inner: S) -> RetryStore<S> {
        RetryStore {
            inner,
            layer: self.clone(),
        }
    }
}

/// A store that retries retryable failures; built by [`RetryLayer`].
#[derive(Debug, Clone)]
pub struct RetryStore<S> {
    inner: S,
    layer: RetryLayer,
}

macro_rules! retry {
    ($self:ident, $call:expr) => {{
        let mut attempt = 0u32;
        loop {
            match $call.await {
                Err(e) if e.is_retryable() && attempt < $self.layer.config.max_retries => {
                    tracing::debug!(attempt, error = %e, "stowage: retrying");
                    tokio::time::sleep($self.layer.jittered(attempt)).await;
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for RetryStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        retry!(self, self.inner.get(collection, key))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        retry!(self, self.inner.get_many(collection, keys))
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        retry!(self, self.inner.ttl(collection, key))
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        retry!(self, self.inner.ttl_many(collection, keys))
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        retry!(self, self.inner.put(collection, key, value.clone(), ttl))
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        // A retry after a failed attempt may find that attempt's own insert (its answer was
        // lost): a live value equal to this call's then counts as this call's insert.
        let mut attempt = 0u32;
        loop {
            match self
                .inner
                .put_if_absent(collection, key, value.clone(), ttl)
                .await
            {
                Ok(false) if attempt > 0 => {
                    let found = retry!(self, self.inner.get(collection, key))?;
                    return Ok(found.is_some_and(|found| found.to_map() == value.to_map()));
                }
                Err(e) if e.is_retryable() && attempt < self.layer.config.max_retries => {
                    tracing::debug!(attempt, error = %e, "stowage: retrying");
                    tokio::time::sleep(self.layer.jittered(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        retry!(self, self.inner.put_many(collection, entries, ttl))
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        retry!(self, self.inner.delete(collection, key))
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        retry!(self, self.inner.delete_many(collection, keys))
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        retry!(self, self.inner.keys(collection))
    }

    async fn collections(&self) -> Result<Vec<String>> {
        retry!(self, self.inner.collections())
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        retry!(self, self.inner.destroy_collection(collection))
    }

    async fn destroy(&self) -> Result<bool> {
        retry!(self, self.inner.destroy())
    }

    async fn cull(&self) -> Result<usize> {
        retry!(self, self.inner.cull())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_cap() {
        let layer = RetryLayer::builder()
            .initial_delay(Duration::from_millis(10))
            .max_delay(Duration::from_millis(50))
            .build();
        assert_eq!(layer.delay(0), Duration::from_millis(10));
        assert_eq!(layer.delay(1), Duration::from_millis(20));
        assert_eq!(layer.delay(2), Duration::from_millis(40));
        assert_eq!(layer.delay(3), Duration::from_millis(50));
        assert_eq!(layer.delay(u32::MAX), Duration::from_millis(50));
    }
}
