//! Serving connections: the accept loop with graceful shutdown, and the routing of the MCP
//! listener's requests.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::answer::{self, Watch};
use super::body::{self, Body};
use super::{Inner, Target, forward, health, post, stdio};

/// Accept HTTP/1.1 connections on `listener`, answering with `handle`, until `shutdown`.
pub(super) async fn serve_with<F, Fut>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    handle: F,
) -> io::Result<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors, say: wait a little rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // An answer relayed in pieces (headers, then events) must not wait for the
                // client's delayed acknowledgement of the previous piece.
                let _ = stream.set_nodelay(true);
                let handle = handle.clone();
                let service = hyper::service::service_fn(move |req| {
                    let answer = handle(req);
                    async move { Ok::<_, Infallible>(answer.await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("stopped accepting; finishing the requests in flight");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(?grace, "requests still in flight after the shutdown grace; closing");
        }
    }
    Ok(())
}

/// Route one request of the MCP listener.
pub(super) async fn route(p: Arc<Inner>, request: Request<Incoming>) -> Response<Body> {
    match *request.method() {
        Method::GET if request.uri().path() == "/healthz" => health::check(&p).await,
        // In a task of its own: a client leaving before the answer does not cancel it, so the
        // upstream's answer is still read and stored.
        Method::POST => match tokio::spawn(post::handle(p, request)).await {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = %e, "a request's task failed");
                body::rpc_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "null",
                    -32603,
                    "the proxy failed on this request",
                )
            }
        },
        Method::GET | Method::DELETE => relay(p, request).await,
        _ => {
            let mut response = body::json(StatusCode::METHOD_NOT_ALLOWED, "{}");
            response.headers_mut().insert(
                header::ALLOW,
                http::HeaderValue::from_static("GET, POST, DELETE"),
            );
            response
        }
    }
}

/// Relay a GET (the server's stream) or a DELETE (end of session), reading the stream's
/// notifications on the way.
async fn relay(p: Arc<Inner>, request: Request<Incoming>) -> Response<Body> {
    if let Target::Stdio(children) = &p.target {
        return stdio::session_request(children, request.method(), request.headers());
    }
    let headers = forward::upstream_headers(request.headers());
    let method = request.method().clone();
    let deadline = tokio::time::Instant::now() + p.upstream_timeout;
    match forward::send(&p, method, headers, None, deadline, false).await {
        Ok(sent) => answer::relay(p, sent, Watch::relay_only("null", None)).await,
        Err(e) => {
            tracing::warn!(error = ?e, "upstream request failed");
            let (status, message) = e.status_and_message();
            body::json(status, serde_json::json!({ "error": message }).to_string())
        }
    }
}
