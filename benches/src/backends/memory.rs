//! `memory`: the Stowage memory store.

use std::sync::Arc;

use stowage_memory::MemoryStore;

use super::{Backend, BuildContext};
use crate::adapter::Adapter;

pub(super) fn backend() -> Backend {
    Backend {
        name: "memory",
        about: "stowage-memory: bounded sharded in-memory store",
        baseline: Some("moka"),
        embedded: true,
        build,
    }
}

fn build(ctx: &BuildContext) -> anyhow::Result<Box<dyn Adapter>> {
    // Room for every key, like the moka baseline, so neither evicts.
    let store = MemoryStore::builder()
        .max_entries(ctx.keys * 2)
        .max_bytes((ctx.keys * 2) * (ctx.value_size + 256))
        .build()?;
    Ok(Box::new(ctx.stowage(Arc::new(store))))
}
