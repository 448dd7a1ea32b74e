//! Fernet encryption at rest, compatible with py-key-value's `FernetEncryptionWrapper`.
//!
//! Every value is encrypted before it reaches the inner store and decrypted on the way back.
//! Keys, collection names and expiry stay in clear. The stored value is exactly what the Python
//! wrapper writes:
//!
//! ```text
//! {"__encrypted_data__":"<base64 of the Fernet token>","__encryption_version__":1}
//! ```
//!
//! so a Python service and a Rust one can share an encrypted store.
//!
//! - **Keys**: raw Fernet keys ([`FernetKey::from_base64`]) or keys derived from source material
//!   and a salt ([`FernetKey::derive`], the same PBKDF2 derivation as py-key-value).
//! - **Rotation**: several keys; the first encrypts, any decrypts. Put a new key first, keep the
//!   old ones after it, run [`FernetLayer::reencrypt_collection`] (or
//!   [`FernetStore::reencrypt_all`]), then drop the old keys.
//! - **Failures**: a value no key opens is [`DecryptionFailed`](ErrorKind::DecryptionFailed); a
//!   malformed envelope or an unknown envelope version is [`Corrupted`](ErrorKind::Corrupted).
//!   With [`FernetBuilder::miss_on_failure`] both read as a miss instead (as Python's
//!   `raise_on_decryption_error=False`).
//! - **Plaintext**: a stored value that is not an envelope is refused as `DecryptionFailed`
//!   unless [`FernetBuilder::accept_plaintext`] is set (Python accepts it silently; here it is an
//!   opt-in for migrating unencrypted data, since accepting it lets anyone with write access to
//!   the backend plant values).
//! - Key material never appears in `Debug` output, errors or logs.
//!
//! ```
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::fernet::{FernetKey, FernetLayer};
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let raw = MemoryStore::new();
//! let key = FernetKey::from_base64(&FernetKey::generate_text())?;
//! let store = raw.clone().layer(FernetLayer::builder().key(key).build()?);
//!
//! store.put("tokens", "alice", Value::from_json(r#"{"access":"secret"}"#)?, None).await?;
//! assert_eq!(store.get("tokens", "alice").await?.unwrap().as_str(), r#"{"access":"secret"}"#);
//!
//! // The inner store only ever sees the envelope.
//! let stored = raw.get("tokens", "alice").await?.unwrap();
//! assert!(stored.as_str().starts_with(r#"{"__encrypted_data__":"#));
//! assert!(!stored.as_str().contains("secret"));
//! # Ok(()) }
//! ```

mod codec;
mod key;
mod reencrypt;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait,
};

pub use codec::{ENCRYPTED_DATA_KEY, ENCRYPTION_VERSION, ENCRYPTION_VERSION_KEY};
pub use key::{FernetKey, KDF_ITERATIONS};
pub use reencrypt::ReencryptReport;

use codec::{Cipher, Opened};

/// Builds a [`FernetLayer`]. Start with [`FernetLayer::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct FernetBuilder {
    keys: Vec<FernetKey>,
    miss_on_failure: bool,
    accept_plaintext: bool,
}

impl FernetBuilder {
    /// Add a key. The first key added encrypts; every key decrypts, tried in order.
    pub fn key(mut self, key: FernetKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Add several keys, in order.
    pub fn keys(mut self, keys: impl IntoIterator<Item = FernetKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// Read a value that cannot be decrypted (or whose envelope is malformed or of an unknown
    /// version) as a miss instead of an error. Default `false`: such reads are errors.
    pub fn miss_on_failure(mut self, miss: bool) -> Self {
        self.miss_on_failure = miss;
        self
    }

    /// Return stored values that are not encrypted envelopes as they are, as py-key-value does.
    /// Default `false`: they are refused as [`DecryptionFailed`](ErrorKind::DecryptionFailed).
    /// Turn it on while migrating an unencrypted store, then run the re-encrypt helper.
    pub fn accept_plaintext(mut self, accept: bool) -> Self {
        self.accept_plaintext = accept;
        self
    }

    /// Build the layer. Errors with [`ErrorKind::Config`] when no key was given.
    pub fn build(self) -> Result<FernetLayer> {
        if self.keys.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "a Fernet layer needs at least one key",
            ));
        }
        Ok(FernetLayer {
            shared: Arc::new(Shared {
                cipher: Cipher::new(self.keys),
                miss_on_failure: self.miss_on_failure,
                accept_plaintext: self.accept_plaintext,
            }),
        })
    }
}

struct Shared {
    cipher: Cipher,
    miss_on_failure: bool,
    accept_plaintext: bool,
}

