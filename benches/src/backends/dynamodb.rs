//! `dynamodb`: the Stowage DynamoDB store; `dynamodb-raw`: the raw `aws-sdk-dynamodb` client on
//! the same server, with `PutItem`/`GetItem` (strongly consistent, as the store reads) of the
//! same JSON text in a string attribute.
//!
//! URL from `--url dynamodb=…` (or `STOWAGE_BENCH_URL_DYNAMODB`): a store URL
//! (`dynamodb://TABLE?endpoint=…`) or just the endpoint (`http://127.0.0.1:8000`, with
//! credentials `test`/`test`). The store uses the table `stowage-bench`, the baseline
//! `raw-bench`; both are created when missing and emptied before the run.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use async_trait::async_trait;
use stowage_core::KeyValueStore;
use stowage_dynamodb::aws_sdk_dynamodb::Client;
use stowage_dynamodb::aws_sdk_dynamodb::types::AttributeValue;
use stowage_dynamodb::{DynamoConfig, DynamoStore};

use super::{Backend, BuildContext};
use crate::adapter::{Adapter, COLLECTION, Payload};

pub(super) fn backends() -> Vec<Backend> {
    vec![
        Backend {
            name: "dynamodb",
            about: "stowage-dynamodb (py-key-value items, table stowage-bench)",
            baseline: Some("dynamodb-raw"),
            embedded: false,
            build: build_stowage,
        },
        Backend {
            name: "dynamodb-raw",
            about: "raw aws-sdk-dynamodb, same server (baseline for dynamodb)",
            baseline: None,
            embedded: false,
            build: build_raw,
        },
    ]
}

fn block_on<T>(fut: impl Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(fut))
}

fn config(ctx: &BuildContext, table: &str) -> Result<DynamoConfig> {
    let url = ctx.url("dynamodb")?;
    let config = if url.starts_with("dynamodb://") {
        let mut c = DynamoConfig::from_url(&url)?;
        // Keep the endpoint and credentials, but use the harness's table.
        let parsed = format!(
            "dynamodb://{table}?{}",
            url.split_once('?').map_or("", |q| q.1)
        );
        c = DynamoConfig::from_url(&parsed).unwrap_or(c);
        c
    } else {
        DynamoStore::builder(table)
            .endpoint(url)
            .region("us-east-1")
            .credentials("test", "test")
    };
    Ok(config.timeout(Duration::from_secs(30)))
}

fn build_stowage(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    let config = config(ctx, "stowage-bench")?;
    let store = block_on(async {
        let store = config.build().await?;
        store.destroy().await?;
        Ok::<_, stowage_core::Error>(store)
    })
    .context("connecting the Stowage DynamoDB store")?;
    Ok(Box::new(ctx.stowage(Arc::new(store))))
}

struct Raw {
    client: Client,
    table: String,
}

fn build_raw(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    // The store's builder creates (or verifies) the table and gives the client; the baseline
    // then uses only the client.
    let config = config(ctx, "raw-bench")?;
    let client = block_on(async {
        let store = config.build().await?;
        store.destroy().await?;
        Ok::<_, stowage_core::Error>(store.client().clone())
    })
    .context("connecting to DynamoDB")?;
    Ok(Box::new(Raw {
        client,
        table: "raw-bench".to_owned(),
    }))
}

impl Raw {
    async fn put_item(&self, key: &str, payload: &Payload, ttl: Option<Duration>) -> Result<()> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("collection", AttributeValue::S(COLLECTION.to_owned()))
            .item("key", AttributeValue::S(key.to_owned()))
            .item("value", AttributeValue::S(payload.json.to_string()));
        if let Some(ttl) = ttl {
            let at = (SystemTime::now() + ttl)
                .duration_since(UNIX_EPOCH)?
                .as_secs();
            request = request.item("ttl", AttributeValue::N(at.to_string()));
        }
        request.send().await?;
        Ok(())
    }
}

#[async_trait]
impl Adapter for Raw {
    async fn get(&self, key: &str) -> Result<bool> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("collection", AttributeValue::S(COLLECTION.to_owned()))
            .key("key", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.is_some_and(|i| i.contains_key("value")))
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        self.put_item(key, payload, None).await
    }

    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        self.put_item(key, payload, Some(ttl)).await
    }
}
