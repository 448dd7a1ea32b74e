//! Composable layers for Stowage stores.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "compression")]
pub mod compression;
pub mod default_value;
pub mod fallback;
#[cfg(feature = "fernet")]
pub mod fernet;
pub mod logging;
pub mod passthrough;
pub mod prefix;
pub mod read_only;
pub mod retry;
pub mod routing;
pub mod single_collection;
pub mod size_limit;
pub mod stats;
pub mod timeout;
pub mod ttl;
