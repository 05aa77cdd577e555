//! The MCP server: instructions, tools/list and tools/call from the registry, each call answered
//! with the `{success, data, error}` envelope and logged as one line (on stderr, and as a
//! `notifications/message` to a client that asked with `logging/setLevel`).
//!
//! Every call runs with the tool's effect, the client's cancellation and a deadline
//! (CALL_TIMEOUT); a result larger than MAX_RESULT_BYTES is cut, and says so.

// Logging is deprecated by a newer protocol revision but still used by current clients.
#![allow(deprecated)]

pub mod discovery;
pub mod prompts;
pub mod resources;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CustomRequest, CustomResult,
    Implementation, ListToolsResult, LoggingLevel, LoggingMessageNotificationParam, MetaObject,
    PaginatedRequestParams, ProtocolVersion, RequestParamsMeta, ServerCapabilities, ServerConfig,
    SetLevelRequestParams, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::client::{AltrClient, ApiError, CallContext, CALL};
use crate::registry::{ctx::is_idempotent, Ctx, Effect, Registry, ToolError};
use crate::safety::audit::{AuditLog, Origin};
use crate::safety::confirm::{ConfirmPolicy, Stop};
use crate::safety::redact::redact;

/// The server instructions sent to clients on initialize and discover.
pub const INSTRUCTIONS: &str = include_str!("../instructions.md");

/// The MCP server name clients see.
pub const SERVER_NAME: &str = "altr";

/// Limits of one tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOptions {
    /// The whole call, every request and retry included (CALL_TIMEOUT).
    pub call_timeout: Duration,
    /// The largest envelope returned, in bytes of JSON (MAX_RESULT_BYTES).
    pub max_result_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(120),
            max_result_bytes: 512 << 10,
        }
    }
}

#[derive(Clone)]
pub struct AltrServer {
    registry: Arc<Registry>,
    ctx: Ctx,
    listed: Arc<OnceLock<Vec<Tool>>>,
    options: ServerOptions,
    /// The level a client asked for with `logging/setLevel` (per session); none: no messages.
    log_level: Arc<Mutex<Option<LoggingLevel>>>,
    /// Which calls need a human's yes (ALTR_CONFIRM, ALTR_CONFIRM_TOOLS).
    confirm: Arc<ConfirmPolicy>,
    /// The audit trail (ALTR_AUDIT_LOG), when configured.
    audit: Option<Arc<AuditLog>>,
    /// Toolset discovery (ALTR_DYNAMIC_TOOLSETS), per session; none: every registry tool listed.
    discovery: Option<crate::server::discovery::Discovery>,
}

