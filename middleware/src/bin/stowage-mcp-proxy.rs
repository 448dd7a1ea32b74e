//! `stowage-mcp-proxy`: a caching proxy for any MCP server.
//!
//! ```text
//! stowage-mcp-proxy [OPTIONS] -- <COMMAND> [ARGS]...
//! stowage-mcp-proxy --listen 127.0.0.1:8080 --upstream http://host/mcp [OPTIONS]
//! ```
//!
//! The first form starts `<COMMAND>` as a child process and relays MCP between this process's
//! stdin/stdout and the child; the second (feature `http-proxy`, on by default) serves
//! Streamable HTTP in front of a Streamable HTTP server (`stowage_mcp::proxy::http`). Both
//! answer repeated `tools/call`, `resources/read`, `prompts/get` and `*/list` requests from the
//! cache.
//!
//! With `--upstream`, the namespace is, unless `--namespace` names one, a digest of the
//! upstream URL: every proxy in front of one URL shares answers on a shared store.
//!
//! The cache's server namespace is, unless `--namespace` names one, a digest of the command
//! line, the working directory and the environment the server inherits (without the volatile
//! variables of `stowage_mcp::VOLATILE_ENV` and `STOWAGE_*`): two proxies of two servers, or of
//! one server with two different tokens, never answer for each other, even on one store.

#![deny(unsafe_code)]

#[cfg(feature = "http-proxy")]
#[path = "stowage-mcp-proxy/http.rs"]
mod http;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use stowage_core::rules::ttl_from_secs_f64;
use stowage_mcp::defaults::{self, StoreChoice};
use stowage_mcp::proxy::{DEFAULT_MAX_LINE_BYTES, Proxy};
use stowage_mcp::{CachePolicy, Caller, Method, Namespace, ResponseCache, ToolCaching};

/// A caching proxy for any MCP server speaking stdio.
#[derive(Debug, Parser)]
#[command(name = "stowage-mcp-proxy", version, about, long_about = None)]
#[command(
    after_help = "Example:\n  stowage-mcp-proxy --call-ttl 600 --cache-tools all --deny-tool send_email -- python server.py"
)]
struct Args {
    /// Store URL: memory://, disk:///path, redis://…, rediss://…, mongodb://…,
    /// dynamodb://table?endpoint=…, rocksdb:///path, sled:///path. Default: the platform's
    /// (an encrypted disk store on macOS and Windows, memory on Linux).
    #[arg(
        long,
        env = "STOWAGE_STORE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    store: Option<String>,

    /// The server namespace of the cache: proxies with the same namespace share answers (every
    /// replica of one server). Default: a digest of the command line, working directory and
    /// environment of the server.
    #[arg(long, env = "STOWAGE_MCP_NAMESPACE", value_name = "NAME", value_parser = parse_namespace)]
    namespace: Option<Namespace>,

    /// TTL of every method, in seconds (the per-method options below win).
    #[arg(long, value_name = "SECS")]
    ttl: Option<f64>,

    /// TTL of tools/call, in seconds (default 3600).
    #[arg(long, value_name = "SECS")]
    call_ttl: Option<f64>,

    /// TTL of resources/read, in seconds (default 3600).
    #[arg(long, value_name = "SECS")]
    read_ttl: Option<f64>,

    /// TTL of prompts/get, in seconds (default 3600).
    #[arg(long, value_name = "SECS")]
    prompt_ttl: Option<f64>,

    /// TTL of the */list methods, in seconds (default 300).
    #[arg(long, value_name = "SECS")]
    list_ttl: Option<f64>,

    /// Which tools/call answers to cache: `read-only` (default: the tools the server marks
    /// readOnlyHint, or idempotentHint and not destructiveHint), `all` (every tool not marked
    /// destructive), or a comma-separated list of tool names (only those).
    #[arg(long, value_name = "read-only|all|NAMES", default_value = "read-only")]
    cache_tools: String,

    /// Also cache these tools, whatever their annotations (repeat, or separate with commas).
    #[arg(long = "allow-tool", value_name = "NAME", value_delimiter = ',')]
    allow_tools: Vec<String>,

    /// Never cache tools/call for these tools (repeat, or separate with commas).
    #[arg(long = "deny-tool", value_name = "NAME", value_delimiter = ',')]
    deny_tools: Vec<String>,

    /// Leave a method alone, e.g. `--no-cache prompts/get` (repeat for more).
    #[arg(long = "no-cache", value_name = "METHOD", value_parser = parse_method)]
    no_cache: Vec<Method>,

    /// Largest answer kept, in bytes; larger ones pass through uncached.
    #[arg(long, value_name = "BYTES", default_value_t = stowage_mcp::DEFAULT_MAX_ENTRY_BYTES)]
    max_entry_bytes: usize,

    /// Ignore the server's ttlMs / cacheScope hints.
    #[arg(long)]
    ignore_hints: bool,

    /// Longest message accepted from the client, in bytes; longer ones are refused.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_LINE_BYTES)]
    max_line_bytes: usize,

    /// Deadline of one cache store call, in milliseconds; a late store is skipped and the
    /// request goes to the server.
    #[arg(long, value_name = "MS", default_value_t = 250)]
    store_timeout_ms: u64,

    /// Identity of the client this proxy serves; its answers get a partition of their own in a
    /// shared store. Default: the anonymous partition.
    #[arg(
        long,
        env = "STOWAGE_MCP_CALLER",
        value_name = "ID",
        hide_env_values = true
    )]
    caller: Option<String>,

    /// Print per-method statistics to stderr when the proxy exits.
    #[arg(long)]
    stats: bool,

    #[cfg(feature = "http-proxy")]
    #[command(flatten)]
    http: http::HttpArgs,

    /// The MCP server to start, and its arguments.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

