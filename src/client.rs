//! The ALTR HTTP client: the ten services and their base URLs, HTTP Basic auth on every attempt,
//! a per-attempt timeout, the retry policy of [`retry`], percent-encoded paths and auto-paging.
//! It knows nothing of MCP: it takes an [`ApiRequest`] and gives back JSON or an [`ApiError`].

pub mod error;
pub mod retry;
pub mod scrub;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
pub use reqwest::Method;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
use retry::{Decision, Outcome, RetryPolicy};

use crate::client::scrub::Scrubber;

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
    /// Whether repeating this request is safe after a failure that may have been processed
    /// (500/502/504, a timeout, a broken connection). `None`: the calling tool's effect decides,
    /// else the HTTP method.
    pub idempotent: Option<bool>,
    /// Return a 2xx body that says `"success": false` as data instead of failing, for a caller
    /// that reports it itself (tools through `Ctx::send`, whose results the server checks).
    pub keep_unsuccessful: bool,
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
            idempotent: None,
            keep_unsuccessful: false,
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
    /// Return a `{"success": false}` answer as data rather than as an error.
    pub fn keep_unsuccessful(mut self) -> Self {
        self.keep_unsuccessful = true;
        self
    }
    /// Say whether this request may be repeated after a failure that may have been processed,
    /// whatever its method (a PUT that adds something is not idempotent; a POST that only reads is).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }
}

/// Counts kept for the tool call a request belongs to (for the one-line call log).
#[derive(Debug, Default)]
pub struct CallStats {
    pub requests: AtomicU32,
    pub last_status: AtomicU16,
    /// The HTTP status of every answer received, retries included, in order (for the audit trail).
    pub statuses: std::sync::Mutex<Vec<u16>>,
}

/// What the client knows of the tool call a request belongs to: its counts, whether its
/// operation may be repeated, the client's cancellation, and the call's deadline. The server
/// sets it around each tool call ([`CALL`]); every request of the call checks it first, so a
/// cancelled or overdue call stops at the next request boundary.
#[derive(Debug, Default)]
pub struct CallContext {
    pub stats: CallStats,
    /// Whether the calling tool's operation is idempotent; used for requests without their own
    /// [`ApiRequest::idempotent`] override.
    pub idempotent: Option<bool>,
    /// Cancelled when the client cancels the call or goes away.
    pub cancel: CancellationToken,
    /// When the whole call must be over, and the limit it came from (CALL_TIMEOUT).
    pub deadline: Option<(tokio::time::Instant, Duration)>,
}

impl CallContext {
    pub fn new(
        idempotent: Option<bool>,
        cancel: CancellationToken,
        limit: Option<Duration>,
    ) -> Self {
        Self {
            stats: CallStats::default(),
            idempotent,
            cancel,
            deadline: limit.map(|l| (tokio::time::Instant::now() + l, l)),
        }
    }

    /// Requests of this call that got an answer or failed so far.
    pub fn completed(&self) -> u32 {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// Time left before the deadline, if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|(at, _)| at.saturating_duration_since(tokio::time::Instant::now()))
    }

    /// The error for stopping before (or, `in_flight`, during) `req`, if the call must stop.
    fn stop_reason(&self, req: &ApiRequest, in_flight: bool) -> Option<ApiError> {
        if self.cancel.is_cancelled() {
            return Some(ApiError::Cancelled {
                method: req.method.to_string(),
                path: req.path.clone(),
                completed: self.completed(),
                in_flight,
            });
        }
        match self.deadline {
            Some((at, limit)) if tokio::time::Instant::now() >= at => Some(ApiError::Deadline {
                method: req.method.to_string(),
                path: req.path.clone(),
                limit_secs: limit.as_secs_f64(),
                completed: self.completed(),
                in_flight,
            }),
            _ => None,
        }
    }

