//! `tools/list` requests of the proxy's own, to learn the tools' annotations before deciding
//! on a `tools/call` of a tool the client never listed.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, header};
use serde_json::Value as Json;
use tokio::time::Instant;

use super::Inner;
use super::sse::{Piece, Splitter};
use super::{forward, stdio};
use crate::proxy::decide;
use crate::proxy::message::Message;

/// At most this many pages of a `tools/list` of the proxy's own.
const MAX_PAGES: usize = 20;

/// Read every page of the upstream's tool list, with the client's headers (its credentials,
/// session and protocol version) and the `_meta` of its request, and learn the annotations.
/// Gives up quietly (the call is then not cached) when the upstream does not answer by
/// `deadline`.
pub(super) async fn learn(
    p: &Inner,
    headers: &HeaderMap,
    meta: Option<serde_json::Map<String, Json>>,
    deadline: Instant,
) {
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let n = p.own_sent.fetch_add(1, Ordering::Relaxed) + 1;
        let id = Json::String(format!("stowage-mcp-proxy/tools-list/{n}"));
        let params = decide::tools_list_params(cursor.as_deref(), meta.as_ref());
        let request = serde_json::json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params
        });
        let headers = own_headers(headers);
        let body = Bytes::from(request.to_string());
        let Some(result) = ask(p, headers, body, &id.to_string(), deadline).await else {
            tracing::debug!("the upstream did not list its tools for the proxy");
            return;
        };
        p.cache.learn_tools(&result);
        cursor = result
            .get("nextCursor")
            .and_then(Json::as_str)
            .map(str::to_owned);
        if cursor.is_none() {
            p.tools_listed.store(true, Ordering::Release);
            return;
        }
    }
}

/// The client's headers, for a `tools/list` of the proxy's own: the same credentials, session
/// and protocol version, with the headers that mirror the request (`Mcp-Method`, `Mcp-Name`,
/// `Mcp-Param-*`, protocol 2026-07-28) saying `tools/list` instead.
fn own_headers(client: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(client.len());
    for (name, value) in client {
        let n = name.as_str();
        if n != "mcp-method" && n != "mcp-name" && !n.starts_with("mcp-param-") {
            headers.append(name.clone(), value.clone());
        }
    }
    if client.contains_key("mcp-method") {
        headers.insert("mcp-method", HeaderValue::from_static("tools/list"));
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers
}

/// The result of the answer with `id` in `data` (one message), if it is that.
fn wanted(data: &[u8], id: &str) -> Option<Json> {
    let msg = Message::parse(data)?;
    (msg.method.is_none() && msg.id_key().as_deref() == Some(id))
        .then(|| serde_json::from_str(msg.result?.get()).ok())
        .flatten()
}

/// Send one request of the proxy's own and return the result of the answer with `id`.
async fn ask(
    p: &Inner,
    headers: HeaderMap,
    body: Bytes,
    id: &str,
    deadline: Instant,
) -> Option<Json> {
    if let super::Target::Stdio(children) = &p.target {
        let line = stdio::ask(children, &headers, &body, id, deadline).await?;
        return wanted(&line, id);
    }
    let sent = forward::send(p, Method::POST, headers, Some(body), deadline, true)
        .await
        .ok()?;
    let response = sent.response;
    if !response.status().is_success() {
        return None;
    }
    let sse = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !sse {
        let bytes = forward::read_body(response, deadline, p.upstream_timeout)
            .await
            .ok()?;
        return wanted(&bytes, id);
    }
    let mut stream = response.bytes_stream();
    let mut splitter = Splitter::default();
    let read = async {
        while let Some(Ok(chunk)) = stream.next().await {
            for piece in splitter.push(&chunk) {
                if let Piece::Event { data, .. } = piece
                    && let Some(result) = wanted(&data, id)
                {
                    return Some(result);
                }
            }
        }
        None
    };
    tokio::time::timeout_at(deadline, read).await.ok().flatten()
}
