//! Shared helpers of the command line's tests: running the binary, and the test servers' URLs.
//!
//! The servers are the ones `scripts/test.sh` starts; a missing URL fails the test (it is never
//! skipped), as in the backends' own tests.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use serde_json::Value as Json;

/// What one run of `stowage` printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Assert it exited with `code`; `self` for chaining.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "stowage {:?} exited {} (expected {code})\nstdout: {}\nstderr: {}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Assert it succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        self.code(0)
    }

    /// Standard output as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: not JSON: {}", self.stdout))
    }

    /// Standard output as JSON lines.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<Json> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// Run `stowage ARGS` with `stdin` (empty when `None`) and `env` set.
pub fn run_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_stowage"));
    cmd.args(args)
        .env_remove("STOWAGE_FERNET_KEY")
        .write_stdin(stdin.unwrap_or(""))
        .timeout(Duration::from_secs(120));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("stowage runs");
    let run = Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "stowage {args:?} panicked: {}",
        run.stderr
    );
    run
}

/// Run `stowage ARGS`.
pub fn run(args: &[&str]) -> Run {
    run_with(args, None, &[])
}

fn var(name: &str, what: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh, which starts {what} and sets it")
    })
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    stowage_core::testkit::unique(prefix)
}

/// A disk store in a fresh temporary directory (kept alive by the returned guard).
pub fn disk() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("disk://{}", dir.path().join("store.redb").display());
    (dir, url)
}

/// The single Redis server.
pub fn redis() -> String {
    var("STOWAGE_TEST_REDIS_URL", "Redis")
}

/// The Redis Cluster, as a `stowage::open` URL in its cluster scheme (`redis+cluster://`).
pub fn redis_cluster() -> String {
    let url = var("STOWAGE_TEST_REDIS_CLUSTER_URL", "a Redis Cluster");
    assert!(url.starts_with("redis://"), "{url}");
    url.replacen("redis://", "redis+cluster://", 1)
}

/// The MongoDB-compatible server, as py-key-value names it.
pub fn mongodb_server() -> String {
    var("STOWAGE_TEST_MONGODB_URL", "a MongoDB-compatible server")
}

/// A store on a database of its own on the MongoDB-compatible server; `(url, database)`.
pub fn mongodb() -> (String, String) {
    let server = mongodb_server();
    let db = unique("cli");
    let (base, query) = server.split_once('?').unwrap_or((&server, ""));
    let base = base.trim_end_matches('/');
    let url = if query.is_empty() {
        format!("{base}/{db}")
    } else {
        format!("{base}/{db}?{query}")
    };
    (url, db)
}

/// The DynamoDB-compatible server's endpoint.
pub fn dynamodb_endpoint() -> String {
    var("STOWAGE_TEST_DYNAMODB_URL", "a DynamoDB-compatible server")
}

/// A store on a table of its own; `(url, table)`.
pub fn dynamodb() -> (String, String) {
    let table = unique("cli");
    let url = format!(
        "dynamodb://{table}?endpoint={}&region=us-east-1&access_key_id=test&secret_access_key=test",
        dynamodb_endpoint()
    );
    (url, table)
}

/// The remaining TTL `stowage ttl --json` reports, in seconds (`None`: never expires).
#[track_caller]
pub fn ttl_of(url: &str, collection: &str, key: &str) -> Option<f64> {
    run(&["ttl", url, collection, key, "--json"]).ok().json()["ttl"].as_f64()
}

/// The value `stowage get --json` reports.
#[track_caller]
pub fn value_of(url: &str, collection: &str, key: &str) -> Json {
    run(&["get", url, collection, key, "--json"]).ok().json()["value"].clone()
}
