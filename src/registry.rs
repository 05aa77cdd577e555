//! The tool registry: one declarative definition per tool (name, title, effect, description,
//! typed parameters, handler), one file per domain, and the selection rules (toolsets, read-only
//! mode, RESTRICTED_TOOLS) that decide which tools a server exposes.

pub mod args;
pub mod ctx;
pub mod docs;
pub mod dryrun;
pub mod paging;
pub mod params;
pub mod request;
pub mod untrusted;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::client::{ApiError, Method, PathError, Service};
pub use ctx::{Ctx, Shared};
pub use request::{Endpoint, Placement};

/// What a tool does to the ALTR org; this sets its MCP annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    ReadOnly,
    /// Creates something or starts work; repeating it repeats the effect.
    Additive,
    /// Sets state; repeating it with the same arguments changes nothing more.
    Idempotent,
    /// Deletes or disconnects something.
    Destructive,
    /// Changes nothing but returns protected data in clear text (detokenize): hidden unless
    /// ALTR_ALLOW_CLEARTEXT is set, whatever the other settings say.
    ClearText,
}

impl Effect {
    /// Whether the tool changes nothing in ALTR.
    pub fn is_read_only(self) -> bool {
        matches!(self, Effect::ReadOnly | Effect::ClearText)
    }

    /// Whether sending the same request twice has the effect of sending it once.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Effect::Additive)
    }

    /// The MCP annotations: only the hints that differ from the protocol defaults
    /// (readOnlyHint false, destructiveHint true, idempotentHint false, openWorldHint true), and
    /// for read-only tools only readOnlyHint (the others are meaningful only for writes). The
    /// title is the tool's own `title`, not repeated here. Every tools/list pays for these bytes.
    pub fn annotations(self) -> ToolAnnotations {
        let a = ToolAnnotations::new();
        match self {
            Effect::ReadOnly | Effect::ClearText => a.read_only(true),
            Effect::Additive => a.destructive(false),
            Effect::Idempotent => a.destructive(false).idempotent(true),
            Effect::Destructive => a.idempotent(true),
        }
    }
}

/// A tool's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// Bad input, caught before any request was sent.
    #[error("Invalid argument `{parameter}`: {message}")]
    Invalid { parameter: String, message: String },
    /// The ALTR API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The API answered, but the operation did not succeed.
    #[error("{message}")]
    Failed {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
}

impl From<PathError> for ToolError {
    fn from(e: PathError) -> Self {
        ToolError::Invalid {
            parameter: e.parameter,
            message: e.message,
        }
    }
}

impl ToolError {
    pub fn invalid(parameter: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::Invalid {
            parameter: parameter.into(),
            message: message.into(),
        }
    }

    /// The upstream HTTP status, if the failure came from one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ToolError::Api(e) => e.status(),
            _ => None,
        }
    }

    /// The `error` member of the failure envelope.
    pub fn to_json(&self) -> Value {
        match self {
            ToolError::Invalid { parameter, message } => json!({
                "code": "invalid_argument",
                "parameter": parameter,
                "message": self.to_string(),
                "hint": format!("Nothing was sent to ALTR; correct `{parameter}` ({message}) and call again."),
            }),
            ToolError::Api(e) => e.to_json(),
            ToolError::Failed {
                code,
                message,
                details,
            } => {
                let mut v = json!({"code": code, "message": message});
                if let Some(d) = details {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("details".into(), d.clone());
                    }
                }
                v
            }
        }
    }
}

pub type ToolResult = Result<Value, ToolError>;
type BoxFuture = Pin<Box<dyn Future<Output = ToolResult> + Send>>;
type Handler = Arc<dyn Fn(Ctx, JsonObject) -> BoxFuture + Send + Sync>;

/// A toolset: a domain's tools, selected together by ALTR_TOOLSETS.
pub struct Toolset {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Whether the `default` keyword includes it.
    pub in_default: bool,
    /// Its tools, in listing order.
    pub tools: fn() -> Vec<ToolDef>,
}

/// Toolsets are told apart by id.
impl PartialEq for Toolset {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Toolset {}

impl std::fmt::Debug for Toolset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl Toolset {
    pub fn id(&self) -> &'static str {
        self.id
    }