    /// Wait until the call is cancelled or its deadline passes (forever when neither can happen).
    async fn stopped(&self) {
        match self.deadline {
            Some((at, _)) => {
                tokio::select! {
                    _ = self.cancel.cancelled() => {}
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
            None => self.cancel.cancelled().await,
        }
    }
}

tokio::task_local! {
    /// Set by the server around each tool call.
    pub static CALL: Arc<CallContext>;
}

fn current_call() -> Option<Arc<CallContext>> {
    CALL.try_with(Arc::clone).ok()
}

fn record(call: Option<&CallContext>, status: Option<u16>) {
    if let Some(c) = call {
        c.stats.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(st) = status {
            c.stats.last_status.store(st, Ordering::Relaxed);
            if let Ok(mut all) = c.stats.statuses.lock() {
                all.push(st);
            }
        }
    }
}

/// The largest error body read from ALTR; only its first few hundred characters are kept.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// What the client needs, built by the command line from the settings (the client does not
/// know the settings).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_urls: BTreeMap<Service, String>,
    /// The full `Authorization` header value.
    pub authorization: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Largest success body read (MAX_RESPONSE_BYTES).
    pub max_response_bytes: usize,
    /// Our own credentials, removed from any upstream text before it is logged or returned.
    pub scrub: Scrubber,
}

impl ClientConfig {
    /// A configuration with Basic credentials and the defaults of every limit.
    pub fn new(base_urls: BTreeMap<Service, String>, key: &str, secret: &str) -> Self {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"));
        Self {
            base_urls,
            authorization: format!("Basic {basic}"),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy {
                max_attempts: 3,
                max_delay: Duration::from_secs(60),
            },
            max_response_bytes: 4 << 20,
            scrub: Scrubber::new([basic, secret.to_string()]),
        }
    }
}

/// The HTTP client could not be built (for example TLS could not be set up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot set up the HTTP client for the ALTR API (TLS): {0}")]
pub struct ClientBuildError(pub String);

fn build_http(config: &ClientConfig) -> Result<reqwest::Client, ClientBuildError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("altr-mcp/", env!("CARGO_PKG_VERSION")))
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                detail.push_str(": ");
                detail.push_str(&s.to_string());
                source = s.source();
            }
            ClientBuildError(detail)
        })
}

/// The shared, retrying ALTR client, with its HTTP connection pool built once, at creation.
pub struct AltrClient {
    config: ClientConfig,
    http: Result<reqwest::Client, ClientBuildError>,
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
        body: Vec<u8>,
    },
    /// A success body larger than MAX_RESPONSE_BYTES (not read further).
    TooLarge {
        status: u16,
    },
    Timeout,
    Connection(String),
}

impl AltrClient {
    /// Build the client. Should the HTTP stack fail to build, every request fails with that
    /// error; use [`AltrClient::try_new`] to fail at start instead.
    pub fn new(config: ClientConfig) -> Self {
        let http = build_http(&config);
        Self { config, http }
    }

