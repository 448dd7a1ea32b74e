//! [`CachingHandler`]: an rmcp [`ServerHandler`] that answers cacheable requests from a
//! [`ResponseCache`] and forwards everything else untouched.

#![allow(deprecated)] // `subscribe` / `unsubscribe` are legacy in rmcp but still forwarded.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams,
    CancelledNotificationParam, CompleteRequestParams, CompleteResult, CustomNotification,
    CustomRequest, CustomResult, DiscoverResult, GetPromptRequestParams, GetPromptResponse,
    GetPromptResult, GetSkillRequestParams, GetSkillResult, GetTaskParams, GetTaskResult,
    InitializeRequestParams, InitializeResult, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListSkillsResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ProtocolVersion, ReadResourceDirectoryRequestParams,
    ReadResourceDirectoryResult, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, ServerConfig, SetLevelRequestParams, SubscribeRequestParams,
    SubscriptionFilter, Tool, UnsubscribeRequestParams, UpdateTaskParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::{Lookup, ResponseCache, Ticket};
use crate::caller::Caller;
use crate::method::Method;
use crate::namespace::Namespace;
use crate::policy::ToolSafety;
use crate::request::{CacheRequest, SkipReason};

/// Decides who sent a request, from its context.
pub type CallerResolver = Arc<dyn Fn(&RequestContext<RoleServer>) -> Caller + Send + Sync>;

/// Headers other than `Authorization` that carry credentials: a request holding any of them
/// is never treated as anonymous by [`default_caller`].
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "cookie",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-access-token",
];

/// The default [`CallerResolver`].
///
/// In order:
///
/// 1. a [`Caller`] that an authentication layer put in the request's extensions (the way to
///    plug in verified identities: insert `Caller::from_identity(user_id)` there);
/// 2. the `Authorization` header of the HTTP request (rmcp's Streamable HTTP server puts the
///    request's [`http::request::Parts`] there), digested as a token; a header that is not
///    visible ASCII makes the caller [`Caller::unidentified`] — never cached — rather than
///    anonymous;
/// 3. any of the [`CREDENTIAL_HEADERS`] (cookies, API-key headers), digested together as raw
///    bytes: a partition per set of credentials;
/// 4. otherwise [`Caller::anonymous`] (stdio has no authentication).
pub fn default_caller(context: &RequestContext<RoleServer>) -> Caller {
    if let Some(caller) = context.extensions.get::<Caller>() {
        return caller.clone();
    }
    match context.extensions.get::<http::request::Parts>() {
        Some(parts) => caller_from_headers(&parts.headers),
        None => Caller::anonymous(),
    }
}

