//! Events stored per second and replay latency of `StowageEventStore` on memory, a redb file and
//! Redis (when `STOWAGE_TEST_REDIS_URL` is set), beside the in-memory event store of rmcp's own
//! tests (a `Vec` behind a lock: rmcp ships no event store in the library).
//!
//! ```sh
//! cargo run --release -p stowage-rmcp --example event_store_bench [EVENTS]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::streamable_http_server::session::{
    EventStore, EventStoreError, EventStream, ServerSseMessage,
};
use stowage_core::DynStore;
use stowage_rmcp::StowageEventStore;
use tokio::sync::RwLock;

const STREAMS: usize = 16;
const REPLAY_TAIL: usize = 32;
const REPLAYS: usize = 200;

/// rmcp's test event store, as written in rmcp's `tests/test_streamable_http_event_store.rs`.
#[derive(Clone, Default)]
struct RmcpTestEventStore {
    events: Arc<RwLock<Vec<(String, ServerSseMessage)>>>,
    next_id: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl EventStore for RmcpTestEventStore {
    async fn store_event(
        &self,
        stream_id: &str,
        event: &ServerSseMessage,
    ) -> Result<String, EventStoreError> {
        let id = format!("event-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let mut event = event.clone();
        event.event_id = Some(id.clone());
        self.events
            .write()
            .await
            .push((stream_id.to_owned(), event));
        Ok(id)
    }

    async fn replay_events_after(&self, last: &str) -> Result<EventStream, EventStoreError> {
        let events = self.events.read().await;
        let at = events
            .iter()
            .position(|(_, e)| e.event_id.as_deref() == Some(last))
            .ok_or_else(|| std::io::Error::other("event not found"))?;
        let stream = events[at].0.clone();
        let replay: Vec<_> = events[at + 1..]
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, e)| e.clone())
            .collect();
        Ok(Box::pin(futures::stream::iter(replay)))
    }
}

fn progress(n: usize) -> ServerSseMessage {
    let message: ServerJsonRpcMessage = serde_json::from_value(serde_json::json!({
        "jsonrpc": "2.0", "method": "notifications/progress",
        "params": {"progressToken": "bench", "progress": n, "total": 1_000_000,
                   "message": "step done, moving on to the next one"}
    }))
    .unwrap();
    ServerSseMessage::from_message(message)
}

/// (events stored per second, median replay of the last `REPLAY_TAIL` events of a stream).
async fn measure(store: &dyn EventStore, events: usize) -> (f64, Duration) {
    let mut ids = vec![Vec::new(); STREAMS];
    let started = Instant::now();
    for n in 0..events {
        let stream = format!("bench-stream-{}", n % STREAMS);
        ids[n % STREAMS].push(store.store_event(&stream, &progress(n)).await.unwrap());
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    let mut times = Vec::with_capacity(REPLAYS);
    for r in 0..REPLAYS {
        let stream = &ids[r % STREAMS];
        let from = &stream[stream.len() - REPLAY_TAIL - 1];
        let started = Instant::now();
        let got: Vec<_> = store
            .replay_events_after(from)
            .await
            .unwrap()
            .collect()
            .await;
        times.push(started.elapsed());
        assert_eq!(got.len(), REPLAY_TAIL);
    }
    times.sort();
    (rate, times[times.len() / 2])
}

#[tokio::main]
async fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .map_or(4000, |a| a.parse().expect("EVENTS is a number"));
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<(String, Box<dyn EventStore>)> = vec![(
        "rmcp test store (Vec + lock)".into(),
        Box::new(RmcpTestEventStore::default()),
    )];
    let memory: DynStore = Arc::new(stowage_memory::MemoryStore::new());
    rows.push((
        "stowage memory".into(),
        Box::new(StowageEventStore::new(memory).unwrap()),
    ));
    let disk: DynStore =
        Arc::new(stowage_disk::DiskStore::open(dir.path().join("e.redb")).unwrap());
    rows.push((
        "stowage disk (redb)".into(),
        Box::new(StowageEventStore::new(disk).unwrap()),
    ));
    if let Ok(url) = std::env::var("STOWAGE_TEST_REDIS_URL") {
        let redis = stowage_redis::RedisStore::builder()
            .url(url)
            .namespace(format!("bench-{}", std::process::id()))
            .build()
            .await
            .unwrap();
        let redis: DynStore = Arc::new(redis);
        rows.push((
            "stowage redis".into(),
            Box::new(StowageEventStore::new(redis).unwrap()),
        ));
    }
    println!("{events} events over {STREAMS} streams; replay = the last {REPLAY_TAIL} of a stream");
    println!("| store | events stored/s | replay p50 |");
    println!("| --- | ---: | ---: |");
    for (name, store) in &rows {
        let (rate, replay) = measure(store.as_ref(), events).await;
        println!("| {name} | {rate:.0} | {replay:?} |");
    }
}
