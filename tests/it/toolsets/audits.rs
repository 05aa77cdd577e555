//! Audits and audit reports through MCP against the fake ALTR API and the sandbox.

use crate::common::*;
use serde_json::{json, Value};
use wiremock::{Mock, ResponseTemplate};

const DEF: &str = "/audit-report/audit-reports/definitions";

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "search_audits",
            args: json!({"limit": 100, "offset": 5, "from_date_time": "2025-01-01T00:00:00Z", "to_date_time": "2025-01-02T00:00:00Z", "consuming_user": "ann", "consuming_user_email": ["a@x.com", "b@x.com"], "query_id": "q1", "sidecar_id": "s1", "sidecar_instance_id": "i1", "table_name": "ORDERS", "schema_name": "PUBLIC", "database_name": "SALES", "column_name": ["SSN"], "statement_type": "SELECT", "statement_text_contains": "ssn", "order_by": "asc", "sort_by": "rows_accessed"}),
            method: "POST",
            path: "/sc-control/v1/audits",
            query: &[
                ("limit", "100"),
                ("offset", "5"),
                ("from_date_time", "2025-01-01T00:00:00Z"),
                ("to_date_time", "2025-01-02T00:00:00Z"),
                ("consuming_user", "ann"),
                ("consuming_user_email", "a@x.com"),
                ("consuming_user_email", "b@x.com"),
                ("query_id", "q1"),
                ("sidecar_id", "s1"),
                ("sidecar_instance_id", "i1"),
                ("table_name", "ORDERS"),
                ("schema_name", "PUBLIC"),
                ("database_name", "SALES"),
                ("column_name", "SSN"),
                ("statement_type", "SELECT"),
                ("statement_text_contains", "ssn"),
                ("order_by", "asc"),
                ("sort_by", "rows_accessed"),
            ],
            body: None,
        },
        Sends {
            tool: "get_audit_results",
            args: json!({"search_uuid": "u-1", "limit": 250, "next_page_token": "t2"}),
            method: "GET",
            path: "/sc-control/v1/audits/u-1",
            query: &[("limit", "250"), ("next_page_token", "t2")],
            body: None,
        },
        Sends {
            tool: "search_system_audits",
            args: json!({"category": "api keys", "limit": 10, "offset": 0, "wait": -1, "from_date_time": "2025-01-01T00:00:00Z", "to_date_time": "2025-01-02T00:00:00Z"}),
            method: "POST",
            path: "/altrnet/api/systemaudits/query/start",
            query: &[
                ("category", "API Keys"),
                ("limit", "10"),
                ("offset", "0"),
                ("wait", "-1"),
                ("from", "2025-01-01T00:00:00Z"),
                ("to", "2025-01-02T00:00:00Z"),
            ],
            body: None,
        },
        Sends {
            tool: "get_system_audit_results",
            args: json!({"token": "tok/1"}),
            method: "GET",
            path: "/altrnet/api/systemaudits/query/result/tok%2F1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "search_query_audits",
            args: json!({"limit": 10, "offset": 1, "from_date_time": "2025-01-01T00:00:00Z", "to_date_time": "2025-01-02T00:00:00Z", "executing_role": "ANALYST", "executing_user": "ann", "query_id": "q1", "policy_tag_name": "PII", "policy_tag_value": "SSN", "policy_column_database_name": "SALES", "policy_column_schema_name": "PUBLIC", "policy_column_table_name": "CUSTOMERS", "policy_column_name": "SSN", "order_by": "desc", "sort_by": "event_time"}),
            method: "POST",
            path: "/api/v1/query-audits/search",
            query: &[
                ("limit", "10"),
                ("offset", "1"),
                ("from_date_time", "2025-01-01T00:00:00Z"),
                ("to_date_time", "2025-01-02T00:00:00Z"),
                ("executing_role", "ANALYST"),
                ("executing_user", "ann"),
                ("query_id", "q1"),
                ("policy_tag_name", "PII"),
                ("policy_tag_value", "SSN"),
                ("policy_column_database_name", "SALES"),
                ("policy_column_schema_name", "PUBLIC"),
                ("policy_column_table_name", "CUSTOMERS"),
                ("policy_column_name", "SSN"),
                ("order_by", "desc"),
                ("sort_by", "event_time"),
            ],
            body: None,
        },
        Sends {
            tool: "get_query_audit_results",
            args: json!({"search_uuid": "u#2", "limit": 50}),
            method: "GET",
            path: "/api/v1/query-audits/results/u%232",
            query: &[("limit", "50")],
            body: None,
        },
        Sends {
            tool: "list_report_definitions",
            args: json!({"limit": 20, "cursor": "c1", "archived": false}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/",
            query: &[("limit", "20"), ("cursor", "c1"), ("archived", "false")],
            body: None,
        },
        Sends {
            tool: "create_report_definition",
            args: json!({"name": "Weekly SSN reads", "integration_type": "snowflake", "description": "who read SSN", "lookback_days": 7, "timezone": "UTC", "schedule_cron": "0 9 ? * MON *", "schedule_enabled": true, "schedule_timezone": "UTC", "delivery": "{\"channels\": [{\"type\": \"email\", \"enabled\": true, \"recipients\": [\"sec@x.com\"]}]}", "filters": {"filter_groups": [{"filters": [{"field": "username", "mode": "include", "patterns": [{"match_type": "exact", "value": "ANN"}]}]}]}}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/",
            query: &[],
            body: Some(
                json!({"name": "Weekly SSN reads", "integration_type": "snowflake", "description": "who read SSN", "report_window": {"lookback_days": 7, "timezone": "UTC"}, "schedule": {"cron": "0 9 ? * MON *", "enabled": true, "timezone": "UTC"}, "delivery": {"channels": [{"type": "email", "enabled": true, "recipients": ["sec@x.com"]}]}, "filters": {"filter_groups": [{"filters": [{"field": "username", "mode": "include", "patterns": [{"match_type": "exact", "value": "ANN"}]}]}]}}),
            ),
        },
        Sends {
            tool: "create_report_definition",
            args: json!({"name": "Minimal", "integration_type": "OLTP", "schedule_enabled": false}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/",
            query: &[],
            body: Some(
                json!({"name": "Minimal", "integration_type": "oltp", "schedule": {"enabled": false}}),
            ),
        },
        Sends {
            tool: "get_report_definition",
            args: json!({"definition_id": "d/1"}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d%2F1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "update_report_definition",
            args: json!({"definition_id": "d1", "name": "Renamed", "integration_type": "snowflake", "lookback_days": 30, "replace_all": true}),
            method: "PUT",
            path: "/audit-report/audit-reports/definitions/d1",
            query: &[],
            body: Some(
                json!({"name": "Renamed", "integration_type": "snowflake", "report_window": {"lookback_days": 30}}),
            ),
        },
        Sends {
            tool: "archive_report_definition",
            args: json!({"definition_id": "d1"}),
            method: "DELETE",
            path: "/audit-report/audit-reports/definitions/d1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "restore_report_definition",
            args: json!({"definition_id": "d1"}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/d1/restore",
            query: &[],
            body: None,
        },
        Sends {
            tool: "trigger_report_definition",
            args: json!({"definition_id": "d1"}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/d1/trigger",
            query: &[],
            body: None,
        },
        Sends {
            tool: "list_report_instances",
            args: json!({"definition_id": "d1", "limit": 5, "cursor": "c"}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d1/instances/",
            query: &[("limit", "5"), ("cursor", "c")],
            body: None,
        },
        Sends {
            tool: "get_report_instance",
            args: json!({"definition_id": "d1", "instance_id": "i1"}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_report_instance_download_url",
            args: json!({"definition_id": "d1", "instance_id": "i1"}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/download",
            query: &[("format", "pdf")],
            body: None,
        },
        Sends {
            tool: "get_report_instance_download_url",
            args: json!({"definition_id": "d1", "instance_id": "i1", "format": "CSV"}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/download",
            query: &[("format", "csv")],
            body: None,
        },
        Sends {
            tool: "list_report_comments",
            args: json!({"definition_id": "d1", "instance_id": "i1", "limit": 3}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/comments/",
            query: &[("limit", "3")],
            body: None,
        },
        Sends {
            tool: "create_report_comment",
            args: json!({"definition_id": "d1", "instance_id": "i1", "text": "looks right"}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/comments/",
            query: &[],
            body: Some(json!({"text": "looks right"})),
        },
        Sends {
            tool: "pin_report_comment",
            args: json!({"definition_id": "d1", "instance_id": "i1", "comment_id": "c1"}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/comments/c1/pin",
            query: &[],
            body: None,
        },
        Sends {
            tool: "unpin_report_comment",
            args: json!({"definition_id": "d1", "instance_id": "i1", "comment_id": "c1"}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/comments/c1/unpin",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_report_sign_off",
            args: json!({"definition_id": "d1", "instance_id": "i1"}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/sign_off",
            query: &[],
            body: None,
        },
        Sends {
            tool: "create_report_sign_off",
            args: json!({"definition_id": "d1", "instance_id": "i1"}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/sign_off",
            query: &[],
            body: Some(json!({"action": "approve", "attestation": true})),
        },
        Sends {
            tool: "create_report_sign_off",
            args: json!({"definition_id": "d1", "instance_id": "i1", "attestation": false, "comments": "checked"}),
            method: "POST",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/sign_off",
            query: &[],
            body: Some(json!({"action": "approve", "attestation": false, "comments": "checked"})),
        },
        Sends {
            tool: "list_report_sign_offs",
            args: json!({"definition_id": "d1", "instance_id": "i1", "cursor": "c2"}),
            method: "GET",
            path: "/audit-report/audit-reports/definitions/d1/instances/i1/sign_offs",
            query: &[("cursor", "c2")],
            body: None,
        },
    ]
}

#[tokio::test]
async fn search_ids_and_report_ids_are_encoded_unlike_the_python_server() {
    for (tool, args, path) in [
        (
            "get_audit_results",
            json!({"search_uuid": "a/b"}),
            "/sc-control/v1/audits/a%2Fb",
        ),
        (
            "get_report_instance",
            json!({"definition_id": "d?x", "instance_id": "i#y"}),
            "/audit-report/audit-reports/definitions/d%3Fx/instances/i%23y",
        ),
    ] {
        let h = Harness::start().await;
        h.mock("GET", path, 200, json!({"ok": true})).await;
        assert_eq!(h.call(tool, args).await.ok(), &json!({"ok": true}));
    }
}

#[tokio::test]
async fn audit_enums_and_limits_are_checked_before_sending() {
    let h = Harness::start().await;
    assert_refused(&h, "search_audits", json!({"order_by": SECRET}), "order_by").await;
    assert_refused(&h, "search_audits", json!({"sort_by": "size"}), "sort_by").await;
    assert_refused(&h, "search_audits", json!({"limit": 100001}), "limit").await;
    assert_refused(
        &h,
        "search_audits",
        json!({"wait_seconds": 61}),
        "wait_seconds",
    )
    .await;
    assert_refused(
        &h,
        "search_system_audits",
        json!({"category": SECRET}),
        "category",
    )
    .await;
    assert_refused(
        &h,
        "search_system_audits",
        json!({"category": "Locks", "wait": 1001}),
        "wait",
    )
    .await;
    assert_refused(
        &h,
        "get_audit_results",
        json!({"search_uuid": "u", "limit": 251}),
        "limit",
    )
    .await;
    assert_refused(
        &h,
        "create_report_definition",
        json!({"name": "n", "integration_type": "mysql"}),
        "integration_type",
    )
    .await;
    assert_refused(
        &h,
        "create_report_definition",
        json!({"name": "n", "integration_type": "oltp", "schedule_cron": "0 9 * * *"}),
        "schedule_cron",
    )
    .await;
    assert_refused(
        &h,
        "get_report_instance_download_url",
        json!({"definition_id": "d", "instance_id": "i", "format": "xlsx"}),
        "format",
    )
    .await;
    assert_refused(
        &h,
        "create_report_sign_off",
        json!({"definition_id": "d", "instance_id": "i", "action": "reject"}),
        "action",
    )
    .await;
}

#[tokio::test]
async fn report_definition_invalid_json_is_a_refusal_naming_the_parameter() {
    let h = Harness::start().await;
    for field in ["delivery", "filters"] {
        let c = h
            .call("create_report_definition", json!({"name": "n", "integration_type": "oltp", field: format!("{{\"channels\": {SECRET}")}))
            .await;
        c.invalid(field);
        assert!(
            c.error()["message"]
                .as_str()
                .unwrap()
                .contains("line 1 column"),
            "{}",
            c.envelope
        );
        assert!(!c.text.contains(SECRET));
        let c = h
            .call("update_report_definition", json!({"definition_id": "d", "name": "n", "integration_type": "oltp", field: "[1, 2]"}))
            .await;
        c.invalid(field);
    }
    h.assert_no_requests().await;
}

#[tokio::test]
async fn update_report_definition_refuses_to_drop_delivery_filters_or_schedule() {
    let h = Harness::start().await;
    let delivery =
        json!({"channels": [{"type": "email", "enabled": true, "recipients": ["sec@x.com"]}]});
    h.mock("GET", &format!("{DEF}/d1"), 200, json!({"data": {"id": "d1", "name": "n", "delivery": delivery, "schedule": {"cron": "0 9 ? * MON *", "enabled": true}, "filters": {}}})).await;
    let c = h
        .call("update_report_definition", json!({"definition_id": "d1", "name": "n2", "integration_type": "oltp", "schedule_enabled": false}))
        .await;
    let e = c.error();
    assert_eq!(e["code"], "would_remove_settings", "{}", c.envelope);
    assert_eq!(e["details"]["removed"], json!({"delivery": delivery}));
    assert!(e["message"].as_str().unwrap().contains("replace_all"));
    assert_eq!(h.requests().await.len(), 1, "only the read");

    h.mock(
        "PUT",
        &format!("{DEF}/d1"),
        200,
        json!({"data": {"id": "d1"}}),
    )
    .await;
    let c = h
        .call("update_report_definition", json!({"definition_id": "d1", "name": "n2", "integration_type": "oltp", "delivery": delivery, "schedule_enabled": false}))
        .await;
    assert_eq!(c.ok(), &json!({"data": {"id": "d1"}}));
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    assert_request(
        &r[2],
        "PUT",
        &format!("{DEF}/d1"),
        &[],
        Some(
            json!({"name": "n2", "integration_type": "oltp", "schedule": {"enabled": false}, "delivery": delivery}),
        ),
    );
}

#[tokio::test]
async fn search_audits_with_wait_seconds_polls_until_the_results_are_ready() {
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/sc-control/v1/audits",
        200,
        json!({"search_uuid": "u-9"}),
    )
    .await;
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/sc-control/v1/audits/u-9"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"status": "RUNNING"})))
        .up_to_n_times(1)
        .mount(&h.api)
        .await;
    h.mock(
        "GET",
        "/sc-control/v1/audits/u-9",
        200,
        json!({"status": "COMPLETED", "results": [{"query_id": "q1"}]}),
    )
    .await;
    let c = h
        .call(
            "search_audits",
            json!({"column_name": "SSN", "wait_seconds": 10}),
        )
        .await;
    assert_eq!(
        c.ok(),
        &json!({"search_uuid": "u-9", "status": "COMPLETED", "results": {"status": "COMPLETED", "results": [{"query_id": "q1"}]}})
    );
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    assert_request(
        &r[0],
        "POST",
        "/sc-control/v1/audits",
        &[("column_name", "SSN")],
        None,
    );
}

#[tokio::test]
async fn search_query_audits_reports_still_running_at_the_deadline() {
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/api/v1/query-audits/search",
        200,
        json!({"data": {"search_uuid": "q-1"}}),
    )
    .await;
    h.mock(
        "GET",
        "/api/v1/query-audits/results/q-1",
        202,
        json!({"status": "RUNNING"}),
    )
    .await;
    let started = std::time::Instant::now();
    let c = h
        .call("search_query_audits", json!({"wait_seconds": 1}))
        .await;
    let data = c.ok();
    assert_eq!(data["status"], "RUNNING");
    assert_eq!(data["search_uuid"], "q-1");
    assert!(data["message"]
        .as_str()
        .unwrap()
        .contains("get_query_audit_results"));
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}

#[tokio::test]
async fn search_system_audits_waits_on_a_202_token() {
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/altrnet/api/systemaudits/query/start",
        202,
        json!({"token": "t1"}),
    )
    .await;
    h.mock(
        "GET",
        "/altrnet/api/systemaudits/query/result/t1",
        200,
        json!({"events": [1], "moreData": false}),
    )
    .await;
    let c = h
        .call(
            "search_system_audits",
            json!({"category": "Locks", "wait_seconds": 5}),
        )
        .await;
    assert_eq!(
        c.ok(),
        &json!({"token": "t1", "status": "COMPLETED", "results": {"events": [1], "moreData": false}})
    );
    // Without wait_seconds the 202 answer is returned as it is.
    let c = h
        .call("search_system_audits", json!({"category": "Locks"}))
        .await;
    assert_eq!(c.ok(), &json!({"token": "t1"}));
}

#[tokio::test]
async fn waiting_searches_report_progress_to_a_client_that_asks() {
    use rmcp::model::{CallToolRequestParams, NumberOrString, ProgressToken, RequestParamsMeta};

    let h = Harness::start().await;
    h.mock(
        "POST",
        "/sc-control/v1/audits",
        200,
        json!({"search_uuid": "u-5"}),
    )
    .await;
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/sc-control/v1/audits/u-5"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({})))
        .up_to_n_times(1)
        .mount(&h.api)
        .await;
    h.mock(
        "GET",
        "/sc-control/v1/audits/u-5",
        200,
        json!({"results": []}),
    )
    .await;

    let recorder = crate::progress::Recorder::default();
    let client = connect_with(api_settings(&h.api), recorder.clone()).await;

    let mut params = CallToolRequestParams::new("search_audits".to_string())
        .with_arguments(args(json!({"wait_seconds": 5})));
    params.set_progress_token(ProgressToken(NumberOrString::String("p-1".into())));
    let result = client.call_tool(params).await.unwrap();
    let envelope: Value = result.structured_content.unwrap();
    assert_eq!(envelope["data"]["status"], "COMPLETED", "{envelope}");
    let seen = recorder.wait_for(2).await;
    assert_eq!(seen.len(), 2, "one per poll: {seen:?}");
    // rmcp's client puts its own token on the request; every notification carries that one.
    assert!(seen
        .iter()
        .all(|p| p.progress_token == seen[0].progress_token));
    assert_eq!(seen[1].total, Some(5.0));
    assert_eq!(seen[1].progress, 5.0);
    assert!(seen[0].progress < seen[1].progress);
}

#[tokio::test]
async fn waiting_searches_send_no_progress_without_a_token() {
    // The default harness client gives no token; the call still works and waits.
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/sc-control/v1/audits",
        200,
        json!({"search_uuid": "u-6"}),
    )
    .await;
    h.mock(
        "GET",
        "/sc-control/v1/audits/u-6",
        200,
        json!({"results": [1]}),
    )
    .await;
    let c = h.call("search_audits", json!({"wait_seconds": 2})).await;
    assert_eq!(c.ok()["status"], "COMPLETED");
}

#[tokio::test]
async fn audit_search_workflow_in_the_sandbox() {
    use crate::sandbox_common::Sbx;
    let s = Sbx::start().await;

    let ssn = s
        .call(
            "search_query_audits",
            json!({"executing_role": "ANALYST", "policy_column_name": "SSN", "wait_seconds": 5}),
        )
        .await;
    let data = ssn.ok();
    assert_eq!(data["status"], "COMPLETED", "{}", ssn.envelope);
    let events = data["results"]["results"].as_array().unwrap();
    assert_eq!(events.len(), 2, "two analysts read SSN: {}", ssn.envelope);
    assert!(events
        .iter()
        .all(|e| e["executing_role"] == "ANALYST" && e["policy_column_name"] == "SSN"));

    let started = s.call("search_audits", json!({"column_name": ["SSN", "salary"], "sort_by": "rows_accessed", "order_by": "asc"})).await;
    let uuid = started.ok()["search_uuid"].as_str().unwrap().to_string();
    let first = s
        .call("get_audit_results", json!({"search_uuid": uuid}))
        .await;
    assert_eq!(first.ok()["status"], "RUNNING");
    let done = s
        .call(
            "get_audit_results",
            json!({"search_uuid": uuid, "limit": 2}),
        )
        .await;
    assert_eq!(done.ok()["status"], "COMPLETED");
    assert_eq!(done.ok()["total"], 3);
    let rows: Vec<i64> = done.ok()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rows_accessed"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, [10, 20]);
    let token = done.ok()["next_page_token"].as_str().unwrap().to_string();
    let rest = s
        .call(
            "get_audit_results",
            json!({"search_uuid": uuid, "next_page_token": token}),
        )
        .await;
    assert_eq!(rest.ok()["results"].as_array().unwrap().len(), 1);
    s.call("get_query_audit_results", json!({"search_uuid": uuid}))
        .await
        .upstream(404);

    let started = s
        .call(
            "search_system_audits",
            json!({"category": "API Keys", "wait": -1}),
        )
        .await;
    let token = started.ok()["token"].as_str().unwrap().to_string();
    let log = s
        .call("get_system_audit_results", json!({"token": token}))
        .await;
    assert_eq!(log.ok()["events"][0]["category"], "API Keys");
    assert_eq!(log.ok()["moreData"], false);
}

#[tokio::test]
async fn audit_report_workflow_in_the_sandbox() {
    use crate::sandbox_common::Sbx;
    let s = Sbx::start().await;

    let active = s.call("list_report_definitions", json!({})).await;
    assert_eq!(
        active.ok()["items"].as_array().unwrap().len(),
        1,
        "{}",
        active.envelope
    );
    let archived = s
        .call("list_report_definitions", json!({"archived": true}))
        .await;
    assert_eq!(archived.ok()["items"][0]["name"], "Retired HR report");

    let delivery = json!({"channels": [{"type": "email", "enabled": true, "recipients": ["ciso@acme.example"]}]});
    let created = s
        .call(
            "create_report_definition",
            json!({"name": "Daily SSN reads", "integration_type": "snowflake", "lookback_days": 1,
                   "schedule_cron": "0 8 * * ? *", "schedule_enabled": true, "delivery": delivery.to_string()}),
        )
        .await;
    let def = created.ok()["id"].as_str().unwrap().to_string();
    s.call(
        "create_report_definition",
        json!({"name": "daily ssn reads", "integration_type": "oltp"}),
    )
    .await
    .upstream(409);

    let run = s
        .call("trigger_report_definition", json!({"definition_id": def}))
        .await;
    let inst = run.ok()["id"].as_str().unwrap().to_string();
    assert_eq!(run.ok()["status"], "COMPLETED");
    s.call("trigger_report_definition", json!({"definition_id": def}))
        .await
        .upstream(409);
    let instances = s
        .call("list_report_instances", json!({"definition_id": def}))
        .await;
    assert_eq!(instances.ok()["items"].as_array().unwrap().len(), 1);

    let first = s
        .call("create_report_comment", json!({"definition_id": def, "instance_id": inst, "text": "numbers match the DAM alert"}))
        .await;
    let first_id = first.ok()["id"].as_str().unwrap().to_string();
    let second = s
        .call("create_report_comment", json!({"definition_id": def, "instance_id": inst, "text": "follow up with ANALYST lead"}))
        .await;
    let second_id = second.ok()["id"].as_str().unwrap().to_string();
    s.call(
        "pin_report_comment",
        json!({"definition_id": def, "instance_id": inst, "comment_id": second_id}),
    )
    .await
    .ok();
    let comments = s
        .call(
            "list_report_comments",
            json!({"definition_id": def, "instance_id": inst}),
        )
        .await;
    assert_eq!(comments.ok()["items"][0]["id"], second_id.as_str());
    assert_eq!(comments.ok()["items"][0]["pinned"], true);
    s.call(
        "unpin_report_comment",
        json!({"definition_id": def, "instance_id": inst, "comment_id": first_id}),
    )
    .await
    .upstream(409);

    let none = s
        .call(
            "get_report_sign_off",
            json!({"definition_id": def, "instance_id": inst}),
        )
        .await;
    assert_eq!(*none.ok(), serde_json::Value::Null);
    let signed = s
        .call(
            "create_report_sign_off",
            json!({"definition_id": def, "instance_id": inst, "comments": "reviewed"}),
        )
        .await;
    assert_eq!(signed.ok()["action"], "approve");
    s.call(
        "create_report_sign_off",
        json!({"definition_id": def, "instance_id": inst}),
    )
    .await
    .upstream(409);
    let mine = s
        .call(
            "get_report_sign_off",
            json!({"definition_id": def, "instance_id": inst}),
        )
        .await;
    assert_eq!(mine.ok()["comments"], json!({"untrusted_text": "reviewed"}));
    let all = s
        .call(
            "list_report_sign_offs",
            json!({"definition_id": def, "instance_id": inst}),
        )
        .await;
    assert_eq!(all.ok()["items"].as_array().unwrap().len(), 1);
    let instance = s
        .call(
            "get_report_instance",
            json!({"definition_id": def, "instance_id": inst}),
        )
        .await;
    assert_eq!(instance.ok()["sign_off_status"], "SIGNED_OFF");
    let url = s
        .call(
            "get_report_instance_download_url",
            json!({"definition_id": def, "instance_id": inst, "format": "csv"}),
        )
        .await;
    assert!(url.ok()["url"].as_str().unwrap().contains(".csv"));

    // A full replacement that leaves out the delivery is refused; replace_all allows it.
    let refused = s
        .call("update_report_definition", json!({"definition_id": def, "name": "Daily SSN reads", "integration_type": "snowflake", "schedule_cron": "0 8 * * ? *"}))
        .await;
    assert_eq!(refused.error()["code"], "would_remove_settings");
    assert_eq!(refused.error()["details"]["removed"]["delivery"], delivery);
    let replaced = s
        .call("update_report_definition", json!({"definition_id": def, "name": "Daily SSN reads", "integration_type": "snowflake", "schedule_cron": "0 8 * * ? *", "replace_all": true}))
        .await;
    assert!(replaced.ok().get("delivery").is_none());
    let read = s
        .call("get_report_definition", json!({"definition_id": def}))
        .await;
    assert_eq!(read.ok()["schedule"], json!({"cron": "0 8 * * ? *"}));

    s.call("archive_report_definition", json!({"definition_id": def}))
        .await
        .ok();
    s.call("trigger_report_definition", json!({"definition_id": def}))
        .await
        .upstream(409);
    let active = s.call("list_report_definitions", json!({})).await;
    assert_eq!(active.ok()["items"].as_array().unwrap().len(), 1);
    s.call("restore_report_definition", json!({"definition_id": def}))
        .await
        .ok();
    let active = s.call("list_report_definitions", json!({})).await;
    assert_eq!(active.ok()["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_list_tool_of_access_audits_and_dam_shows_the_demo_seed() {
    use crate::sandbox_common::Sbx;
    let s = Sbx::start().await;
    let count = |v: &Value, key: &str| v[key].as_array().map(Vec::len).unwrap_or(0);

    let requests = s.call("get_access_requests", json!({})).await;
    assert_eq!(count(requests.ok(), "items"), 2);
    let defs = s.call("list_report_definitions", json!({})).await;
    let def = defs.ok()["items"][0]["id"].as_str().unwrap().to_string();
    let instances = s
        .call("list_report_instances", json!({"definition_id": def}))
        .await;
    let inst = instances.ok()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ids = json!({"definition_id": def, "instance_id": inst});
    let comments = s.call("list_report_comments", ids.clone()).await;
    assert_eq!(count(comments.ok(), "items"), 1);
    let sign_offs = s.call("list_report_sign_offs", ids.clone()).await;
    assert_eq!(count(sign_offs.ok(), "items"), 1);
    let rules = s.call("list_dam_rules", json!({})).await;
    assert_eq!(count(rules.ok(), "rules"), 3);
    let alerts = s
        .call("list_dam_alerts", json!({"state": "acknowledged"}))
        .await;
    let acked = alerts.ok()["alerts"][0]["id"].as_str().unwrap().to_string();
    let alert_comments = s
        .call("list_dam_alert_comments", json!({"alert_id": acked}))
        .await;
    assert_eq!(count(alert_comments.ok(), "comments"), 1);
    for category in ["API Keys", "Access Requests", "Access Management Policy"] {
        let log = s
            .call("search_system_audits", json!({"category": category}))
            .await;
        assert!(
            count(log.ok(), "events") > 0,
            "{category}: {}",
            log.envelope
        );
    }
    let sidecar = s.call("search_audits", json!({"wait_seconds": 5})).await;
    assert_eq!(sidecar.ok()["results"]["total"], 4);
}
