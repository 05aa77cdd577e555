//! The one call pipeline. Every tool call goes through [`Pipeline::process`], whatever started
//! it: `tools/call` on any transport (a 2026-07-28 round included), the confirmation preview (the
//! same pipeline with dry-run on), `altr-mcp call`, and the prompts and resources that read
//! through the server's own tools.
//!
//! Around the handler runs an ordered list of [`Gate`]s, each with one job (see
//! [`super::gates::standard`]). Their `before` hooks run in order until one stops the call; then
//! the handler runs under the call's deadline and cancellation (unless a gate stopped it); then
//! every gate's `after` hook runs, in the same order, on the outcome. A new per-call rule is a new
//! gate: one file under `gates/` and one line in the list.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolResponse, CallToolResult, InputRequiredResult, JsonObject, LoggingLevel, ProgressToken,
};
use rmcp::{Peer, RoleServer};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::discovery::Discovery;
use super::envelope::{cleartext_label, failure, payload, success_bounded};
use crate::client::{CallContext, CALL};
use crate::logging::traces::{self, TraceHeaders};
use crate::registry::ctx::{Budget, Ctx, SessionState, MAX_PAGES};
use crate::registry::dryrun::Rehearsal;
use crate::registry::effect::Effect;
use crate::registry::error::{unsuccessful, CallError, ToolError, ToolResult};
use crate::registry::flags::Flags;
use crate::registry::select::Registry;
use crate::registry::tool::ToolDef;
use crate::safety::caller::Origin;
use crate::safety::confirm::ConfirmPolicy;
use crate::safety::redact::redact;
use crate::safety::support::SupportMode;

/// Limits of one tool call: the call section of the settings, [`crate::config::CallSettings`]
/// (CALL_TIMEOUT, MAX_RESULT_BYTES).
pub type ServerOptions = crate::config::CallSettings;

/// Why a call is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A call someone asked for: its result is returned, logged and audited.
    Call,
    /// The dry run shown to a human before a confirmed call: its result is the preview only.
    Preview,
}

/// One tool call on its way through the pipeline.
pub struct Call {
    /// The tool's name (its current name when it was called by an earlier one, which the
    /// selection gate notes as `called_as`; see [`ToolDef::formerly`]).
    pub name: String,
    /// The tool, once the selection gate has found it among those this server exposes.
    pub def: Option<ToolDef>,
    /// The tool's own arguments (the server's `dry_run` and `confirm` are taken out into `flags`).
    pub args: JsonObject,
    pub flags: Flags,
    /// The arguments as logged and audited: secrets redacted, server flags included.
    pub logged_args: Value,
    pub origin: Origin,
    pub cancel: CancellationToken,
    /// Where the tool reports progress, when the client gave a token.
    pub progress: Option<(Peer<RoleServer>, ProgressToken)>,
    /// The session's toolset discovery (ALTR_DYNAMIC_TOOLSETS), when on.
    pub session: Option<Discovery>,
    /// The session's support mode; none outside a session.
    pub support: Option<SupportMode>,
    pub purpose: Purpose,
    pub started: Instant,
    /// Set by the dry-run gate: the writes recorded instead of sent.
    pub rehearsal: Option<Arc<Rehearsal>>,
    /// What the handler's requests did (counts, statuses), once it has run.
    pub requests: Option<Arc<CallContext>>,
    /// Facts gates add to the call's audit record (`called_as`, for one).
    pub notes: JsonObject,
    /// The W3C trace context the request came with (a `traceparent` header or `_meta` field).
    pub trace: Option<TraceHeaders>,
    /// The call's span while it runs; none when traces are off or for a preview.
    pub span: tracing::Span,
    /// The client renders MCP Apps: a tool with an app attaches what it draws.
    pub app: bool,
    /// What the handler attached for its app, for the result's `_meta`.
    pub attached: JsonObject,
}

