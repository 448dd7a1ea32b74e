//! Engine calls of [`DynamoStore`]: requests under the store's deadline, batched reads and
//! writes, queries and scans.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::SystemTime;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};
use futures::{StreamExt, TryStreamExt};
use stowage_core::checks::unique_keys;
use stowage_core::{Entry, Result};

use crate::batch::{MAX_BATCH_GET, MAX_BATCH_WRITE, drain};
use crate::error::{self, build_error, convert, service_code};
use crate::item::{self, COLLECTION, Item, KEY, Liveness, TTL_ATTRIBUTE, VALUE};

use crate::store::{DynamoStore, PARALLEL_BATCHES};

impl DynamoStore {
    /// Run a call (its retries included) under the store's timeout.
    pub(crate) async fn within<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.inner.timeout, fut)
            .await
            .unwrap_or_else(|_| Err(error::timed_out(self.inner.timeout)))
    }

    pub(crate) fn is_live(&self, item: &Item, now: SystemTime) -> bool {
        match item::ttl_attr(item).map(|t| item::liveness(t, now)) {
            Ok(Liveness::Live) | Err(_) => true,
            Ok(Liveness::Expired) => false,
            Ok(Liveness::Unsure) => item::decode_item(item).is_ok_and(|e| !e.is_expired_at(now)),
        }
    }

    pub(crate) async fn get_item(&self, collection: &str, key: &str) -> Result<Option<Item>> {
        let out = self
            .inner
            .client
            .get_item()
            .table_name(&self.inner.table)
            .set_key(Some(item::item_key(collection, key)))
            .consistent_read(self.inner.consistent_read)
            .send()
            .await
            .map_err(convert)?;
        Ok(out.item)
    }

    /// One `BatchGetItem` of up to 100 keys, resending unprocessed keys.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>> {
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
    pub(crate) async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<()> {
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
    pub(crate) async fn write_all(&self, requests: Vec<WriteRequest>) -> Result<()> {
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

    pub(crate) async fn delete_keys(&self, keys: Vec<Item>) -> Result<()> {
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
    pub(crate) async fn find_entries(
        &self,
        collection: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Entry>>> {
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
                    .map(|c| c.iter().map(|k| item::item_key(collection, k)).collect())
                    .collect();
                let items: Vec<Vec<Item>> = futures::stream::iter(batches)
                    .map(|b| self.batch_get(b))
                    .buffer_unordered(PARALLEL_BATCHES)
                    .try_collect()
                    .await?;
                items
                    .into_iter()
                    .flatten()
                    .filter_map(|item| Some((item::key_of(&item).ok()?.to_owned(), item)))
                    .collect()
            }
        };
        keys.iter()
            .map(|k| match found.get(*k) {
                None => Ok(None),
                Some(item) => {
                    let entry = item::decode_item(item)?;
                    Ok((!entry.is_expired_at(now)).then_some(entry))
                }
            })
            .collect()
    }

    /// Every item of one collection (key and `ttl` only), through all pages.
    pub(crate) async fn query_collection(&self, collection: &str) -> Result<Vec<Item>> {
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
    pub(crate) async fn scan(&self, expired_before: Option<i64>) -> Result<Vec<Item>> {
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
    pub(crate) async fn live_keys(
        &self,
        items: &[Item],
        now: SystemTime,
    ) -> Result<HashSet<(String, String)>> {
        let mut live = HashSet::new();
        let mut unsure: HashMap<String, Vec<String>> = HashMap::new();
        for item in items {
            let (Ok(c), Ok(k)) = (item::collection_of(item), item::key_of(item)) else {
                continue;
            };
            match item::ttl_attr(item).map(|t| item::liveness(t, now)) {
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
    pub(crate) async fn delete_if_unchanged(&self, item: Item) -> Result<bool> {
        let (Ok(c), Ok(k)) = (item::collection_of(&item), item::key_of(&item)) else {
            return Ok(false);
        };
        let mut request = self
            .inner
            .client
            .delete_item()
            .table_name(&self.inner.table)
            .set_key(Some(item::item_key(c, k)));
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

    pub(crate) fn check_keys(&self, collection: &str, keys: &[&str]) -> Result<()> {
        self.inner.caps.check_many(collection, keys.iter().copied())
    }
}
