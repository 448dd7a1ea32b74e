//! `mongodb`: the Stowage MongoDB store; `mongodb-raw`: the raw `mongodb` driver on the same
//! server doing the same server-side work: documents `{key, value: {…}}` in a collection with a
//! unique index on `key` and a TTL index on `expires_at` (the indexes the py-key-value layout
//! needs), upserted with `replace_one` and read with `find_one` by `key`; `mongodb-raw-id`: the
//! same documents keyed by `_id` in a collection without secondary indexes, the cheapest layout
//! for the server, which shows what the py-key-value layout itself costs. In every case the JSON
//! is converted to BSON on every put and back to JSON text on every get, as the store does.
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
use crate::adapter::{Adapter, COLLECTION, Payload};

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
            about: "raw mongodb driver, same server, same lookups and indexes as the store: \
                    find/replace by `key`, unique `key` and TTL `expires_at` indexes (baseline \
                    for mongodb)",
            baseline: None,
            embedded: false,
            build: |ctx| build_raw(ctx, Layout::Keyed),
        },
        Backend {
            name: "mongodb-raw-id",
            about: "raw mongodb driver, same server, documents keyed by `_id` and no secondary \
                    index (the server-side cost of the py-key-value layout, against mongodb-raw)",
            baseline: Some("mongodb-raw"),
            embedded: false,
            build: |ctx| build_raw(ctx, Layout::ById),
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
    Ok(Box::new(ctx.stowage(Arc::new(store))))
}

/// How the raw baseline lays out and finds its documents.
#[derive(Clone, Copy)]
enum Layout {
    /// `{key, value}` with a unique index on `key` and a TTL index on `expires_at`, as the
    /// store's documents.
    Keyed,
    /// `{_id: key, value}`, no secondary index.
    ById,
}

impl Layout {
    /// The field a document's key is stored in and looked up by.
    fn field(self) -> &'static str {
        match self {
            Layout::Keyed => "key",
            Layout::ById => "_id",
        }
    }
}

struct Raw {
    coll: Collection<Document>,
    layout: Layout,
}

fn build_raw(ctx: &BuildContext, layout: Layout) -> Result<Box<dyn Adapter>> {
    let url = ctx.url("mongodb")?;
    let database = match layout {
        Layout::Keyed => "raw-bench",
        Layout::ById => "raw-bench-id",
    };
    let coll = block_on(async {
        let client = Client::with_uri_str(url).await?;
        let coll = client.database(database).collection::<Document>(COLLECTION);
        coll.drop().await?;
        if let Layout::Keyed = layout {
            // The store's own indexes, so both sides keep the same ones up to date.
            coll.create_indexes(stowage_mongodb::collection_indexes())
                .await?;
        }
        Ok::<_, stowage_mongodb::mongodb::error::Error>(coll)
    })
    .context("connecting to MongoDB")?;
    Ok(Box::new(Raw { coll, layout }))
}

impl Raw {
    fn filter(&self, key: &str) -> Document {
        doc! { self.layout.field(): key }
    }

    async fn upsert(&self, key: &str, payload: &Payload, ttl: Option<Duration>) -> Result<()> {
        let value: Document = serde_json::from_str(&payload.json)?;
        let mut d = doc! { self.layout.field(): key, "value": value };
        if let Some(ttl) = ttl {
            let at = std::time::SystemTime::now() + ttl;
            d.insert(
                "expires_at",
                stowage_mongodb::mongodb::bson::DateTime::from_system_time(at),
            );
        }
        self.coll
            .replace_one(self.filter(key), d)
            .upsert(true)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Adapter for Raw {
    async fn get(&self, key: &str) -> Result<bool> {
        let found = self.coll.find_one(self.filter(key)).await?;
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