    /// Build the client, or say why the HTTP stack (TLS) could not be set up.
    pub fn try_new(config: ClientConfig) -> Result<Self, ClientBuildError> {
        let http = build_http(&config)?;
        Ok(Self {
            config,
            http: Ok(http),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
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

    /// Send a request with retries; the parsed JSON body on success (`null` when a write is
    /// answered with no body). A body that is not JSON, `null`, or `{"success": false}` is an
    /// error, never a success.
    pub async fn send(&self, req: &ApiRequest) -> Result<Value, ApiError> {
        self.send_with_status(req).await.map(|(_, v)| v)
    }

    /// As [`send`](Self::send), with the final HTTP status.
    pub async fn send_with_status(&self, req: &ApiRequest) -> Result<(u16, Value), ApiError> {
        let call = current_call();
        let call = call.as_deref();
        let url = self.url_of(req);
        let idempotent = req
            .idempotent
            .or(call.and_then(|c| c.idempotent))
            .unwrap_or_else(|| retry::is_idempotent(&req.method));
        // What an earlier attempt of this request did, when it may have been applied.
        let mut earlier: Option<&'static str> = None;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(stop) = call.and_then(|c| c.stop_reason(req, false)) {
                return Err(stop);
            }
            let timeout = match call.and_then(CallContext::remaining) {
                Some(left) => self.config.timeout.min(left.max(Duration::from_millis(1))),
                None => self.config.timeout,
            };
            let started = Instant::now();
            let result = match call {
                // A read (or any idempotent operation) in flight is abandoned at once; a write
                // that may not be repeated is let finish (within its timeout) so its outcome is
                // known, and the call stops before the next request.
                Some(c) if idempotent => {
                    tokio::select! {
                        r = self.attempt(req, &url, timeout) => r,
                        _ = c.stopped() => {
                            record(call, None);
                            return Err(c.stop_reason(req, true).unwrap_or(ApiError::Cancelled {
                                method: req.method.to_string(),
                                path: req.path.clone(),
                                completed: c.completed(),
                                in_flight: true,
                            }));
                        }
                    }
                }
                _ => self.attempt(req, &url, timeout).await,
            };
            // An attempt cut short by the call's deadline (or cancelled) ends the call.
            if matches!(result, Attempt::Timeout | Attempt::Connection(_)) {
                if let Some(stop) = call.and_then(|c| c.stop_reason(req, true)) {
                    record(call, None);
                    return Err(stop);
                }
            }
            let outcome = match &result {
                Attempt::Response {
                    status,
                    retry_after,
                    ..
                } => Outcome::Status(*status, retry_after.as_deref()),
                Attempt::TooLarge { status } => Outcome::Status(*status, None),
                Attempt::Timeout => Outcome::Timeout,
                Attempt::Connection(_) => Outcome::Connection,
            };
            let status = match &result {
                Attempt::Response { status, .. } | Attempt::TooLarge { status } => Some(*status),
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
            record(call, status);
            let decision = retry::decide(
                idempotent,
                outcome,
                attempt,
                self.config.retry,
                SystemTime::now(),
                rand::random::<f64>(),
            );
            match decision {
                Decision::RetryAfter(wait) => {
                    earlier = match outcome {
                        Outcome::Timeout => Some("timed out"),
                        Outcome::Connection => Some("lost its connection"),
                        Outcome::Status(500 | 502 | 504, _) => Some("failed with a server error"),
                        _ => earlier,
                    };
                    tracing::debug!(method = %req.method, path = %req.path, attempt, wait_ms = wait.as_millis() as u64, "retrying upstream request");
                    if let Some(c) = call {
                        // A wait that outlasts the call's deadline ends the call now.
                        if c.remaining().is_some_and(|left| left < wait) {
                            return self.finish(req, result, attempt, true, earlier);
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = c.stopped() => {}
                        }
                    } else {
                        tokio::time::sleep(wait).await;
                    }
                }
                Decision::Stop | Decision::Exhausted => {
                    return self.finish(req, result, attempt, true, earlier);
                }
            }
        }
    }

    fn finish(
        &self,
        req: &ApiRequest,
        result: Attempt,
        attempts: u32,
        strict: bool,
        earlier: Option<&'static str>,
    ) -> Result<(u16, Value), ApiError> {
        let method = req.method.to_string();
        let path = req.path.clone();
        let scrub = &self.config.scrub;
        match result {
            Attempt::Response { status, body, .. } if (200..300).contains(&status) => {
                let text = String::from_utf8_lossy(&body);
                let invalid = |detail: String| ApiError::InvalidResponse {
                    method: method.clone(),
                    path: path.clone(),
                    detail,
                };
                if text.trim().is_empty() {
                    // A write answered with no body is fine; a read that returns nothing is not.
                    if strict && status != 204 && (req.method == Method::GET) {
                        return Err(invalid(format!(
                            "HTTP {status} with an empty body where data was expected"
                        )));
                    }
                    return Ok((status, Value::Null));
                }
                let mut value = match serde_json::from_str::<Value>(&text) {
                    Ok(v) => v,
                    Err(_) if !strict => Value::String(scrub.text(&text).into_owned()),
                    Err(e) => {
                        return Err(invalid(format!(
                            "HTTP {status} with a body that is not JSON ({}; it starts with {:?})",
                            if e.is_eof() { "cut short" } else { "not JSON" },
                            error::truncate(
                                &scrub
                                    .text(text.trim())
                                    .split_whitespace()
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                60
                            )
                        )))
                    }
                };
                if strict && value.is_null() {
                    return Err(invalid(format!("HTTP {status} with the body `null`")));
                }
                if strict
                    && !req.keep_unsuccessful
                    && value.get("success") == Some(&Value::Bool(false))
                {
                    return Err(ApiError::Unsuccessful {
                        method,
                        path,
                        status,
                        message: error::upstream_message(&scrub.text(&text)),
                    });
                }
                scrub.value(&mut value);
                Ok((status, value))
            }
            Attempt::Response { status, .. }
                if status == 404 && earlier.is_some() && req.method == Method::DELETE =>
            {
                Err(ApiError::ProbablyApplied {
                    method,
                    path,
                    attempts,
                    earlier: earlier.unwrap_or("failed").to_string(),
                })
            }
            Attempt::Response { status, body, .. } => Err(ApiError::Http {
                method,
                path,
                status,
                message: error::upstream_message(&scrub.text(&String::from_utf8_lossy(&body))),
                attempts,
            }),
            Attempt::TooLarge { .. } => Err(ApiError::TooLarge {
                method,
                path,
                limit: self.config.max_response_bytes,
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
                detail: scrub.text(&detail).into_owned(),
                attempts,
            }),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, Attempt> {
        self.http
            .as_ref()
            .map_err(|e| Attempt::Connection(e.to_string()))
    }

    async fn attempt(&self, req: &ApiRequest, url: &str, timeout: Duration) -> Attempt {
        let http = match self.http() {
            Ok(h) => h,
            Err(a) => return a,
        };
        let mut builder = http
            .request(req.method.clone(), url)
            .timeout(timeout)
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
        match builder.send().await {
            Ok(r) => self.read(r).await,
            Err(e) => classify(e),
        }
    }

    /// Read a response body, bounded: a success body beyond MAX_RESPONSE_BYTES is refused
    /// without reading the rest; an error body is cut at [`MAX_ERROR_BODY_BYTES`].
    async fn read(&self, mut response: reqwest::Response) -> Attempt {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let success = (200..300).contains(&status);
        let limit = if success {
            self.config.max_response_bytes
        } else {
            MAX_ERROR_BODY_BYTES
        };
        if success && response.content_length().is_some_and(|n| n > limit as u64) {
            return Attempt::TooLarge { status };
        }
        let mut body: Vec<u8> = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        if success {
                            return Attempt::TooLarge { status };
                        }
                        let room = limit.saturating_sub(body.len());
                        body.extend(chunk.iter().take(room));
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return classify(e),
            }
        }
        Attempt::Response {
            status,
            retry_after,
            body,
        }
    }

    /// Fetch an absolute URL without credentials (a presigned download link), one attempt; the
    /// body is returned as JSON when it is JSON and as text otherwise, bounded like any other.
    pub async fn get_unauthenticated(&self, url: &str) -> Result<(u16, Value), ApiError> {
        let shown = url.split('?').next().unwrap_or_default().to_string();
        let req = ApiRequest::get(Service::Api, shown);
        if let Some(stop) = current_call().and_then(|c| c.stop_reason(&req, false)) {
            return Err(stop);
        }
        let result = match self.http() {
            Err(a) => a,
            Ok(http) => match http.get(url).send().await {
                Ok(r) => self.read(r).await,
                Err(e) => classify(e),
            },
        };
        self.finish(&req, result, 1, false, None)
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
