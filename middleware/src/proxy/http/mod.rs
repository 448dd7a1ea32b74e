//! The caching Streamable HTTP proxy: an MCP endpoint in front of a remote MCP server.
//!
//! [`HttpProxy`] listens for Streamable HTTP (MCP 2025-03-26 and later) and relays to an
//! upstream Streamable HTTP server, answering cacheable requests from the cache with the same
//! rules as the stdio relay (the per-message decisions are one module both transports call).
//!
//! - **POST** (one JSON-RPC message): `tools/call`, `resources/read`, `prompts/get` and the
//!   `*/list` methods are answered from the cache when the rules allow (server hints, tool
//!   annotations, namespaces, caller partitions); everything else, and every miss, goes
//!   upstream. The upstream's answer is relayed as it sends it: a JSON body whole, an event
//!   stream event by event. A hit is sent as JSON when the client's `Accept` takes JSON, else
//!   as one SSE event. A batch is relayed untouched. A body that is not JSON gets HTTP 400 with
//!   a JSON-RPC parse error; one over the size limit gets HTTP 413.
//! - **GET** (the server's stream) and **DELETE** (end of session) are relayed; notifications
//!   on any stream (`*/list_changed`, `resources/updated`) invalidate before the client sees
//!   them; a request from the server (elicitation, sampling) makes the answers in flight
//!   unstorable.
//! - **Headers**: every request header but the hop-by-hop ones and `Host` goes upstream
//!   unchanged (`Authorization`, `Mcp-Session-Id`, `MCP-Protocol-Version`, `Last-Event-ID`),
//!   and every response header comes back (the `Mcp-Session-Id` the upstream assigns, say).
//!   A hit is answered without the upstream, so it does not check the session.
//! - **Callers**: the cache partition is a digest of the `Authorization` header (or, without
//!   one, of the other credential headers, [`crate::CREDENTIAL_HEADERS`]); requests without
//!   credentials are anonymous and share a partition; `cacheScope: "public"` answers are
//!   shared by every caller.
//! - **Coalescing**: concurrent identical requests (same method, arguments and caller) make
//!   one upstream call at a time in one process; the others wait and are answered from the
//!   cache. Across processes sharing a store there is no lock: two proxies missing at once
//!   both call the upstream, and the later answer overwrites the earlier (both valid).
//! - **A fleet on one store**: proxies in front of one upstream URL share a namespace
//!   ([`Namespace::for_url`](crate::Namespace::for_url)), so a fill by one is a hit on the
//!   others; a `list_changed` seen by one deletes the entries from the store, so no proxy
//!   serves the old list after it. A request another process has in flight at that moment
//!   (its answer fetched before the change) may still store it: the guard against that is per
//!   process, and the entry lives until its TTL or the next change.
//! - **Faults**: an unreachable upstream gives HTTP 502 with a JSON-RPC error naming the
//!   cause, a late one HTTP 504 (or, on a stream already open, a JSON-RPC error event);
//!   nothing is stored, and the next request tries again. A failing store is bypassed
//!   (requests pass through uncached). A client leaving mid-stream does not stop the upstream
//!   answer from being read and stored.
//! - **Limits**: the request body size ([`HttpProxyBuilder::max_body_bytes`]), the deadline of
//!   one upstream exchange ([`HttpProxyBuilder::upstream_timeout`]) and the number of upstream
//!   POSTs at once ([`HttpProxyBuilder::max_upstream_requests`]; GET streams are not counted).
//! - **Operations**: `GET /healthz` on the listener; statistics and clearing on an optional
//!   admin listener ([`HttpProxy::serve_admin`]); on shutdown the listener closes and requests
//!   in flight finish (within a grace period).
//!
//! - **In front of a stdio server** ([`HttpProxy::stdio_builder`]): one child per HTTP session
//!   (an `initialize` without `Mcp-Session-Id` starts one and names the session), one shared
//!   child for sessionless 2026-07-28 clients; limits in [`MAX_SESSIONS`]'s module notes and
//!   the guide.
//!
//! The MCP endpoint is every path but `/healthz`: all go to the one upstream URL. The user
//! guide, with every option of `stowage-mcp-proxy --listen`, is `docs/mcp-http-proxy.md`.

