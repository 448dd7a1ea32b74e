//! The contract of Stowage: the [`KeyValueStore`] trait and everything around it.
//!
//! - [`KeyValueStore`]: the async trait every backend and wrapper implements, object safe
//!   (`Arc<dyn KeyValueStore>` is a store too).
//! - [`Value`]: an immutable, cheaply cloned JSON object; [`Entry`]: a value with its metadata.
//! - [`Capabilities`]: the optional operations a store offers and its limits, as data.
//! - [`rules`]: names and TTLs; [`checks`]: the contract's checks and error context for
//!   backends; [`Error`] and [`ErrorKind`]: one error type for everything.
//! - [`KeyValueStoreExt`]: collection and typed handles, layering.
//! - [`Layer`]: how wrappers are put around stores.
//! - `testkit` (feature `testkit`): the conformance kit every store passes.
//! - `codec` (feature `backend-kit`, implied by `embedded`): the stored formats, for backend
//!   crates.
//!
//! ```
//! # async fn demo(store: impl stowage_core::KeyValueStore + Clone) -> stowage_core::Result<()> {
//! use std::time::Duration;
//! use stowage_core::{KeyValueStoreExt, Value};
//!
//! let sessions = store.collection("sessions");
//! sessions.put("s1", Value::from_json(r#"{"user": "alice"}"#)?, Some(Duration::from_secs(3600))).await?;
//! let entry = sessions.ttl("s1").await?.expect("just written");
//! assert!(entry.remaining_ttl().unwrap() <= Duration::from_secs(3600));
//! # Ok(()) }
//! ```

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod capabilities;
pub mod checks;
#[cfg(feature = "backend-kit")]
pub mod codec;
// Without `backend-kit` the codecs serve only this crate (the embedded store's envelope).
#[cfg(not(feature = "backend-kit"))]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod codec;
#[cfg(feature = "embedded")]
pub mod embedded;
mod entry;
mod error;
mod handles;
pub mod layer;
mod read_path;
pub mod rules;
mod store;
mod utf8;
mod value;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use async_trait::async_trait;
pub use capabilities::{Capabilities, Expiry};
pub use entry::Entry;
pub use error::{Error, ErrorKind, Result};
pub use handles::{Collection, DEFAULT_COLLECTION, KeyValueStoreExt, Typed};
pub use layer::{Identity, Layer, Stack};
pub use read_path::ReadPath;
pub use store::{__private, DynStore, KeyValueStore};
pub use value::Value;
