//! The ALTR sandbox: a simulated ALTR org behind a real HTTP server, so the MCP server runs with
//! no account and is tested end to end.
//!
//! One loopback listener serves all ten ALTR services, each under its own path prefix (see
//! [`SERVICES`]), so the base URLs it hands out look like the real layouts (`.../audit-report/v1`,
//! `.../vault/api/v2` ...). State lives in memory: ids are assigned, lists page with real cursors,
//! creates show up in later reads, updates change them, deletes remove them, unknown ids are 404.
//!
//! The simulator is written from ALTR's documented API behaviour, independently of
//! `crate::registry` and of the client's request building, so a bug in either cannot pass both.
//!
//! Layout: this file holds the server, the shared state, the helpers every domain uses and the
//! table of domains ([`DOMAINS`]); [`faults`] the fault injection and `/_sandbox` control
//! endpoints; [`store`] the generic collections (records, wire specs, paging, CRUD handlers).
//! Each API domain is one file with its `routes()` and its part of the demo org, `seed()`; here
//! in table order:
//! - [`databases`]: database connections and Snowflake service users;
//! - [`tags`]: the catalog of Snowflake tags, connected tags and their values;
//! - [`policies`]: masking policies, their rules, and roles (user groups);
//! - [`classification`]: classifiers, collections, jobs, findings, review decisions and reports;
//! - [`sidecars`]: the sidecar control plane (agents and tasks, repositories and their users,
//!   sidecars, listeners and bindings) and the telemetry derived from it;
//! - [`tokenization`]: the vault and critical token stores;
//! - [`keys`]: key management (keys per namespace with their sequences, and tweaks);
//! - [`audits`]: query, sidecar and system audits, and audit reports;
//! - [`access`]: access management policies and access requests;
//! - [`dam`]: DAM alerting rules and the alerts they raise.
//!
//! A new domain adds its file and one line in [`DOMAINS`]; its plain collections live in
//! [`Org::store`], so it needs no new `Org` field (see [`store`] for a worked example).

pub mod access;
pub mod audits;
pub mod classification;
pub mod dam;
pub mod databases;
pub mod faults;
pub mod keys;
pub mod policies;
pub mod sidecars;
pub mod store;
pub mod tags;
pub mod tokenization;

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::{Body as HttpBody, Bytes};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

pub use faults::{Fault, FaultKind, FaultSpec};

/// The org id the sandbox hands out.
pub const ORG_ID: &str = "sandbox";
/// The management API key name (HTTP Basic user) the sandbox accepts.
pub const MAPI_KEY: &str = "sandbox-key";
/// The management API key secret (HTTP Basic password) the sandbox accepts.
pub const MAPI_SECRET: &str = "sandbox-secret";

/// Each service's base URL variable and its path prefix on the sandbox listener.
pub const SERVICES: [(&str, &str); 10] = [
    ("ALTR_API_BASE_URL", "/api"),
    ("ALTR_ALTRNET_BASE_URL", "/altrnet"),
    ("ALTR_CLASSIFICATION_BASE_URL", "/classification"),
    ("ALTR_SC_CONTROL_BASE_URL", "/sc-control"),
    ("ALTR_SERVICE_USER_BASE_URL", "/service-user"),
    ("ALTR_AUDIT_REPORT_BASE_URL", "/audit-report/v1"),
    ("ALTR_VAULT_BASE_URL", "/vault/api/v2"),
    ("ALTR_CRITICAL_BASE_URL", "/critical/v2"),
    ("ALTR_KMA_BASE_URL", "/kma/v1"),
    (
        "ALTR_DAM_ALERTING_BASE_URL",
        "/dam-alerting/v1/dam-alerting",
    ),
];

/// Path prefix of the API service (tags, policies and rules, access policies and requests, query
/// audits).
pub const API: &str = "/api";
/// Path prefix of ALTRnet (databases, user groups, system audits).
pub const ALTRNET: &str = "/altrnet";
/// Path prefix of the service-user service.
pub const SERVICE_USER: &str = "/service-user";
/// Path prefix of the control endpoints (no auth, never faulted, never logged).
pub const CONTROL: &str = "/_sandbox";

