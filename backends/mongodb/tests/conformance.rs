//! The whole conformance kit against a real MongoDB-compatible server, each case on a database
//! of its own.

mod common;

stowage_core::conformance_tests!(common::store);