impl Call {
    pub fn new(name: &str, arguments: Option<JsonObject>, cancel: CancellationToken) -> Self {
        let args = arguments.unwrap_or_default();
        Call {
            name: name.to_string(),
            def: None,
            logged_args: redact(&Value::Object(args.clone())),
            args,
            flags: Flags::default(),
            origin: Origin::default(),
            cancel,
            progress: None,
            session: None,
            support: None,
            purpose: Purpose::Call,
            started: Instant::now(),
            rehearsal: None,
            requests: None,
            notes: JsonObject::new(),
            trace: None,
            span: tracing::Span::none(),
            app: false,
            attached: JsonObject::new(),
        }
    }

    /// Whether the client renders MCP Apps (it declared the extension).
    pub fn with_app(mut self, app: bool) -> Self {
        self.app = app;
        self
    }

    /// The trace the caller's request belongs to, to continue.
    pub fn with_trace(mut self, trace: Option<TraceHeaders>) -> Self {
        self.trace = trace;
        self
    }

    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    pub fn with_progress(mut self, progress: Option<(Peer<RoleServer>, ProgressToken)>) -> Self {
        self.progress = progress;
        self
    }

    pub fn with_session(mut self, session: Option<Discovery>) -> Self {
        self.session = session;
        self
    }

    pub fn with_support(mut self, support: Option<SupportMode>) -> Self {
        self.support = support;
        self
    }

    /// The tool's effect, once the selection gate has found it.
    pub fn effect(&self) -> Option<Effect> {
        self.def.as_ref().map(|d| d.effect)
    }

    /// The upstream HTTP statuses of the call's requests, in order.
    pub fn statuses(&self) -> Vec<u16> {
        self.requests
            .as_ref()
            .and_then(|c| c.stats.statuses.lock().ok().map(|s| s.clone()))
            .unwrap_or_default()
    }

    /// How many requests of the call completed.
    pub fn completed(&self) -> u32 {
        self.requests.as_ref().map_or(0, |c| c.completed())
    }

    /// The HTTP status of the call's last request.
    pub fn last_status(&self) -> Option<u16> {
        self.requests
            .as_ref()
            .map(|c| c.stats.last_status.load(Ordering::Relaxed))
            .filter(|s| *s != 0)
    }
}

/// Why a gate did not let a call go on.
#[derive(Debug)]
pub enum Stop {
    /// Refused or declined: the failure to return (nothing sent).
    Refused(ToolError),
    /// The human's answer is needed first: the input-required result to return (protocol
    /// 2026-07-28).
    Ask(InputRequiredResult),
    /// No tool of that name exists at all: a protocol error, not a tool result.
    Unknown,
}

impl From<ToolError> for Stop {
    fn from(e: ToolError) -> Self {
        Stop::Refused(e)
    }
}

/// How a call ended.
#[derive(Debug)]
pub enum Outcome {
    /// The tool ran, or a gate refused it: the data or the failure.
    Done(ToolResult),
    /// A question for the human goes back first (protocol 2026-07-28).
    Ask(InputRequiredResult),
    /// No such tool.
    Unknown,
}

impl From<Stop> for Outcome {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Refused(e) => Outcome::Done(Err(e)),
            Stop::Ask(q) => Outcome::Ask(q),
            Stop::Unknown => Outcome::Unknown,
        }
    }
}

pub type GateFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Stop>> + Send + 'a>>;

/// One per-call rule around the handler.
pub trait Gate: Send + Sync {
    /// Before the handler: let the call go on, or stop it. May change the call (take arguments,
    /// set the dry run).
    fn before<'a>(&'a self, call: &'a mut Call, pipeline: &'a Pipeline) -> GateFuture<'a> {
        let _ = (call, pipeline);
        Box::pin(std::future::ready(Ok(())))
    }

    /// After the handler, or after any gate stopped the call: may change the outcome.
    fn after(&self, call: &Call, outcome: &mut Outcome) {
        let _ = (call, outcome);
    }
}

/// The one-line record of a call (on stderr, and as `notifications/message` to a client that asked).
#[derive(Debug, Clone)]
pub struct CallLog {
    pub level: LoggingLevel,
    pub data: Value,
}

