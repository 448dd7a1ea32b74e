//! The [`KeyValueStore`] trait.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::capabilities::Capabilities;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::value::Value;

/// An async key-value store: collections of keys, each holding one JSON object and an optional
/// expiry.
///
/// This is the trait backends and wrappers implement; users usually also import
/// [`KeyValueStoreExt`](crate::KeyValueStoreExt) for collection and typed handles.
///
/// # Contract
///
/// - Every call names its collection. Names follow [`rules`](crate::rules): non-empty, no `::` in
///   a collection, within the limits in [`capabilities`](KeyValueStore::capabilities). A bad name
///   is an [`InvalidKey`](crate::ErrorKind::InvalidKey) /
///   [`InvalidCollection`](crate::ErrorKind::InvalidCollection) error, and nothing is written.
/// - A TTL of `None` never expires; a zero TTL is [`InvalidTtl`](crate::ErrorKind::InvalidTtl).
///   `put_many` applies one TTL to the whole batch.
/// - An expired entry is never returned by any read, whatever the engine's own expiry lag.
/// - Batch reads keep the order of the keys asked for, with `None` for misses; a batch with a bad
///   name writes nothing.
/// - `delete` says whether a live entry was removed; `delete_many` counts them.
/// - Optional operations (`put_if_absent`, `keys`, `collections`, `destroy_collection`,
///   `destroy`, `cull`) are
///   complete when the matching [`Capabilities`] flag is set, and return an
///   [`Unsupported`](crate::ErrorKind::Unsupported) error otherwise.
/// - Stores are `Send + Sync`; concurrent calls are safe and each call is atomic per key.
///
/// The trait is object safe: `Arc<dyn KeyValueStore>` is itself a store.
///
/// ```
/// # async fn demo(store: std::sync::Arc<dyn stowage_core::KeyValueStore>) -> stowage_core::Result<()> {
/// use std::time::Duration;
/// use stowage_core::Value;
///
/// store.put("tokens", "alice", Value::from_json(r#"{"t":"x"}"#)?, Some(Duration::from_secs(60))).await?;
/// let found = store.get_many("tokens", &["alice", "bob"]).await?;
/// assert!(found[0].is_some() && found[1].is_none());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait KeyValueStore: Send + Sync + Debug {
    /// What this store can do beyond the required operations, and its limits.
    fn capabilities(&self) -> Capabilities;

    /// The value of `key` in `collection`, or `None` when absent or expired.
    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>>;

    /// The values of `keys`, in the same order, with `None` for misses.
    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>>;

    /// The entry of `key` (value, creation and expiry time), or `None` when absent or expired.
    ///
    /// [`Entry::remaining_ttl`] gives the time left, as `py-key-value`'s `ttl()` does.
    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>>;

    /// The entries of `keys`, in the same order, with `None` for misses.
    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>>;

    /// Store `value` under `key`, replacing any previous entry, expiring after `ttl`.
    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()>;

    /// Store every `(key, value)` pair with one TTL. When a key repeats, the last pair wins.
    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()>;

    /// Store `value` under `key` only when no live entry holds it (absent, or expired), expiring
    /// after `ttl`; `true` when it stored, `false` when a live entry was there and is kept as it
    /// was (capability `put_if_absent`).
    ///
    /// Atomic: of any number of callers racing on one key — tasks, or processes sharing the
    /// engine — exactly one gets `true`. The building block for locks with a lease (the TTL) and
    /// for allocating unique ids.
    ///
    /// ```
    /// # async fn demo(store: std::sync::Arc<dyn stowage_core::KeyValueStore>) -> stowage_core::Result<()> {
    /// use std::time::Duration;
    /// use stowage_core::Value;
    ///
    /// let lease = Some(Duration::from_secs(30));
    /// let me = Value::from_json(r#"{"holder":"worker-1"}"#)?;
    /// if store.put_if_absent("locks", "refresh", me, lease).await? {
    ///     // This caller holds the lock until it deletes the key or the lease runs out.
    /// }
    /// # Ok(()) }
    /// ```
    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let _ = (collection, key, value, ttl);
        Err(Error::unsupported("put_if_absent"))
    }

    /// Remove `key`; `true` when a live entry was removed.
    async fn delete(&self, collection: &str, key: &str) -> Result<bool>;

    /// Remove `keys`; the number of live entries removed.
    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize>;

    /// Every live key of `collection` (capability `keys`), in no particular order.
    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        let _ = collection;
        Err(Error::unsupported("keys"))
    }

    /// Every collection holding live keys (capability `collections`), in no particular order.
    async fn collections(&self) -> Result<Vec<String>> {
        Err(Error::unsupported("collections"))
    }

    /// Remove every entry of `collection` (capability `destroy_collection`); `true` when it held
    /// any.
    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        let _ = collection;
        Err(Error::unsupported("destroy_collection"))
    }

    /// Remove everything this store holds, and nothing else (capability `destroy`); `true` when it
    /// held anything.
    async fn destroy(&self) -> Result<bool> {
        Err(Error::unsupported("destroy"))
    }

    /// Remove expired entries now (capability `cull`); the number removed.
    async fn cull(&self) -> Result<usize> {
        Err(Error::unsupported("cull"))
    }
}

