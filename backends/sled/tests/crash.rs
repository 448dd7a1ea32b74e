//! Crash consistency: a child process writes and acknowledges entries, the test kills it with
//! SIGKILL at a random moment, reopens the store and checks that every acknowledged write is there
//! and that nothing reads back corrupt.
//!
//! `STOWAGE_CRASH_CYCLES` sets the number of kill cycles (default 50).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use stowage_core::{KeyValueStore, Value};
use stowage_sled::SledStore;

const COLLECTION: &str = "crash";
const CHILD_DIR: &str = "STOWAGE_CRASH_CHILD_DIR";
const CHILD_CYCLE: &str = "STOWAGE_CRASH_CHILD_CYCLE";

fn cycles() -> usize {
    std::env::var("STOWAGE_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// The value written for key number `i` of `cycle`: its size varies from 10 bytes to 6 KiB.
fn value_for(cycle: usize, i: usize) -> Value {
    let pad = "x".repeat((i * 397 + cycle * 31) % 6000);
    Value::try_from(json!({"cycle": cycle, "i": i, "pad": pad})).expect("an object")
}

fn open(dir: &Path) -> SledStore {
    SledStore::builder(dir.join("store.sled"))
        .no_sweeper()
        .open()
        .expect("reopen after a crash")
}

/// The writer child. Ignored in normal runs; the crash test runs it with `--ignored --exact`.
#[test]
#[ignore = "the writer child of `acknowledged_writes_survive_sigkill`"]
fn crash_writer_child() {
    let dir = std::env::var(CHILD_DIR).expect("run by the crash test only");
    let cycle: usize = std::env::var(CHILD_CYCLE).unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = open(Path::new(&dir));
        let mut out = std::io::stdout().lock();
        for i in 0.. {
            let key = format!("c{cycle}-{i}");
            if i % 10 == 9 {
                // Batches too: every key of an acknowledged batch must survive.
                let keys: Vec<String> = (0..5).map(|j| format!("{key}-b{j}")).collect();
                let entries: Vec<(&str, Value)> = keys
                    .iter()
                    .map(|k| (k.as_str(), value_for(cycle, i)))
                    .collect();
                store.put_many(COLLECTION, &entries, None).await.unwrap();
            } else {
                store
                    .put(COLLECTION, &key, value_for(cycle, i), None)
                    .await
                    .unwrap();
            }
            writeln!(out, "ack {i}").unwrap();
            out.flush().unwrap();
        }
    });
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut acked: Vec<(usize, usize)> = Vec::new();
    let mut kills_with_acks = 0;
    let n = cycles();
    for cycle in 0..n {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_CYCLE, cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the writer child");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("ack ").and_then(|n| n.parse::<usize>().ok()))
                .collect::<Vec<_>>()
        });
        // A random moment: sometimes while the child is still opening (recovering) the file.
        std::thread::sleep(Duration::from_millis(fastrand::u64(5..250)));
        child.kill().expect("SIGKILL the writer");
        child.wait().unwrap();
        let this: Vec<usize> = reader.join().unwrap();
        if !this.is_empty() {
            kills_with_acks += 1;
        }
        acked.extend(this.into_iter().map(|i| (cycle, i)));

        // Reopen and check everything acknowledged so far, in every cycle.
        rt.block_on(async {
            let store = open(dir.path());
            for &(c, i) in &acked {
                let key = format!("c{c}-{i}");
                let keys: Vec<String> = if i % 10 == 9 {
                    (0..5).map(|j| format!("{key}-b{j}")).collect()
                } else {
                    vec![key]
                };
                for k in keys {
                    let got = store
                        .get(COLLECTION, &k)
                        .await
                        .unwrap_or_else(|e| panic!("cycle {cycle}: reading {k}: {e}"));
                    assert_eq!(
                        got.as_ref().map(|v| v.to_map()),
                        Some(value_for(c, i).to_map()),
                        "cycle {cycle}: acknowledged write {k} lost or wrong"
                    );
                }
            }
            // Nothing stored, acknowledged or not, reads back corrupt.
            let keys = store.keys(COLLECTION).await.unwrap();
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
        "sled crash test: {n} SIGKILL cycles, {kills_with_acks} killed mid-write, {} acknowledged writes verified",
        acked.len()
    );
    assert!(
        kills_with_acks > 0,
        "no cycle killed the child after a write"
    );
}
