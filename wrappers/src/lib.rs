//! Composable layers for Stowage stores.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "compression")]
pub mod compression;
#[cfg(feature = "fernet")]
pub mod fernet;
pub mod retry;
pub mod stats;
pub mod timeout;
pub mod ttl;