/// The one-line record of a call.
#[derive(Debug, Clone)]
pub struct CallLog {
    pub level: LoggingLevel,
    pub data: Value,
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
        Self {
            registry,
            ctx: Ctx::new(client),
            listed: Arc::new(OnceLock::new()),
            options: ServerOptions::default(),
            log_level: Arc::default(),
            confirm: Arc::default(),
            audit: None,
            discovery: None,
        }
    }

    /// This server with a confirmation policy and an audit trail ([`crate::safety::confirm`], [`crate::safety::audit`]).
    pub fn with_safety(mut self, confirm: ConfirmPolicy, audit: Option<AuditLog>) -> Self {
        self.confirm = Arc::new(confirm);
        self.audit = audit.map(Arc::new);
        self
    }

    /// Serve the tools of `registry`, each session listing only what `discovery` lets it see.
    pub fn with_discovery(
        mut self,
        registry: Arc<Registry>,
        discovery: crate::server::discovery::Discovery,
    ) -> Self {
        self.registry = registry;
        self.listed = Arc::new(OnceLock::new());
        self.discovery = Some(discovery);
        self
    }

    pub fn with_options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    pub fn options(&self) -> ServerOptions {
        self.options
    }

    /// A copy for a new session: same tools, client and shared state, its own logging level.
    pub fn session(&self) -> Self {
        let mut s = self.clone();
        s.log_level = Arc::default();
        s.discovery = self.discovery.as_ref().map(|d| d.fresh());
        s
    }

    /// The MCP tool objects, built on first use.
    pub fn tool_list(&self) -> &[Tool] {
        self.listed.get_or_init(|| {
            self.registry
                .tools()
                .iter()
                .map(|t| self.confirm.list(t, t.to_tool()))
                .collect()
        })
    }

    /// Run one tool call and shape its result; `None` when no such tool exists at all.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
    ) -> Option<CallToolResult> {
        self.run(name, arguments, CancellationToken::new())
            .await
            .map(|(r, _)| r)
    }

    /// Run one tool call under `cancel`; the result and its log record.
    pub async fn run(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
        cancel: CancellationToken,
    ) -> Option<(CallToolResult, CallLog)> {
        // Without a client there is no one to ask: no input-required result comes back.
        let (response, log) = self
            .run_reporting(name, arguments, cancel, None, Origin::default())
            .await?;
        let result = match response {
            CallToolResponse::Complete(r) => r,
            _ => failure(&ToolError::Failed {
                code: "confirmation_failed",
                message: format!(
                    "{name} needs a human's answer that this caller cannot give; nothing was sent."
                ),
                details: None,
            }),
        };
        Some((result, log))
    }

    /// [`AltrServer::run`], reporting progress to the client under its token when it gave one.
    async fn run_reporting(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
        cancel: CancellationToken,
        progress: Option<(rmcp::Peer<RoleServer>, rmcp::model::ProgressToken)>,
        origin: Origin,
    ) -> Option<(CallToolResponse, CallLog)> {
        let started = Instant::now();
        let logged_args = redact(&Value::Object(arguments.clone().unwrap_or_default()));
        let Some(def) = self.registry.get(name) else {
            let why = if self.registry.is_gated(name) {
                format!("Tool '{name}' returns protected data in clear text and is disabled on this server; set ALTR_ALLOW_CLEARTEXT=true to enable it.")
            } else if self.registry.is_hidden(name) {
                format!("Tool '{name}' is not available on this server: it is excluded by RESTRICTED_TOOLS, ALTR_READ_ONLY or ALTR_TOOLSETS.")
            } else {
                String::new()
            };
            if !why.is_empty() {
                tracing::warn!(tool = name, "call to a tool this server does not expose");
                let e = ToolError::Failed {
                    code: "tool_unavailable",
                    message: why,
                    details: None,
                };
                let log = CallLog {
                    level: LoggingLevel::Warning,
                    data: json!({"tool": name, "outcome": "tool_unavailable"}),
                };
                let e = self
                    .audited(
                        name,
                        None,
                        Err(e.clone()),
                        false,
                        &[],
                        started,
                        &logged_args,
                        &origin,
                    )
                    .err()
                    .unwrap_or(e);
                return Some((failure(&e).into(), log));
            }
            // Refused at protocol level (unknown tool); recorded all the same.
            let unknown = ToolError::Failed {
                code: "unknown_tool",
                message: String::new(),
                details: None,
            };
            let _ = self.audited(
                name,
                None,
                Err(unknown),
                false,
                &[],
                started,
                &logged_args,
                &origin,
            );
            return None;
        };
        let mut args = arguments.unwrap_or_default();
        let limit = self.options.call_timeout;
        // Dry run and confirmation ([`crate::registry::dryrun`], [`crate::safety::confirm`]) before the call.
        let flags = crate::registry::flags::take(def, false, &mut args)
            .and_then(|mut f| self.confirm.take_added(def, &mut args, &mut f).map(|_| f));
        let gate = match flags {
            Ok(f) => self
                .confirm
                .gate(def, &args, f, &self.ctx, &origin, &cancel, limit)
                .await
                .map(|_| f),
            Err(e) => Err(Stop::Refused(e)),
        };
        let gate = match gate {
            Ok(f) => Ok(f),
            Err(Stop::Refused(e)) => Err(e),
            // Protocol 2026-07-28: the question goes back in the result; nothing is sent yet.
            Err(Stop::Ask(question)) => {
                let asked = ToolError::Failed {
                    code: "input_required",
                    message: String::new(),
                    details: None,
                };
                let log = CallLog {
                    level: LoggingLevel::Info,
                    data: json!({"tool": name, "outcome": "input_required", "args": logged_args}),
                };
                return Some(
                    match self.audited(
                        name,
                        Some(def.effect),
                        Err(asked),
                        false,
                        &[],
                        started,
                        &logged_args,
                        &origin,
                    ) {
                        Err(ToolError::Failed {
                            code: "input_required",
                            ..
                        })
                        | Ok(_) => (question.into(), log),
                        // The audit line could not be written: fail closed.
                        Err(e) => (failure(&e).into(), log),
                    },
                );
            }
        };
        let dry_run = matches!(gate, Ok(f) if f.dry_run);
        let rehearsal = dry_run.then(|| Arc::new(crate::registry::dryrun::Rehearsal::default()));
        let call = Arc::new(CallContext::new(
            Some(is_idempotent(def.effect)),
            cancel.clone(),
            Some(limit),
        ));
        let mut ctx = self.ctx.for_call(def.effect, cancel);
        ctx.dry_run = rehearsal.clone();
        if let Some((peer, token)) = progress {
            ctx = ctx.with_progress(peer, token);
        }
        // The client enforces the deadline at every request boundary; this bound is the backstop
        // for a handler that waits on something else.
        let handler = CALL.scope(call.clone(), (def.handler)(ctx, args));
        let result = match gate {
            Err(e) => Err(e),
            Ok(_) => match tokio::time::timeout(limit + Duration::from_secs(1), handler).await {
                Ok(r) => r,
                Err(_) => Err(ToolError::Api(ApiError::Deadline {
                    method: "the".into(),
                    path: "tool".into(),
                    limit_secs: limit.as_secs_f64(),
                    completed: call.completed(),
                    in_flight: true,
                })),
            },
        };
        let result = match &rehearsal {
            Some(r) => r.finish(result, redact),
            None => result,
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let requests = call.completed();
        let status = match call
            .stats
            .last_status
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            0 => None,
            s => Some(s),
        };
        // A result that is ALTR saying it did not succeed is a failure, whatever the tool made of it.
        let result = match result {
            Ok(data) if data.get("success") == Some(&Value::Bool(false)) => {
                let message = crate::client::error::upstream_message(&data.to_string());
                Err(ToolError::Failed {
                    code: "upstream_unsuccessful",
                    message: format!("ALTR answered but reported that the operation did not succeed: {message}. Nothing is reported as done."),
                    details: None,
                })
            }
            other => other,
        };
        let statuses = call
            .stats
            .statuses
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        let result = self.audited(
            name,
            Some(def.effect),
            result,
            dry_run,
            &statuses,
            started,
            &logged_args,
            &origin,
        );
        Some(match result {
            Ok(data) => {
                tracing::info!(tool = name, elapsed_ms, outcome = "ok", requests, status, args = %logged_args, "tool call");
                let (mut result, truncated) = success_bounded(data, self.options.max_result_bytes);
                if def.effect == Effect::ClearText {
                    result.meta = Some(cleartext_label());
                }
                if truncated {
                    tracing::warn!(
                        tool = name,
                        limit = self.options.max_result_bytes,
                        "tool result cut to MAX_RESULT_BYTES"
                    );
                }
                let log = CallLog {
                    level: LoggingLevel::Info,
                    data: json!({"tool": name, "outcome": "ok", "status": status, "requests": requests, "elapsed_ms": elapsed_ms, "truncated": truncated, "args": logged_args}),
                };
                (result.into(), log)
            }
            Err(e) => {
                let outcome = match &e {
                    ToolError::Invalid { .. } => "invalid_argument",
                    ToolError::Api(api) => api.code(),
                    ToolError::Failed { code, .. } => code,
                };
                tracing::warn!(tool = name, elapsed_ms, outcome, requests, status, args = %logged_args, error = %e, "tool call");
                let log = CallLog {
                    level: LoggingLevel::Warning,
                    data: json!({"tool": name, "outcome": outcome, "status": status, "requests": requests, "elapsed_ms": elapsed_ms, "args": logged_args, "error": e.to_string()}),
                };
                (failure(&e).into(), log)
            }
        })
    }

    /// `result`, after its audit line is written; a line that cannot be written fails the call.
    #[allow(clippy::too_many_arguments)]
    fn audited(
        &self,
        tool: &str,
        effect: Option<Effect>,
        result: Result<Value, ToolError>,
        dry_run: bool,
        statuses: &[u16],
        started: Instant,
        args: &Value,
        origin: &Origin,
    ) -> Result<Value, ToolError> {
        let Some(log) = &self.audit else {
            return result;
        };
        let outcome = crate::safety::audit::outcome(&result, dry_run);
        let code = result.as_ref().err().map(|e| match e {
            ToolError::Invalid { .. } => "invalid_argument",
            ToolError::Api(api) => api.code(),
            ToolError::Failed { code, .. } => code,
        });
        let line = crate::safety::audit::entry(
            tool,
            effect,
            &outcome,
            code,
            statuses,
            started.elapsed().as_millis() as u64,
            args,
            origin.caller.as_deref(),
        );
        log.write(&line)?;
        result
    }

    /// The tools this session lists: every registry tool, or what toolset discovery shows it.
    fn session_tools(&self) -> Vec<Tool> {
        match &self.discovery {
            Some(d) => d.list(&self.registry, self.tool_list()),
            None => self.tool_list().to_vec(),
        }
    }

    /// Whether a record at `level` goes to this session's client.
    fn wants(&self, level: LoggingLevel) -> bool {
        let set = self.log_level.lock().map(|l| *l).unwrap_or(None);
        set.is_some_and(|min| rank(level) >= rank(min))
    }
}

