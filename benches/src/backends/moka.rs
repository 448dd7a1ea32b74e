//! `moka`: the raw baseline for the memory store, a `moka::sync::Cache` holding the same JSON text.

use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;

use super::{Backend, BuildContext};
use crate::adapter::{Adapter, Payload};

pub(super) fn backend() -> Backend {
    Backend {
        name: "moka",
        about: "raw moka::sync::Cache (baseline for memory)",
        baseline: None,
        embedded: true,
        build,
    }
}

struct Moka {
    cache: moka::sync::Cache<String, Arc<str>>,
}

fn build(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    let cache = moka::sync::Cache::builder()
        .max_capacity((ctx.keys * 2) as u64)
        .build();
    Ok(Box::new(Moka { cache }))
}

#[async_trait]
impl Adapter for Moka {
    async fn get(&self, key: &str) -> Result<bool> {
        Ok(self.cache.get(key).is_some())
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        self.cache.insert(key.to_owned(), payload.json.clone());
        Ok(())
    }
}
