//! The HTTP front of a stdio server: one child process per HTTP session.
//!
//! - An `initialize` request without `Mcp-Session-Id` starts a child of its own and gets a new
//!   session id (128 random bits) in the answer's `Mcp-Session-Id`; later requests with that
//!   header go to that child, a GET opens its stream of notifications and server requests,
//!   and a DELETE stops it. A session the proxy does not know gets HTTP 404.
//! - Requests without a session that are not `initialize` (protocol 2026-07-28 clients, which
//!   carry everything on each request) share one child, started when first needed and again
//!   if it exits.
//! - Answers come back as JSON, or as one SSE event to a client that takes only SSE.
//!
//! Limits: at most [`MAX_SESSIONS`] sessions at once (past it, HTTP 503); a session lasts until
//! DELETE, its child's exit or the proxy's end (idle sessions are not reaped); server requests
//! (elicitation, sampling) reach the client only on its GET stream, so a client without one
//! cannot answer them; a batch is refused.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::Inner;
use super::answer::{self, Watch};
use super::body::{self, Body};
use super::child::Child;
use super::forward::UpstreamError;
use crate::cache::ResponseCache;
use crate::proxy::message::Message;

/// At most this many sessions (children) at once.
pub const MAX_SESSIONS: usize = 256;
const SESSION: &str = "mcp-session-id";

/// The child for a request, and the id of the session it opened (for `initialize`).
type Found = (Arc<Child>, Option<String>);

/// The children of a stdio front.
#[derive(Debug)]
pub(super) struct Children {
    program: OsString,
    args: Vec<OsString>,
    cache: ResponseCache,
    tools_listed: Arc<AtomicBool>,
    sessions: Mutex<HashMap<String, Arc<Child>>>,
    shared: Mutex<Option<Arc<Child>>>,
    opened: AtomicU64,
}

impl Children {
    pub(super) fn new(
        program: OsString,
        args: Vec<OsString>,
        cache: ResponseCache,
        tools_listed: Arc<AtomicBool>,
    ) -> Children {
        Children {
            program,
            args,
            cache,
            tools_listed,
            sessions: Mutex::new(HashMap::new()),
            shared: Mutex::new(None),
            opened: AtomicU64::new(0),
        }
    }

    fn spawn(&self) -> io::Result<Arc<Child>> {
        Child::spawn(
            &self.program,
            &self.args,
            self.cache.clone(),
            self.tools_listed.clone(),
        )
    }

    /// The child that answers a request with `headers`; `Err` is the response to send.
    fn child_for(
        &self,
        headers: &HeaderMap,
        initialize: bool,
    ) -> Result<Found, Box<Response<Body>>> {
        let failed = |e: io::Error| {
            tracing::error!(error = %e, "cannot start the stdio server");
            Box::new(UpstreamError::Unreachable(e.to_string()).response("null"))
        };
        if let Some(id) = headers.get(SESSION) {
            let id = id.to_str().unwrap_or_default();
            let mut sessions = self.sessions.lock();
            return match sessions.get(id) {
                Some(child) if child.is_alive() => Ok((child.clone(), None)),
                Some(_) => {
                    sessions.remove(id);
                    Err(Box::new(unknown_session()))
                }
                None => Err(Box::new(unknown_session())),
            };
        }
        if initialize {
            if self.sessions.lock().len() >= MAX_SESSIONS {
                return Err(Box::new(body::rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "null",
                    -32603,
                    "too many sessions",
                )));
            }
            let child = self.spawn().map_err(failed)?;
            let id = self.new_session_id();
            self.sessions.lock().insert(id.clone(), child.clone());
            return Ok((child, Some(id)));
        }
        let mut shared = self.shared.lock();
        match shared.as_ref() {
            Some(child) if child.is_alive() => Ok((child.clone(), None)),
            _ => {
                let child = self.spawn().map_err(failed)?;
                *shared = Some(child.clone());
                Ok((child, None))
            }
        }
    }

    /// The answer to a request naming a session this front does not know (or whose child
    /// exited): HTTP 404, before the cache is consulted. `None` when the session is known or
    /// none is named.
    pub(super) fn check_session(&self, headers: &HeaderMap) -> Option<Response<Body>> {
        let id = headers.get(SESSION)?;
        let known = id
            .to_str()
            .ok()
            .and_then(|id| self.sessions.lock().get(id).map(|c| c.is_alive()));
        (known != Some(true)).then(unknown_session)
    }

    /// 128 unpredictable bits, in hex: the process's random hash keys, a counter and the time,
    /// digested.
    fn new_session_id(&self) -> String {
        let mut h = Sha256::new();
        for _ in 0..2 {
            let mut k = RandomState::new().build_hasher();
            k.write_u64(self.opened.fetch_add(1, Ordering::Relaxed));
            h.update(k.finish().to_be_bytes());
        }
        h.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
        crate::key::to_hex(&h.finalize()[..16])
    }

    /// Stop every child.
    pub(super) fn stop_all(&self) {
        for (_, child) in self.sessions.lock().drain() {
            child.stop();
        }
        if let Some(child) = self.shared.lock().take() {
            child.stop();
        }
    }
}

