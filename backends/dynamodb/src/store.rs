//! [`DynamoStore`]: the [`KeyValueStore`] implementation.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ReturnValue, WriteRequest};
use futures::{StreamExt, TryStreamExt};
use stowage_core::checks::{context, last_wins, unique_keys};
use stowage_core::{Capabilities, Entry, Error, KeyValueStore, Result, Value, async_trait, rules};

use crate::config::DynamoConfig;
use crate::error::{BACKEND, build_error, convert};
use crate::item::{self, COLLECTION};

/// Batches sent at once by one call.
pub(crate) const PARALLEL_BATCHES: usize = 4;
/// Single-item requests sent at once by one call (`delete_many`, `cull`).
pub(crate) const PARALLEL_ITEMS: usize = 16;

/// A store on one DynamoDB table, in the format of `py-key-value-aio`'s `DynamoDBStore`.
///
/// - **Format**: partition key `collection`, sort key `key`, the JSON envelope in the string
///   attribute `value` and the expiry in the number attribute `ttl` (epoch seconds); see the
///   [crate docs](crate). Python and Rust servers can share a table.
/// - **Table**: created on demand (pay per request, TTL on `ttl`) unless
///   [`create_table(false)`](DynamoConfig::create_table), in which case it is verified.
/// - **Batches**: `put_many` in `BatchWriteItem`s of 25, `get_many`/`ttl_many` in
///   `BatchGetItem`s of 100, resending unprocessed items with backoff.
/// - **Expiry**: approximate server-side (DynamoDB deletes expired items late), and every read
///   filters expired items out.
/// - **Every optional capability**: `keys` (a query), `collections`, `destroy` and `cull` (scans
///   of the table), `destroy_collection` (a query and batch deletes). `destroy` empties the
///   table; it does not delete it.
/// - **Limits**: keys up to 1024 bytes, collections up to 2048 bytes, values up to
///   392 KiB ([`ValueTooLarge`](stowage_core::ErrorKind::ValueTooLarge) past it or past the
///   400 KiB item limit).
/// - **Durability**: a put returns once DynamoDB acknowledged it (replicated across availability
///   zones on AWS).
///
/// Cloning a `DynamoStore` gives another handle on the same client.
#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) consistent_read: bool,
    pub(crate) timeout: Duration,
    pub(crate) caps: Capabilities,
}

impl fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.inner.table)
            .field("consistent_read", &self.inner.consistent_read)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

pub(crate) fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    context(BACKEND, op, collection)
}

impl DynamoStore {
    /// A builder for `table`.
    pub fn builder(table: impl Into<String>) -> DynamoConfig {
        DynamoConfig::new(table)
    }

    /// Connect with a store URL (see [`DynamoConfig::from_url`]).
    pub async fn connect(url: &str) -> Result<Self> {
        DynamoConfig::from_url(url)?.build().await
    }

    /// The SDK client, for anything this store does not cover.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.inner.table
    }
}

