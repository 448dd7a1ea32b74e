//! MCP response caching for Stowage.
//!
//! Repeated `tools/call`, `resources/read`, `prompts/get` and `*/list` requests are answered
//! from any [`KeyValueStore`](stowage_core::KeyValueStore), in two ways:
//!
//! - **In process**: [`CachingHandler`] wraps any rmcp [`ServerHandler`](rmcp::ServerHandler)
//!   and forwards everything it does not answer, untouched.
//! - **Any server, any language**: the `stowage-mcp-proxy` binary starts an MCP server as a
//!   child process and relays stdio between it and the client, answering cacheable requests
//!   itself ([`proxy`]); with `--listen`, it serves Streamable HTTP in front of a remote
//!   Streamable HTTP server or of a stdio server (`proxy::http`, feature `http-proxy`),
//!   with the client's `Authorization` as the cache partition, for a fleet sharing one store.
//!
//! Both apply one policy ([`ResponseCache`], [`CachePolicy`]):
//!
//! - every entry belongs to one server's [`Namespace`], so servers sharing a store never answer
//!   for each other, and invalidation clears only that server's entries;
//! - a key is a digest of the method, the name or URI, and the canonical JSON of the arguments
//!   ([`RequestKey`]); request metadata such as progress tokens is not part of it;
//! - authenticated callers each get a partition ([`Caller`]); anonymous callers share one; a
//!   request whose credentials cannot be read is not cached;
//! - `tools/call` is cached only for tools the server marks read-only by default
//!   ([`ToolCaching`]): an unannotated tool may have side effects, and a destructive one is never
//!   replayed unless named;
//! - errors, task results, input-required answers, requests carrying multi-round-trip state,
//!   answers given after the server asked the client something, and oversized answers are never
//!   cached; a slow store is cut off after a deadline and the request goes to the server;
//! - server hints (`ttlMs`, `cacheScope`, protocol 2026-07-28) are honoured, and
//!   `list_changed` / `resources/updated` notifications invalidate what they make stale;
//! - hits, misses, stores and bypasses are counted per method ([`CacheStats`]).
//!
//! With no configuration, [`defaults`] picks the store for the platform: encrypted disk stores
//! (one per server) on macOS and Windows, memory on Linux; `STOWAGE_STORE_URL` overrides both.
//!
//! # Custom transports
//!
//! The rmcp wrapper and the proxy are two users of one API that any transport can use (an HTTP
//! gateway, a WebSocket relay): build a [`CacheRequest`] from the request
//! ([`CacheRequest::from_params_text`]), resolve the [`Caller`] ([`caller_from_headers`] for
//! HTTP), call [`ResponseCache::lookup`]; on a [`Lookup::Miss`], forward the request and hand
//! the answer to [`ResponseCache::complete_text`] (or [`ResponseCache::skip`] with a
//! [`SkipReason`]); feed `tools/list` answers to [`ResponseCache::learn_tools`], notifications to
//! [`ResponseCache::observe_notification`], and server-to-client requests to
//! [`ResponseCache::note_nested_request`]. [`Ticket`] and [`Outcome`] are the types on that path;
//! [`RequestKey`], [`canonical_json`] and [`canonical_json_text`] say how requests are keyed.
//!
//! # Features
//!
//! `desktop` (default) builds the encrypted disk store and `disk://` URLs; `http-proxy`
//! (default) the Streamable HTTP proxy (hyper, reqwest without TLS); `http-proxy-tls` adds
//! `https://` upstreams (rustls); `redis`, `mongodb`, `dynamodb`, `sled` and `rocksdb` add those
//! store URLs (through `stowage::open`).
//!
//! rmcp is pinned to exactly [`RMCP_VERSION`]; cache hints follow protocol 2026-07-28
//! (SEP-2549) as rmcp 3.11 and the Python SDK 2.3 implement it.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod caller;
pub mod defaults;
mod handler;
mod key;
mod method;
mod namespace;
mod policy;
pub mod proxy;
mod request;
mod resolve;
mod stats;
mod watch;

pub use cache::{Lookup, Outcome, ResponseCache, Ticket};
pub use caller::{ANONYMOUS_PARTITION, Caller, PUBLIC_PARTITION};
pub use handler::CachingHandler;
pub use key::{RequestKey, canonical_json, canonical_json_text};
pub use method::Method;
pub use namespace::{MAX_NAMESPACE_LEN, Namespace, VOLATILE_ENV};
pub use policy::{
    CachePolicy, DEFAULT_CALL_TTL, DEFAULT_LIST_TTL, DEFAULT_MAX_ENTRY_BYTES,
    DEFAULT_STORE_TIMEOUT, MethodPolicy, ToolCaching, ToolFilter, ToolSafety,
};
pub use request::{CacheRequest, SkipReason};
pub use resolve::{CREDENTIAL_HEADERS, CallerResolver, caller_from_headers, default_caller};
pub use stats::{CacheStats, MethodStats};
pub use watch::{WatchedTransport, watched};

/// The rmcp version this crate is built against (pinned exactly; rmcp changes fast).
pub const RMCP_VERSION: &str = "3.11.0";
