//! Synchronous engine calls on the redb database. Every function here blocks on disk I/O; the
//! store keeps them off the runtime's workers (see the crate docs, Threads).
//!
//! One table, `stowage`, maps physical keys (`collection ‖ 0xFF ‖ key`, see
//! [`binary::physical_key`]) to version-1 binary envelopes ([`binary::encode`]).

use std::time::SystemTime;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use stowage_core::codec::binary;
use stowage_core::embedded::{Engine, Record};
use stowage_core::{Entry, Result};

use crate::config::Durability;
use crate::error::from_redb;
use crate::group::Group;

pub(crate) const TABLE: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("stowage");

/// How many expired entries one sweep transaction removes, so writers wait only briefly.
const CULL_BATCH: usize = 1024;

#[derive(Debug)]
pub(crate) struct Core {
    db: redb::Database,
    durability: Durability,
    /// Writes waiting to share a commit.
    group: Group,
}

impl Core {
    pub(crate) fn new(db: redb::Database, durability: Durability) -> Result<Self> {
        let core = Core {
            db,
            durability,
            group: Group::default(),
        };
        // Create the table up front so read transactions always find it.
        core.write(Durability::Immediate, |t| {
            let _ = t;
            Ok(())
        })?;
        Ok(core)
    }

    fn write<T>(
        &self,
        durability: Durability,
        f: impl FnOnce(&mut redb::Table<'_, &'static [u8], &'static [u8]>) -> Result<T>,
    ) -> Result<T> {
        let mut txn = self.db.begin_write().map_err(from_redb)?;
        txn.set_durability(match durability {
            Durability::Immediate => redb::Durability::Immediate,
            Durability::None => redb::Durability::None,
        })
        .map_err(from_redb)?;
        let out = {
            let mut table = txn.open_table(TABLE).map_err(from_redb)?;
            f(&mut table)?
        };
        txn.commit().map_err(from_redb)?;
        Ok(out)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadOnlyTable<&'static [u8], &'static [u8]>) -> Result<T>,
    ) -> Result<T> {
        let txn = self.db.begin_read().map_err(from_redb)?;
        let table = txn.open_table(TABLE).map_err(from_redb)?;
        f(&table)
    }

    /// Make every earlier write durable with an empty immediate commit.
    pub(crate) fn flush(&self) -> Result<()> {
        self.write(Durability::Immediate, |_| Ok(()))
    }
}

/// The live entry of `key` in `table`.
fn live_entry(
    table: &redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
    key: &[u8],
    now: SystemTime,
) -> Result<Option<Entry>> {
    match table.get(key).map_err(from_redb)? {
        Some(v) => binary::decode_live(v.value(), now),
        None => Ok(None),
    }
}

impl Engine for Core {
    /// The live entries of `keys`, in order, from one snapshot.
    fn get_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<Vec<Option<Entry>>> {
        self.read(|table| keys.iter().map(|k| live_entry(table, k, now)).collect())
    }

    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Entry>> {
        self.read(|table| live_entry(table, key, now))
    }

    /// Write every `(physical key, record)` pair in one transaction, shared with the writes
    /// queued meanwhile (group commit, see [`Group`]).
    fn put_many(&self, records: Vec<Record>) -> Result<()> {
        self.group.write(records, |records| {
            self.write(self.durability, |table| {
                for (k, v) in records {
                    table
                        .insert(k.as_slice(), v.as_slice())
                        .map_err(from_redb)?;
                }
                Ok(())
            })
        })
    }

    /// Check and write in one write transaction: redb runs one at a time, so nothing writes the
    /// key in between.
    fn put_if_absent(&self, key: Vec<u8>, record: Vec<u8>, now: SystemTime) -> Result<bool> {
        self.write(self.durability, |table| {
            if let Some(old) = table.get(key.as_slice()).map_err(from_redb)?
                && !binary::decode_header(old.value()).is_ok_and(|h| h.is_expired_at(now))
            {
                return Ok(false);
            }
            table
                .insert(key.as_slice(), record.as_slice())
                .map_err(from_redb)?;
            Ok(true)
        })
    }

