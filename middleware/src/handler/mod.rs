//! [`CachingHandler`]: an rmcp [`ServerHandler`] that answers cacheable requests from a
//! [`ResponseCache`] and forwards everything else untouched.

use std::fmt;
use std::sync::Arc;

use rmcp::model::PaginatedRequestParams;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::{Lookup, ResponseCache, Ticket};
use crate::caller::Caller;
use crate::method::Method;
use crate::namespace::Namespace;
use crate::policy::ToolSafety;
use crate::request::{CacheRequest, SkipReason};
use crate::resolve::{CallerResolver, default_caller};

mod forward;

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

pub(super) fn stateful(request_state: &Option<String>, input_responses: bool) -> bool {
    request_state.is_some() || input_responses
}
