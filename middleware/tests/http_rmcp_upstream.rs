//! An rmcp Streamable HTTP server (not wrapped: every call reaches it) as the upstream of the
//! HTTP proxy, driven by the official Python client through the proxy.
//!
//! These tests need `STOWAGE_TEST_PYTHON` (set by `scripts/test.sh`); without it they fail.
#![cfg(feature = "http-proxy")]

mod common;
#[path = "../examples/slow_server/server.rs"]
#[allow(dead_code, unreachable_pub)]
mod server;

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tower_service::Service;

use common::http::{Proxy, call, call_text, client, post_call};
use server::SlowServer;

/// Serve `server` over rmcp's Streamable HTTP transport on a loopback port of `rt`; returns
/// the endpoint.
fn serve(rt: &tokio::runtime::Runtime, server: SlowServer, json_response: bool) -> String {
    let config = StreamableHttpServerConfig::default().with_json_response(json_response);
    serve_with(rt, server, config)
}

/// [`serve`] with rmcp's `config`.
fn serve_with(
    rt: &tokio::runtime::Runtime,
    server: SlowServer,
    config: StreamableHttpServerConfig,
) -> String {
    let service: StreamableHttpService<SlowServer, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(server.clone()), Default::default(), config);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let handler = hyper::service::service_fn(move |req| {
                    let mut service = service.clone();
                    async move { Ok::<_, Infallible>(service.call(req).await.unwrap()) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), handler)
                    .await;
            });
        }
    });
    format!("http://{addr}/mcp")
}

#[test]
fn an_rmcp_streamable_http_server_behind_the_proxy() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for json_response in [false, true] {
        let server = SlowServer::new(Duration::from_millis(50));
        let counters = server.counters.clone();
        let upstream = serve(&rt, server, json_response);
        let proxy = Proxy::start(&upstream, &[]);
        let echo = call(
            "slow_echo",
            json!({"text": "ab", "options": {"repeat": 2, "upper": false}}),
        );
        let calls = json!([
            echo,
            echo,
            call("whoami", json!({})),
            call("whoami", json!({}))
        ]);
        let alice = client(&proxy.url(), Some("alice"), "legacy", &calls);
        assert_eq!(
            alice[0]["text"], "abab (run 1)",
            "json {json_response}: {alice:?}"
        );
        assert_eq!(alice[1], alice[0]);
        assert_eq!(
            counters.slow.load(Ordering::SeqCst),
            1,
            "the repeat was a hit"
        );
        assert_eq!(alice[2]["text"], "secret data of Bearer alice");
        assert_eq!(alice[3], alice[2]);
        let bob = client(&proxy.url(), Some("bob"), "legacy", &calls);
        // Tool answers are private: bob's own run, then his own hit.
        assert_eq!(bob[0]["text"], "abab (run 2)", "{bob:?}");
        assert_eq!(bob[1], bob[0]);
        assert_eq!(bob[2]["text"], "secret data of Bearer bob");
        assert_eq!(
            counters.whoami.load(Ordering::SeqCst),
            2,
            "one run per caller"
        );
        assert_eq!(
            counters.slow.load(Ordering::SeqCst),
            2,
            "bob's own partition"
        );
    }
}

#[test]
fn a_caller_resolver_decides_the_partition() {
    use stowage_mcp::proxy::http::HttpProxy;
    use stowage_mcp::{Caller, Namespace, ResponseCache};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = SlowServer::new(Duration::from_millis(1));
    let counters = server.counters.clone();
    // Stateless, JSON answers: each POST stands alone.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true);
    let upstream = serve_with(&rt, server, config);
    let cache = ResponseCache::in_memory().in_namespace(Namespace::for_url(&upstream));
    // A gateway in front has verified the user and says who it is in `x-user`.
    let proxy = HttpProxy::builder(cache, upstream.as_str())
        .caller_resolver(|headers| {
            headers
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .map_or_else(Caller::anonymous, Caller::from_identity)
        })
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    rt.spawn(async move { proxy.serve(listener, std::future::pending()).await });

    let ask = |token: &str, user: &str| {
        let auth = format!("Bearer {token}");
        call_text(&post_call(
            &url,
            "whoami",
            json!({}),
            &[("authorization", auth.as_str()), ("x-user", user)],
        ))
    };
    assert_eq!(ask("t1", "ann"), "secret data of Bearer t1");
    // Another token of the same user: the same partition, a hit.
    assert_eq!(ask("t2", "ann"), "secret data of Bearer t1");
    assert_eq!(counters.whoami.load(Ordering::SeqCst), 1);
    // Another user: a partition of their own.
    assert_eq!(ask("t2", "bob"), "secret data of Bearer t2");
    assert_eq!(counters.whoami.load(Ordering::SeqCst), 2);
}
