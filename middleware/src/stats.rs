//! [`CacheStats`]: hits, misses, stores and bypasses per method.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::method::Method;

/// The counters of one method at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodStats {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests looked up and not found (then forwarded to the server).
    pub misses: u64,
    /// Answers written to the store.
    pub stores: u64,
    /// Requests forwarded without a lookup (method disabled, tool not allowed, multi-round-trip
    /// state, task request) plus answers not kept (errors, task and input-required results,
    /// oversized answers, a zero `ttlMs` hint).
    pub bypasses: u64,
    /// Store operations that failed; the request was served by the server instead.
    pub errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    stores: AtomicU64,
    bypasses: AtomicU64,
    errors: AtomicU64,
}

/// Live counters for every cacheable method, shared by all clones of a cache.
#[derive(Default)]
pub struct CacheStats {
    methods: [Counters; 7],
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Hit,
    Miss,
    Store,
    Bypass,
    Error,
}

impl CacheStats {
    pub(crate) fn record(&self, method: Method, event: Event) {
        let c = &self.methods[method.index()];
        let counter = match event {
            Event::Hit => &c.hits,
            Event::Miss => &c.misses,
            Event::Store => &c.stores,
            Event::Bypass => &c.bypasses,
            Event::Error => &c.errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters of `method` now.
    pub fn get(&self, method: Method) -> MethodStats {
        let c = &self.methods[method.index()];
        MethodStats {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            stores: c.stores.load(Ordering::Relaxed),
            bypasses: c.bypasses.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
        }
    }

    /// The counters of every method now, in [`Method::ALL`] order.
    pub fn snapshot(&self) -> Vec<(Method, MethodStats)> {
        Method::ALL.into_iter().map(|m| (m, self.get(m))).collect()
    }
}

impl fmt::Debug for CacheStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (method, s) in self.snapshot() {
            m.entry(&method.as_str(), &s);
        }
        m.finish()
    }
}

impl fmt::Display for CacheStats {
    /// One line per method that saw any traffic: `tools/call: 3 hits, 1 misses, …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (method, s) in self.snapshot() {
            if s == MethodStats::default() {
                continue;
            }
            writeln!(
                f,
                "{method}: {} hits, {} misses, {} stores, {} bypasses, {} errors",
                s.hits, s.misses, s.stores, s.bypasses, s.errors
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_method() {
        let s = CacheStats::default();
        s.record(Method::ToolsCall, Event::Hit);
        s.record(Method::ToolsCall, Event::Hit);
        s.record(Method::ToolsCall, Event::Miss);
        s.record(Method::PromptsList, Event::Bypass);
        s.record(Method::PromptsList, Event::Store);
        s.record(Method::PromptsList, Event::Error);
        assert_eq!(s.get(Method::ToolsCall).hits, 2);
        assert_eq!(s.get(Method::ToolsCall).misses, 1);
        let p = s.get(Method::PromptsList);
        assert_eq!((p.stores, p.bypasses, p.errors), (1, 1, 1));
        assert_eq!(s.get(Method::ResourcesRead), MethodStats::default());
        let text = s.to_string();
        assert!(text.contains("tools/call: 2 hits, 1 misses"));
        assert!(!text.contains("resources/read"));
    }
}
