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

use common::http::{Proxy, call, client};
use server::SlowServer;

/// Serve `server` over rmcp's Streamable HTTP transport on a loopback port of `rt`; returns
/// the endpoint.
fn serve(rt: &tokio::runtime::Runtime, server: SlowServer, json_response: bool) -> String {
    let config = StreamableHttpServerConfig::default().with_json_response(json_response);
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
