//! The caching stdio relay behind `stowage-mcp-proxy`.
//!
//! [`Proxy::run_child`] starts an MCP server as a child process and relays newline-delimited
//! JSON-RPC between the client (the proxy's own stdin and stdout) and the child. Requests the
//! cache can answer never reach the child; everything else, including `initialize`, server
//! requests (sampling, elicitation), notifications and batches, passes through byte for byte.
//! Notifications from the child invalidate what they make stale before the client sees them.

mod message;
mod relay;

use std::ffi::OsString;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::Command;

use crate::cache::ResponseCache;
use crate::caller::Caller;

/// A caching relay between one MCP client and one MCP server.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use stowage_mcp::{Caller, ResponseCache, proxy::Proxy};
///
/// let proxy = Proxy::new(ResponseCache::in_memory(), Caller::Anonymous);
/// let status = proxy.run_child("python3".into(), vec!["server.py".into()]).await?;
/// eprintln!("{}", proxy.cache().stats());
/// std::process::exit(status.code().unwrap_or(1));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Proxy {
    cache: ResponseCache,
    caller: Caller,
}

impl Proxy {
    /// A relay answering from `cache`, with every request attributed to `caller` (stdio carries
    /// no authentication; one proxy serves one client).
    pub fn new(cache: ResponseCache, caller: Caller) -> Self {
        Proxy { cache, caller }
    }

    /// The cache.
    pub fn cache(&self) -> &ResponseCache {
        &self.cache
    }

    /// Relay between a client (`client_in`, `client_out`) and a server (`server_in`,
    /// `server_out`) until the server's output ends. When the client's input ends, the
    /// server's input is closed, and the relay goes on until the server finishes.
    pub async fn relay<CI, CO, SI, SO>(
        &self,
        client_in: CI,
        client_out: CO,
        server_in: SI,
        server_out: SO,
    ) -> io::Result<()>
    where
        CI: tokio::io::AsyncRead + Unpin + Send,
        CO: tokio::io::AsyncWrite + Unpin + Send,
        SI: tokio::io::AsyncWrite + Unpin + Send,
        SO: tokio::io::AsyncRead + Unpin + Send,
    {
        relay::relay(self, client_in, client_out, server_in, server_out).await
    }

    /// Start `program` with `args` (stderr inherited) and relay the proxy's stdin and stdout to
    /// it; returns the child's exit status.
    ///
    /// When the client closes the proxy's stdin, the child's stdin is closed and the child is
    /// given five seconds to exit before it is killed.
    pub async fn run_child(
        &self,
        program: OsString,
        args: Vec<OsString>,
    ) -> io::Result<ExitStatus> {
        let mut child = Command::new(&program)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot start {}: {e}", program.to_string_lossy()),
                )
            })?;
        let server_in = child.stdin.take().expect("piped stdin");
        let server_out = child.stdout.take().expect("piped stdout");
        let relayed = self
            .relay(
                tokio::io::stdin(),
                tokio::io::stdout(),
                server_in,
                server_out,
            )
            .await;
        let status = match tokio::time::timeout(Duration::from_secs(5), child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                child.kill().await?;
                child.wait().await?
            }
        };
        relayed.map(|()| status)
    }
}