/// The most requests kept in the request log.
const LOG_CAPACITY: usize = 10_000;

/// Which org the sandbox starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// A small realistic org, every domain seeding its part: databases, connected tags with
    /// values, roles, a policy with rules, classifiers and jobs, sidecars, tokens, keys, audit
    /// events, access policies and requests, DAM rules and alerts.
    #[default]
    Demo,
    /// Only roles and a Snowflake service user; no other records (no databases, tags or
    /// policies).
    Empty,
}

impl FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            _ => Err("seed must be demo or empty".into()),
        }
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Seed::Demo => "demo",
            Seed::Empty => "empty",
        })
    }
}

/// Lock a mutex, carrying on with the data if a holder panicked (the state stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One simulated API domain: its routes and its part of the seed.
pub(crate) struct Domain {
    pub name: &'static str,
    pub routes: fn() -> Router<Arc<Shared>>,
    /// Adds the domain's records to the org; runs in table order, so a domain may use what
    /// the ones above it seeded.
    pub seed: fn(&mut Org, Seed),
}

/// Every simulated domain. Adding one is a file with `routes()` and `seed()` and a line here.
pub(crate) const DOMAINS: &[Domain] = &[
    Domain {
        name: "databases",
        routes: databases::routes,
        seed: databases::seed,
    },
    Domain {
        name: "tags",
        routes: tags::routes,
        seed: tags::seed,
    },
    Domain {
        name: "policies",
        routes: policies::routes,
        seed: policies::seed,
    },
    Domain {
        name: "classification",
        routes: classification::routes,
        seed: classification::seed,
    },
    Domain {
        name: "sidecars",
        routes: sidecars::routes,
        seed: sidecars::seed,
    },
    Domain {
        name: "tokenization",
        routes: tokenization::routes,
        seed: tokenization::seed,
    },
    Domain {
        name: "keys",
        routes: keys::routes,
        seed: keys::seed,
    },
    Domain {
        name: "audits",
        routes: audits::routes,
        seed: audits::seed,
    },
    Domain {
        name: "access",
        routes: access::routes,
        seed: access::seed,
    },
    Domain {
        name: "dam",
        routes: dam::routes,
        seed: dam::seed,
    },
];

/// The simulated org: everything the API domains read and change.
#[derive(Debug, Default)]
pub struct Org {
    /// The generic collections (and the org's id sequence).
    pub(crate) store: store::Store,
    pub(crate) next_database_id: i64,
    pub(crate) databases: BTreeMap<i64, databases::Database>,
    pub(crate) roles: Vec<String>,
    /// Tags that exist inside the Snowflake databases (connected to ALTR or not), with values.
    pub(crate) catalog: Vec<tags::CatalogTag>,
    /// Tags connected to ALTR, by tag_group_id.
    pub(crate) tags: BTreeMap<String, tags::Tag>,
    /// Policies by policy_id.
    pub(crate) policies: BTreeMap<String, policies::Policy>,
}

impl Org {
    /// The org a seed describes: each domain adds its part, in [`DOMAINS`] order.
    pub fn seeded(seed: Seed) -> Org {
        let mut org = Org::default();
        for domain in DOMAINS {
            (domain.seed)(&mut org, seed);
        }
        org
    }

    /// A fresh id in UUID form. Ids grow with creation order, so sorting by id is creation order.
    pub(crate) fn new_uuid(&mut self) -> String {
        self.store.new_uuid()
    }

    /// A fresh job id.
    pub(crate) fn new_job_id(&mut self) -> String {
        format!("job-{:06}", self.store.next_seq())
    }
}

/// One request as the sandbox received it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LoggedRequest {
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// The raw query string, `""` when there was none.
    pub query: String,
    /// The fault that answered it, if any (`429`, `500`, `503`, `delay`, `drop`).
    pub fault: Option<String>,
    /// The status answered; `None` for a dropped connection or while it is still in progress.
    pub status: Option<u16>,
}