fn unknown_session() -> Response<Body> {
    body::rpc_error(StatusCode::NOT_FOUND, "null", -32001, "session not found")
}

/// Send a POST's message to its child and answer the client.
pub(super) async fn exchange(
    p: &Arc<Inner>,
    children: &Children,
    headers: &HeaderMap,
    bytes: &Bytes,
    mut watch: Watch,
    deadline: Instant,
) -> Response<Body> {
    let Some(msg) = Message::parse(bytes) else {
        return body::rpc_error(
            StatusCode::BAD_REQUEST,
            "null",
            -32600,
            "batches are not supported in front of a stdio server",
        );
    };
    let request = msg.method.is_some() && msg.id_key().is_some();
    let initialize = request && msg.method.as_deref() == Some("initialize");
    let (child, session) = match children.child_for(headers, initialize) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    if !request {
        // A notification, or the client's answer to a server request.
        return match child.write(bytes).await {
            Ok(()) => body::json(StatusCode::ACCEPTED, Bytes::new()),
            Err(e) => UpstreamError::Unreachable(e.to_string()).response("null"),
        };
    }
    let permit = match tokio::time::timeout_at(deadline, p.permits.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => return UpstreamError::TimedOut(p.upstream_timeout).response(&watch.id),
    };
    let answered = child.request(bytes, &watch.id, deadline).await;
    drop(permit);
    let line = match answered {
        Ok(line) => line,
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            return UpstreamError::TimedOut(p.upstream_timeout).response(&watch.id);
        }
        Err(e) => return UpstreamError::Unreachable(e.to_string()).response(&watch.id),
    };
    answer::observe(p, &mut watch, &line).await;
    let mut response = body::hit(headers.get(header::ACCEPT), line.to_vec());
    if let Some(id) = session.and_then(|s| HeaderValue::from_str(&s).ok()) {
        response.headers_mut().insert(SESSION, id);
    }
    response
}

/// Ask the child serving `headers` one request of the proxy's own; returns the answer line.
pub(super) async fn ask(
    children: &Children,
    headers: &HeaderMap,
    body: &[u8],
    id: &str,
    deadline: Instant,
) -> Option<Bytes> {
    let (child, _) = children.child_for(headers, false).ok()?;
    child.request(body, id, deadline).await.ok()
}

/// A GET (the session's stream) or a DELETE (its end).
pub(super) fn session_request(
    children: &Children,
    method: &Method,
    headers: &HeaderMap,
) -> Response<Body> {
    let Some(id) = headers.get(SESSION).and_then(|v| v.to_str().ok()) else {
        let mut response = body::json(StatusCode::METHOD_NOT_ALLOWED, "{}");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    };
    if *method == Method::DELETE {
        return match children.sessions.lock().remove(id) {
            Some(child) => {
                child.stop();
                body::json(StatusCode::OK, "{}")
            }
            None => unknown_session(),
        };
    }
    let Some(child) = children.sessions.lock().get(id).cloned() else {
        return unknown_session();
    };
    let mut events = child.subscribe();
    let (tx, stream) = body::channel();
    tokio::spawn(async move {
        loop {
            let line = match events.recv().await {
                Ok(line) => line,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "a slow GET stream missed server messages");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            if tx.send(body::sse_event(&line)).await.is_err() {
                return;
            }
        }
    });
    let mut response = Response::new(stream);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
}
