//! Databases tools through MCP against the fake ALTR API.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn get_databases_lists_them() {
    let h = Harness::start().await;
    let payload = json!({"success": true, "data": {"databases": [{"id": 1, "friendlyDatabaseName": "Sales"}]}});
    h.mock("GET", "/altrnet/api/databases", 200, payload.clone())
        .await;
    let c = h.call("get_databases", none()).await;
    assert_eq!(c.ok(), &payload);
    assert_request(
        &h.only_request().await,
        "GET",
        "/altrnet/api/databases",
        &[],
        None,
    );
}

#[tokio::test]
async fn get_databases_reports_upstream_401_as_failure() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        "/altrnet/api/databases",
        401,
        json!({"message": "bad key"}),
    )
    .await;
    let c = h.call("get_databases", none()).await;
    c.upstream(401);
    assert!(c.error()["hint"].as_str().unwrap().contains("MAPI_KEY"));
    assert!(!c.text.contains("test-secret"));
}