crate::__store_impl!([S: KeyValueStore + ?Sized] Arc<S>, deref);
crate::__store_impl!([S: KeyValueStore + ?Sized] Box<S>, deref);
crate::__store_impl!([S: KeyValueStore + ?Sized] &S, deref);

/// A store shared behind a trait object.
pub type DynStore = Arc<dyn KeyValueStore>;

/// Implement [`KeyValueStore`] for a type by forwarding every method to one of its fields.
///
/// For a store type that wraps another store (an
/// [`EmbeddedStore`](crate::embedded::EmbeddedStore), say) and adds only inherent methods of its
/// own. Every method is forwarded, `capabilities` and the optional ones included.
///
/// ```
/// use stowage_core::{DynStore, KeyValueStore, Value, delegate_store};
///
/// /// A store that also knows its name.
/// #[derive(Debug)]
/// struct Named {
///     inner: DynStore,
///     name: String,
/// }
/// delegate_store!(Named => inner);
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> stowage_core::Result<()> {
/// # let memory: DynStore = std::sync::Arc::new(Tiny::default());
/// let store = Named { inner: memory, name: "cache".into() };
/// store.put("c", "k", Value::from_json(r#"{"a":1}"#)?, None).await?;
/// assert!(store.get("c", "k").await?.is_some());
/// # Ok(()) }
/// # #[derive(Debug, Default)]
/// # struct Tiny(std::sync::Mutex<Option<Value>>);
/// # #[stowage_core::async_trait]
/// # impl KeyValueStore for Tiny {
/// #     fn capabilities(&self) -> stowage_core::Capabilities { stowage_core::Capabilities::new(stowage_core::Expiry::Emulated) }
/// #     async fn get(&self, _: &str, _: &str) -> stowage_core::Result<Option<Value>> { Ok(self.0.lock().unwrap().clone()) }
/// #     async fn get_many(&self, _: &str, k: &[&str]) -> stowage_core::Result<Vec<Option<Value>>> { Ok(vec![None; k.len()]) }
/// #     async fn ttl(&self, _: &str, _: &str) -> stowage_core::Result<Option<stowage_core::Entry>> { Ok(None) }
/// #     async fn ttl_many(&self, _: &str, k: &[&str]) -> stowage_core::Result<Vec<Option<stowage_core::Entry>>> { Ok(vec![None; k.len()]) }
/// #     async fn put(&self, _: &str, _: &str, v: Value, _: Option<std::time::Duration>) -> stowage_core::Result<()> { *self.0.lock().unwrap() = Some(v); Ok(()) }
/// #     async fn put_many(&self, _: &str, _: &[(&str, Value)], _: Option<std::time::Duration>) -> stowage_core::Result<()> { Ok(()) }
/// #     async fn delete(&self, _: &str, _: &str) -> stowage_core::Result<bool> { Ok(false) }
/// #     async fn delete_many(&self, _: &str, _: &[&str]) -> stowage_core::Result<usize> { Ok(0) }
/// # }
/// ```
#[macro_export]
macro_rules! delegate_store {
    ($ty:ty => $field:ident) => {
        $crate::__store_impl!([] $ty, field $field);
    };
}

/// Forward some [`KeyValueStore`] methods to a field, inside a hand-written
/// `#[async_trait] impl KeyValueStore`.
///
/// For a wrapper that changes a few operations and passes the rest through: list the methods
/// to forward, write the others. The forwarded methods call the same method of the field and
/// return its future as it is (no box, no poll layer of their own). `capabilities` is not
/// async; list it too when it is forwarded unchanged.
///
/// ```
/// use stowage_core::{DynStore, KeyValueStore, Result, Value, async_trait, delegate_methods};
///
/// /// Counts the puts it sees; everything else goes straight through.
/// #[derive(Debug)]
/// struct CountPuts {
///     inner: DynStore,
///     puts: std::sync::atomic::AtomicUsize,
/// }
///
/// #[async_trait]
/// impl KeyValueStore for CountPuts {
///     delegate_methods!(inner => capabilities, get, get_many, ttl, ttl_many, put_many,
///         put_if_absent, delete, delete_many, keys, collections, destroy_collection, destroy,
///         cull);
///
///     async fn put(&self, collection: &str, key: &str, value: Value,
///         ttl: Option<std::time::Duration>) -> Result<()> {
///         self.puts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         self.inner.put(collection, key, value, ttl).await
///     }
/// }
/// ```
#[macro_export]
macro_rules! delegate_methods {
    ($field:ident => $($method:ident),+ $(,)?) => {
        $($crate::__store_impl!(@one (field $field) $method);)+
    };
}

/// Items the crate's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// The future a forwarded method returns, as `#[async_trait]` writes it.
    pub type BoxFuture<'a, T> =
        std::pin::Pin<Box<dyn std::future::Future<Output = crate::Result<T>> + Send + 'a>>;
}