mod admin;
mod answer;
mod body;
mod child;
mod coalesce;
mod forward;
mod health;
mod post;
mod serve;
mod sse;
mod stdio;
mod tools;

use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::cache::ResponseCache;
use crate::caller::Caller;

pub use self::stdio::MAX_SESSIONS;

/// The default largest request body: 4 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The default deadline of one upstream exchange: 120 s.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);
/// The default number of upstream POSTs at once: 64.
pub const DEFAULT_MAX_UPSTREAM_REQUESTS: usize = 64;
/// The default time requests in flight get to finish on shutdown: 30 s.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What every connection of one proxy shares.
#[derive(Debug)]
struct Inner {
    cache: ResponseCache,
    target: Target,
    client: reqwest::Client,
    max_body_bytes: usize,
    upstream_timeout: Duration,
    permits: Arc<Semaphore>,
    shutdown_grace: Duration,
    flights: coalesce::Flights,
    /// Whether every page of the upstream's tool list was read since the last change.
    tools_listed: Arc<AtomicBool>,
    /// Requests of the proxy's own sent so far (their ids).
    own_sent: AtomicU64,
    /// Who sent a request, from its headers.
    resolver: Resolver,
}

/// Decides who sent an HTTP request, from its headers: [`HttpProxyBuilder::caller_resolver`].
pub type HeaderResolver = dyn Fn(&http::HeaderMap) -> Caller + Send + Sync;

/// The caller resolver, shown by name only.
#[derive(Clone)]
struct Resolver(Arc<HeaderResolver>);

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

/// What the proxy stands in front of.
#[derive(Debug)]
enum Target {
    /// A Streamable HTTP endpoint.
    Http(reqwest::Url),
    /// A stdio server, one child per session.
    Stdio(stdio::Children),
}

/// The upstream, as given to the builder.
#[derive(Debug)]
enum Upstream {
    Url(String),
    Command(OsString, Vec<OsString>),
}

/// Settings of an [`HttpProxy`]; [`HttpProxy::builder`] makes one.
#[derive(Debug)]
#[must_use]
pub struct HttpProxyBuilder {
    cache: ResponseCache,
    upstream: Upstream,
    max_body_bytes: usize,
    upstream_timeout: Duration,
    max_upstream_requests: usize,
    shutdown_grace: Duration,
    resolver: Resolver,
}

impl HttpProxyBuilder {
    fn new(cache: ResponseCache, upstream: Upstream) -> Self {
        HttpProxyBuilder {
            cache,
            upstream,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            max_upstream_requests: DEFAULT_MAX_UPSTREAM_REQUESTS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            resolver: Resolver(Arc::new(crate::caller_from_headers)),
        }
    }

    /// Refuse request bodies over `bytes` with HTTP 413 (default [`DEFAULT_MAX_BODY_BYTES`];
    /// at least 1 KiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes.max(1024);
        self
    }

    /// Give one upstream exchange (waiting for a slot, the answer, a streamed answer's end) at
    /// most `timeout` (default [`DEFAULT_UPSTREAM_TIMEOUT`]); past it the client gets a
    /// JSON-RPC error (HTTP 504).
    pub fn upstream_timeout(mut self, timeout: Duration) -> Self {
        self.upstream_timeout = timeout;
        self
    }

    /// Send at most `n` POSTs upstream at once (default
    /// [`DEFAULT_MAX_UPSTREAM_REQUESTS`]; at least 1); others wait for a slot, within their
    /// deadline.
    pub fn max_upstream_requests(mut self, n: usize) -> Self {
        self.max_upstream_requests = n.max(1);
        self
    }

    /// Decide the cache partition of each request with `resolver` instead of
    /// [`caller_from_headers`](crate::caller_from_headers) (a digest of `Authorization`, or of
    /// the other credential headers). Use it when a layer in front of the proxy has verified
    /// who is calling (a gateway that checked the token and sets a user header, say):
    /// `Caller::from_identity(user)`. The headers still go upstream unchanged.
    pub fn caller_resolver(
        mut self,
        resolver: impl Fn(&http::HeaderMap) -> Caller + Send + Sync + 'static,
    ) -> Self {
        self.resolver = Resolver(Arc::new(resolver));
        self
    }

    /// On shutdown, give requests in flight `grace` to finish (default
    /// [`DEFAULT_SHUTDOWN_GRACE`]).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// The proxy. Errors when the upstream is not an `http://` (or, with the
    /// `http-proxy-tls` feature, `https://`) URL, or the HTTP client cannot be built.
    pub fn build(self) -> io::Result<HttpProxy> {
        let tools_listed = Arc::new(AtomicBool::new(false));
        let target = match self.upstream {
            Upstream::Url(url) => Target::Http(parse_upstream(&url)?),
            Upstream::Command(program, args) => Target::Stdio(stdio::Children::new(
                program,
                args,
                self.cache.clone(),
                tools_listed.clone(),
            )),
        };
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| io::Error::other(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpProxy {
            inner: Arc::new(Inner {
                cache: self.cache,
                target,
                client,
                max_body_bytes: self.max_body_bytes,
                upstream_timeout: self.upstream_timeout,
                permits: Arc::new(Semaphore::new(self.max_upstream_requests)),
                shutdown_grace: self.shutdown_grace,
                flights: coalesce::Flights::default(),
                tools_listed,
                own_sent: AtomicU64::new(0),
                resolver: self.resolver,
            }),
        })
    }
}

