#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod config;
mod connect;
mod core;
mod error;
mod insert;
mod item;
mod store;
mod table;

pub use crate::batch::{MAX_BATCH_GET, MAX_BATCH_WRITE};
pub use crate::config::{DEFAULT_REGION, DEFAULT_TIMEOUT, DynamoConfig};
pub use crate::item::{MAX_ITEM_LEN, TTL_ATTRIBUTE};
pub use crate::store::DynamoStore;

/// The AWS SDK crate this store is built on, for [`DynamoStore::client`] and
/// [`DynamoConfig::client`] users who need the matching version.
pub use aws_sdk_dynamodb;
