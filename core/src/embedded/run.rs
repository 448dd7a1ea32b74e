//! How an [`EmbeddedStore`] calls its engine: blocking calls on Tokio's blocking pool, and point
//! reads on the path its [`ReadPath`] picks (the calling task, in place, or the pool).

use std::sync::Arc;
use std::time::SystemTime;

use super::Engine;
use super::store::EmbeddedStore;
use crate::checks::context;
use crate::codec::binary;
use crate::{Entry, Error, ErrorKind, ReadPath, Result};

impl<E: Engine> EmbeddedStore<E> {
    /// Run a blocking engine call on Tokio's blocking pool, so a runtime worker never waits on
    /// disk I/O. Errors are tagged with the backend, `op` and `collection` (when not empty).
    pub async fn run<T, F>(&self, op: &'static str, collection: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&E) -> Result<T> + Send + 'static,
    {
        let engine = Arc::clone(&self.engine);
        let result = match tokio::task::spawn_blocking(move || f(&engine)).await {
            Ok(r) => r,
            Err(e) => Err(Error::new(
                ErrorKind::Backend,
                format!("the engine call did not complete: {e}"),
            )),
        };
        result.map_err(context(self.backend, op, collection))
    }

    /// A point read of `keys` on the read path configured: on the calling task with
    /// [`ReadPath::Inline`]; otherwise on the calling task when the engine answers from memory
    /// (`cached`), and when it cannot, in place with `block_in_place` on a multi-thread runtime
    /// or on the blocking pool on any other.
    async fn read<K, T>(
        &self,
        op: &'static str,
        collection: &str,
        keys: K,
        get: fn(&E, &K, SystemTime) -> Result<T>,
        cached: fn(&E, &K, SystemTime) -> Option<Result<T>>,
    ) -> Result<T>
    where
        K: Send + 'static,
        T: Send + 'static,
    {
        let now = SystemTime::now();
        let answer = match self.read_path {
            ReadPath::Inline => Some(get(&self.engine, &keys, now)),
            // An engine without a memory tier would only say "ask the disk".
            ReadPath::Offload if E::ANSWERS_FROM_MEMORY => cached(&self.engine, &keys, now),
            ReadPath::Offload => None,
        };
        match answer {
            Some(answer) => answer.map_err(context(self.backend, op, collection)),
            None if blocking_in_place_allowed() => {
                // The read blocks this thread; Tokio hands the worker's other tasks to another
                // thread first, so they keep running. No thread hop when the read is quick.
                tokio::task::block_in_place(|| get(&self.engine, &keys, now)).map_err(context(
                    self.backend,
                    op,
                    collection,
                ))
            }
            None => {
                self.run(op, collection, move |engine| get(engine, &keys, now))
                    .await
            }
        }
    }

    /// One key's live entry.
    pub(super) async fn entry(
        &self,
        op: &'static str,
        collection: &str,
        key: &str,
    ) -> Result<Option<Entry>> {
        self.caps
            .check(collection, key)
            .map_err(context(self.backend, op, collection))?;
        let pk = binary::physical_key(collection, key);
        self.read(
            op,
            collection,
            pk,
            |e, pk, now| e.get(pk, now),
            |e, pk, now| e.get_cached(pk, now),
        )
        .await
    }

    /// The live entries of `keys`, in order.
    pub(super) async fn entries(
        &self,
        op: &'static str,
        collection: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Entry>>> {
        self.caps
            .check_many(collection, keys.iter().copied())
            .map_err(context(self.backend, op, collection))?;
        let pks: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| binary::physical_key(collection, k))
            .collect();
        self.read(
            op,
            collection,
            pks,
            |e, pks, now| e.get_many(pks, now),
            |e, pks, now| e.get_many_cached(pks, now),
        )
        .await
    }
}

/// Whether this thread may block with [`tokio::task::block_in_place`]: inside a multi-thread
/// runtime (on a worker, or in its `block_on`). Anywhere else (a current-thread runtime, where it
/// would panic) reads go to the blocking pool.
fn blocking_in_place_allowed() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}
