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

impl ToolError {
    pub fn invalid(parameter: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::Invalid {
            parameter: parameter.into(),
            message: message.into(),
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
