//! `sled`: the Stowage sled store; `sled-raw`: raw sled 0.34 on the same workload and settings
//! (flush after every write, the same page cache); `sled-offload`: raw sled through
//! `spawn_blocking`, to separate the thread hop from the library's own cost.

use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use stowage_sled::{ReadPath, SledStore, sled};

use super::{Backend, BuildContext};
use crate::adapter::{Adapter, Payload};

/// The same page cache on both sides: enough for every key.
fn cache_bytes(ctx: &BuildContext) -> u64 {
    ((ctx.keys * (ctx.value_size + 128) * 2) as u64).max(16 << 20)
}

pub(super) fn backends() -> Vec<Backend> {
    vec![
        Backend {
            name: "sled",
            about: "stowage-sled: sled 0.34, flush per write, spawn_blocking",
            baseline: Some("sled-raw"),
            embedded: true,
            build: |ctx| build_with(ctx, ReadPath::Offload),
        },
        Backend {
            name: "sled-inline",
            about: "stowage-sled: sled 0.34, flush per write, reads on the calling task (ReadPath::Inline)",
            baseline: Some("sled-raw"),
            embedded: true,
            build: |ctx| build_with(ctx, ReadPath::Inline),
        },
        Backend {
            name: "sled-raw",
            about: "raw sled 0.34, flush per write, called inline (baseline for sled)",
            baseline: None,
            embedded: true,
            build: |ctx| build_raw(ctx, false),
        },
        Backend {
            name: "sled-offload",
            about: "raw sled 0.34 through spawn_blocking (the thread hop alone)",
            baseline: Some("sled-raw"),
            embedded: true,
            build: |ctx| build_raw(ctx, true),
        },
    ]
}

fn build_with(ctx: &BuildContext, read_path: ReadPath) -> Result<Box<dyn Adapter>> {
    let dir = tempfile::tempdir()?;
    let store = SledStore::builder(dir.path().join("bench.sled"))
        .cache_capacity(cache_bytes(ctx))
        .read_path(read_path)
        .open()?;
    Ok(Box::new(ctx.stowage_in_dir(Arc::new(store), dir)))
}

struct Raw {
    tree: sled::Tree,
    _db: sled::Db,
    offload: bool,
    _dir: tempfile::TempDir,
}

fn build_raw(ctx: &BuildContext, offload: bool) -> Result<Box<dyn Adapter>> {
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new()
        .path(dir.path().join("raw.sled"))
        .cache_capacity(cache_bytes(ctx))
        .open()?;
    let tree = db.open_tree("bench")?;
    Ok(Box::new(Raw {
        tree,
        _db: db,
        offload,
        _dir: dir,
    }))
}

impl Raw {
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&sled::Tree) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if self.offload {
            let tree = self.tree.clone();
            tokio::task::spawn_blocking(move || f(&tree)).await?
        } else {
            f(&self.tree)
        }
    }
}

#[async_trait]
impl Adapter for Raw {
    async fn get(&self, key: &str) -> Result<bool> {
        let key = key.as_bytes().to_vec();
        self.call(move |t| Ok(t.get(key)?.map(|v| v.to_vec()).is_some()))
            .await
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        let (key, value) = (key.as_bytes().to_vec(), payload.json.clone());
        self.call(move |t| {
            t.insert(key, value.as_bytes())?;
            t.flush()?;
            Ok(())
        })
        .await
    }

    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (k, p) in entries {
            batch.insert(k.as_bytes(), p.json.as_bytes());
        }
        self.call(move |t| {
            t.apply_batch(batch)?;
            t.flush()?;
            Ok(())
        })
        .await
    }
}
