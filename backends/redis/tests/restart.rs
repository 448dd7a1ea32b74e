//! A Redis restart under load: while tasks run gets and puts, the server is stopped and started
//! again on the same port. During the outage every call fails with a typed, retryable error and
//! none outlives the configured timeout; after the restart, calls succeed again within 2 s.
//! A paused server, and a paused master of a cluster, make calls time out within the configured
//! timeout. The tests start their own `redis-server`s, so they disturb no other test.

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
        Server::start_with(port, dir, &[])
    }

    /// A server with `extra` arguments after the common ones.
    fn start_with(port: u16, dir: &std::path::Path, extra: &[&str]) -> Server {
        let bin = common::env_url("STOWAGE_TEST_REDIS_SERVER");
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .args(extra)
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
    let port = free_port();
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    let port = free_port();
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
        kinds.push(read_times_out(&store, "k", timeout).await);
    }
    assert!(kinds.contains(&ErrorKind::Timeout), "{kinds:?}");
    signal(&server, "-CONT");

    let resumed = Instant::now();
    read_until_found(&store, "k", resumed).await;
    println!(
        "paused server: errors {kinds:?} within {timeout:?} + slack; recovered {:?} after SIGCONT",
        resumed.elapsed()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Read `key` of collection `c` from a server that does not answer: a retryable error within
/// `timeout` (and scheduling slack); its kind.
async fn read_times_out(store: &RedisStore, key: &str, timeout: Duration) -> ErrorKind {
    let started = Instant::now();
    let err = store.get("c", key).await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_retryable(), "{err}");
    assert!(took <= timeout + SLACK, "a call took {took:?}");
    err.kind()
}

/// Read `key` of collection `c` until it is found; every failure on the way is retryable and
/// comes within [`RECOVERY`] of `resumed`.
async fn read_until_found(store: &RedisStore, key: &str, resumed: Instant) {
    loop {
        match store.get("c", key).await {
            Ok(found) => {
                assert!(found.is_some(), "{key}");
                return;
            }
            Err(e) => {
                assert!(e.is_retryable(), "{e}");
                assert!(resumed.elapsed() <= RECOVERY, "no recovery: {e}");
            }
        }
    }
}

/// `redis-cli ARGS`, from beside `redis-server`; its standard output.
fn redis_cli(args: &[&str]) -> String {
    let server = common::env_url("STOWAGE_TEST_REDIS_SERVER");
    let cli = std::path::Path::new(&server).with_file_name("redis-cli");
    let out = Command::new(&cli)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", cli.display()));
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A Redis Cluster of three masters of its own, in fresh directories.
struct Cluster {
    nodes: Vec<(u16, Server)>,
    dir: std::path::PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let dir = std::env::temp_dir().join(format!("stowage-redis-cluster-pause-{}", ports[0]));
        let nodes = ports
            .iter()
            .map(|&port| {
                let node_dir = dir.join(port.to_string());
                std::fs::create_dir_all(&node_dir).unwrap();
                // A node timeout far longer than the pause, so the cluster never marks the
                // paused master as failed (which would stop the whole cluster: no replicas).
                let server = Server::start_with(
                    port,
                    &node_dir,
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-node-timeout",
                        "30000",
                    ],
                );
                (port, server)
            })
            .collect();
        let mut create = vec!["--cluster".to_owned(), "create".to_owned()];
        create.extend(ports.iter().map(|p| format!("127.0.0.1:{p}")));
        create.extend(["--cluster-replicas", "0", "--cluster-yes"].map(str::to_owned));
        redis_cli(&create.iter().map(String::as_str).collect::<Vec<_>>());
        let deadline = Instant::now() + Duration::from_secs(30);
        for port in &ports {
            while !redis_cli(&["-p", &port.to_string(), "cluster", "info"])
                .contains("cluster_state:ok")
            {
                assert!(Instant::now() < deadline, "the cluster did not form");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Cluster { nodes, dir }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One master of a cluster stops answering (SIGSTOP): reads of its keys fail with a retryable
/// error within the configured timeout, reads of the other masters' keys still succeed, and
/// once it resumes every key reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresponsive_cluster_node_times_out_alone() {
    let cluster = Cluster::start();
    let (paused_port, paused) = &cluster.nodes[0];
    let timeout = Duration::from_millis(300);
    let store = RedisStore::builder()
        .url(format!("redis://127.0.0.1:{paused_port}/"))
        .cluster(true)
        .timeout(timeout)
        .build()
        .await
        .unwrap();
    let keys: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    for key in &keys {
        store
            .put("c", key, obj(json!({"k": key})), None)
            .await
            .unwrap();
    }
    // The keys the paused master holds, from the master itself.
    let on_paused: Vec<String> = redis_cli(&["-p", &paused_port.to_string(), "--scan"])
        .lines()
        .filter_map(|physical| physical.strip_prefix("c::").map(str::to_owned))
        .collect();
    let elsewhere: Vec<&String> = keys.iter().filter(|k| !on_paused.contains(k)).collect();
    assert!(
        !on_paused.is_empty() && !elsewhere.is_empty(),
        "{on_paused:?}"
    );

    signal(paused, "-STOP");
    let mut kinds = Vec::new();
    for key in on_paused.iter().take(3) {
        kinds.push(read_times_out(&store, key, timeout).await);
    }
    let mut served = 0;
    for key in elsewhere.iter().take(5) {
        let found = store.get("c", key).await;
        assert!(
            matches!(found, Ok(Some(_))),
            "{key} on a running master, while another is paused: {found:?}"
        );
        served += 1;
    }
    signal(paused, "-CONT");

    let resumed = Instant::now();
    for key in &on_paused {
        read_until_found(&store, key, resumed).await;
    }
    println!(
        "paused cluster master: errors {kinds:?} within {timeout:?} + slack, {served} reads \
         served by the other masters meanwhile; every key read again {:?} after SIGCONT",
        resumed.elapsed()
    );
}
