//! The rmcp wrapper around a real rmcp server with a slow tool, driven by the real rmcp client
//! and by hand-written JSON-RPC lines.

mod common;
#[path = "../examples/slow_server/server.rs"]
#[allow(dead_code, unreachable_pub)]
mod server;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, GetPromptRequestParams, ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;
use stowage_mcp::{CachePolicy, CachingHandler, Method, Namespace, ResponseCache};

use common::RawClient;
use server::{BLOB_URI, Counters, SlowServer};

const DELAY: Duration = Duration::from_millis(200);

/// A wrapped slow server serving on one end of a pipe (over a `WatchedTransport` when
/// `watched`); returns the other end.
fn serve_wrapped(
    policy: CachePolicy,
    watched: bool,
) -> (tokio::io::DuplexStream, Arc<Counters>, ResponseCache) {
    let server = SlowServer::new(DELAY);
    let counters = server.counters.clone();
    let cache = ResponseCache::new(stowage_memory::MemoryStore::new(), policy).unwrap();
    let wrapped = CachingHandler::new(server, cache.clone());
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let watch = cache.clone();
    tokio::spawn(async move {
        let running = if watched {
            wrapped
                .serve(stowage_mcp::watched(server_io, watch))
                .await
                .expect("server starts")
        } else {
            wrapped.serve(server_io).await.expect("server starts")
        };
        let _ = running.waiting().await;
    });
    (client_io, counters, cache)
}

/// A wrapped slow server on one end of a pipe; the rmcp client on the other.
async fn connect(
    policy: CachePolicy,
) -> (RunningService<RoleClient, ()>, Arc<Counters>, ResponseCache) {
    let (client_io, counters, cache) = serve_wrapped(policy, false);
    let client = ().serve(client_io).await.expect("client connects");
    // rmcp's own client-side cache (on by default since 3.10) would hide what the server and
    // the wrapper do: every answer these tests see comes from the wrapped server.
    client
        .set_response_cache_config(rmcp::ClientCacheConfig::disabled())
        .await;
    (client, counters, cache)
}

/// A hand-written client on one end of a pipe.
type Raw = RawClient<
    tokio::io::ReadHalf<tokio::io::DuplexStream>,
    tokio::io::WriteHalf<tokio::io::DuplexStream>,
>;

/// A wrapped slow server on one end of a pipe; a hand-written client on the other.
async fn connect_raw(policy: CachePolicy) -> (Raw, Arc<Counters>, ResponseCache) {
    connect_raw_with(policy, false).await
}

/// Like [`connect_raw`]; with `watched`, the server's transport is a `WatchedTransport`.
async fn connect_raw_with(
    policy: CachePolicy,
    watched: bool,
) -> (Raw, Arc<Counters>, ResponseCache) {
    let (client_io, counters, cache) = serve_wrapped(policy, watched);
    let (r, w) = tokio::io::split(client_io);
    let mut client = RawClient::new(r, w);
    client.initialize().await;
    (client, counters, cache)
}

fn echo(text: &str, repeat: u32, upper: bool) -> CallToolRequestParams {
    CallToolRequestParams::new("slow_echo").with_arguments(
        json!({"text": text, "options": {"repeat": repeat, "upper": upper}})
            .as_object()
            .unwrap()
            .clone(),
    )
}

