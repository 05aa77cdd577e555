//! Streamable HTTP at `/mcp`: the built binary behind a fake ALTR API, driven by rmcp's own
//! streamable-HTTP client and by raw requests.

use std::time::Duration;

use crate::http_common::*;
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::{json, Value};

const T: &str = "streamable-http";

fn transport(
    server: &Server,
    token: Option<&str>,
) -> StreamableHttpClientTransport<reqwest::Client> {
    let _ = http();
    let mut config = StreamableHttpClientTransportConfig::with_uri(server.url("/mcp"));
    if let Some(t) = token {
        config = config.auth_header(t);
    }
    StreamableHttpClientTransport::from_config(config)
}

async fn connect(server: &Server, token: Option<&str>) -> RunningService<RoleClient, ClientConfig> {
    tokio::time::timeout(
        WAIT,
        ClientConfig::default().serve(transport(server, token)),
    )
    .await
    .expect("initialize in time")
    .expect("initialize")
}

async fn call_databases(client: &RunningService<RoleClient, ClientConfig>) -> Value {
    let result = tokio::time::timeout(
        WAIT,
        client.call_tool(CallToolRequestParams::new("get_databases")),
    )
    .await
    .expect("tools/call in time")
    .expect("tools/call");
    assert_eq!(result.is_error, Some(false));
    result.structured_content.expect("structured envelope")
}

fn assert_success(envelope: &Value) {
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(envelope["data"], databases()["data"], "{envelope}");
    assert_eq!(envelope["error"], Value::Null, "{envelope}");
}

async fn tool_names(client: &RunningService<RoleClient, ClientConfig>) -> Vec<String> {
    let tools = tokio::time::timeout(WAIT, client.list_all_tools())
        .await
        .expect("tools/list in time")
        .expect("tools/list");
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    names
}

/// A raw JSON-RPC POST to `/mcp`.
fn post(server: &Server, body: Value) -> reqwest::RequestBuilder {
    http()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
}

fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}})
}

/// The JSON-RPC message in a response body that is JSON or an SSE stream.
async fn message_of(r: reqwest::Response) -> Value {
    let sse = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    let text = r.text().await.expect("body");
    if !sse {
        return serde_json::from_str(&text).expect("JSON body");
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .find_map(|d| serde_json::from_str::<Value>(d).ok())
        .expect("a message in the event stream")
}

#[tokio::test]
async fn initialize_list_and_call_with_rmcp_client() {
    let server = Server::start(T, &[("MCP_AUTH_TOKEN", TOKEN)]).await;
    let client = connect(&server, Some(TOKEN)).await;
    let info = client.peer_info().expect("server info");
    let implementation = info.server_info.as_ref().expect("server identity");
    assert_eq!(implementation.name, "altr");
    assert_eq!(implementation.version, env!("CARGO_PKG_VERSION"));
    crate::http_common::assert_instructions(info.instructions.as_deref());

    let names = tool_names(&client).await;
    assert_eq!(names, expected_tools(), "the tools stdio serves");
    assert!(names.len() >= 25, "{} tools", names.len());

    assert_success(&call_databases(&client).await);
    let requests = server.api.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.path(), "/altrnet/api/databases");
    assert!(requests[0].headers.contains_key("authorization"));

    // Closing the client ends its session (DELETE /mcp).
    tokio::time::timeout(WAIT, client.cancel())
        .await
        .expect("close in time")
        .expect("close");
    assert!(!server.log().contains(TOKEN), "token logged");
    assert!(!server.log().contains("test-secret"), "secret logged");
}

/// A client of the newest revision: `server/discover`, no initialize.
async fn discover<C: rmcp::ClientHandler>(
    server: &Server,
    handler: C,
) -> RunningService<RoleClient, C> {
    let mode = ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    tokio::time::timeout(
        WAIT,
        handler.serve_with_lifecycle(transport(server, None), mode),
    )
    .await
    .expect("discover in time")
    .expect("discover")
}

