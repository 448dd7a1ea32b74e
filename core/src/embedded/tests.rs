//! Where reads run: an engine whose reads block shows whether the runtime's other tasks keep
//! running meanwhile.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, SystemTime};

use super::{EmbeddedStore, Engine, Record};
use crate::codec::binary;
use crate::{Capabilities, Entry, Expiry, KeyValueStore, ReadPath, Result, Value};

/// How long a read of [`Slow`] blocks its thread, as a read waiting on a disk would.
const READ_TIME: Duration = Duration::from_millis(300);

/// An engine whose reads block for [`READ_TIME`] and which cannot tell that a read is cached;
/// it remembers the thread of its last read.
#[derive(Default)]
struct Slow {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    read_on: Mutex<Option<ThreadId>>,
}

impl Engine for Slow {
    fn get_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<Vec<Option<Entry>>> {
        *self.read_on.lock().unwrap() = Some(std::thread::current().id());
        std::thread::sleep(READ_TIME);
        let map = self.map.lock().unwrap();
        keys.iter()
            .map(|k| map.get(k).map_or(Ok(None), |v| binary::decode_live(v, now)))
            .collect()
    }
    fn put_many(&self, records: Vec<Record>) -> Result<()> {
        self.map.lock().unwrap().extend(records);
        Ok(())
    }
    fn put_if_absent(&self, key: Vec<u8>, record: Vec<u8>, _: SystemTime) -> Result<bool> {
        let mut map = self.map.lock().unwrap();
        let absent = !map.contains_key(&key);
        map.entry(key).or_insert(record);
        Ok(absent)
    }
    fn delete_many(&self, _: &[Vec<u8>], _: SystemTime) -> Result<usize> {
        Ok(0)
    }
    fn keys(&self, _: &[u8], _: &[u8], _: SystemTime) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    fn collections(&self, _: SystemTime) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    fn remove_range(&self, _: &[u8], _: &[u8]) -> Result<bool> {
        Ok(false)
    }
    fn clear(&self) -> Result<bool> {
        Ok(false)
    }
    fn cull(&self, _: SystemTime) -> Result<usize> {
        Ok(0)
    }
}

/// What happened while one read blocked.
struct During {
    /// Ticks of another task, one every 10 ms.
    ticks: usize,
    /// Whether the engine read on the thread of the task that called `get`.
    on_the_calling_thread: bool,
}

/// Read one stored key through `read_path` on a task of the current runtime while another task
/// ticks every 10 ms.
async fn during_a_read(read_path: ReadPath) -> During {
    let store = EmbeddedStore::new("slow", Slow::default(), Capabilities::all(Expiry::Emulated))
        .with_read_path(read_path);
    let value = Value::from_json(r#"{"a": 1}"#).unwrap();
    store.put("c", "k", value.clone(), None).await.unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    // Let the ticker start.
    while ticks.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The read runs on a task of its own, so on a worker thread of a multi-thread runtime.
    let (got, during) = tokio::spawn(async move {
        let before = ticks.load(Ordering::SeqCst);
        let caller = std::thread::current().id();
        let got = store.get("c", "k").await;
        let read_on = *store.engine().read_on.lock().unwrap();
        let during = During {
            ticks: ticks.load(Ordering::SeqCst) - before,
            on_the_calling_thread: read_on == Some(caller),
        };
        (got, during)
    })
    .await
    .unwrap();
    ticker.abort();
    assert_eq!(got.unwrap(), Some(value));
    during
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn an_offloaded_read_blocks_in_place_and_leaves_the_other_tasks_running() {
    // One worker: the ticker can only run if the blocked read gives the worker's tasks away.
    // The read itself stays on its thread: no hop to the blocking pool and back.
    let during = during_a_read(ReadPath::Offload).await;
    assert!(
        during.ticks >= 5,
        "{} ticks during a {READ_TIME:?} read",
        during.ticks
    );
    assert!(during.on_the_calling_thread);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn an_inline_read_that_blocks_holds_its_worker() {
    // What Offload avoids: the only worker is blocked, the ticker waits.
    let during = during_a_read(ReadPath::Inline).await;
    assert!(
        during.ticks <= 1,
        "{} ticks during a {READ_TIME:?} inline read",
        during.ticks
    );
    assert!(during.on_the_calling_thread);
}

#[tokio::test(flavor = "current_thread")]
async fn an_offloaded_read_on_a_current_thread_runtime_uses_the_blocking_pool() {
    // `block_in_place` would panic here; the read goes to the blocking pool and the runtime's
    // one thread keeps ticking.
    let during = during_a_read(ReadPath::Offload).await;
    assert!(
        during.ticks >= 5,
        "{} ticks during a {READ_TIME:?} read",
        during.ticks
    );
    assert!(!during.on_the_calling_thread);
}
