//! Production hardening (issue 8): honest results for garbage answers, bounded responses and
//! results, retries that follow the tool, cancellation and a per-call deadline, HTTP connection
//! limits, the logging capability, secret hygiene, stdio framing errors and start-up validation.
//! Each test fails on the code before these fixes.

#![allow(deprecated)] // MCP logging is deprecated by a newer revision but still served.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use altr_mcp::config::{Purpose, Sources};
use rmcp::model::{
    CallToolRequestParams, ClientRequest, LoggingLevel, LoggingMessageNotificationParam, Request,
    SetLevelRequestParams,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request as WireRequest, ResponseTemplate};

use crate::common::*;
use crate::http_common::{self, Server, WAIT};

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");
const POLICIES: &str = "/api/v1/unified-policy/management/policy";
const LOOKUP: &str = "/altrnet/api/databases";
const CONNECT: &str = "/api/v1/tag/masking/";

/// The env pairs of a server pointed at `api`, with `extra` on top.
fn pairs_for(api: &MockServer, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    with_overrides(api_settings(api), extra)
}

/// The server exactly as the binary builds it (settings, selection, client, limits), served to
/// `handler` over a duplex pipe.
async fn connect_as_built<H: ClientHandler>(
    pairs: Vec<(String, String)>,
    handler: H,
) -> RunningService<RoleClient, H> {
    let (settings, registry) =
        altr_mcp::cli::load(&Sources::from_pairs(pairs), Purpose::Serve).expect("valid settings");
    let server = altr_mcp::cli::build_server(&settings, Arc::new(registry)).expect("server");
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    handler.serve(client_io).await.expect("client connects")
}

/// A harness whose server is built like the binary's, so every setting applies.
async fn harness(extra: &[(&str, &str)]) -> Harness {
    let api = MockServer::start().await;
    let client = connect_as_built(pairs_for(&api, extra), ()).await;
    Harness { api, client }
}

async fn one_shot(h: &Harness, method: &str, path: &str, responses: Vec<ResponseTemplate>) {
    for (i, r) in responses.into_iter().enumerate() {
        Mock::given(matchers::method(method))
            .and(matchers::path(path))
            .respond_with(r)
            .up_to_n_times(1)
            .with_priority(i as u8 + 1)
            .mount(&h.api)
            .await;
    }
}

async fn count(h: &Harness, method: &str, path: &str) -> usize {
    h.requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .count()
}

// ---- 1. Garbage is not success ----------------------------------------------------------

#[tokio::test]
async fn null_and_truncated_pages_fail_instead_of_listing_nothing() {
    for body in ["null", r#"{"data": {"policies": [{"policy_id": "a"}"#] {
        let h = harness(&[]).await;
        h.mock_with(
            "GET",
            POLICIES,
            ResponseTemplate::new(200).set_body_raw(body, "application/json"),
        )
        .await;
        let c = h.call("get_policies", json!({"policy_type": "TAG"})).await;
        assert_eq!(
            c.error()["code"],
            "upstream_invalid_response",
            "{body}: {}",
            c.envelope
        );
    }
}

#[tokio::test]
async fn an_html_page_does_not_connect_a_tag() {
    let h = harness(&[]).await;
    h.mock(
        "GET",
        LOOKUP,
        200,
        json!({"success": true, "data": {"databases": [{"id": 12, "friendlyDatabaseName": "Sales", "databaseName": "SALES_DB"}]}}),
    )
    .await;
    h.mock_with(
        "PUT",
        CONNECT,
        ResponseTemplate::new(200)
            .set_body_raw("<html><body>Gateway login</body></html>", "text/html"),
    )
    .await;
    let c = h
        .call(
            "connect_tag",
            json!({"database_name": "Sales", "schema_name": "PUBLIC", "tag_name": "PII"}),
        )
        .await;
    assert_eq!(
        c.error()["code"],
        "upstream_invalid_response",
        "{}",
        c.envelope
    );
    assert!(!c.text.contains("connected"), "{}", c.text);
}

#[tokio::test]
async fn success_false_is_a_failure_even_when_passed_through() {
    let h = harness(&[]).await;
    h.mock(
        "POST",
        POLICIES,
        200,
        json!({"success": false, "message": "tag is not connected"}),
    )
    .await;
    let c = h.call("create_policy", json!({"tag": "PII"})).await;
    let e = c.error();
    assert_eq!(e["code"], "upstream_unsuccessful", "{}", c.envelope);
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("tag is not connected"));
}

// ---- 2. Bounded responses and results ---------------------------------------------------

