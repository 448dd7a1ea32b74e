//! An rmcp server with a slow tool, wrapped in the Stowage cache, on stdio.
//!
//! ```text
//! cargo run -p stowage-mcp --example slow_server            # cached
//! cargo run -p stowage-mcp --example slow_server -- --raw   # not cached
//! ```
//!
//! `SLOW_MS` sets the slow tool's delay (default 500). The cache store is the platform default
//! (`STOWAGE_STORE_URL` overrides it). Statistics go to stderr when the client disconnects.

#![allow(missing_docs, unreachable_pub, dead_code)]

mod server;

use std::time::Duration;

use rmcp::ServiceExt;
use stowage_mcp::{CachePolicy, CachingHandler, Namespace, ResponseCache, defaults};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let delay = std::env::var("SLOW_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let server = server::SlowServer::new(Duration::from_millis(delay));
    if std::env::args().any(|a| a == "--raw") {
        server
            .serve(rmcp::transport::stdio())
            .await?
            .waiting()
            .await?;
        return Ok(());
    }
    // One database per server namespace on the desktop default: this server's own.
    let namespace = Namespace::for_server("slow-server", env!("CARGO_PKG_VERSION"), &[]);
    let (store, warning) =
        defaults::open_choice_or_memory(&defaults::choose_here()?, &namespace).await?;
    if let Some(warning) = warning {
        eprintln!("slow_server: {warning}");
    }
    let cache = ResponseCache::from_dyn(store, CachePolicy::default().deny_tools(["whoami"]))?
        .in_namespace(namespace);
    let running = CachingHandler::new(server, cache.clone())
        .serve(rmcp::transport::stdio())
        .await?;
    running.waiting().await?;
    eprint!("{}", cache.stats());
    Ok(())
}
