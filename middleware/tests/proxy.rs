//! `stowage-mcp-proxy` in front of a real rmcp server process (the slow example, uncached),
//! driven line by line.

mod common;

use std::process::Stdio;

use serde_json::{Value as Json, json};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use common::{RawClient, example_server, proxy_binary};

struct Running {
    child: Child,
    client: RawClient<ChildStdout, ChildStdin>,
}

async fn start(proxy_args: &[&str]) -> Running {
    start_with(proxy_args, &[("STOWAGE_STORE_URL", "memory://")]).await
}

/// Start the proxy in front of the raw example server with these options and environment,
/// and list the tools (as clients do first: the proxy learns the tools' annotations).
async fn start_with(proxy_args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(proxy_binary());
    command
        .args(["--stats"])
        .args(proxy_args)
        .arg("--")
        .arg(example_server())
        .arg("--raw")
        .env_remove("STOWAGE_STORE_URL")
        .env_remove("STOWAGE_MCP_CACHE_DIR")
        .env("SLOW_MS", "50");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut client = RawClient::new(stdout, stdin);
    let init = client.initialize().await;
    assert!(init["result"]["serverInfo"]["name"].is_string(), "{init}");
    let tools = client.request_text("tools/list", "{}").await;
    assert!(tools["result"]["tools"].is_array(), "{tools}");
    Running { child, client }
}

impl Running {
    /// Close the proxy's input and return its statistics (stderr) after it exits.
    async fn finish(self) -> String {
        let Running { child, client } = self;
        drop(client);
        let out = child.wait_with_output().await.unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    }
}

const ECHO: &str =
    r#"{"name":"slow_echo","arguments":{"text":"p","options":{"repeat":3,"upper":false}}}"#;
const ECHO_REORDERED: &str = r#"{"arguments":{"options":{"upper":false,"repeat":3},"text":"p"},"_meta":{"progressToken":"tok-9"},"name":"slow_echo"}"#;