/// State shared by the listener, the routes and the [`Sandbox`] handle.
#[derive(Debug)]
pub struct Shared {
    pub(crate) org: Mutex<Org>,
    pub(crate) faults: Mutex<faults::Faults>,
    log: Mutex<(u64, VecDeque<LoggedRequest>)>,
}

impl Shared {
    fn new(seed: Seed) -> Self {
        Self {
            org: Mutex::new(Org::seeded(seed)),
            faults: Mutex::new(faults::Faults::default()),
            log: Mutex::new((0, VecDeque::new())),
        }
    }

    /// Replace the org with a fresh seed and forget faults and logged requests.
    pub(crate) fn reset(&self, seed: Seed) {
        *lock(&self.org) = Org::seeded(seed);
        *lock(&self.faults) = faults::Faults::default();
        let mut log = lock(&self.log);
        log.1.clear();
    }

    fn log_start(&self, method: &str, path: &str, query: &str) -> u64 {
        let mut log = lock(&self.log);
        log.0 = log.0.saturating_add(1);
        let seq = log.0;
        if log.1.len() >= LOG_CAPACITY {
            log.1.pop_front();
        }
        log.1.push_back(LoggedRequest {
            seq,
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            fault: None,
            status: None,
        });
        seq
    }

    fn log_update(&self, seq: u64, fault: Option<&str>, status: Option<u16>) {
        let mut log = lock(&self.log);
        if let Some(entry) = log.1.iter_mut().rev().find(|e| e.seq == seq) {
            if let Some(f) = fault {
                entry.fault = Some(f.to_string());
            }
            if status.is_some() {
                entry.status = status;
            }
        }
    }

    /// The requests received so far (control endpoints excluded), oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.log).1.iter().cloned().collect()
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.log).1.clear();
    }
}

