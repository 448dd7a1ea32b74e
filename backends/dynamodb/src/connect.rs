//! Connecting: the SDK client from the configuration (credentials, region, endpoint,
//! timeouts) and the table check.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use stowage_core::{Capabilities, Expiry, Result};

use crate::config::{DEFAULT_REGION, DynamoConfig, config_error};
use crate::error::{self};
use crate::item::{MAX_COLLECTION_LEN, MAX_KEY_LEN, MAX_VALUE_LEN};
use crate::table;

use crate::store::{DynamoStore, Inner, ctx};

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
    pub(crate) async fn from_config(config: DynamoConfig) -> Result<Self> {
        config.check()?;
        let client = make_client(&config).await?;
        tokio::time::timeout(
            config.timeout.max(Duration::from_secs(30)),
            table::ensure(&client, &config.table, config.create_table),
        )
        .await
        .unwrap_or_else(|_| Err(error::timed_out(config.timeout)))
        .map_err(ctx("build", ""))?;
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
}