#[tokio::test]
async fn an_oversized_response_is_refused_not_read() {
    let h = harness(&[("MAX_RESPONSE_BYTES", "65536")]).await;
    let big = json!({"data": {"databases": vec!["x".repeat(100); 2000]}});
    h.mock("GET", LOOKUP, 200, big).await;
    let c = h.call("get_databases", json!({})).await;
    assert_eq!(
        c.error()["code"],
        "upstream_response_too_large",
        "{}",
        c.envelope
    );
    assert!(c.error()["hint"]
        .as_str()
        .unwrap()
        .contains("MAX_RESPONSE_BYTES"));
    assert!(c.text.len() < 2000);
}

#[tokio::test]
async fn a_large_result_is_cut_and_says_so() {
    let h = harness(&[("MAX_RESULT_BYTES", "16384")]).await;
    let databases: Vec<Value> = (0..1000)
        .map(|i| json!({"id": i, "friendlyDatabaseName": format!("database number {i}")}))
        .collect();
    h.mock(
        "GET",
        LOOKUP,
        200,
        json!({"success": true, "data": {"databases": databases}}),
    )
    .await;
    let c = h.call("get_databases", json!({})).await;
    assert!(!c.is_error, "{}", c.text);
    assert!(c.text.len() <= 16384, "{} bytes", c.text.len());
    assert_eq!(c.envelope["truncated"], true);
    let note = &c.envelope["truncation"];
    assert_eq!(note["total"], 1000);
    let kept = c.envelope["data"]["databases"].as_array().unwrap().len();
    assert_eq!(note["returned"], kept);
    assert!(kept > 10 && kept < 1000, "{kept}");
    assert!(note["hint"].as_str().unwrap().contains("MAX_RESULT_BYTES"));
}

// ---- 3. Retries follow the tool -----------------------------------------------------------

fn lookup_sales() -> Value {
    json!({"success": true, "data": {"databases": [{"id": 12, "friendlyDatabaseName": "Sales", "databaseName": "SALES_DB"}]}})
}

#[tokio::test]
async fn an_additive_put_is_not_repeated_after_a_500_or_a_timeout() {
    for (label, response) in [
        (
            "500",
            ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})),
        ),
        (
            "timeout",
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"status": "SUCCESS"}}))
                .set_delay(Duration::from_secs(2)),
        ),
    ] {
        let h = harness(&[("MAX_RETRIES", "3"), ("REQUEST_TIMEOUT", "0.5")]).await;
        h.mock("GET", LOOKUP, 200, lookup_sales()).await;
        h.mock_with("PUT", CONNECT, response).await;
        let c = h
            .call(
                "connect_tag",
                json!({"database_name": "Sales", "schema_name": "PUBLIC", "tag_name": "PII"}),
            )
            .await;
        assert!(c.is_error, "{label}: {}", c.envelope);
        assert_eq!(
            count(&h, "PUT", CONNECT).await,
            1,
            "{label}: the PUT was repeated"
        );
    }
}

#[tokio::test]
async fn an_idempotent_put_is_still_retried() {
    let h = harness(&[("MAX_RETRIES", "3")]).await;
    one_shot(
        &h,
        "PATCH",
        "/api/v1/unified-policy/management/policy/TAG%23p1/rules/r1",
        vec![
            ResponseTemplate::new(502),
            ResponseTemplate::new(200).set_body_json(json!({"data": {"rule_id": "r1"}})),
        ],
    )
    .await;
    h.mock(
        "GET",
        "/api/v1/unified-policy/management/policy/rules/supportedMaskingTypes",
        200,
        json!({"data": [{"level": 10000}, {"level": 10001}]}),
    )
    .await;
    let c = h
        .call(
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "role": "ANALYST"}),
        )
        .await;
    // update_rule is Idempotent: a PATCH that failed with 502 is repeated.
    assert!(!c.is_error, "{}", c.envelope);
    assert_eq!(
        count(
            &h,
            "PATCH",
            "/api/v1/unified-policy/management/policy/TAG%23p1/rules/r1"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_delete_that_404s_after_a_timeout_says_it_was_probably_applied() {
    let h = harness(&[("MAX_RETRIES", "2"), ("REQUEST_TIMEOUT", "0.5")]).await;
    let path = "/api/v1/unified-policy/management/policy/TAG%23p1";
    one_shot(
        &h,
        "DELETE",
        path,
        vec![
            ResponseTemplate::new(204).set_delay(Duration::from_secs(2)),
            ResponseTemplate::new(404).set_body_json(json!({"message": "no such policy"})),
        ],
    )
    .await;
    let c = h
        .call("delete_policy", json!({"policy_id": "TAG#p1"}))
        .await;
    let e = c.error();
    assert_eq!(e["code"], "probably_applied", "{}", c.envelope);
    assert!(e["message"].as_str().unwrap().contains("already deleted"));
    assert!(e["hint"].as_str().unwrap().contains("not found"));
}

// ---- 4 and 5. Cancellation and the call deadline -------------------------------------------

/// A policy listing that never ends: every page points at a new page, after `delay`.
async fn endless_pages(h: &Harness, delay: Duration) {
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    Mock::given(matchers::method("GET"))
        .and(matchers::path(POLICIES))
        .respond_with(move |_: &WireRequest| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"policies": [{"policy_id": format!("p{n}")}], "last_evaluated_key": format!("k{n}")}}))
                .set_delay(delay)
        })
        .mount(&h.api)
        .await;
}

