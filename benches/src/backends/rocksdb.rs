//! `rocksdb`: the Stowage RocksDB store; `rocksdb-raw`: raw rust-rocksdb on the same workload and
//! settings (WAL fsynced per write, LZ4, the same build of RocksDB through the re-export);
//! `rocksdb-offload`: raw RocksDB through `spawn_blocking`, to separate the thread hop from the
//! library's own cost. Behind the `rocksdb` feature, so the default harness build never compiles
//! RocksDB.

use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use stowage_rocksdb::rocksdb;
use stowage_rocksdb::{ReadPath, RocksDbStore};

use super::{Backend, BuildContext};
use crate::adapter::{Adapter, Payload};

pub(super) fn backends() -> Vec<Backend> {
    vec![
        Backend {
            name: "rocksdb",
            about: "stowage-rocksdb: WAL fsync per write, spawn_blocking",
            baseline: Some("rocksdb-raw"),
            embedded: true,
            build: |ctx| build_with(ctx, ReadPath::Offload),
        },
        Backend {
            name: "rocksdb-inline",
            about: "stowage-rocksdb: WAL fsync per write, reads on the calling task (ReadPath::Inline)",
            baseline: Some("rocksdb-raw"),
            embedded: true,
            build: |ctx| build_with(ctx, ReadPath::Inline),
        },
        Backend {
            name: "rocksdb-raw",
            about: "raw rust-rocksdb, WAL fsync per write, called inline (baseline for rocksdb)",
            baseline: None,
            embedded: true,
            build: |ctx| build_raw(ctx, false),
        },
        Backend {
            name: "rocksdb-offload",
            about: "raw rust-rocksdb through spawn_blocking (the thread hop alone)",
            baseline: Some("rocksdb-raw"),
            embedded: true,
            build: |ctx| build_raw(ctx, true),
        },
    ]
}

fn build_with(ctx: &BuildContext, read_path: ReadPath) -> Result<Box<dyn Adapter>> {
    let dir = tempfile::tempdir()?;
    let store = RocksDbStore::builder(dir.path().join("bench.rocksdb"))
        .read_path(read_path)
        .open()?;
    Ok(Box::new(ctx.stowage_in_dir(Arc::new(store), dir)))
}

struct Raw {
    db: Arc<rocksdb::DB>,
    write: Arc<rocksdb::WriteOptions>,
    offload: bool,
    _dir: tempfile::TempDir,
}

fn build_raw(_ctx: &BuildContext, offload: bool) -> Result<Box<dyn Adapter>> {
    let dir = tempfile::tempdir()?;
    // The store's settings: create, parallelism, LZ4; the expiry filter has nothing to match.
    let mut opts = rocksdb::Options::default();
    opts.create_if_missing(true);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    opts.increase_parallelism(i32::try_from(cores).unwrap_or(2).max(2));
    opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
    let db = rocksdb::DB::open(&opts, dir.path().join("raw.rocksdb"))?;
    let mut write = rocksdb::WriteOptions::default();
    write.set_sync(true);
    Ok(Box::new(Raw {
        db: Arc::new(db),
        write: Arc::new(write),
        offload,
        _dir: dir,
    }))
}

impl Raw {
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rocksdb::DB, &rocksdb::WriteOptions) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if self.offload {
            let (db, write) = (self.db.clone(), self.write.clone());
            tokio::task::spawn_blocking(move || f(&db, &write)).await?
        } else {
            f(&self.db, &self.write)
        }
    }
}

#[async_trait]
impl Adapter for Raw {
    async fn get(&self, key: &str) -> Result<bool> {
        let key = key.as_bytes().to_vec();
        self.call(move |db, _| Ok(db.get(key)?.is_some())).await
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        let (key, value) = (key.as_bytes().to_vec(), payload.json.clone());
        self.call(move |db, w| Ok(db.put_opt(key, value.as_bytes(), w)?))
            .await
    }

    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        let mut batch = rocksdb::WriteBatch::default();
        for (k, p) in entries {
            batch.put(k.as_bytes(), p.json.as_bytes());
        }
        self.call(move |db, w| Ok(db.write_opt(batch, w)?)).await
    }
}
