//! Crash consistency for stores that keep their data in files: [`crash_tests!`].
//!
//! A child process (the test binary itself, running one ignored test) writes entries from
//! [`WRITERS`] concurrent tasks and prints an acknowledgement after each `put` or `put_many`
//! returns; the test kills it with SIGKILL at a random moment, reopens the store and checks that
//! every write acknowledged so far, in every cycle, reads back exactly, and that nothing stored
//! (acknowledged or not) reads back corrupt. Concurrent writers put the engines' shared commits
//! (group commit) under the kill as well as single writes.
//!
//! `STOWAGE_CRASH_CYCLES` sets the number of kill cycles (default 50).
//!
//! [`crash_tests!`]: crate::crash_tests

use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::store::KeyValueStore;
use crate::value::Value;

const COLLECTION: &str = "crash";
const CHILD_DIR: &str = "STOWAGE_CRASH_CHILD_DIR";
const CHILD_CYCLE: &str = "STOWAGE_CRASH_CHILD_CYCLE";
/// The name of the writer test [`crash_tests!`](crate::crash_tests) generates.
const CHILD_TEST: &str = "crash_writer_child";
/// Concurrent writer tasks in the child.
pub const WRITERS: usize = 4;

/// Generate the crash test of a store kept in files: `acknowledged_writes_survive_sigkill`, and
/// the ignored `crash_writer_child` it runs as its child process. `$open` opens (or reopens)
/// the store in the directory it is given; call the macro at the root of an integration test
/// file, where `crash_writer_child` is the test's exact name.
///
/// ```ignore
/// stowage_core::crash_tests!("disk", |dir: &std::path::Path| {
///     stowage_disk::DiskStore::open(dir.join("store.redb")).expect("reopen after a crash")
/// });
/// ```
#[macro_export]
macro_rules! crash_tests {
    ($backend:literal, $open:expr) => {
        /// The writer child. Ignored in normal runs; the crash test runs it by name.
        #[test]
        #[ignore = "the writer child of `acknowledged_writes_survive_sigkill`"]
        fn crash_writer_child() {
            $crate::testkit::crash::writer_child($open);
        }

        #[test]
        fn acknowledged_writes_survive_sigkill() {
            $crate::testkit::crash::acknowledged_writes_survive_sigkill($backend, $open);
        }
    };
}

fn cycles() -> usize {
    std::env::var("STOWAGE_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// One acknowledged write: its cycle, writer task and number.
#[derive(Debug, Clone, Copy)]
struct Acked {
    cycle: usize,
    task: usize,
    i: usize,
}

/// The value of a write: its size varies from 10 bytes to 6 KiB.
fn value_for(w: Acked) -> Value {
    let pad = "x".repeat((w.i * 397 + w.task * 101 + w.cycle * 31) % 6000);
    Value::from_serialize(
        &serde_json::json!({"cycle": w.cycle, "task": w.task, "i": w.i, "pad": pad}),
    )
    .expect("an object")
}

/// The keys of a write: every tenth write of a task is a batch of five.
fn keys_for(w: Acked) -> Vec<String> {
    let (cycle, task, i) = (w.cycle, w.task, w.i);
    let key = format!("c{cycle}-t{task}-{i}");
    if i % 10 == 9 {
        (0..5).map(|j| format!("{key}-b{j}")).collect()
    } else {
        vec![key]
    }
}

/// The child: open the store in the directory the parent names and write from [`WRITERS`]
/// tasks until killed, printing `ack T N` after write `N` of task `T` returns.
pub fn writer_child<S: KeyValueStore + 'static>(open: impl Fn(&Path) -> S) {
    let dir = std::env::var(CHILD_DIR).expect("run by the crash test only");
    let cycle: usize = std::env::var(CHILD_CYCLE)
        .expect("run by the crash test only")
        .parse()
        .expect("a cycle number");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let store = std::sync::Arc::new(open(Path::new(&dir)));
        let writers: Vec<_> = (0..WRITERS)
            .map(|task| {
                let store = std::sync::Arc::clone(&store);
                tokio::spawn(async move { write_until_killed(&*store, cycle, task).await })
            })
            .collect();
        for w in writers {
            w.await.expect("a writer task");
        }
    });
}

