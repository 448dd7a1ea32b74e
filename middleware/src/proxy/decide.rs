//! What the cache decides about each message, whatever carries it.
//!
//! The stdio relay and the Streamable HTTP proxy both call these functions, so one set of
//! rules (what is answered from the cache, what is stored, what a notification invalidates)
//! applies to both transports. The transport keeps only what is its own: how a message is
//! framed, and how a request is matched with its answer.

use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::lines::one_line;
use super::message::Message;
use crate::cache::{Lookup, Outcome, ResponseCache, Ticket};
use crate::caller::Caller;
use crate::method::Method;
use crate::request::{CacheRequest, SkipReason};

/// A request sent on to the server, and what its answer is for.
#[derive(Debug, Default)]
pub(crate) struct Awaiting {
    /// Where the answer goes; `None` when it is not stored (a bypass, a repeated id).
    pub(crate) ticket: Option<Ticket>,
    /// Whether the answer is a `tools/list` page whose annotations the cache learns.
    pub(crate) tools_list: bool,
}

/// What to do with a request from the client.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Answered from the cache: the whole JSON-RPC response, on one line.
    Answer(Vec<u8>),
    /// Send it to the server; its answer goes to [`settle`] with this.
    Forward(Awaiting),
}

/// The cacheable request a message carries, if any (`None` also for a notification).
pub(crate) fn cache_request<'a>(msg: &Message<'a>) -> Option<CacheRequest<'a>> {
    msg.id_key()?;
    CacheRequest::from_params_text(msg.method.as_deref()?, msg.params)
}

/// Whether the cache must learn the server's tool annotations before deciding on `request`
/// (a `tools/call` of a tool not seen in a `tools/list` yet, under a policy that depends on
/// annotations). `listed`: every page of the tool list was read since the last change.
pub(crate) fn wants_annotations(
    cache: &ResponseCache,
    request: &CacheRequest<'_>,
    listed: bool,
) -> bool {
    !listed
        && request.method() == Method::ToolsCall
        && cache.tool_safety(request.name()).is_none()
        && cache
            .policy()
            .tool_filter()
            .depends_on_annotations(request.name())
}

/// Decide on a request from the client with JSON-RPC id `id` (its JSON text): an answer from
/// the cache, or forward it. `request` is `None` for a method the cache does not handle.
pub(crate) async fn consult(
    cache: &ResponseCache,
    caller: &Caller,
    request: Option<&CacheRequest<'_>>,
    id: &str,
) -> Decision {
    let Some(request) = request else {
        return Decision::Forward(Awaiting::default());
    };
    let tools_list = request.method() == Method::ToolsList;
    match cache.lookup(request, caller).await {
        Lookup::Hit(value) => {
            if tools_list {
                cache.learn_tools(&Json::Object(value.to_map()));
            }
            Decision::Answer(hit_response(id, value.as_bytes()))
        }
        Lookup::Miss(ticket) => Decision::Forward(Awaiting {
            ticket: Some(ticket),
            tools_list,
        }),
        Lookup::Bypass => Decision::Forward(Awaiting {
            ticket: None,
            tools_list,
        }),
    }
}

/// The JSON-RPC response carrying a cached `result` to the request with id `id`, on one line.
pub(crate) fn hit_response(id: &str, result: &[u8]) -> Vec<u8> {
    let result = one_line(result);
    let mut answer = Vec::with_capacity(result.len() + id.len() + 40);
    answer.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    answer.extend_from_slice(id.as_bytes());
    answer.extend_from_slice(br#","result":"#);
    answer.extend_from_slice(&result);
    answer.extend_from_slice(b"}");
    answer
}

/// React to a notification from the client (`roots/list_changed` clears the namespace).
pub(crate) async fn client_notification(cache: &ResponseCache, method: &str) {
    if method == "notifications/roots/list_changed" {
        let _ = cache.observe_notification(method, None).await;
    }
}

/// React to a notification from the server, before the client sees it (so a client reacting
/// to it fetches fresh data). Returns whether it was a `tools/list_changed`.
pub(crate) async fn server_notification(
    cache: &ResponseCache,
    method: &str,
    params: Option<&RawValue>,
) -> bool {
    let params: Option<Json> = params.and_then(|p| serde_json::from_str(p.get()).ok());
    let _ = cache.observe_notification(method, params.as_ref()).await;
    method == "notifications/tools/list_changed"
}

/// React to a request from the server (sampling, elicitation, roots): the answers of the
/// requests in flight may depend on the client's reply, so none of them is stored.
pub(crate) fn server_request(cache: &ResponseCache) {
    cache.note_nested_request();
}

/// Hand the server's answer `msg` to the request it answers: stored when the rules allow,
/// learned from when it is a `tools/list` page. Returns what became of it (`None`: it was not
/// to be stored).
pub(crate) async fn settle(
    cache: &ResponseCache,
    awaiting: Awaiting,
    msg: &Message<'_>,
) -> Option<Outcome> {
    if !awaiting.tools_list && awaiting.ticket.is_none() {
        // Neither stored nor learned from: the answer is only relayed, never parsed.
        return None;
    }
    let json = msg
        .result
        .and_then(|r| serde_json::from_str::<Json>(r.get()).ok());
    if awaiting.tools_list
        && let Some(json) = &json
    {
        cache.learn_tools(json);
    }
    let ticket = awaiting.ticket?;
    if msg.error.is_some() {
        return Some(cache.skip(ticket, SkipReason::Error));
    }
    Some(match (msg.result, json) {
        (Some(raw), _) if raw.get().len() > cache.policy().entry_limit() => {
            cache.skip(ticket, SkipReason::Oversized)
        }
        (Some(raw), Some(json)) => cache.complete_text(ticket, raw, &json).await,
        _ => cache.skip(ticket, SkipReason::Malformed),
    })
}

/// The `_meta` of a request's params, without its progress token: what a request of the
/// proxy's own carries (the protocol version and client information a stateless 2026-07-28
/// server needs on every request).
pub(crate) fn request_meta(params: Option<&RawValue>) -> Option<serde_json::Map<String, Json>> {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "_meta")]
        meta: Option<serde_json::Map<String, Json>>,
    }
    let mut meta = serde_json::from_str::<Params>(params?.get()).ok()?.meta?;
    meta.remove("progressToken");
    Some(meta)
}

/// The `params` of the proxy's own `tools/list` request for the page after `cursor`.
pub(crate) fn tools_list_params(
    cursor: Option<&str>,
    meta: Option<&serde_json::Map<String, Json>>,
) -> Json {
    let mut params = serde_json::Map::new();
    if let Some(c) = cursor {
        params.insert("cursor".into(), Json::String(c.to_owned()));
    }
    if let Some(meta) = meta {
        params.insert("_meta".into(), Json::Object(meta.clone()));
    }
    Json::Object(params)
}
