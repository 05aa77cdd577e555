//! The MCP server: its name and [`instructions`], tools/list from the registry (per session
//! with toolset [`discovery`]), [`prompts`], [`resources`], and tools/call through the one call
//! [`pipeline`] and its [`gates`], each call answered with the `{success, data, error}`
//! [`envelope`] and logged as one line (on stderr, and as a `notifications/message` to a client
//! that asked with `logging/setLevel`). Requests rmcp cannot route are answered in [`protocol`].

// Logging is deprecated by a newer protocol revision but still used by current clients.
#![allow(deprecated)]

pub mod apps;
pub mod discovery;
pub mod envelope;
pub mod gates;
pub mod instructions;
pub mod pipeline;
pub mod prompts;
pub mod protocol;
pub mod resources;

use std::sync::{Arc, Mutex, OnceLock};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CustomRequest, CustomResult,
    Implementation, ListToolsResult, LoggingLevel, LoggingMessageNotificationParam,
    PaginatedRequestParams, ProtocolVersion, RequestParamsMeta, ServerCapabilities, ServerConfig,
    SetLevelRequestParams, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use crate::client::AltrClient;
use crate::logging::traces::TraceHeaders;
use crate::registry::ctx::Ctx;
use crate::registry::flags;
use crate::registry::select::Registry;
use crate::safety::audit::AuditLog;
use crate::safety::caller::{Origin, Round};
use crate::safety::confirm::ConfirmPolicy;
use crate::safety::permission::Permission;
use crate::safety::support::SupportMode;
use discovery::Discovery;
pub use pipeline::ServerOptions;
use pipeline::{Call, Gate, Pipeline};

pub use instructions::{INSTRUCTIONS, SERVER_NAME};

#[derive(Clone)]
pub struct AltrServer {
    registry: Arc<Registry>,
    ctx: Ctx,
    options: ServerOptions,
    /// Which calls need a human's yes (ALTR_CONFIRM, ALTR_CONFIRM_TOOLS).
    confirm: Arc<ConfirmPolicy>,
    /// The audit trail (ALTR_AUDIT_LOG), when configured.
    audit: Option<Arc<AuditLog>>,
    /// Gates added after the standard ones ([`AltrServer::with_gate`]).
    extra: Vec<Arc<dyn Gate>>,
    /// Every call goes through it; rebuilt when the server is configured.
    pipeline: Arc<Pipeline>,
    listed: Arc<OnceLock<Vec<Tool>>>,
    /// The level a client asked for with `logging/setLevel` (per session); none: no messages.
    log_level: Arc<Mutex<Option<LoggingLevel>>>,
    /// Toolset discovery (ALTR_DYNAMIC_TOOLSETS), per session; none: every registry tool listed.
    discovery: Option<Discovery>,
    /// Support mode, per session ([`crate::safety::support`]).
    support: SupportMode,
    /// The instructions sent on initialize: [`INSTRUCTIONS`] unless composed for the settings
    /// ([`AltrServer::with_instructions`]).
    instructions: Arc<str>,
    /// Publish the troubleshooting prompts (SUPPORT_PROMPTS).
    support_prompts: bool,
    /// The permission this session's last request carried (per session): when a later request
    /// carries another (a token refreshed with other scopes), the client is told its tool list
    /// changed.
    permission: Arc<Mutex<Option<Option<Arc<Permission>>>>>,
    /// Counts this session as open in the metrics while any clone of it lives.
    open: Option<Arc<crate::metrics::Session>>,
    /// Offer MCP Apps to clients that render them (MCP_APPS).
    apps: bool,
    /// Declare the apps extension back at initialize: not over HTTP without sessions, where the
    /// capabilities a client declares at initialize are forgotten by its next request.
    apps_at_initialize: bool,
}

fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl AltrServer {
    pub fn new(registry: Arc<Registry>, client: Arc<AltrClient>) -> Self {
        let confirm = Arc::new(ConfirmPolicy::default());
        let registry_for_support = registry.clone();
        let ctx = Ctx::new(client);
        let options = ServerOptions::default();
        let pipeline = Arc::new(Pipeline::new(
            registry.clone(),
            ctx.clone(),
            options.clone(),
            confirm.clone(),
            gates::standard(confirm.clone(), None),
        ));
        Self {
            registry,
            ctx,
            options,
            confirm,
            audit: None,
            extra: Vec::new(),
            pipeline,
            listed: Arc::new(OnceLock::new()),
            log_level: Arc::default(),
            discovery: None,
            support: SupportMode::new(registry_for_support, false, false),
            instructions: Arc::from(INSTRUCTIONS),
            support_prompts: false,
            permission: Arc::default(),
            open: None,
            apps: true,
            apps_at_initialize: true,
        }
    }

    /// Offer MCP Apps (the masking matrix) to clients that declare the extension, or not.
    /// `stateless`: HTTP without sessions. There a client of a protocol revision with initialize
    /// declares its capabilities once, for a request no later one remembers, so it is not told of
    /// the extension and sees no app; a client of the newest revision declares them on every
    /// request and gets the app.
    pub fn with_apps(mut self, apps: bool, stateless: bool) -> Self {
        self.apps = apps;
        self.apps_at_initialize = apps && !stateless;
        self
    }

    /// Whether this request's client renders MCP Apps and this server offers them.
    fn apps_for(&self, context: &RequestContext<RoleServer>) -> bool {
        self.apps && apps::declared(context.client_capabilities().as_ref())
    }

    /// The pipeline for the current configuration: the standard gates, then any added.
    fn rebuilt(mut self) -> Self {
        let mut gates = gates::standard(self.confirm.clone(), self.audit.clone());
        gates.extend(self.extra.iter().cloned());
        self.pipeline = Arc::new(Pipeline::new(
            self.registry.clone(),
            self.ctx.clone(),
            self.options.clone(),
            self.confirm.clone(),
            gates,
        ));
        self.listed = Arc::new(OnceLock::new());
        self
    }

    /// This server with a confirmation policy and an audit trail ([`crate::safety::confirm`],
    /// [`crate::safety::audit`]).
    pub fn with_safety(mut self, confirm: ConfirmPolicy, audit: Option<AuditLog>) -> Self {
        self.confirm = Arc::new(confirm);
        self.audit = audit.map(Arc::new);
        self.rebuilt()
    }

    /// Serve the tools of `registry`, each session listing only what `discovery` lets it see.
    pub fn with_discovery(mut self, registry: Arc<Registry>, discovery: Discovery) -> Self {
        self.support = self.support.with_registry(registry.clone());
        self.registry = registry;
        self.discovery = Some(discovery);
        self.rebuilt()
    }

    /// This server with support mode as the settings say: hard for every session with
    /// SUPPORT_MODE, and the troubleshooting prompts with SUPPORT_PROMPTS. `stateless`: HTTP without sessions, where no session can arm the mode.
    pub fn with_support(mut self, hard: bool, prompts: bool, stateless: bool) -> Self {
        self.support = SupportMode::new(self.registry.clone(), hard, stateless);
        self.support_prompts = prompts;
        self
    }

    /// This server with these instructions ([`instructions::compose`]).
    pub fn with_instructions(mut self, text: String) -> Self {
        self.instructions = Arc::from(text);
        self
    }

    pub fn with_options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self.rebuilt()
    }

    /// This server with one more gate, run after the standard ones on every call.
    pub fn with_gate(mut self, gate: Arc<dyn Gate>) -> Self {
        self.extra.push(gate);
        self.rebuilt()
    }

    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// The pipeline every call of this server goes through.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// A copy for a new session: same tools, client and shared state, its own logging level.
    pub fn session(&self) -> Self {
        let mut s = self.clone();
        s.log_level = Arc::default();
        s.discovery = self.discovery.as_ref().map(|d| d.fresh());
        s.support = self.support.fresh();
        s.permission = Arc::default();
        s
    }

    /// [`AltrServer::session`], counted as an open session of this transport in the metrics
    /// until the session ends.
    pub fn session_on(&self, transport: &'static str) -> Self {
        let mut s = self.session();
        s.open = Some(Arc::new(crate::metrics::session_opened(transport)));
        s
    }

    /// Remember the permission of this request; true when it differs from the last one seen in
    /// this session (the first request changes nothing).
    fn permission_changed(&self, origin: &Origin) -> bool {
        let Ok(mut seen) = self.permission.lock() else {
            return false;
        };
        let now = origin.permission.clone();
        let changed = seen.as_ref().is_some_and(|before| *before != now);
        *seen = Some(now);
        changed
    }

    /// This session's support mode.
    pub fn support(&self) -> &SupportMode {
        &self.support
    }

    /// The MCP tool objects, built on first use.
    pub fn tool_list(&self) -> &[Tool] {
        self.listed.get_or_init(|| {
            self.registry
                .tools()
                .iter()
                .map(|t| flags::listed(t, self.confirm.lists_confirm(t)))
                .collect()
        })
    }

    /// Run one tool call with no client to ask or report to; `None` when no such tool exists.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
    ) -> Option<CallToolResult> {
        self.pipeline.call(name, arguments).await
    }

    /// Run one tool call under `cancel` with no client to ask or report to; the result and its
    /// log record.
    pub async fn run(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Option<(CallToolResult, pipeline::CallLog)> {
        self.pipeline.call_with(name, arguments, cancel).await
    }

    /// The tools this session lists: every registry tool, or what toolset discovery shows it,
    /// less what support mode withholds now.
    /// The tools this server serves.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// The server's ALTR context (client and shared state) outside any tool call, for the
    /// readiness check ([`crate::transport::ready`]): what it sends is no tool call, so it is
    /// neither audited nor logged as one.
    pub fn probe_ctx(&self) -> Ctx {
        self.ctx.clone()
    }

    fn session_tools(&self) -> Vec<Tool> {
        let tools = match &self.discovery {
            Some(d) => d.list(&self.registry, self.tool_list()),
            None => self.tool_list().to_vec(),
        };
        let listing = self.support.listing();
        tools
            .into_iter()
            .filter(|t| listing.lists(&t.name))
            .collect()
    }

    /// Whether a record at `level` goes to this session's client.
    fn wants(&self, level: LoggingLevel) -> bool {
        let set = self.log_level.lock().map(|l| *l).unwrap_or(None);
        set.is_some_and(|min| rank(level) >= rank(min))
    }
}