/// The tools, the client and the gates every call of a server goes through.
pub struct Pipeline {
    registry: Arc<Registry>,
    ctx: Ctx,
    options: ServerOptions,
    confirm: Arc<ConfirmPolicy>,
    gates: Vec<Arc<dyn Gate>>,
}

impl Pipeline {
    pub fn new(
        registry: Arc<Registry>,
        ctx: Ctx,
        options: ServerOptions,
        confirm: Arc<ConfirmPolicy>,
        gates: Vec<Arc<dyn Gate>>,
    ) -> Self {
        Self {
            registry,
            ctx,
            options,
            confirm,
            gates,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// Which calls need a human's yes.
    pub fn confirm(&self) -> &ConfirmPolicy {
        &self.confirm
    }

    /// Run one call through the gates and the handler; the outcome, and the call as it ended.
    pub async fn process(&self, mut call: Call) -> (Outcome, Call) {
        if call.purpose == Purpose::Call && call.span.is_none() && traces::enabled() {
            let tool = self.registry.get(&call.name).map(|d| d.name);
            let tool = tool.or_else(|| self.registry.alias(&call.name));
            call.span = traces::call_span(tool, call.trace.as_ref());
        }
        let span = call.span.clone();
        self.through_gates(call).instrument(span).await
    }

    async fn through_gates(&self, mut call: Call) -> (Outcome, Call) {
        let mut stop = None;
        for gate in &self.gates {
            if let Err(s) = gate.before(&mut call, self).await {
                stop = Some(s);
                break;
            }
        }
        let mut outcome = match stop {
            Some(s) => Outcome::from(s),
            None => Outcome::Done(self.invoke(&mut call).await),
        };
        for gate in &self.gates {
            gate.after(&call, &mut outcome);
        }
        (outcome, call)
    }

    /// The handler, under the call's deadline (CALL_TIMEOUT) and cancellation.
    async fn invoke(&self, call: &mut Call) -> ToolResult {
        let Some(def) = call.def.clone() else {
            return Err(ToolError::Failed {
                code: "tool_unavailable",
                message: format!("Tool '{}' is not available on this server.", call.name),
                details: None,
            });
        };
        let limit = self.options.call_timeout;
        let context = Arc::new(CallContext::new(
            Some(def.effect.is_idempotent()),
            call.cancel.clone(),
            Some(limit),
        ));
        call.requests = Some(context.clone());
        let mut ctx = self.ctx.for_call(def.effect, call.cancel.clone());
        ctx.dry_run = call.rehearsal.clone();
        ctx.budget = Arc::new(Budget::new(MAX_PAGES, self.options.max_result_bytes));
        ctx.session = call.support.clone().map(|s| SessionState(Arc::new(s)));
        ctx.app = call.app && call.purpose == Purpose::Call && def.app.is_some();
        let attached = ctx.attached.clone();
        if let Some((peer, token)) = call.progress.take() {
            ctx = ctx.with_progress(peer, token);
        }
        let args = std::mem::take(&mut call.args);
        // The client enforces the deadline at every request boundary; this bound is the backstop
        // for a handler that waits on something else.
        let handler = CALL.scope(context.clone(), (def.handler)(ctx, args));
        let result = match tokio::time::timeout(limit + Duration::from_secs(1), handler).await {
            Ok(r) => r,
            Err(_) => Err(ToolError::Call(CallError::Deadline {
                limit_secs: limit.as_secs_f64(),
                completed: context.completed(),
            })),
        };
        if let Ok(mut a) = attached.lock() {
            call.attached = std::mem::take(&mut *a);
        }
        // A result that is ALTR saying it did not succeed is a failure, whatever the tool made of
        // it; a success has ALTR's own envelope taken off (one envelope, ours).
        match result {
            Ok(data) => match unsuccessful(&data) {
                Some(e) => Err(e),
                None => Ok(payload(data)),
            },
            other => other,
        }
    }

    /// The dry run of a call, as a human is shown it before confirming: the same pipeline with
    /// dry-run on. Its data is `{dry_run, would_send, before}`.
    pub async fn preview(&self, call: &Call) -> ToolResult {
        let mut rehearsal = Call::new(&call.name, Some(call.args.clone()), call.cancel.clone())
            .with_session(call.session.clone());
        rehearsal.origin.caller = call.origin.caller.clone();
        rehearsal.flags = Flags {
            dry_run: true,
            confirm: false,
        };
        rehearsal.purpose = Purpose::Preview;
        match Box::pin(self.process(rehearsal)).await.0 {
            Outcome::Done(r) => r,
            Outcome::Ask(_) | Outcome::Unknown => Err(ToolError::Failed {
                code: "confirmation_failed",
                message: format!(
                    "The preview of {} could not be made; nothing was sent to ALTR.",
                    call.name
                ),
                details: None,
            }),
        }
    }

    /// Run one call and shape its result (the envelope, cut to MAX_RESULT_BYTES); `None` when no
    /// such tool exists at all.
    pub async fn run(&self, call: Call) -> Option<(CallToolResponse, CallLog)> {
        let (outcome, call) = self.process(call).await;
        let name = call.name.as_str();
        let args = &call.logged_args;
        let elapsed_ms = call.started.elapsed().as_millis() as u64;
        let (requests, status) = (call.completed(), call.last_status());
        // Who called, by name (token name, OAuth subject or client), and the signed-in user.
        let caller = call.origin.caller.as_deref().unwrap_or("-");
        let user = call.origin.user.as_deref().unwrap_or("-");
        match outcome {
            Outcome::Unknown => None,
            Outcome::Ask(question) => {
                let log = CallLog {
                    level: LoggingLevel::Info,
                    data: json!({"tool": name, "outcome": "input_required", "args": args}),
                };
                Some((question.into(), log))
            }
            Outcome::Done(Ok(data)) => {
                tracing::info!(tool = name, caller, user, elapsed_ms, outcome = "ok", requests, status, args = %args, "tool call");
                let (mut result, truncated) = success_bounded(data, self.options.max_result_bytes);
                if call.effect() == Some(Effect::ClearText) {
                    result.meta = Some(cleartext_label());
                }
                if !call.attached.is_empty() {
                    let meta = result.meta.get_or_insert_with(Default::default);
                    meta.0.extend(call.attached.clone());
                }
                if truncated {
                    crate::metrics::truncated(call.def.as_ref().map_or("(unknown)", |d| d.name));
                    tracing::warn!(
                        tool = name,
                        limit = self.options.max_result_bytes,
                        "tool result cut to MAX_RESULT_BYTES"
                    );
                }
                let log = CallLog {
                    level: LoggingLevel::Info,
                    data: json!({"tool": name, "outcome": "ok", "status": status, "requests": requests, "elapsed_ms": elapsed_ms, "truncated": truncated, "args": args}),
                };
                Some((result.into(), log))
            }
            Outcome::Done(Err(e)) => {
                let outcome = e.code();
                tracing::warn!(tool = name, caller, user, elapsed_ms, outcome, requests, status, args = %args, error = %e, "tool call");
                let log = CallLog {
                    level: LoggingLevel::Warning,
                    data: json!({"tool": name, "outcome": outcome, "status": status, "requests": requests, "elapsed_ms": elapsed_ms, "args": args, "error": e.to_string()}),
                };
                Some((failure(&e).into(), log))
            }
        }
    }

    /// One call by name with no client to ask or report to (`altr-mcp call`, prompts, resources),
    /// under `cancel`: its result and log record, or `None` when no such tool exists.
    pub async fn call_with(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        cancel: CancellationToken,
    ) -> Option<(CallToolResult, CallLog)> {
        let (response, log) = self.run(Call::new(name, arguments, cancel)).await?;
        let result = match response {
            CallToolResponse::Complete(r) => r,
            // Without a client there is no one to ask: an input-required result cannot come back.
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

    /// [`Pipeline::call_with`] that cannot be cancelled; the result only.
    pub async fn call(&self, name: &str, arguments: Option<JsonObject>) -> Option<CallToolResult> {
        self.call_with(name, arguments, CancellationToken::new())
            .await
            .map(|(r, _)| r)
    }
}
