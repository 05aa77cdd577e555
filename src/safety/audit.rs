//! The audit trail (ALTR_AUDIT_LOG): one JSON line per tool call and per refusal, written and
//! flushed before the result is returned. A line that cannot be written fails the call (fail
//! closed): an unrecorded change must not be reported as done.
//!
//! A line holds the time (UTC, RFC 3339), the tool, its effect class, the outcome (`ok`, `dry_run`,
//! `declined`, `input_required`, `refused` or the error code), the upstream HTTP statuses, the duration, the
//! arguments with secrets and sensitive values redacted, and the caller: over HTTP the name bound
//! to the bearer token (MCP_AUTH_TOKENS), over stdio the client's `clientInfo` name.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::registry::{Effect, ToolError};

/// Where audit lines go.
#[derive(Debug)]
enum Sink {
    Stderr,
    File(File),
}

/// The open audit log.
#[derive(Debug)]
pub struct AuditLog {
    sink: Mutex<Sink>,
    /// What the log is, for error messages (the path, or `stderr`).
    name: String,
}

impl AuditLog {
    /// Open `target` (`-`: standard error) for appending; created if missing.
    pub fn open(target: &str) -> Result<AuditLog, String> {
        let target = target.trim();
        if target == "-" {
            return Ok(AuditLog {
                sink: Mutex::new(Sink::Stderr),
                name: "stderr".into(),
            });
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(target)
            .map_err(|e| format!("ALTR_AUDIT_LOG: cannot open {target} for appending: {e}"))?;
        Ok(AuditLog {
            sink: Mutex::new(Sink::File(file)),
            name: target.to_string(),
        })
    }

    /// Append one line and flush it.
    pub fn write(&self, entry: &Value) -> Result<(), ToolError> {
        let mut line = entry.to_string();
        line.push('\n');
        let failed = |e: String| {
            ToolError::Failed {
            code: "audit_failed",
            message: format!("The audit log ({}) could not be written ({e}); the call's outcome is unrecorded, so it is reported as a failure. Check ALTR_AUDIT_LOG (disk space, permissions) and check the ALTR state before retrying.", self.name),
            details: None,
        }
        };
        let mut sink = self
            .sink
            .lock()
            .map_err(|_| failed("the log is unusable after an earlier failure".into()))?;
        let written = match &mut *sink {
            Sink::Stderr => {
                let mut err = std::io::stderr().lock();
                err.write_all(line.as_bytes()).and_then(|_| err.flush())
            }
            Sink::File(f) => f.write_all(line.as_bytes()).and_then(|_| f.flush()),
        };
        written.map_err(|e| failed(e.to_string()))
    }
}

/// The effect class as written in the log.
pub fn effect_name(effect: Effect) -> &'static str {
    match effect {
        Effect::ReadOnly => "read_only",
        Effect::Additive => "additive",
        Effect::Idempotent => "idempotent",
        Effect::Destructive => "destructive",
        Effect::ClearText => "cleartext",
    }
}

/// The outcome of a call as written in the log.
pub fn outcome(result: &Result<Value, ToolError>, dry_run: bool) -> String {
    outcome_label(result, dry_run).into()
}

/// [`outcome`] as a label from a closed set (the metrics use it too).
pub fn outcome_label(result: &Result<Value, ToolError>, dry_run: bool) -> &'static str {
    match result {
        Ok(_) if dry_run => "dry_run",
        Ok(_) => "ok",
        Err(e) => match e.code() {
            "declined" => "declined",
            "invalid_argument" | "confirmation_required" | "tool_unavailable" | "unknown_tool" => {
                "refused"
            }
            other => other,
        },
    }
}

/// One line of the log; `args` already redacted.
#[allow(clippy::too_many_arguments)]
pub fn entry(
    tool: &str,
    effect: Option<Effect>,
    outcome: &str,
    code: Option<&str>,
    statuses: &[u16],
    duration_ms: u64,
    args: &Value,
    caller: Option<&str>,
) -> Value {
    json!({
        "time": crate::clock::rfc3339_millis(SystemTime::now()),
        "tool": crate::client::error::truncate(tool, 200),
        "effect": effect.map(effect_name),
        "outcome": outcome,
        "code": code,
        "statuses": statuses,
        "duration_ms": duration_ms,
        "arguments": args,
        "caller": caller,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_and_an_unwritable_log_fails_the_call() {
        let dir = std::env::temp_dir().join(format!("altr-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let log = AuditLog::open(path.to_str().unwrap()).unwrap();
        log.write(&json!({"a": 1})).unwrap();
        log.write(&json!({"a": 2})).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"a\":2}\n");
        let e = AuditLog::open(dir.join("missing/dir/x").to_str().unwrap()).unwrap_err();
        assert!(e.contains("ALTR_AUDIT_LOG"), "{e}");
        // /dev/full accepts the open and fails every write.
        if let Ok(full) = AuditLog::open("/dev/full") {
            match full.write(&json!({"a": 3})) {
                Err(ToolError::Failed { code, .. }) => assert_eq!(code, "audit_failed"),
                other => panic!("{other:?}"),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
