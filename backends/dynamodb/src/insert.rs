//! `put_if_absent` as conditional `PutItem`s.
//!
//! A condition can read the `ttl` attribute but not the envelope's precise expiry inside `value`,
//! so the insert goes in two steps. First a put conditioned on "no item, or an item whose `ttl`
//! second has passed" — which decides every case but one: an item whose `ttl` is the current
//! second may or may not have expired. That item is read (consistently) and judged by its precise
//! expiry; when it has expired, a second put replaces it on condition that its `value` is still
//! the one read. A conflict on that step starts over, so of any number of racing writers, in any
//! number of processes, exactly one inserts.

use std::time::SystemTime;

use aws_sdk_dynamodb::types::AttributeValue;
use stowage_core::{Error, ErrorKind, Result};

use crate::error::{convert, service_code};
use crate::item::{self, Item, KEY, TTL_ATTRIBUTE, VALUE};
use crate::store::DynamoStore;

/// Rounds of "conditional put, read, conditional put" before giving up: each lost round means
/// another writer changed the item in between.
const ATTEMPTS: usize = 16;

impl DynamoStore {
    /// Write `item` unless a live item holds its key; whether it wrote.
    pub(crate) async fn insert_if_absent(
        &self,
        collection: &str,
        key: &str,
        item: Item,
    ) -> Result<bool> {
        for _ in 0..ATTEMPTS {
            let now = SystemTime::now();
            let now_secs = AttributeValue::N(item::ttl_seconds(now).to_string());
            let absent_or_expired = [("#k", KEY), ("#t", TTL_ATTRIBUTE)];
            let condition = "attribute_not_exists(#k) OR #t < :now";
            if self
                .put_when(&item, condition, &absent_or_expired, (":now", now_secs))
                .await?
            {
                return Ok(true);
            }
            let Some(current) = self.read_consistent(collection, key).await? else {
                continue; // deleted since: try again
            };
            if self.is_live(&current, SystemTime::now()) {
                return Ok(false);
            }
            let Some(old) = current.get(VALUE) else {
                return Ok(false); // no envelope: not a Stowage entry, left alone
            };
            if self
                .put_when(&item, "#v = :v", &[("#v", VALUE)], (":v", old.clone()))
                .await?
            {
                return Ok(true);
            }
        }
        Err(Error::new(
            ErrorKind::Backend,
            format!("the item changed under {ATTEMPTS} conditional inserts in a row"),
        ))
    }

    /// A `PutItem` of `item` on `condition`; `false` when the condition did not hold.
    async fn put_when(
        &self,
        item: &Item,
        condition: &str,
        names: &[(&str, &str)],
        value: (&str, AttributeValue),
    ) -> Result<bool> {
        let mut request = self
            .inner
            .client
            .put_item()
            .table_name(&self.inner.table)
            .set_item(Some(item.clone()))
            .condition_expression(condition)
            .expression_attribute_values(value.0, value.1);
        for (placeholder, name) in names {
            request = request.expression_attribute_names(*placeholder, *name);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(convert(e)),
        }
    }

    /// The item of `key`, read consistently whatever the store's read setting.
    async fn read_consistent(&self, collection: &str, key: &str) -> Result<Option<Item>> {
        let out = self
            .inner
            .client
            .get_item()
            .table_name(&self.inner.table)
            .set_key(Some(item::item_key(collection, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(convert)?;
        Ok(out.item)
    }
}
