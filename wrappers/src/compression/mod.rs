//! Gzip compression of large values, in py-key-value's `CompressionWrapper` format.
//!
//! Values of at least [`CompressionBuilder::min_size`] bytes (1 KiB by default) are gzipped and
//! stored as
//!
//! ```text
//! {"__compressed_data__":"<base64>","__compression_version__":1,"__compression_algorithm__":"gzip"}
//! ```
//!
//! Smaller values, and values that would not get smaller, are stored as they are. The format is
//! marked, so reads return unmarked (uncompressed) values unchanged, and the Python wrapper reads
//! what this one writes and the other way round. A marked value that cannot be decompressed is a
//! [`Corrupted`](ErrorKind::Corrupted) error (Python returns it as it is).
//!
//! **Order with encryption**: compress first, then encrypt. The compression layer must be
//! *outside* the encryption layer (`store.layer(fernet).layer(compression)`); the other way
//! round compresses ciphertext, which does not shrink.
//!
//! ```
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::compression::CompressionLayer;
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let raw = MemoryStore::new();
//! let store = raw.clone().layer(CompressionLayer::builder().min_size(100).build());
//! let big = Value::from_json(format!(r#"{{"text":"{}"}}"#, "abc".repeat(1000)))?;
//! store.put("c", "k", big.clone(), None).await?;
//! assert_eq!(store.get("c", "k").await?.unwrap(), big);
//! assert!(raw.get("c", "k").await?.unwrap().len() < big.len() / 10);
//! # Ok(()) }
//! ```

mod codec;

use std::sync::Arc;
use std::time::Duration;

use stowage_core::{Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait};

pub use codec::{COMPRESSED_DATA_KEY, COMPRESSION_ALGORITHM_KEY, COMPRESSION_VERSION_KEY};

/// Default threshold: values of at least 1 KiB are compressed (as in py-key-value).
pub const DEFAULT_MIN_SIZE: usize = 1024;
/// Default bound on a decompressed value: 64 MiB. Larger expansions are refused as corrupted,
/// so a planted "zip bomb" cannot exhaust memory.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 * 1024 * 1024;

/// Builds a [`CompressionLayer`].
#[derive(Debug, Clone)]
#[must_use]
pub struct CompressionBuilder {
    min_size: usize,
    level: u32,
    max_decompressed: usize,
}

