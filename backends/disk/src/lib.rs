#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod core;
mod error;
mod group;
mod store;

pub use config::{DEFAULT_MAX_VALUE_LEN, DEFAULT_SWEEP_INTERVAL, DiskConfig, Durability};
pub use store::DiskStore;
pub use stowage_core::ReadPath;

/// The redb version this crate is built on, re-exported for callers who open the file directly.
pub use redb;
