//! The sharded, bounded map behind [`MemoryStore`](crate::MemoryStore).
//!
//! Entries live in `2^n` shards, each an [`IndexMap`] behind a `parking_lot` read-write lock, so
//! readers of different keys never contend and readers of the same shard share the lock. Global
//! atomic counters track entries and bytes. When a write pushes either past its bound, the writer
//! evicts by sampling (as Redis does): it looks at a few random entries of its own shard, removes
//! an expired one if it finds one, otherwise one not read since the last sample (a "second chance"
//! clock), and moves to other shards only when its own cannot give more room.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::SystemTime;

use foldhash::fast::RandomState;
use indexmap::{Equivalent, IndexMap};
use parking_lot::RwLock;
use stowage_core::{Entry, Value};

use crate::config::{ENTRY_OVERHEAD, MemoryConfig};

mod evict;

#[derive(Debug, PartialEq, Eq, Hash)]
struct SlotKey {
    collection: Box<str>,
    key: Box<str>,
}

/// A borrowed `(collection, key)` that hashes exactly as [`SlotKey`] does.
#[derive(Debug, Clone, Copy, Hash)]
struct KeyRef<'a> {
    collection: &'a str,
    key: &'a str,
}

impl Equivalent<SlotKey> for KeyRef<'_> {
    fn equivalent(&self, k: &SlotKey) -> bool {
        *self.key == *k.key && *self.collection == *k.collection
    }
}

#[derive(Debug)]
struct Slot {
    value: Value,
    created_at: SystemTime,
    expires_at: Option<SystemTime>,
    referenced: AtomicBool,
    cost: usize,
}

impl Slot {
    fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    fn touch(&self) {
        // Read first, so hot entries do not bounce their cache line on every read.
        if !self.referenced.load(Ordering::Relaxed) {
            self.referenced.store(true, Ordering::Relaxed);
        }
    }

    fn entry(&self) -> Entry {
        Entry::new(self.value.clone(), Some(self.created_at), self.expires_at)
    }
}

#[derive(Debug)]
struct Shard {
    map: IndexMap<SlotKey, Slot, RandomState>,
    rng: fastrand::Rng,
}

/// Outcome of a lookup under a read lock.
enum Lookup<T> {
    Hit(T),
    Miss,
    /// Found but expired: the caller removes it under a write lock.
    Expired,
}

/// The shared state of a memory store.
#[derive(Debug)]
pub(crate) struct Engine {
    shards: Box<[RwLock<Shard>]>,
    shard_hasher: RandomState,
    shard_shift: u32,
    max_entries: usize,
    max_bytes: usize,
    entries: AtomicUsize,
    bytes: AtomicUsize,
    evictions: AtomicU64,
    cursor: AtomicUsize,
}

pub(crate) fn entry_cost(collection: &str, key: &str, value: &Value) -> usize {
    collection.len() + key.len() + value.len() + ENTRY_OVERHEAD
}

impl Engine {
    pub(crate) fn new(config: &MemoryConfig) -> Self {
        let count = config.shards.next_power_of_two();
        let map_hasher = RandomState::default();
        let shards = (0..count)
            .map(|_| {
                RwLock::new(Shard {
                    map: IndexMap::with_hasher(map_hasher.clone()),
                    rng: fastrand::Rng::new(),
                })
            })
            .collect();
        Engine {
            shards,
            shard_hasher: RandomState::default(),
            shard_shift: 64 - count.trailing_zeros(),
            max_entries: config.max_entries,
            max_bytes: config.max_bytes,
            entries: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            evictions: AtomicU64::new(0),
            cursor: AtomicUsize::new(0),
        }
    }

    fn shard_index(&self, k: KeyRef<'_>) -> usize {
        if self.shard_shift == 64 {
            return 0;
        }
        (self.shard_hasher.hash_one(k) >> self.shard_shift) as usize
    }

    fn lookup<T>(
        &self,
        collection: &str,
        key: &str,
        now: SystemTime,
        read: impl FnOnce(&Slot) -> T,
    ) -> Option<T> {
        let k = KeyRef { collection, key };
        let idx = self.shard_index(k);
        let outcome = {
            let shard = self.shards[idx].read();
            match shard.map.get(&k) {
                None => Lookup::Miss,
                Some(slot) if slot.is_expired(now) => Lookup::Expired,
                Some(slot) => {
                    slot.touch();
                    Lookup::Hit(read(slot))
                }
            }
        };
        match outcome {
            Lookup::Hit(t) => Some(t),
            Lookup::Miss => None,
            Lookup::Expired => {
                self.remove_expired(idx, k, now);
                None
            }
        }
    }

    fn remove_expired(&self, idx: usize, k: KeyRef<'_>, now: SystemTime) {
        let mut shard = self.shards[idx].write();
        if shard.map.get(&k).is_some_and(|s| s.is_expired(now))
            && let Some((_, slot)) = shard.map.swap_remove_entry(&k)
        {
            self.forget(&slot);
        }
    }

