//! [`Capabilities`]: what a store can do, declared as data.

use crate::error::Result;
use crate::rules;
use std::time::Duration;

/// How a store makes entries expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expiry {
    /// The engine removes entries exactly at their expiry (Redis `PX`). Reads never see them.
    Exact,
    /// The engine removes expired entries itself, but late (MongoDB's TTL monitor, DynamoDB's TTL
    /// sweeper); the library filters them out on read meanwhile.
    Approximate,
    /// The engine knows nothing of expiry: the library filters expired entries on read and removes
    /// them with `cull()`, eviction or a background sweeper.
    Emulated,
}

/// What a store can do, beyond the operations every store has.
///
/// Each optional operation is complete when present: `keys` returns every key (never a partial
/// first page), `destroy` removes only this store's own data. An operation whose flag is `false`
/// returns an [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) error.
///
/// ```
/// use stowage_core::{Capabilities, Expiry};
///
/// let caps = Capabilities::new(Expiry::Emulated).with_keys(true).with_max_key_len(Some(250));
/// assert!(caps.keys && !caps.destroy);
/// assert!(caps.check_key(&"k".repeat(251)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `put_if_absent(collection, key, value, ttl)` inserts atomically, only when no live entry
    /// holds the key.
    pub put_if_absent: bool,
    /// `keys(collection)` lists every live key of a collection.
    pub keys: bool,
    /// `collections()` lists every collection holding live keys.
    pub collections: bool,
    /// `destroy_collection(collection)` removes a whole collection.
    pub destroy_collection: bool,
    /// `destroy()` removes everything this store holds (and nothing else).
    pub destroy: bool,
    /// `cull()` removes expired entries now.
    pub cull: bool,
    /// How entries expire.
    pub expiry: Expiry,
    /// Longest key, in bytes, or `None` for no limit below the value size.
    pub max_key_len: Option<usize>,
    /// Longest collection name, in bytes, or `None` for no limit.
    pub max_collection_len: Option<usize>,
    /// Largest value (JSON text), in bytes, or `None` when only memory bounds it.
    pub max_value_len: Option<usize>,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident, $field:ident: $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub const fn $name(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }
    };
}

impl Capabilities {
    /// A store with no optional capabilities, no name limits, and the given expiry model.
    pub const fn new(expiry: Expiry) -> Self {
        Capabilities {
            put_if_absent: false,
            keys: false,
            collections: false,
            destroy_collection: false,
            destroy: false,
            cull: false,
            expiry,
            max_key_len: None,
            max_collection_len: None,
            max_value_len: None,
        }
    }

    /// A store with every optional capability.
    pub const fn all(expiry: Expiry) -> Self {
        Capabilities::new(expiry)
            .with_put_if_absent(true)
            .with_keys(true)
            .with_collections(true)
            .with_destroy_collection(true)
            .with_destroy(true)
            .with_cull(true)
    }

    setter!(/// Set [`Capabilities::put_if_absent`].
        with_put_if_absent, put_if_absent: bool);
    setter!(/// Set [`Capabilities::keys`].
        with_keys, keys: bool);
    setter!(/// Set [`Capabilities::collections`].
        with_collections, collections: bool);
    setter!(/// Set [`Capabilities::destroy_collection`].
        with_destroy_collection, destroy_collection: bool);
    setter!(/// Set [`Capabilities::destroy`].
        with_destroy, destroy: bool);
    setter!(/// Set [`Capabilities::cull`].
        with_cull, cull: bool);
    setter!(/// Set [`Capabilities::expiry`].
        with_expiry, expiry: Expiry);
    setter!(/// Set [`Capabilities::max_key_len`].
        with_max_key_len, max_key_len: Option<usize>);
    setter!(/// Set [`Capabilities::max_collection_len`].
        with_max_collection_len, max_collection_len: Option<usize>);
    setter!(/// Set [`Capabilities::max_value_len`].
        with_max_value_len, max_value_len: Option<usize>);

    /// Check a key against the rules and this store's key limit.
    pub fn check_key(&self, key: &str) -> Result<()> {
        rules::check_key(key, self.max_key_len)
    }

    /// Check a collection name against the rules and this store's limit.
    pub fn check_collection(&self, collection: &str) -> Result<()> {
        rules::check_collection(collection, self.max_collection_len)
    }

    /// Check a collection and a single key.
    pub fn check(&self, collection: &str, key: &str) -> Result<()> {
        self.check_collection(collection)?;
        self.check_key(key)
    }

    /// Check a collection and every key of a batch.
    pub fn check_many<'a>(
        &self,
        collection: &str,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        self.check_collection(collection)?;
        keys.into_iter().try_for_each(|k| self.check_key(k))
    }

    /// Check a TTL and a value's size against this store's limits.
    pub fn check_value(&self, value_len: usize, ttl: Option<Duration>) -> Result<()> {
        rules::check_ttl(ttl)?;
        if let Some(max) = self.max_value_len.filter(|&m| value_len > m) {
            return Err(crate::Error::new(
                crate::ErrorKind::ValueTooLarge,
                format!("value is {value_len} bytes; this store allows at most {max}"),
            ));
        }
        Ok(())
    }
}
