//! [`DynamoStore`]: the [`KeyValueStore`] implementation.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, ReturnValue, WriteRequest,
};
use futures::{StreamExt, TryStreamExt};
use stowage_core::{
    Capabilities, Entry, Error, Expiry, KeyValueStore, Result, Value, async_trait, rules,
};

use crate::batch::{MAX_BATCH_GET, MAX_BATCH_WRITE, drain};
use crate::config::{DEFAULT_REGION, DynamoConfig, config_error};
use crate::core::{
    self, COLLECTION, Item, KEY, Liveness, MAX_COLLECTION_LEN, MAX_KEY_LEN, MAX_VALUE_LEN,
    TTL_ATTRIBUTE, VALUE,
};
use crate::error::{self, BACKEND, build_error, convert, service_code};
use crate::table;

/// Batches sent at once by one call.
const PARALLEL_BATCHES: usize = 4;
/// Single-item requests sent at once by one call (`delete_many`, `cull`).
const PARALLEL_ITEMS: usize = 16;

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
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    table: String,
    consistent_read: bool,
    timeout: Duration,
    caps: Capabilities,
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

fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    move |e| {
        e.with_backend(BACKEND)
            .with_operation(op)
            .with_collection(collection)
    }
}

fn ctx_op(op: &'static str) -> impl FnOnce(Error) -> Error {
    move |e| e.with_backend(BACKEND).with_operation(op)
}

fn unique_keys<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut seen = HashSet::with_capacity(keys.len());
    keys.iter().copied().filter(|k| seen.insert(*k)).collect()
}

