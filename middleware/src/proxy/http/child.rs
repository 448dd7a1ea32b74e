//! One stdio MCP server behind the HTTP front: its process, its pipes, and the requests
//! waiting for its answers.
//!
//! Requests are written with ids of the proxy's own (several HTTP clients may share a child,
//! each counting from 1), and the answer gets the client's id back. Notifications and requests
//! from the server are read by the cache first (invalidation, answers that depend on the
//! client), then offered to the session's GET stream.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::value::RawValue;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::ChildStdin;
use tokio::sync::{broadcast, oneshot};
use tokio::time::Instant;

use crate::cache::ResponseCache;
use crate::proxy::lines::{self, Read, one_line};
use crate::proxy::message::Message;
use crate::proxy::{decide, group};

/// The longest line read from a child; a longer one is skipped.
const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// A running stdio server.
#[derive(Debug)]
pub(super) struct Child {
    stdin: tokio::sync::Mutex<ChildStdin>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Bytes>>>,
    next_id: AtomicU64,
    alive: Arc<AtomicBool>,
    /// Notifications and requests from the server, for the session's GET stream.
    events: broadcast::Sender<Bytes>,
    process: Mutex<Option<tokio::process::Child>>,
}

impl Child {
    /// Start `program` with `args`; its notifications feed `cache` (and clear `tools_listed`
    /// on a tool list change).
    pub(super) fn spawn(
        program: &OsString,
        args: &[OsString],
        cache: ResponseCache,
        tools_listed: Arc<AtomicBool>,
    ) -> io::Result<Arc<Child>> {
        let mut process = crate::proxy::spawn_server(program, args)?;
        let stdin = process.stdin.take().expect("piped stdin");
        let stdout = process.stdout.take().expect("piped stdout");
        let (events, _) = broadcast::channel(256);
        let child = Arc::new(Child {
            stdin: tokio::sync::Mutex::new(stdin),
            waiting: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            alive: Arc::new(AtomicBool::new(true)),
            events,
            process: Mutex::new(Some(process)),
        });
        let reader = child.clone();
        tokio::spawn(async move {
            reader.read(stdout, cache, tools_listed).await;
        });
        Ok(child)
    }

    /// Whether the process still talks.
    pub(super) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// The server's notifications and requests from now on.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<Bytes> {
        self.events.subscribe()
    }

    /// Stop the process.
    pub(super) fn stop(&self) {
        self.alive.store(false, Ordering::Release);
        if let Some(mut p) = self.process.lock().take() {
            // Whatever the server started goes with it.
            group::signal(&p, group::Stop::Kill);
            let _ = p.start_kill();
        }
    }

    async fn read(
        &self,
        stdout: tokio::process::ChildStdout,
        cache: ResponseCache,
        tools_listed: Arc<AtomicBool>,
    ) {
        let mut reader = BufReader::with_capacity(64 * 1024, stdout);
        let mut line = Vec::with_capacity(4096);
        loop {
            match lines::read_line(&mut reader, &mut line, MAX_LINE_BYTES).await {
                Ok(Read::Line) => {}
                Ok(Read::TooLong) => {
                    tracing::warn!("skipped a line over {MAX_LINE_BYTES} bytes from the server");
                    if lines::skip_rest(&mut reader).await.is_err() {
                        break;
                    }
                    continue;
                }
                Ok(Read::Eof) | Err(_) => break,
            }
            let Some(msg) = Message::parse(&line) else {
                continue;
            };
            match (msg.method.as_deref(), msg.id_key()) {
                (None, Some(id)) => {
                    let waiter = self.waiting.lock().remove(&id);
                    if let Some(tx) = waiter {
                        let _ = tx.send(Bytes::copy_from_slice(&line));
                    }
                }
                (Some(method), None) => {
                    if decide::server_notification(&cache, method, msg.params).await {
                        tools_listed.store(false, Ordering::Release);
                    }
                    let _ = self.events.send(Bytes::copy_from_slice(&line));
                }
                (Some(_), Some(_)) => {
                    decide::server_request(&cache);
                    let _ = self.events.send(Bytes::copy_from_slice(&line));
                }
                (None, None) => {}
            }
        }
        self.alive.store(false, Ordering::Release);
        // Whoever waits gets an error: the sender is dropped.
        self.waiting.lock().clear();
        tracing::info!("a stdio server exited");
    }

    /// Write one line to the server.
    pub(super) async fn write(&self, line: &[u8]) -> io::Result<()> {
        let mut stdin = self.stdin.lock().await;
        stdin.write_all(&one_line(line)).await?;
        stdin.write_all(b"\n").await?;
        stdin.flush().await
    }

    /// Send the request `body` (one JSON-RPC request) with an id of the proxy's own, and wait
    /// for the answer until `deadline`; returns the answer line with the id of the client's
    /// request (`client_id`, JSON text) put back.
    pub(super) async fn request(
        &self,
        body: &[u8],
        client_id: &str,
        deadline: Instant,
    ) -> io::Result<Bytes> {
        let invalid = |e| io::Error::new(io::ErrorKind::InvalidData, e);
        let mut msg: BTreeMap<String, Box<RawValue>> =
            serde_json::from_slice(body).map_err(invalid)?;
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let key = serde_json::Value::String(format!("stowage-mcp-proxy/{n}")).to_string();
        msg.insert(
            "id".into(),
            RawValue::from_string(key.clone()).map_err(invalid)?,
        );
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().insert(key.clone(), tx);
        let line = serde_json::to_vec(&msg)?;
        if let Err(e) = self.write(&line).await {
            self.waiting.lock().remove(&key);
            return Err(e);
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(answer)) => Ok(with_id(&answer, client_id)),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the stdio server exited",
            )),
            Err(_) => {
                self.waiting.lock().remove(&key);
                Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))
            }
        }
    }
}

/// The answer line `answer` with its id replaced by `id` (JSON text).
fn with_id(answer: &[u8], id: &str) -> Bytes {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        result: Option<&'a RawValue>,
        #[serde(borrow)]
        error: Option<&'a RawValue>,
    }
    let (member, value) = match serde_json::from_slice::<Answer<'_>>(answer) {
        Ok(Answer {
            result: Some(r), ..
        }) => ("result", r.get()),
        Ok(Answer { error: Some(e), .. }) => ("error", e.get()),
        _ => (
            "error",
            r#"{"code":-32603,"message":"the stdio server sent an answer the proxy cannot read"}"#,
        ),
    };
    let value = one_line(value.as_bytes());
    let mut out = Vec::with_capacity(value.len() + id.len() + 32);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b",\"");
    out.extend_from_slice(member.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(&value);
    out.push(b'}');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_get_the_client_id_back() {
        let a = with_id(
            br#"{"jsonrpc":"2.0","id":"stowage-mcp-proxy/3","result":{"x":1.0}}"#,
            "7",
        );
        assert_eq!(&a[..], br#"{"jsonrpc":"2.0","id":7,"result":{"x":1.0}}"#);
        let e = with_id(br#"{"id":"p","error":{"code":-1,"message":"m"}}"#, "\"a\"");
        assert_eq!(
            &e[..],
            br#"{"jsonrpc":"2.0","id":"a","error":{"code":-1,"message":"m"}}"#
        );
    }
}
