//! The harness's command line: a short real run, and clear errors with a non-zero exit on bad
//! input.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stowage-bench"))
        .args(args)
        .output()
        .expect("the harness starts")
}

#[track_caller]
fn fails_with(args: &[&str], needle: &str) {
    let out = bench(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected `{needle}` in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
}

#[test]
fn a_short_run_prints_the_table_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let out = bench(&[
        "--backends",
        "memory,moka",
        "--workloads",
        "b,cache",
        "--duration",
        "0.3",
        "--warmup",
        "0",
        "--keys",
        "200",
        "--out",
        out_dir,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "ops/s",
        "memory",
        "moka",
        "read-heavy",
        "cache",
        "memory / moka on read-heavy",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(
        results
            .iter()
            .all(|r| r["ops_per_sec"].as_f64().unwrap() > 0.0)
    );
    #[cfg(target_os = "linux")]
    assert!(
        results
            .iter()
            .all(|r| r["cpu_us_per_op"].as_f64().is_some_and(|us| us > 0.0)),
        "{results:?}"
    );
    let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    let svg = std::fs::read_to_string(dir.path().join("results.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("moka"));
}

/// A short counted run (`--ops N`, no warm-up, 100 keys) that must succeed; its `results.json`.
fn counted_run(backends: &str, workloads: &str, ops: &str) -> serde_json::Value {
    counted_run_with(backends, workloads, ops, &[])
}

/// [`counted_run`] with more arguments.
fn counted_run_with(
    backends: &str,
    workloads: &str,
    ops: &str,
    more: &[&str],
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = bench(
        &[
            &[
                "--backends",
                backends,
                "--workloads",
                workloads,
                "--ops",
                ops,
                "--warmup",
                "0",
                "--keys",
                "100",
                "--out",
                dir.path().to_str().unwrap(),
            ],
            more,
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap()
}

#[test]
fn a_counted_run_stops_after_its_operations() {
    let json = counted_run("memory", "c", "5000");
    assert_eq!(json["results"][0]["read"]["count"], 5000);
}

#[test]
fn the_cache_workload_runs_on_the_embedded_stores() {
    // The cache workload writes with TTLs; every embedded store must take them through the
    // harness's adapter, not only the memory store.
    let json = counted_run("disk,sled", "cache", "2000");
    let rows = json["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row["workload"], "cache", "{row}");
        assert!(row["read"]["count"].as_u64().unwrap() > 0, "{row}");
    }
}

#[test]
fn unicode_values_round_trip_through_every_default_store() {
    let json = counted_run_with(
        "memory,disk,sled",
        "a",
        "2000",
        &["--value-text", "unicode"],
    );
    assert_eq!(json["config"]["value_text"], "unicode", "{json}");
    let rows = json["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert!(row["read"]["count"].as_u64().unwrap() > 0, "{row}");
        assert_eq!(row["hit_rate"], 1.0, "{row}");
    }
}

#[test]
fn unknown_backend() {
    fails_with(
        &["--backends", "floppy"],
        "unknown backend `floppy`; known backends: memory",
    );
}

#[test]
fn unknown_workload() {
    fails_with(&["--workloads", "e"], "unknown workload `e`");
}

#[test]
fn zero_duration() {
    fails_with(
        &["--duration", "0"],
        "--duration must be more than zero seconds",
    );
    fails_with(&["--duration=-1"], "--duration must be");
    fails_with(&["--ops", "0"], "--ops must be at least 1");
}

#[test]
fn zero_concurrency_and_keys() {
    fails_with(&["--concurrency", "0"], "--concurrency");
    fails_with(&["--keys", "0"], "--keys must be at least 1");
    fails_with(&["--rounds", "0"], "--rounds must be between 1 and 1000");
    fails_with(&["--hit-rate", "1.5"], "--hit-rate");
}

#[test]
fn malformed_url_option() {
    fails_with(&["--url", "redis"], "--url takes KIND=URL");
}

#[test]
fn python_anchor_without_python() {
    let out = Command::new(env!("CARGO_BIN_EXE_stowage-bench"))
        .args(["--pykv", "memory"])
        .env_remove("STOWAGE_BENCH_PYTHON")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pykv needs --python"));
}

#[test]
fn the_python_anchor_runs_the_real_package() {
    let python = std::env::var("STOWAGE_TEST_PYTHON")
        .expect("STOWAGE_TEST_PYTHON is unset: run the suite with scripts/test.sh");
    let dir = tempfile::tempdir().unwrap();
    let out = bench(&[
        "--backends",
        "memory",
        "--workloads",
        "b",
        "--duration",
        "0.5",
        "--warmup",
        "0",
        "--keys",
        "200",
        "--value-text",
        "unicode",
        "--python",
        &python,
        "--pykv",
        "memory",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("pykv-memory"), "{stdout}");
    assert!(
        stdout.contains("memory / pykv-memory on read-heavy"),
        "{stdout}"
    );
}

/// A short run of `args` (0.2 s per row, no warm-up, 100 keys) that must succeed: its output and
/// the directory holding its files.
fn short_run(args: &[&str]) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = args.to_vec();
    all.extend(["--duration", "0.2", "--warmup", "0", "--keys", "100"]);
    all.extend(["--out", dir.path().to_str().unwrap()]);
    let out = bench(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8_lossy(&out.stdout).into_owned(), dir)
}

#[test]
fn rounds_keep_one_row_per_run_and_report_the_spread() {
    let (stdout, dir) = short_run(&[
        "--backends",
        "memory,moka",
        "--workloads",
        "c",
        "--rounds",
        "3",
    ]);
    assert!(
        stdout.contains("memory / moka on read-only: median"),
        "no spread line in:\n{stdout}"
    );
    assert!(stdout.contains("over 3 rounds"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    // The median run of each row, not one row per round.
    assert_eq!(json["results"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["config"]["rounds"], 3);
}

/// The URL of a test server, from the environment `scripts/test.sh` sets up.
#[cfg(feature = "servers")]
fn server_url(var: &str) -> String {
    std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} is unset: run the suite with scripts/test.sh"))
}

/// Needs the harness's `servers` feature (on in `scripts/test.sh`).
#[cfg(feature = "servers")]
#[test]
fn server_backends_run_beside_their_raw_clients() {
    let dir = tempfile::tempdir().unwrap();
    let urls = [
        ("redis", "STOWAGE_TEST_REDIS_URL"),
        ("redis-cluster", "STOWAGE_TEST_REDIS_CLUSTER_URL"),
        ("mongodb", "STOWAGE_TEST_MONGODB_URL"),
        ("dynamodb", "STOWAGE_TEST_DYNAMODB_URL"),
    ]
    .map(|(kind, var)| format!("{kind}={}", server_url(var)));
    let backends = [
        "redis",
        "redis-uncoalesced",
        "redis-raw",
        "redis-cluster",
        "redis-cluster-uncoalesced",
        "redis-cluster-raw",
        "redis-cluster-raw-bounded",
        "mongodb",
        "mongodb-raw",
        "mongodb-raw-id",
        "dynamodb",
        "dynamodb-raw",
    ];
    let mut args = vec![
        "--backends".to_owned(),
        backends.join(","),
        "--workloads".into(),
        "update-heavy".into(),
        "--duration".into(),
        "0.3".into(),
        "--warmup".into(),
        "0".into(),
        "--keys".into(),
        "50".into(),
        "--out".into(),
        dir.path().to_str().unwrap().into(),
    ];
    for url in urls {
        args.extend(["--url".into(), url]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = bench(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for backend in backends {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(backend))
            .unwrap_or_else(|| panic!("no row for {backend} in:\n{stdout}"));
        assert!(
            row.contains("| 100.0 |"),
            "{backend} missed loaded keys: {row}"
        );
    }
    for pair in [
        "redis / redis-raw",
        "redis-uncoalesced / redis-raw",
        "redis-cluster / redis-cluster-raw",
        "redis-cluster-uncoalesced / redis-cluster-raw",
        "redis-cluster-raw-bounded / redis-cluster-raw",
        "mongodb / mongodb-raw",
        "mongodb-raw-id / mongodb-raw",
        "dynamodb / dynamodb-raw",
    ] {
        assert!(
            stdout.contains(&format!("{pair} on update-heavy")),
            "missing `{pair}` in:\n{stdout}"
        );
    }
}

#[test]
fn list_names_every_backend_in_aligned_columns() {
    let out = bench(&["--list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let mut names = vec!["memory", "sled-raw", "disk-inline"];
    if cfg!(feature = "servers") {
        names.extend(["redis-cluster-raw-bounded", "mongodb-raw", "mongodb-raw-id"]);
    }
    for name in names {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.split_whitespace().next() == Some(name))
                .count(),
            1,
            "{name} once in:\n{stdout}"
        );
    }
    // The kind column starts at the same place on every line.
    let kind_at: Vec<usize> = lines
        .iter()
        .map(|l| {
            l.find(" embedded ")
                .or_else(|| l.find(" server "))
                .unwrap_or_else(|| panic!("no kind in `{l}`"))
        })
        .collect();
    assert!(kind_at.iter().all(|&k| k == kind_at[0]), "{stdout}");
}

/// `--wrappers`: each stack is a row of its own over every Stowage store, a raw baseline runs once
/// and bare, and each stack is compared with the first.
#[test]
fn wrapper_stacks_are_rows_of_their_own() {
    let (stdout, _dir) = short_run(&[
        "--backends",
        "memory,moka",
        "--wrappers",
        "none",
        "--wrappers",
        "fernet,stats",
        "--workloads",
        "b",
    ]);
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" | "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| name.starts_with("memory") || name.starts_with("moka"))
        .collect();
    for name in ["memory+none", "memory+fernet+stats", "moka"] {
        assert_eq!(
            rows.iter().filter(|r| **r == name).count(),
            1,
            "{name} in:\n{stdout}"
        );
    }
    assert!(!rows.iter().any(|r| r.starts_with("moka+")), "{stdout}");
    assert!(
        stdout.contains("memory+fernet+stats / memory+none on read-heavy"),
        "{stdout}"
    );
}
