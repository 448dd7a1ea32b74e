//! The caching stdio relay behind `stowage-mcp-proxy`, and (feature `http-proxy`) the
//! Streamable HTTP proxy, `http`.
//!
//! [`Proxy::run_child`] starts an MCP server as a child process and relays newline-delimited
//! JSON-RPC between the client (the proxy's own stdin and stdout) and the child. Requests the
//! cache can answer never reach the child; everything else, including `initialize`, server
//! requests (sampling, elicitation), notifications and batches, passes through byte for byte.
//! Notifications from the child invalidate what they make stale before the client sees them.
//!
//! Every message written to either side is one line: a cached answer stored with line breaks
//! (written by another program with indentation, say) is put on one line first. A message
//! from the client longer than [`DEFAULT_MAX_LINE_BYTES`] (configurable) is refused with a
//! JSON-RPC error; a longer one from the server is relayed as it streams in and not stored.

mod decide;
#[cfg(feature = "http-proxy")]
pub mod http;
mod lines;
mod message;
mod own;
mod pending;
mod relay;

use std::ffi::{OsStr, OsString};
use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::cache::ResponseCache;
use crate::caller::Caller;

/// The default longest message accepted from the client: 16 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// How long a server has to exit after its input is closed (or after SIGTERM) before it is
/// killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A caching relay between one MCP client and one MCP server.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use stowage_mcp::{Caller, ResponseCache, proxy::Proxy};
///
/// let proxy = Proxy::new(ResponseCache::in_memory(), Caller::anonymous());
/// let status = proxy.run_child("python3".into(), vec!["server.py".into()]).await?;
/// eprintln!("{}", proxy.cache().stats());
/// std::process::exit(status.code().unwrap_or(1));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Proxy {
    cache: ResponseCache,
    caller: Caller,
    max_line_bytes: usize,
}

impl Proxy {
    /// A relay answering from `cache`, with every request attributed to `caller` (stdio carries
    /// no authentication; one proxy serves one client).
    pub fn new(cache: ResponseCache, caller: Caller) -> Self {
        Proxy {
            cache,
            caller,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }

    /// Refuse client messages longer than `bytes` (default [`DEFAULT_MAX_LINE_BYTES`]; at
    /// least 1 KiB). Memory held per message never exceeds it, in either direction.
    #[must_use]
    pub fn max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line_bytes = bytes.max(1024);
        self
    }

    /// The cache.
    pub fn cache(&self) -> &ResponseCache {
        &self.cache
    }

    /// Relay between a client (`client_in`, `client_out`) and a server (`server_in`,
    /// `server_out`) until the server's output ends. When the client's input ends, the
    /// server's input is closed, and the relay waits a few seconds for the server's last
    /// answers.
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
    /// - When the client closes the proxy's stdin, the child's stdin is closed; the proxy ends
    ///   within about five seconds even if the child ignores it (it is killed), or a process
    ///   it started keeps its output open.
    /// - On Unix the child runs in a process group of its own; SIGTERM, SIGINT or SIGHUP to the
    ///   proxy stop that group too (SIGTERM, then SIGKILL after a grace period).
    pub async fn run_child(
        &self,
        program: OsString,
        args: Vec<OsString>,
    ) -> io::Result<ExitStatus> {
        let mut child = spawn_server(&program, &args)?;
        let server_in = child.stdin.take().expect("piped stdin");
        let server_out = child.stdout.take().expect("piped stdout");
        let relay = self.relay(
            tokio::io::stdin(),
            tokio::io::stdout(),
            server_in,
            server_out,
        );
        let relayed = tokio::select! {
            relayed = relay => relayed,
            signal = stop_signal() => {
                eprintln!("stowage-mcp-proxy: {signal}; stopping the server");
                group::signal(&child, group::Stop::Terminate);
                Ok(())
            }
        };
        let status = match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                group::signal(&child, group::Stop::Kill);
                child.kill().await?;
                child.wait().await?
            }
        };
        // Whatever the server started and left behind goes with it.
        group::signal(&child, group::Stop::Terminate);
        relayed.map(|()| status)
    }
}

/// Start the MCP server `program` with `args`: stdin and stdout piped, stderr inherited, killed
/// when dropped, and on Unix in a process group of its own, so that stopping the group stops
/// whatever the server started too. Both transports start their servers with it.
pub(crate) fn spawn_server(program: &OsStr, args: &[OsString]) -> io::Result<Child> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start {}: {e}", program.to_string_lossy()),
        )
    })
}

/// Resolves when the process is asked to stop — SIGTERM, SIGINT or SIGHUP on Unix, Ctrl-C
/// elsewhere — and says by which signal. Both transports of `stowage-mcp-proxy` stop on it.
///
/// ```no_run
/// # async fn demo() {
/// let signal = stowage_mcp::proxy::stop_signal().await;
/// eprintln!("{signal}: finishing the requests in flight");
/// # }
/// ```
#[cfg(unix)]
pub async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = hup.recv() => "SIGHUP",
    }
}

/// Resolves on Ctrl-C and says so (see the Unix version for SIGTERM, SIGINT and SIGHUP).
#[cfg(not(unix))]
pub async fn stop_signal() -> &'static str {
    match tokio::signal::ctrl_c().await {
        Ok(()) => "Ctrl-C",
        Err(_) => std::future::pending().await,
    }
}

/// Signals to a server's process group.
pub(crate) mod group {
    use tokio::process::Child;

    #[derive(Debug, Clone, Copy)]
    pub(crate) enum Stop {
        Terminate,
        Kill,
    }

    #[cfg(unix)]
    pub(crate) fn signal(child: &Child, stop: Stop) {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) else {
            return;
        };
        let sig = match stop {
            Stop::Terminate => Signal::SIGTERM,
            Stop::Kill => Signal::SIGKILL,
        };
        // The child leads its own group (process_group(0)); the group outlives it only while
        // processes it started are alive.
        let _ = killpg(Pid::from_raw(pid), sig);
    }

    #[cfg(not(unix))]
    pub(crate) fn signal(_child: &Child, _stop: Stop) {}
}
