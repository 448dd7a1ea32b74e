//! [`CacheRequest`]: a request reduced to what the cache needs, and the rules about answers.

use std::borrow::Cow;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::key::Args;
use crate::method::Method;

/// A cacheable request, reduced to what identifies it.
///
/// Build it from typed parameters (the rmcp wrapper does) or from the JSON-RPC `params` object
/// ([`CacheRequest::from_params`]), or from its JSON text ([`CacheRequest::from_params_text`],
/// as the proxy does, so that numbers keep their exact text).
#[derive(Debug, Clone)]
pub struct CacheRequest<'a> {
    pub(crate) method: Method,
    pub(crate) name: Cow<'a, str>,
    pub(crate) arguments: Args<'a>,
    pub(crate) stateful: bool,
    pub(crate) era: Option<Cow<'a, str>>,
}

impl<'a> CacheRequest<'a> {
    /// A request for `method` with `name` (tool or prompt name, resource URI, or page cursor of
    /// a list method; `""` for the first page) and `arguments`.
    pub fn new(method: Method, name: &'a str, arguments: Option<&'a Json>) -> Self {
        CacheRequest {
            method,
            name: Cow::Borrowed(name),
            arguments: Args::from(arguments),
            stateful: false,
            era: None,
        }
    }

    /// Like [`CacheRequest::new`], with the arguments as a JSON object's map (as rmcp's
    /// parameter types hold them).
    pub fn with_map(
        method: Method,
        name: &'a str,
        arguments: Option<&'a serde_json::Map<String, Json>>,
    ) -> Self {
        CacheRequest {
            method,
            name: Cow::Borrowed(name),
            arguments: arguments.map_or(Args::None, Args::Map),
            stateful: false,
            era: None,
        }
    }

    /// Mark the request as carrying multi-round-trip state (`requestState`, `inputResponses`)
    /// or a task augmentation: such requests are never answered from the cache.
    #[must_use]
    pub fn stateful(mut self, stateful: bool) -> Self {
        self.stateful = stateful;
        self
    }

    /// Mark the request as one of protocol `version` 2026-07-28 or later (its
    /// `_meta["io.modelcontextprotocol/protocolVersion"]`): answers differ in shape from one
    /// protocol era to the next (`resultType` is required from 2026-07-28), so such a request
    /// is answered only from answers to requests of the same version. Requests of the
    /// handshake era (no version in `_meta`) share one set of answers, as before.
    #[must_use]
    pub fn era(mut self, version: Option<&'a str>) -> Self {
        self.era = version.map(Cow::Borrowed);
        self
    }

    /// The protocol version the request carried in its `_meta`, if any.
    pub fn protocol_version(&self) -> Option<&str> {
        self.era.as_deref()
    }

    /// The request for JSON-RPC `method` with `params`, or `None` when the method is not
    /// cacheable or the parameters lack the name or URI the method needs.
    ///
    /// `_meta` is ignored; `requestState`, `inputResponses` and `task` mark it stateful.
    pub fn from_params(method: &str, params: Option<&'a Json>) -> Option<Self> {
        let method = Method::from_name(method)?;
        let obj = match params {
            Some(Json::Object(map)) => Some(map),
            None | Some(Json::Null) => None,
            Some(_) => return None,
        };
        let field = |name: &str| obj.and_then(|o| o.get(name));
        let (name, arguments) = match method {
            Method::ToolsCall | Method::PromptsGet => {
                (field("name")?.as_str()?, field("arguments"))
            }
            Method::ResourcesRead => (field("uri")?.as_str()?, None),
            _ => match field("cursor") {
                None | Some(Json::Null) => ("", None),
                Some(Json::String(c)) => (c.as_str(), None),
                Some(_) => return None,
            },
        };
        let arguments = Args::from(arguments);
        let stateful = ["requestState", "inputResponses", "task"]
            .iter()
            .any(|k| field(k).is_some_and(|v| !v.is_null()));
        let era = field("_meta")
            .and_then(|m| m.get(PROTOCOL_VERSION_META))
            .and_then(Json::as_str)
            .map(Cow::Borrowed);
        Some(CacheRequest {
            method,
            name: Cow::Borrowed(name),
            arguments,
            stateful,
            era,
        })
    }

