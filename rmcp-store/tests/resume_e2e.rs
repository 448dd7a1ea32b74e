//! End to end: an rmcp Streamable HTTP server with `StowageEventStore` and
//! `StowageSessionStore`; a client (protocol 2025-11-25) drops a `tools/call` stream midway
//! and resumes it with `Last-Event-ID` on a second server instance in another process — on
//! Redis, and on a redb file across a restart (the first process exits before the second opens
//! the file). The second instance also restores the session and answers a new call on it.
//!
//! Each server instance runs in its own child process (this test binary started again); the
//! client speaks HTTP to the server's service in that process (requests handed to the tower
//! service, no socket).

mod common;
#[path = "common/server.rs"]
mod server;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use stowage_core::DynStore;
use stowage_rmcp::StowageEventStore;

use server::{Event, count_call, initialize, post, resume, service};

const ROLE: &str = "STOWAGE_RMCP_E2E_ROLE";
const STORE: &str = "STOWAGE_RMCP_E2E_STORE";
const SESSION: &str = "STOWAGE_RMCP_E2E_SESSION";
const LAST: &str = "STOWAGE_RMCP_E2E_LAST_EVENT";
const STEPS: u32 = 6;

/// What the first instance's client saw, handed to the second.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct FirstHalf {
    session: String,
    seen: Vec<Event>,
}

/// What the second instance's client got.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SecondHalf {
    replayed: Vec<Event>,
    bogus_replay: Vec<Event>,
    new_call: Vec<Event>,
}

async fn open(spec: &str) -> DynStore {
    if let Some(ns) = spec.strip_prefix("redis:") {
        Arc::new(common::redis_in(ns).await)
    } else if let Some(path) = spec.strip_prefix("disk:") {
        Arc::new(stowage_disk::DiskStore::open(path).expect("open the redb file"))
    } else {
        panic!("unknown store {spec}")
    }
}

/// The first server instance: initialize, call `count`, read two progress events, hang up;
/// wait until the server has stored the rest, report what was seen.
async fn first_instance(store: DynStore) -> FirstHalf {
    let mut http = service(store.clone());
    let session = initialize(&mut http).await;
    let (status, _, mut body) = post(&mut http, Some(&session), count_call(2, STEPS, 120)).await;
    assert!(status.is_success(), "{status}");
    let mut seen = Vec::new();
    while seen
        .iter()
        .filter(|e: &&Event| e.progress().is_some())
        .count()
        < 2
    {
        seen.push(body.next().await.expect("the stream ended early"));
    }
    drop(body); // the client disconnects mid-stream
    // The server keeps working; wait until the answer is stored.
    let last = seen.last().unwrap().id.clone().expect("events carry ids");
    let events = StowageEventStore::new(store).unwrap();
    for _ in 0..200 {
        let after = events.events_after(&last).await.unwrap();
        if after.iter().any(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| serde_json::to_value(m).unwrap()["id"] == 2)
        }) {
            return FirstHalf { session, seen };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the answer was never stored");
}

/// The second server instance: resume after the last event seen, try a bogus id, then call
/// again on the restored session.
async fn second_instance(store: DynStore, session: &str, last: &str) -> SecondHalf {
    let mut http = service(store);
    let mut replay = resume(&mut http, session, last).await;
    let mut replayed = Vec::new();
    while let Some(event) = replay.next().await {
        replayed.push(event);
    }
    let mut bogus = resume(&mut http, session, "no-such-stream#3").await;
    let mut bogus_replay = Vec::new();
    while let Some(event) = bogus.next().await {
        bogus_replay.push(event);
    }
    let (status, _, mut body) = post(&mut http, Some(session), count_call(3, 1, 1)).await;
    assert!(status.is_success(), "{status}");
    let mut new_call = Vec::new();
    while let Some(event) = body.next().await {
        let done = event.answers(3);
        new_call.push(event);
        if done {
            break;
        }
    }
    SecondHalf {
        replayed,
        bogus_replay,
        new_call,
    }
}

/// Runs only as a child (the environment names its role); in a normal run it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let store = open(&std::env::var(STORE).unwrap()).await;
    let report = match role.as_str() {
        "first" => serde_json::to_string(&first_instance(store).await),
        "second" => serde_json::to_string(
            &second_instance(
                store,
                &std::env::var(SESSION).unwrap(),
                &std::env::var(LAST).unwrap(),
            )
            .await,
        ),
        other => panic!("unknown role {other}"),
    };
    println!("REPORT {}", report.unwrap());
}

fn run_child(envs: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in envs {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "child failed: {stdout}");
    stdout
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no report in {stdout}"))
        .to_owned()
}

fn resume_on_a_second_process(store: &str) {
    let first: FirstHalf =
        serde_json::from_str(&run_child(&[(ROLE, "first"), (STORE, store)])).unwrap();
    let last = first.seen.last().unwrap().id.clone().unwrap();
    let second: SecondHalf = serde_json::from_str(&run_child(&[
        (ROLE, "second"),
        (STORE, store),
        (SESSION, &first.session),
        (LAST, &last),
    ]))
    .unwrap();

    // The first client saw progress 1 and 2; the resumed stream holds exactly the rest:
    // 3..=6 then the answer, nothing seen before, nothing after.
    let seen: Vec<u64> = first.seen.iter().filter_map(Event::progress).collect();
    assert_eq!(seen, vec![1, 2], "{:?}", first.seen);
    let replayed: Vec<u64> = second.replayed.iter().filter_map(Event::progress).collect();
    assert_eq!(
        replayed,
        (3..=u64::from(STEPS)).collect::<Vec<_>>(),
        "{:?}",
        second.replayed
    );
    assert_eq!(
        second.replayed.len(),
        STEPS as usize - 2 + 1,
        "{:?}",
        second.replayed
    );
    let answer = second.replayed.last().unwrap();
    assert!(answer.answers(2), "{answer:?}");
    assert_eq!(
        answer.json().unwrap()["result"]["content"][0]["text"],
        json!(format!("counted to {STEPS}"))
    );
    // Ids: the ones the store handed out, consecutive in one stream, none seen twice.
    let (stream, n) = stowage_rmcp::layout::parse_event_id(&last).unwrap();
    for (i, event) in second.replayed.iter().enumerate() {
        let id = event.id.as_deref().unwrap();
        assert_eq!(
            id,
            stowage_rmcp::layout::event_id(&stream, n + 1 + i as u64)
        );
        assert!(!first.seen.iter().any(|e| e.id.as_deref() == Some(id)));
    }
    // An id no store handed out replays nothing (rmcp answers an empty stream).
    assert!(second.bogus_replay.is_empty(), "{:?}", second.bogus_replay);
    // The session created on the first instance was restored on the second and serves calls.
    let answer = second.new_call.last().expect("an answer");
    assert_eq!(
        answer.json().unwrap()["result"]["content"][0]["text"],
        json!("counted to 1"),
        "{:?}",
        second.new_call
    );
}

#[test]
fn redis_resume_on_a_second_server_process() {
    let namespace = stowage_core::testkit::unique("rmcp-e2e");
    // Fail here, not in a child, when the server is missing.
    let _ = common::redis_url();
    resume_on_a_second_process(&format!("redis:{namespace}"));
}

#[test]
fn disk_resume_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.redb");
    resume_on_a_second_process(&format!("disk:{}", path.display()));
}
