#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod core;
mod error;
mod filter;
mod store;

pub use config::{DEFAULT_MAX_VALUE_LEN, DEFAULT_PERIODIC_COMPACTION, Durability, RocksDbConfig};
pub use store::RocksDbStore;
pub use stowage_core::ReadPath;

/// The rust-rocksdb version this crate is built on. Re-exported so that callers (and the
/// benchmark harness) use the very same build of RocksDB instead of compiling a second one.
pub use rocksdb;
