#![doc = include_str!("../docs.md")]
#![deny(unsafe_code)]

#[cfg(feature = "auth")]
mod credentials;
mod error;
#[cfg(feature = "events-sessions")]
mod events;
pub mod layout;
#[cfg(feature = "events-sessions")]
mod sessions;
#[cfg(feature = "auth")]
mod state;

#[cfg(feature = "auth")]
pub use credentials::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_LEASE, DEFAULT_POLL, Lease, StowageCredentialStore,
};
pub use error::Error;
#[cfg(feature = "events-sessions")]
pub use events::{
    DEFAULT_EVENT_TTL, DEFAULT_MAX_EVENTS_PER_STREAM, EventStoreBuilder, StowageEventStore,
};
#[cfg(feature = "events-sessions")]
pub use sessions::StowageSessionStore;
#[cfg(feature = "auth")]
pub use state::{DEFAULT_STATE_TTL, StowageStateStore};
