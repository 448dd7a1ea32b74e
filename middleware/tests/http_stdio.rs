//! The Streamable HTTP front of a stdio server (`stowage-mcp-proxy --listen ADDR -- COMMAND`):
//! a FastMCP server on stdio, the official Python client on HTTP, one child per session and a
//! shared one for sessionless (protocol 2026-07-28) clients, one cache for all.
//!
//! These tests need `STOWAGE_TEST_PYTHON` (set by `scripts/test.sh`); without it they fail.
#![cfg(feature = "http-proxy")]

mod common;

use serde_json::json;

use common::http::{Proxy, call, client, http};
use common::{py_file, python, tempdir};

fn runs(log: &std::path::Path, event: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == event)
        .count()
}

#[test]
fn a_stdio_server_behind_the_http_front() {
    let log = tempdir("http-stdio").join("runs.log");
    let (python, server) = (python(), py_file("fastmcp_slow_server.py"));
    let log_text = log.display().to_string();
    let proxy = Proxy::spawn(
        &["--", &python, &server],
        &[
            ("SLOW_SERVER_LOG", &log_text),
            ("SLOW_MS", "50"),
            ("FASTMCP_LOG_LEVEL", "WARNING"),
        ],
    );
    let echo = call("slow_echo", json!({"text": "ab", "options": {"repeat": 2}}));
    let calls = json!([
        echo,
        echo,
        call("flaky", json!({"text": "x"})),
        call("flaky", json!({"text": "x"})),
        call("send_email", json!({"to": "a@example.com"})),
        call("send_email", json!({"to": "a@example.com"})),
    ]);
    // A session of its own (the initialize handshake): one child.
    let legacy = client(&proxy.url(), None, "legacy", &calls);
    assert_eq!(legacy[0]["text"], "abab", "{legacy:?}");
    assert_eq!(legacy[0], legacy[1]);
    assert_eq!(runs(&log, "slow_echo"), 1, "the repeat was a hit");
    assert_eq!(runs(&log, "flaky"), 2, "errors are not cached");
    assert_eq!(
        runs(&log, "send_email"),
        2,
        "destructive tools are never replayed"
    );

    // Another session (another child): the same cache.
    let again = client(&proxy.url(), None, "legacy", &json!([echo]));
    assert_eq!(again[0], legacy[0]);
    assert_eq!(runs(&log, "slow_echo"), 1);
    // Sessionless 2026-07-28 clients share one child; their answers are of their own protocol
    // era (a handshake-era answer lacks what a 2026-07-28 client requires).
    let modern = || client(&proxy.url(), None, "auto", &json!([echo]));
    assert_eq!(modern()[0], legacy[0]);
    assert_eq!(runs(&log, "slow_echo"), 2);
    assert_eq!(modern()[0], legacy[0]);
    assert_eq!(
        runs(&log, "slow_echo"),
        2,
        "a hit for the second 2026-07-28 client: {}",
        proxy.stderr.lock().unwrap()
    );

    // A session the proxy does not know.
    let unknown = http(
        "POST",
        &proxy.url(),
        &[("mcp-session-id", "nope")],
        Some(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.into()),
    );
    assert_eq!(unknown.status, 404, "{unknown:?}");
    assert_eq!(http("GET", &proxy.url(), &[], None).status, 405);
}
