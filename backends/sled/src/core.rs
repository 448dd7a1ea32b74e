//! Synchronous engine calls on the sled tree. Every function here may block on disk I/O; the
//! store keeps them off the runtime's workers (see the crate docs, Threads).
//!
//! One tree, `stowage`, maps physical keys (`collection ‖ 0xFF ‖ key`, see
//! [`binary::physical_key`]) to version-1 binary envelopes ([`binary::encode`]).

use std::time::SystemTime;

use stowage_core::codec::binary;
use stowage_core::embedded::{Engine, Record};
use stowage_core::{Entry, Result};

use crate::config::Durability;
use crate::error::from_sled;

pub(crate) const TREE: &str = "stowage";

#[derive(Debug)]
pub(crate) struct Core {
    db: sled::Db,
    tree: sled::Tree,
    durability: Durability,
}

fn expired(record: &[u8], now: SystemTime) -> bool {
    binary::decode_header(record).is_ok_and(|h| h.is_expired_at(now))
}

impl Core {
    pub(crate) fn new(db: sled::Db, durability: Durability) -> Result<Self> {
        let tree = db.open_tree(TREE).map_err(from_sled)?;
        Ok(Core {
            db,
            tree,
            durability,
        })
    }

    /// After a write: fsync sled's log when writes must be durable on return.
    fn settle(&self) -> Result<()> {
        if self.durability == Durability::Immediate {
            self.tree.flush().map_err(from_sled)?;
        }
        Ok(())
    }

    /// fsync everything written so far.
    pub(crate) fn flush(&self) -> Result<()> {
        self.db.flush().map(drop).map_err(from_sled)
    }

    /// Bytes sled's files take on disk.
    pub(crate) fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().map_err(from_sled)
    }
}

impl Engine for Core {
    /// The live entries of `keys`, in order.
    fn get_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<Vec<Option<Entry>>> {
        keys.iter().map(|k| self.get(k, now)).collect()
    }

    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Entry>> {
        match self.tree.get(key).map_err(from_sled)? {
            Some(v) => binary::decode_live_owned(v, now),
            None => Ok(None),
        }
    }

    /// Write every `(physical key, record)` pair atomically (one sled batch).
    fn put_many(&self, records: Vec<Record>) -> Result<()> {
        if let [(k, v)] = records.as_slice() {
            self.tree
                .insert(k.as_slice(), v.as_slice())
                .map_err(from_sled)?;
        } else {
            let mut batch = sled::Batch::default();
            for (k, v) in records {
                batch.insert(k, v);
            }
            self.tree.apply_batch(batch).map_err(from_sled)?;
        }
        self.settle()
    }

    /// Compare and swap from what was read (nothing, or an expired record) to `record`; when
    /// another write got in between, read again.
    fn put_if_absent(&self, key: Vec<u8>, record: Vec<u8>, now: SystemTime) -> Result<bool> {
        loop {
            let current = self.tree.get(&key).map_err(from_sled)?;
            if current.as_deref().is_some_and(|old| !expired(old, now)) {
                return Ok(false);
            }
            let swapped = self
                .tree
                .compare_and_swap(&key, current.as_deref(), Some(record.as_slice()))
                .map_err(from_sled)?;
            if swapped.is_ok() {
                self.settle()?;
                return Ok(true);
            }
        }
    }

    /// Remove `keys`; the number that held live entries.
    fn delete_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<usize> {
        let mut live = 0;
        let mut any = false;
        for k in keys {
            if let Some(old) = self.tree.remove(k).map_err(from_sled)? {
                any = true;
                // A damaged record counts as live: it was there and the caller removed it.
                if !expired(&old, now) {
                    live += 1;
                }
            }
        }
        if any {
            self.settle()?;
        }
        Ok(live)
    }

    /// Every live key of the collection whose keys lie in `[start, end)`.
    fn keys(&self, start: &[u8], end: &[u8], now: SystemTime) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self.tree.range(start..end) {
            let (k, v) = item.map_err(from_sled)?;
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
            for item in self.tree.range(from.as_slice()..) {
                let (k, v) = item.map_err(from_sled)?;
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

    /// Remove every entry in `[start, end)`; whether there were any.
    fn remove_range(&self, start: &[u8], end: &[u8]) -> Result<bool> {
        let mut batch = sled::Batch::default();
        let mut any = false;
        for item in self.tree.range(start..end) {
            let (k, _) = item.map_err(from_sled)?;
            batch.remove(k);
            any = true;
        }
        if any {
            self.tree.apply_batch(batch).map_err(from_sled)?;
            self.tree.flush().map_err(from_sled)?;
        }
        Ok(any)
    }

    /// Remove everything; whether there was anything.
    fn clear(&self) -> Result<bool> {
        let any = !self.tree.is_empty();
        self.tree.clear().map_err(from_sled)?;
        self.tree.flush().map_err(from_sled)?;
        Ok(any)
    }

    /// Remove every entry expired at `now`; the number removed. Each removal is a
    /// compare-and-swap against the expired record, so a fresh write is never removed.
    fn cull(&self, now: SystemTime) -> Result<usize> {
        let mut removed = 0;
        for item in self.tree.iter() {
            let (k, v) = item.map_err(from_sled)?;
            if expired(&v, now)
                && self
                    .tree
                    .compare_and_swap(&k, Some(&v), None::<&[u8]>)
                    .map_err(from_sled)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        if removed > 0 {
            self.tree.flush().map_err(from_sled)?;
        }
        Ok(removed)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // Best effort: with periodic durability, make the last interval durable on a clean close.
        let _ = self.db.flush();
    }
}
