//! The server's own arguments: `dry_run` on every tool that changes something, and `confirm` on
//! the tools that confirmation covers (destructive ones, and those ALTR_CONFIRM_TOOLS adds). This
//! one place says which tools take them, lists them in the tool's schema, and takes them out of
//! the arguments before the tool parses its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rmcp::model::{JsonObject, Tool};
use serde_json::{json, Value};

use super::effect::Effect;
use super::error::ToolError;
use super::tool::ToolDef;

/// The parameter every non-read-only tool takes.
pub const DRY_RUN: &str = "dry_run";

/// The parameter confirmed tools take for ALTR_CONFIRM=required.
pub const CONFIRM: &str = "confirm";

/// What `confirm` means, in the schema of every tool that lists it: the tool's own text has to
/// say it (some clients never show the instructions).
pub const CONFIRM_DOC: &str = "true only after the user approved this exact call; refused without";

/// Whether the tool's own parameters already include `name` (it sends it to the API): the
/// server's parameter of that name is then not added to it. Worked out once per tool.
fn own_parameter(def: &ToolDef, name: &str) -> bool {
    static OWN: OnceLock<Mutex<HashMap<&'static str, [bool; 2]>>> = OnceLock::new();
    let index = usize::from(name == CONFIRM);
    let cache = OWN.get_or_init(Mutex::default);
    if let Some(own) = cache.lock().ok().and_then(|c| c.get(def.name).copied()) {
        return own.get(index).copied().unwrap_or(false);
    }
    let schema = (def.schema)();
    let props = schema.get("properties").and_then(Value::as_object);
    let own = [DRY_RUN, CONFIRM].map(|p| props.is_some_and(|m| m.contains_key(p)));
    if let Ok(mut c) = cache.lock() {
        c.insert(def.name, own);
    }
    own.get(index).copied().unwrap_or(false)
}

/// Whether the tool takes the server's `dry_run`.
pub fn takes_dry_run(def: &ToolDef) -> bool {
    !def.effect.is_read_only() && !own_parameter(def, DRY_RUN)
}

/// Whether the tool takes the server's `confirm`: destructive tools, and those the confirmation
/// policy adds (`added`).
pub fn takes_confirm(def: &ToolDef, added: bool) -> bool {
    (def.effect == Effect::Destructive || added) && !own_parameter(def, CONFIRM)
}

/// The tool's input schema as listed: its parameters plus `dry_run` where it applies and
/// `confirm` when `with_confirm` (and the tool has no parameter of that name of its own).
pub fn listed_schema(def: &ToolDef, with_confirm: bool) -> JsonObject {
    let mut schema = (def.schema)();
    let mut add = |name: &str, property: Value| {
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            props.insert(name.into(), property);
        }
    };
    if takes_dry_run(def) {
        add(DRY_RUN, json!({"type": "boolean"}));
    }
    if with_confirm && !own_parameter(def, CONFIRM) {
        add(
            CONFIRM,
            json!({"type": "boolean", "description": CONFIRM_DOC}),
        );
    }
    schema
}

/// The MCP tool object, with `confirm` listed when `with_confirm`.
pub fn listed(def: &ToolDef, with_confirm: bool) -> Tool {
    Tool::new(
        def.name,
        def.description,
        Arc::new(listed_schema(def, with_confirm)),
    )
    .with_title(def.title)
    .with_annotations(def.effect.annotations())
}

impl ToolDef {
    /// The MCP tool object as the reference documents it: `confirm` on every destructive tool
    /// (a server lists it only under ALTR_CONFIRM=required).
    pub fn to_tool(&self) -> Tool {
        listed(self, takes_confirm(self, false))
    }
}

/// The server's flags of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub dry_run: bool,
    pub confirm: bool,
}

/// Take `dry_run` and `confirm` out of the arguments, where the tool takes them from the server.
pub fn take(def: &ToolDef, confirm_added: bool, args: &mut JsonObject) -> Result<Flags, ToolError> {
    let mut take = |name: &'static str, applies: bool| -> Result<bool, ToolError> {
        if !applies {
            return Ok(false);
        }
        match args.remove(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(ToolError::invalid(name, "expected a boolean")),
        }
    };
    Ok(Flags {
        dry_run: take(DRY_RUN, takes_dry_run(def))?,
        confirm: take(CONFIRM, takes_confirm(def, confirm_added))?,
    })
}