#[tokio::test]
async fn repeats_are_answered_by_the_proxy() {
    let mut p = start(&[]).await;
    assert_eq!(p.client.call_text(ECHO).await, "ppp (run 1)");
    assert_eq!(p.client.call_text(ECHO_REORDERED).await, "ppp (run 1)");
    assert_eq!(p.client.call_text(ECHO).await, "ppp (run 1)");
    // Error results are never cached.
    let flaky = r#"{"name":"flaky","arguments":{"text":"f"}}"#;
    assert_eq!(p.client.call_text(flaky).await, "f failed (run 1)");
    assert_eq!(p.client.call_text(flaky).await, "f failed (run 2)");
    // Protocol errors pass through, uncached.
    for _ in 0..2 {
        let r = p
            .client
            .request_text("tools/call", r#"{"name":"missing"}"#)
            .await;
        assert!(r.get("error").is_some(), "{r}");
    }
    // Everything else is relayed as is.
    let pong = p.client.request_text("ping", "{}").await;
    assert_eq!(pong["result"], json!({}));
    let stats = p.finish().await;
    assert!(
        stats.contains("tools/call: 2 hits, 3 misses, 1 stores, 4 bypasses"),
        "{stats}"
    );
}

#[tokio::test]
async fn the_cached_answer_keeps_the_new_request_id() {
    let mut p = start(&[]).await;
    p.client
        .send_line(&format!(
            r#"{{"jsonrpc":"2.0","id":"first","method":"tools/call","params":{ECHO}}}"#
        ))
        .await;
    let a = p.client.next_response().await;
    p.client
        .send_line(&format!(
            r#"{{"jsonrpc":"2.0","id":"second","method":"tools/call","params":{ECHO}}}"#
        ))
        .await;
    let b = p.client.next_response().await;
    assert_eq!(a["id"], "first");
    assert_eq!(b["id"], "second");
    assert_eq!(a["result"], b["result"]);
    p.finish().await;
}

#[tokio::test]
async fn notifications_from_the_server_invalidate_what_they_make_stale() {
    let mut p = start(&[]).await;
    let list1 = p.client.request_text("tools/list", "{}").await;
    let list2 = p.client.request_text("tools/list", "{}").await;
    assert_eq!(list1["result"], list2["result"]);
    let read = r#"{"uri":"blob://noise"}"#;
    let blob1 = p.client.request_text("resources/read", read).await;
    let blob2 = p.client.request_text("resources/read", read).await;
    assert_eq!(blob1["result"], blob2["result"], "the second read is a hit");

    // The server announces a new tool list and an updated resource.
    assert_eq!(p.client.call_text(r#"{"name":"touch"}"#).await, "touched");

    let blob3 = p.client.request_text("resources/read", read).await;
    assert_ne!(
        blob3["result"], blob1["result"],
        "a fresh read after the update"
    );
    p.client.request_text("tools/list", "{}").await;
    let stats = p.finish().await;
    assert!(
        stats.contains("tools/list: 2 hits, 2 misses, 2 stores"),
        "{stats}"
    );
    assert!(
        stats.contains("resources/read: 1 hits, 2 misses, 2 stores"),
        "{stats}"
    );
}

#[tokio::test]
async fn multi_round_trip_state_and_policy_options_bypass_the_cache() {
    let mut p = start(&["--deny-tool", "flaky", "--no-cache", "resources/read"]).await;
    let stateful = r#"{"name":"slow_echo","arguments":{"text":"s","options":{"repeat":1,"upper":false}},"requestState":"abc"}"#;
    assert_eq!(p.client.call_text(stateful).await, "s (run 1)");
    assert_eq!(p.client.call_text(stateful).await, "s (run 2)");
    let read = r#"{"uri":"blob://noise"}"#;
    let a = p.client.request_text("resources/read", read).await;
    let b = p.client.request_text("resources/read", read).await;
    assert_ne!(a["result"], b["result"]);
    let stats = p.finish().await;
    assert!(
        stats.contains("tools/call: 0 hits, 0 misses, 0 stores, 2 bypasses"),
        "{stats}"
    );
    assert!(
        stats.contains("resources/read: 0 hits, 0 misses, 0 stores, 2 bypasses"),
        "{stats}"
    );
}

#[tokio::test]
async fn a_list_of_names_limits_caching_to_the_named_tools() {
    let mut p = start(&["--cache-tools", "flaky,unannotated"]).await;
    assert_eq!(p.client.call_text(ECHO).await, "ppp (run 1)");
    assert_eq!(p.client.call_text(ECHO).await, "ppp (run 2)");
    // Named, so cached even without annotations.
    let plain = r#"{"name":"unannotated"}"#;
    assert_eq!(p.client.call_text(plain).await, "unannotated run 1");
    assert_eq!(p.client.call_text(plain).await, "unannotated run 1");
    p.finish().await;
}

#[tokio::test]
async fn tools_with_side_effects_are_executed_every_time() {
    let mut p = start(&[]).await;
    for run in 1..=2 {
        assert_eq!(
            p.client.call_text(r#"{"name":"send_message"}"#).await,
            format!("sent message {run}")
        );
        assert_eq!(
            p.client.call_text(r#"{"name":"unannotated"}"#).await,
            format!("unannotated run {run}")
        );
    }
    // The read-only tool is still cached.
    assert_eq!(p.client.call_text(ECHO).await, "ppp (run 1)");
    assert_eq!(p.client.call_text(ECHO).await, "ppp (run 1)");
    p.finish().await;

    // `all` caches the unannotated tool, never the destructive one.
    let mut p = start(&["--cache-tools", "all"]).await;
    for run in 1..=2 {
        assert_eq!(
            p.client.call_text(r#"{"name":"send_message"}"#).await,
            format!("sent message {run}")
        );
        assert_eq!(
            p.client.call_text(r#"{"name":"unannotated"}"#).await,
            "unannotated run 1"
        );
    }
    p.finish().await;

    // Allowed by name: the user's explicit choice wins over the annotation.
    let mut p = start(&["--allow-tool", "send_message"]).await;
    for _ in 1..=2 {
        assert_eq!(
            p.client.call_text(r#"{"name":"send_message"}"#).await,
            "sent message 1"
        );
    }
    p.finish().await;
}

#[tokio::test]
async fn a_message_over_the_line_limit_is_refused_and_the_relay_goes_on() {
    let mut p = start(&["--max-line-bytes", "4096"]).await;
    let big = "x".repeat(10_000);
    p.client
        .send_line(&format!(
            r#"{{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{{"name":"slow_echo","arguments":{{"text":"{big}","options":{{"repeat":1,"upper":false}}}}}}}}"#
        ))
        .await;
    let refusal = p.client.next_response().await;
    assert_eq!(refusal["id"], Json::Null, "{refusal}");
    assert_eq!(refusal["error"]["code"], -32600, "{refusal}");
    assert_eq!(p.client.call_text(ECHO).await, "ppp (run 1)");
    let stats = p.finish().await;
    assert!(stats.contains("longer than 4096 bytes"), "{stats}");
}

#[tokio::test]
async fn numbers_beyond_64_bits_never_share_a_key() {
    let mut p = start(&[]).await;
    let call = |n: &str| {
        format!(
            r#"{{"name":"slow_echo","arguments":{{"text":"n","options":{{"repeat":1,"upper":false}},"big":{n}}}}}"#
        )
    };
    assert_eq!(
        p.client.call_text(&call("18446744073709551616")).await,
        "n (run 1)"
    );
    assert_eq!(
        p.client.call_text(&call("18446744073709551617")).await,
        "n (run 2)"
    );
    assert_eq!(
        p.client.call_text(&call("18446744073709551617")).await,
        "n (run 2)"
    );
    assert_eq!(
        p.client.call_text(&call("0.10000000000000000001")).await,
        "n (run 3)"
    );
    assert_eq!(p.client.call_text(&call("0.1")).await, "n (run 4)");
    p.finish().await;
}

#[tokio::test]
async fn a_namespace_option_is_checked() {
    let out = Command::new(proxy_binary())
        .args(["--namespace", "a.b", "--", "/bin/false"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("namespace"));
}

#[tokio::test]
async fn help_and_errors_never_show_a_secret_from_the_store_url() {
    let url = "redis://:hunter2-secret@127.0.0.1:1/";
    let help = Command::new(proxy_binary())
        .arg("--help")
        .env("STOWAGE_STORE_URL", url)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--store"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    for url in [
        url,
        "mongodb://user:hunter2-secret@127.0.0.1:1/db",
        "dynamodb://t?endpoint=http://127.0.0.1:1&secret_access_key=hunter2-secret%zz",
    ] {
        let out = Command::new(proxy_binary())
            .args(["--store", url, "--", "/bin/false"])
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.is_empty());
        assert!(!err.contains("hunter2"), "{url}: {err}");
    }
}

#[tokio::test]
async fn bad_options_are_refused_before_the_server_starts() {
    for args in [
        &["--store", "postgres://x"][..],
        &["--call-ttl", "0"][..],
        &["--no-cache", "initialize"][..],
        &["--store", "redis://127.0.0.1:1/"][..],
    ] {
        let out = Command::new(proxy_binary())
            .args(args)
            .args(["--", "/bin/false"])
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn a_command_that_cannot_start_is_reported() {
    let out = Command::new(proxy_binary())
        .args(["--store", "memory://", "--", "/nonexistent/server"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot start /nonexistent/server"));
}