/// The caller an HTTP request's headers name, as [`default_caller`] decides it.
///
/// ```
/// use http::HeaderMap;
/// use stowage_mcp::{Caller, caller_from_headers};
///
/// let mut h = HeaderMap::new();
/// assert_eq!(caller_from_headers(&h), Caller::anonymous());
/// h.insert("cookie", "session=abc".parse().unwrap());
/// assert!(caller_from_headers(&h).partition().unwrap().starts_with('u'));
/// h.insert("authorization", http::HeaderValue::from_bytes(b"Bearer \xff").unwrap());
/// assert_eq!(caller_from_headers(&h), Caller::unidentified());
/// ```
pub fn caller_from_headers(headers: &http::HeaderMap) -> Caller {
    let mut authorization = headers.get_all(http::header::AUTHORIZATION).iter();
    if let Some(value) = authorization.next() {
        if authorization.next().is_some() {
            return Caller::unidentified();
        }
        return match value.to_str().map(str::trim) {
            Ok(token) if !token.is_empty() => Caller::from_token(token),
            _ => Caller::unidentified(),
        };
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for name in CREDENTIAL_HEADERS {
        for value in headers.get_all(*name) {
            parts.push(name.as_bytes());
            parts.push(value.as_bytes());
        }
    }
    if parts.is_empty() {
        Caller::anonymous()
    } else {
        Caller::from_credentials(&parts)
    }
}

/// An rmcp [`ServerHandler`] around another, answering `tools/call`, `resources/read`,
/// `prompts/get` and the `*/list` methods from a [`ResponseCache`].
///
/// Every other method, notification and capability is forwarded to the inner handler as is;
/// so are cacheable requests the policy excludes. The wrapper changes no answer: a hit is the
/// answer the inner handler gave, as it gave it.
///
/// ```no_run
/// # async fn demo(my_server: impl rmcp::ServerHandler) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use rmcp::ServiceExt;
/// use stowage_mcp::{CachePolicy, CachingHandler, Method, ResponseCache};
///
/// let policy = CachePolicy::default()
///     .ttl(Method::ToolsCall, Some(Duration::from_secs(600)))
///     .deny_tools(["send_email"]);
/// let cache = ResponseCache::new(stowage_memory::MemoryStore::new(), policy)?;
/// let server = CachingHandler::new(my_server, cache.clone());
/// let running = server.serve(rmcp::transport::stdio()).await?;
/// // When the server's data changes, drop what is stale:
/// cache.invalidate(Method::ToolsCall).await?;
/// running.waiting().await?;
/// # Ok(()) }
/// ```
///
/// # Which server, which tools
///
/// Unless the cache was given a namespace ([`ResponseCache::in_namespace`]), the wrapper names
/// it after the inner server's `serverInfo` name and version ([`Namespace::for_server`]), so
/// two servers on one store keep apart; clones of the cache share that choice.
///
/// `tools/call` is cached for the tools the policy allows; by default those the server marks
/// read-only. The wrapper learns a tool's annotations from [`ServerHandler::get_tool`] and from
/// every `tools/list` answer it relays.
///
/// # Answers that depended on the client
///
/// A handler that asks the client something while answering (elicitation, sampling, roots)
/// does so through its peer, which the wrapper cannot see. Serve the wrapper over a
/// [`WatchedTransport`](crate::WatchedTransport) (for stdio or any transport you build) so those answers are not
/// stored, or deny those tools in the policy. `notifications/roots/list_changed` from the
/// client clears the server's cached answers.
///
/// # Invalidation
///
/// A handler sends its notifications through its peer, which the wrapper does not see: call
/// [`ResponseCache::invalidate`], [`ResponseCache::invalidate_resource`] or
/// [`ResponseCache::observe_notification`] on the cache (a clone of it) when sending
/// `list_changed` or `resources/updated`. The proxy sees every notification and does this
/// itself.
pub struct CachingHandler<H> {
    inner: H,
    cache: ResponseCache,
    resolver: CallerResolver,
}

impl<H: fmt::Debug> fmt::Debug for CachingHandler<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingHandler")
            .field("inner", &self.inner)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl<H: Clone> Clone for CachingHandler<H> {
    fn clone(&self) -> Self {
        CachingHandler {
            inner: self.inner.clone(),
            cache: self.cache.clone(),
            resolver: self.resolver.clone(),
        }
    }
}

impl<H: ServerHandler> CachingHandler<H> {
    /// Wrap `inner`, answering from `cache`; callers are told apart by [`default_caller`].
    ///
    /// When the cache has no namespace of its own yet, it takes the inner server's
    /// (`serverInfo` name and version).
    pub fn new(inner: H, cache: ResponseCache) -> Self {
        let info = inner.get_info();
        cache.settle_namespace(Namespace::for_server(
            &info.server_info.name,
            &info.server_info.version,
            &[],
        ));
        CachingHandler {
            inner,
            cache,
            resolver: Arc::new(default_caller),
        }
    }
}

impl<H> CachingHandler<H> {
    /// Tell callers apart with `resolver` instead of [`default_caller`].
    #[must_use]
    pub fn with_caller_resolver(
        mut self,
        resolver: impl Fn(&RequestContext<RoleServer>) -> Caller + Send + Sync + 'static,
    ) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// The cache (clone it to invalidate or read statistics).
    pub fn cache(&self) -> &ResponseCache {
        &self.cache
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// Unwrap.
    pub fn into_inner(self) -> H {
        self.inner
    }
}

impl<H: ServerHandler> CachingHandler<H> {
    /// Look a request up. `Ok(answer)` is a hit; `Err(ticket)` means forward, and store the
    /// answer under the ticket when there is one.
    async fn begin<T: DeserializeOwned>(
        &self,
        request: CacheRequest<'_>,
        context: &RequestContext<RoleServer>,
    ) -> Result<T, Option<Ticket>> {
        if request.method() == Method::ToolsCall
            && self.cache.tool_safety(request.name()).is_none()
            && let Some(tool) = self.inner.get_tool(request.name())
            && let Ok(json) = serde_json::to_value(&tool)
        {
            self.cache
                .set_tool_safety(request.name(), ToolSafety::from_tool(&json));
        }
        if !self.cache.applies_to(&request) {
            // Counted as a bypass without resolving the caller.
            let _ = self.cache.lookup(&request, &Caller::anonymous()).await;
            return Err(None);
        }
        let caller = (self.resolver)(context);
        match self.cache.lookup(&request, &caller).await {
            // An entry this rmcp version cannot read (written by another one): forward, and
            // let the fresh answer replace it.
            Lookup::Hit(value) => serde_json::from_str(value.as_str()).map_err(|_| None),
            Lookup::Miss(ticket) => Err(Some(ticket)),
            Lookup::Bypass => Err(None),
        }
    }

    /// Store a forwarded answer under `ticket`, if it may be kept.
    async fn finish<T: Serialize + Sync>(
        &self,
        ticket: Option<Ticket>,
        answer: Result<Option<&T>, SkipReason>,
    ) {
        let Some(ticket) = ticket else { return };
        match answer.map(|a| a.map(serde_json::to_value)) {
            Ok(Some(Ok(json))) => {
                let _ = self.cache.complete(ticket, &json).await;
            }
            Ok(Some(Err(_))) => {
                let _ = self.cache.skip(ticket, SkipReason::Malformed);
            }
            Ok(None) => {
                let _ = self.cache.skip(ticket, SkipReason::InputRequired);
            }
            Err(reason) => {
                let _ = self.cache.skip(ticket, reason);
            }
        }
    }

    async fn cached_list<T, F>(
        &self,
        method: Method,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
        forward: impl FnOnce(Option<PaginatedRequestParams>, RequestContext<RoleServer>) -> F + Send,
    ) -> Result<T, McpError>
    where
        T: Serialize + DeserializeOwned + Send + Sync,
        F: Future<Output = Result<T, McpError>> + Send,
    {
        let cursor = request
            .as_ref()
            .and_then(|r| r.cursor.clone())
            .unwrap_or_default();
        let learn = |answer: &T| {
            if method == Method::ToolsList
                && let Ok(json) = serde_json::to_value(answer)
            {
                self.cache.learn_tools(&json);
            }
        };
        let ticket = match self
            .begin::<T>(CacheRequest::new(method, &cursor, None), &context)
            .await
        {
            Ok(hit) => {
                learn(&hit);
                return Ok(hit);
            }
            Err(ticket) => ticket,
        };
        let answer = forward(request, context).await;
        if let Ok(a) = &answer {
            learn(a);
        }
        self.finish(
            ticket,
            answer.as_ref().map(Some).map_err(|_| SkipReason::Error),
        )
        .await;
        answer
    }
}

fn stateful(request_state: &Option<String>, input_responses: bool) -> bool {
    request_state.is_some() || input_responses
}

#[deny(clippy::missing_trait_methods)]
impl<H: ServerHandler> ServerHandler for CachingHandler<H> {
    async fn ping(&self, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.inner.ping(context).await
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        self.inner.initialize(request, context).await
    }

    fn negotiate_initialize(
        &self,
        request: &InitializeRequestParams,
    ) -> Result<InitializeResult, McpError> {
        self.inner.negotiate_initialize(request)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, McpError> {
        self.inner.discover(context).await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        self.inner.complete(request, context).await
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner.set_level(request, context).await
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let lookup = CacheRequest::with_map(
            Method::PromptsGet,
            &request.name,
            request.arguments.as_ref(),
        )
        .stateful(stateful(
            &request.request_state,
            request.input_responses.is_some(),
        ));
        let ticket = match self.begin::<GetPromptResult>(lookup, &context).await {
            Ok(hit) => return Ok(GetPromptResponse::Complete(hit)),
            Err(ticket) => ticket,
        };
        let answer = self.inner.get_prompt(request, context).await;
        let complete = match &answer {
            Ok(GetPromptResponse::Complete(r)) => Ok(Some(r)),
            Ok(_) => Ok(None),
            Err(_) => Err(SkipReason::Error),
        };
        self.finish(ticket, complete).await;
        answer
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        self.cached_list(Method::PromptsList, request, context, |r, c| {
            self.inner.list_prompts(r, c)
        })
        .await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        self.cached_list(Method::ResourcesList, request, context, |r, c| {
            self.inner.list_resources(r, c)
        })
        .await
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        self.cached_list(Method::ResourceTemplatesList, request, context, |r, c| {
            self.inner.list_resource_templates(r, c)
        })
        .await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let lookup = CacheRequest::new(Method::ResourcesRead, &request.uri, None).stateful(
            stateful(&request.request_state, request.input_responses.is_some()),
        );
        let ticket = match self.begin::<ReadResourceResult>(lookup, &context).await {
            Ok(hit) => return Ok(ReadResourceResponse::Complete(hit)),
            Err(ticket) => ticket,
        };
        let answer = self.inner.read_resource(request, context).await;
        let complete = match &answer {
            Ok(ReadResourceResponse::Complete(r)) => Ok(Some(r)),
            Ok(_) => Ok(None),
            Err(_) => Err(SkipReason::Error),
        };
        self.finish(ticket, complete).await;
        answer
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        self.inner.listen(context).await
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner.subscribe(request, context).await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner.unsubscribe(request, context).await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let lookup =
            CacheRequest::with_map(Method::ToolsCall, &request.name, request.arguments.as_ref())
                .stateful(stateful(
                    &request.request_state,
                    request.input_responses.is_some(),
                ));
        let ticket = match self.begin::<CallToolResult>(lookup, &context).await {
            Ok(hit) => return Ok(CallToolResponse::Complete(hit)),
            Err(ticket) => ticket,
        };
        let answer = self.inner.call_tool(request, context).await;
        let complete = match &answer {
            Ok(CallToolResponse::Complete(r)) => Ok(Some(r)),
            Ok(CallToolResponse::Task(_)) => Err(SkipReason::Task),
            Ok(_) => Ok(None),
            Err(_) => Err(SkipReason::Error),
        };
        self.finish(ticket, complete).await;
        answer
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.cached_list(Method::ToolsList, request, context, |r, c| {
            self.inner.list_tools(r, c)
        })
        .await
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name)
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        self.inner.on_custom_request(request, context).await
    }

    async fn on_cancelled(
        &self,
        notification: CancelledNotificationParam,
        context: NotificationContext<RoleServer>,
    ) {
        self.inner.on_cancelled(notification, context).await
    }

    async fn on_progress(
        &self,
        notification: ProgressNotificationParam,
        context: NotificationContext<RoleServer>,
    ) {
        self.inner.on_progress(notification, context).await
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.inner.on_initialized(context).await
    }

    async fn on_roots_list_changed(&self, context: NotificationContext<RoleServer>) {
        // The server's answers may depend on the client's roots.
        let _ = self.cache.clear().await;
        self.inner.on_roots_list_changed(context).await
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) {
        self.inner
            .on_custom_notification(notification, context)
            .await
    }

    fn get_info(&self) -> ServerConfig {
        self.inner.get_info()
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        self.inner.get_task(request, context).await
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner.update_task(request, context).await
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner.cancel_task(request, context).await
    }

    async fn list_skills(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, McpError> {
        self.inner.list_skills(request, context).await
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, McpError> {
        self.inner.get_skill(request, context).await
    }

    async fn read_resource_directory(
        &self,
        request: ReadResourceDirectoryRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceDirectoryResult, McpError> {
        self.inner.read_resource_directory(request, context).await
    }
}