async fn write_until_killed<S: KeyValueStore>(store: &S, cycle: usize, task: usize) {
    for i in 0.. {
        let w = Acked { cycle, task, i };
        let keys = keys_for(w);
        if let [key] = keys.as_slice() {
            store
                .put(COLLECTION, key, value_for(w), None)
                .await
                .expect("put");
        } else {
            // Batches too: every key of an acknowledged batch must survive.
            let entries: Vec<(&str, Value)> =
                keys.iter().map(|k| (k.as_str(), value_for(w))).collect();
            store
                .put_many(COLLECTION, &entries, None)
                .await
                .expect("put_many");
        }
        // One line per acknowledgement, whole: the lock is held for the write and the flush.
        let mut out = std::io::stdout().lock();
        writeln!(out, "ack {task} {i}").expect("the parent reads");
        out.flush().expect("the parent reads");
    }
}

/// Run one child until a random moment, SIGKILL it; the writes it acknowledged.
fn run_and_kill(dir: &Path, cycle: usize) -> Vec<Acked> {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            CHILD_TEST,
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_CYCLE, cycle.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the writer child");
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
            .filter_map(|l| {
                let (task, i) = l.strip_prefix("ack ")?.split_once(' ')?;
                Some(Acked {
                    cycle,
                    task: task.parse().ok()?,
                    i: i.parse().ok()?,
                })
            })
            .collect::<Vec<_>>()
    });
    // A random moment: sometimes while the child is still opening (recovering) the store.
    std::thread::sleep(Duration::from_millis(fastrand::u64(5..250)));
    child.kill().expect("SIGKILL the writer");
    child.wait().expect("the writer exits");
    reader.join().expect("the reader thread")
}

/// The parent: `STOWAGE_CRASH_CYCLES` kill cycles (default 50), each followed by a full check
/// of everything acknowledged.
pub fn acknowledged_writes_survive_sigkill<S: KeyValueStore>(
    backend: &str,
    open: impl Fn(&Path) -> S,
) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let mut acked: Vec<Acked> = Vec::new();
    let mut kills_with_acks = 0;
    let n = cycles();
    for cycle in 0..n {
        let this = run_and_kill(dir.path(), cycle);
        if !this.is_empty() {
            kills_with_acks += 1;
        }
        acked.extend(this);
        rt.block_on(async {
            let store = open(dir.path());
            // Every acknowledged write, read back 256 keys at a time.
            let expected: Vec<(String, Acked)> = acked
                .iter()
                .flat_map(|&w| keys_for(w).into_iter().map(move |k| (k, w)))
                .collect();
            for chunk in expected.chunks(256) {
                let refs: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
                let got = store
                    .get_many(COLLECTION, &refs)
                    .await
                    .unwrap_or_else(|e| panic!("cycle {cycle}: reading {refs:?}: {e}"));
                for ((k, w), got) in chunk.iter().zip(got) {
                    assert_eq!(
                        got.as_ref().map(Value::to_map),
                        Some(value_for(*w).to_map()),
                        "cycle {cycle}: acknowledged write {k} lost or wrong"
                    );
                }
            }
            // Nothing stored, acknowledged or not, reads back corrupt.
            let keys = store.keys(COLLECTION).await.expect("keys");
            for chunk in keys.chunks(256) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                store
                    .get_many(COLLECTION, &refs)
                    .await
                    .unwrap_or_else(|e| panic!("cycle {cycle}: a stored entry reads corrupt: {e}"));
            }
        });
    }
    eprintln!(
        "{backend} crash test: {n} SIGKILL cycles, {kills_with_acks} killed mid-write, {} acknowledged writes verified",
        acked.len()
    );
    assert!(
        kills_with_acks > 0,
        "no cycle killed the child after a write"
    );
}
