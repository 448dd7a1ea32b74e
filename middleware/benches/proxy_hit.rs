//! Benchmark: the p50 latency of a cached `tools/call` hit answered by `stowage-mcp-proxy` in
//! front of a FastMCP server, against the same FastMCP server answering the hit from its own
//! `ResponseCachingMiddleware`.
//!
//! ```text
//! STOWAGE_TEST_PYTHON=~/.cache/stowage/venv/bin/python cargo bench -p stowage-mcp --bench proxy_hit
//! ```
//!
//! One client (this process) speaks newline-delimited JSON-RPC to each server over pipes, makes
//! the call once (the miss), then times sequential repeats. The two setups alternate in rounds
//! so that drift on the machine affects both alike. Arguments: `[rounds] [calls per round]`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use common::{RawClient, proxy_binary, py_file, python};

const CALL: &str = r#"{"name":"fast_echo","arguments":{"text":"hello, cache"}}"#;

struct Setup {
    name: &'static str,
    child: Child,
    client: RawClient<ChildStdout, ChildStdin>,
    samples: Vec<Duration>,
    log: std::path::PathBuf,
}

async fn start(name: &'static str, through_proxy: bool, log: std::path::PathBuf) -> Setup {
    let mut cmd = if through_proxy {
        let mut c = Command::new(proxy_binary());
        c.args(["--store", "memory://", "--"])
            .arg(python())
            .arg(py_file("fastmcp_slow_server.py"));
        c
    } else {
        let mut c = Command::new(python());
        c.arg(py_file("fastmcp_slow_server.py"))
            .env("FASTMCP_CACHE", "1");
        c
    };
    let mut child = cmd
        .env("SLOW_SERVER_LOG", &log)
        .env("FASTMCP_LOG_LEVEL", "WARNING")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut client = RawClient::new(stdout, stdin);
    client.initialize().await;
    // The miss, which fills the cache.
    assert_eq!(client.call_text(CALL).await, "hello, cache");
    Setup {
        name,
        child,
        client,
        samples: Vec::new(),
        log,
    }
}

impl Setup {
    async fn round(&mut self, calls: usize, keep: bool) {
        for _ in 0..calls {
            let t = Instant::now();
            let r = self.client.request_text("tools/call", CALL).await;
            let elapsed = t.elapsed();
            assert!(r.get("result").is_some(), "{r}");
            if keep {
                self.samples.push(elapsed);
            }
        }
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut s = self.samples.clone();
        s.sort_unstable();
        s[((s.len() - 1) as f64 * p).round() as usize]
    }

    fn tool_runs(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .count()
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10);
    let calls: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let dir = std::env::temp_dir().join(format!("stowage-mcp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let mut proxy = start("stowage-mcp-proxy → FastMCP", true, dir.join("proxy.log")).await;
    let mut fastmcp = start(
        "FastMCP ResponseCachingMiddleware",
        false,
        dir.join("fastmcp.log"),
    )
    .await;
    // Warm up both: caches, allocators and the scheduler settle.
    proxy.round(calls, false).await;
    fastmcp.round(calls, false).await;
    for _ in 0..rounds {
        proxy.round(calls, true).await;
        fastmcp.round(calls, true).await;
    }

    println!("cached tools/call hit, {rounds} rounds × {calls} sequential calls per setup");
    println!(
        "{:<36} {:>10} {:>10} {:>10} {:>10}",
        "setup", "p50 µs", "p90 µs", "p99 µs", "tool runs"
    );
    for s in [&proxy, &fastmcp] {
        println!(
            "{:<36} {:>10.1} {:>10.1} {:>10.1} {:>10}",
            s.name,
            us(s.percentile(0.50)),
            us(s.percentile(0.90)),
            us(s.percentile(0.99)),
            s.tool_runs()
        );
    }
    let ratio = us(fastmcp.percentile(0.5)) / us(proxy.percentile(0.5));
    println!("p50 ratio (FastMCP middleware / stowage-mcp-proxy): {ratio:.2}×");
    assert_eq!(proxy.tool_runs(), 1, "every repeat was a hit in the proxy");
    assert_eq!(
        fastmcp.tool_runs(),
        1,
        "every repeat was a hit in FastMCP's middleware"
    );

    for s in [proxy, fastmcp] {
        drop(s.client);
        let mut child = s.child;
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        let _ = child.kill().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}
