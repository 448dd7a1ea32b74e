//! Eviction by sampling: a writer over the bounds removes an expired entry of its own shard if a
//! sample finds one, otherwise one not read since the last sample (a "second chance" clock), and
//! moves to other shards only when its own cannot give more room.

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::{Engine, Shard};

/// How many random entries an eviction looks at.
const EVICTION_SAMPLES: usize = 8;

impl Engine {
    /// Evict from shards other than `home` until within budget or nothing more can go.
    pub(super) fn evict_elsewhere(&self, home: usize, now: SystemTime) {
        let n = self.shards.len();
        let mut idle_passes = 0;
        while self.over_budget() && idle_passes < n {
            let i = self.cursor.fetch_add(1, Ordering::Relaxed) % n;
            if i == home && n > 1 {
                continue;
            }
            let mut shard = self.shards[i].write();
            if self.evict_one(&mut shard, now, None).is_some() {
                idle_passes = 0;
            } else {
                idle_passes += 1;
            }
        }
    }

    /// Remove one sampled entry of `shard`, never the one at `protect`. Returns the new position
    /// of the protected entry, or `None` when nothing could be evicted.
    pub(super) fn evict_one(
        &self,
        shard: &mut Shard,
        now: SystemTime,
        protect: Option<usize>,
    ) -> Option<Option<usize>> {
        let len = shard.map.len();
        let candidates = len - usize::from(protect.is_some());
        if candidates == 0 {
            return None;
        }
        let mut victim = None;
        let mut fallback = None;
        for _ in 0..EVICTION_SAMPLES.min(len) {
            let i = shard.rng.usize(..len);
            if Some(i) == protect {
                continue;
            }
            let slot = &shard.map[i];
            if slot.is_expired(now) {
                victim = Some(i);
                break;
            }
            fallback.get_or_insert(i);
            if victim.is_none() && !slot.referenced.swap(false, Ordering::Relaxed) {
                victim = Some(i);
            }
        }
        let i = victim.or(fallback).or_else(|| {
            // Every sample hit the protected entry: take its neighbour.
            protect.map(|p| if p == 0 { 1 } else { p - 1 })
        })?;
        let (_, slot) = shard.map.swap_remove_index(i)?;
        self.forget(&slot);
        self.evictions.fetch_add(1, Ordering::Relaxed);
        // swap_remove moves the last entry into `i`.
        Some(protect.map(|p| if p == len - 1 { i } else { p }))
    }
}
