//! `StowageEventStore` over memory, a redb file and Redis: ids, replay, cap, expiry, writers on
//! separate handles, and refusal of a store without the atomic insert.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::streamable_http_server::session::{EventStore, ServerSseMessage};
use serde_json::json;
use stowage_rmcp::{Error, StowageEventStore};

use common::Backend;

fn progress(n: u64) -> ServerSseMessage {
    let message: ServerJsonRpcMessage = serde_json::from_value(json!({
        "jsonrpc": "2.0", "method": "notifications/progress",
        "params": {"progressToken": "tok", "progress": n}
    }))
    .unwrap();
    ServerSseMessage::from_message(message)
}

/// The progress numbers of replayed events.
fn numbers(events: &[ServerSseMessage]) -> Vec<u64> {
    events
        .iter()
        .map(|e| {
            let m = serde_json::to_value(e.message.as_deref().unwrap()).unwrap();
            m["params"]["progress"].as_f64().unwrap() as u64
        })
        .collect()
}

async fn replay(events: &StowageEventStore, id: &str) -> Vec<ServerSseMessage> {
    EventStore::replay_events_after(events, id)
        .await
        .unwrap_or_else(|e| panic!("replay after {id}: {e}"))
        .collect()
        .await
}

/// The crate's error behind rmcp's boxed one.
fn our_error(error: Box<dyn std::error::Error + Send + Sync>) -> Error {
    *error.downcast::<Error>().expect("a stowage_rmcp::Error")
}

async fn replay_returns_exactly_the_later_events_in_order(b: Backend) {
    let events = StowageEventStore::new(b.store.clone()).unwrap();
    let stream = stowage_core::testkit::unique("stream");
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(events.store_event(&stream, &progress(n)).await.unwrap());
    }
    assert_eq!(ids[0], format!("{stream}#0"), "{}", b.name);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 10);
    let after = replay(&events, &ids[3]).await;
    assert_eq!(numbers(&after), (4..10).collect::<Vec<_>>(), "{}", b.name);
    let replayed_ids: Vec<_> = after.iter().map(|e| e.event_id.clone().unwrap()).collect();
    assert_eq!(replayed_ids, ids[4..].to_vec());
    assert!(replay(&events, &ids[9]).await.is_empty());
}

async fn a_priming_event_keeps_its_retry_and_has_no_message(b: Backend) {
    let events = StowageEventStore::new(b.store.clone()).unwrap();
    let stream = stowage_core::testkit::unique("s");
    let first = events
        .store_event(
            &stream,
            &ServerSseMessage::retry(Duration::from_millis(1500)),
        )
        .await
        .unwrap();
    let second = events
        .store_event(
            &stream,
            &ServerSseMessage::retry(Duration::from_millis(2500)),
        )
        .await
        .unwrap();
    let after = replay(&events, &first).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].event_id.as_deref(), Some(second.as_str()));
    assert_eq!(after[0].retry, Some(Duration::from_millis(2500)));
    assert!(after[0].message.is_none());
}

async fn unknown_and_malformed_ids_are_clear_errors(b: Backend) {
    let events = StowageEventStore::new(b.store.clone()).unwrap();
    let stream = stowage_core::testkit::unique("s");
    events.store_event(&stream, &progress(0)).await.unwrap();
    let unknown = format!("{stream}#5");
    match our_error(events.replay_events_after(&unknown).await.err().unwrap()) {
        Error::UnknownEvent { event_id } => assert_eq!(event_id, unknown),
        other => panic!("{}: {other:?}", b.name),
    }
    for bad in ["0", "", "#3", "s#", "s#x", "s#01", "s%2#1"] {
        match our_error(events.replay_events_after(bad).await.err().unwrap()) {
            Error::MalformedEventId { .. } => {}
            other => panic!("{bad:?} on {}: {other:?}", b.name),
        }
    }
}

async fn the_cap_drops_the_oldest_events(b: Backend) {
    let events = StowageEventStore::builder(b.store.clone())
        .max_events_per_stream(5)
        .build()
        .unwrap();
    let stream = stowage_core::testkit::unique("s");
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(events.store_event(&stream, &progress(n)).await.unwrap());
    }
    // Kept: 3..=7.
    for dropped in &ids[..3] {
        assert!(
            matches!(
                events.events_after(dropped).await,
                Err(Error::UnknownEvent { .. })
            ),
            "{} kept {dropped}",
            b.name
        );
    }
    assert_eq!(numbers(&replay(&events, &ids[3]).await), vec![4, 5, 6, 7]);
}

