//! Response bodies: whole, empty, or streamed from a task; and the small responses the proxy
//! writes itself (JSON-RPC errors, hits).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Frame};
use tokio::sync::mpsc;

/// The body of every response the proxy sends.
pub(super) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// A whole body.
pub(super) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A body fed by a task through a channel; the sender fails once the client is gone.
pub(super) fn channel() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel(16);
    (tx, ChannelBody(rx).boxed_unsync())
}

struct ChannelBody(mpsc::Receiver<Bytes>);

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// A JSON response with `status`.
pub(super) fn json(status: StatusCode, bytes: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A JSON-RPC error response to request `id` (its JSON text; `null` when unknown), sent with
/// HTTP `status`.
pub(super) fn rpc_error(status: StatusCode, id: &str, code: i64, message: &str) -> Response<Body> {
    json(status, rpc_error_text(id, code, message))
}

/// The text of a JSON-RPC error message.
pub(super) fn rpc_error_text(id: &str, code: i64, message: &str) -> String {
    let message = serde_json::Value::String(message.to_owned());
    format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":{code},"message":{message}}}}}"#)
}

/// One SSE event carrying `message` (one line of JSON).
pub(super) fn sse_event(message: &[u8]) -> Bytes {
    let mut event = Vec::with_capacity(message.len() + 24);
    event.extend_from_slice(b"event: message\ndata: ");
    event.extend_from_slice(message);
    event.extend_from_slice(b"\n\n");
    Bytes::from(event)
}

/// Whether a client sending `accept` takes a JSON body (else it asked for SSE only).
pub(super) fn accepts_json(accept: Option<&HeaderValue>) -> bool {
    let Some(accept) = accept.and_then(|a| a.to_str().ok()) else {
        return true;
    };
    let types = accept.split(',').map(|t| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let mut sse = false;
    for t in types {
        match t.as_str() {
            "application/json" | "application/*" | "*/*" => return true,
            "text/event-stream" => sse = true,
            _ => {}
        }
    }
    !sse
}

/// A cached answer, in the form the client accepts: JSON when it takes JSON, else one SSE
/// event.
pub(super) fn hit(accept: Option<&HeaderValue>, answer: Vec<u8>) -> Response<Body> {
    if accepts_json(accept) {
        return json(StatusCode::OK, answer);
    }
    let mut response = Response::new(full(sse_event(&answer)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_preferred_when_accepted() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert!(accepts_json(None));
        assert!(accepts_json(Some(&v(
            "application/json, text/event-stream"
        ))));
        assert!(accepts_json(Some(&v("text/event-stream, */*;q=0.1"))));
        assert!(!accepts_json(Some(&v("text/event-stream"))));
        assert!(accepts_json(Some(&v("text/html"))));
    }

    #[test]
    fn errors_are_json_rpc() {
        let text = rpc_error_text("7", -32000, "say \"hi\"");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(v["error"]["message"], "say \"hi\"");
    }
}
