//! [`Adapter`]: one interface over every engine the harness drives, Stowage stores and raw clients
//! alike, so both run the same workload with the same settings.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use async_trait::async_trait;
use stowage_core::{KeyValueStore, Value};

/// The collection every Stowage adapter uses.
pub const COLLECTION: &str = "bench";

/// One value as both sides need it: Stowage's [`Value`] and the same JSON text for raw clients.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The value for Stowage stores.
    pub value: Value,
    /// The same JSON text, for raw clients.
    pub json: Arc<str>,
}

impl Payload {
    /// A JSON object of about `size` bytes: `{"data":"…"}` padded with random letters.
    pub fn of_size(size: usize, rng: &mut fastrand::Rng) -> Result<Payload> {
        let pad = size.saturating_sub(r#"{"data":""}"#.len());
        let data: String = (0..pad).map(|_| rng.alphanumeric()).collect();
        let value = Value::from_serialize(&serde_json::json!({ "data": data }))?;
        Ok(Payload {
            json: Arc::from(value.as_str()),
            value,
        })
    }
}

/// An engine under test.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// Read one key; `true` on a hit.
    async fn get(&self, key: &str) -> Result<bool>;

    /// Write one key (no TTL).
    async fn put(&self, key: &str, payload: &Payload) -> Result<()>;

    /// Write one key with a TTL (the cache workload). Engines without expiry say so.
    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        let _ = (key, payload, ttl);
        anyhow::bail!("this engine has no per-key TTL, so it cannot run the cache workload")
    }

    /// Write many keys at once, for loading.
    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        for (k, p) in entries {
            self.put(k, p).await?;
        }
        Ok(())
    }
}

/// Any Stowage store, driven through `Arc<dyn KeyValueStore>` as applications hold it.
#[derive(Debug)]
pub struct StowageAdapter {
    // Declared first, so the store closes before its directory is removed.
    store: Arc<dyn KeyValueStore>,
    _dir: Option<tempfile::TempDir>,
}

impl StowageAdapter {
    /// Drive `store`, wrapped in the `--wrappers` stack in effect (see [`crate::wrappers`]).
    pub fn new(store: Arc<dyn KeyValueStore>) -> Self {
        let store = crate::wrappers::apply_current(store);
        StowageAdapter { store, _dir: None }
    }

    /// Drive `store`, whose files live in `dir`: the directory is removed after the store is
    /// dropped. No adapter layer of its own, so the store is measured as directly as [`new`].
    ///
    /// [`new`]: StowageAdapter::new
    pub fn in_dir(store: Arc<dyn KeyValueStore>, dir: tempfile::TempDir) -> Self {
        StowageAdapter {
            _dir: Some(dir),
            ..Self::new(store)
        }
    }
}

#[async_trait]
impl Adapter for StowageAdapter {
    async fn get(&self, key: &str) -> Result<bool> {
        Ok(self.store.get(COLLECTION, key).await?.is_some())
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        Ok(self
            .store
            .put(COLLECTION, key, payload.value.clone(), None)
            .await?)
    }

    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        Ok(self
            .store
            .put(COLLECTION, key, payload.value.clone(), Some(ttl))
            .await?)
    }

    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        let batch: Vec<(&str, Value)> =
            entries.iter().map(|(k, p)| (*k, p.value.clone())).collect();
        Ok(self.store.put_many(COLLECTION, &batch, None).await?)
    }
}
