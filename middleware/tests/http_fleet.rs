//! A fleet of Streamable HTTP proxies: two processes on one Redis serve each other's fills and
//! invalidations; in one process, concurrent identical misses make one upstream call.
//!
//! These tests need `STOWAGE_TEST_PYTHON` and, for Redis, `STOWAGE_TEST_REDIS_URL` (both set
//! by `scripts/test.sh`); without them they fail.
#![cfg(feature = "http-proxy")]

mod common;

use serde_json::{Value as Json, json};

use common::http::{Proxy, Upstream, call, call_text, client, http, post_call};

/// The admin statistics of `proxy` for `method`.
fn stats(proxy: &Proxy, method: &str) -> Json {
    let admin = proxy.admin.as_deref().expect("an admin listener");
    let report = http("GET", &format!("{admin}/stats"), &[], None).json();
    report["methods"][method].clone()
}

#[cfg(feature = "redis")]
#[test]
fn two_proxies_on_one_redis_share_fills_and_invalidations() {
    let redis = std::env::var("STOWAGE_TEST_REDIS_URL")
        .expect("STOWAGE_TEST_REDIS_URL (set by scripts/test.sh)");
    let namespace = stowage_core::testkit::unique("fleet").replace(['.', ':', '/'], "-");
    let namespace: String = namespace.chars().take(64).collect();
    // Lists carry `ttlMs: 0` unless the server gives a cache hint: with one, they are kept.
    let upstream = Upstream::start(&["--public-hints"], &[]);
    let args = [
        "--store",
        redis.as_str(),
        "--namespace",
        namespace.as_str(),
        "--admin",
        "127.0.0.1:0",
    ];
    let one = Proxy::start(&upstream.url(), &args);
    let two = Proxy::start(&upstream.url(), &args);
    let calls = json!([call("whoami", json!({"topic": "fleet"})), {"list_tools": true}]);

    let first = client(&one.url(), Some("ops"), "auto", &calls);
    let second = client(&two.url(), Some("ops"), "auto", &calls);
    assert_eq!(first, second);
    assert_eq!(
        upstream.runs("whoami"),
        1,
        "the second proxy answered from the fill"
    );
    assert_eq!(stats(&two, "tools/call")["hits"], 1);
    assert!(
        stats(&two, "tools/list")["hits"].as_u64().unwrap() >= 1,
        "{}",
        two.stderr.lock().unwrap()
    );
    assert!(
        !first[1]["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("fresh_tool"))
    );

    // The upstream adds a tool and says so (tools/list_changed) through the first proxy.
    let added = client(
        &one.url(),
        Some("ops"),
        "auto",
        &json!([call("add_tool", json!({"name": "fresh_tool"}))]),
    );
    assert_eq!(added[0]["text"], "added fresh_tool");
    // The second proxy no longer serves the old list.
    let listed = client(
        &two.url(),
        Some("ops"),
        "auto",
        &json!([{"list_tools": true}]),
    );
    assert!(
        listed[0]["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("fresh_tool")),
        "{listed:?}"
    );
}

#[test]
fn concurrent_identical_misses_make_one_upstream_call() {
    let upstream = Upstream::start(&["--json", "--stateless"], &[("SLOW_MS", "700")]);
    let proxy = Proxy::start(&upstream.url(), &[]);
    let url = proxy.url();
    let answers: Vec<_> = std::thread::scope(|s| {
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    post_call(
                        &url,
                        "slow",
                        json!({"text": "same"}),
                        &[("authorization", "Bearer team")],
                    )
                })
            })
            .collect();
        tasks.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for a in &answers {
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(call_text(a), "slow same");
    }
    assert_eq!(
        upstream.runs("slow_start"),
        1,
        "one upstream call for six requests"
    );
    // Another caller is not made to share: its own call.
    let other = post_call(
        &url,
        "slow",
        json!({"text": "same"}),
        &[("authorization", "Bearer other")],
    );
    assert_eq!(call_text(&other), "slow same");
    assert_eq!(upstream.runs("slow_start"), 2);
}
