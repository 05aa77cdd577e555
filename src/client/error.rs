//! Failures of an ALTR request, each with a message that says what happened and what to try.
//! Messages carry the method and path but never the query string, a header or a credential.

use serde_json::{json, Value};

/// Longest upstream message kept in an error.
pub const MAX_UPSTREAM_MESSAGE: usize = 500;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{method} {path} returned HTTP {status}{}: {message}", attempts_note(*.attempts))]
    Http {
        method: String,
        path: String,
        status: u16,
        /// The upstream explanation, bounded to [`MAX_UPSTREAM_MESSAGE`] characters.
        message: String,
        attempts: u32,
    },
    #[error("{method} {path} got no answer within {timeout_secs}s{}", attempts_note(*.attempts))]
    Timeout {
        method: String,
        path: String,
        timeout_secs: f64,
        attempts: u32,
    },
    #[error("{method} {path} could not reach the ALTR API{}: {detail}", attempts_note(*.attempts))]
    Connection {
        method: String,
        path: String,
        detail: String,
        attempts: u32,
    },
    #[error("{method} {path} answered {detail}; that is not a valid result, so nothing is reported as done")]
    InvalidResponse {
        method: String,
        path: String,
        detail: String,
    },
    /// A 2xx whose body says `"success": false`.
    #[error(
        "{method} {path} answered HTTP {status} but reported that it did not succeed: {message}"
    )]
    Unsuccessful {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    /// A success body larger than MAX_RESPONSE_BYTES.
    #[error("{method} {path} answered with more than {limit} bytes (MAX_RESPONSE_BYTES); the answer was not read")]
    TooLarge {
        method: String,
        path: String,
        limit: usize,
    },
    /// A DELETE retried after an attempt that may have been applied, then answered 404.
    #[error("{method} {path} returned HTTP 404 on attempt {attempts}, after an earlier attempt {earlier}: that earlier attempt was most likely applied, so the resource is probably already deleted")]
    ProbablyApplied {
        method: String,
        path: String,
        attempts: u32,
        earlier: String,
    },
    /// The client cancelled the tool call (or went away).
    #[error("The call was cancelled by the client {}{method} {path}; {completed} request(s) to ALTR of this call had completed and nothing more was sent", if *.in_flight { "while waiting for " } else { "before " })]
    Cancelled {
        method: String,
        path: String,
        /// Requests of this call that had completed (answered or failed) before it stopped.
        completed: u32,
        /// Whether `method path` was in flight (abandoned, outcome unknown) rather than not sent.
        in_flight: bool,
    },
    /// The tool call ran out of CALL_TIMEOUT.
    #[error("The call ran out of time (CALL_TIMEOUT {limit_secs}s) {}{method} {path}; {completed} request(s) to ALTR of this call had completed and nothing more was sent", if *.in_flight { "while waiting for " } else { "before " })]
    Deadline {
        method: String,
        path: String,
        limit_secs: f64,
        completed: u32,
        in_flight: bool,
    },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl ApiError {
    /// The HTTP status, for HTTP failures.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } | ApiError::Unsuccessful { status, .. } => Some(*status),
            ApiError::ProbablyApplied { .. } => Some(404),
            _ => None,
        }
    }

    /// A short machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Http { .. } => "upstream_http_error",
            ApiError::Timeout { .. } => "upstream_timeout",
            ApiError::Connection { .. } => "upstream_unreachable",
            ApiError::InvalidResponse { .. } => "upstream_invalid_response",
            ApiError::Unsuccessful { .. } => "upstream_unsuccessful",
            ApiError::TooLarge { .. } => "upstream_response_too_large",
            ApiError::ProbablyApplied { .. } => "probably_applied",
            ApiError::Cancelled { .. } => "cancelled",
            ApiError::Deadline { .. } => "call_timeout",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ApiError::Http { status, .. } => match status {
                400 | 422 => "ALTR rejected the request as invalid; check the arguments against the tool's description.",
                401 => "Authentication failed: check MAPI_KEY and MAPI_SECRET (an ALTR API key name and its secret).",
                403 => "The API key is not allowed to do this, or the feature is not enabled for this ALTR org.",
                404 => "Not found: check the id or name (list the resources first to find the right one) and ORG_ID.",
                409 => "Conflict with the current state (for example the resource already exists); read it first.",
                429 => "Rate limited by ALTR: wait a little before trying again, or raise MAX_RETRIES.",
                500..=599 => "ALTR had a server-side problem; try again later. Writes that may have gone through are not retried automatically, so check before repeating one.",
                _ => "The ALTR API refused the request.",
            },
            ApiError::Timeout { .. } => "The ALTR API is slow or unreachable; try again, or raise REQUEST_TIMEOUT. A write that timed out may still have been applied, so check before repeating it.",
            ApiError::Connection { .. } => "Check the network, ORG_ID and any ALTR_*_BASE_URL overrides. If the connection broke during a write, it may still have been applied, so check before repeating it.",
            ApiError::InvalidResponse { .. } => "ALTR answered with something that is not a result (not JSON, cut short, empty or null), so nothing is reported as done. If this was a change, read the resource before repeating it; if it keeps happening, check any ALTR_*_BASE_URL override.",
            ApiError::Unsuccessful { .. } => "ALTR says the operation did not succeed: correct what its message names and call again. Nothing is reported as done.",
            ApiError::TooLarge { .. } => "The answer is too large to return: narrow the query (a filter, a smaller limit, or one page at a time) or raise MAX_RESPONSE_BYTES.",
            ApiError::ProbablyApplied { .. } => "Do not read this as 'not found': the delete most likely went through on the earlier attempt. Confirm with the matching list or get tool.",
            ApiError::Cancelled { in_flight: true, .. } => "The request in flight was abandoned and may or may not have been applied; read the resource before repeating a change.",
            ApiError::Deadline { in_flight: true, .. } => "The request in flight was abandoned and may or may not have been applied; read the resource before repeating a change. Narrow the request (a filter or smaller pages), or raise CALL_TIMEOUT.",
            ApiError::Cancelled { .. } => "Nothing after the completed requests was sent. Call the tool again if the work is still wanted.",
            ApiError::Deadline { .. } => "Nothing after the completed requests was sent. Narrow the request (a filter or smaller pages), or raise CALL_TIMEOUT.",
        }
    }

    /// The `error` member of a failure envelope.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "code": self.code(),
            "message": self.to_string(),
            "hint": self.hint(),
        });
        if let Some(status) = self.status() {
            if let Some(o) = v.as_object_mut() {
                o.insert("status".into(), json!(status));
            }
        }
        v
    }
}

