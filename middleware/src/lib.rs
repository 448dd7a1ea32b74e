//! MCP response caching for Stowage.