#[tokio::test]
async fn discover_first_client_of_the_newest_revision() {
    let server = Server::start(T, &[]).await;
    let client = discover(&server, ClientConfig::default()).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    crate::http_common::assert_instructions(info.instructions.as_deref());
    assert_eq!(tool_names(&client).await, expected_tools());
    assert_success(&call_databases(&client).await);
    let _ = tokio::time::timeout(WAIT, client.cancel()).await;
}

#[tokio::test]
async fn sessions_are_announced_streamed_and_ended() {
    let server = Server::start(T, &[]).await;
    let r = post(&server, initialize_body()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let init = message_of(r).await;
    assert_eq!(init["result"]["serverInfo"]["name"], "altr");
    let r = post(
        &server,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .header("mcp-session-id", &session)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 202);

    // GET opens the server stream of the session.
    let stream = http()
        .get(server.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    drop(stream);

    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get_databases", "arguments": {}}});
    let r = post(&server, call.clone())
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_success(&envelope_of(&message_of(r).await["result"]));

    // DELETE ends the session; it is then unknown.
    let r = http()
        .delete(server.url("/mcp"))
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "DELETE ends the session with 204");
    let r = post(&server, call)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let server = Server::start(T, &[("MCP_SESSION_IDLE_TIMEOUT", "0.5")]).await;
    let r = post(&server, initialize_body()).send().await.unwrap();
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let _ = message_of(r).await;
    // Nothing is sent for longer than the timeout: the session is gone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    )
    .header("mcp-session-id", &session)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn bearer_token_is_required_and_health_is_open() {
    let server = Server::start(T, &[("MCP_AUTH_TOKEN", TOKEN)]).await;
    let r = post(&server, initialize_body()).send().await.unwrap();
    assert_unauthorized(&r);
    let r = post(&server, initialize_body())
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_unauthorized(&r);
    let r = http()
        .get(server.url("/mcp"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_unauthorized(&r);
    let r = post(&server, initialize_body())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(message_of(r).await["result"]["serverInfo"]["name"], "altr");

    // rmcp's client without the token cannot start.
    let refused = tokio::time::timeout(
        WAIT,
        ClientConfig::default().serve(transport(&server, None)),
    )
    .await
    .expect("refusal in time");
    assert!(refused.is_err());

    let r = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    assert_eq!(server.api_requests().await, 0, "/healthz called ALTR");
    assert!(!server.log().contains(TOKEN), "token logged");
    assert!(
        !server.log().contains("not-the-token"),
        "presented token logged"
    );
}

#[tokio::test]
async fn foreign_host_and_origin_are_forbidden() {
    let server = Server::start(
        T,
        &[
            ("MCP_ALLOWED_HOSTS", "mcp.example.com"),
            ("MCP_ALLOWED_ORIGINS", "https://app.example.com"),
        ],
    )
    .await;
    let status = |host: Option<&str>, origin: Option<&str>| {
        let mut req = post(&server, initialize_body());
        if let Some(h) = host {
            req = req.header("host", h);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(Some("evil.example"), None).await, 403);
    assert_eq!(status(Some("evil.example:8000"), None).await, 403);
    assert_eq!(status(None, Some("https://evil.example")).await, 403);
    assert_eq!(
        status(None, Some("http://localhost.evil.example")).await,
        403
    );
    assert_eq!(status(None, None).await, 200);
    assert_eq!(
        status(Some("localhost:1234"), Some("http://localhost:3000")).await,
        200
    );
    assert_eq!(
        status(Some("mcp.example.com"), Some("https://app.example.com")).await,
        200
    );
    let r = http()
        .get(server.url("/mcp"))
        .header("host", "evil.example")
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn refuses_a_public_bind_without_a_token() {
    let (status, stderr) = refused(T, &[("MCP_HOST", "0.0.0.0")]).await;
    assert!(!status.success());
    assert!(stderr.contains("MCP_AUTH_TOKEN"), "{stderr}");
    assert!(
        stderr.contains("MCP_ALLOW_UNAUTHENTICATED=true"),
        "{stderr}"
    );
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let server = Server::start(T, &[]).await;
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(4 * 1024 * 1024)
    );
    let r = http()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    let r = http()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["error"]["code"], -32700);

    let r = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 5, "result_of": "nothing"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32600);

    // Just under the cap is fine.
    let r = post(&server, initialize_body()).send().await.unwrap();
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let _ = message_of(r).await;
    let pad = "x".repeat(4 * 1024 * 1024 - 200);
    let r = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"_meta": {"pad": pad}}}),
    )
    .header("mcp-session-id", &session)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(message_of(r).await["result"], json!({}));

    // Still serving.
    let client = connect(&server, None).await;
    assert_success(&call_databases(&client).await);
}