/// The `_meta` label on results that carry protected data in clear text.
pub fn cleartext_label() -> MetaObject {
    let mut m = rmcp::model::JsonObject::new();
    m.insert("altr/sensitivity".into(), json!("cleartext"));
    MetaObject(m)
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

/// The success envelope, cut to at most `max_bytes` of JSON when the data is larger: the largest
/// list in it keeps as many items as fit (or the largest text is shortened), and the envelope says
/// `truncated: true` with what was kept and how to ask for less. True when it was cut.
pub fn success_bounded(data: Value, max_bytes: usize) -> (CallToolResult, bool) {
    let size = json_len(&data);
    // Room for the envelope and the truncation note.
    let budget = max_bytes.saturating_sub(600);
    if size + 64 <= max_bytes {
        return (success(data), false);
    }
    let (data, note) = shrink(data, budget);
    let envelope = json!({
        "success": true,
        "data": data,
        "error": null,
        "truncated": true,
        "truncation": note,
    });
    (result(envelope, false), true)
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX)
}

/// The JSON pointer of the largest array in `v` (by serialized size), and that size.
fn largest_array(v: &Value, at: String, best: &mut Option<(String, usize)>) {
    match v {
        Value::Array(items) => {
            let size = json_len(v);
            if best.as_ref().is_none_or(|(_, s)| size > *s) {
                *best = Some((at.clone(), size));
            }
            for (i, item) in items.iter().enumerate() {
                if matches!(item, Value::Array(_) | Value::Object(_)) {
                    largest_array(item, format!("{at}/{i}"), best);
                }
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if matches!(item, Value::Array(_) | Value::Object(_)) {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    largest_array(item, format!("{at}/{key}"), best);
                }
            }
        }
        _ => {}
    }
}

