#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod core;
mod store;

pub use config::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE_LEN, DEFAULT_SHARDS, MemoryConfig,
};
pub use store::MemoryStore;