    pub fn title(&self) -> &'static str {
        self.title
    }

    /// Start declaring a tool of this toolset; finish with [`ToolBuilder::request`] (one request
    /// built from the parameters) or [`ToolBuilder::handler`] (real logic).
    pub fn tool(
        &'static self,
        name: &'static str,
        title: &'static str,
        effect: Effect,
    ) -> ToolBuilder {
        ToolBuilder {
            toolset: self,
            name,
            title,
            effect,
            description: "",
            wire: Wire::default(),
        }
    }
}

/// One tool: its MCP description and its handler.
#[derive(Clone)]
pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub effect: Effect,
    pub description: &'static str,
    pub toolset: &'static Toolset,
    pub schema: fn() -> JsonObject,
    /// The input schema with each parameter's long description, for the reference docs.
    pub documented_schema: fn() -> JsonObject,
    pub handler: Handler,
    /// The request a declarative tool sends (`None` for tools with their own handler).
    pub endpoint: Option<Arc<Endpoint>>,
}

impl std::fmt::Debug for ToolDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolDef")
            .field("name", &self.name)
            .field("toolset", &self.toolset.id)
            .finish_non_exhaustive()
    }
}

/// Wire rules of a declarative tool, set on the builder before [`ToolBuilder::request`].
#[derive(Debug, Clone, Copy, Default)]
struct Wire {
    placement: Option<Placement>,
    in_query: &'static [&'static str],
    empty_object: bool,
    require_change: bool,
    exactly_one_of: &'static [&'static str],
    at_most_one_of: &'static [&'static str],
    fixed: &'static [(&'static str, &'static str)],
    before: Option<&'static str>,
}

pub struct ToolBuilder {
    toolset: &'static Toolset,
    name: &'static str,
    title: &'static str,
    effect: Effect,
    description: &'static str,
    wire: Wire,
}

impl ToolBuilder {
    pub fn description(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }

    /// Send every parameter in the query, whatever the method (POSTs that take only a query).
    pub fn query_only(mut self) -> Self {
        self.wire.placement = Some(Placement::Query);
        self
    }

    /// Send the parameters as a JSON body, whatever the method (a DELETE with a body).
    pub fn body_always(mut self) -> Self {
        self.wire.placement = Some(Placement::Body);
        self
    }

