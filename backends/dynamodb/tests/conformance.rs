//! The whole conformance kit against DynamoDB Local, each case on a table of its own.

mod common;

stowage_core::conformance_tests!(common::store);
