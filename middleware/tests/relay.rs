//! The relay loops driven directly: the test plays both the client and the server over
//! in-memory pipes, so it controls every line and every interleaving.

use std::time::Duration;

use serde_json::{Value as Json, json};
use stowage_core::Value;
use stowage_mcp::proxy::Proxy;
use stowage_mcp::{CachePolicy, Caller, Method, RequestKey, ResponseCache, ToolCaching};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};

struct Pipes {
    /// What the client writes.
    client: DuplexStream,
    /// What the client reads.
    client_lines: Lines<BufReader<DuplexStream>>,
    /// What the server writes.
    server: DuplexStream,
    /// What the server reads.
    server_lines: Lines<BufReader<DuplexStream>>,
    relay: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn start(cache: ResponseCache) -> Pipes {
    let (client, proxy_client_in) = tokio::io::duplex(1 << 20);
    let (proxy_client_out, client_reader) = tokio::io::duplex(1 << 20);
    let (proxy_server_in, server_reader) = tokio::io::duplex(1 << 20);
    let (server, proxy_server_out) = tokio::io::duplex(1 << 20);
    let proxy = Proxy::new(cache, Caller::anonymous()).max_line_bytes(64 * 1024);
    let relay = tokio::spawn(async move {
        proxy
            .relay(
                proxy_client_in,
                proxy_client_out,
                proxy_server_in,
                proxy_server_out,
            )
            .await
    });
    Pipes {
        client,
        client_lines: BufReader::new(client_reader).lines(),
        server,
        server_lines: BufReader::new(server_reader).lines(),
        relay,
    }
}

async fn next(lines: &mut Lines<BufReader<DuplexStream>>) -> Json {
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a line within 30 s")
        .unwrap()
        .expect("a line");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
}

async fn send(w: &mut DuplexStream, message: &Json) {
    w.write_all(format!("{message}\n").as_bytes())
        .await
        .unwrap();
}

fn call(id: u64, name: &str) -> Json {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": {}}})
}

fn answer(id: &Json, text: &str) -> Json {
    json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": text}]}})
}

/// A cache of the tools these tests call, by name (so the relay needs no annotations).
fn cache() -> ResponseCache {
    ResponseCache::new(
        stowage_memory::MemoryStore::new(),
        CachePolicy::default()
            .cache_tools(ToolCaching::Named)
            .allow_tools(["a", "b", "deploy", "ls", "big", "t", "u"]),
    )
    .unwrap()
}

/// Send `request` as the client; if it reaches the server, answer it with `text`. Returns the
/// text the client got and whether the server saw the request.
async fn round_trip(p: &mut Pipes, request: &Json, text: &str) -> (String, bool) {
    send(&mut p.client, request).await;
    let reached = tokio::select! {
        seen = p.server_lines.next_line() => {
            let seen: Json = serde_json::from_str(&seen.unwrap().unwrap()).unwrap();
            send(&mut p.server, &answer(&seen["id"], text)).await;
            true
        }
        // A hit is answered by the proxy without the server.
        _ = tokio::time::sleep(Duration::from_millis(300)) => false,
    };
    let got = next(&mut p.client_lines).await;
    (
        got["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned(),
        reached,
    )
}

#[tokio::test]
async fn two_requests_in_flight_with_one_id_store_nothing() {
    let mut p = start(cache());
    // Two requests with id 1, for two different tools, both in flight.
    send(&mut p.client, &call(1, "a")).await;
    send(&mut p.client, &call(1, "b")).await;
    let first = next(&mut p.server_lines).await;
    let second = next(&mut p.server_lines).await;
    assert_eq!(
        (first["id"].clone(), second["id"].clone()),
        (json!(1), json!(1))
    );
    // The server answers "b" first: the proxy cannot tell which answer is which.
    send(&mut p.server, &answer(&json!(1), "answer of b")).await;
    send(&mut p.server, &answer(&json!(1), "answer of a")).await;
    next(&mut p.client_lines).await;
    next(&mut p.client_lines).await;
    // Nothing was stored: both go to the server again.
    assert_eq!(
        round_trip(&mut p, &call(2, "a"), "a").await,
        ("a".into(), true)
    );
    assert_eq!(
        round_trip(&mut p, &call(3, "b"), "b").await,
        ("b".into(), true)
    );
    // And now they are cached.
    assert_eq!(
        round_trip(&mut p, &call(4, "a"), "x").await,
        ("a".into(), false)
    );
    drop(p.client);
    drop(p.server);
    p.relay.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_answer_given_after_the_server_asked_the_client_is_not_stored() {
    let mut p = start(cache());
    send(&mut p.client, &call(1, "deploy")).await;
    let seen = next(&mut p.server_lines).await;
    // While the call is pending, the server elicits; the client answers.
    let elicit = json!({"jsonrpc": "2.0", "id": "s1", "method": "elicitation/create",
        "params": {"message": "Which environment?", "requestedSchema": {"type": "object"}}});
    send(&mut p.server, &elicit).await;
    assert_eq!(
        next(&mut p.client_lines).await["method"],
        "elicitation/create"
    );
    send(&mut p.client, &json!({"jsonrpc": "2.0", "id": "s1", "result": {"action": "accept", "content": {"env": "prod"}}})).await;
    assert_eq!(next(&mut p.server_lines).await["id"], "s1");
    send(&mut p.server, &answer(&seen["id"], "deployed to prod")).await;
    assert_eq!(
        next(&mut p.client_lines).await["result"]["content"][0]["text"],
        "deployed to prod"
    );
    // The second call reaches the server.
    assert_eq!(
        round_trip(&mut p, &call(2, "deploy"), "staging").await,
        ("staging".into(), true)
    );
}

#[tokio::test]
async fn a_roots_change_from_the_client_clears_the_cache() {
    let mut p = start(cache());
    assert_eq!(
        round_trip(&mut p, &call(1, "ls"), "root A").await,
        ("root A".into(), true)
    );
    assert_eq!(
        round_trip(&mut p, &call(2, "ls"), "x").await,
        ("root A".into(), false)
    );
    send(
        &mut p.client,
        &json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}),
    )
    .await;
    assert_eq!(
        next(&mut p.server_lines).await["method"],
        "notifications/roots/list_changed"
    );
    assert_eq!(
        round_trip(&mut p, &call(3, "ls"), "root B").await,
        ("root B".into(), true)
    );
}

#[tokio::test]
async fn a_stored_answer_with_line_breaks_is_sent_as_one_line() {
    let cache = cache();
    // Someone with access to the shared store planted an indented answer.
    let digest = RequestKey::new(Method::ToolsCall, "t", None);
    let planted =
        "{\n  \"content\": [\n    {\"type\": \"text\", \"text\": \"planted\\nline\"}\n  ]\n}\n";
    cache
        .store()
        .put(
            cache.collection(Method::ToolsCall),
            &format!("anon.{}", digest.as_str()),
            Value::from_json(planted).unwrap(),
            None,
        )
        .await
        .unwrap();
    let mut p = start(cache);
    send(&mut p.client, &call(9, "t")).await;
    let got = next(&mut p.client_lines).await;
    assert_eq!(got["id"], 9);
    assert_eq!(got["result"]["content"][0]["text"], "planted\nline");
    // The next message is whole too.
    assert_eq!(
        round_trip(&mut p, &call(10, "u"), "fresh").await,
        ("fresh".into(), true)
    );
}

#[tokio::test]
async fn a_long_answer_from_the_server_is_relayed_whole_and_not_stored() {
    let mut p = start(cache());
    let long = "y".repeat(200 * 1024);
    assert_eq!(
        round_trip(&mut p, &call(1, "big"), &long).await,
        (long.clone(), true)
    );
    assert_eq!(
        round_trip(&mut p, &call(2, "big"), "again").await,
        ("again".into(), true)
    );
}

#[tokio::test]
async fn the_relay_stops_soon_after_the_client_leaves_even_if_the_server_does_not() {
    let p = start(cache());
    // The server keeps its output open and never answers; the client goes away.
    drop(p.client);
    let ended = tokio::time::timeout(Duration::from_secs(60), p.relay).await;
    assert!(ended.is_ok(), "the relay did not end");
    drop(p.server);
}

#[tokio::test]
async fn the_proxy_asks_the_server_for_annotations_the_client_never_listed() {
    let mut p = start(ResponseCache::in_memory());
    let first = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "search", "arguments": {"q": "x"},
        "_meta": {"progressToken": 5, "io.modelcontextprotocol/protocolVersion": "2026-07-28"}}});
    send(&mut p.client, &first).await;
    // Before the call, the proxy lists the tools itself, with the call's _meta but not its
    // progress token.
    let list = next(&mut p.server_lines).await;
    assert_eq!(list["method"], "tools/list", "{list}");
    assert_eq!(
        list["params"]["_meta"],
        json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"})
    );
    let page1 = json!({"jsonrpc": "2.0", "id": list["id"], "result": {
        "tools": [{"name": "rm", "annotations": {"destructiveHint": true}}], "nextCursor": "2"}});
    send(&mut p.server, &page1).await;
    let list2 = next(&mut p.server_lines).await;
    assert_eq!(list2["params"]["cursor"], "2", "{list2}");
    let page2 = json!({"jsonrpc": "2.0", "id": list2["id"], "result": {
        "tools": [{"name": "search", "annotations": {"readOnlyHint": true}}]}});
    send(&mut p.server, &page2).await;
    let forwarded = next(&mut p.server_lines).await;
    assert_eq!(forwarded["method"], "tools/call");
    send(&mut p.server, &answer(&json!(1), "found")).await;
    // The client sees only the answer to its own request.
    let got = next(&mut p.client_lines).await;
    assert_eq!(got["id"], 1, "{got}");
    // Read-only, so the repeat (of the same protocol version) is a hit; the destructive tool
    // is never cached.
    let again = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "search", "arguments": {"q": "x"},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}});
    assert_eq!(
        round_trip(&mut p, &again, "x").await,
        ("found".into(), false)
    );
    assert_eq!(
        round_trip(&mut p, &call(3, "rm"), "removed").await,
        ("removed".into(), true)
    );
    assert_eq!(
        round_trip(&mut p, &call(4, "rm"), "removed again").await,
        ("removed again".into(), true)
    );
}

#[tokio::test]
async fn a_stored_answer_keeps_its_numbers_exactly() {
    let mut p = start(cache());
    let exact = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"n"}],"structuredContent":{"n":123456789012345678901234567890,"x":0.10000000000000000001}}}"#;
    send(&mut p.client, &call(1, "a")).await;
    next(&mut p.server_lines).await;
    p.server
        .write_all(format!("{exact}\n").as_bytes())
        .await
        .unwrap();
    let first = p.client_lines.next_line().await.unwrap().unwrap();
    assert_eq!(first, exact);
    // The hit is the server's text, numbers and all.
    send(&mut p.client, &call(2, "a")).await;
    let hit = p.client_lines.next_line().await.unwrap().unwrap();
    assert_eq!(hit, exact.replace(r#""id":1"#, r#""id":2"#));
}
