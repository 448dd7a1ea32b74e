//! `--listen`: the Streamable HTTP proxy's options, and running it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use stowage_mcp::ResponseCache;
use stowage_mcp::proxy::http::{DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPSTREAM_REQUESTS, HttpProxy};
use tokio::net::TcpListener;

/// Options of the Streamable HTTP proxy.
#[derive(Debug, clap::Args)]
pub(crate) struct HttpArgs {
    /// Serve Streamable HTTP on this address (e.g. 127.0.0.1:8080; port 0 picks a free one,
    /// printed on stderr), in front of `--upstream`, or of `-- COMMAND` (a stdio server, one
    /// child per HTTP session).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,

    /// The Streamable HTTP endpoint of the MCP server (http://host:port/mcp).
    #[arg(long, value_name = "URL", requires = "listen")]
    pub(crate) upstream: Option<String>,

    /// Serve cache statistics (GET /stats) and clearing (POST /clear?method=M) on this
    /// address; off unless given. A loopback address only, unless --admin-allow-remote.
    #[arg(long, value_name = "ADDR", requires = "listen")]
    admin: Option<SocketAddr>,

    /// Allow --admin on an address other than loopback (whoever reaches it can clear the
    /// cache).
    #[arg(long, requires = "admin")]
    admin_allow_remote: bool,

    /// Largest request body accepted, in bytes; larger ones get HTTP 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,

    /// Deadline of one upstream exchange, in milliseconds (HTTP 504 past it).
    #[arg(long, value_name = "MS", default_value_t = 120_000)]
    upstream_timeout_ms: u64,

    /// Upstream POSTs at once; more wait for a free slot.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_UPSTREAM_REQUESTS)]
    max_upstream_requests: usize,

    /// On SIGTERM or SIGINT, how long requests in flight get to finish, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    shutdown_grace_ms: u64,

    /// Log level of the structured logs on stderr: error, warn, info, debug, trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    log_level: tracing::Level,
}

/// Run the Streamable HTTP proxy, in front of `--upstream` or of `command`, until SIGTERM or
/// SIGINT.
pub(crate) async fn run(
    args: &HttpArgs,
    cache: ResponseCache,
    command: &[OsString],
) -> Result<ExitCode, String> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // The proxy's own events at the chosen level; the libraries' (hyper, reqwest) at warn.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::WARN.min(args.log_level))
        .with_target("stowage_mcp", args.log_level)
        .with_target("stowage_mcp_proxy", args.log_level);
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
    let Some(listen) = args.listen else {
        return Err("--listen: no address".into());
    };
    let builder = match (args.upstream.as_deref(), command) {
        (Some(url), []) => HttpProxy::builder(cache, url),
        (None, [program, rest @ ..]) => {
            HttpProxy::stdio_builder(cache, program.clone(), rest.to_vec())
        }
        (Some(_), [_, ..]) => return Err("--upstream and -- COMMAND: give one".into()),
        (None, []) => return Err("--listen needs --upstream URL or -- COMMAND".into()),
    };
    let upstream = match args.upstream.as_deref() {
        Some(url) => url.to_owned(),
        None => command
            .iter()
            .map(|c| c.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
    };
    let upstream = upstream.as_str();
    if args.upstream_timeout_ms == 0 {
        return Err("--upstream-timeout-ms must be greater than zero".into());
    }
    if let Some(admin) = args.admin
        && !admin.ip().is_loopback()
        && !args.admin_allow_remote
    {
        return Err(format!(
            "--admin {admin} is not a loopback address: whoever reaches it can clear the cache \
             (add --admin-allow-remote to allow it)"
        ));
    }
    let proxy = builder
        .max_body_bytes(args.max_body_bytes)
        .upstream_timeout(Duration::from_millis(args.upstream_timeout_ms))
        .max_upstream_requests(args.max_upstream_requests)
        .shutdown_grace(Duration::from_millis(args.shutdown_grace_ms))
        .build()
        .map_err(|e| e.to_string())?;
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))
    };
    let listener = bind(listen).await?;
    let admin = match args.admin {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("stowage-mcp-proxy: listening on http://{local} in front of {upstream}");
    tracing::info!(listen = %local, upstream, namespace = %proxy.cache().namespace(), "proxy started");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let admin_task = match admin {
        Some(admin) => {
            let addr = admin.local_addr().map_err(|e| e.to_string())?;
            eprintln!("stowage-mcp-proxy: admin on http://{addr}");
            let proxy = proxy.clone();
            let stop = stopped(stop_rx.clone());
            Some(tokio::spawn(
                async move { proxy.serve_admin(admin, stop).await },
            ))
        }
        None => None,
    };
    tokio::spawn(async move {
        let signal = stowage_mcp::proxy::stop_signal().await;
        tracing::info!(signal, "stopping");
        let _ = stop_tx.send(true);
    });
    let served = proxy.serve(listener, stopped(stop_rx)).await;
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    served.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