/// The one forwarding `impl KeyValueStore` behind [`delegate_store!`] and the impls for `Arc`,
/// `Box` and `&`, and the forwarded methods of [`delegate_methods!`]: every method calls the
/// same method of the inner store, reached by `deref` (`&**self`) or `field NAME`
/// (`&self.NAME`). Each method's signature is written once, in the `@one` arms.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_impl {
    // The methods are written out as `#[async_trait]` expands them and return the inner store's
    // future as it is: forwarding adds no box and no poll layer of its own.
    ([$($generics:tt)*] $ty:ty, $($how:tt)+) => {
        #[deny(clippy::missing_trait_methods)]
        impl<$($generics)*> $crate::KeyValueStore for $ty {
            $crate::__store_impl!(@one ($($how)+) capabilities);
            $crate::__store_impl!(@one ($($how)+) get);
            $crate::__store_impl!(@one ($($how)+) get_many);
            $crate::__store_impl!(@one ($($how)+) ttl);
            $crate::__store_impl!(@one ($($how)+) ttl_many);
            $crate::__store_impl!(@one ($($how)+) put);
            $crate::__store_impl!(@one ($($how)+) put_many);
            $crate::__store_impl!(@one ($($how)+) put_if_absent);
            $crate::__store_impl!(@one ($($how)+) delete);
            $crate::__store_impl!(@one ($($how)+) delete_many);
            $crate::__store_impl!(@one ($($how)+) keys);
            $crate::__store_impl!(@one ($($how)+) collections);
            $crate::__store_impl!(@one ($($how)+) destroy_collection);
            $crate::__store_impl!(@one ($($how)+) destroy);
            $crate::__store_impl!(@one ($($how)+) cull);
        }
    };
    // Each method's signature, once.
    (@one ($($how:tt)+) capabilities) => {
        fn capabilities(&self) -> $crate::Capabilities {
            $crate::KeyValueStore::capabilities($crate::__store_impl!(@inner self, $($how)+))
        }
    };
    (@one ($($how:tt)+) get) => {
        $crate::__store_impl!(@fwd ($($how)+) get<'life1, 'life2>(
            collection: &'life1 str, key: &'life2 str) -> Option<$crate::Value>);
    };
    (@one ($($how:tt)+) get_many) => {
        $crate::__store_impl!(@fwd ($($how)+) get_many<'life1, 'life2, 'life3>(
            collection: &'life1 str, keys: &'life2 [&'life3 str]) -> Vec<Option<$crate::Value>>);
    };
    (@one ($($how:tt)+) ttl) => {
        $crate::__store_impl!(@fwd ($($how)+) ttl<'life1, 'life2>(
            collection: &'life1 str, key: &'life2 str) -> Option<$crate::Entry>);
    };
    (@one ($($how:tt)+) ttl_many) => {
        $crate::__store_impl!(@fwd ($($how)+) ttl_many<'life1, 'life2, 'life3>(
            collection: &'life1 str, keys: &'life2 [&'life3 str]) -> Vec<Option<$crate::Entry>>);
    };
    (@one ($($how:tt)+) put) => {
        $crate::__store_impl!(@fwd ($($how)+) put<'life1, 'life2>(
            collection: &'life1 str, key: &'life2 str, value: $crate::Value,
            ttl: Option<::std::time::Duration>) -> ());
    };
    (@one ($($how:tt)+) put_many) => {
        $crate::__store_impl!(@fwd ($($how)+) put_many<'life1, 'life2, 'life3>(
            collection: &'life1 str, entries: &'life2 [(&'life3 str, $crate::Value)],
            ttl: Option<::std::time::Duration>) -> ());
    };
    (@one ($($how:tt)+) put_if_absent) => {
        $crate::__store_impl!(@fwd ($($how)+) put_if_absent<'life1, 'life2>(
            collection: &'life1 str, key: &'life2 str, value: $crate::Value,
            ttl: Option<::std::time::Duration>) -> bool);
    };
    (@one ($($how:tt)+) delete) => {
        $crate::__store_impl!(@fwd ($($how)+) delete<'life1, 'life2>(
            collection: &'life1 str, key: &'life2 str) -> bool);
    };
    (@one ($($how:tt)+) delete_many) => {
        $crate::__store_impl!(@fwd ($($how)+) delete_many<'life1, 'life2, 'life3>(
            collection: &'life1 str, keys: &'life2 [&'life3 str]) -> usize);
    };
    (@one ($($how:tt)+) keys) => {
        $crate::__store_impl!(@fwd ($($how)+) keys<'life1>(collection: &'life1 str) -> Vec<String>);
    };
    (@one ($($how:tt)+) collections) => {
        $crate::__store_impl!(@fwd ($($how)+) collections<>() -> Vec<String>);
    };
    (@one ($($how:tt)+) destroy_collection) => {
        $crate::__store_impl!(@fwd ($($how)+) destroy_collection<'life1>(
            collection: &'life1 str) -> bool);
    };
    (@one ($($how:tt)+) destroy) => {
        $crate::__store_impl!(@fwd ($($how)+) destroy<>() -> bool);
    };
    (@one ($($how:tt)+) cull) => {
        $crate::__store_impl!(@fwd ($($how)+) cull<>() -> usize);
    };
    // One method: the signature `#[async_trait]` gives it (`'life0` for `&self`, one lifetime per
    // borrowed argument), forwarding to the same method of the inner store.
    (@fwd ($($how:tt)+) $name:ident<$($life:lifetime),*>($($arg:ident: $arg_ty:ty),* $(,)?) -> $out:ty) => {
        fn $name<'life0, $($life,)* 'async_trait>(
            &'life0 self,
            $($arg: $arg_ty),*
        ) -> $crate::__private::BoxFuture<'async_trait, $out>
        where
            'life0: 'async_trait,
            $($life: 'async_trait,)*
            Self: 'async_trait,
        {
            $crate::KeyValueStore::$name($crate::__store_impl!(@inner self, $($how)+), $($arg),*)
        }
    };
    (@inner $this:ident, deref) => {
        &**$this
    };
    (@inner $this:ident, field $field:ident) => {
        &$this.$field
    };
}
