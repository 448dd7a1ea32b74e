//! What a lookup finds and what becomes of an answer.

use stowage_core::Value;

use crate::method::Method;
use crate::request::SkipReason;

/// What a lookup found.
#[derive(Debug)]
#[must_use]
pub enum Lookup {
    /// The answer, as the server gave it (with `ttlMs` lowered to the time left when the
    /// server sent one).
    Hit(Value),
    /// Not cached: forward the request, then hand the answer to [`ResponseCache::complete`](crate::ResponseCache::complete).
    Miss(Ticket),
    /// The cache does not apply to this request: forward it and do not store the answer.
    Bypass,
}

/// A pending miss: where its answer will be stored.
#[derive(Debug)]
#[must_use]
pub struct Ticket {
    pub(super) method: Method,
    pub(super) private_key: String,
    pub(super) public_key: String,
    pub(super) partition: String,
    pub(super) public_partition: String,
    pub(super) generation: u64,
    pub(super) resource_epoch: u64,
    pub(super) nested_epoch: u64,
}

impl Ticket {
    /// The method of the request that missed.
    pub fn method(&self) -> Method {
        self.method
    }
}

/// What [`ResponseCache::complete`](crate::ResponseCache::complete) did with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The answer was stored.
    Stored,
    /// The answer was not kept, for this reason.
    Skipped(SkipReason),
    /// The store failed or did not answer in time; nothing was kept.
    Failed,
}
