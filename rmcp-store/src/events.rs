//! [`StowageEventStore`]: rmcp's `EventStore` (resumable Streamable HTTP events) over any store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::streamable_http_server::session::{
    EventId, EventStore, EventStoreError, EventStream, ServerSseMessage,
};
use stowage_core::{DynStore, KeyValueStore, Value};

use crate::error::{Error, insert_error, require_put_if_absent};
use crate::layout::{self, EventRecord, HeadRecord, RECORD_VERSION};

/// Default number of events kept per stream; older ones are dropped as new ones arrive.
pub const DEFAULT_MAX_EVENTS_PER_STREAM: u64 = 1024;
/// Default lifetime of an event (and of its stream's head), counted from its write.
pub const DEFAULT_EVENT_TTL: Duration = Duration::from_secs(60 * 60);

/// How many event records a replay reads per round trip.
const REPLAY_BATCH: u64 = 64;
/// Streams whose next sequence number this process remembers; past it the memo starts over.
const MAX_REMEMBERED_STREAMS: usize = 4096;

/// rmcp's [`EventStore`] over any Stowage store: events survive restarts and are shared by every
/// server instance on the same store, so a client can resume (`Last-Event-ID`) on any of them.
///
/// - **Ids**: `<escaped stream id>#<seq>` ([`layout::event_id`]); the id names its stream, and
///   the sequence number is claimed by inserting the event record with `put_if_absent`, so two
///   processes never hand out the same id. The record is written before
///   [`store_event`](EventStore::store_event) returns.
/// - **Replay**: [`replay_events_after`](EventStore::replay_events_after) returns the live
///   events after the given one, in order, from whichever process wrote them. An id that never
///   existed, expired or was dropped by the cap is [`Error::UnknownEvent`].
/// - **Bounds**: at most [`DEFAULT_MAX_EVENTS_PER_STREAM`] events per stream (each write drops
///   the one that falls out), each living [`DEFAULT_EVENT_TTL`]; both configurable.
/// - **Needs** the store's `put_if_absent` capability; [`build`](EventStoreBuilder::build)
///   refuses a store without it ([`Error::PutIfAbsentUnsupported`]).
///
/// ```
/// use std::sync::Arc;
/// use rmcp::transport::streamable_http_server::session::{EventStore, ServerSseMessage};
/// use stowage_rmcp::StowageEventStore;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let events = StowageEventStore::new(stowage_memory::MemoryStore::new())?;
/// let first = events.store_event("stream-1", &ServerSseMessage::retry(std::time::Duration::from_secs(3))).await?;
/// assert_eq!(first, "stream-1#0");
/// let later: Vec<_> = futures::StreamExt::collect(events.replay_events_after(&first).await?).await;
/// assert!(later.is_empty());
/// // Hand it to rmcp's session manager:
/// let manager = rmcp::transport::streamable_http_server::session::local::LocalSessionManager::default()
///     .with_event_store(Arc::new(events));
/// # drop(manager); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StowageEventStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: DynStore,
    events: String,
    heads: String,
    max_events: u64,
    ttl: Option<Duration>,
    /// The next sequence number to try, per stream this process wrote to.
    next: Mutex<HashMap<String, u64>>,
}

/// Settings of a [`StowageEventStore`]; from [`StowageEventStore::builder`].
///
/// ```
/// use std::time::Duration;
/// use stowage_rmcp::StowageEventStore;
///
/// let events = StowageEventStore::builder(stowage_memory::MemoryStore::new())
///     .max_events_per_stream(256)          // default 1024
///     .ttl(Some(Duration::from_secs(600))) // default one hour; None keeps events until the cap drops them
///     .collections("app_events", "app_event_heads") // defaults rmcp_events, rmcp_event_heads
///     .build()
///     .unwrap();
/// # drop(events);
/// ```
#[derive(Debug)]
#[must_use]
pub struct EventStoreBuilder {
    store: DynStore,
    events: String,
    heads: String,
    max_events: u64,
    ttl: Option<Duration>,
}

impl EventStoreBuilder {
    /// Keep at most `max` events per stream (at least 1).
    ///
    /// ```
    /// # let b = stowage_rmcp::StowageEventStore::builder(stowage_memory::MemoryStore::new());
    /// let b = b.max_events_per_stream(16);
    /// # drop(b);
    /// ```
    pub fn max_events_per_stream(mut self, max: u64) -> Self {
        self.max_events = max.max(1);
        self
    }