const NARROW: &str = "The result was larger than MAX_RESULT_BYTES and was cut: ask for less (a filter, a smaller limit, or one page at a time with the tool's cursor) to see the rest.";

fn shrink(data: Value, budget: usize) -> (Value, Value) {
    let original = data;
    let mut data = original.clone();
    let mut best = None;
    largest_array(&data, String::new(), &mut best);
    if let Some((pointer, _)) = best {
        let total = data
            .pointer(&pointer)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        // Binary search for the most items that fit.
        let full = &original;
        let (mut lo, mut hi) = (0usize, total);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let mut trial = full.clone();
            if let Some(Value::Array(items)) = trial.pointer_mut(&pointer) {
                items.truncate(mid);
            }
            if json_len(&trial) <= budget {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if let Some(Value::Array(items)) = data.pointer_mut(&pointer) {
            items.truncate(lo);
        }
        if json_len(&data) <= budget {
            return (
                data,
                json!({"list": format!("/data{pointer}"), "returned": lo, "total": total, "hint": NARROW}),
            );
        }
    }
    // No list to cut (or cutting it is not enough): return the start of the JSON text.
    let text = serde_json::to_string(&original).unwrap_or_default();
    let mut end = budget.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.get(..end).unwrap_or_default().to_string();
    (
        Value::String(cut),
        json!({"returned_bytes": end, "total_bytes": text.len(), "hint": format!("{NARROW} The data is given as the start of its JSON text.")}),
    )
}

/// The failure envelope, marked as a tool error.
pub fn failure(e: &ToolError) -> CallToolResult {
    result(
        json!({"success": false, "data": null, "error": e.to_json()}),
        true,
    )
}

/// The JSON-RPC methods this server knows; a malformed request for one of them is -32602.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/call",
    "tools/list",
    "logging/setLevel",
    "completion/complete",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "server/discover",
];