#[async_trait]
impl KeyValueStore for DynamoStore {
    fn capabilities(&self) -> Capabilities {
        self.inner.caps
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        self.inner
            .caps
            .check(collection, key)
            .map_err(ctx("get", collection))?;
        let found = self
            .within(self.find_entries(collection, &[key]))
            .await
            .map_err(ctx("get", collection))?;
        Ok(found.into_iter().next().flatten().map(|e| e.value))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        self.check_keys(collection, keys)
            .map_err(ctx("get_many", collection))?;
        let found = self
            .within(self.find_entries(collection, keys))
            .await
            .map_err(ctx("get_many", collection))?;
        Ok(found.into_iter().map(|e| e.map(|e| e.value)).collect())
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.inner
            .caps
            .check(collection, key)
            .map_err(ctx("ttl", collection))?;
        let found = self
            .within(self.find_entries(collection, &[key]))
            .await
            .map_err(ctx("ttl", collection))?;
        Ok(found.into_iter().next().flatten())
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.check_keys(collection, keys)
            .map_err(ctx("ttl_many", collection))?;
        self.within(self.find_entries(collection, keys))
            .await
            .map_err(ctx("ttl_many", collection))
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let now = SystemTime::now();
        let item = (|| {
            self.inner.caps.check_put(collection, key, &value, ttl)?;
            item::encode_item(collection, key, &value, now, rules::expires_at(now, ttl))
        })()
        .map_err(ctx("put", collection))?;
        self.within(async {
            self.inner
                .client
                .put_item()
                .table_name(&self.inner.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(convert)
        })
        .await
        .map(drop)
        .map_err(ctx("put", collection))
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let now = SystemTime::now();
        let item = (|| {
            self.inner.caps.check_put(collection, key, &value, ttl)?;
            item::encode_item(collection, key, &value, now, rules::expires_at(now, ttl))
        })()
        .map_err(ctx("put_if_absent", collection))?;
        self.within(self.insert_if_absent(collection, key, item))
            .await
            .map_err(ctx("put_if_absent", collection))
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let now = SystemTime::now();
        let requests = (|| {
            self.inner.caps.check_put_many(collection, entries, ttl)?;
            let expires_at = rules::expires_at(now, ttl);
            // A key may appear once per batch request: the last of each key is written.
            last_wins(entries)
                .into_iter()
                .map(|(k, v)| {
                    let item = item::encode_item(collection, k, v, now, expires_at)?;
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(build_error)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>>>()
        })()
        .map_err(ctx("put_many", collection))?;
        self.within(self.write_all(requests))
            .await
            .map_err(ctx("put_many", collection))
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        self.inner
            .caps
            .check(collection, key)
            .map_err(ctx("delete", collection))?;
        let now = SystemTime::now();
        let old = self
            .within(async {
                self.inner
                    .client
                    .delete_item()
                    .table_name(&self.inner.table)
                    .set_key(Some(item::item_key(collection, key)))
                    .return_values(ReturnValue::AllOld)
                    .send()
                    .await
                    .map_err(convert)
            })
            .await
            .map_err(ctx("delete", collection))?;
        Ok(old
            .attributes
            .filter(|a| !a.is_empty())
            .is_some_and(|item| self.is_live(&item, now)))
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.check_keys(collection, keys)
            .map_err(ctx("delete_many", collection))?;
        let now = SystemTime::now();
        let wanted: Vec<String> = unique_keys(keys).into_iter().map(str::to_owned).collect();
        self.within(async {
            let removed: Vec<bool> = futures::stream::iter(wanted)
                .map(|key: String| async move {
                    let out = self
                        .inner
                        .client
                        .delete_item()
                        .table_name(&self.inner.table)
                        .set_key(Some(item::item_key(collection, &key)))
                        .return_values(ReturnValue::AllOld)
                        .send()
                        .await
                        .map_err(convert)?;
                    Ok::<_, Error>(
                        out.attributes
                            .filter(|a| !a.is_empty())
                            .is_some_and(|item| self.is_live(&item, now)),
                    )
                })
                .buffer_unordered(PARALLEL_ITEMS)
                .try_collect()
                .await?;
            Ok(removed.into_iter().filter(|r| *r).count())
        })
        .await
        .map_err(ctx("delete_many", collection))
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.inner
            .caps
            .check_collection(collection)
            .map_err(ctx("keys", collection))?;
        let now = SystemTime::now();
        self.within(async {
            let mut items = self.query_collection(collection).await?;
            for item in &mut items {
                item.insert(
                    COLLECTION.to_owned(),
                    AttributeValue::S(collection.to_owned()),
                );
            }
            let live = self.live_keys(&items, now).await?;
            Ok(live.into_iter().map(|(_, k)| k).collect())
        })
        .await
        .map_err(ctx("keys", collection))
    }

    async fn collections(&self) -> Result<Vec<String>> {
        let now = SystemTime::now();
        self.within(async {
            let items = self.scan(None).await?;
            let live = self.live_keys(&items, now).await?;
            let names: HashSet<String> = live.into_iter().map(|(c, _)| c).collect();
            Ok(names.into_iter().collect())
        })
        .await
        .map_err(ctx("collections", ""))
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        self.inner
            .caps
            .check_collection(collection)
            .map_err(ctx("destroy_collection", collection))?;
        let now = SystemTime::now();
        self.within(async {
            let mut items = self.query_collection(collection).await?;
            for item in &mut items {
                item.insert(
                    COLLECTION.to_owned(),
                    AttributeValue::S(collection.to_owned()),
                );
            }
            let held = !self.live_keys(&items, now).await?.is_empty();
            let keys = items
                .iter()
                .filter_map(|item| Some(item::item_key(collection, item::key_of(item).ok()?)))
                .collect();
            self.delete_keys(keys).await?;
            Ok(held)
        })
        .await
        .map_err(ctx("destroy_collection", collection))
    }

    async fn destroy(&self) -> Result<bool> {
        let now = SystemTime::now();
        self.within(async {
            let items = self.scan(None).await?;
            let held = !self.live_keys(&items, now).await?.is_empty();
            let keys = items
                .iter()
                .filter_map(|item| {
                    Some(item::item_key(
                        item::collection_of(item).ok()?,
                        item::key_of(item).ok()?,
                    ))
                })
                .collect();
            self.delete_keys(keys).await?;
            Ok(held)
        })
        .await
        .map_err(ctx("destroy", ""))
    }

    async fn cull(&self) -> Result<usize> {
        let now = SystemTime::now();
        self.within(async {
            let candidates = self.scan(Some(item::ttl_seconds(now))).await?;
            let expired = candidates
                .into_iter()
                .filter(|item| !self.is_live(item, now));
            let removed: Vec<bool> = futures::stream::iter(expired)
                .map(|item| self.delete_if_unchanged(item))
                .buffer_unordered(PARALLEL_ITEMS)
                .try_collect()
                .await?;
            Ok(removed.into_iter().filter(|r| *r).count())
        })
        .await
        .map_err(ctx("cull", ""))
    }
}
