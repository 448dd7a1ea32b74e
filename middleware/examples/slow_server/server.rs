//! An rmcp server with a slow tool, a failing tool, a binary resource and a prompt: what the
//! cache tests and the example wrap.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use parking_lot::Mutex;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, GetPromptRequestParams, GetPromptResponse, GetPromptResult,
    ListPromptsResult, ListResourcesResult, PaginatedRequestParams, Prompt, PromptArgument,
    PromptMessage, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceUpdatedNotificationParam, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

/// The binary resource's URI.
pub const BLOB_URI: &str = "blob://noise";

/// How many times each handler really ran.
#[derive(Debug, Default)]
pub struct Counters {
    /// `slow_echo` runs.
    pub slow: AtomicU64,
    /// `flaky` runs.
    pub flaky: AtomicU64,
    /// `whoami` runs.
    pub whoami: AtomicU64,
    /// `server_name` runs.
    pub names: AtomicU64,
    /// `send_message` runs.
    pub sends: AtomicU64,
    /// `unannotated` runs.
    pub unannotated: AtomicU64,
    /// `count_roots` runs.
    pub roots: AtomicU64,
    /// `resources/read` runs.
    pub reads: AtomicU64,
    /// `prompts/get` runs.
    pub prompts: AtomicU64,
    /// The bytes of the last blob served.
    pub last_blob: Mutex<Vec<u8>>,
}

impl Counters {
    /// Runs of `slow_echo`.
    pub fn slow(&self) -> u64 {
        self.slow.load(Ordering::SeqCst)
    }
}

/// Options of `slow_echo`, nested to show that key order does not matter at any depth.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct EchoOptions {
    /// Repeat the text this many times.
    pub repeat: u32,
    /// Upper-case it.
    pub upper: bool,
}

/// Arguments of `slow_echo`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct EchoArgs {
    /// The text.
    pub text: String,
    /// How to echo it.
    pub options: EchoOptions,
}

/// Arguments of `flaky`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct FlakyArgs {
    /// Anything.
    pub text: String,
}

/// The server.
#[derive(Debug, Clone)]
pub struct SlowServer {
    /// Counters, shared with whoever built the server.
    pub counters: Arc<Counters>,
    delay: Duration,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl SlowServer {
    /// A server whose slow tool takes `delay`.
    pub fn new(delay: Duration) -> Self {
        SlowServer {
            counters: Arc::default(),
            delay,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Echo text after a slow computation",
        annotations(read_only_hint = true)
    )]
    async fn slow_echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        let n = self.counters.slow.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        let mut text = args.text.repeat(args.options.repeat as usize);
        if args.options.upper {
            text = text.to_uppercase();
        }
        format!("{text} (run {n})")
    }

    #[tool(
        description = "Always fails, as a tool result with isError",
        annotations(read_only_hint = true)
    )]
    async fn flaky(&self, Parameters(args): Parameters<FlakyArgs>) -> CallToolResult {
        let n = self.counters.flaky.fetch_add(1, Ordering::SeqCst) + 1;
        CallToolResult::error(vec![ContentBlock::text(format!(
            "{} failed (run {n})",
            args.text
        ))])
    }

    #[tool(
        description = "Changes the server's data: announces a new tool list and an updated blob"
    )]
    async fn touch(&self, context: RequestContext<RoleServer>) -> String {
        let _ = context.peer.notify_tool_list_changed().await;
        let _ = context
            .peer
            .notify_resource_updated(ResourceUpdatedNotificationParam::new(BLOB_URI))
            .await;
        "touched".to_owned()
    }

    #[tool(
        description = "Says which server answers: the SLOW_SERVER_NAME it was started with",
        annotations(read_only_hint = true)
    )]
    async fn server_name(&self) -> String {
        let n = self.counters.names.fetch_add(1, Ordering::SeqCst) + 1;
        let name = std::env::var("SLOW_SERVER_NAME").unwrap_or_else(|_| "unnamed".to_owned());
        format!("{name} (run {n})")
    }

    #[tool(
        description = "Records a side effect: counts a sent message",
        annotations(destructive_hint = true, read_only_hint = false)
    )]
    async fn send_message(&self) -> String {
        let n = self.counters.sends.fetch_add(1, Ordering::SeqCst) + 1;
        format!("sent message {n}")
    }

    #[tool(
        description = "Asks the client for its roots and counts them: depends on the client",
        annotations(read_only_hint = true)
    )]
    // Roots are deprecated (SEP-2577), but servers on older protocol versions still ask for
    // them: exactly the nested request the cache must notice.
    #[allow(deprecated)]
    async fn count_roots(&self, context: RequestContext<RoleServer>) -> String {
        let n = self.counters.roots.fetch_add(1, Ordering::SeqCst) + 1;
        match context.peer.list_roots().await {
            Ok(roots) => format!("{} roots (run {n})", roots.roots.len()),
            Err(e) => format!("no roots: {e} (run {n})"),
        }
    }

    #[tool(description = "Unannotated: presumed to have side effects")]
    async fn unannotated(&self) -> String {
        let n = self.counters.unannotated.fetch_add(1, Ordering::SeqCst) + 1;
        format!("unannotated run {n}")
    }

    #[tool(
        description = "Says which caller is asking, from the Authorization header",
        annotations(read_only_hint = true)
    )]
    async fn whoami(&self, context: RequestContext<RoleServer>) -> String {
        self.counters.whoami.fetch_add(1, Ordering::SeqCst);
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::AUTHORIZATION))
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| "anonymous".to_owned(), |v| format!("secret data of {v}"))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SlowServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .enable_tool_list_changed()
                .enable_resources_subscribe()
                .build(),
        )
        .with_instructions("A slow server, to show the cache")
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(BLOB_URI, "noise").with_mime_type("application/octet-stream"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != BLOB_URI {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        let n = self.counters.reads.fetch_add(1, Ordering::SeqCst);
        // Every byte value, in an order that changes on each run.
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(n as u32 * 97) >> 7) as u8)
            .chain(0..=255u8)
            .collect();
        *self.counters.last_blob.lock() = bytes.clone();
        let blob = base64::engine::general_purpose::STANDARD.encode(&bytes);
        Ok(ReadResourceResult::new(vec![
            ResourceContents::blob(blob, BLOB_URI).with_mime_type("application/octet-stream"),
        ])
        .into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(vec![Prompt::new(
            "greet",
            Some("Greets someone"),
            Some(vec![PromptArgument::new("name")]),
        )]))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let n = self.counters.prompts.fetch_add(1, Ordering::SeqCst) + 1;
        let name = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("name"))
            .and_then(|v| v.as_str())
            .unwrap_or("world")
            .to_owned();
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            format!("Hello, {name}! (run {n})"),
        )])
        .into())
    }
}
