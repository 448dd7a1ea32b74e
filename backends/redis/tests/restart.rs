//! A Redis restart under load: while tasks run gets and puts, the server is stopped and started
//! again on the same port. During the outage every call fails with a typed, retryable error and
//! none outlives the configured timeout; after the restart, calls succeed again within 2 s.
//! The test starts its own `redis-server`, so it disturbs no other test.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use stowage_core::testkit::obj;
use stowage_core::{ErrorKind, KeyValueStore};
use stowage_redis::RedisStore;

const TASKS: usize = 8;
const TIMEOUT: Duration = Duration::from_millis(1000);
const RECOVERY: Duration = Duration::from_secs(2);
/// Scheduling slack on top of the configured timeout (two busy cores share the server, the
/// Python-free test process and the build).
const SLACK: Duration = Duration::from_millis(500);

struct Server {
    child: Child,
}

impl Server {
    fn start(port: u16, dir: &std::path::Path) -> Server {
        let bin = common::env_url("STOWAGE_TEST_REDIS_SERVER");
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Server { child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Call {
    start: Instant,
    end: Instant,
    outcome: Result<(), ErrorKind>,
}

async fn load(store: RedisStore, task: usize, stop: Arc<AtomicBool>) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("k{task}-{}", i % 16);
        let start = Instant::now();
        let outcome = if i.is_multiple_of(2) {
            store
                .put(
                    "load",
                    &key,
                    obj(json!({"i": i})),
                    Some(Duration::from_secs(60)),
                )
                .await
        } else {
            store.get("load", &key).await.map(|_| ())
        };
        let end = Instant::now();
        let failed = outcome.is_err();
        calls.push(Call {
            start,
            end,
            outcome: outcome.map_err(|e| e.kind()),
        });
        i += 1;
        if failed {
            // A client that backs off a little between failed attempts.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_under_load() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("stowage-redis-restart-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Server::start(port, &dir);
    let store = RedisStore::builder()
        .url(format!("redis://127.0.0.1:{port}/"))
        .namespace("restart")
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(load(store.clone(), t, stop.clone())))
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping_at = Instant::now();
    server.stop();
    // From here until the new server starts, nothing can succeed.
    let down_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restart_at = Instant::now();
    let server = Server::start(port, &dir);
    let up_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);

    let mut per_task = Vec::new();
    for t in tasks {
        per_task.push(t.await.expect("no load task panicked"));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let all: Vec<&Call> = per_task.iter().flatten().collect();
    let before: Vec<&&Call> = all.iter().filter(|c| c.end < stopping_at).collect();
    let outage: Vec<&&Call> = all
        .iter()
        .filter(|c| c.start >= down_at && c.end <= restart_at)
        .collect();
    let errors: Vec<ErrorKind> = all.iter().filter_map(|c| c.outcome.err()).collect();
    let longest = all.iter().map(|c| c.end - c.start).max().unwrap();
    let longest_outage = outage
        .iter()
        .map(|c| c.end - c.start)
        .max()
        .unwrap_or_default();
    let unavailable = errors
        .iter()
        .filter(|k| **k == ErrorKind::Unavailable)
        .count();
    let timeouts = errors.iter().filter(|k| **k == ErrorKind::Timeout).count();

    // Per task: the first success that started after the restart.
    let recoveries: Vec<Duration> = per_task
        .iter()
        .map(|calls| {
            calls
                .iter()
                .find(|c| c.start >= up_at && c.outcome.is_ok())
                .map(|c| c.end - up_at)
                .expect("every task succeeds again after the restart")
        })
        .collect();
    let slowest_recovery = recoveries.iter().max().copied().unwrap();
    let after_recovery_failures = all
        .iter()
        .filter(|c| c.start >= up_at + RECOVERY && c.outcome.is_err())
        .count();

    println!(
        "restart under load ({TASKS} tasks, timeout {TIMEOUT:?}): {} calls before the stop, all ok; \
         {} calls during the 2 s outage; {} errors in all ({unavailable} Unavailable, {timeouts} Timeout); \
         longest call {longest:?} (longest during the outage {longest_outage:?}); \
         first success after restart per task {recoveries:?}, slowest {slowest_recovery:?}; \
         {} calls after the recovery window, {after_recovery_failures} failed",
        before.len(),
        outage.len(),
        errors.len(),
        all.iter().filter(|c| c.start >= up_at + RECOVERY).count(),
    );

    assert!(!before.is_empty() && before.iter().all(|c| c.outcome.is_ok()));
    assert!(!outage.is_empty(), "calls were made during the outage");
    assert!(
        outage.iter().all(|c| c.outcome.is_err()),
        "nothing can succeed while the server is down"
    );
    assert!(
        errors.iter().all(|k| k.is_retryable()),
        "every error is retryable: {errors:?}"
    );
    assert!(
        longest <= TIMEOUT + SLACK,
        "a call took {longest:?}, past the {TIMEOUT:?} timeout"
    );
    assert!(
        slowest_recovery <= RECOVERY,
        "calls succeeded again only after {slowest_recovery:?}"
    );
    assert_eq!(after_recovery_failures, 0);
}

fn signal(server: &Server, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &server.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {sig} failed");
}

/// A server that stops answering (paused with SIGSTOP, connections left open) makes calls fail
/// with a retryable `Timeout` once the configured timeout passes, never later; when it resumes,
/// calls succeed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresponsive_server_times_out() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("stowage-redis-pause-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Server::start(port, &dir);
    let timeout = Duration::from_millis(300);
    let store = RedisStore::builder()
        .url(format!("redis://127.0.0.1:{port}/"))
        .timeout(timeout)
        .build()
        .await
        .unwrap();
    store
        .put("c", "k", obj(json!({"v": 1})), None)
        .await
        .unwrap();

    signal(&server, "-STOP");
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let err = store.get("c", "k").await.unwrap_err();
        let took = started.elapsed();
        assert!(err.is_retryable(), "{err}");
        assert!(took <= timeout + SLACK, "a call took {took:?}");
        kinds.push(err.kind());
    }
    assert!(kinds.contains(&ErrorKind::Timeout), "{kinds:?}");
    signal(&server, "-CONT");

    let resumed = Instant::now();
    loop {
        match store.get("c", "k").await {
            Ok(found) => {
                assert!(found.is_some());
                break;
            }
            Err(e) => {
                assert!(e.is_retryable(), "{e}");
                assert!(resumed.elapsed() <= RECOVERY, "no recovery: {e}");
            }
        }
    }
    println!(
        "paused server: errors {kinds:?} within {timeout:?} + slack; recovered {:?} after SIGCONT",
        resumed.elapsed()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
