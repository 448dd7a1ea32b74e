//! The README's first example, compiled and run as a user's crate would.

include!(concat!(env!("OUT_DIR"), "/first_store.rs"));

/// The README's backends example: compiled (`--features backends`), not run (it needs a Redis).
#[cfg(feature = "backends")]
#[allow(dead_code)]
mod backends {
    include!(concat!(env!("OUT_DIR"), "/backends.rs"));
}