    /// Remove `keys` in one transaction; the number that held live entries.
    fn delete_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<usize> {
        self.write(self.durability, |table| {
            let mut live = 0;
            for k in keys {
                if let Some(old) = table.remove(k.as_slice()).map_err(from_redb)? {
                    // A damaged record counts as live: it was there and the caller removed it.
                    if !binary::decode_header(old.value()).is_ok_and(|h| h.is_expired_at(now)) {
                        live += 1;
                    }
                }
            }
            Ok(live)
        })
    }

    /// Every live key of the collection whose keys lie in `[start, end)`.
    fn keys(&self, start: &[u8], end: &[u8], now: SystemTime) -> Result<Vec<String>> {
        self.read(|table| {
            let mut out = Vec::new();
            for item in table.range(start..end).map_err(from_redb)? {
                let (k, v) = item.map_err(from_redb)?;
                if binary::decode_header(v.value()).is_ok_and(|h| h.is_expired_at(now)) {
                    continue;
                }
                if let Some((_, key)) = binary::split_physical_key(k.value()) {
                    out.push(key.to_owned());
                }
            }
            Ok(out)
        })
    }

    /// Every collection holding at least one live entry: one seek per collection.
    fn collections(&self, now: SystemTime) -> Result<Vec<String>> {
        self.read(|table| {
            let mut out = Vec::new();
            let mut from: Vec<u8> = Vec::new();
            'seek: loop {
                let range = table.range::<&[u8]>(from.as_slice()..).map_err(from_redb)?;
                for item in range {
                    let (k, v) = item.map_err(from_redb)?;
                    let Some((collection, _)) = binary::split_physical_key(k.value()) else {
                        continue;
                    };
                    if binary::decode_header(v.value()).is_ok_and(|h| h.is_expired_at(now)) {
                        continue;
                    }
                    out.push(collection.to_owned());
                    from = binary::collection_end(collection);
                    continue 'seek;
                }
                return Ok(out);
            }
        })
    }

    /// Remove every entry in `[start, end)`; whether there were any.
    fn remove_range(&self, start: &[u8], end: &[u8]) -> Result<bool> {
        self.write(Durability::Immediate, |table| {
            let mut any = false;
            table
                .retain_in(start..end, |_, _| {
                    any = true;
                    false
                })
                .map_err(from_redb)?;
            Ok(any)
        })
    }

    /// Remove everything; whether there was anything.
    fn clear(&self) -> Result<bool> {
        self.write(Durability::Immediate, |table| {
            let any = !table.is_empty().map_err(from_redb)?;
            table.retain(|_, _| false).map_err(from_redb)?;
            Ok(any)
        })
    }

    /// Remove every entry expired at `now`; the number removed.
    ///
    /// Expired keys are found from a read snapshot, then removed in batches of [`CULL_BATCH`],
    /// each re-checked inside its write transaction so a fresh write is never removed.
    fn cull(&self, now: SystemTime) -> Result<usize> {
        let expired: Vec<Vec<u8>> = self.read(|table| {
            let mut out = Vec::new();
            for item in table.iter().map_err(from_redb)? {
                let (k, v) = item.map_err(from_redb)?;
                if binary::decode_header(v.value()).is_ok_and(|h| h.is_expired_at(now)) {
                    out.push(k.value().to_vec());
                }
            }
            Ok(out)
        })?;
        let mut removed = 0;
        for batch in expired.chunks(CULL_BATCH) {
            removed += self.write(Durability::Immediate, |table| {
                let mut n = 0;
                for k in batch {
                    let still_expired =
                        table
                            .get(k.as_slice())
                            .map_err(from_redb)?
                            .is_some_and(|v| {
                                binary::decode_header(v.value()).is_ok_and(|h| h.is_expired_at(now))
                            });
                    if still_expired {
                        table.remove(k.as_slice()).map_err(from_redb)?;
                        n += 1;
                    }
                }
                Ok(n)
            })?;
        }
        Ok(removed)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        if self.durability == Durability::None {
            // Best effort: make non-durable commits durable on a clean close.
            let _ = self.flush();
        }
    }
}