#[tokio::test]
async fn stateless_mode_needs_no_session() {
    let server = Server::start(T, &[("MCP_STATELESS", "true")]).await;
    // No initialize, no session id: each request stands alone.
    let r = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("mcp-session-id").is_none());
    let list = message_of(r).await;
    let mut names: Vec<String> = list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    // No session outlives its request, so support mode cannot be armed: not listed.
    let mut expected = expected_tools();
    expected.retain(|n| n != "enter_support_mode");
    assert_eq!(names, expected);

    let r = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "get_databases", "arguments": {}}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("mcp-session-id").is_none());
    assert_success(&envelope_of(&message_of(r).await["result"]));

    // A stateful-style client works as well.
    let client = connect(&server, None).await;
    assert_success(&call_databases(&client).await);
}

/// An initialize from a client that renders MCP Apps.
fn initialize_declaring_apps() -> Value {
    let mut body = initialize_body();
    body["params"]["capabilities"] = json!({"extensions": {
        "io.modelcontextprotocol/ui": {"mimeTypes": ["text/html;profile=mcp-app"]}}});
    body
}

#[tokio::test]
async fn apps_are_offered_over_http_only_where_the_client_is_remembered() {
    // With sessions, the client's declaration holds for the session.
    let server = Server::start(T, &[]).await;
    let r = post(&server, initialize_declaring_apps())
        .send()
        .await
        .unwrap();
    let init = message_of(r).await;
    assert!(
        init["result"]["capabilities"]["extensions"]["io.modelcontextprotocol/ui"].is_object(),
        "{init}"
    );
    // Without sessions, the next request cannot be told to come from that client: the
    // extension is not declared back, and nothing shows an app.
    let server = Server::start(T, &[("MCP_STATELESS", "true")]).await;
    let r = post(&server, initialize_declaring_apps())
        .send()
        .await
        .unwrap();
    let init = message_of(r).await;
    assert!(init["result"]["capabilities"].is_object(), "{init}");
    assert!(
        init["result"]["capabilities"].get("extensions").is_none(),
        "{init}"
    );
    let r = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .send()
    .await
    .unwrap();
    let list = message_of(r).await;
    let tools = list["result"]["tools"].as_array().expect("tools");
    assert!(tools.iter().any(|t| t["name"] == "get_rules"));
    assert!(
        tools.iter().all(|t| t["_meta"].get("ui").is_none()),
        "no tool points to an app"
    );
}

#[tokio::test]
async fn fifty_concurrent_sessions() {
    let server = Server::start(T, &[]).await;
    let clients = (0..50).map(|_| {
        let t = transport(&server, None);
        async move {
            let client = ClientConfig::default().serve(t).await.expect("initialize");
            for _ in 0..2 {
                assert_success(&call_databases(&client).await);
            }
            let _ = client.cancel().await;
        }
    });
    tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(clients))
        .await
        .expect("50 sessions in time");
    assert_eq!(server.api_requests().await, 100);
}

#[tokio::test]
async fn sigterm_lets_the_call_in_flight_finish_and_exits_zero() {
    let mut server = Server::start_answering_after(T, &[], Duration::from_millis(1500)).await;
    let client = connect(&server, None).await;
    let call = tokio::spawn(async move {
        let envelope = call_databases(&client).await;
        (client, envelope)
    });
    server.wait_api_requests(1).await;
    server.sigterm();

    // New connections are refused while the call finishes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let r = reqwest::Client::new()
            .get(server.url("/healthz"))
            .send()
            .await;
        if r.is_err() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still accepting after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (_client, envelope) = tokio::time::timeout(WAIT, call)
        .await
        .expect("the call finishes")
        .expect("join");
    assert_success(&envelope);
    let status = server.wait_exit(Duration::from_secs(12)).await;
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(
        server.log().contains("SIGTERM received"),
        "{}",
        server.log()
    );
}

