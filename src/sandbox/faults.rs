//! Fault injection and the `/_sandbox` control endpoints.
//!
//! `POST /_sandbox/faults` with `{method, path, count, kind, retry_after?, delay_ms?}` makes the
//! next `count` requests that match answer with the fault instead: `429` (with `Retry-After`),
//! `500`, `503`, `delay` (wait `delay_ms`, then answer normally; past the client's timeout it is a
//! timeout) or `drop` (close the connection without an answer). `path` is the full path on the
//! sandbox (service prefix included) and matches exactly, or as a prefix when it ends with `*`.
//! `method` is an HTTP method or `*` (any; the default).
//!
//! Also: `GET /_sandbox/faults` (armed faults), `DELETE /_sandbox/faults` (disarm all),
//! `GET /_sandbox/requests` (method, path and query of every request received),
//! `DELETE /_sandbox/requests`, `POST /_sandbox/reset` (`{"seed": "demo"|"empty"}`) and
//! `GET /_sandbox` (what this is). Control endpoints need no credentials and are never faulted.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{json_response, lock, ok, to_json, Body, Fail, Reply, Seed, Shared, State, CONTROL};

/// The longest delay a fault may ask for (10 minutes).
pub const MAX_DELAY_MS: u64 = 600_000;
/// The delay when `delay_ms` is not given: past the default 30 s request timeout.
pub const DEFAULT_DELAY_MS: u64 = 35_000;
/// The most requests one fault may answer.
pub const MAX_COUNT: u32 = 10_000;

/// A fault as asked for (the body of `POST /_sandbox/faults`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// HTTP method to match, or `*` / absent for any.
    #[serde(default)]
    pub method: Option<String>,
    /// Full path on the sandbox; a trailing `*` makes it a prefix.
    pub path: String,
    /// How many matching requests get the fault (default 1).
    #[serde(default)]
    pub count: Option<u32>,
    /// `429`, `500`, `503`, `delay` or `drop`.
    pub kind: String,
    /// `Retry-After` value for 429 (default `1`) and 503 (none unless given): seconds or a date.
    #[serde(default)]
    pub retry_after: Option<Value>,
    /// Delay for `delay`, in milliseconds (default 35000, at most 600000).
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    TooManyRequests { retry_after: Option<String> },
    ServerError,
    Unavailable { retry_after: Option<String> },
    Delay(Duration),
    Drop,
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::TooManyRequests { .. } => "429",
            FaultKind::ServerError => "500",
            FaultKind::Unavailable { .. } => "503",
            FaultKind::Delay(_) => "delay",
            FaultKind::Drop => "drop",
        }
    }

    /// The answer for the status faults.
    pub(crate) fn response(&self) -> Response {
        let (status, message, retry_after) = match self {
            FaultKind::TooManyRequests { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded (injected by the ALTR sandbox)",
                retry_after.as_deref(),
            ),
            FaultKind::Unavailable { retry_after } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable (injected by the ALTR sandbox)",
                retry_after.as_deref(),
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error (injected by the ALTR sandbox)",
                None,
            ),
        };
        let mut r = json_response(
            status,
            json!({"success": false, "message": message, "status_code": status.as_u16()}),
        );
        if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// An armed fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub id: u64,
    /// Upper-case method, `None` for any.
    pub method: Option<String>,
    pub path: String,
    pub prefix: bool,
    pub remaining: u32,
    pub kind: FaultKind,
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = if self.prefix {
            path.starts_with(&self.path)
        } else {
            path == self.path
        };
        method_ok && path_ok
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "method": self.method.clone().unwrap_or_else(|| "*".into()),
            "path": if self.prefix { format!("{}*", self.path) } else { self.path.clone() },
            "remaining": self.remaining,
            "kind": self.kind.name(),
        });
        match &self.kind {
            FaultKind::TooManyRequests { retry_after } | FaultKind::Unavailable { retry_after } => {
                if let Some(o) = v.as_object_mut() {
                    o.insert("retry_after".into(), json!(retry_after));
                }
            }
            FaultKind::Delay(d) => {
                if let Some(o) = v.as_object_mut() {
                    o.insert("delay_ms".into(), json!(d.as_millis() as u64));
                }
            }
            _ => {}
        }
        v
    }
}

