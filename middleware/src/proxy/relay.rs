//! The two relay loops: client to server (answering hits), server to client (storing misses,
//! observing notifications and server requests).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::Proxy;
use super::decide::{self, Decision};
use super::lines::{self, Read};
use super::message::{Message, id_key};
use super::own::learn_tools_from_server;
use super::pending::Pending;

/// After the client's input ends, how long the server has to send its last answers.
pub(super) const DRAIN_GRACE: Duration = Duration::from_secs(3);

/// The client's output, shared by both loops (hits are written by the client loop).
type ClientOut<W> = Arc<tokio::sync::Mutex<W>>;

async fn write_line<W: AsyncWrite + Unpin>(out: &ClientOut<W>, line: &[u8]) -> io::Result<()> {
    let mut w = out.lock().await;
    w.write_all(line).await?;
    w.write_all(b"\n").await?;
    w.flush().await
}

pub(super) async fn relay<CI, CO, SI, SO>(
    proxy: &Proxy,
    client_in: CI,
    client_out: CO,
    server_in: SI,
    server_out: SO,
) -> io::Result<()>
where
    CI: AsyncRead + Unpin + Send,
    CO: AsyncWrite + Unpin + Send,
    SI: AsyncWrite + Unpin + Send,
    SO: AsyncRead + Unpin + Send,
{
    let pending: Pending = Arc::default();
    let out: ClientOut<CO> = Arc::new(tokio::sync::Mutex::new(client_out));
    let upstream = client_to_server(proxy, client_in, server_in, &out, &pending);
    let downstream = server_to_client(proxy, server_out, &out, &pending);
    tokio::pin!(upstream, downstream);
    tokio::select! {
        // The server stopped talking: nothing more to relay.
        done = &mut downstream => done,
        up = &mut upstream => {
            // The client is gone (its input ended and the server's input is closed): give the
            // server a moment to finish its answers, then stop, whether or not its output ends
            // (a grandchild may hold it open).
            match tokio::time::timeout(DRAIN_GRACE, downstream).await {
                Ok(down) => up.and(down),
                Err(_) => up,
            }
        }
    }
}

async fn client_to_server<CI, SI, CO>(
    proxy: &Proxy,
    client_in: CI,
    mut server_in: SI,
    out: &ClientOut<CO>,
    pending: &Pending,
) -> io::Result<()>
where
    CI: AsyncRead + Unpin,
    SI: AsyncWrite + Unpin,
    CO: AsyncWrite + Unpin,
{
    let limit = proxy.max_line_bytes;
    let mut reader = BufReader::with_capacity(64 * 1024, client_in);
    let mut line = Vec::with_capacity(4096);
    loop {
        match lines::read_line(&mut reader, &mut line, limit).await? {
            Read::Eof => break,
            Read::TooLong => {
                lines::skip_rest(&mut reader).await?;
                eprintln!(
                    "stowage-mcp-proxy: refused a client message longer than {limit} bytes \
                     (--max-line-bytes)"
                );
                let refusal = format!(
                    r#"{{"jsonrpc":"2.0","id":null,"error":{{"code":-32600,"message":"message longer than the proxy's limit of {limit} bytes"}}}}"#
                );
                write_line(out, refusal.as_bytes()).await?;
                continue;
            }
            Read::Line => {}
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(answer) = answer_from_cache(proxy, &line, pending, &mut server_in).await {
            write_line(out, &answer).await?;
            continue;
        }
        server_in.write_all(&line).await?;
        server_in.write_all(b"\n").await?;
        server_in.flush().await?;
    }
    server_in.shutdown().await
}

/// For a request the cache can answer, the response line; otherwise `None`, after noting the
/// request (so its answer gets stored when it may be) or reacting to a notification.
async fn answer_from_cache<SI: AsyncWrite + Unpin>(
    proxy: &Proxy,
    line: &[u8],
    pending: &Pending,
    server_in: &mut SI,
) -> Option<Vec<u8>> {
    let msg = Message::parse(line)?;
    let method = msg.method.as_deref()?;
    let Some(id) = msg.id_key() else {
        if method == "notifications/cancelled" {
            forget_cancelled(&msg, pending);
        }
        decide::client_notification(&proxy.cache, method).await;
        return None;
    };
    let request = decide::cache_request(&msg);
    // A call of a tool whose annotations the proxy has not seen (the client did not list the
    // tools, or not this page): ask the server, once, before deciding.
    if let Some(r) = &request {
        let listed = pending.lock().tools_listed;
        if decide::wants_annotations(&proxy.cache, r, listed) {
            let meta = decide::request_meta(msg.params);
            learn_tools_from_server(proxy, server_in, pending, meta).await;
        }
    }
    let id_text = msg.id.map_or("null", |r| r.get());
    match decide::consult(&proxy.cache, &proxy.caller, request.as_ref(), id_text).await {
        Decision::Answer(answer) => Some(answer),
        Decision::Forward(awaiting) => {
            pending.lock().insert(proxy, id, awaiting);
            None
        }
    }
}

fn forget_cancelled(msg: &Message<'_>, pending: &Pending) {
    let request_id = msg
        .params
        .and_then(|p| serde_json::from_str::<Json>(p.get()).ok())
        .and_then(|p| p.get("requestId").map(Json::to_string))
        .and_then(|text| id_key(&text));
    if let Some(id) = request_id {
        pending.lock().requests.remove(&id);
    }
}

async fn server_to_client<SO, CO>(
    proxy: &Proxy,
    server_out: SO,
    out: &ClientOut<CO>,
    pending: &Pending,
) -> io::Result<()>
where
    SO: AsyncRead + Unpin,
    CO: AsyncWrite + Unpin,
{
    let limit = proxy.max_line_bytes;
    let mut reader = BufReader::with_capacity(64 * 1024, server_out);
    let mut line = Vec::with_capacity(4096);
    loop {
        match lines::read_line(&mut reader, &mut line, limit).await? {
            Read::Eof => return Ok(()),
            Read::TooLong => {
                // Relayed as it streams in, never held whole, never stored.
                let mut w = out.lock().await;
                w.write_all(&line).await?;
                lines::copy_rest(&mut reader, &mut *w).await?;
                w.flush().await?;
                continue;
            }
            Read::Line => {}
        }
        let Some(msg) = Message::parse(&line) else {
            write_line(out, &line).await?;
            continue;
        };
        match (&msg.method, msg.id_key()) {
            // A notification: invalidate first, so a client reacting to it fetches fresh data.
            (Some(method), None) => {
                if decide::server_notification(&proxy.cache, method, msg.params).await {
                    pending.lock().tools_listed = false;
                }
                write_line(out, &line).await?;
            }
            // A response to a request of the client's: store it before the client sees it, so
            // that a client repeating the request right away is answered from the cache.
            (None, Some(id)) => {
                let own = pending.lock().own.remove(&id);
                if let Some(own) = own {
                    // An answer to the proxy's own request: for the proxy only.
                    let result = msg
                        .result
                        .and_then(|r| serde_json::from_str::<Json>(r.get()).ok());
                    let _ = own.send(result);
                    continue;
                }
                let waiting = pending.lock().requests.remove(&id);
                if let Some(waiting) = waiting {
                    let _ = decide::settle(&proxy.cache, waiting.awaiting, &msg).await;
                }
                write_line(out, &line).await?;
            }
            // A request from the server (sampling, elicitation, roots): the answers of the
            // requests in flight may depend on the client's reply, so none of them is stored.
            _ => {
                decide::server_request(&proxy.cache);
                write_line(out, &line).await?;
            }
        }
    }
}
