#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub use stowage_core::*;

pub mod open;
pub use open::open;

/// The in-memory store (feature `memory`, on by default).
#[cfg(feature = "memory")]
pub mod memory {
    pub use stowage_memory::*;
}
