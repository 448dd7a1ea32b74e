//! Operating the Streamable HTTP proxy: health, the admin listener, graceful shutdown, and the
//! limits (body size, upstream deadline, concurrent upstream requests); bad input gets a
//! JSON-RPC error or a 4xx.
//!
//! These tests need `STOWAGE_TEST_PYTHON` (set by `scripts/test.sh`); without it they fail.
#![cfg(feature = "http-proxy")]

mod common;

use std::time::{Duration, Instant};

use serde_json::json;

use common::http::{Proxy, Upstream, call_text, http, post_call};
use common::proxy_binary;

const STATELESS_JSON: &[&str] = &["--json", "--stateless"];

#[test]
fn health_and_the_admin_listener() {
    let upstream = Upstream::start(STATELESS_JSON, &[]);
    let proxy = Proxy::start(&upstream.url(), &["--admin", "127.0.0.1:0"]);
    let admin = proxy.admin.clone().unwrap();
    let health = http("GET", &format!("{}/healthz", proxy.base), &[], None);
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(
        health.json(),
        json!({"status": "ok", "store": "ok", "upstream": "ok"})
    );

    let url = proxy.url();
    let echo = || call_text(&post_call(&url, "echo", json!({"text": "x"}), &[]));
    echo();
    echo();
    assert_eq!(upstream.runs("echo"), 1);
    let stats = http("GET", &format!("{admin}/stats"), &[], None).json();
    assert_eq!(stats["methods"]["tools/call"]["hits"], 1, "{stats}");
    assert_eq!(stats["methods"]["tools/call"]["stores"], 1, "{stats}");

    let cleared = http(
        "POST",
        &format!("{admin}/clear?method=tools/call"),
        &[],
        None,
    );
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.json()["cleared"], "tools/call");
    echo();
    assert_eq!(
        upstream.runs("echo"),
        2,
        "cleared: the next call went upstream"
    );

    let bad = http("POST", &format!("{admin}/clear?method=nope"), &[], None);
    assert_eq!(bad.status, 400);
    assert_eq!(
        http("GET", &format!("{admin}/nothing"), &[], None).status,
        404
    );
    // The admin endpoints are not on the MCP listener.
    assert_ne!(
        http("GET", &format!("{}/stats", proxy.base), &[], None).status,
        200
    );
}

#[test]
fn the_admin_listener_refuses_a_public_address_unless_asked() {
    let out = std::process::Command::new(proxy_binary())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9/mcp",
        ])
        .args(["--store", "memory://", "--admin", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}

#[test]
fn sigterm_finishes_the_requests_in_flight() {
    let upstream = Upstream::start(STATELESS_JSON, &[("SLOW_MS", "1500")]);
    let mut proxy = Proxy::start(&upstream.url(), &[]);
    let url = proxy.url();
    let in_flight = std::thread::spawn({
        let url = url.clone();
        move || post_call(&url, "slow", json!({"text": "finish me"}), &[])
    });
    let start = Instant::now();
    while upstream.runs("slow_start") == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the call never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy.proc.terminate();
    let answer = in_flight.join().unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(call_text(&answer), "slow finish me");
    let status = proxy
        .proc
        .wait_exit(Duration::from_secs(30))
        .expect("the proxy exits");
    assert!(status.success(), "{status:?}");
    assert!(std::net::TcpStream::connect(proxy.base.trim_start_matches("http://")).is_err());
}

#[test]
fn bad_input_gets_a_json_rpc_error_or_a_4xx() {
    let upstream = Upstream::start(STATELESS_JSON, &[]);
    let proxy = Proxy::start(&upstream.url(), &["--max-body-bytes", "2048"]);
    let url = proxy.url();
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                     "params": {"name": "echo", "arguments": {"text": "x".repeat(10_000)}}});
    let refused = http("POST", &url, &[], Some(big.to_string()));
    assert_eq!(refused.status, 413, "{refused:?}");
    assert_eq!(refused.json()["error"]["code"], -32600);

    let garbage = http("POST", &url, &[], Some("{not json".into()));
    assert_eq!(garbage.status, 400);
    assert_eq!(garbage.json()["error"]["code"], -32700);

    // Params of the wrong shape: the upstream's own JSON-RPC error, relayed.
    let odd = http(
        "POST",
        &url,
        &[],
        Some(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":[1,2]}"#.into()),
    );
    assert!(odd.json()["error"].is_object(), "{odd:?}");

    assert_eq!(http("PUT", &url, &[], None).status, 405);
    // Still serving.
    assert_eq!(
        call_text(&post_call(&url, "echo", json!({"text": "ok"}), &[])),
        "ok"
    );
}

#[test]
fn a_late_upstream_gets_a_deadline_error_and_nothing_is_cached() {
    let upstream = Upstream::start(STATELESS_JSON, &[("SLOW_MS", "3000")]);
    let proxy = Proxy::start(&upstream.url(), &["--upstream-timeout-ms", "500"]);
    let url = proxy.url();
    let late = post_call(&url, "slow", json!({"text": "late"}), &[]);
    assert_eq!(late.status, 504, "{late:?}");
    let message = late.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("did not answer within"), "{message}");
    let again = post_call(&url, "slow", json!({"text": "late"}), &[]);
    assert_eq!(
        again.status, 504,
        "the deadline error was not cached: it went upstream again"
    );
    assert_eq!(
        call_text(&post_call(&url, "echo", json!({"text": "fast"}), &[])),
        "fast"
    );
}

#[test]
fn upstream_requests_are_bounded() {
    let upstream = Upstream::start(STATELESS_JSON, &[("SLOW_MS", "300")]);
    let proxy = Proxy::start(&upstream.url(), &["--max-upstream-requests", "1"]);
    let url = proxy.url();
    // Learn the tools' annotations first (the proxy's own tools/list takes a slot too).
    assert_eq!(
        call_text(&post_call(&url, "echo", json!({"text": "warm"}), &[])),
        "warm"
    );
    std::thread::scope(|s| {
        for i in 0..3 {
            let url = &url;
            s.spawn(move || {
                let a = post_call(url, "slow", json!({"text": format!("n{i}")}), &[]);
                assert_eq!(call_text(&a), format!("slow n{i}"));
            });
        }
    });
    let slow: Vec<String> = upstream
        .events()
        .into_iter()
        .filter(|e| e.starts_with("slow_"))
        .collect();
    assert_eq!(
        slow,
        [
            "slow_start",
            "slow_end",
            "slow_start",
            "slow_end",
            "slow_start",
            "slow_end"
        ],
        "one upstream request at a time"
    );
}

/// An upstream that answers every request with headers announcing a JSON body, sends one byte
/// of it and then holds the connection: a body that never ends.
fn stalled_upstream() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
                );
                std::thread::sleep(Duration::from_secs(120));
            });
        }
    });
    format!("http://127.0.0.1:{port}/mcp")
}

#[test]
fn a_get_or_delete_whose_body_never_ends_gets_a_deadline_error() {
    let proxy = Proxy::start(&stalled_upstream(), &["--upstream-timeout-ms", "500"]);
    let url = proxy.url();
    // Without a deadline the proxy would wait for the body as long as the upstream holds it,
    // and the client would give up first (its own 60 s timeout fails the request).
    for method in ["GET", "DELETE"] {
        let answer = http(method, &url, &[("mcp-session-id", "s-1")], None);
        assert_eq!(answer.status, 504, "{method}: {answer:?}");
    }
}