/// A client that says yes to every form question.
#[derive(Clone)]
struct SaysYes;

impl rmcp::ClientHandler for SaysYes {
    fn get_info(&self) -> ClientConfig {
        let mut caps = rmcp::model::ClientCapabilities::default();
        caps.elicitation = Some(Default::default());
        ClientConfig::new(caps, rmcp::model::Implementation::new("says-yes", "1.0"))
    }

    async fn create_elicitation(
        &self,
        _request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        Ok(
            rmcp::model::ElicitResult::new(rmcp::model::ElicitationAction::Accept)
                .with_content(json!({"confirm": true})),
        )
    }
}

#[tokio::test]
async fn newest_revision_clients_confirm_in_two_rounds() {
    let server = Server::start_with_api(T, &[("ALTR_CONFIRM", "required")], tag_api().await).await;
    let client = discover(&server, SaysYes).await;
    let deletes = || deletes_on(&server.api);
    let params = CallToolRequestParams::new("disconnect_tag")
        .with_arguments(json!({"tag_group_id": "tg-1"}).as_object().unwrap().clone());
    // The first round only asks.
    let first = tokio::time::timeout(WAIT, client.call_tool_once(params.clone()))
        .await
        .expect("in time")
        .expect("first round");
    assert!(
        matches!(first, rmcp::model::CallToolResponse::InputRequired(_)),
        "{first:?}"
    );
    assert_eq!(deletes().await, 0);
    // The client's own loop answers and calls again: the tag goes, once.
    let done = tokio::time::timeout(WAIT, client.call_tool(params))
        .await
        .expect("in time")
        .expect("call");
    let envelope = done.structured_content.expect("envelope");
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(envelope["data"]["after"]["deleted"], true, "{envelope}");
    assert_eq!(deletes().await, 1);
    let _ = tokio::time::timeout(WAIT, client.cancel()).await;
}

/// A tool called by its earlier name over HTTP runs the tool; RESTRICTED_TOOLS naming an earlier
/// name restricts the tool it stands for.
#[tokio::test]
async fn earlier_tool_names_work_over_http() {
    use wiremock::{matchers, Mock, MockServer, ResponseTemplate};
    let api = MockServer::start().await;
    Mock::given(matchers::method("DELETE"))
        .and(matchers::path("/altrnet/api/databases/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&api)
        .await;
    let server = Server::start_with_api(
        T,
        &[
            ("ALTR_CONFIRM", "never"),
            ("RESTRICTED_TOOLS", "delete_tag"),
        ],
        api,
    )
    .await;
    assert!(
        server
            .log()
            .contains("delete_tag, the earlier name of disconnect_tag"),
        "{}",
        server.log()
    );
    let client = connect(&server, None).await;
    let names = tool_names(&client).await;
    assert!(!names.iter().any(|n| n.starts_with("delete_database")));
    assert!(!names.iter().any(|n| n == "disconnect_tag"));
    let params = CallToolRequestParams::new("delete_database")
        .with_arguments(json!({"database_id": 7}).as_object().unwrap().clone());
    let done = tokio::time::timeout(WAIT, client.call_tool(params))
        .await
        .expect("in time")
        .expect("call");
    let envelope = done.structured_content.expect("envelope");
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(server.api.received_requests().await.unwrap().len(), 1);
    let refused = tokio::time::timeout(
        WAIT,
        client.call_tool(
            CallToolRequestParams::new("delete_tag")
                .with_arguments(json!({"tag_group_id": "x"}).as_object().unwrap().clone()),
        ),
    )
    .await
    .expect("in time")
    .expect("call");
    assert_eq!(
        refused.structured_content.unwrap()["error"]["code"],
        "tool_unavailable"
    );
    let _ = tokio::time::timeout(WAIT, client.cancel()).await;
}

/// A fake ALTR API with one tag that can be read and disconnected.
async fn tag_api() -> wiremock::MockServer {
    use wiremock::{matchers, Mock, MockServer, ResponseTemplate};
    let api = MockServer::start().await;
    let path = "/api/v1/tag/masking/tag/tg-1";
    Mock::given(matchers::method("GET"))
        .and(matchers::path(path))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tag_group_id": "tg-1"})))
        .mount(&api)
        .await;
    Mock::given(matchers::method("DELETE"))
        .and(matchers::path(path))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "data": {"deleted": true}})),
        )
        .mount(&api)
        .await;
    api
}

