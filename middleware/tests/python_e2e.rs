//! End to end with real Python clients: the official MCP SDK (`mcp`) and FastMCP's client,
//! talking over stdio to an rmcp server wrapped with the cache, and to a FastMCP server behind
//! `stowage-mcp-proxy`.
//!
//! These tests need `STOWAGE_TEST_PYTHON` (set by `scripts/test.sh`); without it they fail.

mod common;

use std::process::Command;

use serde_json::{Value as Json, json};

use common::{example_server, proxy_binary, py_file, python, tempdir};

/// Run `mcp_client.py` with `lib` against `server` (a command line) and return its results.
fn run_client(lib: &str, calls: &Json, server: &[String], env: &[(&str, &str)]) -> Vec<Json> {
    run_client_in(lib, "auto", calls, server, env)
}

/// [`run_client`] with the official SDK's protocol negotiation `mode` (`auto`, `legacy`).
fn run_client_in(
    lib: &str,
    mode: &str,
    calls: &Json,
    server: &[String],
    env: &[(&str, &str)],
) -> Vec<Json> {
    let mut cmd = Command::new(python());
    cmd.arg(py_file("mcp_client.py"))
        .args([
            "--lib",
            lib,
            "--mode",
            mode,
            "--calls",
            &calls.to_string(),
            "--",
        ])
        .args(server)
        // The cache store is memory whatever the platform; the Python server logs its runs.
        .env("STOWAGE_STORE_URL", "memory://")
        .env("FASTMCP_LOG_LEVEL", "WARNING");
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::last_json_line(&mut cmd)
}

fn tool(name: &str, args_json: &str) -> Json {
    json!({"tool": name, "args_json": args_json})
}

fn calls_with_reordered_keys() -> Json {
    json!([
        tool(
            "slow_echo",
            r#"{"text": "ab", "options": {"repeat": 2, "upper": true}}"#
        ),
        tool(
            "slow_echo",
            r#"{"options": {"upper": true, "repeat": 2}, "text": "ab"}"#
        ),
        tool("flaky", r#"{"text": "boom"}"#),
        tool("flaky", r#"{"text": "boom"}"#),
    ])
}

#[test]
fn the_official_python_sdk_calls_a_wrapped_rmcp_server_over_stdio() {
    let mut calls = calls_with_reordered_keys().as_array().unwrap().clone();
    calls.push(json!({"read": "blob://noise"}));
    calls.push(json!({"read": "blob://noise"}));
    let server = [example_server().display().to_string()];
    let results = run_client("mcp", &Json::Array(calls), &server, &[("SLOW_MS", "300")]);

    // The slow tool ran once: both answers carry its first run's number.
    assert_eq!(results[0]["text"], "ABAB (run 1)", "{results:?}");
    assert_eq!(results[1], results[0]);
    // Error results are not cached: the failing tool ran twice.
    assert_eq!(results[2]["text"], "boom failed (run 1)");
    assert_eq!(results[3]["text"], "boom failed (run 2)");
    assert_eq!(results[2]["is_error"], true);
    // The binary resource changes on every real read; the second is the cached bytes, exactly.
    let blob = results[4]["blob"].as_str().expect("a blob");
    assert_eq!(results[5]["blob"].as_str(), Some(blob));
    assert!(blob.len() > 4096);
}

#[test]
fn fastmcp_client_through_the_proxy_to_a_wrapped_rmcp_server() {
    // Two caches in a row (proxy and in-process) must still give the client exact answers.
    let server = [
        proxy_binary().display().to_string(),
        "--".into(),
        example_server().display().to_string(),
    ];
    let results = run_client(
        "fastmcp",
        &calls_with_reordered_keys(),
        &server,
        &[("SLOW_MS", "100")],
    );
    assert_eq!(results[0]["text"], "ABAB (run 1)", "{results:?}");
    assert_eq!(results[1], results[0]);
    assert_eq!(results[3]["is_error"], true);
}

fn proxy_in_front_of_fastmcp(lib: &str) {
    let dir = tempdir("e2e");
    let log = dir.join("runs.log");
    let server = [
        proxy_binary().display().to_string(),
        "--".into(),
        python(),
        py_file("fastmcp_slow_server.py"),
    ];
    let results = run_client(
        lib,
        &calls_with_reordered_keys(),
        &server,
        &[
            ("SLOW_MS", "300"),
            ("SLOW_SERVER_LOG", log.to_str().unwrap()),
        ],
    );
    assert_eq!(results[0]["text"], "ABAB", "{results:?}");
    assert_eq!(results[1], results[0]);
    assert_eq!(results[2]["is_error"], true);
    assert_eq!(results[3]["is_error"], true);
    let runs = std::fs::read_to_string(&log).unwrap();
    let runs: Vec<&str> = runs.lines().collect();
    // The second slow call was answered without reaching Python; both failures reached it.
    assert_eq!(runs, ["slow_echo", "flaky", "flaky"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_proxy_answers_fastmcp_client_repeats_without_reaching_python() {
    proxy_in_front_of_fastmcp("fastmcp");
}

#[test]
fn the_proxy_answers_official_sdk_repeats_without_reaching_python() {
    proxy_in_front_of_fastmcp("mcp");
}

/// The proxy in front of the FastMCP server, which logs each tool run to `log`.
fn proxied_fastmcp() -> [String; 4] {
    [
        proxy_binary().display().to_string(),
        "--".into(),
        python(),
        py_file("fastmcp_slow_server.py"),
    ]
}

fn runs(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_destructive_tool_behind_the_proxy_runs_every_time() {
    let dir = tempdir("e2e");
    let log = dir.join("runs.log");
    let calls = json!([
        tool("send_email", r#"{"to": "ada@example.com"}"#),
        tool("send_email", r#"{"to": "ada@example.com"}"#),
        tool("fast_echo", r#"{"text": "read-only"}"#),
        tool("fast_echo", r#"{"text": "read-only"}"#),
    ]);
    let results = run_client(
        "mcp",
        &calls,
        &proxied_fastmcp(),
        &[("SLOW_SERVER_LOG", log.to_str().unwrap())],
    );
    assert_eq!(results[0]["text"], "sent to ada@example.com", "{results:?}");
    assert_eq!(results[1], results[0]);
    // Two emails sent; the read-only tool answered once by Python, then by the proxy.
    assert_eq!(runs(&log), ["send_email", "send_email", "fast_echo"]);
    let _ = std::fs::remove_dir_all(dir);
}

fn a_tool_that_elicits_behind_the_proxy_runs_every_time_in(mode: &str) {
    let dir = tempdir("e2e");
    let log = dir.join("runs.log");
    let calls = json!([tool("which_env", "{}"), tool("which_env", "{}")]);
    let results = run_client_in(
        "mcp",
        mode,
        &calls,
        &proxied_fastmcp(),
        &[("SLOW_SERVER_LOG", log.to_str().unwrap())],
    );
    assert_eq!(results[0]["text"], "env=prod", "{results:?}");
    assert_eq!(results[1]["text"], "env=prod", "{results:?}");
    // The tool is marked read-only, yet its answer came from the user: both calls reached it.
    assert_eq!(runs(&log), ["which_env", "which_env"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// With the initialize handshake, elicitation is a request from the server to the client while
/// the call is pending. (On 2026-07-28 connections servers cannot send requests: a tool asks
/// with an `input_required` result and the client retries with `inputResponses`, neither of which
/// the cache stores; FastMCP refuses `ctx.elicit` there.)
#[test]
fn a_tool_that_elicits_behind_the_proxy_runs_every_time() {
    a_tool_that_elicits_behind_the_proxy_runs_every_time_in("legacy");
}
