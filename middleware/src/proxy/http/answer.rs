//! Relaying the upstream's answer to the client as the upstream sends it (a JSON body, or an
//! event stream relayed event by event), reading each message on the way: the awaited answer
//! is stored when the rules allow, notifications invalidate before the client sees them, and a
//! request from the server marks the answers in flight as not storable.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Response, header};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;

use super::Inner;
use super::body::{self, Body};
use super::coalesce::Turn;
use super::forward::{self, Sent, UpstreamError};
use super::sse::{Piece, Splitter};
use crate::proxy::decide::{self, Awaiting};
use crate::proxy::message::Message;

/// What the proxy waits for in an upstream answer, and what it holds until then.
#[derive(Debug, Default)]
pub(super) struct Watch {
    /// The client's request (its JSON-RPC id, normalised) and what its answer is for.
    pub(super) awaited: Option<(String, Awaiting)>,
    /// The request's JSON-RPC id as JSON text (`null` when none), for error answers.
    pub(super) id: String,
    /// The request's turn at its cache key, released once its answer is settled.
    pub(super) turn: Option<Turn>,
    /// The upstream slot, released when the exchange is over.
    pub(super) permit: Option<OwnedSemaphorePermit>,
    /// The deadline of the whole exchange (a POST's); `None` for a GET stream.
    pub(super) deadline: Option<(Instant, Duration)>,
    /// Keep reading after the client has gone, so that the answer is still stored.
    pub(super) drain: bool,
}

impl Watch {
    /// A watch for a message the proxy only relays (id text `id`).
    pub(super) fn relay_only(id: &str, deadline: Option<(Instant, Duration)>) -> Watch {
        Watch {
            id: id.to_owned(),
            deadline,
            ..Watch::default()
        }
    }
}

fn is(response: &reqwest::Response, media_type: &str) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with(media_type))
}

/// The client's response to an upstream exchange.
pub(super) async fn relay(p: Arc<Inner>, sent: Sent, mut watch: Watch) -> Response<Body> {
    let upstream = sent.response;
    watch.permit = sent.permit;
    let status = upstream.status();
    let mut response = Response::new(body::full(Bytes::new()));
    *response.status_mut() = status;
    forward::client_headers(upstream.headers(), response.headers_mut());
    if status.is_success() && is(&upstream, "text/event-stream") {
        let (tx, stream) = body::channel();
        *response.body_mut() = stream;
        tokio::spawn(relay_events(p, upstream, watch, tx));
        return response;
    }
    let json = status.is_success() && is(&upstream, "application/json");
    // A whole body is read by the exchange's deadline; an exchange without one (a GET or
    // DELETE, whose stream may stay open for a session's life) still gets one for a body that
    // is not a stream.
    let (deadline, timeout) = watch
        .deadline
        .unwrap_or_else(|| (Instant::now() + p.upstream_timeout, p.upstream_timeout));
    let read = forward::read_body(upstream, deadline, timeout).await;
    match read {
        Ok(bytes) => {
            if json {
                observe(&p, &mut watch, &bytes).await;
            }
            *response.body_mut() = body::full(bytes);
            response
        }
        Err(e) => {
            tracing::warn!(error = ?e, "upstream answer cut short");
            e.response(&watch.id)
        }
    }
}

/// Relay an event stream event by event, reading each before the client gets it.
async fn relay_events(
    p: Arc<Inner>,
    upstream: reqwest::Response,
    mut watch: Watch,
    tx: mpsc::Sender<Bytes>,
) {
    let mut stream = upstream.bytes_stream();
    let mut splitter = Splitter::default();
    let mut client_here = true;
    loop {
        let next = match watch.deadline {
            Some((deadline, timeout)) => match tokio::time::timeout_at(deadline, stream.next())
                .await
            {
                Ok(next) => next,
                Err(_) => {
                    if watch.awaited.is_some() && client_here {
                        let (_, message) = UpstreamError::TimedOut(timeout).status_and_message();
                        let error = body::rpc_error_text(&watch.id, -32603, &message);
                        let _ = tx.send(body::sse_event(error.as_bytes())).await;
                    }
                    tracing::warn!(id = %watch.id, "upstream stream past the request deadline");
                    return;
                }
            },
            None => stream.next().await,
        };
        let chunk = match next {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "upstream stream failed");
                break;
            }
            None => break,
        };
        for piece in splitter.push(&chunk) {
            let raw = match piece {
                Piece::Event { raw, data } => {
                    observe(&p, &mut watch, &data).await;
                    raw
                }
                Piece::Unread(raw) => raw,
            };
            if client_here && tx.send(raw).await.is_err() {
                client_here = false;
                tracing::debug!(id = %watch.id, "client left mid-stream");
            }
        }
        // The client is gone: keep reading only while an answer may still be stored.
        let storing = watch.drain && watch.awaited.is_some();
        if !client_here && !storing {
            return;
        }
    }
    if let Some(Piece::Event { raw, data }) = splitter.finish() {
        observe(&p, &mut watch, &data).await;
        if client_here {
            let _ = tx.send(raw).await;
        }
    }
}

/// Read one message from the upstream (a JSON body, or one event's data).
pub(super) async fn observe(p: &Inner, watch: &mut Watch, data: &[u8]) {
    let Some(msg) = Message::parse(data) else {
        return;
    };
    match (msg.method.as_deref(), msg.id_key()) {
        (Some(method), None) => {
            tracing::debug!(method, "notification from the server");
            if decide::server_notification(&p.cache, method, msg.params).await {
                p.tools_listed.store(false, Ordering::Release);
            }
        }
        (Some(method), Some(_)) => {
            tracing::debug!(method, "request from the server");
            decide::server_request(&p.cache);
        }
        (None, Some(id)) => {
            if watch.awaited.as_ref().is_some_and(|(key, _)| *key == id)
                && let Some((_, awaiting)) = watch.awaited.take()
            {
                let outcome = decide::settle(&p.cache, awaiting, &msg).await;
                tracing::debug!(%id, ?outcome, "answer settled");
                // Stored (or not): the next identical request may look up now.
                watch.turn = None;
            }
        }
        (None, None) => {}
    }
}
