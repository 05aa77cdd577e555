//! The ALTR client through real HTTP: retries that cannot duplicate work, Retry-After, attempt
//! counting, timeouts, refused connections, and failures that never leak a secret or a query.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;
use wiremock::{Mock, ResponseTemplate};

async fn sequence(h: &Harness, method: &str, path: &str, responses: Vec<ResponseTemplate>) {
    // wiremock matches the most recently mounted mock first among equals only by priority, so give
    // each response its own priority and a one-shot limit.
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

const POLICIES: &str = "/api/v1/unified-policy/management/policy";

#[tokio::test]
async fn post_is_retried_after_429_honouring_retry_after() {
    let h = Harness::with_env(&[("MAX_RETRY_AFTER", "1")]).await;
    sequence(
        &h,
        "POST",
        POLICIES,
        vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "0.2"),
            ResponseTemplate::new(200).set_body_json(json!({"data": {"policy_id": "TAG#1"}})),
        ],
    )
    .await;
    let started = Instant::now();
    let c = h.call("create_policy", json!({"tag": "PII"})).await;
    assert_eq!(c.ok()["policy_id"], "TAG#1");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "Retry-After honoured"
    );
    assert_eq!(h.requests().await.len(), 2);
}

#[tokio::test]
async fn retry_after_is_capped_by_max_retry_after() {
    let h = Harness::with_env(&[("MAX_RETRY_AFTER", "0.05")]).await;
    sequence(
        &h,
        "GET",
        "/altrnet/api/databases",
        vec![
            ResponseTemplate::new(503).insert_header("Retry-After", "3600"),
            ResponseTemplate::new(200).set_body_json(json!({"data": {"databases": []}})),
        ],
    )
    .await;
    let started = Instant::now();
    h.call("get_databases", json!({})).await.ok();
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn post_is_retried_after_503() {
    let h = Harness::start().await;
    sequence(
        &h,
        "POST",
        POLICIES,
        vec![
            ResponseTemplate::new(503),
            ResponseTemplate::new(200).set_body_json(json!({"data": {"policy_id": "TAG#2"}})),
        ],
    )
    .await;
    h.call("create_policy", json!({"tag": "PII"})).await.ok();
    assert_eq!(h.requests().await.len(), 2);
}

#[tokio::test]
async fn post_is_not_retried_after_500() {
    let h = Harness::start().await;
    h.mock("POST", POLICIES, 500, json!({"message": "boom"}))
        .await;
    let c = h.call("create_policy", json!({"tag": "PII"})).await;
    c.upstream(500);
    assert_eq!(
        h.requests().await.len(),
        1,
        "a POST that may have been processed is not repeated"
    );
}

#[tokio::test]
async fn get_is_retried_until_max_retries_total_attempts() {
    let h = Harness::with_env(&[("MAX_RETRIES", "3")]).await;
    h.mock(
        "GET",
        "/altrnet/api/databases",
        502,
        json!({"message": "bad gateway"}),
    )
    .await;
    let c = h.call("get_databases", json!({})).await;
    c.upstream(502);
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("after 3 attempts"));
    assert_eq!(h.requests().await.len(), 3);
}

#[tokio::test]
async fn disable_retry_makes_one_attempt() {
    let h = Harness::with_env(&[("DISABLE_RETRY", "true"), ("MAX_RETRIES", "5")]).await;
    h.mock("GET", "/altrnet/api/databases", 503, json!({}))
        .await;
    h.call("get_databases", json!({})).await.upstream(503);
    assert_eq!(h.requests().await.len(), 1);
}

#[tokio::test]
async fn timeout_is_a_failure_with_a_hint() {
    let h = Harness::with_env(&[("REQUEST_TIMEOUT", "0.2"), ("MAX_RETRIES", "2")]).await;
    h.mock_with(
        "GET",
        "/altrnet/api/databases",
        ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
    )
    .await;
    let started = Instant::now();
    let c = h.call("get_databases", json!({})).await;
    assert!(c.is_error);
    assert_eq!(c.error()["code"], "upstream_timeout");
    assert!(c.error()["hint"]
        .as_str()
        .unwrap()
        .contains("REQUEST_TIMEOUT"));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        h.requests().await.len(),
        2,
        "a GET that timed out is retried"
    );
}

#[tokio::test]
async fn refused_connection_is_a_failure_with_a_hint() {
    // A port that was just free: bind, read the port, drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let h = Harness::with_env(&[("ALTR_ALTRNET_BASE_URL", &url), ("MAX_RETRIES", "1")]).await;
    let c = h.call("get_databases", json!({})).await;
    assert!(c.is_error);
    assert_eq!(c.error()["code"], "upstream_unreachable");
    assert!(c.error()["hint"].as_str().unwrap().contains("BASE_URL"));
}

#[tokio::test]
async fn failures_never_carry_query_strings_or_secrets() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        "/altrnet/api/databases",
        404,
        json!({"message": "nope"}),
    )
    .await;
    let c = h
        .call(
            "get_database_id",
            json!({"database_name": "very-private-name"}),
        )
        .await;
    c.upstream(404);
    assert!(!c.text.contains("very-private-name"), "{}", c.text);
    assert!(!c.text.contains("friendlyDatabaseName"), "{}", c.text);
    assert!(!c.text.contains("test-secret"));
    assert!(!c.text.contains(AUTH));
}

#[tokio::test]
async fn long_upstream_messages_are_bounded() {
    let h = Harness::start().await;
    h.mock_with(
        "GET",
        "/altrnet/api/databases",
        ResponseTemplate::new(400).set_body_string("x".repeat(100_000)),
    )
    .await;
    let c = h.call("get_databases", json!({})).await;
    c.upstream(400);
    assert!(c.text.len() < 2_000, "error is {} bytes", c.text.len());
}

#[tokio::test]
async fn non_json_success_bodies_are_failures_and_empty_writes_are_fine() {
    let h = Harness::start().await;
    h.mock_with(
        "GET",
        "/altrnet/api/databases",
        ResponseTemplate::new(200).set_body_string("<html>ok</html>"),
    )
    .await;
    let c = h.call("get_databases", json!({})).await;
    assert_eq!(
        c.error()["code"],
        "upstream_invalid_response",
        "{}",
        c.envelope
    );
    assert!(c.error()["hint"]
        .as_str()
        .unwrap()
        .contains("nothing is reported as done"));
    h.mock_with(
        "DELETE",
        "/altrnet/api/databases/7",
        ResponseTemplate::new(204),
    )
    .await;
    assert_eq!(
        h.call("disconnect_database", json!({"database_id": 7}))
            .await
            .ok(),
        &json!(null)
    );
}
