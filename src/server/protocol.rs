//! Answers at the protocol level: a malformed request for a method this server knows is -32602
//! with what is wrong (never echoing a value), an unknown method -32601, and so is a method that
//! the revision the request declares in its `_meta` removed (`initialize` from 2026-07-28 on).

use rmcp::model::{CustomRequest, CustomResult, ErrorCode, GetMeta, ProtocolVersion};
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

/// The first revision without `initialize` and the other methods in [`REMOVED_METHODS`].
pub const STATELESS_REVISION: &str = "2026-07-28";

/// The requests the 2026-07-28 revision removed (its clients open with `server/discover` and
/// send their version, capabilities and log level with every request).
pub const REMOVED_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// Whether a protocol version (`YYYY-MM-DD`) is [`STATELESS_REVISION`] or newer.
pub fn is_stateless_revision(version: &str) -> bool {
    let b = version.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    // Dates of this shape order as text does.
    shaped && version >= STATELESS_REVISION
}

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

/// Whether `version` is a revision that removed `method`.
fn removed_in(method: &str, version: Option<&ProtocolVersion>) -> bool {
    REMOVED_METHODS.contains(&method) && version.is_some_and(|v| is_stateless_revision(v.as_str()))
}

/// The answer to a request rmcp could not route ([`unrouted_in`]), for the revision the request
/// itself declares in its `_meta`, if any.
pub fn unrouted(request: &CustomRequest) -> Result<CustomResult, McpError> {
    unrouted_in(request, request.get_meta().protocol_version().as_ref())
}

/// The answer to a request rmcp could not route, from a client of protocol `version`: -32601
/// for an unknown method or one that revision removed (`initialize`, `logging/setLevel`,
/// `resources/subscribe` and `resources/unsubscribe` from 2026-07-28 on), -32602 for a known
/// one whose params did not parse.
pub fn unrouted_in(
    request: &CustomRequest,
    version: Option<&ProtocolVersion>,
) -> Result<CustomResult, McpError> {
    let method = request.method.as_str();
    if !KNOWN_METHODS.contains(&method) || removed_in(method, version) {
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
    fn revisions_from_2026_07_28_are_recognised() {
        for v in ["2026-07-28", "2026-12-01", "2031-01-01"] {
            assert!(is_stateless_revision(v), "{v}");
        }
        for v in [
            "2025-06-18",
            "2025-11-25",
            "2026-07-27",
            "",
            "draft",
            "2026-7-28",
            "20260728xx",
            "2026/07/28",
        ] {
            assert!(!is_stateless_revision(v), "{v}");
        }
    }

    #[test]
    fn removed_methods_of_the_clients_revision_are_not_found() {
        let new = ProtocolVersion::V_2026_07_28;
        let old = ProtocolVersion::V_2025_06_18;
        for method in [
            "initialize",
            "logging/setLevel",
            "resources/subscribe",
            "resources/unsubscribe",
        ] {
            let r = CustomRequest::new(method, Some(json!({})));
            let code = |v: Option<&ProtocolVersion>| unrouted_in(&r, v).unwrap_err().code;
            assert_eq!(code(Some(&new)), ErrorCode::METHOD_NOT_FOUND, "{method}");
            assert_eq!(code(Some(&old)), ErrorCode::INVALID_PARAMS, "{method}");
            assert_eq!(code(None), ErrorCode::INVALID_PARAMS, "{method}");
        }
        // The version a request declares in its own `_meta`.
        let mut declared = CustomRequest::new("initialize", Some(json!({})));
        declared.get_meta_mut().set_protocol_version(new.clone());
        assert_eq!(
            unrouted(&declared).unwrap_err().code,
            ErrorCode::METHOD_NOT_FOUND
        );
        let call = CustomRequest::new("tools/call", Some(json!({})));
        assert_eq!(
            unrouted_in(&call, Some(&new)).unwrap_err().code,
            ErrorCode::INVALID_PARAMS
        );
    }

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
