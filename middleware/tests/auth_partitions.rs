//! Two authenticated callers of one wrapped server, over rmcp's Streamable HTTP transport with
//! real `Authorization` headers: neither ever receives the other's cached answer.

#[path = "../examples/slow_server/server.rs"]
#[allow(dead_code, unreachable_pub)]
mod server;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value as Json, json};
use stowage_mcp::{CachePolicy, CachingHandler, Caller, Method, ResponseCache};
use tower_service::Service;

use server::SlowServer;

type Http = StreamableHttpService<CachingHandler<SlowServer>, LocalSessionManager>;

fn service(server: SlowServer, cache: ResponseCache) -> Http {
    service_with(server, cache, false)
}

/// `ignore_callers` replaces the caller resolver with one that sees everyone as anonymous: the
/// setup a leak test must catch.
fn service_with(server: SlowServer, cache: ResponseCache, ignore_callers: bool) -> Http {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true);
    StreamableHttpService::new(
        move || {
            let handler = CachingHandler::new(server.clone(), cache.clone());
            Ok(if ignore_callers {
                handler.with_caller_resolver(|_| Caller::anonymous())
            } else {
                handler
            })
        },
        Default::default(),
        config,
    )
}

/// POST one `tools/call` of `tool` as `token` (or anonymously) and return the answer's text.
async fn call(http: &mut Http, token: Option<&str>, tool: &str) -> String {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &[u8])> = auth
        .iter()
        .map(|a| ("authorization", a.as_bytes()))
        .collect();
    call_with(http, &headers, tool).await
}

/// POST one `tools/call` of `tool` with these extra headers (raw bytes) and return the
/// answer's text.
async fn call_with(http: &mut Http, headers: &[(&str, &[u8])], tool: &str) -> String {
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": {}}
    });
    let mut request = http::Request::post("http://localhost/mcp")
        .header(http::header::HOST, "localhost")
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json, text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, http::HeaderValue::from_bytes(value).unwrap());
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = http.call(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(status.is_success(), "{status}: {text}");
    // JSON, or one SSE event carrying the JSON.
    let json_text = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .map_or(text.as_str(), str::trim);
    let answer: Json = serde_json::from_str(json_text).unwrap_or_else(|e| panic!("{e}: {text}"));
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {answer}"))
        .to_owned()
}

#[tokio::test]
async fn two_authenticated_callers_never_see_each_others_answers() {
    let server = SlowServer::new(Duration::from_millis(1));
    let counters = server.counters.clone();
    let cache =
        ResponseCache::new(stowage_memory::MemoryStore::new(), CachePolicy::default()).unwrap();
    let mut http = service(server, cache.clone());

    let alice = "alice-token-1";
    let bob = "bob-token-2";
    for round in 0..3 {
        let a = call(&mut http, Some(alice), "whoami").await;
        let b = call(&mut http, Some(bob), "whoami").await;
        assert_eq!(a, format!("secret data of Bearer {alice}"), "round {round}");
        assert_eq!(b, format!("secret data of Bearer {bob}"), "round {round}");
        let anon = call(&mut http, None, "whoami").await;
        assert_eq!(anon, "anonymous", "round {round}");
    }
    // Each caller's answer was computed once and then served from its own partition.
    assert_eq!(counters.whoami.load(Ordering::SeqCst), 3);
    let stats = cache.stats().get(Method::ToolsCall);
    assert_eq!((stats.misses, stats.hits, stats.stores), (3, 6, 3));
}

#[tokio::test]
async fn a_new_token_is_a_new_partition() {
    let server = SlowServer::new(Duration::from_millis(1));
    let counters = server.counters.clone();
    let mut http = service(server, ResponseCache::in_memory());
    for i in 0..5 {
        let token = format!("token-{i}");
        let answer = call(&mut http, Some(&token), "whoami").await;
        assert_eq!(answer, format!("secret data of Bearer {token}"));
    }
    assert_eq!(counters.whoami.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn the_leak_these_tests_guard_against_is_visible_without_partitions() {
    // With every caller seen as anonymous, Bob gets Alice's cached answer: the assertions above
    // would fail on such a cache.
    let server = SlowServer::new(Duration::from_millis(1));
    let mut http = service_with(server, ResponseCache::in_memory(), true);
    let a = call(&mut http, Some("alice"), "whoami").await;
    let b = call(&mut http, Some("bob"), "whoami").await;
    assert_eq!(a, "secret data of Bearer alice");
    assert_eq!(b, a);
}

#[tokio::test]
async fn an_unreadable_authorization_header_is_never_cached() {
    let server = SlowServer::new(Duration::from_millis(1));
    let counters = server.counters.clone();
    let cache = ResponseCache::in_memory();
    let mut http = service(server, cache.clone());
    // Anonymous first: an answer sits in the shared anonymous partition.
    assert_eq!(call(&mut http, None, "whoami").await, "anonymous");
    let latin1: &[u8] = b"Bearer caf\xe9-token";
    for _ in 0..2 {
        call_with(&mut http, &[("authorization", latin1)], "whoami").await;
    }
    // Neither request was answered from the anonymous partition, nor stored.
    assert_eq!(counters.whoami.load(Ordering::SeqCst), 3);
    assert_eq!(cache.stats().get(Method::ToolsCall).stores, 1);
}

#[tokio::test]
async fn callers_known_by_a_cookie_or_an_api_key_get_partitions_of_their_own() {
    let server = SlowServer::new(Duration::from_millis(1));
    let counters = server.counters.clone();
    let mut http = service(server, ResponseCache::in_memory());
    assert_eq!(call(&mut http, None, "whoami").await, "anonymous");
    let callers: [&[(&str, &[u8])]; 3] = [
        &[("cookie", b"session=alice")],
        &[("cookie", b"session=bob")],
        &[("x-api-key", b"key-carol")],
    ];
    for round in 0..2 {
        for headers in callers {
            call_with(&mut http, headers, "whoami").await;
        }
        // Each caller ran once (first round), then was served its own answer.
        assert_eq!(counters.whoami.load(Ordering::SeqCst), 4, "round {round}");
    }
}
