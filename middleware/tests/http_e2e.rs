//! The Streamable HTTP proxy end to end: a FastMCP server on Streamable HTTP as the upstream
//! (JSON and event-stream answers, with and without sessions), the official Python MCP client
//! through the proxy, bearer tokens as cache partitions.
//!
//! These tests need `STOWAGE_TEST_PYTHON` (set by `scripts/test.sh`); without it they fail.
#![cfg(feature = "http-proxy")]

mod common;

use serde_json::json;

use common::http::{Proxy, Upstream, call, client};

/// Repeats are answered by the proxy, errors never are, whatever form the upstream answers in.
fn repeats_come_from_the_cache(flags: &[&str], mode: &str) {
    let upstream = Upstream::start(flags, &[]);
    let proxy = Proxy::start(&upstream.url(), &[]);
    let calls = json!([
        call("whoami", json!({"topic": "weather"})),
        call("whoami", json!({"topic": "weather"})),
        call("flaky", json!({"text": "boom"})),
        call("flaky", json!({"text": "boom"})),
        {"list_tools": true},
        {"list_tools": true},
    ]);
    let results = client(&proxy.url(), Some("alice"), mode, &calls);
    assert_eq!(results[0], results[1], "{flags:?} {results:?}");
    assert!(
        results[0]["text"].as_str().unwrap().ends_with("run=1"),
        "{results:?}"
    );
    assert_eq!(
        upstream.runs("whoami"),
        1,
        "{flags:?}: the repeat was a hit"
    );
    // A tool error is relayed both times and never stored.
    assert_eq!(results[2]["is_error"], true, "{results:?}");
    assert_eq!(results[3]["is_error"], true, "{results:?}");
    assert_eq!(
        upstream.runs("flaky"),
        2,
        "{flags:?}: errors are not cached"
    );
    assert_eq!(results[4], results[5]);
    assert!(
        results[4]["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("whoami"))
    );
    // A second client (a new session) gets the stored answer too.
    let again = client(
        &proxy.url(),
        Some("alice"),
        mode,
        &json!([call("whoami", json!({"topic": "weather"}))]),
    );
    assert_eq!(again[0], results[0]);
    assert_eq!(upstream.runs("whoami"), 1);
}

#[test]
fn event_stream_answers_with_sessions() {
    repeats_come_from_the_cache(&[], "auto");
}

#[test]
fn json_answers_with_sessions() {
    repeats_come_from_the_cache(&["--json"], "auto");
}

#[test]
fn json_answers_stateless() {
    repeats_come_from_the_cache(&["--json", "--stateless"], "auto");
}

#[test]
fn event_stream_answers_with_the_legacy_handshake() {
    repeats_come_from_the_cache(&[], "legacy");
}

/// A request from the server to the client (elicitation, on the call's event stream) reaches
/// the client through the proxy, its answer reaches the server, and the call's answer — which
/// came from the user — is not stored although the tool is marked read-only.
#[test]
fn a_server_request_is_relayed_and_its_answer_is_never_cached() {
    let upstream = Upstream::start(&[], &[]);
    let proxy = Proxy::start(&upstream.url(), &[]);
    let calls = json!([call("which_env", json!({})), call("which_env", json!({}))]);
    let results = client(&proxy.url(), Some("alice"), "legacy", &calls);
    assert_eq!(results[0]["text"], "env=prod", "{results:?}");
    assert_eq!(results[1]["text"], "env=prod", "{results:?}");
    assert_eq!(
        upstream.runs("which_env"),
        2,
        "both calls reached the server: {results:?}"
    );
}

#[test]
fn each_token_gets_its_own_answer_and_public_answers_are_shared() {
    let upstream = Upstream::start(&["--public-hints"], &[]);
    let proxy = Proxy::start(&upstream.url(), &[]);
    let ask = |token: Option<&str>| {
        client(
            &proxy.url(),
            token,
            "auto",
            &json!([call("whoami", json!({"topic": "t"})), {"read": "data://shared"}]),
        )
    };
    let alice = ask(Some("alice-token"));
    let bob = ask(Some("bob-token"));
    let alice_text = alice[0]["text"].as_str().unwrap().to_owned();
    let bob_text = bob[0]["text"].as_str().unwrap().to_owned();
    assert!(alice_text.starts_with("token-"), "{alice_text}");
    assert!(bob_text.starts_with("token-"), "{bob_text}");
    assert_ne!(
        alice_text.split(' ').next(),
        bob_text.split(' ').next(),
        "each token is answered for itself"
    );
    assert_eq!(upstream.runs("whoami"), 2);
    // Alice again: her own answer, from the cache.
    assert_eq!(ask(Some("alice-token"))[0]["text"], alice_text.as_str());
    assert_eq!(upstream.runs("whoami"), 2);
    // The resource is `cacheScope: public`: read once for everybody.
    assert_eq!(alice[1], bob[1]);
    assert_eq!(upstream.runs("shared"), 1, "a public answer is shared");
    // No token: never an authenticated caller's answer.
    let anonymous = ask(None);
    let text = anonymous[0]["text"].as_str().unwrap();
    assert!(text.starts_with("anonymous"), "{text}");
    assert_eq!(upstream.runs("whoami"), 3);
    assert_eq!(anonymous[1], alice[1], "but the public answer, yes");
    assert_eq!(upstream.runs("shared"), 1);
}
