//! The ALTR HTTP client: the ten services and their base URLs, HTTP Basic auth on every attempt,
//! a per-attempt timeout, the retry policy of [`retry`], percent-encoded paths and auto-paging.
//! It knows nothing of MCP: it takes an [`ApiRequest`] and gives back JSON or an [`ApiError`].

pub mod error;
pub mod retry;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
pub use reqwest::Method;
use serde_json::Value;

pub use error::ApiError;
use retry::{Decision, Outcome, RetryPolicy};

use crate::settings::Settings;

/// The ALTR services, each with its own base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Api,
    AltrNet,
    Classification,
    ScControl,
    ServiceUser,
    AuditReport,
    Vault,
    Critical,
    Kma,
    DamAlerting,
}

impl Service {
    pub const ALL: [Service; 10] = [
        Service::Api,
        Service::AltrNet,
        Service::Classification,
        Service::ScControl,
        Service::ServiceUser,
        Service::AuditReport,
        Service::Vault,
        Service::Critical,
        Service::Kma,
        Service::DamAlerting,
    ];

    /// The environment variable that overrides this service's base URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::Api => "ALTR_API_BASE_URL",
            Service::AltrNet => "ALTR_ALTRNET_BASE_URL",
            Service::Classification => "ALTR_CLASSIFICATION_BASE_URL",
            Service::ScControl => "ALTR_SC_CONTROL_BASE_URL",
            Service::ServiceUser => "ALTR_SERVICE_USER_BASE_URL",
            Service::AuditReport => "ALTR_AUDIT_REPORT_BASE_URL",
            Service::Vault => "ALTR_VAULT_BASE_URL",
            Service::Critical => "ALTR_CRITICAL_BASE_URL",
            Service::Kma => "ALTR_KMA_BASE_URL",
            Service::DamAlerting => "ALTR_DAM_ALERTING_BASE_URL",
        }
    }

    /// The production base URL for an org.
    pub fn default_base_url(self, org_id: &str) -> String {
        match self {
            Service::Api => "https://api.live.altr.com".into(),
            Service::AltrNet => "https://altrnet.live.altr.com".into(),
            Service::Classification => format!("https://{org_id}.classification.live.altr.com"),
            Service::ScControl => format!("https://{org_id}.sc-control.live.altr.com"),
            Service::ServiceUser => format!("https://{org_id}.service-user.live.altr.com"),
            Service::AuditReport => format!("https://{org_id}.audit-report.live.altr.com/v1"),
            Service::Vault => format!("https://{org_id}.vault.live.altr.com/api/v2"),
            Service::Critical => format!("https://{org_id}.critical.live.altr.com/v2"),
            Service::Kma => format!("https://{org_id}.kma.live.altr.com/v1"),
            Service::DamAlerting => {
                format!("https://{org_id}.dam-alerting.live.altr.com/v1/dam-alerting")
            }
        }
    }
}

/// Characters left as they are in a path segment: RFC 3986 unreserved ones. Everything else,
/// `/ ? # %` included, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An argument that cannot be placed in a URL path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct PathError {
    pub parameter: String,
    pub message: String,
}

/// One path argument: its parameter name (for error messages), its value, and whether the caller
/// may pass it already percent-encoded (it is then decoded first, so `TAG%23x` and `TAG#x` agree).
pub struct Seg<'a> {
    pub name: &'a str,
    pub value: String,
    pub decode_first: bool,
}

/// A path argument, encoded as given.
pub fn seg<'a>(name: &'a str, value: impl Display) -> Seg<'a> {
    Seg {
        name,
        value: value.to_string(),
        decode_first: false,
    }
}

/// A path argument that may arrive percent-encoded (policy and rule ids).
pub fn seg_decoded<'a>(name: &'a str, value: impl Display) -> Seg<'a> {
    Seg {
        name,
        value: value.to_string(),
        decode_first: true,
    }
}

/// Fill each `{}` of `template` with the next argument, percent-encoded as one segment.
/// Empty values and the dot segments `.` and `..` are refused: they would change which URL is hit.
pub fn path(template: &str, args: &[Seg<'_>]) -> Result<String, PathError> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut pieces = template.split("{}");
    out.push_str(pieces.next().unwrap_or_default());
    let mut args = args.iter();
    for piece in pieces {
        let Some(arg) = args.next() else {
            // A template with more holes than arguments is a programming error; refuse loudly.
            return Err(PathError {
                parameter: "path".into(),
                message: format!("internal error: missing argument for {template}"),
            });
        };
        let value = if arg.decode_first {
            percent_decode_str(&arg.value)
                .decode_utf8()
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| arg.value.clone())
        } else {
            arg.value.clone()
        };
        if value.trim().is_empty() {
            return Err(PathError {
                parameter: arg.name.into(),
                message: "must not be empty".into(),
            });
        }
        if value == "." || value == ".." {
            return Err(PathError {
                parameter: arg.name.into(),
                message: "must not be '.' or '..'".into(),
            });
        }
        out.extend(utf8_percent_encode(&value, SEGMENT));
        out.push_str(piece);
    }
    Ok(out)
}

