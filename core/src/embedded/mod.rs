//! The async store over a synchronous, in-process engine: what the redb, sled and RocksDB
//! backends share (feature `embedded`).
//!
//! A backend implements [`Engine`]: a handful of blocking calls on physical keys
//! ([`binary::physical_key`](crate::codec::binary::physical_key)) and version-1 binary
//! envelopes ([`binary::encode`](crate::codec::binary::encode)). [`EmbeddedStore`] turns it into
//! a [`KeyValueStore`](crate::KeyValueStore):
//!
//! - names, TTLs and value sizes are checked before the engine is called, so bad input never
//!   reaches the disk;
//! - entries are encoded with `created_at` and `expires_at`, and expired entries are filtered out
//!   of every read and listing;
//! - no engine call stalls a runtime worker: writes and scans run on Tokio's blocking pool;
//!   point reads the engine can answer from memory alone ([`Engine::get_many_cached`]) run on
//!   the calling task, and the others block in place (`block_in_place`, which hands the
//!   worker's other tasks to another thread) on a multi-thread runtime or go to the blocking
//!   pool on a current-thread one; [`ReadPath::Inline`](crate::ReadPath::Inline) runs every point read on the calling
//!   task;
//! - an optional [`Sweeper`] thread culls expired entries at an interval.
//!
//! The backend's own store type holds an `EmbeddedStore` and forwards the trait to it with
//! [`delegate_store!`](crate::delegate_store).

mod engine;
mod options;
mod run;
mod store;
mod sweeper;
#[cfg(test)]
mod tests;

pub use engine::{Engine, Record};
pub use options::{
    DEFAULT_MAX_VALUE_LEN, DEFAULT_SWEEP_INTERVAL, EmbeddedOptions, MAX_VALUE_LEN_LIMIT,
};
pub use store::EmbeddedStore;
pub use sweeper::Sweeper;
