//! Synchronous engine calls on the RocksDB database. Every function here may block on disk I/O;
//! the store keeps them off the runtime's workers (see the crate docs, Threads).
//!
//! The default column family maps physical keys (`collection ‖ 0xFF ‖ key`, see
//! [`binary::physical_key`]) to version-1 binary envelopes ([`binary::encode`]).
//!
//! RocksDB has no read-modify-write primitive, so writes take a striped lock on their keys:
//! `delete` reads the old record to report whether it was live, `put_if_absent` reads it to decide
//! whether to write, and a concurrent `put` of the same key must not slip between the read and the
//! write.

use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use rocksdb::{Direction, IteratorMode, ReadOptions, ReadTier, WriteBatch, WriteOptions};
use stowage_core::codec::binary;
use stowage_core::embedded::{Engine, Record};
use stowage_core::{Entry, Result};

use crate::config::Durability;
use crate::error::from_rocks;

const STRIPES: usize = 64;

/// Every physical key sorts below this: keys start with a UTF-8 collection name.
const ALL_END: &[u8] = &[binary::KEY_SEPARATOR];

/// Keys deleted per write batch by `cull`.
const CULL_BATCH: usize = 1024;

pub(crate) struct Core {
    db: rocksdb::DB,
    write: WriteOptions,
    /// Reads that RocksDB answers from memory only (`ReadTier::BlockCache`), built once.
    cached_read: ReadOptions,
    stripes: Vec<Mutex<()>>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("path", &self.db.path())
            .finish_non_exhaustive()
    }
}

fn expired(record: &[u8], now: SystemTime) -> bool {
    binary::decode_header(record).is_ok_and(|h| h.is_expired_at(now))
}

fn stripe_of(key: &[u8]) -> usize {
    // FNV-1a: cheap and good enough to spread keys over a few stripes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % STRIPES as u64) as usize
}

impl Core {
    pub(crate) fn new(db: rocksdb::DB, durability: Durability) -> Self {
        let mut write = WriteOptions::default();
        match durability {
            Durability::Sync => write.set_sync(true),
            Durability::Wal => write.set_sync(false),
            Durability::None => write.disable_wal(true),
        }
        let mut cached_read = ReadOptions::default();
        cached_read.set_read_tier(ReadTier::BlockCache);
        Core {
            db,
            write,
            cached_read,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Lock the stripes of `keys`, in stripe order so two batches never deadlock.
    fn lock<'a>(&self, keys: impl Iterator<Item = &'a [u8]>) -> Vec<MutexGuard<'_, ()>> {
        let mut ids: Vec<usize> = keys.map(stripe_of).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            // A poisoned stripe guards no data; keep going.
            .map(|i| self.stripes[i].lock().unwrap_or_else(|p| p.into_inner()))
            .collect()
    }

    fn scan(&self, start: &[u8], end: &[u8]) -> rocksdb::DBIterator<'_> {
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(end);
        self.db
            .iterator_opt(IteratorMode::From(start, Direction::Forward), opts)
    }

    /// Compact the whole key range now: the expiry filter drops every expired entry and the
    /// space of deleted ones is reclaimed.
    pub(crate) fn compact(&self) {
        self.db.compact_range::<&[u8], &[u8]>(None, None);
    }

    /// Flush the memtable to an SST file and fsync the WAL.
    pub(crate) fn flush(&self) -> Result<()> {
        self.db.flush_wal(true).map_err(from_rocks)?;
        self.db.flush().map_err(from_rocks)
    }
}

impl Engine for Core {
    /// The memtables and the block cache answer without the disk: see `get_cached`.
    const ANSWERS_FROM_MEMORY: bool = true;

    /// The live entries of `keys`, in order.
    fn get_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<Vec<Option<Entry>>> {
        if let [key] = keys {
            return Ok(vec![self.get(key, now)?]);
        }
        self.db
            .multi_get(keys)
            .into_iter()
            .map(|r| match r.map_err(from_rocks)? {
                // `multi_get` hands each record over in a `Vec` of its own: keep the value in it.
                Some(v) => binary::decode_live_owned(v, now),
                None => Ok(None),
            })
            .collect()
    }

    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Entry>> {
        match self.db.get_pinned(key).map_err(from_rocks)? {
            Some(v) => binary::decode_live(&v, now),
            None => Ok(None),
        }
    }

    /// One key from the memtables and the block cache only, as [`Engine::get_many_cached`].
    fn get_cached(&self, key: &[u8], now: SystemTime) -> Option<Result<Option<Entry>>> {
        match self.db.get_pinned_opt(key, &self.cached_read) {
            Ok(Some(v)) => Some(binary::decode_live(&v, now)),
            Ok(None) => Some(Ok(None)),
            Err(e) if e.kind() == rocksdb::ErrorKind::Incomplete => None,
            Err(e) => Some(Err(from_rocks(e))),
        }
    }

