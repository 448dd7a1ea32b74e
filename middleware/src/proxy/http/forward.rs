//! Calls to the upstream: which headers go through, the per-request deadline, the bound on
//! concurrent upstream requests, and the errors the client sees when the upstream fails.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, Response, StatusCode, header};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::Inner;
use super::body::{self, Body};

/// Headers that belong to one connection, or that the proxy sets itself: never copied.
const NOT_COPIED: &[HeaderName] = &[
    header::CONNECTION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
];

fn copied(name: &HeaderName) -> bool {
    !NOT_COPIED.contains(name)
        && name.as_str() != "keep-alive"
        && name.as_str() != "proxy-connection"
}

/// The client's headers as they go upstream: everything (`Authorization`, `Accept`,
/// `Mcp-Session-Id`, `MCP-Protocol-Version`, `Last-Event-ID`, …) but the hop-by-hop ones and
/// `Host` (the upstream's own is set).
pub(super) fn upstream_headers(from: &HeaderMap) -> HeaderMap {
    let mut to = HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        if copied(name) {
            to.append(name.clone(), value.clone());
        }
    }
    to
}

/// The upstream's response headers as they go to the client (the length is the body's own).
pub(super) fn client_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if copied(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// Why the upstream gave no answer.
#[derive(Debug)]
pub(super) enum UpstreamError {
    /// No connection, or the connection failed.
    Unreachable(String),
    /// No answer within the per-request deadline (waiting for a free slot included).
    TimedOut(Duration),
}

impl UpstreamError {
    /// The response the client gets: a JSON-RPC error to its request `id` (JSON text), with
    /// HTTP 502 or 504.
    pub(super) fn response(&self, id: &str) -> Response<Body> {
        let (status, message) = self.status_and_message();
        body::rpc_error(status, id, -32603, &message)
    }

    /// The HTTP status and the message of this error.
    pub(super) fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            UpstreamError::Unreachable(why) => (
                StatusCode::BAD_GATEWAY,
                format!("the upstream MCP server is unreachable: {why}"),
            ),
            UpstreamError::TimedOut(after) => (
                StatusCode::GATEWAY_TIMEOUT,
                format!("the upstream MCP server did not answer within {after:?}"),
            ),
        }
    }
}

/// The error chain of `e`, on one line (reqwest's own message is only the outermost).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// An upstream exchange under way: the response, and the slot it holds among the bounded
/// concurrent upstream requests (released when the exchange is over).
#[derive(Debug)]
pub(super) struct Sent {
    pub(super) response: reqwest::Response,
    pub(super) permit: Option<OwnedSemaphorePermit>,
}

/// Send `method` with `headers` and `body` upstream, by `deadline`. `bounded`: the exchange
/// takes one of the bounded slots (POSTs do; a GET stream, open for a session's lifetime,
/// does not).
pub(super) async fn send(
    p: &Inner,
    method: Method,
    headers: HeaderMap,
    body: Option<Bytes>,
    deadline: Instant,
    bounded: bool,
) -> Result<Sent, UpstreamError> {
    let timeout = p.upstream_timeout;
    let super::Target::Http(url) = &p.target else {
        return Err(UpstreamError::Unreachable("not an HTTP upstream".into()));
    };
    let exchange = async {
        let permit = if bounded {
            Some(
                p.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| UpstreamError::Unreachable("the proxy is stopping".into()))?,
            )
        } else {
            None
        };
        let mut request = p.client.request(method, url.clone()).headers(headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| UpstreamError::Unreachable(describe(&e)))?;
        Ok(Sent { response, permit })
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Ok(sent) => sent,
        Err(_) => Err(UpstreamError::TimedOut(timeout)),
    }
}

/// Read a whole response body by `deadline`.
pub(super) async fn read_body(
    response: reqwest::Response,
    deadline: Instant,
    timeout: Duration,
) -> Result<Bytes, UpstreamError> {
    match tokio::time::timeout_at(deadline, response.bytes()).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(UpstreamError::Unreachable(describe(&e))),
        Err(_) => Err(UpstreamError::TimedOut(timeout)),
    }
}