/// One request to an ALTR service.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    pub method: Method,
    pub service: Service,
    /// The path below the service's base URL, already encoded, starting with `/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl ApiRequest {
    pub fn new(method: Method, service: Service, path: impl Into<String>) -> Self {
        Self {
            method,
            service,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }
    pub fn get(service: Service, path: impl Into<String>) -> Self {
        Self::new(Method::GET, service, path)
    }
    pub fn post(service: Service, path: impl Into<String>) -> Self {
        Self::new(Method::POST, service, path)
    }
    pub fn put(service: Service, path: impl Into<String>) -> Self {
        Self::new(Method::PUT, service, path)
    }
    pub fn patch(service: Service, path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, service, path)
    }
    pub fn delete(service: Service, path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, service, path)
    }

    /// Add a query parameter.
    pub fn query(mut self, key: &str, value: impl Display) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    /// Add a query parameter when the value is present.
    pub fn query_opt<T: Display>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }
    /// Add one `key=value` pair per item (repeated keys).
    pub fn query_each<T: Display>(mut self, key: &str, values: &[T]) -> Self {
        for v in values {
            self = self.query(key, v);
        }
        self
    }
    /// Replace every value of `key` with this one.
    pub fn set_query(mut self, key: &str, value: impl Display) -> Self {
        self.query.retain(|(k, _)| k != key);
        self.query(key, value)
    }
    /// Set the JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Counts kept for the tool call a request belongs to (for the one-line call log).
#[derive(Debug, Default)]
pub struct CallStats {
    pub requests: AtomicU32,
    pub last_status: AtomicU16,
}

tokio::task_local! {
    /// Set by the server around each tool call.
    pub static CALL_STATS: Arc<CallStats>;
}

fn record(status: Option<u16>) {
    let _ = CALL_STATS.try_with(|s| {
        s.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(st) = status {
            s.last_status.store(st, Ordering::Relaxed);
        }
    });
}

/// Settings the client needs, separate from [`Settings`] so tests can build one directly.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_urls: BTreeMap<Service, String>,
    pub authorization: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientConfig {
    pub fn from_settings(s: &Settings) -> Self {
        let credentials = format!("{}:{}", s.mapi_key.expose(), s.mapi_secret.expose());
        Self {
            base_urls: s.base_urls.clone(),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            timeout: s.request_timeout,
            retry: RetryPolicy {
                max_attempts: s.max_retries.max(1),
                max_delay: s.max_retry_after,
            },
        }
    }
}

/// The shared, retrying ALTR client. Cheap to create: the HTTP connection pool is built on the
/// first request, so starting the server costs nothing.
pub struct AltrClient {
    config: ClientConfig,
    http: OnceLock<reqwest::Client>,
}

impl std::fmt::Debug for AltrClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AltrClient")
            .field("base_urls", &self.config.base_urls)
            .finish_non_exhaustive()
    }
}

/// What one attempt gave.
enum Attempt {
    Response {
        status: u16,
        retry_after: Option<String>,
        body: String,
    },
    Timeout,
    Connection(String),
}

