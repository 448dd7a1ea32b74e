#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod connect;
mod core;
mod document;
mod error;
mod store;

pub use crate::config::{DEFAULT_DATABASE, DEFAULT_TIMEOUT, MongoConfig};
pub use crate::document::{MAX_DOCUMENT_LEN, collection_indexes};
pub use crate::store::MongoStore;

/// The MongoDB driver this crate is built on, for [`MongoStore::client`] and
/// [`MongoConfig::client`] users who need the matching version.
pub use mongodb;
