#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod coalesce;
mod config;
mod connect;
mod core;
mod error;
mod layout;
mod pool;
mod slots;
mod store;

pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_CONNECTIONS, DEFAULT_MAX_VALUE_LEN, DEFAULT_SCAN_COUNT,
    DEFAULT_TIMEOUT, MAX_CONNECTIONS, RedisConfig,
};
pub use store::RedisStore;