    /// Send these parameters in the query even when the others go in the body.
    pub fn in_query(mut self, fields: &'static [&'static str]) -> Self {
        self.wire.in_query = fields;
        self
    }

    /// Send `{}` when no parameter is left for the body (instead of no body).
    pub fn empty_object(mut self) -> Self {
        self.wire.empty_object = true;
        self
    }

    /// Refuse a call that changes nothing (an update whose body would be `{}`).
    pub fn require_change(mut self) -> Self {
        self.wire.require_change = true;
        self
    }

    /// Exactly one of these parameters must be given.
    pub fn exactly_one_of(mut self, fields: &'static [&'static str]) -> Self {
        self.wire.exactly_one_of = fields;
        self
    }

    /// At most one of these parameters may be given.
    pub fn at_most_one_of(mut self, fields: &'static [&'static str]) -> Self {
        self.wire.at_most_one_of = fields;
        self
    }

    /// Body fields with a fixed value, sent on every call.
    pub fn fixed(mut self, fields: &'static [(&'static str, &'static str)]) -> Self {
        self.wire.fixed = fields;
        self
    }

    /// Read this GET path (holes from the same fields) before the change and return
    /// `{before, after}` (see [`request::before_after`]).
    pub fn before(mut self, template: &'static str) -> Self {
        self.wire.before = Some(template);
        self
    }

    fn finish<P: JsonSchema>(self, handler: Handler, endpoint: Option<Arc<Endpoint>>) -> ToolDef {
        ToolDef {
            name: self.name,
            title: self.title,
            effect: self.effect,
            description: self.description,
            toolset: self.toolset,
            schema: args::schema::<P>,
            documented_schema: args::documented_schema::<P>,
            handler,
            endpoint,
        }
    }

    /// The handler, with its typed parameters `P` (their schema is the tool's input schema).
    pub fn handler<P, F, Fut>(self, f: F) -> ToolDef
    where
        P: DeserializeOwned + JsonSchema + 'static,
        F: Fn(Ctx, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + Send + 'static,
    {
        let f = Arc::new(f);
        let handler: Handler = Arc::new(move |ctx: Ctx, raw: JsonObject| {
            let f = f.clone();
            Box::pin(async move {
                let params: P = args::parse(raw)?;
                f(ctx, params).await
            })
        });
        self.finish::<P>(handler, None)
    }

    /// A tool that sends one request built from its parameters `P` (see [`request`]): `template`
    /// is the path below the service's base URL with `{field}` holes (`{field~}` for ids that
    /// may arrive percent-encoded). The API's answer is the tool's data.
    pub fn request<P>(self, method: Method, service: Service, template: &'static str) -> ToolDef
    where
        P: DeserializeOwned + Serialize + JsonSchema + 'static,
    {
        let w = self.wire;
        let mut endpoint = Endpoint::new(method, service, template);
        let changeable = if w.require_change {
            let schema = args::schema::<P>();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let holes: Vec<&str> = endpoint.holes().into_iter().map(|(n, _)| n).collect();
            schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.keys()
                        .filter(|k| !required.contains(&k.as_str()) && !holes.contains(&k.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        endpoint.changeable = changeable;
        let endpoint = Arc::new(Endpoint {
            placement: w.placement.unwrap_or(Placement::ByMethod),
            in_query: w.in_query,
            empty_object: w.empty_object,
            require_change: w.require_change,
            exactly_one_of: w.exactly_one_of,
            at_most_one_of: w.at_most_one_of,
            fixed: w.fixed,
            before: w.before,
            ..endpoint
        });
        let ep = endpoint.clone();
        let handler: Handler = Arc::new(move |ctx: Ctx, raw: JsonObject| {
            // Parse and build before the future, so it holds only the request (P need not be Send).
            let req = args::parse::<P>(raw).and_then(|params| {
                let wire = serde_json::to_value(&params)
                    .map_err(|e| ToolError::invalid("arguments", format!("cannot be sent: {e}")))?;
                let before = ep.before_request(&wire).transpose()?;
                Ok((ep.build(wire)?, before))
            });
            Box::pin(async move {
                let (req, before) = req?;
                let Some(read) = before else {
                    return ctx.send(req).await;
                };
                let before = ctx.send(read).await;
                let after = ctx.send(req).await?;
                Ok(request::before_after(before, after))
            })
        });
        self.finish::<P>(handler, Some(endpoint))
    }
}

impl ToolDef {
    /// The MCP tool object.
    pub fn to_tool(&self) -> Tool {
        Tool::new(
            self.name,
            self.description,
            Arc::new(dryrun::listed_schema(self)),
        )
        .with_title(self.title)
        .with_annotations(self.effect.annotations())
    }
}

/// Why a tool selection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("ALTR_TOOLSETS: unknown toolset(s) {unknown}; use {allowed}")]
    UnknownToolset { unknown: String, allowed: String },
    #[error("RESTRICTED_TOOLS: unknown tool name(s) {0}; run `altr-mcp tools` to see every name")]
    UnknownTool(String),
}

/// The selection settings.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub toolsets: Vec<String>,
    pub read_only: bool,
    pub restricted: Vec<String>,
    /// Expose the tools that return protected data in clear text (ALTR_ALLOW_CLEARTEXT).
    pub allow_cleartext: bool,
}

/// The tools a server exposes, and those it knows but hides.
#[derive(Debug, Clone)]
pub struct Registry {
    tools: Vec<ToolDef>,
    hidden: BTreeSet<&'static str>,
    /// The hidden tools that the closed clear-text gate (ALTR_ALLOW_CLEARTEXT) hides.
    gated: BTreeSet<&'static str>,
}

impl Registry {
    /// Apply a selection to every tool. Unknown names in any list are an error: a typo must not
    /// silently leave a tool exposed.
    pub fn select(sel: &Selection) -> Result<Registry, SelectionError> {
        let all = crate::toolsets::all_tools();
        let mut wanted: Vec<&'static str> = Vec::new();
        // `default` also takes the daily tools of other toolsets (crate::server::discovery::DAILY_TOOLS).
        let mut daily = false;
        let mut unknown = Vec::new();
        let every = || crate::toolsets::TOOLSETS.iter().map(|t| t.id);
        if sel.toolsets.is_empty() {
            wanted.extend(every());
        }
        for name in &sel.toolsets {
            match name.to_ascii_lowercase().as_str() {
                "all" => wanted.extend(every()),
                "default" => {
                    wanted.extend(
                        crate::toolsets::TOOLSETS
                            .iter()
                            .filter(|t| t.in_default)
                            .map(|t| t.id),
                    );
                    daily = true;
                }
                other => match crate::toolsets::toolset(other) {
                    Some(t) => wanted.push(t.id),
                    None => unknown.push(name.clone()),
                },
            }
        }
        if !unknown.is_empty() {
            let mut allowed: Vec<&str> = every().collect();
            allowed.extend(["default", "all"]);
            return Err(SelectionError::UnknownToolset {
                unknown: unknown.join(", "),
                allowed: allowed.join(", "),
            });
        }
        let unknown_tools: Vec<&str> = sel
            .restricted
            .iter()
            .map(String::as_str)
            .filter(|n| !all.iter().any(|t| t.name == *n))
            .collect();
        if !unknown_tools.is_empty() {
            return Err(SelectionError::UnknownTool(unknown_tools.join(", ")));
        }
        let mut tools = Vec::new();
        let mut hidden = BTreeSet::new();
        let mut gated = BTreeSet::new();
        for t in all {
            let allowed_by_mode = t.effect.is_read_only() || !sel.read_only;
            let allowed_clear_text = t.effect != Effect::ClearText || sel.allow_cleartext;
            let in_daily = daily && crate::server::discovery::DAILY_TOOLS.contains(&t.name);
            let keep = (wanted.contains(&t.toolset.id) || in_daily)
                && allowed_by_mode
                && allowed_clear_text
                && !sel.restricted.iter().any(|r| r == t.name);
            if keep {
                tools.push(t);
            } else {
                if !allowed_clear_text {
                    gated.insert(t.name);
                }
                hidden.insert(t.name);
            }
        }
        Ok(Registry {
            tools,
            hidden,
            gated,
        })
    }

    /// Every tool, unfiltered.
    pub fn everything() -> Registry {
        Registry {
            tools: crate::toolsets::all_tools(),
            hidden: BTreeSet::new(),
            gated: BTreeSet::new(),
        }
    }

    pub fn tools(&self) -> &[ToolDef] {
        &self.tools
    }

    pub fn get(&self, name: &str) -> Option<&ToolDef> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// Whether the tool exists but this server does not expose it.
    pub fn is_hidden(&self, name: &str) -> bool {
        self.hidden.contains(name)
    }

    /// Whether the tool is hidden because it returns clear text and ALTR_ALLOW_CLEARTEXT is off.
    pub fn is_gated(&self, name: &str) -> bool {
        self.gated.contains(name)
    }
}

pub use crate::safety::redact::redact;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_shape_but_not_values() {
        let v = json!({
            "database_password": "hunter2",
            "values": {"ssn": "123-45-6789"},
            "nested": [{"secret": "x", "name": "ok"}],
            "justification": "",
            "comment": null,
            "tag_name": "PII",
            "aws_secrets_manager": {"secret_name": "prod/db", "region": "us-east-1"},
            "Snowflake_PASSWD": "x",
            "azure_key_vault": "{\"vault_url\": \"https://kv\"}",
        });
        let r = redact(&v);
        assert_eq!(
            r,
            json!({
                "database_password": "<redacted>",
                "values": {"ssn": "<redacted>"},
                "nested": [{"secret": "<redacted>", "name": "ok"}],
                "justification": "",
                "comment": null,
                "tag_name": "PII",
                "aws_secrets_manager": {"secret_name": "<redacted>", "region": "<redacted>"},
                "Snowflake_PASSWD": "<redacted>",
                "azure_key_vault": "<redacted>",
            })
        );
    }
}
