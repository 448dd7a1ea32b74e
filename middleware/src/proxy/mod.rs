//! The caching stdio proxy behind `stowage-mcp-proxy`.
