//! The conformance kit: behaviour tests every backend and wrapper stack must pass.
//!
//! Each case is a public async function taking an `Arc<dyn KeyValueStore>`, so every store is
//! also exercised through a trait object. Cases that need an optional capability check the
//! store's [`Capabilities`](crate::Capabilities): when the flag is set they test the operation
//! fully, and when it is not they check that the operation answers
//! [`Unsupported`](crate::ErrorKind::Unsupported). Nothing is skipped silently.
//!
//! # Running the kit
//!
//! One macro call in a test file generates one `#[test]` per case:
//!
//! ```ignore
//! stowage_core::conformance_tests!(|| async { stowage_memory::MemoryStore::new() });
//! ```
//!
//! The factory is called once per case, inside a multi-threaded Tokio runtime. It must return a
//! store isolated from other tests running at the same time (its own file, key prefix, table or
//! database), because cases may call `destroy()` on it. Each case uses collection names with a
//! random suffix, so stores on a shared server do not collide either.
//!
//! [`run_all`] runs every case in sequence on one factory and reports all failures at once.
//!
//! Expiry cases use TTLs of at most one second and wait at most about 1.3 s.

pub mod arbitrary;
pub mod bounded;
pub mod cases;
pub mod crash;
pub mod interop;
pub mod python;

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;

use crate::error::{ErrorKind, Result};
use crate::store::KeyValueStore;
use crate::value::Value;

/// The store type every case receives.
pub type Store = Arc<dyn KeyValueStore>;

/// The TTL the expiry cases use.
pub const SHORT_TTL: Duration = Duration::from_millis(1000);

/// How long the expiry cases wait for [`SHORT_TTL`] to pass.
pub const EXPIRY_WAIT: Duration = Duration::from_millis(1300);

/// A collection name unique to this process and call: `prefix-<random>`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    format!("{prefix}-{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// A [`Value`] from a `serde_json::json!` object. Panics (it is test code) on a non-object.
pub fn obj(json: serde_json::Value) -> Value {
    Value::try_from(json).expect("test values are objects")
}

/// Assert that `result` is an error of `kind`.
#[track_caller]
pub fn assert_kind<T: std::fmt::Debug>(result: Result<T>, kind: ErrorKind) {
    match result {
        Err(e) => assert_eq!(e.kind(), kind, "expected a {kind} error, got: {e}"),
        Ok(v) => panic!("expected a {kind} error, got Ok({v:?})"),
    }
}

/// Assert that two values hold the same JSON object (member order aside).
#[track_caller]
pub fn assert_same(actual: Option<&Value>, expected: &Value) {
    let actual = actual.unwrap_or_else(|| panic!("expected {expected}, found nothing"));
    assert_eq!(actual.to_map(), expected.to_map());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// Run one case: build the store with `factory` inside a fresh runtime, run `case`, then clean up
/// with `destroy()` when the store supports it.
pub fn run_case<F, Fut, S, C, CFut>(factory: F, case: C)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = S>,
    S: KeyValueStore + 'static,
    C: FnOnce(Store) -> CFut,
    CFut: Future<Output = ()>,
{
    runtime().block_on(async move {
        let store: Store = Arc::new(factory().await);
        case(store.clone()).await;
        if store.capabilities().destroy {
            store.destroy().await.expect("destroy after the case");
        }
    });
}

/// Run every case in sequence, each on a fresh store from `factory`, and panic with the list of
/// failed cases at the end. Call it from a plain `#[test]`, not from inside a runtime.
pub fn run_all<F, Fut, S>(factory: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
    S: KeyValueStore + 'static,
{
    let mut failed = Vec::new();
    for (name, case) in cases::ALL {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run_case(&factory, case);
        }));
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} conformance cases failed: {failed:?}",
        failed.len(),
        cases::ALL.len()
    );
}

/// A boxed case future, for [`cases::ALL`].
pub type CaseFuture = futures::future::BoxFuture<'static, ()>;

#[doc(hidden)]
pub fn __boxed<F: Future<Output = ()> + Send + 'static>(f: F) -> CaseFuture {
    f.boxed()
}

/// Generate one `#[test]` per conformance case for a store factory.
///
/// The argument is an expression callable with no arguments that returns a future of a store,
/// such as `|| async { MemoryStore::new() }`. See the [`testkit`](crate::testkit) module.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::__with_conformance_cases!(__conformance_emit_tests($factory));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_emit_tests {
    (($factory:expr) $($group:ident :: $case:ident),*) => {$(
        #[test]
        fn $case() {
            $crate::testkit::run_case($factory, $crate::testkit::cases::$group::$case);
        }
    )*};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_emit_list {
    (() $($group:ident :: $case:ident),*) => {
        /// Every case, by name.
        pub const ALL: &[(&str, fn($crate::testkit::Store) -> $crate::testkit::CaseFuture)] = &[
            $((stringify!($case), |s| $crate::testkit::__boxed($group::$case(s)))),*
        ];
    };
}