impl Shared {
    /// Decrypt a stored value for a read: `None` when configured to miss on failure.
    fn read(&self, stored: Value) -> Result<Option<Value>> {
        match self.open(&stored) {
            Ok((value, _)) => Ok(Some(value)),
            Err(_) if self.miss_on_failure => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Open a stored value; the key index is `None` for accepted plaintext.
    fn open(&self, stored: &Value) -> Result<(Value, Option<usize>)> {
        match self.cipher.open(stored)? {
            Opened::Decrypted(value, index) => Ok((value, Some(index))),
            Opened::Plaintext(value) if self.accept_plaintext => Ok((value, None)),
            Opened::Plaintext(_) => Err(Error::new(
                ErrorKind::DecryptionFailed,
                "the stored value is not encrypted (enable `accept_plaintext` to read unencrypted data)",
            )
            .with_backend("fernet")),
        }
    }
}

/// Encrypts values with Fernet; see the [module docs](self).
///
/// Cheap to clone; clones share the key set.
#[derive(Clone)]
pub struct FernetLayer {
    shared: Arc<Shared>,
}

impl FernetLayer {
    /// A builder: add keys (first encrypts), choose the failure behaviour, build.
    ///
    /// ```
    /// use stowage_wrappers::fernet::{FernetKey, FernetLayer};
    ///
    /// let new_key = FernetKey::from_base64(&FernetKey::generate_text())?;
    /// let old_key = FernetKey::from_base64(&FernetKey::generate_text())?;
    /// let layer = FernetLayer::builder()
    ///     // Encrypts every write, and is tried first on reads.
    ///     .key(new_key)
    ///     // Still opens what was written before the rotation.
    ///     .key(old_key)
    ///     // Undecryptable values are errors (the default), not misses.
    ///     .miss_on_failure(false)
    ///     .build()?;
    /// assert_eq!(format!("{layer:?}"), "FernetLayer { keys: 2, miss_on_failure: false, accept_plaintext: false }");
    /// # Ok::<(), stowage_core::Error>(())
    /// ```
    pub fn builder() -> FernetBuilder {
        FernetBuilder::default()
    }

    /// A layer with one key and default settings.
    pub fn new(key: FernetKey) -> Self {
        Self::builder().key(key).build().expect("one key is enough")
    }
}

impl fmt::Debug for FernetLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FernetLayer")
            .field("keys", &self.shared.cipher.key_count())
            .field("miss_on_failure", &self.shared.miss_on_failure)
            .field("accept_plaintext", &self.shared.accept_plaintext)
            .finish()
    }
}

impl<S> Layer<S> for FernetLayer {
    type Store = FernetStore<S>;

    fn layer(&self, inner: S) -> FernetStore<S> {
        FernetStore {
            inner,
            shared: self.shared.clone(),
            max_plaintext: Arc::default(),
        }
    }
}

/// A store whose values are encrypted with Fernet; built by [`FernetLayer`].
#[derive(Clone)]
pub struct FernetStore<S> {
    inner: S,
    shared: Arc<Shared>,
    /// The largest plaintext whose envelope the inner store accepts, worked out once (a search
    /// over envelope sizes) from the inner store's limit, which does not change.
    max_plaintext: Arc<OnceLock<Option<usize>>>,
}

impl<S: fmt::Debug> fmt::Debug for FernetStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FernetStore")
            .field("keys", &self.shared.cipher.key_count())
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S> FernetStore<S> {
    /// The store underneath, which holds the envelopes.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: KeyValueStore> FernetStore<S> {
    fn max_plaintext(&self) -> Option<usize> {
        *self.max_plaintext.get_or_init(|| {
            self.inner
                .capabilities()
                .max_value_len
                .map(Cipher::max_plaintext)
        })
    }

    fn seal(&self, value: &Value) -> Result<Value> {
        if let Some(max) = self.max_plaintext()
            && value.len() > max
        {
            return Err(Error::new(
                ErrorKind::ValueTooLarge,
                format!(
                    "value is {} bytes; encrypted, this store allows at most {max}",
                    value.len()
                ),
            )
            .with_backend("fernet"));
        }
        Ok(self.shared.cipher.seal(value))
    }

    fn read_entry(&self, entry: Entry) -> Result<Option<Entry>> {
        Ok(self.shared.read(entry.value)?.map(|value| Entry {
            value,
            created_at: entry.created_at,
            expires_at: entry.expires_at,
        }))
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for FernetStore<S> {
    stowage_core::delegate_methods!(inner => delete, delete_many, keys, collections, destroy_collection, destroy, cull);

    fn capabilities(&self) -> Capabilities {
        self.inner
            .capabilities()
            .with_max_value_len(self.max_plaintext())
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        match self.inner.get(collection, key).await? {
            Some(stored) => self.shared.read(stored),
            None => Ok(None),
        }
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let stored = self.inner.get_many(collection, keys).await?;
        stored
            .into_iter()
            .map(|v| v.map_or(Ok(None), |v| self.shared.read(v)))
            .collect()
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        match self.inner.ttl(collection, key).await? {
            Some(entry) => self.read_entry(entry),
            None => Ok(None),
        }
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let stored = self.inner.ttl_many(collection, keys).await?;
        stored
            .into_iter()
            .map(|e| e.map_or(Ok(None), |e| self.read_entry(e)))
            .collect()
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let sealed = self.seal(&value)?;
        self.inner.put(collection, key, sealed, ttl).await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let sealed = self.seal(&value)?;
        self.inner.put_if_absent(collection, key, sealed, ttl).await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let sealed = entries
            .iter()
            .map(|(k, v)| Ok((*k, self.seal(v)?)))
            .collect::<Result<Vec<_>>>()?;
        self.inner.put_many(collection, &sealed, ttl).await
    }
}
