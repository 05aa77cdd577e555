//! `altr-mcp call TOOL [--arg k=v ...] [--json '{...}']`: one tool call from the shell, with the
//! same settings, selection and envelope as a served call, for scripts and quick checks.
//!
//! Exit status: 0 when the tool succeeded, 2 when it failed (the failure envelope is printed),
//! 1 for a usage or configuration problem (nothing is called).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use rmcp::model::JsonObject;
use serde_json::Value;

use crate::registry::Registry;
use crate::server::AltrServer;

/// A usage problem: printed on stderr, exit status 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The arguments of the call: the `--json` object first, then each `--arg name=value` over it.
/// A value is taken as JSON (a number, `true`, a list, an object) unless the parameter is a
/// string in the tool's schema or the text is not JSON; then it is the text itself.
pub fn arguments(
    schema: &JsonObject,
    json: Option<&str>,
    pairs: &[String],
) -> Result<JsonObject, Usage> {
    let mut args = match json {
        None => JsonObject::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                return Err(Usage(
                    "--json must be a JSON object of named arguments".into(),
                ))
            }
            Err(e) => return Err(Usage(format!("--json is not valid JSON ({e})"))),
        },
    };
    for pair in pairs {
        let Some((name, raw)) = pair.split_once('=') else {
            return Err(Usage(format!(
                "--arg takes name=value; `{}` has no `=`",
                crate::client::error::truncate(pair, 60)
            )));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(Usage("--arg needs a parameter name before `=`".into()));
        }
        let kind = schema
            .get("properties")
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str);
        let value = if kind == Some("string") {
            Value::String(raw.to_string())
        } else {
            serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
        };
        args.insert(name.to_string(), value);
    }
    Ok(args)
}

/// The input schema of a tool this configuration exposes, or why it cannot be called.
pub fn schema_of(registry: &Registry, tool: &str) -> Result<JsonObject, Usage> {
    if let Some(def) = registry.get(tool) {
        return Ok((def.schema)());
    }
    if let Some(why) = registry.unavailable(tool) {
        return Err(Usage(why));
    }
    Err(Usage(format!(
        "Unknown tool '{}'; run `altr-mcp tools` to see every name.",
        crate::client::error::truncate(tool, 60)
    )))
}

/// Run the call and print its envelope on stdout: indented on a terminal, one line otherwise.
pub async fn run(server: &AltrServer, tool: &str, args: JsonObject) -> ExitCode {
    let Some(result) = server.call(tool, Some(args)).await else {
        eprintln!("ERROR: Unknown tool '{tool}'");
        return ExitCode::from(1);
    };
    let envelope = result.structured_content.clone().unwrap_or(Value::Null);
    let mut out = std::io::stdout().lock();
    let text = if out.is_terminal() {
        serde_json::to_string_pretty(&envelope)
    } else {
        serde_json::to_string(&envelope)
    }
    .unwrap_or_default();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        return ExitCode::from(1);
    }
    if result.is_error == Some(true) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// The line `altr-mcp` prints on stderr when started in stdio mode on a terminal, where nobody
/// speaks MCP: how to connect a client instead.
pub const STDIO_HINT: &str = "altr-mcp: waiting for an MCP client on stdin/stdout. Let your client start it (e.g. `claude mcp add altr -- altr-mcp`), serve HTTP with MCP_TRANSPORT=streamable-http, or try one tool with `altr-mcp call get_databases`; Ctrl-C to quit.";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> JsonObject {
        match json!({"type": "object", "properties": {
            "tag_group_id": {"type": "string"}, "limit": {"type": "integer"},
            "ids": {"type": "array"}}})
        {
            Value::Object(o) => o,
            _ => JsonObject::new(),
        }
    }

    #[test]
    fn arguments_follow_the_schema_types() {
        let a = arguments(
            &schema(),
            Some(r#"{"limit": 5, "other": "x"}"#),
            &[
                "tag_group_id=123".into(),
                "limit=7".into(),
                "ids=[1,2]".into(),
                "free=a b".into(),
            ],
        )
        .unwrap_or_default();
        assert_eq!(
            Value::Object(a),
            json!({"tag_group_id": "123", "limit": 7, "ids": [1, 2], "other": "x", "free": "a b"})
        );
    }

    #[test]
    fn bad_usage_is_refused() {
        assert!(arguments(&schema(), Some("[1]"), &[]).is_err());
        assert!(arguments(&schema(), Some("{oops"), &[]).is_err());
        assert!(arguments(&schema(), None, &["novalue".into()]).is_err());
        assert!(arguments(&schema(), None, &["=1".into()]).is_err());
    }
}
