//! The [`ServerHandler`] implementation of [`CachingHandler`]: the cacheable methods go through
//! the cache, everything else straight to the inner handler.

#![allow(deprecated)] // `subscribe` / `unsubscribe` are legacy in rmcp but still forwarded.

use std::borrow::Cow;

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

use crate::method::Method;
use crate::request::{CacheRequest, SkipReason};

use super::{CachingHandler, stateful};

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