    /// Answer from the memtables and the block cache only (`ReadTier::BlockCache`): RocksDB
    /// returns `Incomplete` instead of reading a block from disk, and the read is offloaded.
    fn get_many_cached(
        &self,
        keys: &[Vec<u8>],
        now: SystemTime,
    ) -> Option<Result<Vec<Option<Entry>>>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            match self.get_cached(key, now)? {
                Ok(entry) => out.push(entry),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(out))
    }

    /// Write every `(physical key, record)` pair atomically (one write batch).
    fn put_many(&self, records: Vec<Record>) -> Result<()> {
        let _held = self.lock(records.iter().map(|(k, _)| k.as_slice()));
        if let [(k, v)] = records.as_slice() {
            return self.db.put_opt(k, v, &self.write).map_err(from_rocks);
        }
        let mut batch = WriteBatch::default();
        for (k, v) in records {
            batch.put(k, v);
        }
        self.db.write_opt(batch, &self.write).map_err(from_rocks)
    }

    /// Read and write under the key's stripe lock, which every write of the key takes.
    fn put_if_absent(&self, key: Vec<u8>, record: Vec<u8>, now: SystemTime) -> Result<bool> {
        let _held = self.lock(std::iter::once(key.as_slice()));
        let present = match self.db.get_pinned(&key) {
            Ok(old) => old.is_some_and(|old| !expired(&old, now)),
            // A record RocksDB cannot read counts as present, as a damaged one does.
            Err(e) if e.kind() == rocksdb::ErrorKind::Corruption => true,
            Err(e) => return Err(from_rocks(e)),
        };
        if present {
            return Ok(false);
        }
        self.db
            .put_opt(&key, &record, &self.write)
            .map_err(from_rocks)?;
        Ok(true)
    }

    /// Remove `keys` atomically; the number that held live entries.
    fn delete_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<usize> {
        let _held = self.lock(keys.iter().map(Vec::as_slice));
        let mut live = 0;
        let mut batch = WriteBatch::default();
        for k in keys {
            let present = match self.db.get_pinned(k) {
                // A damaged record counts as live: it was there and the caller removed it.
                Ok(old) => old.map(|old| !expired(&old, now)),
                // So does a record in a block RocksDB cannot read: deleting it is how the caller
                // gets past the damage.
                Err(e) if e.kind() == rocksdb::ErrorKind::Corruption => Some(true),
                Err(e) => return Err(from_rocks(e)),
            };
            if let Some(is_live) = present {
                live += usize::from(is_live);
                batch.delete(k);
            }
        }
        if !batch.is_empty() {
            self.db.write_opt(batch, &self.write).map_err(from_rocks)?;
        }
        Ok(live)
    }

    /// Every live key of the collection whose keys lie in `[start, end)`.
    fn keys(&self, start: &[u8], end: &[u8], now: SystemTime) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self.scan(start, end) {
            let (k, v) = item.map_err(from_rocks)?;
            if expired(&v, now) {
                continue;
            }
            if let Some((_, key)) = binary::split_physical_key(&k) {
                out.push(key.to_owned());
            }
        }
        Ok(out)
    }

    /// Every collection holding at least one live entry: one seek per collection.
    fn collections(&self, now: SystemTime) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        'seek: loop {
            for item in self.scan(&from, ALL_END) {
                let (k, v) = item.map_err(from_rocks)?;
                let Some((collection, _)) = binary::split_physical_key(&k) else {
                    continue;
                };
                if expired(&v, now) {
                    continue;
                }
                out.push(collection.to_owned());
                from = binary::collection_end(collection);
                continue 'seek;
            }
            return Ok(out);
        }
    }

    /// Remove every entry in `[start, end)` with one range deletion; whether there were any.
    fn remove_range(&self, start: &[u8], end: &[u8]) -> Result<bool> {
        let any = match self.scan(start, end).next() {
            Some(item) => item.map(|_| true).map_err(from_rocks)?,
            None => false,
        };
        if any {
            let mut batch = WriteBatch::default();
            batch.delete_range(start, end);
            self.db.write_opt(batch, &self.write).map_err(from_rocks)?;
        }
        Ok(any)
    }

    /// Remove everything; whether there was anything.
    fn clear(&self) -> Result<bool> {
        self.remove_range(&[], ALL_END)
    }

    /// Remove every entry expired at `now`; the number removed. Each key is re-checked under its
    /// stripe lock, so a fresh write is never removed. The space is reclaimed at compaction.
    fn cull(&self, now: SystemTime) -> Result<usize> {
        let mut expired_keys = Vec::new();
        for item in self.scan(&[], ALL_END) {
            let (k, v) = item.map_err(from_rocks)?;
            if expired(&v, now) {
                expired_keys.push(k.into_vec());
            }
        }
        let mut removed = 0;
        for chunk in expired_keys.chunks(CULL_BATCH) {
            let _held = self.lock(chunk.iter().map(Vec::as_slice));
            let mut batch = WriteBatch::default();
            for k in chunk {
                let still = self.db.get_pinned(k).map_err(from_rocks)?;
                if still.is_some_and(|v| expired(&v, now)) {
                    batch.delete(k);
                    removed += 1;
                }
            }
            if !batch.is_empty() {
                self.db.write_opt(batch, &self.write).map_err(from_rocks)?;
            }
        }
        Ok(removed)
    }
}