    pub(crate) fn get(&self, collection: &str, key: &str, now: SystemTime) -> Option<Value> {
        self.lookup(collection, key, now, |s| s.value.clone())
    }

    pub(crate) fn get_entry(&self, collection: &str, key: &str, now: SystemTime) -> Option<Entry> {
        self.lookup(collection, key, now, Slot::entry)
    }

    fn forget(&self, slot: &Slot) {
        self.entries.fetch_sub(1, Ordering::Relaxed);
        self.bytes.fetch_sub(slot.cost, Ordering::Relaxed);
    }

    fn over_budget(&self) -> bool {
        self.entries.load(Ordering::Relaxed) > self.max_entries
            || self.bytes.load(Ordering::Relaxed) > self.max_bytes
    }

    /// Insert or replace. The caller has checked names, TTL and that the cost fits `max_bytes`.
    pub(crate) fn insert(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        now: SystemTime,
        expires_at: Option<SystemTime>,
    ) {
        self.write(collection, key, value, now, expires_at, false);
    }

    /// Insert only when no live entry holds the key (checked under the shard's write lock);
    /// whether it inserted. The caller has checked as for [`Engine::insert`].
    pub(crate) fn insert_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        now: SystemTime,
        expires_at: Option<SystemTime>,
    ) -> bool {
        self.write(collection, key, value, now, expires_at, true)
    }

    fn write(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        now: SystemTime,
        expires_at: Option<SystemTime>,
        only_if_absent: bool,
    ) -> bool {
        let k = KeyRef { collection, key };
        let idx = self.shard_index(k);
        let cost = entry_cost(collection, key, &value);
        let slot = Slot {
            value,
            created_at: now,
            expires_at,
            referenced: AtomicBool::new(false),
            cost,
        };
        let mut shard = self.shards[idx].write();
        let protect = match shard.map.get_full_mut(&k) {
            Some((_, _, existing)) if only_if_absent && !existing.is_expired(now) => return false,
            Some((i, _, existing)) => {
                let old_cost = std::mem::replace(existing, slot).cost;
                self.bytes.fetch_add(cost, Ordering::Relaxed);
                self.bytes.fetch_sub(old_cost, Ordering::Relaxed);
                i
            }
            None => {
                let owned = SlotKey {
                    collection: collection.into(),
                    key: key.into(),
                };
                self.entries.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(cost, Ordering::Relaxed);
                shard.map.insert_full(owned, slot).0
            }
        };
        let mut protect = Some(protect);
        while self.over_budget() {
            match self.evict_one(&mut shard, now, protect) {
                Some(p) => protect = p,
                None => break,
            }
        }
        drop(shard);
        if self.over_budget() {
            self.evict_elsewhere(idx, now);
        }
        true
    }

    /// Remove `key`; `true` when a live entry was removed.
    pub(crate) fn remove(&self, collection: &str, key: &str, now: SystemTime) -> bool {
        let k = KeyRef { collection, key };
        let idx = self.shard_index(k);
        let removed = self.shards[idx].write().map.swap_remove_entry(&k);
        match removed {
            Some((_, slot)) => {
                self.forget(&slot);
                !slot.is_expired(now)
            }
            None => false,
        }
    }

    /// Visit every live entry, shard by shard, under read locks.
    fn for_each_live(&self, now: SystemTime, mut f: impl FnMut(&str, &str)) {
        for shard in self.shards.iter() {
            for (k, slot) in shard.read().map.iter() {
                if !slot.is_expired(now) {
                    f(&k.collection, &k.key);
                }
            }
        }
    }

    pub(crate) fn keys(&self, collection: &str, now: SystemTime) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_live(now, |c, k| {
            if c == collection {
                out.push(k.to_owned());
            }
        });
        out
    }

    pub(crate) fn collections(&self, now: SystemTime) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.for_each_live(now, |c, _| {
            if !seen.contains(c) {
                seen.insert(c.to_owned());
            }
        });
        seen.into_iter().collect()
    }

    /// Remove every entry for which `doomed` is true; returns `(removed, live_removed)`.
    fn remove_where(
        &self,
        now: SystemTime,
        mut doomed: impl FnMut(&SlotKey, &Slot) -> bool,
    ) -> (usize, usize) {
        let (mut removed, mut live) = (0, 0);
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            shard.map.retain(|k, slot| {
                if doomed(k, slot) {
                    removed += 1;
                    live += usize::from(!slot.is_expired(now));
                    self.forget(slot);
                    false
                } else {
                    true
                }
            });
        }
        (removed, live)
    }

    pub(crate) fn remove_collection(&self, collection: &str, now: SystemTime) -> bool {
        self.remove_where(now, |k, _| &*k.collection == collection)
            .1
            > 0
    }

    pub(crate) fn clear(&self, now: SystemTime) -> bool {
        self.remove_where(now, |_, _| true).0 > 0
    }

    pub(crate) fn cull(&self, now: SystemTime) -> usize {
        self.remove_where(now, |_, slot| slot.is_expired(now)).0
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }
}