/// The armed faults, matched in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    next_id: u64,
    armed: Vec<Fault>,
}

impl Faults {
    /// Validate and arm a fault; its id.
    pub fn add(&mut self, spec: FaultSpec) -> Result<u64, String> {
        let fault = self.build(spec)?;
        let id = fault.id;
        self.armed.push(fault);
        Ok(id)
    }

    fn build(&mut self, spec: FaultSpec) -> Result<Fault, String> {
        let method = match spec.method.as_deref().map(str::trim) {
            None | Some("") | Some("*") => None,
            Some(m) if m.eq_ignore_ascii_case("any") => None,
            Some(m) if !m.is_empty() && m.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(m.to_ascii_uppercase())
            }
            Some(_) => return Err("method must be an HTTP method such as GET or POST, or *".into()),
        };
        let raw = spec.path.trim();
        let (path, prefix) = match raw.strip_suffix('*') {
            Some(p) => (p.to_string(), true),
            None => (raw.to_string(), false),
        };
        if !path.starts_with('/') {
            return Err("path must start with / and include the service prefix, e.g. /api/v1/tag/masking or /altrnet/api/databases*".into());
        }
        if path.starts_with(CONTROL) {
            return Err("the /_sandbox control endpoints cannot be faulted".into());
        }
        let count = spec.count.unwrap_or(1);
        if count == 0 || count > MAX_COUNT {
            return Err(format!("count must be from 1 to {MAX_COUNT}"));
        }
        let retry_after = match &spec.retry_after {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) if HeaderValue::from_str(s).is_ok() => Some(s.clone()),
            Some(_) => return Err("retry_after must be a number of seconds or an HTTP date".into()),
        };
        let kind = match spec.kind.trim().to_ascii_lowercase().as_str() {
            "429" => FaultKind::TooManyRequests {
                retry_after: retry_after.or_else(|| Some("1".into())),
            },
            "500" => FaultKind::ServerError,
            "503" => FaultKind::Unavailable { retry_after },
            "delay" => {
                let ms = spec.delay_ms.unwrap_or(DEFAULT_DELAY_MS);
                if ms > MAX_DELAY_MS {
                    return Err(format!("delay_ms must be at most {MAX_DELAY_MS}"));
                }
                FaultKind::Delay(Duration::from_millis(ms))
            }
            "drop" => FaultKind::Drop,
            _ => return Err("kind must be one of 429, 500, 503, delay, drop".into()),
        };
        self.next_id = self.next_id.saturating_add(1);
        Ok(Fault {
            id: self.next_id,
            method,
            path,
            prefix,
            remaining: count,
            kind,
        })
    }

    /// The fault for this request, if one is armed; it is used up by one.
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let index = self.armed.iter().position(|f| f.matches(method, path))?;
        let fault = self.armed.get_mut(index)?;
        fault.remaining = fault.remaining.saturating_sub(1);
        let kind = fault.kind.clone();
        if fault.remaining == 0 {
            self.armed.remove(index);
        }
        Some(kind)
    }

    pub fn armed(&self) -> &[Fault] {
        &self.armed
    }

    pub fn clear(&mut self) {
        self.armed.clear();
    }
}

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .route(CONTROL, get(about))
        .route(
            "/_sandbox/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/_sandbox/requests", get(requests).delete(clear_requests))
        .route("/_sandbox/reset", post(reset))
}

async fn about() -> Reply {
    ok(json!({
        "sandbox": true,
        "message": "A simulated ALTR org; no real ALTR org is touched.",
        "credentials": {"ORG_ID": super::ORG_ID, "MAPI_KEY": super::MAPI_KEY, "MAPI_SECRET": super::MAPI_SECRET},
        "services": super::SERVICES.iter().map(|(var, prefix)| json!({"variable": var, "prefix": prefix})).collect::<Vec<_>>(),
        "control": ["POST /_sandbox/faults", "GET /_sandbox/faults", "DELETE /_sandbox/faults", "GET /_sandbox/requests", "DELETE /_sandbox/requests", "POST /_sandbox/reset"],
    }))
}

