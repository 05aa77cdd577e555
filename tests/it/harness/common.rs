//! Test harness: the real server, driven by an in-process MCP client over a duplex pipe, against a
//! local fake ALTR API (wiremock). Each service gets its own path prefix on the fake, so a test
//! sees which service a request went to: `/api`, `/altrnet`, `/classification`, `/sc-control`,
//! `/service-user`, `/audit-report`, `/vault`, `/critical`, `/kma`, `/dam-alerting`.

use std::sync::Arc;

use altr_mcp::client::Service;
use altr_mcp::config::{Purpose, Settings, Sources};
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub use wiremock::matchers;

/// `Basic base64("test-key:test-secret")`.
pub const AUTH: &str = "Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ=";

/// The path prefix a service has on the fake API.
pub fn prefix(service: Service) -> &'static str {
    match service {
        Service::Api => "/api",
        Service::AltrNet => "/altrnet",
        Service::Classification => "/classification",
        Service::ScControl => "/sc-control",
        Service::ServiceUser => "/service-user",
        Service::AuditReport => "/audit-report",
        Service::Vault => "/vault",
        Service::Critical => "/critical",
        Service::Kma => "/kma",
        Service::DamAlerting => "/dam-alerting",
    }
}

pub struct Harness {
    pub api: MockServer,
    pub client: RunningService<RoleClient, ()>,
}

/// The outcome of one tool call.
#[derive(Debug)]
pub struct Call {
    pub is_error: bool,
    /// The `{success, data, error}` envelope.
    pub envelope: Value,
    /// The text content (the same JSON, as text).
    pub text: String,
    /// The result's `_meta`, when it has one.
    pub meta: Option<Value>,
}

impl Call {
    pub fn data(&self) -> &Value {
        &self.envelope["data"]
    }
    /// Assert a failure and return its `error` member.
    pub fn error(&self) -> &Value {
        assert!(self.is_error, "expected an error, got {}", self.envelope);
        assert_eq!(self.envelope["success"], false, "{}", self.envelope);
        assert_eq!(self.envelope["data"], Value::Null, "{}", self.envelope);
        &self.envelope["error"]
    }
    /// Assert success and return the data.
    pub fn ok(&self) -> &Value {
        assert!(!self.is_error, "expected success, got {}", self.envelope);
        assert_eq!(self.envelope["success"], true);
        assert_eq!(self.envelope["error"], Value::Null);
        &self.envelope["data"]
    }
    /// Assert a validation failure naming `parameter`.
    pub fn invalid(&self, parameter: &str) {
        assert!(self.is_error, "expected an error, got {}", self.envelope);
        assert_eq!(self.envelope["success"], false);
        assert_eq!(
            self.error()["code"],
            "invalid_argument",
            "{}",
            self.envelope
        );
        let named = self.error()["parameter"].as_str().unwrap_or_default();
        assert!(
            named == parameter || named.split(',').any(|n| n == parameter),
            "names `{named}`, not `{parameter}`: {}",
            self.envelope
        );
    }
    /// Assert an upstream HTTP failure with this status and a hint; the error.
    pub fn upstream(&self, status: u16) -> &Value {
        let e = self.error();
        assert_eq!(e["status"], status, "{}", self.envelope);
        assert!(
            e["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{}",
            self.envelope
        );
        e
    }
}

/// Test settings with every service pointed at the fake API `api`.
pub fn api_settings(api: &MockServer) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = vec![
        ("ORG_ID".into(), "test-org".into()),
        ("MAPI_KEY".into(), "test-key".into()),
        ("MAPI_SECRET".into(), "test-secret".into()),
        ("MAX_RETRY_AFTER".into(), "0.01".into()),
        ("REQUEST_TIMEOUT".into(), "5".into()),
    ];
    for s in Service::ALL {
        pairs.push((s.env_var().into(), format!("{}{}", api.uri(), prefix(s))));
    }
    pairs
}

impl Harness {
    /// A server with default settings pointed at a fresh fake API.
    pub async fn start() -> Harness {
        Self::with_env(&[]).await
    }

    /// A server with extra settings (e.g. `("MAX_RETRIES", "2")`).
    pub async fn with_env(extra: &[(&str, &str)]) -> Harness {
        let api = MockServer::start().await;
        let client = connect(with_overrides(api_settings(&api), extra)).await;
        Harness { api, client }
    }

