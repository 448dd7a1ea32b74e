//! Key rotation: re-encrypt stored values under the newest key.

use std::time::{Duration, SystemTime};

use stowage_core::{KeyValueStore, Result};

use super::{FernetLayer, FernetStore};

/// Entries read per batch while re-encrypting.
const BATCH: usize = 256;

/// What a re-encryption pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReencryptReport {
    /// Live entries looked at.
    pub examined: usize,
    /// Entries rewritten under the primary key (including accepted plaintext).
    pub reencrypted: usize,
    /// Entries already under the primary key, left as they were.
    pub current: usize,
    /// Entries no configured key could open (or with a malformed envelope), left as they were.
    pub failed: usize,
}

impl ReencryptReport {
    fn add(&mut self, other: ReencryptReport) {
        self.examined += other.examined;
        self.reencrypted += other.reencrypted;
        self.current += other.current;
        self.failed += other.failed;
    }
}

impl FernetLayer {
    /// Rewrite every entry of `collection` in `inner` (the store *under* this layer) that is not
    /// encrypted with the primary key, keeping each entry's remaining TTL. Needs the inner store's
    /// `keys` capability.
    ///
    /// Entries no key can open are counted in [`ReencryptReport::failed`] and left untouched.
    /// A write racing with the pass may be overwritten by the value read just before it: run the
    /// pass when writers are quiet, or accept that risk for the entries written meanwhile.
    pub async fn reencrypt_collection<S: KeyValueStore + ?Sized>(
        &self,
        inner: &S,
        collection: &str,
    ) -> Result<ReencryptReport> {
        let mut report = ReencryptReport::default();
        let keys = inner.keys(collection).await?;
        for chunk in keys.chunks(BATCH) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            let entries = inner.ttl_many(collection, &chunk).await?;
            for (key, entry) in chunk.iter().zip(entries) {
                let Some(entry) = entry else { continue };
                report.examined += 1;
                let value = match self.shared.open(&entry.value) {
                    Ok((_, Some(0))) => {
                        report.current += 1;
                        continue;
                    }
                    Ok((value, _)) => value,
                    Err(_) => {
                        report.failed += 1;
                        continue;
                    }
                };
                let ttl = match entry.expires_at {
                    None => None,
                    Some(at) => match at.duration_since(SystemTime::now()) {
                        Ok(left) if left >= Duration::from_millis(1) => Some(left),
                        // Expiring now: nothing worth rewriting.
                        _ => continue,
                    },
                };
                let sealed = self.shared.cipher.seal(&value);
                inner.put(collection, key, sealed, ttl).await?;
                report.reencrypted += 1;
            }
        }
        Ok(report)
    }

    /// [`reencrypt_collection`](Self::reencrypt_collection) for every collection of `inner`
    /// (needs its `collections` and `keys` capabilities).
    pub async fn reencrypt_all<S: KeyValueStore + ?Sized>(
        &self,
        inner: &S,
    ) -> Result<ReencryptReport> {
        let mut report = ReencryptReport::default();
        for collection in inner.collections().await? {
            report.add(self.reencrypt_collection(inner, &collection).await?);
        }
        Ok(report)
    }
}

impl<S: KeyValueStore> FernetStore<S> {
    /// Re-encrypt one collection under the primary key; see
    /// [`FernetLayer::reencrypt_collection`].
    ///
    /// ```
    /// use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
    /// use stowage_memory::MemoryStore;
    /// use stowage_wrappers::fernet::{FernetKey, FernetLayer};
    ///
    /// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
    /// let (a, b) = (FernetKey::generate_text(), FernetKey::generate_text());
    /// let raw = MemoryStore::new();
    /// let old = raw.clone().layer(FernetLayer::new(FernetKey::from_base64(&a)?));
    /// old.put("c", "k", Value::from_json(r#"{"v":1}"#)?, None).await?;
    ///
    /// // Rotate: the new key first, the old one still accepted.
    /// let rotating = raw.clone().layer(
    ///     FernetLayer::builder()
    ///         .key(FernetKey::from_base64(&b)?)
    ///         .key(FernetKey::from_base64(&a)?)
    ///         .build()?,
    /// );
    /// let report = rotating.reencrypt_collection("c").await?;
    /// assert_eq!(report.reencrypted, 1);
    ///
    /// // The old key can now be dropped.
    /// let new_only = raw.layer(FernetLayer::new(FernetKey::from_base64(&b)?));
    /// assert!(new_only.get("c", "k").await?.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn reencrypt_collection(&self, collection: &str) -> Result<ReencryptReport> {
        self.layer_ref()
            .reencrypt_collection(&self.inner, collection)
            .await
    }

    /// Re-encrypt every collection; see [`FernetLayer::reencrypt_all`].
    pub async fn reencrypt_all(&self) -> Result<ReencryptReport> {
        self.layer_ref().reencrypt_all(&self.inner).await
    }

    fn layer_ref(&self) -> FernetLayer {
        FernetLayer {
            shared: self.shared.clone(),
        }
    }
}
