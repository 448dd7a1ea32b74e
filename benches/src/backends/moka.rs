//! `moka`: the raw baseline for the memory store, a `moka::sync::Cache` holding the same JSON text.

use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// The JSON text and its expiry, which moka's per-entry `Expiry` reads.
#[derive(Clone)]
struct Entry {
    json: Arc<str>,
    expires_at: Option<Instant>,
}

impl Entry {
    fn new(payload: &Payload, expires_at: Option<Instant>) -> Entry {
        Entry {
            json: payload.json.clone(),
            expires_at,
        }
    }
}

struct PerEntry;

impl moka::Expiry<String, Entry> for PerEntry {
    fn expire_after_create(
        &self,
        _: &String,
        value: &Entry,
        created_at: Instant,
    ) -> Option<Duration> {
        value
            .expires_at
            .map(|at| at.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &Entry,
        updated_at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        value
            .expires_at
            .map(|at| at.saturating_duration_since(updated_at))
    }
}

struct Moka {
    cache: moka::sync::Cache<String, Entry>,
}

fn build(ctx: &BuildContext) -> Result<Box<dyn Adapter>> {
    let cache = moka::sync::Cache::builder()
        .max_capacity((ctx.keys * 2) as u64)
        .expire_after(PerEntry)
        .build();
    Ok(Box::new(Moka { cache }))
}

#[async_trait]
impl Adapter for Moka {
    async fn get(&self, key: &str) -> Result<bool> {
        // A hit hands back the stored JSON, as the Stowage adapter does.
        Ok(self.cache.get(key).is_some_and(|e| !e.json.is_empty()))
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        self.cache.insert(key.to_owned(), Entry::new(payload, None));
        Ok(())
    }

    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        self.cache.insert(
            key.to_owned(),
            Entry::new(payload, Some(Instant::now() + ttl)),
        );
        Ok(())
    }
}
