//! Faults around the Streamable HTTP proxy: the upstream down and back, the store down, a
//! client leaving mid-stream.
//!
//! These tests need `STOWAGE_TEST_PYTHON` (set by `scripts/test.sh`), and the store test the
//! `redis-server` binary; without them they fail.
#![cfg(feature = "http-proxy")]

mod common;

use serde_json::json;

use common::http::{Proxy, Upstream, call_text, http, post_call};

const STATELESS_JSON: &[&str] = &["--json", "--stateless"];

#[test]
fn upstream_down_is_a_clear_error_nothing_is_cached_and_it_recovers() {
    let upstream = Upstream::start(STATELESS_JSON, &[]);
    let proxy = Proxy::start(&upstream.url(), &[]);
    let (url, port, log) = (proxy.url(), upstream.port, upstream.log.clone());
    assert_eq!(
        call_text(&post_call(&url, "echo", json!({"text": "warm"}), &[])),
        "warm"
    );
    drop(upstream);

    let down = post_call(&url, "echo", json!({"text": "hi"}), &[]);
    assert_eq!(down.status, 502, "{down:?}");
    let error = down.json();
    assert_eq!(error["id"], 1);
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("unreachable"), "{message}");
    // The health report says so.
    let health = http("GET", &format!("{}/healthz", proxy.base), &[], None);
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["store"], "ok");
    assert!(
        health.json()["upstream"]
            .as_str()
            .unwrap()
            .contains("unreachable")
    );

    // Back on the same port: the same request reaches it (the error was not cached)…
    let upstream = Upstream::start_at(port, STATELESS_JSON, &[], log);
    let back = post_call(&url, "echo", json!({"text": "hi"}), &[]);
    assert_eq!(back.status, 200, "{back:?}");
    assert_eq!(call_text(&back), "hi");
    assert_eq!(upstream.runs("echo"), 2, "warm, then hi once");
    // …and its answer is.
    assert_eq!(
        call_text(&post_call(&url, "echo", json!({"text": "hi"}), &[])),
        "hi"
    );
    assert_eq!(upstream.runs("echo"), 2);
    assert_eq!(
        http("GET", &format!("{}/healthz", proxy.base), &[], None).status,
        200
    );
}

#[cfg(feature = "redis")]
#[test]
fn store_down_requests_pass_through_uncached() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = common::tempdir("redis");
    let redis = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server starts (scripts/test.sh installs it)");
    let mut redis = common::http::Proc { child: redis };
    common::http::wait_port(port);
    let upstream = Upstream::start(STATELESS_JSON, &[]);
    let store = format!("redis://127.0.0.1:{port}/");
    let proxy = Proxy::start(&upstream.url(), &["--store", &store]);
    let url = proxy.url();
    let echo = |text: &str| call_text(&post_call(&url, "echo", json!({"text": text}), &[]));
    assert_eq!(echo("a"), "a");
    assert_eq!(echo("a"), "a");
    assert_eq!(upstream.runs("echo"), 1, "the store works: a hit");

    let _ = redis.child.kill();
    let _ = redis.child.wait();
    assert_eq!(echo("b"), "b");
    assert_eq!(echo("b"), "b");
    assert_eq!(
        upstream.runs("echo"),
        3,
        "the store is down: both went upstream"
    );
    let health = http("GET", &format!("{}/healthz", proxy.base), &[], None);
    assert_eq!(health.status, 503, "{health:?}");
    assert_ne!(health.json()["store"], "ok");
    assert_eq!(health.json()["upstream"], "ok");
}

#[test]
fn a_client_leaving_mid_stream_does_not_break_the_proxy() {
    // Event-stream answers, no sessions; the slow tool takes 800 ms.
    let upstream = Upstream::start(&["--stateless"], &[("SLOW_MS", "800")]);
    let proxy = Proxy::start(&upstream.url(), &[]);
    let url = proxy.url();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "slow", "arguments": {"text": "left"}}});
    // The client takes the stream's headers, then leaves before the answer.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let response = reqwest::Client::new()
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        drop(response);
    });
    // A client that gives up after 50 ms (before the headers or after them, whichever comes).
    let impatient = rt.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .timeout(std::time::Duration::from_millis(50))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(
                json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": "slow", "arguments": {"text": "gone"}}})
                .to_string(),
            )
            .send()
            .await
    });
    drop(impatient);
    // The proxy still serves, and the first answer was read to its end and stored.
    let again = post_call(&url, "slow", json!({"text": "left"}), &[]);
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(call_text(&again), "slow left");
    let other = post_call(&url, "echo", json!({"text": "still here"}), &[]);
    assert_eq!(call_text(&other), "still here");
    let started = upstream
        .events()
        .iter()
        .filter(|e| *e == "slow_start")
        .count();
    assert_eq!(
        started, 2,
        "one run for `left` (then a hit), one for `gone`"
    );
}