    /// How long each event lives after its write; `None` keeps it until the cap drops it.
    ///
    /// ```
    /// # let b = stowage_rmcp::StowageEventStore::builder(stowage_memory::MemoryStore::new());
    /// let b = b.ttl(Some(std::time::Duration::from_secs(60)));
    /// # drop(b);
    /// ```
    pub fn ttl(mut self, ttl: Option<Duration>) -> Self {
        self.ttl = ttl;
        self
    }

    /// The collections of event records and of stream heads.
    ///
    /// ```
    /// # let b = stowage_rmcp::StowageEventStore::builder(stowage_memory::MemoryStore::new());
    /// let b = b.collections("events", "heads");
    /// # drop(b);
    /// ```
    pub fn collections(mut self, events: impl Into<String>, heads: impl Into<String>) -> Self {
        self.events = events.into();
        self.heads = heads.into();
        self
    }

    /// The store; [`Error::PutIfAbsentUnsupported`] when the store lacks the atomic insert.
    ///
    /// ```
    /// let events = stowage_rmcp::StowageEventStore::builder(stowage_memory::MemoryStore::new()).build();
    /// assert!(events.is_ok());
    /// ```
    pub fn build(self) -> Result<StowageEventStore, Error> {
        require_put_if_absent(&*self.store)?;
        Ok(StowageEventStore {
            inner: Arc::new(Inner {
                store: self.store,
                events: self.events,
                heads: self.heads,
                max_events: self.max_events,
                ttl: self.ttl,
                next: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl StowageEventStore {
    /// An event store with the default settings over `store`.
    ///
    /// ```
    /// let events = stowage_rmcp::StowageEventStore::new(stowage_memory::MemoryStore::new()).unwrap();
    /// # drop(events);
    /// ```
    pub fn new(store: impl KeyValueStore + 'static) -> Result<Self, Error> {
        Self::builder(store).build()
    }

    /// Settings for an event store over `store`.
    ///
    /// ```
    /// let builder = stowage_rmcp::StowageEventStore::builder(stowage_memory::MemoryStore::new());
    /// # drop(builder);
    /// ```
    pub fn builder(store: impl KeyValueStore + 'static) -> EventStoreBuilder {
        EventStoreBuilder {
            store: Arc::new(store),
            events: layout::EVENTS.to_owned(),
            heads: layout::EVENT_HEADS.to_owned(),
            max_events: DEFAULT_MAX_EVENTS_PER_STREAM,
            ttl: Some(DEFAULT_EVENT_TTL),
        }
    }

    /// Persist `event` in `stream_id` and return its id (what [`EventStore::store_event`] does,
    /// with this crate's error type).
    ///
    /// ```
    /// # #[tokio::main] async fn main() {
    /// # use rmcp::transport::streamable_http_server::session::ServerSseMessage;
    /// let events = stowage_rmcp::StowageEventStore::new(stowage_memory::MemoryStore::new()).unwrap();
    /// let hint = ServerSseMessage::retry(std::time::Duration::from_secs(1));
    /// assert_eq!(events.append("s", &hint).await.unwrap(), "s#0");
    /// assert_eq!(events.append("s", &hint).await.unwrap(), "s#1");
    /// # }
    /// ```
    pub async fn append(&self, stream_id: &str, event: &ServerSseMessage) -> Result<String, Error> {
        let inner = &*self.inner;
        let message = match &event.message {
            Some(m) => Some(serde_json::to_value(&**m).map_err(|e| Error::Encode(e.to_string()))?),
            None => None,
        };
        let retry_ms = event
            .retry
            .map(|r| u64::try_from(r.as_millis()).unwrap_or(u64::MAX));
        let head_key = layout::escape_stream_id(stream_id);
        let remembered = inner.next.lock().get(stream_id).copied();
        let mut seq = match remembered {
            Some(seq) => seq,
            None => self.read_head(&head_key).await?,
        };
        // Each miss means another writer took `seq`; the head hint is at most a few behind.
        let mut attempts = 0u64;
        let id = loop {
            let id = layout::event_id(stream_id, seq);
            let record = EventRecord {
                version: RECORD_VERSION,
                stream_id: stream_id.to_owned(),
                seq,
                message: message.clone(),
                retry_ms,
            };
            let value = Value::from_serialize(&record)?;
            let inserted = inner
                .store
                .put_if_absent(&inner.events, &id, value, inner.ttl)
                .await
                .map_err(insert_error)?;
            if inserted {
                break id;
            }
            attempts += 1;
            if attempts > inner.max_events + 1024 {
                return Err(Error::Encode(format!(
                    "stream {stream_id:?}: no free sequence number after {attempts} tries"
                )));
            }
            seq += 1;
        };
        {
            let mut next = inner.next.lock();
            if next.len() >= MAX_REMEMBERED_STREAMS && !next.contains_key(stream_id) {
                next.clear();
            }
            next.insert(stream_id.to_owned(), seq + 1);
        }
        let head = Value::from_serialize(&HeadRecord {
            version: RECORD_VERSION,
            next: seq + 1,
        })?;
        inner
            .store
            .put(&inner.heads, &head_key, head, inner.ttl)
            .await?;
        if let Some(old) = seq.checked_sub(inner.max_events) {
            inner
                .store
                .delete(&inner.events, &layout::event_id(stream_id, old))
                .await?;
        }
        Ok(id)
    }

    /// The live events after `last_event_id`, in order (what
    /// [`EventStore::replay_events_after`] streams, with this crate's error type).
    ///
    /// ```
    /// # #[tokio::main] async fn main() {
    /// # use rmcp::transport::streamable_http_server::session::ServerSseMessage;
    /// let events = stowage_rmcp::StowageEventStore::new(stowage_memory::MemoryStore::new()).unwrap();
    /// let hint = ServerSseMessage::retry(std::time::Duration::from_secs(1));
    /// let first = events.append("s", &hint).await.unwrap();
    /// events.append("s", &hint).await.unwrap();
    /// let after = events.events_after(&first).await.unwrap();
    /// assert_eq!(after[0].event_id.as_deref(), Some("s#1"));
    /// assert!(events.events_after("s#7").await.is_err()); // never stored
    /// # }
    /// ```
    pub async fn events_after(&self, last_event_id: &str) -> Result<Vec<ServerSseMessage>, Error> {
        let inner = &*self.inner;
        let (stream_id, seq) =
            layout::parse_event_id(last_event_id).ok_or_else(|| Error::MalformedEventId {
                event_id: last_event_id.to_owned(),
            })?;
        let canonical = layout::event_id(&stream_id, seq);
        if inner.store.get(&inner.events, &canonical).await?.is_none() {
            return Err(Error::UnknownEvent {
                event_id: last_event_id.to_owned(),
            });
        }
        let mut out = Vec::new();
        let mut from = seq + 1;
        loop {
            let ids: Vec<String> = (from..from + REPLAY_BATCH)
                .map(|s| layout::event_id(&stream_id, s))
                .collect();
            let keys: Vec<&str> = ids.iter().map(String::as_str).collect();
            let found = inner.store.get_many(&inner.events, &keys).await?;
            for (id, value) in ids.iter().zip(found) {
                let Some(value) = value else {
                    return Ok(out);
                };
                out.push(self.decode(id, &stream_id, &value)?);
            }
            from += REPLAY_BATCH;
        }
    }

    async fn read_head(&self, head_key: &str) -> Result<u64, Error> {
        let inner = &*self.inner;
        match inner.store.get(&inner.heads, head_key).await? {
            None => Ok(0),
            Some(value) => value
                .deserialize::<HeadRecord>()
                .map(|h| h.next)
                .map_err(|e| Error::corrupted(&inner.heads, head_key, e)),
        }
    }

    fn decode(&self, id: &str, stream_id: &str, value: &Value) -> Result<ServerSseMessage, Error> {
        let events = &self.inner.events;
        let record: EventRecord = value
            .deserialize()
            .map_err(|e| Error::corrupted(events, id, e))?;
        if record.stream_id != stream_id {
            return Err(Error::corrupted(events, id, "record of another stream"));
        }
        let mut event = ServerSseMessage::default();
        event.event_id = Some(id.to_owned());
        event.retry = record.retry_ms.map(Duration::from_millis);
        if let Some(message) = record.message {
            let message: ServerJsonRpcMessage =
                serde_json::from_value(message).map_err(|e| Error::corrupted(events, id, e))?;
            event.message = Some(Arc::new(message));
        }
        Ok(event)
    }
}

#[async_trait::async_trait]
impl EventStore for StowageEventStore {
    async fn store_event(
        &self,
        stream_id: &str,
        event: &ServerSseMessage,
    ) -> Result<EventId, EventStoreError> {
        Ok(self.append(stream_id, event).await?)
    }

    async fn replay_events_after(
        &self,
        last_event_id: &str,
    ) -> Result<EventStream, EventStoreError> {
        let events = self.events_after(last_event_id).await?;
        Ok(Box::pin(futures::stream::iter(events)))
    }
}