/// Pull the readable part out of an error body: a JSON `message`/`error`/`detail` field if there
/// is one, else the text itself; whitespace collapsed and bounded in length.
pub fn upstream_message(body: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(v) => [
            "message",
            "error",
            "detail",
            "errors",
            "error_message",
            "msg",
        ]
        .iter()
        .find_map(|k| match v.get(*k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => match other.get("message") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => Some(other.to_string()),
            },
        })
        .unwrap_or_else(|| body.to_string()),
        Err(_) => body.to_string(),
    };
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(no message)".to_string();
    }
    truncate(&collapsed, MAX_UPSTREAM_MESSAGE)
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_messages_are_extracted_and_bounded() {
        assert_eq!(
            upstream_message(r#"{"message":"no such tag"}"#),
            "no such tag"
        );
        assert_eq!(
            upstream_message(r#"{"error":{"message":"bad role"}}"#),
            "bad role"
        );
        assert_eq!(
            upstream_message("<html>\n  Bad   Gateway </html>"),
            "<html> Bad Gateway </html>"
        );
        assert_eq!(upstream_message(""), "(no message)");
        let long = "x".repeat(5000);
        assert_eq!(
            upstream_message(&long).chars().count(),
            MAX_UPSTREAM_MESSAGE + 1
        );
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = ApiError::Http {
            method: "GET".into(),
            path: "/api/databases".into(),
            status: 401,
            message: "Unauthorized".into(),
            attempts: 1,
        };
        let j = e.to_json();
        assert_eq!(j["status"], 401);
        assert!(j["hint"].as_str().unwrap().contains("MAPI_KEY"));
        assert_eq!(
            j["message"],
            "GET /api/databases returned HTTP 401: Unauthorized"
        );
        let t = ApiError::Timeout {
            method: "GET".into(),
            path: "/x".into(),
            timeout_secs: 0.5,
            attempts: 3,
        };
        assert_eq!(
            t.to_string(),
            "GET /x got no answer within 0.5s (after 3 attempts)"
        );
    }
}
