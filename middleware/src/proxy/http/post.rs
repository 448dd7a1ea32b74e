//! A POST from the client: one JSON-RPC message (or a batch, relayed untouched), answered from
//! the cache when the rules allow, else sent upstream.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use tokio::time::Instant;

use super::Inner;
use super::answer::{self, Watch};
use super::body::{self, Body};
use super::forward;
use super::{stdio, tools};
use crate::proxy::decide::{self, Decision};
use crate::proxy::message::Message;

/// JSON-RPC: the request is not valid.
const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: the body is not JSON.
const PARSE_ERROR: i64 = -32700;

/// Answer one POST.
pub(super) async fn handle(p: Arc<Inner>, request: Request<Incoming>) -> Response<Body> {
    let started = std::time::Instant::now();
    let deadline = Instant::now() + p.upstream_timeout;
    let (parts, incoming) = request.into_parts();
    if let super::Target::Stdio(children) = &p.target
        && let Some(refused) = children.check_session(&parts.headers)
    {
        return refused;
    }
    let bytes = match Limited::new(incoming, p.max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            tracing::warn!(
                limit = p.max_body_bytes,
                "refused a request body over the limit"
            );
            let message = format!(
                "request body larger than the proxy's limit of {} bytes",
                p.max_body_bytes
            );
            return body::rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "null",
                INVALID_REQUEST,
                &message,
            );
        }
        Err(e) => {
            tracing::debug!(error = %e, "could not read a request body");
            return body::rpc_error(
                StatusCode::BAD_REQUEST,
                "null",
                INVALID_REQUEST,
                "could not read the request body",
            );
        }
    };
    let headers = forward::upstream_headers(&parts.headers);
    // What the cache has no part in goes upstream as it came, answered as the upstream answers.
    let relay_untouched = |id: &str| {
        let watch = Watch::relay_only(id, None);
        exchange(
            Arc::clone(&p),
            &parts.headers,
            headers.clone(),
            bytes.clone(),
            watch,
            deadline,
        )
    };
    let Some(msg) = Message::parse(&bytes) else {
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
            return body::rpc_error(
                StatusCode::BAD_REQUEST,
                "null",
                PARSE_ERROR,
                "Parse error: the request body is not JSON",
            );
        }
        // A batch (or another JSON value): the upstream answers it, untouched.
        return relay_untouched("null").await;
    };
    let id_text = msg.id.map_or("null", |r| r.get()).to_owned();
    let Some(method) = msg.method.as_deref() else {
        // The client's answer to a request of the server's.
        return relay_untouched(&id_text).await;
    };
    let Some(id) = msg.id_key() else {
        decide::client_notification(&p.cache, method).await;
        return relay_untouched("null").await;
    };
    let caller = (p.resolver.0)(&parts.headers);
    let request = decide::cache_request(&msg);
    if let Some(r) = &request
        && decide::wants_annotations(&p.cache, r, p.tools_listed.load(Ordering::Acquire))
    {
        tools::learn(&p, &headers, decide::request_meta(msg.params), deadline).await;
    }
    // One upstream call per key at a time: identical requests wait, then find the answer.
    let turn = match (&request, caller.partition()) {
        (Some(r), Some(partition)) if p.cache.applies_to(r) => {
            let key = format!(
                "{}\n{}\n{partition}\n{}",
                r.method().as_str(),
                r.protocol_version().unwrap_or_default(),
                r.key().as_str()
            );
            Some(p.flights.turn(key).await)
        }
        _ => None,
    };
    let decision = decide::consult(&p.cache, &caller, request.as_ref(), &id_text).await;
    let method = method.to_owned();
    match decision {
        Decision::Answer(answer) => {
            drop(turn);
            tracing::debug!(%method, cache = "hit", elapsed_us = started.elapsed().as_micros() as u64);
            body::hit(parts.headers.get(header::ACCEPT), answer)
        }
        Decision::Forward(awaiting) => {
            let outcome = if awaiting.ticket.is_some() {
                "miss"
            } else {
                "bypass"
            };
            let watch = Watch {
                awaited: Some((id, awaiting)),
                id: id_text,
                turn,
                deadline: Some((deadline, p.upstream_timeout)),
                drain: true,
                ..Watch::default()
            };
            let response =
                exchange(p, &parts.headers, headers, bytes.clone(), watch, deadline).await;
            tracing::debug!(
                %method,
                cache = outcome,
                status = response.status().as_u16(),
                elapsed_us = started.elapsed().as_micros() as u64
            );
            response
        }
    }
}

/// Send the POST upstream and relay its answer.
async fn exchange(
    p: Arc<Inner>,
    client: &HeaderMap,
    headers: HeaderMap,
    bytes: Bytes,
    mut watch: Watch,
    deadline: Instant,
) -> Response<Body> {
    if watch.deadline.is_none() {
        watch.deadline = Some((deadline, p.upstream_timeout));
    }
    if let super::Target::Stdio(children) = &p.target {
        return stdio::exchange(&p, children, client, &bytes, watch, deadline).await;
    }
    match forward::send(&p, Method::POST, headers, Some(bytes), deadline, true).await {
        Ok(sent) => answer::relay(p, sent, watch).await,
        Err(e) => {
            tracing::warn!(error = ?e, "upstream request failed");
            e.response(&watch.id)
        }
    }
}