async fn events_expire_after_their_ttl(b: Backend) {
    let events = StowageEventStore::builder(b.store.clone())
        .ttl(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let stream = stowage_core::testkit::unique("s");
    let first = events.store_event(&stream, &progress(0)).await.unwrap();
    events.store_event(&stream, &progress(1)).await.unwrap();
    assert_eq!(replay(&events, &first).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        matches!(
            events.events_after(&first).await,
            Err(Error::UnknownEvent { .. })
        ),
        "{}",
        b.name
    );
}

async fn separate_handles_never_share_an_id_and_replay_each_others_events(b: Backend) {
    // Two event stores with their own memory of each stream, on two handles of the data (two
    // Redis connections for Redis), writing one stream at once: what two processes would do.
    let one = StowageEventStore::new(b.store.clone()).unwrap();
    let two = StowageEventStore::new(b.second_handle().await).unwrap();
    let stream = stowage_core::testkit::unique("s");
    let first = one.store_event(&stream, &progress(1000)).await.unwrap();
    let write = |events: StowageEventStore, stream: String, base: u64| {
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..25 {
                ids.push(
                    events
                        .store_event(&stream, &progress(base + n))
                        .await
                        .unwrap(),
                );
            }
            ids
        })
    };
    let (a, c) = (
        write(one.clone(), stream.clone(), 0),
        write(two.clone(), stream.clone(), 100),
    );
    let (a, c) = (a.await.unwrap(), c.await.unwrap());
    let all: HashSet<_> = a.iter().chain(&c).chain([&first]).collect();
    assert_eq!(all.len(), 51, "{}: duplicate ids", b.name);
    // Either handle replays all fifty, in sequence order, each writer's in its own order.
    for events in [&one, &two] {
        let after = replay(events, &first).await;
        assert_eq!(after.len(), 50, "{}", b.name);
        let seqs: Vec<u64> = after
            .iter()
            .map(|e| {
                stowage_rmcp::layout::parse_event_id(e.event_id.as_deref().unwrap())
                    .unwrap()
                    .1
            })
            .collect();
        assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
        let got = numbers(&after);
        let mine: Vec<_> = got.iter().copied().filter(|n| *n < 100).collect();
        assert_eq!(mine, (0..25).collect::<Vec<_>>());
    }
    // A fresh handle (a restarted process) continues the stream after the last id.
    let three = StowageEventStore::new(b.second_handle().await).unwrap();
    let next = three.store_event(&stream, &progress(7)).await.unwrap();
    assert_eq!(next, format!("{stream}#51"), "{}", b.name);
}

async fn streams_are_apart(b: Backend) {
    let events = StowageEventStore::new(b.store.clone()).unwrap();
    let (s1, s2) = (
        stowage_core::testkit::unique("a"),
        stowage_core::testkit::unique("b"),
    );
    let first = events.store_event(&s1, &progress(1)).await.unwrap();
    events.store_event(&s2, &progress(2)).await.unwrap();
    events.store_event(&s1, &progress(3)).await.unwrap();
    assert_eq!(numbers(&replay(&events, &first).await), vec![3]);
    // Stream ids with '#', '%' and spaces still make well-formed, distinct ids.
    let odd = "odd #stream% x";
    let id = events.store_event(odd, &progress(4)).await.unwrap();
    assert!(!id.contains(' ') && id.matches('#').count() == 1, "{id}");
    events.store_event(odd, &progress(5)).await.unwrap();
    assert_eq!(numbers(&replay(&events, &id).await), vec![5]);
}

on_every_backend!(
    replay_returns_exactly_the_later_events_in_order,
    a_priming_event_keeps_its_retry_and_has_no_message,
    unknown_and_malformed_ids_are_clear_errors,
    the_cap_drops_the_oldest_events,
    events_expire_after_their_ttl,
    separate_handles_never_share_an_id_and_replay_each_others_events,
    streams_are_apart,
);

#[test]
fn a_store_without_the_atomic_insert_is_refused() {
    let refused = StowageEventStore::new(common::WithoutInsert::default());
    assert!(
        matches!(refused, Err(Error::PutIfAbsentUnsupported)),
        "{refused:?}"
    );
    let message = Error::PutIfAbsentUnsupported.to_string();
    assert!(message.contains("put_if_absent"), "{message}");
}

#[tokio::test]
async fn events_through_fernet_are_not_stored_in_clear() {
    use stowage_core::{KeyValueStore, KeyValueStoreExt};
    use stowage_wrappers::fernet::{FernetKey, FernetLayer};

    let raw = Arc::new(stowage_memory::MemoryStore::new());
    let key = FernetKey::from_base64(&FernetKey::generate_text()).unwrap();
    let sealed = raw
        .clone()
        .layer(FernetLayer::builder().key(key).build().unwrap());
    let events = StowageEventStore::new(sealed).unwrap();
    let first = events.store_event("s", &progress(41)).await.unwrap();
    events.store_event("s", &progress(42)).await.unwrap();
    assert_eq!(numbers(&replay(&events, &first).await), vec![42]);
    let stored = raw.get("rmcp_events", "s#1").await.unwrap().unwrap();
    assert!(stored.as_str().contains("__encrypted_data__"));
    assert!(!stored.as_str().contains("progress"), "{stored}");
}
