//! Composable layers for Stowage stores.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "fernet")]
pub mod fernet;
