#![doc = include_str!("docs.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod core;
mod error;
mod store;

pub use config::{DEFAULT_MAX_VALUE_LEN, DEFAULT_SWEEP_INTERVAL, Durability, SledConfig};
pub use store::SledStore;
pub use stowage_core::ReadPath;

/// The sled version this crate is built on, re-exported for callers who open the files directly.
pub use sled;
