//! Dry runs, for every tool that changes something: `dry_run: true` runs the tool's validation and
//! its reads, records each write instead of sending it ([`Ctx::send`](super::Ctx::send) answers
//! the tool with [`placeholder`] so it can go on), and replaces the tool's result with
//! `{"dry_run": true, "would_send": [...], "before": ...}`.
//!
//! The same pass is how a destructive call is shown to a human before it is confirmed
//! ([`crate::safety::confirm`]).

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use rmcp::model::JsonObject;
use serde_json::{json, Map, Value};

use super::{ToolDef, ToolError, ToolResult};
use crate::client::{ApiRequest, Method};
use crate::safety::redact::redact;
use crate::toolsets::all_tools;

/// The parameter every non-read-only tool takes.
pub const DRY_RUN: &str = "dry_run";

/// The parameter destructive tools take for ALTR_CONFIRM=required.
pub const CONFIRM: &str = "confirm";

/// Tools whose own parameters already include `name` (they send it to the API): the server's
/// parameter of that name is not added to them.
fn own_parameter(tool: &str, name: &'static str) -> bool {
    static OWN: OnceLock<BTreeSet<(&'static str, &'static str)>> = OnceLock::new();
    OWN.get_or_init(|| {
        let mut own = BTreeSet::new();
        for t in all_tools() {
            let schema = (t.schema)();
            let props = schema.get("properties").and_then(Value::as_object);
            for p in [DRY_RUN, CONFIRM] {
                if props.is_some_and(|m| m.contains_key(p)) {
                    own.insert((t.name, p));
                }
            }
        }
        own
    })
    .contains(&(tool, name))
}

/// Whether the tool takes the server's `dry_run`.
pub fn takes_dry_run(def: &ToolDef) -> bool {
    !def.effect.is_read_only() && !own_parameter(def.name, DRY_RUN)
}

/// Whether the tool takes the server's `confirm`.
pub fn takes_confirm(def: &ToolDef) -> bool {
    def.effect == super::Effect::Destructive && !own_parameter(def.name, CONFIRM)
}

/// The tool's input schema as listed: its parameters plus `dry_run` (and `confirm`) where they apply.
pub fn listed_schema(def: &ToolDef) -> JsonObject {
    let mut schema = (def.schema)();
    let mut add = |name: &str| {
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            props.insert(name.into(), json!({"type": "boolean"}));
        }
    };
    if takes_dry_run(def) {
        add(DRY_RUN);
    }
    if takes_confirm(def) {
        add(CONFIRM);
    }
    schema
}

/// The server's flags of one call, taken out of its arguments before the tool parses them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub dry_run: bool,
    pub confirm: bool,
}

/// Take `dry_run` and `confirm` out of the arguments (where the tool takes them from the server).
pub fn take_flags(def: &ToolDef, args: &mut JsonObject) -> Result<Flags, ToolError> {
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
        confirm: take(CONFIRM, takes_confirm(def))?,
    })
}

/// The writes a rehearsed call would have sent, in order.
#[derive(Debug, Default)]
pub struct Rehearsal {
    writes: Mutex<Vec<Value>>,
}

/// Whether a request only reads (and is sent during a rehearsal).
pub fn is_read(req: &ApiRequest) -> bool {
    matches!(req.method, Method::GET | Method::HEAD)
}

/// What a rehearsed write answers the tool, so that it can go on.
pub fn placeholder() -> Value {
    json!({"dry_run": true, "sent": false})
}

impl Rehearsal {
    /// Record a write instead of sending it (secrets redacted).
    pub fn record(&self, req: &ApiRequest) {
        let mut query = Map::new();
        for (k, v) in &req.query {
            match query.get_mut(k) {
                Some(Value::Array(items)) => items.push(Value::String(v.clone())),
                Some(first) => {
                    let first = first.take();
                    query.insert(k.clone(), json!([first, v]));
                }
                None => {
                    query.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        let entry = json!({
            "method": req.method.as_str(),
            "service": req.service.env_var().trim_start_matches("ALTR_").trim_end_matches("_BASE_URL").to_ascii_lowercase(),
            "path": req.path,
            "query": redact(&Value::Object(query)),
            "body": req.body.as_ref().map(redact),
        });
        if let Ok(mut w) = self.writes.lock() {
            w.push(entry);
        }
    }

    /// The recorded writes.
    pub fn writes(&self) -> Vec<Value> {
        self.writes.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// The result of a rehearsed call: a refusal stays a refusal, a failure before any write
    /// stays a failure; otherwise what would have been sent, with the before-state when the
    /// tool read one. A tool that could not go on without a write's real answer says where it
    /// stopped.
    pub fn finish(&self, result: ToolResult) -> ToolResult {
        let writes = self.writes();
        match result {
            Err(e @ ToolError::Invalid { .. }) => Err(e),
            Err(e) if writes.is_empty() => Err(e),
            Err(e) => Ok(json!({
                "dry_run": true,
                "would_send": writes,
                "stopped": format!("the rehearsal stopped after these requests because the tool needs the real answer of a write to go on ({e}); later requests are not shown"),
            })),
            Ok(data) => {
                let mut out = json!({"dry_run": true, "would_send": writes});
                if let (Some(before), Some(o)) = (data.get("before"), out.as_object_mut()) {
                    o.insert("before".into(), before.clone());
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Service;

    #[test]
    fn writes_are_recorded_with_secrets_redacted_and_reads_pass() {
        let r = Rehearsal::default();
        let write = ApiRequest::post(Service::Api, "/x")
            .query("a", "1")
            .query("a", "2")
            .json(json!({"password": "hunter2", "name": "n"}));
        assert!(!is_read(&write));
        assert!(is_read(&ApiRequest::get(Service::Api, "/x")));
        r.record(&write);
        let out = r.finish(Ok(json!({"before": {"x": 1}, "after": placeholder()})));
        assert_eq!(
            out.unwrap(),
            json!({"dry_run": true, "would_send": [{"method": "POST", "service": "api", "path": "/x", "query": {"a": ["1", "2"]}, "body": {"password": "<redacted>", "name": "n"}}], "before": {"x": 1}})
        );
    }

    #[test]
    fn refusals_and_early_failures_stay_failures() {
        let r = Rehearsal::default();
        assert!(r.finish(Err(ToolError::invalid("x", "bad"))).is_err());
        let failed = ToolError::Failed {
            code: "c",
            message: "m".into(),
            details: None,
        };
        assert!(r.finish(Err(failed.clone())).is_err());
        r.record(&ApiRequest::delete(Service::Api, "/y"));
        let out = r.finish(Err(failed)).unwrap();
        assert_eq!(out["would_send"][0]["method"], "DELETE");
        assert!(out["stopped"].as_str().unwrap().contains("real answer"));
    }
}