async fn add_fault(AxumState(s): State, body: Bytes) -> Reply {
    let body = Body::parse(&body)?;
    let spec: FaultSpec = serde_json::from_value(Value::Object(body.0))
        .map_err(|e| Fail::bad_request(format!("not a fault: {e}")))?;
    let mut faults = lock(&s.faults);
    let id = faults.add(spec).map_err(Fail::bad_request)?;
    let armed = faults
        .armed()
        .iter()
        .find(|f| f.id == id)
        .map(Fault::to_json)
        .unwrap_or(Value::Null);
    ok(armed)
}

async fn list_faults(AxumState(s): State) -> Reply {
    let faults: Vec<Value> = lock(&s.faults).armed().iter().map(Fault::to_json).collect();
    ok(json!({"faults": faults}))
}

async fn clear_faults(AxumState(s): State) -> Reply {
    lock(&s.faults).clear();
    ok(json!({"faults": []}))
}

async fn requests(AxumState(s): State) -> Reply {
    let all = s.requests();
    ok(json!({"count": all.len(), "requests": to_json(&all)}))
}

async fn clear_requests(AxumState(s): State) -> Reply {
    s.clear_requests();
    ok(json!({"requests": []}))
}

async fn reset(AxumState(s): State, body: Bytes) -> Reply {
    let seed = if body.iter().all(u8::is_ascii_whitespace) {
        Seed::Demo
    } else {
        let body = Body::parse(&body)?;
        body.only(&["seed"])?;
        match body.opt_string("seed")? {
            Some(text) => text.parse::<Seed>().map_err(Fail::bad_request)?,
            None => Seed::Demo,
        }
    };
    s.reset(seed);
    ok(json!({"seed": seed.to_string()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: &str, path: &str, kind: &str) -> FaultSpec {
        FaultSpec {
            method: Some(method.into()),
            path: path.into(),
            kind: kind.into(),
            ..FaultSpec::default()
        }
    }

    #[test]
    fn faults_match_method_and_path_and_run_out() {
        let mut f = Faults::default();
        f.add(FaultSpec {
            count: Some(2),
            ..spec("get", "/api/x", "500")
        })
        .unwrap();
        f.add(spec("*", "/api/p/*", "drop")).unwrap();
        assert_eq!(f.take("POST", "/api/x"), None);
        assert_eq!(f.take("GET", "/api/x/y"), None);
        assert_eq!(f.take("GET", "/api/x"), Some(FaultKind::ServerError));
        assert_eq!(f.take("GET", "/api/x"), Some(FaultKind::ServerError));
        assert_eq!(f.take("GET", "/api/x"), None);
        assert_eq!(f.take("DELETE", "/api/p/1"), Some(FaultKind::Drop));
        assert!(f.armed().is_empty());
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut f = Faults::default();
        assert!(f.add(spec("GET", "api/x", "500")).is_err());
        assert!(f.add(spec("GET", "/_sandbox/faults", "500")).is_err());
        assert!(f.add(spec("G T", "/x", "500")).is_err());
        assert!(f.add(spec("GET", "/x", "418")).is_err());
        assert!(f
            .add(FaultSpec {
                count: Some(0),
                ..spec("GET", "/x", "500")
            })
            .is_err());
        assert!(f
            .add(FaultSpec {
                delay_ms: Some(MAX_DELAY_MS + 1),
                ..spec("GET", "/x", "delay")
            })
            .is_err());
        assert!(f
            .add(FaultSpec {
                retry_after: Some(json!(["x"])),
                ..spec("GET", "/x", "429")
            })
            .is_err());
        assert!(f.armed().is_empty());
    }

    #[test]
    fn retry_after_defaults_for_429_only() {
        let mut f = Faults::default();
        f.add(spec("GET", "/a", "429")).unwrap();
        f.add(FaultSpec {
            retry_after: Some(json!(0.5)),
            ..spec("GET", "/b", "503")
        })
        .unwrap();
        let a = f.take("GET", "/a").unwrap().response();
        assert_eq!(a.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(a.headers()[header::RETRY_AFTER], "1");
        let b = f.take("GET", "/b").unwrap().response();
        assert_eq!(b.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(b.headers()[header::RETRY_AFTER], "0.5");
    }
}
