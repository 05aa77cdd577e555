//! `GET /readyz` on both HTTP transports, against the built binary: ready when the fake ALTR API
//! answers the cheap authenticated read, 503 with a short reason when it refuses, fails, is
//! unreachable or too slow, at most one read per 30 s whatever the probe rate, and no token needed.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::http_common::*;
use serde_json::{json, Value};
use wiremock::{matchers, Mock, MockServer, ResponseTemplate};

const BOTH: [&str; 2] = ["streamable-http", "sse"];

/// The read the readiness check makes, as the fake API sees it.
const READ: &str = "/altrnet/api/userGroups";

/// A fake API answering the readiness read with `answer`.
async fn api_answering(answer: ResponseTemplate) -> MockServer {
    let api = MockServer::start().await;
    Mock::given(matchers::method("GET"))
        .and(matchers::path(READ))
        .respond_with(answer)
        .mount(&api)
        .await;
    api
}

fn roles() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"success": true, "data": {"userGroups": [{"userGroupName": "ANALYST", "userGroupId": 1}], "count": 1}}),
    )
}

/// `GET /readyz` without a token: the status and the JSON body.
async fn readyz(server: &Server) -> (u16, Value) {
    let r = http()
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    let status = r.status().as_u16();
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    (status, r.json().await.expect("a JSON body"))
}

/// The readiness reads the fake API received.
async fn reads(server: &Server) -> Vec<wiremock::Request> {
    server
        .api
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == READ)
        .collect()
}

/// The reason of a 503, checked to be short and free of the credentials.
fn not_ready(server: &Server, (status, body): (u16, Value)) -> String {
    assert_eq!(status, 503, "{body}\n{}", server.log());
    assert_eq!(body["status"], "not_ready", "{body}");
    let reason = body["reason"].as_str().expect("a reason").to_string();
    assert!(reason.len() < 160, "{reason}");
    assert!(!reason.contains("test-secret"), "{reason}");
    reason
}

#[tokio::test]
async fn ready_when_altr_answers_the_authenticated_read() {
    for t in BOTH {
        let server = Server::start_with_api(t, &[], api_answering(roles()).await).await;
        let (status, body) = readyz(&server).await;
        assert_eq!(status, 200, "{t}: {body}\n{}", server.log());
        assert_eq!(body, json!({"status": "ready"}), "{t}");
        let seen = reads(&server).await;
        assert_eq!(seen.len(), 1, "{t}");
        assert_eq!(seen[0].url.query(), Some("offset=0"), "{t}");
        let auth = seen[0].headers.get("authorization").expect("credentials");
        assert!(auth.to_str().unwrap().starts_with("Basic "), "{t}");
    }
}

#[tokio::test]
async fn not_ready_when_altr_answers_an_error_and_no_retry_is_made() {
    for t in BOTH {
        let api = api_answering(ResponseTemplate::new(503).set_body_string("maintenance")).await;
        let server = Server::start_with_api(t, &[], api).await;
        let reason = not_ready(&server, readyz(&server).await);
        assert_eq!(reason, "ALTR answered HTTP 503", "{t}");
        assert_eq!(reads(&server).await.len(), 1, "{t}: one attempt only");
    }
}

#[tokio::test]
async fn not_ready_when_altr_refuses_the_credentials() {
    for t in BOTH {
        let api =
            api_answering(ResponseTemplate::new(401).set_body_string("bad key test-secret")).await;
        let server = Server::start_with_api(t, &[], api).await;
        let reason = not_ready(&server, readyz(&server).await);
        assert_eq!(reason, "ALTR refused the credentials (HTTP 401)", "{t}");
    }
}

#[tokio::test]
async fn not_ready_when_altr_is_unreachable() {
    for t in BOTH {
        let server = Server::start_with_api(
            t,
            &[("ALTR_ALTRNET_BASE_URL", "http://127.0.0.1:9")],
            MockServer::start().await,
        )
        .await;
        let reason = not_ready(&server, readyz(&server).await);
        assert!(
            reason.starts_with("ALTR could not be reached"),
            "{t}: {reason}"
        );
    }
}

#[tokio::test]
async fn not_ready_within_the_timeout_when_altr_is_slow() {
    for t in BOTH {
        let api = api_answering(roles().set_delay(Duration::from_secs(4))).await;
        let server = Server::start_with_api(t, &[("REQUEST_TIMEOUT", "1")], api).await;
        let started = Instant::now();
        let reason = not_ready(&server, readyz(&server).await);
        let took = started.elapsed();
        assert_eq!(reason, "ALTR did not answer within 1 s", "{t}");
        assert!(took < Duration::from_millis(2500), "{t}: took {took:?}");
    }
}

#[tokio::test]
async fn twenty_rapid_probes_make_one_read() {
    for t in BOTH {
        let api = api_answering(roles().set_delay(Duration::from_millis(200))).await;
        let server = Server::start_with_api(t, &[], api).await;
        // Ten at once (sharing the first check), then ten one after the other (cached).
        let concurrent = futures::future::join_all((0..10).map(|_| readyz(&server))).await;
        for (status, body) in concurrent {
            assert_eq!(status, 200, "{t}: {body}");
        }
        for _ in 0..10 {
            assert_eq!(readyz(&server).await.0, 200, "{t}");
        }
        assert_eq!(reads(&server).await.len(), 1, "{t}");
    }
}

#[tokio::test]
async fn no_token_is_needed_when_one_is_set() {
    for t in BOTH {
        let server = Server::start_with_api(
            t,
            &[("MCP_AUTH_TOKEN", TOKEN)],
            api_answering(roles()).await,
        )
        .await;
        let (status, body) = readyz(&server).await;
        assert_eq!(status, 200, "{t}: {body}");
        let mcp = if t == "sse" { "/sse" } else { "/mcp" };
        let r = http().get(server.url(mcp)).send().await.expect("GET");
        assert_unauthorized(&r);
    }
}

#[tokio::test]
async fn ready_against_the_sandbox() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_altr-mcp"));
    cmd.arg("--sandbox");
    let api = MockServer::start().await;
    let cmd = command_for(cmd, "streamable-http", &api.uri(), &[]);
    let server = Server::start_command(cmd, api).await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 200, "{body}\n{}", server.log());
    assert_eq!(
        server.api_requests().await,
        0,
        "the sandbox answered, not the fake API"
    );
}
