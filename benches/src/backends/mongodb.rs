//! `mongodb`: the Stowage MongoDB store; `mongodb-raw`: the raw `mongodb` driver on the same
//! server, storing the same JSON as a native document `{_id: key, value: {…}}` with an upsert
//! and reading it with `find_one` (the JSON is converted to BSON on every put and back to JSON
//! text on every get, as the store does).
//!
//! URL from `--url mongodb=mongodb://…` (or `STOWAGE_BENCH_URL_MONGODB`). The store uses the
//! database `stowage-bench`, the baseline `raw-bench`; both are emptied before the run.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use async_trait::async_trait;
use stowage_core::KeyValueStore;
use stowage_mongodb::MongoStore;
use stowage_mongodb::mongodb::bson::{Document, doc};
use stowage_mongodb::mongodb::{Client, Collection};

use super::{Backend, BuildContext};
use crate::adapter::{Adapter, COLLECTION, Payload, StowageAdapter};

pub(super) fn backends() -> Vec<Backend> {
    vec![
        Backend {
            name: "mongodb",
            about: "stowage-mongodb (py-key-value documents, database stowage-bench)",
            baseline: Some("mongodb-raw"),
            embedded: false,
            build: build_stowage,
        },
        Backend {
            name: "mongodb-raw",
            about: "raw mongodb driver, same server (baseline for mongodb)",
            baseline: None,
            embedded: false,
            build: build_raw,
        },
    ]
}

fn block_on<T>(fut: impl Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(fut))
}

fn build_stowage(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    let url = ctx.url("mongodb")?;
    let store = block_on(async {
        let store = MongoStore::builder()
            .url(url)
            .database("stowage-bench")
            .timeout(Duration::from_secs(30))
            .build()
            .await?;
        store.destroy_collection(COLLECTION).await?;
        Ok::<_, stowage_core::Error>(store)
    })
    .context("connecting the Stowage MongoDB store")?;
    Ok(Box::new(StowageAdapter::new(Arc::new(store))))
}

struct Raw {
    coll: Collection<Document>,
}

fn build_raw(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    let url = ctx.url("mongodb")?;
    let coll = block_on(async {
        let client = Client::with_uri_str(url).await?;
        let coll = client
            .database("raw-bench")
            .collection::<Document>(COLLECTION);
        coll.drop().await?;
        Ok::<_, stowage_mongodb::mongodb::error::Error>(coll)
    })
    .context("connecting to MongoDB")?;
    Ok(Box::new(Raw { coll }))
}

impl Raw {
    async fn upsert(&self, key: &str, payload: &Payload, ttl: Option<Duration>) -> Result<()> {
        let value: Document = serde_json::from_str(&payload.json)?;
        let mut d = doc! { "_id": key, "value": value };
        if let Some(ttl) = ttl {
            let at = std::time::SystemTime::now() + ttl;
            d.insert(
                "expires_at",
                stowage_mongodb::mongodb::bson::DateTime::from_system_time(at),
            );
        }
        self.coll
            .replace_one(doc! { "_id": key }, d)
            .upsert(true)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Adapter for Raw {
    async fn get(&self, key: &str) -> Result<bool> {
        let found = self.coll.find_one(doc! { "_id": key }).await?;
        match found {
            Some(d) => {
                let text = serde_json::to_string(d.get_document("value")?)?;
                Ok(!text.is_empty())
            }
            None => Ok(false),
        }
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        self.upsert(key, payload, None).await
    }

    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        self.upsert(key, payload, Some(ttl)).await
    }
}
