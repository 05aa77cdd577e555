//! Dry runs, for every tool that changes something: `dry_run: true` runs the tool's validation and
//! its reads, records each write instead of sending it ([`Ctx::send`](super::Ctx::send) answers
//! the tool with [`placeholder`] so it can go on), and replaces the tool's result with
//! `{"dry_run": true, "would_send": [...], "before": ...}`.
//!
//! The same pass is how a destructive call is shown to a human before it is confirmed
//! ([`crate::safety::confirm`]).

use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::error::{ToolError, ToolResult};
use crate::client::{ApiRequest, Method};

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
    /// Record a write instead of sending it (as it is: [`Rehearsal::finish`] redacts).
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
            "query": Value::Object(query),
            "body": req.body.clone(),
        });
        if let Ok(mut w) = self.writes.lock() {
            w.push(entry);
        }
    }

    /// The recorded writes, each query and body passed through `redact`.
    pub fn writes(&self, redact: fn(&Value) -> Value) -> Vec<Value> {
        let mut writes = self.writes.lock().map(|w| w.clone()).unwrap_or_default();
        for w in &mut writes {
            for part in ["query", "body"] {
                if let Some(v) = w.get_mut(part).filter(|v| !v.is_null()) {
                    *v = redact(v);
                }
            }
        }
        writes
    }

    /// The result of a rehearsed call: a refusal stays a refusal, a failure before any write
    /// stays a failure; otherwise what would have been sent, with the before-state when the
    /// tool read one. A tool that could not go on without a write's real answer says where it
    /// stopped.
    pub fn finish(&self, result: ToolResult, redact: fn(&Value) -> Value) -> ToolResult {
        let writes = self.writes(redact);
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

    /// A stand-in for the server's redaction: hides `password`.
    fn hide(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(p) = v.get_mut("password") {
            *p = json!("<redacted>");
        }
        v
    }

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
        let out = r.finish(
            Ok(json!({"before": {"x": 1}, "after": placeholder()})),
            hide,
        );
        assert_eq!(
            out.unwrap(),
            json!({"dry_run": true, "would_send": [{"method": "POST", "service": "api", "path": "/x", "query": {"a": ["1", "2"]}, "body": {"password": "<redacted>", "name": "n"}}], "before": {"x": 1}})
        );
    }

    #[test]
    fn refusals_and_early_failures_stay_failures() {
        let r = Rehearsal::default();
        assert!(r.finish(Err(ToolError::invalid("x", "bad")), hide).is_err());
        let failed = ToolError::Failed {
            code: "c",
            message: "m".into(),
            details: None,
        };
        assert!(r.finish(Err(failed.clone()), hide).is_err());
        r.record(&ApiRequest::delete(Service::Api, "/y"));
        let out = r.finish(Err(failed), hide).unwrap();
        assert_eq!(out["would_send"][0]["method"], "DELETE");
        assert!(out["stopped"].as_str().unwrap().contains("real answer"));
    }
}
