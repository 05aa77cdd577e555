//! Answers at the protocol level: a malformed request for a method this server knows is -32602
//! with what is wrong (never echoing a value), an unknown method -32601.

use rmcp::model::{CustomRequest, CustomResult, ErrorCode};
use rmcp::ErrorData as McpError;
use serde_json::Value;

/// The JSON-RPC methods this server knows; a malformed request for one of them is -32602.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/call",
    "tools/list",
    "logging/setLevel",
    "completion/complete",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "server/discover",
];

/// Why `tools/call` params are not usable, without echoing any value.
fn tools_call_problem(params: Option<&Value>) -> String {
    let Some(Value::Object(p)) = params else {
        return "params must be an object with a tool `name` (a string) and optional `arguments` (an object)".into();
    };
    match p.get("name") {
        None => return "params.name is required: the name of the tool to call".into(),
        Some(Value::String(_)) => {}
        Some(_) => return "params.name must be a string naming a tool".into(),
    }
    match p.get("arguments") {
        None | Some(Value::Object(_)) | Some(Value::Null) => {
            "params do not match tools/call (name: string, arguments: object)".into()
        }
        Some(_) => "params.arguments must be an object of named arguments".into(),
    }
}

/// The answer to a request rmcp could not route: -32601 for an unknown method, -32602 for a
/// known one whose params did not parse.
pub fn unrouted(request: &CustomRequest) -> Result<CustomResult, McpError> {
    let method = request.method.as_str();
    if !KNOWN_METHODS.contains(&method) {
        return Err(McpError::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!(
                "Method not found: {}",
                crate::safety::redact::escape_log_text(&crate::client::error::truncate(
                    method, 100
                ))
            ),
            None,
        ));
    }
    let problem = if method == "tools/call" {
        tools_call_problem(request.params.as_ref())
    } else {
        format!("params do not match what {method} takes")
    };
    Err(McpError::invalid_params(
        format!("Invalid params for {method}: {problem}"),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_tools_call_params_are_explained() {
        assert!(tools_call_problem(None).contains("name"));
        assert!(tools_call_problem(Some(&json!({"arguments": {}}))).contains("required"));
        assert!(tools_call_problem(Some(&json!({"name": 5}))).contains("string"));
        assert!(
            tools_call_problem(Some(&json!({"name": "x", "arguments": [1]}))).contains("object")
        );
    }
}
