#![allow(dead_code, unreachable_pub)]

//! An rmcp Streamable HTTP server whose tool reports progress slowly, with its events and
//! sessions in a Stowage store; and a small client speaking to it over the service's HTTP
//! interface (`tower_service::Service::call` on real `http` requests, no socket).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ProgressNotificationParam, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use stowage_core::DynStore;
use stowage_rmcp::{StowageEventStore, StowageSessionStore};
use tower_service::Service;

/// The protocol version the client speaks.
pub const PROTOCOL: &str = "2025-11-25";

/// Arguments of `count`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CountArgs {
    /// How far to count.
    pub n: u32,
    /// Pause before each step, in milliseconds.
    pub delay_ms: u64,
}

/// A server with one slow tool.
#[derive(Debug, Clone)]
pub struct Counter {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Counter {
    pub fn new() -> Self {
        Counter {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Counts to n, one progress notification per step")]
    async fn count(
        &self,
        Parameters(args): Parameters<CountArgs>,
        context: RequestContext<RoleServer>,
    ) -> String {
        let token = context.meta.get_progress_token();
        for i in 1..=args.n {
            tokio::time::sleep(Duration::from_millis(args.delay_ms)).await;
            if let Some(token) = &token {
                let param: ProgressNotificationParam = serde_json::from_value(
                    json!({"progressToken": token, "progress": i, "total": args.n}),
                )
                .unwrap();
                let _ = context.peer.notify_progress(param).await;
            }
        }
        format!("counted to {}", args.n)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Counter {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// The HTTP service.
pub type Http = StreamableHttpService<Counter, LocalSessionManager>;

/// A server instance: its own session manager and rmcp service, events and sessions in `store`.
pub fn service(store: DynStore) -> Http {
    let events = StowageEventStore::new(store.clone()).expect("the store has put_if_absent");
    let manager = Arc::new(LocalSessionManager::default().with_event_store(Arc::new(events)));
    let mut config = StreamableHttpServerConfig::default();
    config.session_store = Some(Arc::new(StowageSessionStore::new(store)));
    config.sse_keep_alive = None;
    StreamableHttpService::new(|| Ok(Counter::new()), manager, config)
}

/// One SSE event: its id and its data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub id: Option<String>,
    pub data: String,
}

impl Event {
    /// The JSON-RPC message, when the event carries one.
    pub fn json(&self) -> Option<Json> {
        serde_json::from_str(&self.data).ok()
    }

    /// The progress number of a progress notification.
    pub fn progress(&self) -> Option<u64> {
        let m = self.json()?;
        (m["method"] == "notifications/progress")
            .then(|| m["params"]["progress"].as_f64())?
            .map(|p| p as u64)
    }

    /// Whether it is the answer to request `id`.
    pub fn answers(&self, id: u64) -> bool {
        self.json()
            .is_some_and(|m| m["id"] == id && m.get("result").is_some())
    }
}

/// An SSE response body read one event at a time.
pub struct SseReader {
    body: BoxBody<Bytes, Infallible>,
    buf: String,
}

impl SseReader {
    pub fn new(body: BoxBody<Bytes, Infallible>) -> Self {
        SseReader {
            body,
            buf: String::new(),
        }
    }

    /// The next event, or `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = Event {
                    id: None,
                    data: String::new(),
                };
                let mut seen = false;
                for line in block.lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        event.id = Some(id.trim_start().to_owned());
                        seen = true;
                    } else if let Some(data) = line.strip_prefix("data:") {
                        event.data.push_str(data.trim_start());
                        seen = true;
                    }
                }
                if seen {
                    return Some(event);
                }
                continue;
            }
            let frame = self.body.frame().await?.ok()?;
            if let Ok(data) = frame.into_data() {
                self.buf
                    .push_str(&String::from_utf8_lossy(&data).replace("\r\n", "\n"));
            }
        }
    }
}

fn request(method: http::Method, session: Option<&str>) -> http::request::Builder {
    let mut builder = http::Request::builder()
        .method(method)
        .uri("http://localhost/mcp")
        .header(http::header::HOST, "localhost")
        .header(http::header::ACCEPT, "application/json, text/event-stream")
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(session) = session {
        builder = builder
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", PROTOCOL);
    }
    builder
}

/// POST `body`; the status, the session id header and the body.
pub async fn post(
    http: &mut Http,
    session: Option<&str>,
    body: Json,
) -> (http::StatusCode, Option<String>, SseReader) {
    let req = request(http::Method::POST, session)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = http.call(req).await.unwrap();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        response.status(),
        session,
        SseReader::new(response.into_body()),
    )
}

/// GET the session's stream from after `last_event_id`.
pub async fn resume(http: &mut Http, session: &str, last_event_id: &str) -> SseReader {
    let req = request(http::Method::GET, Some(session))
        .header(http::header::ACCEPT, "text/event-stream")
        .header("last-event-id", last_event_id)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = http.call(req).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    SseReader::new(response.into_body())
}

/// Initialize a session (2025-11-25) and return its id.
pub async fn initialize(http: &mut Http) -> String {
    let (status, session, mut body) = post(
        http,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "resume-e2e", "version": "1.0.0"}}}),
    )
    .await;
    assert!(status.is_success(), "{status}");
    let session = session.expect("a session id");
    while let Some(event) = body.next().await {
        if event.answers(1) {
            break;
        }
    }
    let (status, _, _) = post(
        http,
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert!(status.is_success(), "{status}");
    session
}

/// The body of a `tools/call` of `count`, request id `id`, with a progress token.
pub fn count_call(id: u64, n: u32, delay_ms: u64) -> Json {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "count", "arguments": {"n": n, "delay_ms": delay_ms},
        "_meta": {"progressToken": format!("p{id}")}}})
}
