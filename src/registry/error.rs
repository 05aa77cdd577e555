//! A tool's failure, and the one place its code comes from.

use serde_json::{json, Value};

use crate::client::{ApiError, PathError};

/// A tool's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// Bad input, caught before any request was sent.
    #[error("Invalid argument `{parameter}`: {message}")]
    Invalid { parameter: String, message: String },
    /// The ALTR API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The call as a whole stopped (its deadline, or a cancellation), apart from any one request.
    #[error(transparent)]
    Call(#[from] CallError),
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

/// The failure a body means when it is ALTR saying the operation did not succeed
/// (`"success": false`), whatever its status; `None` for any other body.
pub fn unsuccessful(body: &Value) -> Option<ToolError> {
    if body.get("success") != Some(&Value::Bool(false)) {
        return None;
    }
    let message = crate::client::error::upstream_message(&body.to_string());
    Some(ToolError::Failed {
        code: "upstream_unsuccessful",
        message: format!("ALTR answered but reported that the operation did not succeed: {message}. Nothing is reported as done."),
        details: None,
    })
}

impl ToolError {
    pub fn invalid(parameter: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::Invalid {
            parameter: parameter.into(),
            message: message.into(),
        }
    }

    /// The failure's code: `invalid_argument`, the API error's code, the call error's, or the
    /// code a tool or gate gave. The one place codes come from (envelope, log, audit trail).
    pub fn code(&self) -> &'static str {
        match self {
            ToolError::Invalid { .. } => "invalid_argument",
            ToolError::Api(e) => e.code(),
            ToolError::Call(e) => e.code(),
            ToolError::Failed { code, .. } => code,
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
            ToolError::Call(e) => {
                json!({"code": e.code(), "message": e.to_string(), "hint": e.hint()})
            }
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

/// Why a whole call stopped, apart from any one request (a request's own deadline or
/// cancellation is an [`ApiError`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// CALL_TIMEOUT ran out while the tool was waiting on something other than a request.
    #[error("The call ran out of time (CALL_TIMEOUT {limit_secs}s) while the tool was working; {completed} request(s) to ALTR of this call had completed and nothing more was sent")]
    Deadline { limit_secs: f64, completed: u32 },
    /// The client cancelled the call (or went away) while the server waited for a human's answer.
    #[error("The call was cancelled by the client while waiting for the {during}; nothing was sent to ALTR")]
    Cancelled { during: &'static str },
}

impl CallError {
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Deadline { .. } => "call_timeout",
            CallError::Cancelled { .. } => "cancelled",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            CallError::Deadline { .. } => "A request may have been in flight and may or may not have been applied; read the resource before repeating a change. Narrow the request (a filter or smaller pages), or raise CALL_TIMEOUT.",
            CallError::Cancelled { .. } => "Call the tool again if the work is still wanted.",
        }
    }
}
