//! The MCP server: instructions, tools/list and tools/call from the registry, each call answered
//! with the `{success, data, error}` envelope and logged as one line.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, RequestParamsMeta, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Value};

use crate::client::{AltrClient, CallStats, CALL_STATS};
use crate::tools::{redact, Ctx, Registry, ToolError};

/// The server instructions sent to clients on initialize and discover.
pub const INSTRUCTIONS: &str = include_str!("../instructions.md");

/// The MCP server name clients see.
pub const SERVER_NAME: &str = "altr";

#[derive(Clone)]
pub struct AltrServer {
    registry: Arc<Registry>,
    ctx: Ctx,
    listed: Arc<OnceLock<Vec<Tool>>>,
}

impl AltrServer {
    pub fn new(registry: Arc<Registry>, client: Arc<AltrClient>) -> Self {
        Self {
            registry,
            ctx: Ctx::new(client),
            listed: Arc::new(OnceLock::new()),
        }
    }

    /// The MCP tool objects, built on first use.
    pub fn tool_list(&self) -> &[Tool] {
        self.listed
            .get_or_init(|| self.registry.tools().iter().map(|t| t.to_tool()).collect())
    }

    /// Run one tool call and shape its result; `None` when no such tool exists at all.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
    ) -> Option<CallToolResult> {
        self.call_in(self.ctx.clone(), name, arguments).await
    }

    /// [`AltrServer::call`] with this call's own context (e.g. one that reports progress).
    async fn call_in(
        &self,
        ctx: Ctx,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
    ) -> Option<CallToolResult> {
        let Some(def) = self.registry.get(name) else {
            if self.registry.is_hidden(name) {
                tracing::warn!(tool = name, "call to a tool this server does not expose");
                return Some(failure(&ToolError::Failed {
                    code: "tool_unavailable",
                    message: format!("Tool '{name}' is not available on this server: it is excluded by RESTRICTED_TOOLS, ALTR_READ_ONLY or ALTR_TOOLSETS."),
                    details: None,
                }));
            }
            return None;
        };
        let args = arguments.unwrap_or_default();
        let logged_args = redact(&Value::Object(args.clone()));
        let stats = Arc::new(CallStats::default());
        let started = Instant::now();
        let result = CALL_STATS
            .scope(stats.clone(), (def.handler)(ctx, args))
            .await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let requests = stats.requests.load(std::sync::atomic::Ordering::Relaxed);
        let status = match stats.last_status.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            s => Some(s),
        };
        Some(match result {
            Ok(data) => {
                tracing::info!(tool = name, elapsed_ms, outcome = "ok", requests, status, args = %logged_args, "tool call");
                success(data)
            }
            Err(e) => {
                let outcome = match &e {
                    ToolError::Invalid { .. } => "invalid_argument",
                    ToolError::Api(api) => api.code(),
                    ToolError::Failed { code, .. } => code,
                };
                tracing::warn!(tool = name, elapsed_ms, outcome, requests, status, args = %logged_args, error = %e, "tool call");
                failure(&e)
            }
        })
    }
}

fn result(envelope: Value, is_error: bool) -> CallToolResult {
    let mut r = CallToolResult::structured(envelope);
    r.is_error = Some(is_error);
    r
}

/// The success envelope.
pub fn success(data: Value) -> CallToolResult {
    result(json!({"success": true, "data": data, "error": null}), false)
}

/// The failure envelope, marked as a tool error.
pub fn failure(e: &ToolError) -> CallToolResult {
    result(
        json!({"success": false, "data": null, "error": e.to_json()}),
        true,
    )
}

impl ServerHandler for AltrServer {
    // Logging is deprecated by a newer protocol revision but still used by current clients.
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build(),
        )
        .with_server_info(
            Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION"))
                .with_title("ALTR data security"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tool_list().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tool_list().iter().find(|t| t.name == name).cloned()
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
        let ctx = match token {
            Some(token) => self.ctx.clone().with_progress(context.peer.clone(), token),
            None => self.ctx.clone(),
        };
        match self.call_in(ctx, &request.name, request.arguments).await {
            Some(r) => Ok(r.into()),
            None => Err(McpError::invalid_params(
                format!("Unknown tool: '{}'", request.name),
                None,
            )),
        }
    }
}