    /// Like [`CacheRequest::from_params`], from the JSON text of `params` (`None`: no params).
    /// The arguments are digested from their text, so numbers beyond 64 bits or beyond `f64`
    /// precision never share a key with a different number. `None` also for params that are
    /// not a JSON object, or that repeat a member the cache reads.
    pub fn from_params_text(method: &str, params: Option<&'a RawValue>) -> Option<Self> {
        let method = Method::from_name(method)?;
        let p: RawParams<'a> = match params {
            Some(raw) if raw.get().trim() != "null" => serde_json::from_str(raw.get()).ok()?,
            _ => RawParams::default(),
        };
        let (name, arguments) = match method {
            Method::ToolsCall | Method::PromptsGet => (p.name?, p.arguments),
            Method::ResourcesRead => (p.uri?, None),
            _ => (p.cursor.unwrap_or(Cow::Borrowed("")), None),
        };
        Some(CacheRequest {
            method,
            name,
            arguments: arguments.map_or(Args::None, Args::Raw),
            stateful: p.request_state.is_some() || p.input_responses.is_some() || p.task.is_some(),
            era: p.meta.and_then(|m| m.version),
        })
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The name, URI or cursor.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The digest this request is stored under, whoever asks.
    pub fn key(&self) -> crate::RequestKey {
        crate::RequestKey::from_args(self.method, &self.name, self.arguments)
    }
}

/// The members of a request's `params` the cache reads, borrowed from its text. A `null`
/// member is absent.
#[derive(Debug, Default, Deserialize)]
struct RawParams<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cursor: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "requestState")]
    request_state: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "inputResponses")]
    input_responses: Option<&'a RawValue>,
    #[serde(borrow, default)]
    task: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<RawMeta<'a>>,
}

/// The `_meta` member the cache reads: the protocol version of 2026-07-28 requests.
#[derive(Debug, Default, Deserialize)]
struct RawMeta<'a> {
    #[serde(borrow, default, rename = "io.modelcontextprotocol/protocolVersion")]
    version: Option<Cow<'a, str>>,
}

/// The `_meta` key carrying the protocol version of a request, from 2026-07-28 on.
const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";

/// Why an answer was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A JSON-RPC error, or a tool result with `isError: true`.
    Error,
    /// A task handle (`resultType: "task"`, or a `task` member).
    Task,
    /// An input-required answer (`resultType: "input_required"`, `inputRequests`,
    /// `requestState`), or any other result type than `"complete"`.
    InputRequired,
    /// The server said `ttlMs: 0`: immediately stale.
    ZeroTtlHint,
    /// Larger than the policy's entry limit.
    Oversized,
    /// Not a JSON object.
    Malformed,
    /// The cache was invalidated while the request was in flight.
    Invalidated,
    /// While the request was in flight the server asked the client something (elicitation,
    /// sampling, roots): the answer may depend on the client's reply.
    DependedOnClient,
    /// Two requests in flight carried the same id: which answer is which cannot be told.
    AmbiguousId,
}

/// How an answer may be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keep {
    pub(crate) ttl: Option<Duration>,
    pub(crate) public: bool,
}

