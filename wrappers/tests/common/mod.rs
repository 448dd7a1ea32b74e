//! Test helpers: a fault-injecting wrapper over a real store.

#![allow(dead_code, unreachable_pub, unused_imports)]

mod fault;

pub use fault::{FaultLayer, FaultStore};