impl ServerHandler for AltrServer {
    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_logging()
            .enable_prompts()
            .enable_resources()
            .enable_completions()
            .build();
        // Enabling a toolset, and arming, unlocking or leaving support mode, change the list.
        if let Some(tools) = capabilities.tools.as_mut() {
            tools.list_changed = Some(true);
        }
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION"))
                    .with_title("ALTR data security"),
            )
            .with_instructions(self.instructions.to_string())
    }

    async fn initialize(
        &self,
        request: rmcp::model::InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        // The apps extension is declared back only to a client that declared it, and only where
        // its later requests will be known to come from that client.
        if self.apps_at_initialize && apps::declared(Some(&request.capabilities)) {
            apps::advertise(&mut result.capabilities);
        }
        Ok(result)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let mut tools = self.session_tools();
        let origin = Origin::of(&context);
        self.permission_changed(&origin);
        // A caller with a permission (OAuth or a scoped token) sees only what it allows.
        if let Some(permission) = origin.permission {
            tools.retain(|t| {
                self.registry
                    .get(&t.name)
                    .is_none_or(|def| permission.allows(def))
            });
        }
        if self.apps_for(&context) {
            apps::mark(&mut tools, |name| {
                self.registry.get(name).and_then(|def| def.app)
            });
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.session_tools().into_iter().find(|t| t.name == name)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, McpError> {
        Ok(rmcp::model::ListPromptsResult::with_all_items(
            prompts::list(self.support_prompts),
        ))
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, McpError> {
        prompts::get(
            &request.name,
            request.arguments.as_ref(),
            self.support_prompts,
        )
        .map(rmcp::model::GetPromptResponse::Complete)
        .map_err(|e| McpError::invalid_params(e.to_string(), None))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, McpError> {
        let mut listed = resources::list();
        if self.apps_for(&context) {
            listed.extend(apps::resources());
        }
        Ok(rmcp::model::ListResourcesResult::with_all_items(listed))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, McpError> {
        Ok(rmcp::model::ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, McpError> {
        if self.apps_for(&context) {
            if let Some(app) = apps::read(&request.uri) {
                return Ok(rmcp::model::ReadResourceResponse::Complete(app));
            }
        }
        match resources::read(&self.pipeline, &request.uri).await {
            Ok(r) => Ok(rmcp::model::ReadResourceResponse::Complete(r)),
            Err(e) => Err(McpError::resource_not_found(e.to_string(), None)),
        }
    }

    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, McpError> {
        Ok(prompts::complete(
            &self.pipeline,
            &request.argument.name,
            &request.argument.value,
        )
        .await)
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut l) = self.log_level.lock() {
            *l = Some(request.level);
        }
        Ok(())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let token = context
            .meta
            .get_progress_token()
            .or_else(|| request.progress_token());
        let progress = token.map(|t| (context.peer.clone(), t));
        if let Some(d) = &self.discovery {
            let args = request.arguments.as_ref();
            if let Some(r) = d
                .intercept(
                    self.pipeline.registry(),
                    &request.name,
                    args,
                    Some(&context.peer),
                )
                .await
            {
                return Ok(r.into());
            }
        }
        let mut origin = Origin::of(&context);
        if self.permission_changed(&origin) {
            let _ = context.peer.notify_tool_list_changed().await;
        }
        origin.round = Round {
            newest: context
                .protocol_version()
                .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str()),
            can_elicit: context.client_capabilities().is_some_and(|c| {
                c.elicitation
                    .as_ref()
                    .is_some_and(|e| e.form.is_some() || e.url.is_none())
            }),
            input_responses: request.input_responses,
            request_state: request.request_state,
        };
        // The trace to continue: the HTTP request's traceparent header, else its `_meta` field.
        let trace = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| TraceHeaders::from_headers(&p.headers))
            .or_else(|| context.extensions.get::<TraceHeaders>().cloned())
            .or_else(|| TraceHeaders::from_meta(&context.meta));
        let call = Call::new(&request.name, request.arguments, context.ct.clone())
            .with_trace(trace)
            .with_app(self.apps_for(&context))
            .with_origin(origin)
            .with_progress(progress)
            .with_session(self.discovery.clone())
            .with_support(Some(self.support.clone()));
        let listed = self.support.version();
        let ran = self.pipeline.run(call).await;
        if self.support.version() != listed {
            let _ = context.peer.notify_tool_list_changed().await;
        }
        match ran {
            Some((r, log)) => {
                if self.wants(log.level) {
                    let _ = context
                        .peer
                        .notify_logging_message(
                            LoggingMessageNotificationParam::new(log.level, log.data)
                                .with_logger("altr-mcp"),
                        )
                        .await;
                }
                Ok(r)
            }
            None => Err(McpError::invalid_params(
                format!("Unknown tool: '{}'", request.name),
                None,
            )),
        }
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        protocol::unrouted_in(&request, context.protocol_version().as_ref())
    }
}