impl Default for CompressionBuilder {
    fn default() -> Self {
        CompressionBuilder {
            min_size: DEFAULT_MIN_SIZE,
            level: 1,
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

impl CompressionBuilder {
    /// Compress values whose JSON text is at least this many bytes. Default
    /// [`DEFAULT_MIN_SIZE`].
    pub fn min_size(mut self, bytes: usize) -> Self {
        self.min_size = bytes;
        self
    }

    /// Gzip level, 0 (none) to 9 (smallest); values above 9 count as 9. Default 1 (fastest),
    /// as py-key-value.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// The largest value decompression may produce. Default [`DEFAULT_MAX_DECOMPRESSED`].
    pub fn max_decompressed(mut self, bytes: usize) -> Self {
        self.max_decompressed = bytes;
        self
    }

    /// Build the layer.
    pub fn build(self) -> CompressionLayer {
        CompressionLayer {
            config: Arc::new(self),
        }
    }
}

/// Compresses large values; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct CompressionLayer {
    config: Arc<CompressionBuilder>,
}

impl CompressionLayer {
    /// A builder with the defaults.
    pub fn builder() -> CompressionBuilder {
        CompressionBuilder::default()
    }
}

impl Default for CompressionLayer {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl<S> Layer<S> for CompressionLayer {
    type Store = CompressionStore<S>;

    fn layer(&self, inner: S) -> CompressionStore<S> {
        CompressionStore {
            inner,
            config: self.config.clone(),
        }
    }
}

/// A store that compresses large values; built by [`CompressionLayer`].
#[derive(Debug, Clone)]
pub struct CompressionStore<S> {
    inner: S,
    config: Arc<CompressionBuilder>,
}

impl<S: KeyValueStore> CompressionStore<S> {
    fn pack(&self, value: &Value, max: Option<usize>) -> Result<Value> {
        if let Some(max) = max.filter(|&m| value.len() > m) {
            return Err(Error::new(
                ErrorKind::ValueTooLarge,
                format!(
                    "value is {} bytes; this store allows at most {max}",
                    value.len()
                ),
            )
            .with_backend("compression"));
        }
        // A value that looks like an envelope is always wrapped, so it reads back as written.
        let forced = codec::has_marker(value);
        if value.len() < self.config.min_size && !forced {
            return Ok(value.clone());
        }
        let packed = codec::compress(value, self.config.level)?;
        Ok(if packed.len() < value.len() || forced {
            packed
        } else {
            value.clone()
        })
    }

    fn unpack(&self, stored: Value) -> Result<Value> {
        codec::decompress(stored, self.config.max_decompressed)
    }

    fn unpack_entry(&self, entry: Entry) -> Result<Entry> {
        Ok(Entry {
            value: self.unpack(entry.value)?,
            ..entry
        })
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for CompressionStore<S> {
    stowage_core::delegate_methods!(inner => capabilities, delete, delete_many, keys, collections, destroy_collection, destroy, cull);

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        self.inner
            .get(collection, key)
            .await?
            .map(|v| self.unpack(v))
            .transpose()
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        self.inner
            .get_many(collection, keys)
            .await?
            .into_iter()
            .map(|v| v.map(|v| self.unpack(v)).transpose())
            .collect()
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.inner
            .ttl(collection, key)
            .await?
            .map(|e| self.unpack_entry(e))
            .transpose()
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.inner
            .ttl_many(collection, keys)
            .await?
            .into_iter()
            .map(|e| e.map(|e| self.unpack_entry(e)).transpose())
            .collect()
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let packed = self.pack(&value, self.inner.capabilities().max_value_len)?;
        self.inner.put(collection, key, packed, ttl).await
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let packed = self.pack(&value, self.inner.capabilities().max_value_len)?;
        self.inner.put_if_absent(collection, key, packed, ttl).await
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let max = self.inner.capabilities().max_value_len;
        let packed = entries
            .iter()
            .map(|(k, v)| Ok((*k, self.pack(v, max)?)))
            .collect::<Result<Vec<_>>>()?;
        self.inner.put_many(collection, &packed, ttl).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_passthrough() {
        let big = Value::from_json(format!(r#"{{"t":"{}"}}"#, "ab".repeat(2000))).unwrap();
        let packed = codec::compress(&big, 1).unwrap();
        assert!(packed.as_str().starts_with(r#"{"__compressed_data__":""#));
        assert_eq!(codec::decompress(packed, 1 << 20).unwrap(), big);
        let plain = Value::from_json(r#"{"a":1}"#).unwrap();
        assert_eq!(codec::decompress(plain.clone(), 10).unwrap(), plain);
    }

    #[test]
    fn bombs_and_garbage_are_corrupted() {
        let big = Value::from_json(format!(r#"{{"t":"{}"}}"#, "a".repeat(100_000))).unwrap();
        let packed = codec::compress(&big, 1).unwrap();
        let err = codec::decompress(packed, 1000).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        for text in [
            r#"{"__compressed_data__":"!!!","__compression_version__":1,"__compression_algorithm__":"gzip"}"#,
            r#"{"__compressed_data__":"aGVsbG8=","__compression_version__":1}"#,
            r#"{"__compressed_data__":"aGVsbG8=","__compression_version__":2}"#,
            r#"{"__compressed_data__":"aGVsbG8=","__compression_version__":1,"__compression_algorithm__":"zstd"}"#,
            r#"{"__compressed_data__":5,"__compression_version__":1}"#,
        ] {
            let v = Value::from_json(text).unwrap();
            assert_eq!(
                codec::decompress(v, 1000).unwrap_err().kind(),
                ErrorKind::Corrupted,
                "{text}"
            );
        }
    }
}
