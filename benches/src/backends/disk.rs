//! `disk`: the Stowage redb store; `redb`: raw redb on the same workload and settings (one file,
//! immediate durability, the same page cache); `redb-offload`: raw redb through
//! `spawn_blocking`, to separate the thread hop from the library's own cost.

use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use stowage_disk::redb::{self, ReadableDatabase};
use stowage_disk::{DiskStore, ReadPath};

use super::{Backend, BuildContext};
use crate::adapter::{Adapter, Payload};

/// The same page cache on both sides: enough for every key.
fn cache_bytes(ctx: &BuildContext) -> usize {
    (ctx.keys * (ctx.value_size + 128) * 2).max(16 << 20)
}

pub(super) fn backends() -> Vec<Backend> {
    vec![
        Backend {
            name: "disk",
            about: "stowage-disk: redb file, fsync per write, spawn_blocking",
            baseline: Some("redb"),
            embedded: true,
            build: |ctx| build_with(ctx, ReadPath::Offload),
        },
        Backend {
            name: "disk-inline",
            about: "stowage-disk: redb file, fsync per write, reads on the calling task (ReadPath::Inline)",
            baseline: Some("redb"),
            embedded: true,
            build: |ctx| build_with(ctx, ReadPath::Inline),
        },
        Backend {
            name: "redb",
            about: "raw redb 4, fsync per write, called inline (baseline for disk)",
            baseline: None,
            embedded: true,
            build: |ctx| build_raw(ctx, false),
        },
        Backend {
            name: "redb-offload",
            about: "raw redb 4 through spawn_blocking (the thread hop alone)",
            baseline: Some("redb"),
            embedded: true,
            build: |ctx| build_raw(ctx, true),
        },
    ]
}

fn build_with(ctx: &BuildContext, read_path: ReadPath) -> Result<Box<dyn Adapter>> {
    let dir = tempfile::tempdir()?;
    let store = DiskStore::builder(dir.path().join("bench.redb"))
        .cache_size(cache_bytes(ctx))
        .read_path(read_path)
        .open()?;
    Ok(Box::new(ctx.stowage_in_dir(Arc::new(store), dir)))
}

const TABLE: redb::TableDefinition<'static, &[u8], &[u8]> = redb::TableDefinition::new("bench");

struct Raw {
    db: Arc<redb::Database>,
    offload: bool,
    _dir: tempfile::TempDir,
}

fn get(db: &redb::Database, key: &[u8]) -> Result<bool> {
    let txn = db.begin_read()?;
    let table = txn.open_table(TABLE)?;
    let found = table.get(key)?.map(|v| v.value().to_vec());
    Ok(found.is_some())
}

fn put(db: &redb::Database, entries: &[(Vec<u8>, Arc<str>)]) -> Result<()> {
    let txn = db.begin_write()?;
    {
        let mut table = txn.open_table(TABLE)?;
        for (k, v) in entries {
            table.insert(k.as_slice(), v.as_bytes())?;
        }
    }
    txn.commit()?;
    Ok(())
}

fn build_raw(ctx: &BuildContext, offload: bool) -> Result<Box<dyn Adapter>> {
    let dir = tempfile::tempdir()?;
    let db = redb::Builder::new()
        .set_cache_size(cache_bytes(ctx))
        .create(dir.path().join("raw.redb"))?;
    let txn = db.begin_write()?;
    txn.open_table(TABLE)?;
    txn.commit()?;
    Ok(Box::new(Raw {
        db: Arc::new(db),
        offload,
        _dir: dir,
    }))
}

impl Raw {
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&redb::Database) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if self.offload {
            let db = self.db.clone();
            tokio::task::spawn_blocking(move || f(&db)).await?
        } else {
            f(&self.db)
        }
    }
}

#[async_trait]
impl Adapter for Raw {
    async fn get(&self, key: &str) -> Result<bool> {
        let key = key.as_bytes().to_vec();
        self.call(move |db| get(db, &key)).await
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        let entries = vec![(key.as_bytes().to_vec(), payload.json.clone())];
        self.call(move |db| put(db, &entries)).await
    }

    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        let entries: Vec<(Vec<u8>, Arc<str>)> = entries
            .iter()
            .map(|(k, p)| (k.as_bytes().to_vec(), p.json.clone()))
            .collect();
        self.call(move |db| put(db, &entries)).await
    }
}