    /// Answer `method` + `path` (full path on the fake, prefix included) with `status` and JSON.
    pub async fn mock(&self, method: &str, path: &str, status: u16, body: Value) {
        mock_on(&self.api, method, path, status, body).await;
    }

    /// Answer with a raw response template.
    pub async fn mock_with(&self, method: &str, path: &str, response: ResponseTemplate) {
        Mock::given(matchers::method(method))
            .and(matchers::path(path))
            .respond_with(response)
            .mount(&self.api)
            .await;
    }

    /// Call a tool with JSON arguments (an object).
    pub async fn call(&self, name: &str, args: Value) -> Call {
        call_tool(&self.client, name, args).await
    }

    /// Every request the fake API received, in order.
    pub async fn requests(&self) -> Vec<Request> {
        self.api.received_requests().await.unwrap_or_default()
    }

    /// The only request the fake API received (fails if there were none or several).
    pub async fn only_request(&self) -> Request {
        let mut r = self.requests().await;
        assert_eq!(
            r.len(),
            1,
            "expected exactly one request, got {}: {:?}",
            r.len(),
            r.iter()
                .map(|r| format!("{} {}", r.method, r.url))
                .collect::<Vec<_>>()
        );
        r.remove(0)
    }

    /// Assert that no request reached the fake API.
    pub async fn assert_no_requests(&self) {
        let r = self.requests().await;
        assert!(
            r.is_empty(),
            "expected no requests, got {:?}",
            r.iter()
                .map(|r| format!("{} {}", r.method, r.url))
                .collect::<Vec<_>>()
        );
    }
}

/// `pairs` with each of `extra` replacing a pair of the same name or added.
pub fn with_overrides(
    mut pairs: Vec<(String, String)>,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k.to_string(), v.to_string()));
    }
    pairs
}

/// The real server configured by env-like `pairs`, connected to an in-process MCP client over a
/// duplex pipe.
pub async fn connect(pairs: Vec<(String, String)>) -> RunningService<RoleClient, ()> {
    connect_with(pairs, ()).await
}

/// [`connect`] with a client of one's own (e.g. one that answers elicitations).
pub async fn connect_with<C: rmcp::ClientHandler>(
    pairs: Vec<(String, String)>,
    handler: C,
) -> RunningService<RoleClient, C> {
    connect_lifecycle(
        pairs,
        handler,
        rmcp::service::ClientLifecycleMode::Initialize,
    )
    .await
}

/// [`connect_with`] for a client of protocol 2026-07-28: `server/discover`, no initialize, and
/// no server-to-client request in the middle of a call.
pub async fn connect_newest_with<C: rmcp::ClientHandler>(
    pairs: Vec<(String, String)>,
    handler: C,
) -> RunningService<RoleClient, C> {
    let mode = rmcp::service::ClientLifecycleMode::Discover {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
    };
    connect_lifecycle(pairs, handler, mode).await
}

async fn connect_lifecycle<C: rmcp::ClientHandler>(
    pairs: Vec<(String, String)>,
    handler: C,
    mode: rmcp::service::ClientLifecycleMode,
) -> RunningService<RoleClient, C> {
    let settings = Settings::load(&Sources::from_pairs(pairs), Purpose::Serve)
        .expect("test settings are valid");
    let registry = altr_mcp::toolsets::select(&altr_mcp::cli::selection_of(&settings))
        .expect("test selection is valid");
    // Composed as the binary composes it.
    let server = altr_mcp::cli::compose::build_server(&settings, Arc::new(registry))
        .expect("test server builds");
    let server = altr_mcp::cli::compose::with_dynamic_toolsets(server, &settings)
        .expect("test selection is valid");
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    use rmcp::service::ClientServiceExt;
    handler
        .serve_with_lifecycle(client_io, mode)
        .await
        .expect("client connects")
}

