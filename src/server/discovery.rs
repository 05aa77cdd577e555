//! Toolset discovery (ALTR_DYNAMIC_TOOLSETS), fitting the tool list to the client: each session
//! starts with the configured selection (`default` when ALTR_TOOLSETS is unset: the toolsets in
//! the default set, whole, plus the tools of other toolsets declared `.in_default()`; see
//! [`crate::registry::select`]) plus `list_toolsets` and `enable_toolset`; enabling a toolset
//! adds its tools to that session's tools/list and tells the client with
//! `notifications/tools/list_changed`. What can be enabled is bounded by the same read-only mode,
//! RESTRICTED_TOOLS and clear-text gate as a static selection: the server's registry is the
//! selection of `all` under those rules, and a session only ever sees a part of it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use serde_json::{json, Value};

use super::envelope::{failure, success};
use crate::registry::{Registry, ToolError};

/// The tool that lists the toolsets.
pub const LIST_TOOLSETS: &str = "list_toolsets";
/// The tool that enables a toolset for the session.
pub const ENABLE_TOOLSET: &str = "enable_toolset";

/// The discovery state of one session.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The tools every session starts with.
    initial: Arc<BTreeSet<&'static str>>,
    /// The toolsets this session enabled.
    enabled: Arc<Mutex<BTreeSet<&'static str>>>,
}

impl Discovery {
    /// Discovery starting with the tools of `initial`.
    pub fn new(initial: &Registry) -> Self {
        Self {
            initial: Arc::new(initial.tools().iter().map(|t| t.name).collect()),
            enabled: Arc::default(),
        }
    }

    /// The same starting set for a new session, with nothing enabled yet.
    pub fn fresh(&self) -> Self {
        Self {
            initial: self.initial.clone(),
            enabled: Arc::default(),
        }
    }

    fn enabled(&self) -> BTreeSet<&'static str> {
        self.enabled.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Whether this session lists (and serves) the tool of `registry` named `name`.
    pub fn visible(&self, registry: &Registry, name: &str) -> bool {
        self.initial.contains(name)
            || registry
                .get(name)
                .is_some_and(|t| self.enabled().contains(t.toolset.id))
    }

    /// This session's tools/list: the visible tools of `registry` (as `listed`, in the same
    /// order) and the two discovery tools.
    pub fn list(&self, registry: &Registry, listed: &[Tool]) -> Vec<Tool> {
        let enabled = self.enabled();
        let mut tools: Vec<Tool> = registry
            .tools()
            .iter()
            .zip(listed)
            .filter(|(def, _)| self.initial.contains(def.name) || enabled.contains(def.toolset.id))
            .map(|(_, tool)| tool.clone())
            .collect();
        tools.extend(discovery_tools(registry));
        tools
    }

    /// Answer a call to a discovery tool; `None` for every other call (the pipeline's selection
    /// gate refuses a tool of a toolset not enabled yet). `peer` is told when the tool list
    /// changes.
    pub async fn intercept(
        &self,
        registry: &Registry,
        name: &str,
        arguments: Option<&JsonObject>,
        peer: Option<&rmcp::Peer<rmcp::RoleServer>>,
    ) -> Option<CallToolResult> {
        match name {
            LIST_TOOLSETS => Some(match no_arguments(arguments) {
                Ok(()) => success(self.catalogue(registry)),
                Err(e) => failure(&e),
            }),
            ENABLE_TOOLSET => Some(match self.enable(registry, arguments) {
                Ok((data, changed)) => {
                    if changed {
                        if let Some(peer) = peer {
                            let _ = peer.notify_tool_list_changed().await;
                        }
                    }
                    success(data)
                }
                Err(e) => failure(&e),
            }),
            _ => None,
        }
    }

