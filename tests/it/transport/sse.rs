//! Legacy HTTP+SSE (2024-11-05): the built binary behind a fake ALTR API, driven by a small
//! event-stream client (`GET /sse`, `POST /messages?sessionId=...`).

use std::time::Duration;

use crate::http_common::*;
use serde_json::{json, Value};

const T: &str = "sse";

fn base(server: &Server) -> String {
    server.url("")
}

fn call_databases_params() -> Value {
    json!({"name": "get_databases", "arguments": {}})
}

fn assert_success(reply: &Value) {
    assert_eq!(reply["result"]["isError"], false, "{reply}");
    let envelope = envelope_of(&reply["result"]);
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(envelope["data"], databases()["data"], "{envelope}");
    assert_eq!(envelope["error"], Value::Null, "{envelope}");
}

#[tokio::test]
async fn endpoint_event_then_messages_round_trip() {
    let server = Server::start(T, &[]).await;
    let mut c = SseClient::connect(&base(&server), None).await;
    let id = c
        .endpoint
        .strip_prefix("/messages?sessionId=")
        .unwrap_or_else(|| panic!("endpoint {}", c.endpoint))
        .to_string();
    assert!(
        id.len() >= 32 && id.chars().all(|ch| ch.is_ascii_hexdigit()),
        "{id}"
    );

    let init = c.initialize().await;
    assert_eq!(init["serverInfo"]["name"], "altr");
    assert_eq!(init["protocolVersion"], "2024-11-05");
    crate::http_common::assert_instructions(init["instructions"].as_str());

    let list = c.request(1, "tools/list", json!({})).await;
    let mut names: Vec<String> = list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, expected_tools(), "the tools stdio serves");

    let reply = c.request(2, "tools/call", call_databases_params()).await;
    assert_success(&reply);
    assert_eq!(server.api_requests().await, 1);

    // A second stream is a second, independent session.
    let other = SseClient::connect(&base(&server), None).await;
    assert_ne!(other.endpoint, c.endpoint);
}

#[tokio::test]
async fn unknown_or_missing_session() {
    let server = Server::start(T, &[]).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let r = http()
        .post(server.url("/messages?sessionId=0123456789abcdef0123456789abcdef"))
        .body(ping.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http()
        .post(server.url("/messages"))
        .body(ping)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn the_session_ends_when_the_stream_closes() {
    let server = Server::start(T, &[]).await;
    let mut c = SseClient::connect(&base(&server), None).await;
    c.initialize().await;
    let endpoint = server.url(&c.endpoint);
    drop(c);
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}).to_string();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = http()
            .post(&endpoint)
            .body(ping.clone())
            .send()
            .await
            .unwrap();
        if r.status() == 404 {
            break;
        }
        assert_eq!(r.status(), 202);
        assert!(
            tokio::time::Instant::now() < deadline,
            "session outlived its stream"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn idle_sessions_are_closed() {
    let server = Server::start(T, &[("MCP_SESSION_IDLE_TIMEOUT", "0.5")]).await;
    let mut c = SseClient::connect(&base(&server), None).await;
    c.initialize().await;
    // Nothing more is sent: the server ends the stream.
    while let Some(e) = c.next_event().await {
        assert_eq!(e.event, "message");
    }
    let r = c
        .post_raw(json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}).to_string())
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn bearer_token_is_required() {
    let server = Server::start(T, &[("MCP_AUTH_TOKEN", TOKEN)]).await;
    let r = http()
        .get(server.url("/sse"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_unauthorized(&r);
    let r = http()
        .get(server.url("/sse"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_unauthorized(&r);

    let mut c = SseClient::connect(&base(&server), Some(TOKEN)).await;
    c.initialize().await;
    let r = http()
        .post(server.url(&c.endpoint))
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_unauthorized(&r);
    let reply = c.request(2, "tools/call", call_databases_params()).await;
    assert_success(&reply);

    let r = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    assert!(!server.log().contains(TOKEN), "token logged");
}

#[tokio::test]
async fn foreign_host_and_origin_are_forbidden() {
    let server = Server::start(T, &[]).await;
    for (name, value) in [("host", "evil.example"), ("origin", "https://evil.example")] {
        let r = http()
            .get(server.url("/sse"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "GET with {name}: {value}");
    }
    let mut c = SseClient::connect(&base(&server), None).await;
    c.initialize().await;
    for (name, value) in [("host", "evil.example"), ("origin", "null")] {
        let r = http()
            .post(server.url(&c.endpoint))
            .header(name, value)
            .body(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "POST with {name}: {value}");
    }
    let r = http()
        .post(server.url(&c.endpoint))
        .header("origin", "http://127.0.0.1:5173")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn refuses_a_public_bind_without_a_token() {
    let (status, stderr) = refused(T, &[("MCP_HOST", "0.0.0.0")]).await;
    assert!(!status.success());
    assert!(stderr.contains("MCP_AUTH_TOKEN"), "{stderr}");
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let server = Server::start(T, &[]).await;
    let mut c = SseClient::connect(&base(&server), None).await;
    c.initialize().await;
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(4 * 1024 * 1024)
    );
    assert_eq!(c.post_raw(big).await.status(), 413);
    let r = c.post_raw("{\"jsonrpc\": \"2.0\", \"id\": ").await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    let r = c.post_raw("[1, 2, 3]").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32600);
    // Just under the cap is fine.
    let pad = "x".repeat(4 * 1024 * 1024 - 200);
    let reply = c.request(3, "ping", json!({"_meta": {"pad": pad}})).await;
    assert_eq!(reply["result"], json!({}), "{}", reply["error"]);
    // The session is unharmed.
    assert_success(&c.request(4, "tools/call", call_databases_params()).await);
}

#[tokio::test]
async fn fifty_concurrent_sessions() {
    let server = Server::start(T, &[]).await;
    let b = base(&server);
    let sessions = (0..50).map(|_| {
        let b = b.clone();
        async move {
            let mut c = SseClient::connect(&b, None).await;
            c.initialize().await;
            for id in 1..=2 {
                assert_success(&c.request(id, "tools/call", call_databases_params()).await);
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(sessions))
        .await
        .expect("50 sessions in time");
    assert_eq!(server.api_requests().await, 100);
}

#[tokio::test]
async fn sigterm_lets_the_call_in_flight_finish_and_exits_zero() {
    let mut server = Server::start_answering_after(T, &[], Duration::from_millis(1500)).await;
    let mut c = SseClient::connect(&base(&server), None).await;
    c.initialize().await;
    c.post(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": call_databases_params()}))
        .await;
    server.wait_api_requests(1).await;
    server.sigterm();
    let reply = loop {
        let e = c
            .next_event()
            .await
            .expect("the reply before the stream ends");
        let m: Value = serde_json::from_str(&e.data).unwrap();
        if m["id"] == 7 {
            break m;
        }
    };
    assert_success(&reply);
    // Then the stream ends and the process exits cleanly.
    while c.next_event().await.is_some() {}
    let status = server.wait_exit(Duration::from_secs(12)).await;
    assert_eq!(status.code(), Some(0), "{}", server.log());
}
