//! Context on the errors a layer raises itself (input it refuses before the inner store sees it),
//! so that every error names a backend and an operation, as the conformance kit checks: the
//! core's [`context`](stowage_core::checks::context), with the layer's name as the backend. An
//! error from the inner store keeps the context it already has.

pub(crate) use stowage_core::checks::context;