    /// Every toolset: id, title, description, how many of its tools this server can expose, how
    /// many this session lists, and whether all of them are listed.
    pub fn catalogue(&self, registry: &Registry) -> Value {
        let enabled = self.enabled();
        let sets: Vec<Value> = registry
            .toolsets()
            .iter()
            .map(|ts| {
                let available: Vec<&str> = registry.of_toolset(ts).map(|t| t.name).collect();
                let listed = available
                    .iter()
                    .filter(|n| self.initial.contains(*n) || enabled.contains(ts.id))
                    .count();
                json!({
                    "id": ts.id,
                    "title": ts.title,
                    "description": ts.description,
                    "tools": available.len(),
                    "listed": listed,
                    "enabled": !available.is_empty() && listed == available.len(),
                })
            })
            .collect();
        json!({"toolsets": sets})
    }

    fn enable(
        &self,
        registry: &Registry,
        arguments: Option<&JsonObject>,
    ) -> Result<(Value, bool), ToolError> {
        let args = arguments.cloned().unwrap_or_default();
        if let Some(extra) = args.keys().find(|k| k.as_str() != "toolset") {
            return Err(ToolError::invalid(
                extra.as_str(),
                "unknown parameter; allowed: toolset",
            ));
        }
        let id = match args.get("toolset") {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(_) => {
                return Err(ToolError::invalid(
                    "toolset",
                    "expected a toolset id (text)",
                ))
            }
            None => return Err(ToolError::invalid("toolset", "is required")),
        };
        let Some(ts) = registry.toolset(&id) else {
            let ids: Vec<&str> = registry.toolsets().iter().map(|t| t.id).collect();
            return Err(ToolError::invalid(
                "toolset",
                format!("must be one of {}", ids.join(", ")),
            ));
        };
        let available: Vec<&str> = registry.of_toolset(ts).map(|t| t.name).collect();
        if available.is_empty() {
            return Err(ToolError::Failed {
                code: "tool_unavailable",
                message: format!("Toolset `{}` has no tool this server may expose: ALTR_READ_ONLY, RESTRICTED_TOOLS or ALTR_ALLOW_CLEARTEXT exclude all of them.", ts.id),
                details: None,
            });
        }
        let before: BTreeSet<&str> = available
            .iter()
            .copied()
            .filter(|n| self.visible(registry, n))
            .collect();
        if let Ok(mut e) = self.enabled.lock() {
            e.insert(ts.id);
        }
        let added: Vec<&str> = available
            .iter()
            .copied()
            .filter(|n| !before.contains(n))
            .collect();
        let changed = !added.is_empty();
        tracing::info!(
            toolset = ts.id,
            added = added.len(),
            "toolset enabled for the session"
        );
        Ok((
            json!({"toolset": ts.id, "enabled": true, "added": added, "tools": available.len()}),
            changed,
        ))
    }
}

fn no_arguments(arguments: Option<&JsonObject>) -> Result<(), ToolError> {
    match arguments.and_then(|a| a.keys().next()) {
        Some(k) => Err(ToolError::invalid(
            k.as_str(),
            "unknown parameter; this tool takes no parameters",
        )),
        None => Ok(()),
    }
}

/// The MCP objects of `list_toolsets` and `enable_toolset`.
pub fn discovery_tools(registry: &Registry) -> Vec<Tool> {
    let ids: Vec<&str> = registry.toolsets().iter().map(|t| t.id).collect();
    let schema = |v: Value| match v {
        Value::Object(o) => Arc::new(o),
        _ => Arc::new(JsonObject::new()),
    };
    vec![
        Tool::new(
            LIST_TOOLSETS,
            "List the toolsets (id, title, tool count, whether enabled). Call it when the tool you need is not listed; then enable_toolset.",
            schema(json!({"type": "object", "properties": {}})),
        )
        .with_title("List toolsets")
        .with_annotations(ToolAnnotations::new().read_only(true).open_world(false)),
        Tool::new(
            ENABLE_TOOLSET,
            "Add a toolset's tools to this session (see list_toolsets); the tool list then changes.",
            schema(json!({"type": "object", "properties": {
                "toolset": {"type": "string", "enum": ids, "description": "Toolset id from list_toolsets."}
            }, "required": ["toolset"]})),
        )
        .with_title("Enable a toolset")
        .with_annotations(
            ToolAnnotations::new()
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        ),
    ]
}
