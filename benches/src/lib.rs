//! The Stowage benchmark harness as a library: engines behind one [`adapter::Adapter`], named in
//! [`backends`], driven by [`runner`] through a [`workload::Workload`], reported by [`report`].
//! The `stowage-bench` binary is its command line.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod adapter;
pub mod backends;
pub mod cpu;
pub mod plot;
pub mod pykv;
pub mod report;
pub mod runner;
pub mod workload;
pub mod wrappers;
