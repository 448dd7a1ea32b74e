//! A wrapper that makes chosen calls fail or stall before reaching the real store under it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, Layer, Result, Value, async_trait,
};

#[derive(Debug, Default)]
struct Plan {
    /// Fail every n-th call (0: never).
    every: u64,
    /// Fail every call while set.
    down: AtomicBool,
    /// Sleep this long (ms) before every call.
    stall_ms: AtomicU64,
    /// Sleep this long (ms) after every call, before answering.
    stall_after_ms: AtomicU64,
    /// The kind of the injected error.
    kind: parking_lot::Mutex<Option<ErrorKind>>,
    calls: AtomicU64,
    injected: AtomicU64,
    /// Inserts whose answer is lost after they reached the store.
    lose_answers: AtomicU64,
}

/// Injects faults; clones share the plan and the counters.
#[derive(Debug, Clone, Default)]
pub struct FaultLayer {
    plan: Arc<Plan>,
}

impl FaultLayer {
    /// Fail every `n`-th call once with `Unavailable` (the retry then reaches the store).
    pub fn every(n: u64) -> Self {
        FaultLayer {
            plan: Arc::new(Plan {
                every: n,
                ..Plan::default()
            }),
        }
    }

    /// Never fail until told to.
    pub fn healthy() -> Self {
        Self::default()
    }

    /// Fail every call (with `Unavailable`, or the kind set by [`Self::fail_with`]).
    pub fn set_down(&self, down: bool) {
        self.plan.down.store(down, Ordering::SeqCst);
    }

    /// The kind of injected errors.
    pub fn fail_with(&self, kind: ErrorKind) {
        *self.plan.kind.lock() = Some(kind);
    }

    /// Sleep before every call.
    pub fn set_stall(&self, stall: Duration) {
        self.plan
            .stall_ms
            .store(stall.as_millis() as u64, Ordering::SeqCst);
    }

    /// Sleep after every call, before answering.
    pub fn set_stall_after(&self, stall: Duration) {
        self.plan
            .stall_after_ms
            .store(stall.as_millis() as u64, Ordering::SeqCst);
    }

    /// Let the next `n` `put_if_absent` calls reach the store, then fail them with
    /// `Unavailable`, as a connection dropped before the answer arrived.
    pub fn lose_next_answers(&self, n: u64) {
        self.plan.lose_answers.store(n, Ordering::SeqCst);
    }

    /// Calls seen, including failed ones.
    pub fn calls(&self) -> u64 {
        self.plan.calls.load(Ordering::SeqCst)
    }

    /// Errors injected.
    pub fn injected(&self) -> u64 {
        self.plan.injected.load(Ordering::SeqCst)
    }
}

impl<S> Layer<S> for FaultLayer {
    type Store = FaultStore<S>;

    fn layer(&self, inner: S) -> FaultStore<S> {
        FaultStore {
            inner,
            plan: self.plan.clone(),
        }
    }
}

/// The faulty store.
#[derive(Debug, Clone)]
pub struct FaultStore<S> {
    inner: S,
    plan: Arc<Plan>,
}

impl Plan {
    async fn after(&self) {
        let stall = self.stall_after_ms.load(Ordering::SeqCst);
        if stall > 0 {
            tokio::time::sleep(Duration::from_millis(stall)).await;
        }
    }

    async fn gate(&self, op: &'static str) -> Result<()> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let stall = self.stall_ms.load(Ordering::SeqCst);
        if stall > 0 {
            tokio::time::sleep(Duration::from_millis(stall)).await;
        }
        let fail =
            self.down.load(Ordering::SeqCst) || (self.every > 0 && n.is_multiple_of(self.every));
        if fail {
            self.injected.fetch_add(1, Ordering::SeqCst);
            let kind = self.kind.lock().unwrap_or(ErrorKind::Unavailable);
            return Err(Error::new(kind, "injected fault")
                .with_backend("fault")
                .with_operation(op));
        }
        Ok(())
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<S: KeyValueStore> KeyValueStore for FaultStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn get(&self, c: &str, k: &str) -> Result<Option<Value>> {
        self.plan.gate("get").await?;
        let r = self.inner.get(c, k).await;
        self.plan.after().await;
        r
    }
    async fn get_many(&self, c: &str, ks: &[&str]) -> Result<Vec<Option<Value>>> {
        self.plan.gate("get_many").await?;
        let r = self.inner.get_many(c, ks).await;
        self.plan.after().await;
        r
    }
    async fn ttl(&self, c: &str, k: &str) -> Result<Option<Entry>> {
        self.plan.gate("ttl").await?;
        let r = self.inner.ttl(c, k).await;
        self.plan.after().await;
        r
    }
    async fn ttl_many(&self, c: &str, ks: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.plan.gate("ttl_many").await?;
        let r = self.inner.ttl_many(c, ks).await;
        self.plan.after().await;
        r
    }
    async fn put(&self, c: &str, k: &str, v: Value, t: Option<Duration>) -> Result<()> {
        self.plan.gate("put").await?;
        let r = self.inner.put(c, k, v, t).await;
        self.plan.after().await;
        r
    }
    async fn put_if_absent(&self, c: &str, k: &str, v: Value, t: Option<Duration>) -> Result<bool> {
        self.plan.gate("put_if_absent").await?;
        let r = self.inner.put_if_absent(c, k, v, t).await;
        self.plan.after().await;
        let lose = |n: u64| n.checked_sub(1);
        if self
            .plan
            .lose_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, lose)
            .is_ok()
        {
            self.plan.injected.fetch_add(1, Ordering::SeqCst);
            return Err(Error::new(ErrorKind::Unavailable, "answer lost")
                .with_backend("fault")
                .with_operation("put_if_absent"));
        }
        r
    }
    async fn put_many(&self, c: &str, e: &[(&str, Value)], t: Option<Duration>) -> Result<()> {
        self.plan.gate("put_many").await?;
        let r = self.inner.put_many(c, e, t).await;
        self.plan.after().await;
        r
    }
    async fn delete(&self, c: &str, k: &str) -> Result<bool> {
        self.plan.gate("delete").await?;
        let r = self.inner.delete(c, k).await;
        self.plan.after().await;
        r
    }
    async fn delete_many(&self, c: &str, ks: &[&str]) -> Result<usize> {
        self.plan.gate("delete_many").await?;
        let r = self.inner.delete_many(c, ks).await;
        self.plan.after().await;
        r
    }
    async fn keys(&self, c: &str) -> Result<Vec<String>> {
        self.plan.gate("keys").await?;
        let r = self.inner.keys(c).await;
        self.plan.after().await;
        r
    }
    async fn collections(&self) -> Result<Vec<String>> {
        self.plan.gate("collections").await?;
        let r = self.inner.collections().await;
        self.plan.after().await;
        r
    }
    async fn destroy_collection(&self, c: &str) -> Result<bool> {
        self.plan.gate("destroy_collection").await?;
        let r = self.inner.destroy_collection(c).await;
        self.plan.after().await;
        r
    }
    async fn destroy(&self) -> Result<bool> {
        self.plan.gate("destroy").await?;
        let r = self.inner.destroy().await;
        self.plan.after().await;
        r
    }
    async fn cull(&self) -> Result<usize> {
        self.plan.gate("cull").await?;
        let r = self.inner.cull().await;
        self.plan.after().await;
        r
    }
}
