#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]
//!
//! # Cargo features
//!
//! Each backend is its own crate, re-exported here as a module when its feature is on, so you
//! compile only the engines you use:
//!
//! | feature | module | on by default |
//! | --- | --- | --- |
//! | `memory` | [`memory`] (`MemoryStore`) | yes |
//! | `wrappers` | [`wrappers`] (Fernet encryption, compression, TTL rules, statistics, …) | yes |
//! | `disk` | `disk` (`DiskStore`, redb) | no |
//! | `sled` | `sled` (`SledStore`) | no |
//! | `rocksdb` | `rocksdb` (`RocksDbStore`; a long C++ build) | no |
//! | `redis` | `redis` (`RedisStore`, single node and cluster) | no |
//! | `mongodb` | `mongodb` (`MongoStore`) | no |
//! | `dynamodb` | `dynamodb` (`DynamoStore`) | no |
//!
//! [`open`] reaches every store whose feature is on by URL; a URL whose feature is off is an
//! [`ErrorKind::Unsupported`] error naming the feature.

pub use stowage_core::*;

pub mod open;
pub use open::open;

/// The bounded, sharded in-memory store (feature `memory`, on by default): the
/// `stowage-memory` crate.
///
/// ```
/// use stowage::memory::MemoryStore;
///
/// let store = MemoryStore::builder().max_entries(1_000).build().unwrap();
/// # let _ = store;
/// ```
#[cfg(feature = "memory")]
pub use stowage_memory as memory;

/// Composable layers over any store (feature `wrappers`, on by default): the
/// `stowage-wrappers` crate, with its `fernet` and `compression` features.
///
/// ```
/// use stowage::{KeyValueStoreExt, memory::MemoryStore, wrappers::prefix::CollectionPrefixLayer};
///
/// let store = MemoryStore::new().layer(CollectionPrefixLayer::new("app").unwrap());
/// # let _ = store;
/// ```
#[cfg(feature = "wrappers")]
pub use stowage_wrappers as wrappers;

/// The redb disk store (feature `disk`): the `stowage-disk` crate.
#[cfg(feature = "disk")]
pub use stowage_disk as disk;

/// The sled store (feature `sled`): the `stowage-sled` crate.
#[cfg(feature = "sled")]
pub use stowage_sled as sled;

/// The RocksDB store (feature `rocksdb`): the `stowage-rocksdb` crate.
#[cfg(feature = "rocksdb")]
pub use stowage_rocksdb as rocksdb;

/// The Redis store, single node and cluster (feature `redis`): the `stowage-redis` crate.
#[cfg(feature = "redis")]
pub use stowage_redis as redis;

/// The MongoDB store (feature `mongodb`): the `stowage-mongodb` crate.
#[cfg(feature = "mongodb")]
pub use stowage_mongodb as mongodb;

/// The DynamoDB store (feature `dynamodb`): the `stowage-dynamodb` crate.
#[cfg(feature = "dynamodb")]
pub use stowage_dynamodb as dynamodb;
