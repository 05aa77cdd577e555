//! Declaring tools: a [`Toolset`] per domain, a [`ToolDef`] per tool, and the [`ToolBuilder`]
//! that turns a declaration (one request built from typed parameters, or a handler with real
//! logic) into a definition.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::args;
use super::ctx::Ctx;
use super::effect::Effect;
use super::error::{ToolError, ToolResult};
use super::request::{self, Endpoint, Placement};
use crate::client::{Method, Service};

pub type BoxFuture = Pin<Box<dyn Future<Output = ToolResult> + Send>>;
pub type Handler = Arc<dyn Fn(Ctx, JsonObject) -> BoxFuture + Send + Sync>;

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
            in_default: false,
            formerly: &[],
            app: None,
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
    /// In the `default` set although its toolset is not (the daily tools of other toolsets).
    pub in_default: bool,
    /// Earlier names of the tool (ALTR's earlier release lines): known aliases, never listed.
    pub formerly: &'static [&'static str],
    pub schema: fn() -> JsonObject,
    /// The input schema with each parameter's long description, for the reference docs.
    pub documented_schema: fn() -> JsonObject,
    pub handler: Handler,
    /// The request a declarative tool sends (`None` for tools with their own handler).
    pub endpoint: Option<Arc<Endpoint>>,
    /// The MCP App (`ui://` resource) that shows this tool's results, for clients that render
    /// apps; the handler attaches what the app draws ([`Ctx::attach`]).
    pub app: Option<&'static str>,
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
    in_default: bool,
    formerly: &'static [&'static str],
    app: Option<&'static str>,
    wire: Wire,
}

impl ToolBuilder {
    /// Show this tool's results in the MCP App at `uri` where the client renders apps.
    pub fn app(mut self, uri: &'static str) -> Self {
        self.app = Some(uri);
        self
    }

    pub fn description(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }

    /// Put this tool in the `default` set although its toolset is not: one of the few daily tools
    /// of a larger toolset (starting and reading classification jobs, the usual audit searches,
    /// DAM alert triage).
    pub fn in_default(mut self) -> Self {
        self.in_default = true;
        self
    }

    /// The names this tool had in earlier ALTR release lines (`delete_database` before
    /// `disconnect_database`): settings and calls may still use them; tools/list never shows them.
    pub fn formerly(mut self, names: &'static [&'static str]) -> Self {
        self.formerly = names;
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
            in_default: self.in_default,
            formerly: self.formerly,
            schema: args::schema::<P>,
            documented_schema: args::documented_schema::<P>,
            handler,
            endpoint,
            app: self.app,
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
