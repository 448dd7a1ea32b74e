#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod core;
mod error;
mod store;

pub use crate::config::{DEFAULT_DATABASE, DEFAULT_TIMEOUT, MongoConfig};
pub use crate::core::{MAX_DOCUMENT_LEN, collection_indexes};
pub use crate::store::MongoStore;

/// The MongoDB driver this crate is built on, for [`MongoStore::client`] and
/// [`MongoConfig::client`] users who need the matching version.
pub use mongodb;