/// A fresh audit-log path for the test `name` (its directory made, no file yet).
pub fn temp_log(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("altr-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    path
}

/// Answer `method` + `path` on the fake API `api` with `status` and JSON.
pub async fn mock_on(api: &MockServer, method: &str, path: &str, status: u16, body: Value) {
    Mock::given(matchers::method(method))
        .and(matchers::path(path))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(api)
        .await;
}

/// A client that counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
pub struct Counting(pub Arc<std::sync::atomic::AtomicUsize>);

impl rmcp::ClientHandler for Counting {
    async fn on_tool_list_changed(&self, _context: rmcp::service::NotificationContext<RoleClient>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Counting {
    /// How many arrived so far.
    pub fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Wait (bounded) until `n` have arrived; whether they did.
    pub async fn reach(&self, n: usize) -> bool {
        for _ in 0..200 {
            if self.count() >= n {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    }
}

/// The longest one tool call may take in a test.
pub const STEP: std::time::Duration = std::time::Duration::from_secs(15);

/// Call a tool with JSON arguments (an object) and check the text mirrors the structured result.
pub async fn call_tool(client: &rmcp::Peer<RoleClient>, name: &str, args: Value) -> Call {
    let mut params = CallToolRequestParams::new(name.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    let result: CallToolResult = tokio::time::timeout(STEP, client.call_tool(params))
        .await
        .unwrap_or_else(|_| panic!("tools/call {name} took longer than {STEP:?}"))
        .unwrap_or_else(|e| panic!("tools/call {name} failed at protocol level: {e}"));
    Call::of(result)
}

/// [`call_tool`] for a client that answers input-required results (protocol 2026-07-28): the
/// client's handler fulfils each question and the call is retried, as a real client does.
pub async fn call_tool_rounds<C: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, C>,
    name: &str,
    args: Value,
) -> Call {
    Call::of(call_tool_result(client, name, args).await)
}

/// [`call_tool_rounds`], the whole `CallToolResult` as it arrived.
pub async fn call_tool_result<C: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, C>,
    name: &str,
    args: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    tokio::time::timeout(STEP, client.call_tool(params))
        .await
        .unwrap_or_else(|_| panic!("tools/call {name} took longer than {STEP:?}"))
        .unwrap_or_else(|e| panic!("tools/call {name} failed at protocol level: {e}"))
}

impl Call {
    /// A finished call's result, checking the text mirrors the structured result.
    pub fn of(result: CallToolResult) -> Call {
        let text = result
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let envelope = result.structured_content.clone().unwrap_or(Value::Null);
        assert_eq!(
            serde_json::from_str::<Value>(&text).ok(),
            Some(envelope.clone()),
            "text content mirrors structuredContent"
        );
        Call {
            is_error: result.is_error.unwrap_or(false),
            envelope,
            text,
            meta: result.meta.map(|m| Value::Object(m.0)),
        }
    }
}

/// Check a request: method, path (as sent, still encoded), query pairs in order, JSON body (or
/// none), and the Basic auth header.
pub fn assert_request(
    r: &Request,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) {
    assert_eq!(r.method.as_str(), method, "method of {}", r.url);
    assert_eq!(r.url.path(), path, "path");
    let got: Vec<(String, String)> = r
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let want: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, want, "query of {}", r.url);
    match body {
        Some(expected) => {
            let got: Value = serde_json::from_slice(&r.body).expect("JSON body");
            assert_eq!(got, expected, "body of {} {}", method, path);
        }
        None => assert!(
            r.body.is_empty(),
            "expected no body, got {}",
            String::from_utf8_lossy(&r.body)
        ),
    }
    assert_eq!(
        r.headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some(AUTH),
        "Basic auth header"
    );
}

/// Arguments as a JSON object.
pub fn args(v: Value) -> JsonObject {
    match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

/// A convenient empty object.
pub fn none() -> Value {
    json!({})
}

/// A value that must never appear in an error message.
pub const SECRET: &str = "s3cr3t-VALUE";

/// One tool call that sends one request and returns the API's JSON as `data`.
pub struct Sends {
    pub tool: &'static str,
    pub args: Value,
    pub method: &'static str,
    pub path: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub body: Option<Value>,
}

/// Call the tool against a fresh fake and check the one request it sends and the data it returns.
pub async fn assert_sends(case: Sends) {
    let h = Harness::start().await;
    let payload = json!({"success": true, "data": {"answer_for": case.tool}});
    h.mock(case.method, case.path, 200, payload.clone()).await;
    let c = h.call(case.tool, case.args.clone()).await;
    assert_eq!(c.ok(), &payload, "{} {}", case.tool, case.args);
    assert_request(
        &h.only_request().await,
        case.method,
        case.path,
        case.query,
        case.body,
    );
}

/// The hint a 4xx failure carries.
pub fn assert_hint(c: &Call, status: u16) {
    let hint = c.error()["hint"].as_str().unwrap_or_default();
    let expected = match status {
        401 => "MAPI_KEY",
        403 => "not enabled",
        404 => "check the id",
        _ => "",
    };
    assert!(hint.contains(expected), "hint for {status}: {hint}");
}

/// Against a fresh fake answering `status`, the tool fails with that status, a hint and the
/// upstream message, after exactly one request to `method` `path`.
pub async fn assert_upstream_failure(
    tool: &str,
    args: Value,
    method: &str,
    path: &str,
    status: u16,
) {
    let h = Harness::start().await;
    h.mock(method, path, status, json!({"message": "upstream says no"}))
        .await;
    let c = h.call(tool, args).await;
    c.upstream(status);
    assert_hint(&c, status);
    let message = c.error()["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("upstream says no"),
        "{tool}: {}",
        c.envelope
    );
    let r = h.only_request().await;
    assert_eq!((r.method.as_str(), r.url.path()), (method, path), "{tool}");
}

/// The tool refuses the arguments naming `parameter`, echoes no rejected value, sends nothing.
pub async fn assert_refused(h: &Harness, tool: &str, args: Value, parameter: &str) {
    let c = h.call(tool, args.clone()).await;
    assert!(c.is_error, "{tool} {args} should be refused");
    c.invalid(parameter);
    assert!(
        !c.text.contains(SECRET),
        "{tool} echoed a value: {}",
        c.text
    );
    h.assert_no_requests().await;
}

/// A page the fake serves: the exact query it answers, its status and its body.
pub type Page<'a> = (Vec<(&'a str, &'a str)>, u16, Value);

/// Owned query pairs.
pub type Query = Vec<(String, String)>;

/// The query pairs of a request, in order.
pub fn query_of(r: &Request) -> Vec<(String, String)> {
    r.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Owned query pairs.
pub fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Answer `verb` + `at` by the request's exact query: each page is (query pairs, status, body); a
/// request with any other query gets a 400, so a wrong cursor fails the test.
pub async fn serve_pages(h: &Harness, verb: &str, at: &str, pages: Vec<Page<'_>>) {
    let pages: Vec<(Query, u16, Value)> = pages
        .into_iter()
        .map(|(query, s, b)| (q(&query), s, b))
        .collect();
    Mock::given(matchers::method(verb))
        .and(matchers::path(at))
        .respond_with(move |r: &Request| {
            let query = query_of(r);
            match pages.iter().find(|(want, _, _)| *want == query) {
                Some((_, status, body)) => ResponseTemplate::new(*status).set_body_json(body),
                None => {
                    ResponseTemplate::new(400).set_body_json(json!({"message": "unexpected query"}))
                }
            }
        })
        .mount(&h.api)
        .await;
}

/// The query of every request received, in order.
pub async fn queries(h: &Harness) -> Vec<Vec<(String, String)>> {
    h.requests().await.iter().map(query_of).collect()
}

/// `base` with the members of `extra` set on it (both objects).
pub fn with_args(base: &Value, extra: Value) -> Value {
    let mut v = base.clone();
    if let (Some(into), Value::Object(more)) = (v.as_object_mut(), extra) {
        into.extend(more);
    }
    v
}

/// The support-mode tools a session lists only while it is in support mode.
pub const ARMED_ONLY: [&str; 2] = ["request_write_unlock", "exit_support_mode"];

/// Whether a session that is not in support mode lists the tool.
pub fn listed_when_off(t: &altr_mcp::registry::ToolDef) -> bool {
    !ARMED_ONLY.contains(&t.name)
}

/// How many tools a server lists with default settings (clear-text tools are hidden, and the
/// support-mode tools that only work once it is armed).
pub fn default_tool_count() -> usize {
    altr_mcp::toolsets::all_tools()
        .iter()
        .filter(|t| t.effect != altr_mcp::registry::Effect::ClearText && listed_when_off(t))
        .count()
}

/// How many tools a read-only server lists with default settings.
pub fn read_only_tool_count() -> usize {
    altr_mcp::toolsets::all_tools()
        .iter()
        .filter(|t| t.effect == altr_mcp::registry::Effect::ReadOnly && listed_when_off(t))
        .count()
}
