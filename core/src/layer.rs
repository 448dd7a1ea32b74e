//! Layers: how wrappers are put around stores.
//!
//! A wrapper is a store around a store. Its [`Layer`] holds the configuration and any shared
//! state (counters, key sets, a local tier) and builds the wrapper around an inner store;
//! [`KeyValueStoreExt::layer`](crate::KeyValueStoreExt::layer) applies it.
//!
//! A wrapper forwards every operation it does not change, including `capabilities()` (adjusted
//! where the wrapper changes what is possible) and the optional operations. Put
//! `#[deny(clippy::missing_trait_methods)]` on the wrapper's `impl KeyValueStore` so that a
//! forgotten method cannot silently fall back to the trait's "unsupported" default.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::Duration;
//! use stowage_core::{async_trait, Capabilities, Entry, KeyValueStore, Layer, Result, Value};
//!
//! /// Counts `put` calls; forwards everything.
//! #[derive(Debug, Clone, Default)]
//! struct CountPuts(Arc<AtomicU64>);
//!
//! impl<S> Layer<S> for CountPuts {
//!     type Store = Counted<S>;
//!     fn layer(&self, inner: S) -> Counted<S> {
//!         Counted { inner, puts: self.0.clone() }
//!     }
//! }
//!
//! #[derive(Debug)]
//! struct Counted<S> { inner: S, puts: Arc<AtomicU64> }
//!
//! #[async_trait]
//! #[deny(clippy::missing_trait_methods)]
//! impl<S: KeyValueStore> KeyValueStore for Counted<S> {
//!     fn capabilities(&self) -> Capabilities { self.inner.capabilities() }
//!     async fn get(&self, c: &str, k: &str) -> Result<Option<Value>> { self.inner.get(c, k).await }
//!     async fn get_many(&self, c: &str, ks: &[&str]) -> Result<Vec<Option<Value>>> { self.inner.get_many(c, ks).await }
//!     async fn ttl(&self, c: &str, k: &str) -> Result<Option<Entry>> { self.inner.ttl(c, k).await }
//!     async fn ttl_many(&self, c: &str, ks: &[&str]) -> Result<Vec<Option<Entry>>> { self.inner.ttl_many(c, ks).await }
//!     async fn put(&self, c: &str, k: &str, v: Value, t: Option<Duration>) -> Result<()> {
//!         self.puts.fetch_add(1, Ordering::Relaxed);
//!         self.inner.put(c, k, v, t).await
//!     }
//!     async fn put_many(&self, c: &str, e: &[(&str, Value)], t: Option<Duration>) -> Result<()> {
//!         self.puts.fetch_add(e.len() as u64, Ordering::Relaxed);
//!         self.inner.put_many(c, e, t).await
//!     }
//!     async fn delete(&self, c: &str, k: &str) -> Result<bool> { self.inner.delete(c, k).await }
//!     async fn delete_many(&self, c: &str, ks: &[&str]) -> Result<usize> { self.inner.delete_many(c, ks).await }
//!     async fn keys(&self, c: &str) -> Result<Vec<String>> { self.inner.keys(c).await }
//!     async fn collections(&self) -> Result<Vec<String>> { self.inner.collections().await }
//!     async fn destroy_collection(&self, c: &str) -> Result<bool> { self.inner.destroy_collection(c).await }
//!     async fn destroy(&self) -> Result<bool> { self.inner.destroy().await }
//!     async fn cull(&self) -> Result<usize> { self.inner.cull().await }
//! }
//! ```

/// Builds a wrapper store around an inner store.
///
/// The layer owns configuration and shared state; the store it returns is a cheap view. Keep a
/// clone of the layer to read its state (statistics, say) after applying it.
pub trait Layer<S> {
    /// The wrapper store produced.
    type Store;

    /// Wrap `inner`.
    fn layer(&self, inner: S) -> Self::Store;
}

/// The layer that wraps nothing: `Identity.layer(s)` is `s`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl<S> Layer<S> for Identity {
    type Store = S;

    fn layer(&self, inner: S) -> S {
        inner
    }
}

/// Two layers applied in order: `Stack(a, b).layer(s)` is `b.layer(a.layer(s))`, so `a` sits
/// closest to the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stack<A, B>(pub A, pub B);

impl<S, A, B> Layer<S> for Stack<A, B>
where
    A: Layer<S>,
    B: Layer<A::Store>,
{
    type Store = B::Store;

    fn layer(&self, inner: S) -> Self::Store {
        self.1.layer(self.0.layer(inner))
    }
}
