//! The table: created on demand when allowed, otherwise verified; TTL switched on.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use stowage_core::Result;

use crate::config::config_error;
use crate::error::{build_error, convert, service_code};
use crate::item::{COLLECTION, KEY, TTL_ATTRIBUTE};

/// How long a new table may take to become active.
const ACTIVE_WAIT: Duration = Duration::from_secs(120);

/// Make sure `table` exists with the key schema `py-key-value-aio` uses, and that TTL is on for
/// the `ttl` attribute.
pub(crate) async fn ensure(client: &Client, table: &str, create: bool) -> Result<()> {
    let description = match client.describe_table().table_name(table).send().await {
        Ok(out) => out.table,
        Err(e) if service_code(&e) == Some("ResourceNotFoundException") => {
            if !create {
                return Err(config_error(format!(
                    "DynamoDB table `{table}` does not exist; create it or allow the store to \
                     (create_table(true))"
                )));
            }
            create_table(client, table).await?;
            None
        }
        Err(e) => return Err(convert(e)),
    };
    let description = match description {
        Some(d) if d.table_status == Some(TableStatus::Active) => d,
        _ => wait_active(client, table).await?,
    };
    check_schema(table, &description)?;
    ensure_ttl(client, table).await
}

async fn create_table(client: &Client, table: &str) -> Result<()> {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(build_error)
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build_error)
    };
    let result = client
        .create_table()
        .table_name(table)
        .key_schema(key(COLLECTION, KeyType::Hash)?)
        .key_schema(key(KEY, KeyType::Range)?)
        .attribute_definitions(attr(COLLECTION)?)
        .attribute_definitions(attr(KEY)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        // Someone else is creating it at the same time.
        Err(e) if service_code(&e) == Some("ResourceInUseException") => Ok(()),
        Err(e) => Err(convert(e)),
    }
}

async fn wait_active(client: &Client, table: &str) -> Result<TableDescription> {
    let start = Instant::now();
    loop {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(convert)?;
        if let Some(d) = out
            .table
            .filter(|d| d.table_status == Some(TableStatus::Active))
        {
            return Ok(d);
        }
        if start.elapsed() > ACTIVE_WAIT {
            return Err(config_error(format!(
                "DynamoDB table `{table}` did not become active within {ACTIVE_WAIT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn check_schema(table: &str, d: &TableDescription) -> Result<()> {
    let has_key = |name: &str, kind: KeyType| {
        d.key_schema()
            .iter()
            .any(|k| k.attribute_name() == name && *k.key_type() == kind)
    };
    let is_string = |name: &str| {
        d.attribute_definitions()
            .iter()
            .any(|a| a.attribute_name() == name && *a.attribute_type() == ScalarAttributeType::S)
    };
    if d.key_schema().len() == 2
        && has_key(COLLECTION, KeyType::Hash)
        && has_key(KEY, KeyType::Range)
        && is_string(COLLECTION)
        && is_string(KEY)
    {
        Ok(())
    } else {
        Err(config_error(format!(
            "DynamoDB table `{table}` does not have the key schema this store needs: partition \
             key `collection` (S) and sort key `key` (S)"
        )))
    }
}

async fn ensure_ttl(client: &Client, table: &str) -> Result<()> {
    let out = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(convert)?;
    let description = out.time_to_live_description();
    let status = description.and_then(|d| d.time_to_live_status());
    let attribute = description.and_then(|d| d.attribute_name());
    match status {
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => match attribute {
            Some(TTL_ATTRIBUTE) | None => Ok(()),
            Some(other) => Err(config_error(format!(
                "DynamoDB table `{table}` has TTL on attribute `{other}`; this store writes \
                 `{TTL_ATTRIBUTE}`"
            ))),
        },
        Some(TimeToLiveStatus::Disabling) => Err(config_error(format!(
            "TTL of DynamoDB table `{table}` is being disabled; try again once it is off"
        ))),
        _ => {
            let spec = TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(build_error)?;
            client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(convert)?;
            Ok(())
        }
    }
}
