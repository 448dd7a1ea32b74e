//! Composable layers for Stowage stores.
//!
//! A layer wraps a store in another store: `store.layer(X)` (from
//! [`KeyValueStoreExt`](stowage_core::KeyValueStoreExt)). Each wrapper changes one thing and
//! forwards everything else, including the optional operations and `capabilities()` (adjusted
//! where it changes what is possible). Each passes the conformance kit over the memory store.
//! The layer owns the configuration and any shared state (statistics counters, the Fernet key
//! set, the local tier of the cache), so keep a clone of it to read or steer that state later.
//!
//! | module | what it does | py-key-value counterpart |
//! | --- | --- | --- |
//! | [`fernet`] | Fernet encryption at rest, key rotation, re-encryption (feature `fernet`) | `FernetEncryptionWrapper` (same stored format) |
//! | [`ttl`] | default TTL for writes without one; TTLs clamped to a range | `TTLClampWrapper` |
//! | [`compression`] | gzip above a size threshold (feature `compression`) | `CompressionWrapper` (same stored format) |
//! | [`prefix`] | key prefix, collection prefix | `PrefixKeysWrapper`, `PrefixCollectionsWrapper` |
//! | [`single_collection`] | every collection in one | `SingleCollectionWrapper` |
//! | [`read_only`] | refuse (or ignore) writes, switchable | `ReadOnlyWrapper` |
//! | [`stats`] | hits, misses, puts and deletes per collection | `StatisticsWrapper` |
//! | [`logging`] | one `tracing` event per operation; values hidden by default | `LoggingWrapper` |
//! | [`retry`] | exponential backoff on retryable errors | `RetryWrapper` |
//! | [`timeout`] | a deadline per operation | `TimeoutWrapper` |
//! | [`fallback`] | a second store when the first fails | `FallbackWrapper` |
//! | [`passthrough`] | a local tier in front of a remote store, single-flight loads | `PassthroughCacheWrapper` |
//! | [`size_limit`] | reject or skip values outside a size range | `LimitSizeWrapper` |
//! | [`routing`] | collections routed to different stores | `RoutingWrapper` |
//! | [`default_value`] | a default on a miss | `DefaultValueWrapper` |
//!
//! The typed adapter is in core: [`KeyValueStoreExt::typed`](stowage_core::KeyValueStoreExt::typed).
//!
//! # Order
//!
//! `a.layer(X).layer(Y)` puts `Y` outside `X`: a call goes through `Y` first, a value written
//! reaches `X` after `Y` has changed it.
//!
//! - **Compression outside encryption**: `store.layer(fernet).layer(compression)` compresses
//!   plaintext, then encrypts. The other way round compresses ciphertext, which does not shrink.
//! - **Timeout inside retry**: `store.layer(timeout).layer(retry)` gives each attempt its own
//!   deadline; outside, one deadline covers all attempts.
//! - **Statistics and the cache**: statistics outside the passthrough cache count what callers
//!   see; under it they count what reaches the remote store.
//! - **Retry closest to the backend**: so that a retried call repeats only the backend's work,
//!   not encryption or compression.
//!
//! ```
//! use std::time::Duration;
//! use stowage_core::{KeyValueStore, KeyValueStoreExt, Value};
//! use stowage_memory::MemoryStore;
//! use stowage_wrappers::{
//!     compression::CompressionLayer,
//!     fernet::{FernetKey, FernetLayer},
//!     retry::RetryLayer,
//!     stats::StatsLayer,
//!     ttl::TtlLayer,
//! };
//!
//! # #[tokio::main] async fn main() -> stowage_core::Result<()> {
//! let stats = StatsLayer::new();
//! let store = MemoryStore::new()
//!     .layer(RetryLayer::default())
//!     .layer(FernetLayer::new(FernetKey::from_base64(&FernetKey::generate_text())?))
//!     .layer(CompressionLayer::default())
//!     .layer(TtlLayer::builder().max(Duration::from_secs(3600)).build()?)
//!     .layer(stats.clone());
//!
//! store.put("tokens", "alice", Value::from_json(r#"{"access":"abc"}"#)?, None).await?;
//! assert!(store.get("tokens", "alice").await?.is_some());
//! assert_eq!(stats.collection("tokens").hits, 1);
//! # Ok(()) }
//! ```

#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "compression")]
pub mod compression;
mod context;
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
