//! Streamable HTTP across protocol revisions, byte by byte: clients of 2026-07-28 get 404 and
//! JSON-RPC -32601 for the methods that revision removed, older clients are served as before, and
//! `server/discover` declares that the tool list can change.

use crate::http_common::*;
use serde_json::{json, Value};

const T: &str = "streamable-http";
const NEWEST: &str = "2026-07-28";

/// The `_meta` every request of the 2026-07-28 revision carries.
fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": NEWEST,
        "io.modelcontextprotocol/clientInfo": {"name": "revision-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

/// A POST to `/mcp` as a client of the 2026-07-28 revision sends it.
fn post_newest(server: &Server, id: Value, method: &str, params: Value) -> reqwest::RequestBuilder {
    http()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", NEWEST)
        .header("mcp-method", method)
        .body(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string())
}

/// A POST to `/mcp` with only the headers an older client sends.
fn post_legacy(server: &Server, body: Value, headers: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let mut r = http()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r
}

/// The JSON-RPC message in a body that is JSON or an event stream.
fn message_in(content_type: &str, body: &[u8]) -> Value {
    let text = std::str::from_utf8(body).expect("UTF-8 body");
    if !content_type.starts_with("text/event-stream") {
        return serde_json::from_str(text).expect("a JSON body");
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find_map(|d| serde_json::from_str::<Value>(d).ok())
        .expect("a message in the event stream")
}

async fn send(r: reqwest::RequestBuilder) -> (u16, String, reqwest::header::HeaderMap, Value) {
    let r = r.send().await.expect("an answer");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = r.bytes().await.expect("the body");
    let message = message_in(&content_type, &body);
    (status, content_type, headers, message)
}

fn assert_removed(
    method: &str,
    id: &Value,
    (status, content_type, headers, body): &(u16, String, reqwest::header::HeaderMap, Value),
) {
    assert_eq!(*status, 404, "{method}: {body}");
    assert!(
        content_type.starts_with("application/json"),
        "{method}: {content_type}"
    );
    assert_eq!(body["jsonrpc"], "2.0", "{method}: {body}");
    assert_eq!(body["error"]["code"], -32601, "{method}: {body}");
    assert_eq!(&body["id"], id, "{method}: {body}");
    assert!(body.get("result").is_none(), "{method}: {body}");
    assert!(
        headers.get("mcp-session-id").is_none(),
        "{method}: a session was opened"
    );
}

#[tokio::test]
async fn methods_removed_in_2026_07_28_are_404_method_not_found() {
    let server = Server::start(T, &[]).await;
    let methods = [
        "initialize",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
    ];
    for (n, method) in methods.iter().enumerate() {
        // As the conformance suite sends them: nothing in params but `_meta`.
        let id = json!(500 + n);
        let answer = send(post_newest(
            &server,
            id.clone(),
            method,
            json!({"_meta": meta()}),
        ))
        .await;
        assert_removed(method, &id, &answer);
        // With a string id, and params the older revisions would have taken.
        let params = match *method {
            "initialize" => json!({"protocolVersion": NEWEST, "capabilities": {},
                "clientInfo": {"name": "x", "version": "1"}, "_meta": meta()}),
            "logging/setLevel" => json!({"level": "debug", "_meta": meta()}),
            _ => json!({"uri": "altr://guide", "_meta": meta()}),
        };
        let id = json!(format!("req-{n}"));
        let answer = send(post_newest(&server, id.clone(), method, params)).await;
        assert_removed(method, &id, &answer);
    }
    // What the revision still has keeps working.
    let (status, _, _, body) = send(post_newest(
        &server,
        json!(9),
        "tools/list",
        json!({"_meta": meta()}),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn initialize_of_2025_06_18_is_unchanged() {
    let server = Server::start(T, &[]).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}});
    // Without the version header (as 2025-06-18 clients open), and with it.
    for headers in [&[][..], &[("mcp-protocol-version", "2025-06-18")][..]] {
        let (status, _, h, body) = send(post_legacy(&server, initialize.clone(), headers)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id"], 1, "{body}");
        assert_eq!(body["result"]["protocolVersion"], "2025-06-18", "{body}");
        assert!(h.get("mcp-session-id").is_some(), "a session");
    }
    let (_, _, h, _) = send(post_legacy(&server, initialize, &[])).await;
    let session = h["mcp-session-id"].to_str().unwrap().to_string();
    let headers = [
        ("mcp-protocol-version", "2025-06-18"),
        ("mcp-session-id", session.as_str()),
    ];
    let r = post_legacy(
        &server,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        &headers,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    // logging/setLevel is still served to this revision.
    let (status, _, _, body) = send(post_legacy(
        &server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "info"}}),
        &headers,
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
}

#[tokio::test]
async fn discover_declares_that_the_tool_list_can_change() {
    let server = Server::start(T, &[]).await;
    let (status, _, _, body) = send(post_newest(
        &server,
        json!(1),
        "server/discover",
        json!({"_meta": meta()}),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    assert!(
        result["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.contains(&json!(NEWEST))),
        "{body}"
    );
    assert_eq!(
        result["capabilities"]["tools"]["listChanged"], true,
        "{body}"
    );
}