/// Decide whether `result` may be kept, and how, given the method's TTL.
pub(crate) fn judge(
    result: &Json,
    ttl: Option<Duration>,
    honour_hints: bool,
) -> Result<Keep, SkipReason> {
    let Json::Object(obj) = result else {
        return Err(SkipReason::Malformed);
    };
    if obj.get("isError").and_then(Json::as_bool) == Some(true) {
        return Err(SkipReason::Error);
    }
    match obj.get("resultType") {
        None | Some(Json::Null) => {}
        Some(Json::String(t)) if t == "complete" => {}
        Some(Json::String(t)) if t == "task" => return Err(SkipReason::Task),
        Some(_) => return Err(SkipReason::InputRequired),
    }
    if obj.contains_key("task") {
        return Err(SkipReason::Task);
    }
    if obj.contains_key("inputRequests") || obj.contains_key("requestState") {
        return Err(SkipReason::InputRequired);
    }
    let mut keep = Keep { ttl, public: false };
    if honour_hints {
        if let Some(ms) = obj.get("ttlMs").and_then(hint_ms) {
            if ms == 0 {
                return Err(SkipReason::ZeroTtlHint);
            }
            let hinted = Duration::from_millis(ms);
            keep.ttl = Some(ttl.map_or(hinted, |t| t.min(hinted)));
        }
        keep.public = obj.get("cacheScope").and_then(Json::as_str) == Some("public");
    }
    Ok(keep)
}

