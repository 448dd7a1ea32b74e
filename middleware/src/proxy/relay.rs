//! The two relay loops: client to server (answering hits), server to client (storing misses,
//! observing notifications).

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::Proxy;
use super::message::{Message, id_key};
use crate::cache::{Lookup, Ticket};
use crate::request::{CacheRequest, SkipReason};

/// Requests waiting for the server's answer, by normalised id.
type Pending = Arc<Mutex<HashMap<String, Ticket>>>;

/// At most this many misses wait for an answer; past it, new misses are not stored.
const MAX_PENDING: usize = 65_536;

/// The client's output, shared by both loops (hits are written by the client loop).
type ClientOut<W> = Arc<tokio::sync::Mutex<W>>;

async fn write_line<W: AsyncWrite + Unpin>(out: &ClientOut<W>, line: &[u8]) -> io::Result<()> {
    let mut w = out.lock().await;
    w.write_all(line).await?;
    if line.last() != Some(&b'\n') {
        w.write_all(b"\n").await?;
    }
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
            // The client is gone (its input ended and the server's input is closed): let the
            // server finish its answers and exit.
            let down = downstream.await;
            up.and(down)
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
    let mut reader = BufReader::with_capacity(64 * 1024, client_in);
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            break;
        }
        if let Some(answer) = answer_from_cache(proxy, &line, pending).await {
            write_line(out, &answer).await?;
            continue;
        }
        server_in.write_all(&line).await?;
        if line.last() != Some(&b'\n') {
            server_in.write_all(b"\n").await?;
        }
        server_in.flush().await?;
    }
    server_in.shutdown().await
}

/// For a request the cache can answer, the response line; otherwise `None`, after noting a
/// miss (so its answer gets stored) or a cancellation.
async fn answer_from_cache(proxy: &Proxy, line: &[u8], pending: &Pending) -> Option<Vec<u8>> {
    let msg = Message::parse(line)?;
    let method = msg.method.as_deref()?;
    let Some(id) = msg.id_key() else {
        if method == "notifications/cancelled" {
            forget_cancelled(&msg, pending);
        }
        return None;
    };
    let params: Option<Json> = match msg.params {
        Some(raw) => Some(serde_json::from_str(raw.get()).ok()?),
        None => None,
    };
    let request = CacheRequest::from_params(method, params.as_ref())?;
    match proxy.cache.lookup(&request, &proxy.caller).await {
        Lookup::Hit(value) => {
            let id_text = msg.id.map(|r| r.get()).unwrap_or("null");
            let mut answer = Vec::with_capacity(value.len() + id_text.len() + 40);
            answer.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
            answer.extend_from_slice(id_text.as_bytes());
            answer.extend_from_slice(br#","result":"#);
            answer.extend_from_slice(value.as_bytes());
            answer.extend_from_slice(b"}\n");
            Some(answer)
        }
        Lookup::Miss(ticket) => {
            let mut p = pending.lock();
            if p.len() < MAX_PENDING {
                p.insert(id, ticket);
            } else {
                drop(p);
                let _ = proxy.cache.skip(ticket, SkipReason::Invalidated);
            }
            None
        }
        Lookup::Bypass => None,
    }
}

fn forget_cancelled(msg: &Message<'_>, pending: &Pending) {
    let request_id = msg
        .params
        .and_then(|p| serde_json::from_str::<Json>(p.get()).ok())
        .and_then(|p| p.get("requestId").map(Json::to_string))
        .and_then(|text| id_key(&text));
    if let Some(id) = request_id {
        pending.lock().remove(&id);
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
    let mut reader = BufReader::with_capacity(64 * 1024, server_out);
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let Some(msg) = Message::parse(&line) else {
            write_line(out, &line).await?;
            continue;
        };
        match (&msg.method, msg.id_key()) {
            // A notification: invalidate first, so a client reacting to it fetches fresh data.
            (Some(method), None) => {
                let params: Option<Json> =
                    msg.params.and_then(|p| serde_json::from_str(p.get()).ok());
                let _ = proxy
                    .cache
                    .observe_notification(method, params.as_ref())
                    .await;
                write_line(out, &line).await?;
            }
            // A response to a request of the client's: store it before the client sees it, so
            // that a client repeating the request right away is answered from the cache.
            (None, Some(id)) => {
                let ticket = pending.lock().remove(&id);
                if let Some(ticket) = ticket {
                    store_answer(proxy, ticket, &msg).await;
                }
                write_line(out, &line).await?;
            }
            // A request from the server (sampling, elicitation, roots): pass it on.
            _ => write_line(out, &line).await?,
        }
    }
}

async fn store_answer(proxy: &Proxy, ticket: Ticket, msg: &Message<'_>) {
    let cache = &proxy.cache;
    if msg.error.is_some() {
        let _ = cache.skip(ticket, SkipReason::Error);
        return;
    }
    let Some(result) = msg.result else {
        let _ = cache.skip(ticket, SkipReason::Malformed);
        return;
    };
    if result.get().len() > cache.policy().entry_limit() {
        let _ = cache.skip(ticket, SkipReason::Oversized);
        return;
    }
    match serde_json::from_str::<Json>(result.get()) {
        Ok(json) => {
            let _ = cache.complete(ticket, &json).await;
        }
        Err(_) => {
            let _ = cache.skip(ticket, SkipReason::Malformed);
        }
    }
}
