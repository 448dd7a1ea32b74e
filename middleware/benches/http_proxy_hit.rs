//! Benchmark: a cached `tools/call` hit through the Streamable HTTP proxy, against the same
//! FastMCP HTTP server called directly (every call runs the tool) and against FastMCP's own
//! `ResponseCachingMiddleware` on that server; and the proxy's own cost on a miss.
//!
//! ```text
//! STOWAGE_TEST_PYTHON=/path/to/venv/bin/python \
//!   cargo bench -p stowage-mcp --bench http_proxy_hit -- [calls] [concurrency]
//! ```
//!
//! One client (this process, reqwest over HTTP/1.1 keep-alive) posts JSON-RPC to each endpoint:
//! FastMCP runs stateless with JSON answers, so every request stands alone. For each endpoint:
//! the p50 and p99 of `calls` sequential identical requests (after one warm-up call), and the
//! throughput of `concurrency` clients making `calls` requests between them. The miss cost is
//! the p50 of `calls / 4` requests with fresh arguments each (every one a miss and a store),
//! through the proxy and directly.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use serde_json::json;

use common::http::{Proxy, Upstream};

fn body(text: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
           "params": {"name": "echo", "arguments": {"text": text}}})
    .to_string()
}

async fn post(client: &reqwest::Client, url: &str, body: String) -> Duration {
    let start = Instant::now();
    let r = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert!(r.status().is_success(), "{}", r.status());
    let text = r.text().await.unwrap();
    assert!(text.contains("\"result\""), "{text}");
    start.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Row {
    name: String,
    p50: Duration,
    p99: Duration,
    ops: f64,
}

async fn measure(name: &str, url: &str, calls: usize, concurrency: usize) -> Row {
    let client = reqwest::Client::new();
    post(&client, url, body("hello, cache")).await;
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        samples.push(post(&client, url, body("hello, cache")).await);
    }
    samples.sort();
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                for _ in 0..calls / concurrency {
                    post(&client, &url, body("hello, cache")).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let ops = (calls / concurrency * concurrency) as f64 / start.elapsed().as_secs_f64();
    Row {
        name: name.to_owned(),
        p50: percentile(&samples, 0.5),
        p99: percentile(&samples, 0.99),
        ops,
    }
}

async fn misses(url: &str, tag: &str, calls: usize) -> Duration {
    let client = reqwest::Client::new();
    post(&client, url, body("warm")).await;
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        samples.push(post(&client, url, body(&format!("{tag}-{i}"))).await);
    }
    samples.sort();
    percentile(&samples, 0.5)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let flags = ["--json", "--stateless"];
    let plain = Upstream::start(&flags, &[]);
    let cached = Upstream::start(&flags, &[("FASTMCP_CACHE", "1")]);
    let proxy = Proxy::start(&plain.url(), &["--log-level", "warn"]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let rows = [
            measure("FastMCP HTTP, direct (no cache)", &plain.url(), calls, concurrency).await,
            measure("FastMCP ResponseCachingMiddleware hit", &cached.url(), calls, concurrency).await,
            measure("stowage-mcp-proxy (HTTP) hit", &proxy.url(), calls, concurrency).await,
        ];
        println!("\ncached tools/call, {calls} sequential calls; throughput with {concurrency} concurrent clients");
        println!("| endpoint | p50 | p99 | calls/s |");
        println!("| --- | --- | --- | --- |");
        for r in &rows {
            println!("| {} | {} | {} | {:.0} |", r.name, ms(r.p50), ms(r.p99), r.ops);
        }
        let fastmcp_hit = rows[1].p50.as_secs_f64();
        let proxy_hit = rows[2].p50.as_secs_f64();
        println!(
            "\nproxy hit vs FastMCP's cached hit (p50): {:.1}x faster",
            fastmcp_hit / proxy_hit
        );
        let n = (calls / 4).max(10);
        let direct = misses(&plain.url(), "direct", n).await;
        let through = misses(&proxy.url(), "proxy", n).await;
        println!(
            "miss, {n} fresh calls: direct p50 {}, through the proxy p50 {}; the proxy's own cost {}",
            ms(direct),
            ms(through),
            ms(through.saturating_sub(direct))
        );
    });
}