/// A running sandbox. Dropping it stops the listener and every open connection.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Sandbox {
    /// Start a sandbox on 127.0.0.1 at `port` (0 for any free port), seeded with `seed`.
    pub async fn start(port: u16, seed: Seed) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(seed));
        let app = router(shared.clone());
        let task = tokio::spawn(accept_loop(listener, app, shared.clone()));
        tracing::debug!(%addr, %seed, "ALTR sandbox listening");
        Ok(Sandbox { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The settings that point a server at this sandbox: every `ALTR_*_BASE_URL`, then `ORG_ID`,
    /// `MAPI_KEY` and `MAPI_SECRET`.
    pub fn env(&self) -> Vec<(String, String)> {
        let base = self.url();
        let mut out: Vec<(String, String)> = SERVICES
            .iter()
            .map(|(var, prefix)| (var.to_string(), format!("{base}{prefix}")))
            .collect();
        out.push(("ORG_ID".into(), ORG_ID.into()));
        out.push(("MAPI_KEY".into(), MAPI_KEY.into()));
        out.push(("MAPI_SECRET".into(), MAPI_SECRET.into()));
        out
    }

    /// [`env`](Self::env) as `NAME=value` lines.
    pub fn env_lines(&self) -> String {
        self.env()
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect()
    }

    /// Arm a fault (as `POST /_sandbox/faults` does); its id on success.
    pub fn inject(&self, spec: FaultSpec) -> Result<u64, String> {
        lock(&self.shared.faults).add(spec)
    }

    /// The requests received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.requests()
    }

    /// Forget the logged requests.
    pub fn clear_requests(&self) {
        self.shared.clear_requests()
    }

    /// Put the org back to a fresh seed, disarm faults and clear the log.
    pub fn reset(&self, seed: Seed) {
        self.shared.reset(seed)
    }

    /// Stop serving.
    pub fn stop(self) {
        drop(self)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accept connections until aborted; each connection is served by hyper so a `drop` fault can
/// close it without an answer. The connection tasks live in a set owned by this task, so aborting
/// it closes them all.
async fn accept_loop(listener: TcpListener, app: Router, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!(error = %e, "sandbox accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let app = app.clone();
        let shared = shared.clone();
        connections.spawn(async move {
            let kill = Arc::new(Notify::new());
            let service = {
                let kill = kill.clone();
                hyper::service::service_fn(move |req: Request<Incoming>| {
                    handle(req, app.clone(), shared.clone(), kill.clone())
                })
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = conn => {
                    if let Err(e) = result {
                        tracing::trace!(error = %e, "sandbox connection ended");
                    }
                }
                // Dropping the connection future closes the socket without an answer.
                _ = kill.notified() => {}
            }
        });
    }
}

/// Every request passes here: log it, apply a fault if one is armed, check credentials, route.
async fn handle(
    req: Request<Incoming>,
    app: Router,
    shared: Arc<Shared>,
    kill: Arc<Notify>,
) -> Result<Response, Infallible> {
    let path = req.uri().path().to_string();
    let router = TowerToHyperService::new(app);
    if path == CONTROL || path.starts_with("/_sandbox/") {
        return router.call(req).await;
    }
    let method = req.method().as_str().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let seq = shared.log_start(&method, &path, &query);
    tracing::debug!(%method, %path, "sandbox request");
    let fault = lock(&shared.faults).take(&method, &path);
    if let Some(kind) = fault {
        shared.log_update(seq, Some(kind.name()), None);
        match kind {
            FaultKind::Drop => {
                kill.notify_one();
                // The connection (and this future with it) is dropped by the accept loop.
                std::future::pending::<()>().await;
            }
            FaultKind::Delay(wait) => tokio::time::sleep(wait).await,
            other => {
                let response = other.response();
                shared.log_update(seq, None, Some(response.status().as_u16()));
                return Ok(response);
            }
        }
    }
    // Presigned report links carry their own signature, like S3's: no ALTR credentials.
    let presigned = path.starts_with(classification::REPORT_DOWNLOADS);
    let response = if presigned || authorized(req.headers().get(header::AUTHORIZATION)) {
        router.call(req).await?
    } else {
        let mut r = fail(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: the API key or secret is wrong (the sandbox accepts MAPI_KEY=sandbox-key, MAPI_SECRET=sandbox-secret).",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ALTR sandbox\""),
        );
        r
    };
    shared.log_update(seq, None, Some(response.status().as_u16()));
    Ok(response)
}

/// Whether the `Authorization` header carries the sandbox's Basic credentials.
fn authorized(value: Option<&HeaderValue>) -> bool {
    let Some(text) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = text.trim().splitn(2, ' ');
    let (Some(scheme), Some(encoded)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    decoded == format!("{MAPI_KEY}:{MAPI_SECRET}").as_bytes()
}

/// All routes: control endpoints, every simulated domain, and a JSON 404/405 for the rest.
pub fn router(shared: Arc<Shared>) -> Router {
    DOMAINS
        .iter()
        .fold(Router::new().merge(faults::routes()), |r, d| {
            r.merge((d.routes)())
        })
        .fallback(not_simulated)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(shared)
}

async fn not_simulated(method: Method, uri: axum::http::Uri) -> Response {
    let domains: Vec<&str> = DOMAINS.iter().map(|d| d.name).collect();
    fail(
        StatusCode::NOT_FOUND,
        format!(
            "No such endpoint: {method} {}. The ALTR sandbox simulates these domains so far: {}.",
            uri.path(),
            domains.join(", ")
        ),
    )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    fail(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// The state every handler gets.
pub(crate) type State = axum::extract::State<Arc<Shared>>;

/// An error answer: the status and `{"success": false, "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub status: StatusCode,
    pub message: String,
}

impl Fail {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        fail(self.status, self.message)
    }
}

pub(crate) fn fail(status: StatusCode, message: impl Into<String>) -> Response {
    let message: String = message.into();
    (
        status,
        Json(json!({"success": false, "message": message, "status_code": status.as_u16()})),
    )
        .into_response()
}

/// What a handler returns.
pub(crate) type Reply = Result<Response, Fail>;

/// `200 {"success": true, "data": data}`.
pub(crate) fn ok(data: Value) -> Reply {
    Ok(Json(json!({"success": true, "data": data})).into_response())
}

/// `201 {"success": true, "data": data}`.
pub(crate) fn created(data: Value) -> Reply {
    Ok((
        StatusCode::CREATED,
        Json(json!({"success": true, "data": data})),
    )
        .into_response())
}

/// A record as JSON (records are plain structs; this cannot fail in practice).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The decoded query pairs, in order (`+` is a space, `%xx` decoded, bad UTF-8 replaced).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// Query parameters with typed accessors.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<String>) -> Self {
        Self(query_pairs(raw.as_deref()))
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A whole number in `min..=max`, `default` when absent.
    pub(crate) fn number(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, Fail> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(Fail::bad_request(format!(
                    "query parameter {key} must be a whole number from {min} to {max}"
                ))),
            },
        }
    }

    /// `true` or `false`, `default` when absent.
    pub(crate) fn boolean(&self, key: &str, default: bool) -> Result<bool, Fail> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(_) => Err(Fail::bad_request(format!(
                "query parameter {key} must be true or false"
            ))),
        }
    }
}

