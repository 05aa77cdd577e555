//! The tool registry: one declarative definition per tool (name, title, effect, description,
//! typed parameters, handler), one file per domain, and the selection rules (toolsets, read-only
//! mode, RESTRICTED_TOOLS) that decide which tools a server exposes.

pub mod args;
pub mod ctx;
pub mod databases;
pub mod docs;
pub mod policies;
pub mod tags;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::client::{ApiError, PathError};
pub use ctx::{Ctx, Shared};

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
}

impl Effect {
    pub fn annotations(self, title: &str) -> ToolAnnotations {
        let (read_only, destructive, idempotent) = match self {
            Effect::ReadOnly => (true, false, true),
            Effect::Additive => (false, false, false),
            Effect::Idempotent => (false, false, true),
            Effect::Destructive => (false, true, true),
        };
        ToolAnnotations::with_title(title)
            .read_only(read_only)
            .destructive(destructive)
            .idempotent(idempotent)
            .open_world(true)
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

/// The toolsets, one per domain, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Toolset {
    Databases,
    Tags,
    Policies,
}

impl Toolset {
    pub const ALL: [Toolset; 3] = [Toolset::Databases, Toolset::Tags, Toolset::Policies];

    pub fn id(self) -> &'static str {
        match self {
            Toolset::Databases => "databases",
            Toolset::Tags => "tags",
            Toolset::Policies => "policies",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Toolset::Databases => "Databases",
            Toolset::Tags => "Tags",
            Toolset::Policies => "Policies & Rules",
        }
    }

    /// Whether the `default` keyword includes this toolset.
    pub fn in_default(self) -> bool {
        true
    }

    fn tools(self) -> Vec<ToolDef> {
        match self {
            Toolset::Databases => databases::tools(),
            Toolset::Tags => tags::tools(),
            Toolset::Policies => policies::tools(),
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
    pub toolset: Toolset,
    pub schema: fn() -> JsonObject,
    pub handler: Handler,
}

impl std::fmt::Debug for ToolDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolDef")
            .field("name", &self.name)
            .field("toolset", &self.toolset)
            .finish_non_exhaustive()
    }
}

/// Start a tool definition; finish it with [`ToolBuilder::handler`].
pub fn tool(name: &'static str, title: &'static str, effect: Effect) -> ToolBuilder {
    ToolBuilder {
        name,
        title,
        effect,
        description: "",
    }
}

pub struct ToolBuilder {
    name: &'static str,
    title: &'static str,
    effect: Effect,
    description: &'static str,
}

impl ToolBuilder {
    pub fn description(mut self, text: &'static str) -> Self {
        self.description = text;
        self
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
        ToolDef {
            name: self.name,
            title: self.title,
            effect: self.effect,
            description: self.description,
            toolset: Toolset::Databases,
            schema: args::schema::<P>,
            handler,
        }
    }
}

impl ToolDef {
    /// The MCP tool object.
    pub fn to_tool(&self) -> Tool {
        Tool::new(self.name, self.description, Arc::new((self.schema)()))
            .with_title(self.title)
            .with_annotations(self.effect.annotations(self.title))
    }
}

/// Every tool of every domain, in listing order.
pub fn all_tools() -> Vec<ToolDef> {
    let mut out = Vec::new();
    for ts in Toolset::ALL {
        for mut t in ts.tools() {
            t.toolset = ts;
            out.push(t);
        }
    }
    out
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
}

/// The tools a server exposes, and those it knows but hides.
#[derive(Debug, Clone)]
pub struct Registry {
    tools: Vec<ToolDef>,
    hidden: BTreeSet<&'static str>,
}

impl Registry {
    /// Apply a selection to every tool. Unknown names in any list are an error: a typo must not
    /// silently leave a tool exposed.
    pub fn select(sel: &Selection) -> Result<Registry, SelectionError> {
        let all = all_tools();
        let mut wanted: BTreeSet<Toolset> = BTreeSet::new();
        let mut unknown = Vec::new();
        if sel.toolsets.is_empty() {
            wanted.extend(Toolset::ALL);
        }
        for name in &sel.toolsets {
            let lower = name.to_ascii_lowercase();
            match lower.as_str() {
                "all" => wanted.extend(Toolset::ALL),
                "default" => wanted.extend(Toolset::ALL.into_iter().filter(|t| t.in_default())),
                other => match Toolset::ALL.into_iter().find(|t| t.id() == other) {
                    Some(t) => {
                        wanted.insert(t);
                    }
                    None => unknown.push(name.clone()),
                },
            }
        }
        if !unknown.is_empty() {
            let mut allowed: Vec<&str> = Toolset::ALL.iter().map(|t| t.id()).collect();
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
        for t in all {
            let keep = wanted.contains(&t.toolset)
                && !(sel.read_only && t.effect != Effect::ReadOnly)
                && !sel.restricted.iter().any(|r| r == t.name);
            if keep {
                tools.push(t);
            } else {
                hidden.insert(t.name);
            }
        }
        Ok(Registry { tools, hidden })
    }

    /// Every tool, unfiltered.
    pub fn everything() -> Registry {
        Registry {
            tools: all_tools(),
            hidden: BTreeSet::new(),
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
}

/// Argument names whose values never reach a log.
const REDACTED: &[&str] = &[
    "values",
    "text",
    "connection_string",
    "password",
    "secret",
    "credentials",
    "passphrase",
    "private_key",
    "api_key",
    "auth_token",
    "access_key",
    "comment",
    "comments",
    "attestation",
    "justification",
    "statement_text_contains",
    "filters",
    "filter_tree",
    "tokens",
];
const REDACTED_SUFFIXES: &[&str] = &[
    "_password",
    "_secret",
    "_credential",
    "_credentials",
    "_private_key",
    "_passphrase",
    "_token",
];

fn is_sensitive(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    REDACTED.contains(&n.as_str()) || REDACTED_SUFFIXES.iter().any(|s| n.ends_with(s))
}

/// A copy of tool arguments safe to log: sensitive values replaced, recursively, keys kept.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive(k) { mask(v) } else { redact(v) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

fn mask(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::String(s) if s.is_empty() => v.clone(),
        Value::Object(map) => Value::Object(
            map.keys()
                .map(|k| (k.clone(), Value::String("<redacted>".into())))
                .collect(),
        ),
        _ => Value::String("<redacted>".into()),
    }
}

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
            })
        );
    }
}