fn parse_method(name: &str) -> Result<Method, String> {
    Method::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
        format!("not a cacheable method; one of: {}", names.join(", "))
    })
}

fn parse_namespace(name: &str) -> Result<Namespace, String> {
    Namespace::new(name).map_err(|e| e.to_string())
}

fn secs(value: Option<f64>, what: &str) -> Result<Option<Duration>, String> {
    value
        .map(|s| ttl_from_secs_f64(s).map_err(|e| format!("--{what}: {e}")))
        .transpose()
}

fn policy(args: &Args) -> Result<CachePolicy, String> {
    if args.store_timeout_ms == 0 {
        return Err("--store-timeout-ms must be greater than zero".into());
    }
    let mut policy = CachePolicy::default()
        .max_entry_bytes(args.max_entry_bytes)
        .honour_hints(!args.ignore_hints)
        .store_timeout(Duration::from_millis(args.store_timeout_ms));
    policy = match args.cache_tools.trim() {
        mode @ ("read-only" | "all") => {
            policy.cache_tools(mode.parse::<ToolCaching>().map_err(|e| e.to_string())?)
        }
        names => {
            let names: Vec<&str> = names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            if names.is_empty() {
                return Err("--cache-tools: `read-only`, `all` or tool names".into());
            }
            policy.cache_tools(ToolCaching::Named).allow_tools(names)
        }
    };
    if let Some(ttl) = secs(args.ttl, "ttl")? {
        policy = policy.ttl_all(Some(ttl));
    }
    let per_method = [
        (args.call_ttl, "call-ttl", &[Method::ToolsCall][..]),
        (args.read_ttl, "read-ttl", &[Method::ResourcesRead][..]),
        (args.prompt_ttl, "prompt-ttl", &[Method::PromptsGet][..]),
        (
            args.list_ttl,
            "list-ttl",
            &[
                Method::ToolsList,
                Method::ResourcesList,
                Method::ResourceTemplatesList,
                Method::PromptsList,
            ][..],
        ),
    ];
    for (value, name, methods) in per_method {
        if let Some(ttl) = secs(value, name)? {
            for m in methods {
                policy = policy.ttl(*m, Some(ttl));
            }
        }
    }
    policy = policy.allow_tools(args.allow_tools.iter().cloned());
    policy = policy.deny_tools(args.deny_tools.iter().cloned());
    for m in &args.no_cache {
        policy = policy.disable(*m);
    }
    policy.validate().map_err(|e| e.to_string())?;
    Ok(policy)
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let policy = policy(&args)?;
    let choice = match &args.store {
        Some(url) if !url.trim().is_empty() => {
            defaults::check_url(url.trim()).map_err(|e| e.to_string())?;
            StoreChoice::Url(url.trim().to_owned())
        }
        _ => defaults::choose_here().map_err(|e| e.to_string())?,
    };
    let namespace = match (&args.namespace, upstream(&args)) {
        (Some(ns), _) => ns.clone(),
        (None, Some(url)) => Namespace::for_url(url),
        (None, None) => Namespace::for_command(
            &args.command,
            std::env::current_dir().ok().as_deref(),
            std::env::vars_os().map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            }),
        ),
    };
    let (store, warning) = defaults::open_choice_or_memory(&choice, &namespace)
        .await
        .map_err(|e| format!("cannot open the cache store ({choice:?}): {e}"))?;
    if let Some(warning) = warning {
        eprintln!("stowage-mcp-proxy: {warning}");
    }
    let cache = ResponseCache::from_dyn(store, policy)
        .map_err(|e| e.to_string())?
        .in_namespace(namespace);
    #[cfg(feature = "http-proxy")]
    if args.http.listen.is_some() {
        return http::run(&args.http, cache, &args.command).await;
    }
    if args.command.is_empty() {
        return Err(
            "no command to start: `-- COMMAND [ARGS]…` (or `--listen ADDR --upstream URL`)".into(),
        );
    }
    let caller = args
        .caller
        .as_deref()
        .filter(|c| !c.is_empty())
        .map_or_else(Caller::anonymous, Caller::from_identity);
    let proxy = Proxy::new(cache, caller).max_line_bytes(args.max_line_bytes);
    let mut command = args.command.into_iter();
    let program = command.next().ok_or("no command to start")?;
    let status = proxy
        .run_child(program, command.collect())
        .await
        .map_err(|e| e.to_string())?;
    if args.stats {
        eprintln!("namespace: {}", proxy.cache().namespace());
        eprint!("{}", proxy.cache().stats());
    }
    Ok(ExitCode::from(
        status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)),
    ))
}

/// The upstream URL, in front of which the proxy listens.
fn upstream(args: &Args) -> Option<&str> {
    #[cfg(feature = "http-proxy")]
    return args.http.upstream.as_deref();
    #[cfg(not(feature = "http-proxy"))]
    {
        let _ = args;
        None
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The HTTP proxy serves many clients at once: a thread per core. The stdio relay serves
    // one: a single thread.
    #[cfg(feature = "http-proxy")]
    let mut builder = if args.http.listen.is_some() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    #[cfg(not(feature = "http-proxy"))]
    let mut builder = tokio::runtime::Builder::new_current_thread();
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stowage-mcp-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("stowage-mcp-proxy: {message}");
            ExitCode::from(2)
        }
    }
}