/// The name of a JSON value's type, for error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON body that must be an object, with typed field accessors that name the field in errors.
pub(crate) struct Body(pub(crate) Map<String, Value>);

impl Body {
    /// Parse a request body that must be a JSON object.
    pub(crate) fn parse(bytes: &Bytes) -> Result<Body, Fail> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Fail::bad_request(
                "this endpoint needs a JSON object body; none was sent",
            ));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Body(map)),
            Ok(other) => Err(Fail::bad_request(format!(
                "the request body must be a JSON object, not {}",
                type_name(&other)
            ))),
            Err(e) => Err(Fail::bad_request(format!(
                "the request body is not valid JSON: {e}"
            ))),
        }
    }

    /// Refuse fields outside `known`.
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), Fail> {
        unknown_fields(&self.0, known)
    }

    /// A required, non-empty string.
    pub(crate) fn string(&self, key: &str) -> Result<String, Fail> {
        self.opt_string(key)?
            .ok_or_else(|| Fail::bad_request(format!("{key} is required")))
    }

    /// An optional string; present means non-empty.
    pub(crate) fn opt_string(&self, key: &str) -> Result<Option<String>, Fail> {
        field_string(key, self.0.get(key))
    }

    /// A required integer.
    pub(crate) fn int(&self, key: &str) -> Result<i64, Fail> {
        self.opt_int(key)?
            .ok_or_else(|| Fail::bad_request(format!("{key} is required")))
    }

    pub(crate) fn opt_int(&self, key: &str) -> Result<Option<i64>, Fail> {
        field_int(key, self.0.get(key))
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, Fail> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(Fail::bad_request(format!(
                "{key} must be true or false, not {}",
                type_name(other)
            ))),
        }
    }
}

/// 400 naming the fields of `body` outside `known` (and the allowed ones).
pub(crate) fn unknown_fields(body: &Map<String, Value>, known: &[&str]) -> Result<(), Fail> {
    let unknown: Vec<&str> = body
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Fail::bad_request(format!(
            "unknown field(s): {}; allowed: {}",
            unknown.join(", "),
            known.join(", ")
        )))
    }
}

/// A string field: absent/null is `None`; present must be a non-empty string.
pub(crate) fn field_string(key: &str, v: Option<&Value>) -> Result<Option<String>, Fail> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(Fail::bad_request(format!("{key} must not be empty")))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Fail::bad_request(format!(
            "{key} must be a string, not {}",
            type_name(other)
        ))),
    }
}

/// An integer field: absent/null is `None`; present must be a whole JSON number.
pub(crate) fn field_int(key: &str, v: Option<&Value>) -> Result<Option<i64>, Fail> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Fail::bad_request(format!("{key} must be a whole number"))),
        Some(other) => Err(Fail::bad_request(format!(
            "{key} must be a number, not {}",
            type_name(other)
        ))),
    }
}

