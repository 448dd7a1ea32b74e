//! Stored formats shared by several backends.
//!
//! - [`binary`]: the compact, versioned envelope of the embedded backends (redb, sled, RocksDB).
//! - [`json`]: the JSON envelope of `py-key-value-aio` 0.4.x, which the remote backends store so
//!   that Python and Rust servers can share one Redis, MongoDB or DynamoDB.

pub mod binary;
mod canonical;
pub mod json;
mod utc;