impl AltrClient {
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            http: OnceLock::new(),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("altr-mcp/", env!("CARGO_PKG_VERSION")))
                .timeout(self.config.timeout)
                .connect_timeout(self.config.timeout)
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        })
    }

    /// The full URL of a request (without its query string).
    pub fn url_of(&self, req: &ApiRequest) -> String {
        let base = self
            .config
            .base_urls
            .get(&req.service)
            .map(String::as_str)
            .unwrap_or_default();
        format!("{base}{}", req.path)
    }

    /// Send a request with retries; the parsed JSON body on success (`null` when empty, a string
    /// when the body is not JSON).
    pub async fn send(&self, req: &ApiRequest) -> Result<Value, ApiError> {
        self.send_with_status(req).await.map(|(_, v)| v)
    }

    /// As [`send`](Self::send), with the final HTTP status.
    pub async fn send_with_status(&self, req: &ApiRequest) -> Result<(u16, Value), ApiError> {
        let url = self.url_of(req);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = self.attempt(req, &url).await;
            let outcome = match &result {
                Attempt::Response {
                    status,
                    retry_after,
                    ..
                } => Outcome::Status(*status, retry_after.as_deref()),
                Attempt::Timeout => Outcome::Timeout,
                Attempt::Connection(_) => Outcome::Connection,
            };
            let status = match &result {
                Attempt::Response { status, .. } => Some(*status),
                _ => None,
            };
            tracing::debug!(
                method = %req.method,
                path = %req.path,
                status,
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "upstream request"
            );
            record(status);
            let decision = retry::decide(
                &req.method,
                outcome,
                attempt,
                self.config.retry,
                SystemTime::now(),
                rand::random::<f64>(),
            );
            match decision {
                Decision::RetryAfter(wait) => {
                    tracing::debug!(method = %req.method, path = %req.path, attempt, wait_ms = wait.as_millis() as u64, "retrying upstream request");
                    tokio::time::sleep(wait).await;
                }
                Decision::Stop | Decision::Exhausted => {
                    return self.finish(req, result, attempt);
                }
            }
        }
    }

    fn finish(
        &self,
        req: &ApiRequest,
        result: Attempt,
        attempts: u32,
    ) -> Result<(u16, Value), ApiError> {
        let method = req.method.to_string();
        let path = req.path.clone();
        match result {
            Attempt::Response { status, body, .. } if (200..300).contains(&status) => {
                if body.trim().is_empty() {
                    return Ok((status, Value::Null));
                }
                match serde_json::from_str::<Value>(&body) {
                    Ok(v) => Ok((status, v)),
                    Err(_) => Ok((status, Value::String(body))),
                }
            }
            Attempt::Response { status, body, .. } => Err(ApiError::Http {
                method,
                path,
                status,
                message: error::upstream_message(&body),
                attempts,
            }),
            Attempt::Timeout => Err(ApiError::Timeout {
                method,
                path,
                timeout_secs: self.config.timeout.as_secs_f64(),
                attempts,
            }),
            Attempt::Connection(detail) => Err(ApiError::Connection {
                method,
                path,
                detail,
                attempts,
            }),
        }
    }

    async fn attempt(&self, req: &ApiRequest, url: &str) -> Attempt {
        let mut builder = self
            .http()
            .request(req.method.clone(), url)
            .header(reqwest::header::AUTHORIZATION, &self.config.authorization)
            .header(reqwest::header::ACCEPT, "application/json");
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return classify(e),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match response.text().await {
            Ok(body) => Attempt::Response {
                status,
                retry_after,
                body,
            },
            Err(e) => classify(e),
        }
    }

    /// Fetch an absolute URL without credentials (a presigned download link), one attempt.
    pub async fn get_unauthenticated(&self, url: &str) -> Result<(u16, Value), ApiError> {
        let shown = url.split('?').next().unwrap_or_default().to_string();
        let result = match self.http().get(url).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.text().await {
                    Ok(body) => Attempt::Response {
                        status,
                        retry_after: None,
                        body,
                    },
                    Err(e) => classify(e),
                }
            }
            Err(e) => classify(e),
        };
        let req = ApiRequest::get(Service::Api, shown);
        self.finish(&req, result, 1)
    }
}

/// Turn a reqwest error into an attempt outcome, keeping URLs (and their query strings) out.
fn classify(e: reqwest::Error) -> Attempt {
    if e.is_timeout() {
        return Attempt::Timeout;
    }
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    Attempt::Connection(error::truncate(&detail, 300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        let p = path("/v1/x/{}/y/{}", &[seg("a", "a/b?c#d"), seg("b", "..%2F..")]).unwrap();
        assert_eq!(p, "/v1/x/a%2Fb%3Fc%23d/y/..%252F..");
        assert_eq!(
            path("/p/{}", &[seg_decoded("policy_id", "TAG%23p1")]).unwrap(),
            "/p/TAG%23p1"
        );
        assert_eq!(
            path("/p/{}", &[seg_decoded("policy_id", "TAG#p1")]).unwrap(),
            "/p/TAG%23p1"
        );
        assert_eq!(path("/p/{}", &[seg("id", 42)]).unwrap(), "/p/42");
        assert_eq!(path("/p/{}", &[seg("id", "a b")]).unwrap(), "/p/a%20b");
    }

    #[test]
    fn dot_and_empty_segments_are_refused() {
        for bad in ["", " ", ".", ".."] {
            let e = path("/p/{}", &[seg("rule_id", bad)]).unwrap_err();
            assert_eq!(e.parameter, "rule_id");
        }
        let e = path("/p/{}", &[seg_decoded("policy_id", "%2E%2E")]).unwrap_err();
        assert_eq!(e.parameter, "policy_id");
        assert!(path("/p/{}/{}", &[seg("a", "x")]).is_err());
    }
}
