//! A deadline for every operation.
//!
//! An operation that does not finish within the deadline is abandoned and answers
//! [`Timeout`](stowage_core::ErrorKind::Timeout), which is retryable. It may or may not have
//! taken effect; every Stowage operation is idempotent, so retrying is safe. Needs a Tokio
//! runtime with the time driver.
//!
//! See [`retry`](crate::retry) for the order of the two layers.
//!
//! ```
//! use std::time::Duration;
//! use stowage_core::KeyValueStoreExt;
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::{retry::RetryLayer, timeout::TimeoutLayer};
//!
//! // Right: each attempt gets 200 ms, and a timed-out attempt is retried.
//! let store = MemoryStore::new()
//!     .layer(TimeoutLayer::new(Duration::from_millis(200)))
//!     .layer(RetryLayer::default());
//! # drop(store);
//! ```

use std::time::Duration;

use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait,
};

/// Puts a deadline on every operation; see the [module docs](self).
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    deadline: Duration,
}

impl TimeoutLayer {
    /// A deadline of `deadline` for each operation.
    pub fn new(deadline: Duration) -> Self {
        TimeoutLayer { deadline }
    }

    /// The deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Store = TimeoutStore<S>;

    fn layer(&self, inner: S) -> TimeoutStore<S> {
        TimeoutStore {
            inner,
            deadline: self.deadline,
        }
    }
}

/// A store whose operations have a deadline; built by [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct TimeoutStore<S> {
    inner: S,
    deadline: Duration,
}

macro_rules! deadline {
    ($self:ident, $op:literal, $call:expr) => {
        match tokio::time::timeout($self.deadline, $call).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!("no answer within {:?}", $self.deadline),
            )
            .with_operation($op)),
        }
    };
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for TimeoutStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        deadline!(self, "get", self.inner.get(collection, key))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        deadline!(self, "get_many", self.inner.get_many(collection, keys))
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        deadline!(self, "ttl", self.inner.ttl(collection, key))
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        deadline!(self, "ttl_many", self.inner.ttl_many(collection, keys))
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        deadline!(self, "put", self.inner.put(collection, key, value, ttl))
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        // On a timeout the insert may or may not have happened; the error says only that.
        deadline!(
            self,
            "put_if_absent",
            self.inner.put_if_absent(collection, key, value, ttl)
        )
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        deadline!(
            self,
            "put_many",
            self.inner.put_many(collection, entries, ttl)
        )
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        deadline!(self, "delete", self.inner.delete(collection, key))
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        deadline!(
            self,
            "delete_many",
            self.inner.delete_many(collection, keys)
        )
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        deadline!(self, "keys", self.inner.keys(collection))
    }

    async fn collections(&self) -> Result<Vec<String>> {
        deadline!(self, "collections", self.inner.collections())
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        deadline!(
            self,
            "destroy_collection",
            self.inner.destroy_collection(collection)
        )
    }

    async fn destroy(&self) -> Result<bool> {
        deadline!(self, "destroy", self.inner.destroy())
    }

    async fn cull(&self) -> Result<usize> {
        deadline!(self, "cull", self.inner.cull())
    }
}
