//! `put`, `get`, `ttl`, `delete`, `keys` and `collections` against every real backend.

mod common;

use common::{run, run_with, unique};
use serde_json::json;

/// The whole single-key cycle plus listings, on the store at `url`.
fn round_trip(url: &str) {
    let c = unique("cli-rt");
    let value = json!({"token": "abc", "n": [1, 2.5, null], "ключ": "é☃😀"});
    let text = value.to_string();

    run(&["put", url, &c, "alice", &text]).ok();
    run(&["put", url, &c, "bob", &text, "--ttl", "100"]).ok();
    // From standard input.
    run_with(&["put", url, &c, "carol"], Some(r#"{"from":"stdin"}"#), &[]).ok();

    assert_eq!(common::value_of(url, &c, "alice"), value);
    assert_eq!(common::value_of(url, &c, "carol"), json!({"from": "stdin"}));
    let human = run(&["get", url, &c, "alice"]).ok();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&human.stdout).unwrap(),
        value
    );

    assert_eq!(common::ttl_of(url, &c, "alice"), None);
    let left = common::ttl_of(url, &c, "bob").expect("bob expires");
    assert!(left > 95.0 && left <= 100.0, "remaining {left}");
    let human = run(&["ttl", url, &c, "alice"]).ok();
    assert!(human.stdout.contains("never expires"), "{}", human.stdout);

    let keys = run(&["keys", url, &c]).ok();
    assert_eq!(keys.stdout, "alice\nbob\ncarol\n");
    let lines = run(&["keys", url, &c, "--json", "--limit", "2"])
        .ok()
        .json_lines();
    assert_eq!(
        lines,
        vec![
            json!({"collection": c, "key": "alice"}),
            json!({"collection": c, "key": "bob"})
        ]
    );
    let collections = run(&["collections", url]).ok();
    assert!(
        collections.stdout.lines().any(|l| l == c),
        "{}",
        collections.stdout
    );

    run(&["delete", url, &c, "alice"]).ok();
    let gone = run(&["get", url, &c, "alice"]).code(1);
    assert!(gone.stderr.contains("not found"), "{}", gone.stderr);
    run(&["delete", url, &c, "alice"]).code(1);
    run(&["ttl", url, &c, "alice"]).code(1);

    run(&["destroy", url, &c, "--yes"]).ok();
    assert_eq!(run(&["keys", url, &c]).ok().stdout, "");
}

#[test]
fn disk() {
    let (_dir, url) = common::disk();
    round_trip(&url);
}

#[test]
fn sled() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(&format!("sled://{}", dir.path().join("db").display()));
}

#[test]
fn redis() {
    round_trip(&common::redis());
}

#[test]
fn redis_cluster() {
    round_trip(&common::redis_cluster());
}

#[test]
fn mongodb() {
    let (url, _) = common::mongodb();
    round_trip(&url);
    run(&["destroy", &url, "--yes"]).ok();
}

#[test]
fn dynamodb() {
    let (url, _) = common::dynamodb();
    round_trip(&url);
    run(&["destroy", &url, "--yes"]).ok();
}

#[test]
fn an_expired_entry_is_not_found() {
    let (_dir, url) = common::disk();
    run(&["put", &url, "c", "k", "{}", "--ttl", "0.3"]).ok();
    std::thread::sleep(std::time::Duration::from_millis(500));
    run(&["get", &url, "c", "k"]).code(1);
    let culled = run(&["cull", &url, "--json"]).ok().json();
    assert!(culled["culled"].as_u64().is_some(), "{culled}");
}

#[test]
fn destroy_asks_first_and_refuses_without_a_terminal() {
    let (_dir, url) = common::disk();
    run(&["put", &url, "c", "k", "{}"]).ok();
    let refused = run(&["destroy", &url]).code(5);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    run(&["get", &url, "c", "k"]).ok();
    run(&["destroy", &url, "-y"]).ok();
    run(&["get", &url, "c", "k"]).code(1);
}