/// A `ttlMs` value; negative values count as 0, as the protocol asks of clients.
fn hint_ms(v: &Json) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_i64().map(|n| n.max(0) as u64))
        .or_else(|| v.as_f64().map(|f| f.max(0.0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HOUR: Option<Duration> = Some(Duration::from_secs(3600));

    #[test]
    fn request_from_params() {
        let p = json!({"name": "t", "arguments": {"a": 1}, "_meta": {"progressToken": 7}});
        let r = CacheRequest::from_params("tools/call", Some(&p)).unwrap();
        assert_eq!(
            (r.method(), r.name(), r.stateful),
            (Method::ToolsCall, "t", false)
        );
        assert!(matches!(r.arguments, Args::Json(a) if a == &json!({"a": 1})));

        let p = json!({"uri": "file:///x"});
        let r = CacheRequest::from_params("resources/read", Some(&p)).unwrap();
        assert_eq!(r.name(), "file:///x");

        let r = CacheRequest::from_params("tools/list", None).unwrap();
        assert_eq!(r.name(), "");
        let p = json!({"cursor": "page2"});
        assert_eq!(
            CacheRequest::from_params("tools/list", Some(&p))
                .unwrap()
                .name(),
            "page2"
        );

        for (m, p) in [
            ("tools/call", json!({"arguments": {}})),
            ("tools/call", json!({"name": 3})),
            ("resources/read", json!({})),
            ("tools/list", json!({"cursor": 1})),
            ("tools/call", json!([1])),
        ] {
            assert!(CacheRequest::from_params(m, Some(&p)).is_none(), "{m} {p}");
        }
        assert!(CacheRequest::from_params("initialize", None).is_none());
    }

    #[test]
    fn request_from_params_text_agrees_with_parsed_params() {
        let raw = |t: &str| RawValue::from_string(t.to_owned()).unwrap();
        let cases = [
            (
                "tools/call",
                r#"{"name":"t","arguments":{"a":1},"_meta":{"progressToken":7}}"#,
            ),
            ("tools/call", r#"{"name":"t\u00e9"}"#),
            ("resources/read", r#"{"uri":"file:///x"}"#),
            ("tools/list", r#"{"cursor":"page2"}"#),
            ("tools/list", r#"{"cursor":null}"#),
            ("tools/list", "null"),
            (
                "prompts/get",
                r#"{"name":"p","arguments":{"x":"y"},"requestState":"s"}"#,
            ),
            ("tools/call", r#"{"name":"t","task":{"ttl":1}}"#),
            ("tools/call", r#"{"name":"t","inputResponses":{}}"#),
        ];
        for (m, text) in cases {
            let r = raw(text);
            let from_text = CacheRequest::from_params_text(m, Some(&r)).unwrap();
            let json: Json = serde_json::from_str(text).unwrap();
            let from_json = CacheRequest::from_params(m, Some(&json)).unwrap();
            assert_eq!(from_text.name(), from_json.name(), "{text}");
            assert_eq!(from_text.stateful, from_json.stateful, "{text}");
            assert_eq!(
                crate::key::RequestKey::from_args(
                    from_text.method,
                    from_text.name(),
                    from_text.arguments
                ),
                crate::key::RequestKey::from_args(
                    from_json.method,
                    from_json.name(),
                    from_json.arguments
                ),
                "{text}"
            );
        }
        for (m, text) in [
            ("tools/call", r#"{"arguments":{}}"#),
            ("tools/call", r#"{"name":3}"#),
            ("tools/call", r#"{"name":"a","name":"b"}"#),
            ("resources/read", "{}"),
            ("tools/list", r#"{"cursor":1}"#),
            ("tools/call", "[1]"),
        ] {
            let r = raw(text);
            assert!(
                CacheRequest::from_params_text(m, Some(&r)).is_none(),
                "{m} {text}"
            );
        }
        assert!(CacheRequest::from_params_text("initialize", None).is_none());
        assert_eq!(
            CacheRequest::from_params_text("tools/list", None)
                .unwrap()
                .name(),
            ""
        );
    }

    #[test]
    fn multi_round_trip_state_is_stateful() {
        for extra in [
            json!({"requestState": "opaque"}),
            json!({"inputResponses": {"a": {}}}),
            json!({"task": {"ttl": 1000}}),
        ] {
            let mut p = json!({"name": "t"});
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let r = CacheRequest::from_params("tools/call", Some(&p)).unwrap();
            assert!(r.stateful, "{p}");
        }
    }

    #[test]
    fn never_cached_results() {
        let cases = [
            (json!({"content": [], "isError": true}), SkipReason::Error),
            (
                json!({"resultType": "input_required", "inputRequests": {}}),
                SkipReason::InputRequired,
            ),
            (
                json!({"resultType": "task", "task": {"taskId": "1"}}),
                SkipReason::Task,
            ),
            (
                json!({"task": {"taskId": "1", "status": "working"}}),
                SkipReason::Task,
            ),
            (json!({"requestState": "s"}), SkipReason::InputRequired),
            (
                json!({"resultType": "something_new"}),
                SkipReason::InputRequired,
            ),
            (json!({"tools": [], "ttlMs": 0}), SkipReason::ZeroTtlHint),
            (json!({"tools": [], "ttlMs": -5}), SkipReason::ZeroTtlHint),
            (json!([1]), SkipReason::Malformed),
        ];
        for (result, reason) in cases {
            assert_eq!(judge(&result, HOUR, true), Err(reason), "{result}");
        }
    }

    #[test]
    fn hints_shorten_the_ttl_and_choose_the_scope() {
        let keep = judge(
            &json!({"tools": [], "ttlMs": 5000, "cacheScope": "public"}),
            HOUR,
            true,
        )
        .unwrap();
        assert_eq!(keep.ttl, Some(Duration::from_secs(5)));
        assert!(keep.public);
        // A hint longer than the policy does not lengthen it.
        let keep = judge(
            &json!({"ttlMs": 10_000_000, "cacheScope": "private"}),
            HOUR,
            true,
        )
        .unwrap();
        assert_eq!(keep.ttl, HOUR);
        assert!(!keep.public);
        // With no policy TTL, the hint sets it.
        let keep = judge(&json!({"ttlMs": 1500}), None, true).unwrap();
        assert_eq!(keep.ttl, Some(Duration::from_millis(1500)));
        // Ignored when hints are off.
        let keep = judge(&json!({"ttlMs": 0, "cacheScope": "public"}), HOUR, false).unwrap();
        assert_eq!(
            keep,
            Keep {
                ttl: HOUR,
                public: false
            }
        );
        // Complete results with no hints keep the policy.
        let keep = judge(
            &json!({"content": [], "resultType": "complete"}),
            HOUR,
            true,
        )
        .unwrap();
        assert_eq!(
            keep,
            Keep {
                ttl: HOUR,
                public: false
            }
        );
    }
}