/// Why `tools/call` params are not usable, without echoing any value.
fn tools_call_problem(params: Option<&Value>) -> String {
    let Some(Value::Object(p)) = params else {
        return "params must be an object with a tool `name` (a string) and optional `arguments` (an object)".into();
    };
    match p.get("name") {
        None => return "params.name is required: the name of the tool to call".into(),
        Some(Value::String(_)) => {}
        Some(_) => return "params.name must be a string naming a tool".into(),
    }
    match p.get("arguments") {
        None | Some(Value::Object(_)) | Some(Value::Null) => {
            "params do not match tools/call (name: string, arguments: object)".into()
        }
        Some(_) => "params.arguments must be an object of named arguments".into(),
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
        if self.discovery.is_some() {
            if let Some(tools) = capabilities.tools.as_mut() {
                tools.list_changed = Some(true);
            }
        }
        ServerConfig::new(capabilities)
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
        Ok(ListToolsResult::with_all_items(self.session_tools()))
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
            crate::server::prompts::list(),
        ))
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, McpError> {
        crate::server::prompts::get(&request.name, request.arguments.as_ref())
            .map(rmcp::model::GetPromptResponse::Complete)
            .map_err(|e| McpError::invalid_params(e.to_string(), None))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, McpError> {
        Ok(rmcp::model::ListResourcesResult::with_all_items(
            crate::server::resources::list(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, McpError> {
        Ok(rmcp::model::ListResourceTemplatesResult::with_all_items(
            crate::server::resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, McpError> {
        match crate::server::resources::read(self, &request.uri).await {
            Ok(r) => Ok(rmcp::model::ReadResourceResponse::Complete(r)),
            Err(e) => Err(McpError::resource_not_found(e.to_string(), None)),
        }
    }

    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, McpError> {
        Ok(
            crate::server::prompts::complete(self, &request.argument.name, &request.argument.value)
                .await,
        )
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
                .intercept(&self.registry, &request.name, args, Some(&context.peer))
                .await
            {
                return Ok(r.into());
            }
        }
        let mut origin = Origin::of(&context);
        origin.round = crate::safety::confirm::Round {
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
        match self
            .run_reporting(
                &request.name,
                request.arguments,
                context.ct.clone(),
                progress,
                origin,
            )
            .await
        {
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
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        let method = request.method.as_str();
        if !KNOWN_METHODS.contains(&method) {
            return Err(McpError::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                format!(
                    "Method not found: {}",
                    crate::safety::redact::escape_log_text(&crate::client::error::truncate(
                        method, 100
                    ))
                ),
                None,
            ));
        }
        let problem = if method == "tools/call" {
            tools_call_problem(request.params.as_ref())
        } else {
            format!("params do not match what {method} takes")
        };
        Err(McpError::invalid_params(
            format!("Invalid params for {method}: {problem}"),
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_results_are_returned_whole() {
        let (r, cut) = success_bounded(json!({"items": [1, 2, 3]}), 10_000);
        assert!(!cut);
        assert_eq!(
            r.structured_content.unwrap(),
            json!({"success": true, "data": {"items": [1, 2, 3]}, "error": null})
        );
    }

    #[test]
    fn large_results_are_cut_at_their_largest_list_and_say_so() {
        let items: Vec<Value> = (0..5000)
            .map(|i| json!({"id": i, "name": format!("column-{i}")}))
            .collect();
        let data = json!({"data": {"columns": items, "count": 5000}});
        let (r, cut) = success_bounded(data, 20_000);
        assert!(cut);
        let env = r.structured_content.unwrap();
        assert!(serde_json::to_vec(&env).unwrap().len() <= 20_000);
        assert_eq!(env["truncated"], true);
        assert_eq!(env["truncation"]["list"], "/data/data/columns");
        assert_eq!(env["truncation"]["total"], 5000);
        let kept = env["data"]["data"]["columns"].as_array().unwrap().len();
        assert_eq!(env["truncation"]["returned"], kept);
        assert!(kept > 100 && kept < 5000, "{kept}");
        assert_eq!(env["data"]["data"]["count"], 5000);
        assert!(env["truncation"]["hint"]
            .as_str()
            .unwrap()
            .contains("MAX_RESULT_BYTES"));
    }

    #[test]
    fn a_large_text_is_cut_too() {
        let (r, cut) = success_bounded(json!({"blob": "x".repeat(50_000)}), 10_000);
        assert!(cut);
        let env = r.structured_content.unwrap();
        assert!(serde_json::to_vec(&env).unwrap().len() <= 10_000);
        assert_eq!(env["truncated"], true);
        assert!(env["data"].as_str().unwrap().starts_with("{\"blob\":\"xxx"));
    }

    #[test]
    fn malformed_tools_call_params_are_explained() {
        assert!(tools_call_problem(None).contains("name"));
        assert!(tools_call_problem(Some(&json!({"arguments": {}}))).contains("required"));
        assert!(tools_call_problem(Some(&json!({"name": 5}))).contains("string"));
        assert!(
            tools_call_problem(Some(&json!({"name": "x", "arguments": [1]}))).contains("object")
        );
    }
}