/// The upstream URL, checked: `http://`, or `https://` with the `http-proxy-tls` feature.
fn parse_upstream(url: &str) -> io::Result<reqwest::Url> {
    let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    let upstream =
        reqwest::Url::parse(url).map_err(|e| invalid(format!("--upstream {url}: {e}")))?;
    match upstream.scheme() {
        "http" => Ok(upstream),
        "https" if cfg!(feature = "http-proxy-tls") => Ok(upstream),
        "https" => Err(invalid(
            "https:// upstreams need the `http-proxy-tls` feature of stowage-mcp".into(),
        )),
        other => Err(invalid(format!("--upstream: not an HTTP URL ({other}://)"))),
    }
}

/// A caching Streamable HTTP proxy in front of one upstream MCP server (see the
/// [module documentation](self)).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use stowage_mcp::proxy::http::HttpProxy;
/// use stowage_mcp::{Namespace, ResponseCache};
///
/// let upstream = "http://127.0.0.1:8000/mcp";
/// let cache = ResponseCache::in_memory().in_namespace(Namespace::for_url(upstream));
/// let proxy = HttpProxy::builder(cache, upstream).build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// proxy.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpProxy {
    inner: Arc<Inner>,
}

impl HttpProxy {
    /// Settings for a proxy answering from `cache` in front of the Streamable HTTP endpoint
    /// `upstream` (`http://host:port/mcp`).
    pub fn builder(cache: ResponseCache, upstream: impl Into<String>) -> HttpProxyBuilder {
        HttpProxyBuilder::new(cache, Upstream::Url(upstream.into()))
    }

    /// Settings for a proxy answering from `cache` in front of the stdio MCP server started as
    /// `program` with `args`: one child per HTTP session (see [`MAX_SESSIONS`] for the limits),
    /// one shared child for requests without a session.
    pub fn stdio_builder(
        cache: ResponseCache,
        program: OsString,
        args: Vec<OsString>,
    ) -> HttpProxyBuilder {
        HttpProxyBuilder::new(cache, Upstream::Command(program, args))
    }

    /// The cache.
    pub fn cache(&self) -> &ResponseCache {
        &self.inner.cache
    }

    /// Serve MCP on `listener` until `shutdown` resolves; then stop accepting, and give the
    /// requests in flight the shutdown grace to finish.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let inner = self.inner.clone();
        let served = serve::serve_with(listener, shutdown, self.inner.shutdown_grace, move |req| {
            serve::route(inner.clone(), req)
        })
        .await;
        if let Target::Stdio(children) = &self.inner.target {
            children.stop_all();
        }
        served
    }

    /// Serve the admin endpoints (statistics, clearing, health) on `listener` until `shutdown`
    /// resolves. Whoever reaches this listener can clear the cache: bind it to loopback.
    pub async fn serve_admin(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let inner = self.inner.clone();
        serve::serve_with(listener, shutdown, Duration::from_secs(2), move |req| {
            let inner = inner.clone();
            async move { admin::route(&inner, req).await }
        })
        .await
    }
}