#[tokio::test]
async fn a_cancelled_call_stops_sending_requests() {
    let h = harness(&[]).await;
    endless_pages(&h, Duration::from_millis(100)).await;
    let params = CallToolRequestParams::new("get_policies")
        .with_arguments(args(json!({"policy_type": "TAG"})));
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            Default::default(),
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(&h, "GET", POLICIES).await < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "paging did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle
        .cancel(Some("user pressed stop".into()))
        .await
        .unwrap();
    let at_cancel = count(&h, "GET", POLICIES).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = count(&h, "GET", POLICIES).await;
    assert!(
        later <= at_cancel + 1,
        "requests went on after the cancellation: {at_cancel} then {later}"
    );
}

#[tokio::test]
async fn a_call_that_runs_out_of_time_fails_and_says_how_far_it_got() {
    let h = harness(&[("CALL_TIMEOUT", "1")]).await;
    endless_pages(&h, Duration::from_millis(150)).await;
    let c = h.call("get_policies", json!({"policy_type": "TAG"})).await;
    let e = c.error();
    assert_eq!(e["code"], "call_timeout", "{}", c.envelope);
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("CALL_TIMEOUT"), "{message}");
    assert!(message.contains("request(s) to ALTR"), "{message}");
    assert!(e["hint"].as_str().unwrap().contains("CALL_TIMEOUT"));
}

// ---- 6. HTTP connections -------------------------------------------------------------------

fn raw(port: u16) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s
}