#[tokio::test]
async fn a_second_identical_call_is_served_from_the_cache() {
    let (client, counters, cache) = connect(CachePolicy::default()).await;
    let first = client.call_tool(echo("hi", 2, true)).await.unwrap();
    let second = client.call_tool(echo("hi", 2, true)).await.unwrap();
    assert_eq!(counters.slow(), 1, "the tool ran once");
    assert_eq!(first, second);
    assert_eq!(first.content[0].as_text().unwrap().text, "HIHI (run 1)");
    let stats = cache.stats().get(Method::ToolsCall);
    assert_eq!((stats.hits, stats.misses, stats.stores), (1, 1, 1));

    // Different arguments are a different request.
    let third = client.call_tool(echo("hi", 3, true)).await.unwrap();
    assert_eq!(third.content[0].as_text().unwrap().text, "HIHIHI (run 2)");
    assert_eq!(counters.slow(), 2);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn reordered_argument_keys_hit_the_cache() {
    let (mut client, counters, cache) = connect_raw(CachePolicy::default()).await;
    let a = client
        .call_text(
            r#"{"name":"slow_echo","arguments":{"text":"x","options":{"repeat":1,"upper":false}}}"#,
        )
        .await;
    // Same arguments, keys in another order at both depths, and a progress token in _meta.
    let b = client
        .call_text(r#"{"_meta":{"progressToken":42},"arguments":{"options":{"upper":false,"repeat":1},"text":"x"},"name":"slow_echo"}"#)
        .await;
    assert_eq!(a, "x (run 1)");
    assert_eq!(a, b);
    assert_eq!(counters.slow(), 1);
    assert_eq!(cache.stats().get(Method::ToolsCall).hits, 1);
}

#[tokio::test]
async fn an_error_result_is_not_cached() {
    let (client, counters, cache) = connect(CachePolicy::default()).await;
    let args = json!({"text": "boom"}).as_object().unwrap().clone();
    let call = || CallToolRequestParams::new("flaky").with_arguments(args.clone());
    let first = client.call_tool(call()).await.unwrap();
    let second = client.call_tool(call()).await.unwrap();
    assert_eq!(first.is_error, Some(true));
    assert_eq!(
        first.content[0].as_text().unwrap().text,
        "boom failed (run 1)"
    );
    assert_eq!(
        second.content[0].as_text().unwrap().text,
        "boom failed (run 2)"
    );
    assert_eq!(counters.flaky.load(Ordering::SeqCst), 2);
    let stats = cache.stats().get(Method::ToolsCall);
    assert_eq!((stats.hits, stats.stores, stats.bypasses), (0, 0, 2));

    // A protocol error (unknown tool) is not cached either.
    for _ in 0..2 {
        assert!(
            client
                .call_tool(CallToolRequestParams::new("nope"))
                .await
                .is_err()
        );
    }
    assert_eq!(cache.stats().get(Method::ToolsCall).stores, 0);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn binary_resource_contents_round_trip_byte_for_byte() {
    let (client, counters, cache) = connect(CachePolicy::default()).await;
    let read = || client.read_resource(ReadResourceRequestParams::new(BLOB_URI));
    let first = read().await.unwrap();
    let served = counters.last_blob.lock().clone();
    let second = read().await.unwrap();
    assert_eq!(
        counters.reads.load(Ordering::SeqCst),
        1,
        "the second read is a hit"
    );
    assert_eq!(cache.stats().get(Method::ResourcesRead).hits, 1);
    for result in [first, second] {
        let ResourceContents::BlobResourceContents {
            blob, mime_type, ..
        } = &result.contents[0]
        else {
            panic!("{result:?}")
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(blob)
            .unwrap();
        assert_eq!(bytes, served);
        assert_eq!(mime_type.as_deref(), Some("application/octet-stream"));
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn prompts_and_lists_are_cached_and_invalidated() {
    let (client, counters, cache) = connect(CachePolicy::default()).await;
    let args = json!({"name": "Ada"}).as_object().unwrap().clone();
    let get =
        || client.get_prompt(GetPromptRequestParams::new("greet").with_arguments(args.clone()));
    let a = get().await.unwrap();
    let b = get().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(counters.prompts.load(Ordering::SeqCst), 1);

    let tools1 = client.list_tools(None).await.unwrap();
    let tools2 = client.list_tools(None).await.unwrap();
    assert_eq!(tools1.tools.len(), 8);
    assert_eq!(tools1, tools2);
    assert_eq!(cache.stats().get(Method::ToolsList).hits, 1);
    client.list_resources(None).await.unwrap();
    client.list_prompts(None).await.unwrap();
    client.list_prompts(None).await.unwrap();
    assert_eq!(cache.stats().get(Method::PromptsList).hits, 1);

    // What the server does when its data changes.
    client.call_tool(echo("a", 1, false)).await.unwrap();
    cache.invalidate(Method::ToolsCall).await.unwrap();
    cache
        .observe_notification("notifications/tools/list_changed", None)
        .await
        .unwrap();
    let again = client.call_tool(echo("a", 1, false)).await.unwrap();
    assert_eq!(again.content[0].as_text().unwrap().text, "a (run 2)");
    client.list_tools(None).await.unwrap();
    assert_eq!(cache.stats().get(Method::ToolsList).misses, 2);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn requests_with_multi_round_trip_state_bypass_the_cache() {
    let (mut client, counters, cache) = connect_raw(CachePolicy::default()).await;
    let params = r#"{"name":"slow_echo","arguments":{"text":"s","options":{"repeat":1,"upper":false}},"requestState":"opaque-state"}"#;
    client.request_text("tools/call", params).await;
    client.request_text("tools/call", params).await;
    assert_eq!(counters.slow(), 2);
    let stats = cache.stats().get(Method::ToolsCall);
    assert_eq!((stats.hits, stats.misses, stats.bypasses), (0, 0, 2));
}

#[tokio::test]
async fn denied_and_disabled_requests_are_forwarded_untouched() {
    let policy = CachePolicy::default()
        .deny_tools(["slow_echo"])
        .disable(Method::ResourcesRead);
    let (client, counters, cache) = connect(policy).await;
    for _ in 0..2 {
        client.call_tool(echo("d", 1, false)).await.unwrap();
        client
            .read_resource(ReadResourceRequestParams::new(BLOB_URI))
            .await
            .unwrap();
    }
    assert_eq!(counters.slow(), 2);
    assert_eq!(counters.reads.load(Ordering::SeqCst), 2);
    assert_eq!(cache.stats().get(Method::ToolsCall).bypasses, 2);
    assert_eq!(cache.stats().get(Method::ResourcesRead).bypasses, 2);

    // Caching named tools only, without this one, has the same effect.
    let (client, counters, _) = connect(
        CachePolicy::default()
            .cache_tools(stowage_mcp::ToolCaching::Named)
            .allow_tools(["other"]),
    )
    .await;
    for _ in 0..2 {
        client.call_tool(echo("d", 1, false)).await.unwrap();
    }
    assert_eq!(counters.slow(), 2);
}

#[tokio::test]
async fn oversized_answers_pass_through_uncached() {
    let (client, counters, cache) = connect(CachePolicy::default().max_entry_bytes(64)).await;
    for _ in 0..2 {
        let r = client
            .call_tool(echo(&"y".repeat(100), 1, false))
            .await
            .unwrap();
        assert!(r.content[0].as_text().unwrap().text.starts_with("yyyy"));
    }
    assert_eq!(counters.slow(), 2);
    assert_eq!(cache.stats().get(Method::ToolsCall).stores, 0);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn everything_else_is_forwarded() {
    let (client, _, _) = connect(CachePolicy::default()).await;
    let info = client.peer_info().expect("initialized");
    assert_eq!(
        info.instructions.as_deref(),
        Some("A slow server, to show the cache")
    );
    assert!(info.capabilities.tools.is_some());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_cache_takes_the_namespace_of_the_server_it_wraps() {
    let server = SlowServer::new(DELAY);
    let info = server.get_info();
    let cache = ResponseCache::in_memory();
    let _wrapped = CachingHandler::new(server, cache.clone());
    let expected = Namespace::for_server(&info.server_info.name, &info.server_info.version, &[]);
    assert_eq!(
        cache.namespace(),
        &expected,
        "clones share the settled namespace"
    );
    assert_eq!(
        cache.collection(Method::ToolsCall),
        format!("mcp.{expected}.tools-call")
    );
    // A namespace chosen by the user stays.
    let chosen = ResponseCache::in_memory().in_namespace(Namespace::new("fleet").unwrap());
    let _wrapped = CachingHandler::new(SlowServer::new(DELAY), chosen.clone());
    assert_eq!(chosen.namespace().as_str(), "fleet");
}

#[tokio::test]
async fn tools_with_side_effects_run_every_time() {
    let (client, counters, cache) = connect(CachePolicy::default()).await;
    for _ in 0..2 {
        for name in ["send_message", "unannotated"] {
            client
                .call_tool(CallToolRequestParams::new(name))
                .await
                .unwrap();
        }
        client.call_tool(echo("e", 1, false)).await.unwrap();
    }
    assert_eq!(counters.sends.load(Ordering::SeqCst), 2);
    assert_eq!(counters.unannotated.load(Ordering::SeqCst), 2);
    assert_eq!(counters.slow(), 1, "the read-only tool is cached");
    assert_eq!(cache.stats().get(Method::ToolsCall).stores, 1);
    client.cancel().await.unwrap();
}

/// Call `count_roots` on a raw client, answering the server's `roots/list` request.
async fn count_roots<R, W>(client: &mut RawClient<R, W>, id: u64) -> String
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    client
        .send_line(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"count_roots"}}}}"#
        ))
        .await;
    loop {
        let msg = client.next_response().await;
        if msg["method"] == "roots/list" {
            let reply = json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"roots": [{"uri": "file:///a"}]}});
            client.send_line(&reply.to_string()).await;
            continue;
        }
        assert_eq!(msg["id"], id, "{msg}");
        return msg["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
    }
}

#[tokio::test]
async fn an_answer_that_asked_the_client_is_not_stored_over_a_watched_transport() {
    let (mut client, counters, cache) = connect_raw_with(CachePolicy::default(), true).await;
    client.request_text("tools/list", "{}").await;
    assert_eq!(count_roots(&mut client, 10).await, "1 roots (run 1)");
    assert_eq!(count_roots(&mut client, 11).await, "1 roots (run 2)");
    assert_eq!(counters.roots.load(Ordering::SeqCst), 2);
    assert_eq!(cache.stats().get(Method::ToolsCall).stores, 0);
}

#[tokio::test]
async fn without_the_watched_transport_the_answer_would_be_replayed() {
    // What the test above guards against: the wrapper alone cannot see the peer's requests.
    let (mut client, counters, _) = connect_raw_with(CachePolicy::default(), false).await;
    client.request_text("tools/list", "{}").await;
    assert_eq!(count_roots(&mut client, 10).await, "1 roots (run 1)");
    assert_eq!(count_roots(&mut client, 11).await, "1 roots (run 1)");
    assert_eq!(counters.roots.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_roots_change_from_the_client_clears_the_cache() {
    let (mut client, counters, _) = connect_raw(CachePolicy::default()).await;
    let echo =
        r#"{"name":"slow_echo","arguments":{"text":"r","options":{"repeat":1,"upper":false}}}"#;
    assert_eq!(client.call_text(echo).await, "r (run 1)");
    assert_eq!(client.call_text(echo).await, "r (run 1)");
    client
        .send_line(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#)
        .await;
    // A round trip after the notification, so it has been handled.
    client.request_text("ping", "{}").await;
    assert_eq!(client.call_text(echo).await, "r (run 2)");
    assert_eq!(counters.slow(), 2);
}