async fn make_client(config: &DynamoConfig) -> Result<Client> {
    if let Some(client) = &config.client {
        return Ok(client.clone());
    }
    #[cfg(feature = "aws-config")]
    let mut region_set = false;
    #[cfg(not(feature = "aws-config"))]
    let region_set = false;
    #[cfg(feature = "aws-config")]
    let mut builder = if config.credentials.is_none() {
        let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
        region_set = shared.region().is_some();
        aws_sdk_dynamodb::config::Builder::from(&shared)
    } else {
        aws_sdk_dynamodb::Config::builder()
    };
    #[cfg(not(feature = "aws-config"))]
    let mut builder = aws_sdk_dynamodb::Config::builder();
    builder = builder.behavior_version(BehaviorVersion::latest());
    match &config.region {
        Some(region) => builder = builder.region(Region::new(region.clone())),
        None if !region_set => builder = builder.region(Region::new(DEFAULT_REGION)),
        None => {}
    }
    match &config.credentials {
        Some((id, secret, token)) => {
            builder = builder.credentials_provider(Credentials::new(
                id,
                secret,
                token.clone(),
                None,
                "stowage",
            ));
        }
        None if !cfg!(feature = "aws-config") => {
            return Err(config_error(
                "DynamoDB store: no credentials given; set them with `credentials(…)` or enable \
                 the `aws-config` feature to read the standard AWS chain",
            ));
        }
        None => {}
    }
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(config.timeout.min(Duration::from_secs(3)))
        .operation_timeout(config.timeout)
        .build();
    builder = builder.timeout_config(timeouts);
    Ok(Client::from_conf(builder.build()))
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

    pub(crate) async fn from_config(config: DynamoConfig) -> Result<Self> {
        config.check()?;
        let client = make_client(&config).await?;
        tokio::time::timeout(
            config.timeout.max(Duration::from_secs(30)),
            table::ensure(&client, &config.table, config.create_table),
        )
        .await
        .unwrap_or_else(|_| Err(error::timed_out(config.timeout)))
        .map_err(ctx_op("build"))?;
        let caps = Capabilities::all(Expiry::Approximate)
            .with_max_key_len(Some(MAX_KEY_LEN))
            .with_max_collection_len(Some(MAX_COLLECTION_LEN))
            .with_max_value_len(Some(MAX_VALUE_LEN));
        Ok(DynamoStore {
            inner: Arc::new(Inner {
                client,
                table: config.table,
                consistent_read: config.consistent_read,
                timeout: config.timeout,
                caps,
            }),
        })
    }

    /// The SDK client, for anything this store does not cover.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// Run a call (its retries included) under the store's timeout.
    async fn within<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.inner.timeout, fut)
            .await
            .unwrap_or_else(|_| Err(error::timed_out(self.inner.timeout)))
    }

    fn is_live(&self, item: &Item, now: SystemTime) -> bool {
        match core::ttl_attr(item).map(|t| core::liveness(t, now)) {
            Ok(Liveness::Live) | Err(_) => true,
            Ok(Liveness::Expired) => false,
            Ok(Liveness::Unsure) => core::decode_item(item).is_ok_and(|e| !e.is_expired_at(now)),
        }
    }

    async fn get_item(&self, collection: &str, key: &str) -> Result<Option<Item>> {
        let out = self
            .inner
            .client
            .get_item()
            .table_name(&self.inner.table)
            .set_key(Some(core::item_key(collection, key)))
            .consistent_read(self.inner.consistent_read)
            .send()
            .await
            .map_err(convert)?;
        Ok(out.item)
    }

    /// One `BatchGetItem` of up to 100 keys, resending unprocessed keys.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>> {
        let table = self.inner.table.as_str();
        drain(keys, |keys| async move {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(self.inner.consistent_read)
                .build()
                .map_err(build_error)?;
            let out = self
                .inner
                .client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(convert)?;
            let found = out
                .responses
                .and_then(|mut r| r.remove(table))
                .unwrap_or_default();
            let left = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
            Ok((found, left))
        })
        .await
    }

    /// One `BatchWriteItem` of up to 25 requests, resending unprocessed ones.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<()> {
        let table = self.inner.table.as_str();
        drain(requests, |requests| async move {
            let out = self
                .inner
                .client
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .map_err(convert)?;
            let left = out
                .unprocessed_items
                .and_then(|mut u| u.remove(table))
                .unwrap_or_default();
            Ok((Vec::<()>::new(), left))
        })
        .await
        .map(drop)
    }

    /// Write requests in batches of 25, a few batches at a time.
    async fn write_all(&self, requests: Vec<WriteRequest>) -> Result<()> {
        let mut chunks = Vec::new();
        let mut it = requests.into_iter().peekable();
        while it.peek().is_some() {
            chunks.push(it.by_ref().take(MAX_BATCH_WRITE).collect::<Vec<_>>());
        }
        futures::stream::iter(chunks)
            .map(|chunk| self.batch_write(chunk))
            .buffer_unordered(PARALLEL_BATCHES)
            .try_collect::<Vec<()>>()
            .await
            .map(drop)
    }

    async fn delete_keys(&self, keys: Vec<Item>) -> Result<()> {
        let requests = keys
            .into_iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map_err(build_error)?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>>>()?;
        self.write_all(requests).await
    }

    /// The entries of `keys`, with `None` for misses and expired ones.
    async fn find_entries(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        let now = SystemTime::now();
        let found: HashMap<String, Item> = match keys {
            [] => return Ok(Vec::new()),
            [key] => self
                .get_item(collection, key)
                .await?
                .map(|item| ((*key).to_owned(), item))
                .into_iter()
                .collect(),
            _ => {
                let wanted = unique_keys(keys);
                let batches: Vec<Vec<Item>> = wanted
                    .chunks(MAX_BATCH_GET)
                    .map(|c| c.iter().map(|k| core::item_key(collection, k)).collect())
                    .collect();
                let items: Vec<Vec<Item>> = futures::stream::iter(batches)
                    .map(|b| self.batch_get(b))
                    .buffer_unordered(PARALLEL_BATCHES)
                    .try_collect()
                    .await?;
                items
                    .into_iter()
                    .flatten()
                    .filter_map(|item| Some((core::key_of(&item).ok()?.to_owned(), item)))
                    .collect()
            }
        };
        keys.iter()
            .map(|k| match found.get(*k) {
                None => Ok(None),
                Some(item) => {
                    let entry = core::decode_item(item)?;
                    Ok((!entry.is_expired_at(now)).then_some(entry))
                }
            })
            .collect()
    }

    /// Every item of one collection (key and `ttl` only), through all pages.
    async fn query_collection(&self, collection: &str) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .inner
                .client
                .query()
                .table_name(&self.inner.table)
                .key_condition_expression("#c = :c")
                .projection_expression("#k, #t")
                // Only the store's items (a string `value`), as in `scan`.
                .filter_expression("attribute_type(#v, :s)")
                .expression_attribute_names("#c", COLLECTION)
                .expression_attribute_names("#k", KEY)
                .expression_attribute_names("#t", TTL_ATTRIBUTE)
                .expression_attribute_names("#v", VALUE)
                .expression_attribute_values(":c", AttributeValue::S(collection.to_owned()))
                .expression_attribute_values(":s", AttributeValue::S("S".to_owned()))
                .consistent_read(self.inner.consistent_read)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(convert)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// Every item of the table (collection, key and `ttl` only, or whole items with
    /// `expired_before`: those whose `ttl` is at most that many epoch seconds), through all pages.
    async fn scan(&self, expired_before: Option<i64>) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut request = self
                .inner
                .client
                .scan()
                .table_name(&self.inner.table)
                .consistent_read(self.inner.consistent_read)
                .set_exclusive_start_key(start);
            request = match expired_before {
                // The store's items are those with a string `value` (its envelope, as
                // py-key-value writes it): other data in a shared table is never listed or
                // deleted.
                None => request
                    .projection_expression("#c, #k, #t")
                    .filter_expression("attribute_type(#v, :s)")
                    .expression_attribute_names("#c", COLLECTION)
                    .expression_attribute_names("#k", KEY)
                    .expression_attribute_names("#t", TTL_ATTRIBUTE)
                    .expression_attribute_names("#v", VALUE)
                    .expression_attribute_values(":s", AttributeValue::S("S".to_owned())),
                Some(secs) => request
                    .filter_expression("#t <= :now")
                    .expression_attribute_names("#t", TTL_ATTRIBUTE)
                    .expression_attribute_values(":now", AttributeValue::N(secs.to_string())),
            };
            let out = request.send().await.map_err(convert)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// The live ones among `(collection, key, ttl)` items read without their envelope: the
    /// `ttl` attribute decides, and the envelope settles the last second.
    async fn live_keys(
        &self,
        items: &[Item],
        now: SystemTime,
    ) -> Result<HashSet<(String, String)>> {
        let mut live = HashSet::new();
        let mut unsure: HashMap<String, Vec<String>> = HashMap::new();
        for item in items {
            let (Ok(c), Ok(k)) = (core::collection_of(item), core::key_of(item)) else {
                continue;
            };
            match core::ttl_attr(item).map(|t| core::liveness(t, now)) {
                Ok(Liveness::Expired) => {}
                Ok(Liveness::Unsure) => unsure.entry(c.to_owned()).or_default().push(k.to_owned()),
                Ok(Liveness::Live) | Err(_) => {
                    live.insert((c.to_owned(), k.to_owned()));
                }
            }
        }
        for (c, keys) in unsure {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let found = self.find_entries(&c, &refs).await?;
            for (k, e) in keys.iter().zip(found) {
                if e.is_some() {
                    live.insert((c.clone(), k.clone()));
                }
            }
        }
        Ok(live)
    }

    /// Delete an expired item unless it was rewritten since it was read.
    async fn delete_if_unchanged(&self, item: Item) -> Result<bool> {
        let (Ok(c), Ok(k)) = (core::collection_of(&item), core::key_of(&item)) else {
            return Ok(false);
        };
        let mut request = self
            .inner
            .client
            .delete_item()
            .table_name(&self.inner.table)
            .set_key(Some(core::item_key(c, k)));
        request = match (item.get(VALUE), item.get(TTL_ATTRIBUTE)) {
            (Some(v), _) => request
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VALUE)
                .expression_attribute_values(":v", v.clone()),
            (None, Some(t)) => request
                .condition_expression("#t = :t")
                .expression_attribute_names("#t", TTL_ATTRIBUTE)
                .expression_attribute_values(":t", t.clone()),
            (None, None) => return Ok(false),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(convert(e)),
        }
    }

    fn check_keys(&self, collection: &str, keys: &[&str]) -> Result<()> {
        self.inner.caps.check_many(collection, keys.iter().copied())
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
            self.inner.caps.check(collection, key)?;
            self.inner.caps.check_value(value.len(), ttl)?;
            core::encode_item(collection, key, &value, now, rules::expires_at(now, ttl))
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

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let now = SystemTime::now();
        let requests = (|| {
            self.inner.caps.check_collection(collection)?;
            rules::check_ttl(ttl)?;
            let expires_at = rules::expires_at(now, ttl);
            // Check every entry before writing any; a key may appear once per batch, so the
            // last of each key wins.
            let mut seen = HashSet::with_capacity(entries.len());
            let mut requests = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                self.inner.caps.check_key(k)?;
                self.inner.caps.check_value(v.len(), None)?;
            }
            for (k, v) in entries.iter().rev() {
                if !seen.insert(*k) {
                    continue;
                }
                let item = core::encode_item(collection, k, v, now, expires_at)?;
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(build_error)?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            requests.reverse();
            Ok(requests)
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
                    .set_key(Some(core::item_key(collection, key)))
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
                        .set_key(Some(core::item_key(collection, &key)))
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
        .map_err(ctx_op("collections"))
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
                .filter_map(|item| Some(core::item_key(collection, core::key_of(item).ok()?)))
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
                    Some(core::item_key(
                        core::collection_of(item).ok()?,
                        core::key_of(item).ok()?,
                    ))
                })
                .collect();
            self.delete_keys(keys).await?;
            Ok(held)
        })
        .await
        .map_err(ctx_op("destroy"))
    }

    async fn cull(&self) -> Result<usize> {
        let now = SystemTime::now();
        self.within(async {
            let candidates = self.scan(Some(core::ttl_seconds(now))).await?;
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
        .map_err(ctx_op("cull"))
    }
}