pub(crate) use crate::clock::{now, rfc3339};

/// A page of `items` starting at `offset`, at most `limit` long.
pub(crate) fn page<T: Clone>(items: &[T], offset: u64, limit: u64) -> Vec<T> {
    items
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .cloned()
        .collect()
}

/// The response body for a body-less answer (used by faults).
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    let mut r = Response::new(HttpBody::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_org_is_complete() {
        let org = Org::seeded(Seed::Demo);
        assert_eq!(org.databases.len(), 3);
        assert_eq!(org.tags.len(), 3);
        assert_eq!(org.policies.len(), 1);
        let p = org.policies.values().next().unwrap();
        assert!(p.policy_id.starts_with("TAG#"));
        assert_eq!(p.rules.len(), 5);
        assert_eq!(org.roles.len(), policies::ROLES.len());
        assert_eq!(
            org.store
                .list(&databases::SERVICE_USERS, &[])
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn empty_org_has_only_roles_and_a_service_user() {
        let org = Org::seeded(Seed::Empty);
        assert!(org.databases.is_empty() && org.tags.is_empty() && org.policies.is_empty());
        let users = org.store.list(&databases::SERVICE_USERS, &[]).unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0]["id"], databases::SERVICE_USER_ID);
        assert!(users[0]["createdAt"].is_string());
        assert_eq!(org.roles.len(), policies::ROLES.len());
    }

    #[test]
    fn domain_names_are_unique() {
        let mut names: Vec<&str> = DOMAINS.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DOMAINS.len());
    }

    #[test]
    fn basic_credentials() {
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("sandbox-key:sandbox-secret")
        );
        assert!(authorized(Some(&HeaderValue::from_str(&good).unwrap())));
        let lower = good.replace("Basic", "basic");
        assert!(authorized(Some(&HeaderValue::from_str(&lower).unwrap())));
        let bad = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("sandbox-key:nope")
        );
        assert!(!authorized(Some(&HeaderValue::from_str(&bad).unwrap())));
        assert!(!authorized(Some(&HeaderValue::from_static("Bearer x"))));
        assert!(!authorized(Some(&HeaderValue::from_static("Basic %%%"))));
        assert!(!authorized(None));
    }

    #[test]
    fn query_decoding() {
        let q = query_pairs(Some("a=1&b=x+y&c=%7B%22k%22%3A1%7D&d&&e=%ZZ"));
        assert_eq!(q[0], ("a".into(), "1".into()));
        assert_eq!(q[1], ("b".into(), "x y".into()));
        assert_eq!(q[2], ("c".into(), "{\"k\":1}".into()));
        assert_eq!(q[3], ("d".into(), "".into()));
        assert_eq!(q[4], ("e".into(), "%ZZ".into()));
    }

    #[test]
    fn bodies_are_checked() {
        assert!(Body::parse(&Bytes::from_static(b"")).is_err());
        assert!(Body::parse(&Bytes::from_static(b"[1]")).is_err());
        assert!(Body::parse(&Bytes::from_static(b"{nope")).is_err());
        let b = Body::parse(&Bytes::from_static(br#"{"a":"x","n":1.5,"e":""}"#)).unwrap();
        assert_eq!(b.string("a").unwrap(), "x");
        assert!(b.int("n").is_err());
        assert!(b.string("e").is_err());
        assert!(b.string("missing").is_err());
        assert!(b.only(&["a"]).is_err());
    }

    #[test]
    fn router_builds() {
        let _ = router(Arc::new(Shared::new(Seed::Demo)));
    }

    #[test]
    fn seeds_parse() {
        assert_eq!("Demo".parse::<Seed>(), Ok(Seed::Demo));
        assert_eq!("empty".parse::<Seed>(), Ok(Seed::Empty));
        assert!("full".parse::<Seed>().is_err());
    }
}