/// Read until the server closes the connection; the bytes received. Fails if it stays open
/// for [`WAIT`].
fn read_to_close(mut s: std::net::TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let server = Server::start("streamable-http", &[("MCP_HEADER_TIMEOUT", "0.5")]).await;
    let port = server.port;
    tokio::task::spawn_blocking(move || {
        // Never finishes its headers.
        let mut slow = raw(port);
        slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\n")
            .unwrap();
        read_to_close(slow);
        // Never sends anything.
        read_to_close(raw(port));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stalled_body_gets_408() {
    let server = Server::start("streamable-http", &[("MCP_BODY_TIMEOUT", "0.5")]).await;
    let port = server.port;
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = raw(port);
        s.write_all(
            b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"",
        )
        .unwrap();
        read_to_close(s)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn two_host_headers_are_refused() {
    let server = Server::start("streamable-http", &[]).await;
    let port = server.port;
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = raw(port);
        s.write_all(
            b"GET /mcp HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        read_to_close(s)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
}

async fn post_mcp(server: &Server, body: &Value, session: Option<&str>) -> reqwest::Response {
    let mut req = http_common::http()
        .post(server.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(body);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn sessions_are_capped_and_unknown_ones_cannot_be_deleted() {
    let server = Server::start("streamable-http", &[("MCP_MAX_SESSIONS", "2")]).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = post_mcp(&server, &initialize_body(), None).await;
        assert_eq!(r.status(), 200);
        ids.push(r.headers()["mcp-session-id"].to_str().unwrap().to_string());
    }
    let r = post_mcp(&server, &initialize_body(), None).await;
    assert_eq!(r.status(), 503, "a third session was opened");
    assert!(r.headers().contains_key("retry-after"));
    let delete = |id: String| {
        http_common::http()
            .delete(server.url("/mcp"))
            .header("mcp-session-id", id)
            .send()
    };
    assert_eq!(
        delete("no-such-session".into()).await.unwrap().status(),
        404
    );
    assert!(delete(ids[0].clone()).await.unwrap().status().is_success());
    let r = post_mcp(&server, &initialize_body(), None).await;
    assert_eq!(r.status(), 200, "a closed session frees its place");
}

// ---- 7. Logging capability, -32602 ---------------------------------------------------------

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<LoggingMessageNotificationParam>>>);

impl ClientHandler for Recorder {
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.0.lock().unwrap().push(params);
    }
}

#[tokio::test]
async fn set_level_is_served_and_call_lines_are_sent_as_messages() {
    let api = MockServer::start().await;
    Mock::given(matchers::method("GET"))
        .and(matchers::path(LOOKUP))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"databases": []}})))
        .mount(&api)
        .await;
    let recorder = Recorder::default();
    let client = connect_as_built(pairs_for(&api, &[]), recorder.clone()).await;
    // Before setLevel nothing is sent.
    call_tool_on(&client, "get_databases", json!({})).await;
    client
        .peer()
        .set_level(SetLevelRequestParams::new(LoggingLevel::Warning))
        .await
        .expect("logging/setLevel is answered");
    call_tool_on(&client, "get_databases", json!({})).await;
    call_tool_on(
        &client,
        "get_database_id",
        json!({"database_name": "x", "client_secret": "hunter2-secret"}),
    )
    .await;
    client
        .peer()
        .set_level(SetLevelRequestParams::new(LoggingLevel::Debug))
        .await
        .unwrap();
    call_tool_on(&client, "get_databases", json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = recorder.0.lock().unwrap().clone();
    let tools: Vec<(String, String)> = got
        .iter()
        .map(|m| {
            (
                m.data["tool"].as_str().unwrap_or_default().to_string(),
                m.data["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        tools,
        [
            (
                "get_database_id".to_string(),
                "invalid_argument".to_string()
            ),
            ("get_databases".to_string(), "ok".to_string()),
        ],
        "{got:?}"
    );
    assert_eq!(got[0].level, LoggingLevel::Warning);
    assert!(!serde_json::to_string(&got[0].data)
        .unwrap()
        .contains("hunter2"));
}

async fn call_tool_on<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    name: &str,
    a: Value,
) {
    let params = CallToolRequestParams::new(name.to_string()).with_arguments(args(a));
    tokio::time::timeout(STEP, client.call_tool(params))
        .await
        .expect("in time")
        .expect("tools/call answered");
}

/// The built binary over stdio against `api`, with extra env.
fn stdio_server(api: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("ORG_ID", "test-org")
        .env("MAPI_KEY", "test-key")
        .env("MAPI_SECRET", "test-secret")
        .env("LOG_LEVEL", "info");
    for s in altr_mcp::client::Service::ALL {
        cmd.env(s.env_var(), format!("{api}{}", prefix(s)));
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn altr-mcp")
}

/// Write lines, then read one answer per expected id (skipping notifications).
fn exchange(child: &mut std::process::Child, lines: &[Vec<u8>], answers: usize) -> Vec<Value> {
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    for l in lines {
        stdin.write_all(l).unwrap();
        stdin.write_all(b"\n").unwrap();
    }
    stdin.flush().unwrap();
    let mut out = Vec::new();
    while out.len() < answers {
        let line = rx.recv_timeout(WAIT).expect("an answer on stdout");
        let v: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
        if v.get("id").is_some() {
            out.push(v);
        }
    }
    drop(stdin);
    // Requests are answered concurrently: order the answers by id.
    out.sort_by_key(|v| v["id"].as_i64().unwrap_or(i64::MAX));
    out
}

fn init_lines() -> Vec<Vec<u8>> {
    vec![
        initialize_body().to_string().into_bytes(),
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
    ]
}

#[test]
fn malformed_tools_call_params_get_32602() {
    let mut child = stdio_server("http://127.0.0.1:9", &[]);
    let mut lines = init_lines();
    lines.push(
        br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{}}}"#.to_vec(),
    );
    lines.push(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_tags","arguments":[1]}}"#.to_vec());
    lines.push(br#"{"jsonrpc":"2.0","id":4,"method":"no/such_method","params":{}}"#.to_vec());
    let answers = exchange(&mut child, &lines, 4);
    let _ = child.kill();
    assert_eq!(answers[1]["id"], 2);
    assert_eq!(answers[1]["error"]["code"], -32602, "{}", answers[1]);
    assert!(answers[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("name"));
    assert_eq!(answers[2]["error"]["code"], -32602, "{}", answers[2]);
    assert!(answers[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("arguments"));
    assert_eq!(answers[3]["error"]["code"], -32601, "{}", answers[3]);
}

// ---- 8. Secret hygiene ---------------------------------------------------------------------

#[tokio::test]
async fn our_credentials_echoed_by_upstream_are_scrubbed() {
    let h = harness(&[]).await;
    let echo =
        format!("Bad request. Headers were: Authorization: {AUTH}; password was test-secret");
    h.mock("GET", LOOKUP, 400, json!({"message": echo})).await;
    let c = h.call("get_databases", json!({})).await;
    c.upstream(400);
    let basic = AUTH.trim_start_matches("Basic ");
    assert!(!c.text.contains(basic), "{}", c.text);
    assert!(!c.text.contains("test-secret"), "{}", c.text);
    assert!(c.text.contains("<redacted>"), "{}", c.text);
    // A success body that echoes it is scrubbed as well.
    let h = harness(&[]).await;
    h.mock("GET", LOOKUP, 200, json!({"data": {"note": echo}}))
        .await;
    let c = h.call("get_databases", json!({})).await;
    assert!(!c.is_error);
    assert!(
        !c.text.contains(basic) && !c.text.contains("test-secret"),
        "{}",
        c.text
    );
}

#[test]
fn log_lines_redact_by_pattern_and_cannot_be_forged() {
    let mut child = stdio_server("http://127.0.0.1:9", &[]);
    let mut lines = init_lines();
    lines.push(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_database_id", "arguments": {"database_name": "x\u{202e}gnp.exe", "dbPasswordHint": "leak-me-1", "my_token_value": "leak-me-2"}}})
            .to_string()
            .into_bytes(),
    );
    let answers = exchange(&mut child, &lines, 2);
    assert_eq!(answers[1]["id"], 2);
    let _ = child.kill();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("tool call"), "{stderr}");
    assert!(!stderr.contains("leak-me"), "{stderr}");
    assert!(
        !stderr.contains('\u{202e}'),
        "a bidi override reached the log: {stderr}"
    );
}

// ---- 9. stdio framing ----------------------------------------------------------------------

#[test]
fn unreadable_stdio_lines_are_answered_and_serving_goes_on() {
    let mut child = stdio_server("http://127.0.0.1:9", &[]);
    let mut lines = init_lines();
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"get_tags","arguments":{{"a":{}1{}}}}}}}"#,
        "[".repeat(300),
        "]".repeat(300)
    );
    lines.push(deep.into_bytes());
    lines.push(br#"{"jsonrpc":"2.0","id":3,"method":"ping","params":{"x":1e400}}"#.to_vec());
    lines.push(br#"{"jsonrpc":"2.0","id":4,"method":"ping","params":{"x":"\ud800"}}"#.to_vec());
    lines.push(
        b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\",\"params\":{\"x\":\"\xff\xfe\"}}"
            .to_vec(),
    );
    let mut long = br#"{"jsonrpc":"2.0","id":6,"method":"ping","params":{"pad":""#.to_vec();
    long.extend(std::iter::repeat_n(b'x', 17 * 1024 * 1024));
    long.extend(b"\"}}");
    lines.push(long);
    lines.push(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#.to_vec());
    let answers = exchange(&mut child, &lines, 7);
    let _ = child.kill();
    for (i, id) in (2..=6).enumerate() {
        let a = &answers[i + 1];
        assert_eq!(a["id"], id, "{a}");
        assert_eq!(a["error"]["code"], -32700, "{a}");
    }
    assert_eq!(answers[6]["id"], 7);
    assert!(answers[6]["result"]["tools"].as_array().unwrap().len() > 10);
}

// ---- 10. Start-up validation ---------------------------------------------------------------

#[test]
fn every_start_up_problem_is_reported_at_once() {
    let out = Command::new(BIN)
        .env_clear()
        .env("ALTR_TOOLSETS", "nope")
        .env("RESTRICTED_TOOLS", "no_such_tool")
        .env("LOG_LEVEL", "loud")
        .env("MCP_TRANSPORT", "http")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in [
        "ORG_ID",
        "MAPI_SECRET",
        "ALTR_TOOLSETS",
        "RESTRICTED_TOOLS",
        "LOG_LEVEL",
        "MCP_TRANSPORT",
    ] {
        assert!(stderr.contains(name), "{name} not reported: {stderr}");
    }
    assert!(!stderr.contains("no_such_tool") || stderr.contains("RESTRICTED_TOOLS"));
}

// ---- 11. Newcomer friction -----------------------------------------------------------------

#[test]
fn sandbox_help_gives_the_recipe() {
    let out = Command::new(BIN)
        .args(["sandbox", "--help"])
        .env_clear()
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--sandbox"), "{help}");
    assert!(help.contains("streamable-http"), "{help}");
    assert!(help.contains("export"), "{help}");
}