/// Replicas behind a load balancer: confirmation state sealed by one opens on another when they
/// share MCP_STATE_KEYS (a rotated-out key still opens); without shared keys it does not.
#[tokio::test]
async fn replicas_sharing_state_keys_open_each_others_confirmations() {
    let old = "old:0123456789abcdef0123456789abcdef-old";
    let new = "new:fedcba9876543210fedcba9876543210-new";
    let rotated = format!("{new},{old}");
    let a = Server::start_with_api(
        T,
        &[("ALTR_CONFIRM", "required"), ("MCP_STATE_KEYS", old)],
        tag_api().await,
    )
    .await;
    let b = Server::start_with_api(
        T,
        &[
            ("ALTR_CONFIRM", "required"),
            ("MCP_STATE_KEYS", rotated.as_str()),
        ],
        tag_api().await,
    )
    .await;
    let lone = Server::start_with_api(T, &[("ALTR_CONFIRM", "required")], tag_api().await).await;
    let params = CallToolRequestParams::new("disconnect_tag")
        .with_arguments(json!({"tag_group_id": "tg-1"}).as_object().unwrap().clone());
    let on_a = discover(&a, SaysYes).await;
    let first = tokio::time::timeout(WAIT, on_a.call_tool_once(params.clone()))
        .await
        .expect("in time")
        .expect("first round");
    let rmcp::model::CallToolResponse::InputRequired(asked) = first else {
        panic!("expected an input-required result, got {first:?}");
    };
    let state = asked.request_state.expect("sealed state");
    let yes = json!({"action": "accept", "content": {"confirm": true}});
    let answer = params
        .clone()
        .with_input_responses([("confirm".to_string(), yes)].into())
        .with_request_state(state);
    // Without the shared keys the state does not open.
    let on_lone = discover(&lone, SaysYes).await;
    let refused = tokio::time::timeout(WAIT, on_lone.call_tool_once(answer.clone()))
        .await
        .expect("in time")
        .expect("second round");
    let rmcp::model::CallToolResponse::Complete(refused) = refused else {
        panic!("expected a result")
    };
    let envelope = refused.structured_content.expect("envelope");
    assert_eq!(
        envelope["error"]["code"], "confirmation_invalid",
        "{envelope}"
    );
    // Replica b (new key first, the old one kept to open) opens what a sealed: the tag goes.
    let on_b = discover(&b, SaysYes).await;
    let done = tokio::time::timeout(WAIT, on_b.call_tool_once(answer))
        .await
        .expect("in time")
        .expect("second round");
    let rmcp::model::CallToolResponse::Complete(done) = done else {
        panic!("expected a result")
    };
    let envelope = done.structured_content.expect("envelope");
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(deletes_on(&a.api).await, 0);
    assert_eq!(deletes_on(&b.api).await, 1);
    assert_eq!(deletes_on(&lone.api).await, 0);
}

async fn deletes_on(api: &wiremock::MockServer) -> usize {
    api.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .count()
}

#[tokio::test]
async fn state_keys_are_checked_at_start() {
    let (status, err) = refused(T, &[("MCP_STATE_KEYS", "k1:tiny-key")]).await;
    assert!(!status.success());
    assert!(
        err.contains("MCP_STATE_KEYS") && err.contains("32 bytes"),
        "{err}"
    );
    assert!(!err.contains("tiny-key"), "the key is not shown: {err}");
}
