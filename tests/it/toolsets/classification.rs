//! Classification tools through MCP against the fake ALTR API, and a classification workflow
//! against the sandbox.

use crate::common::matchers::{method, path};
use crate::common::*;
use serde_json::{json, Value};
use wiremock::{Mock, ResponseTemplate};

const CLS: &str = "/classification/v1";
const JOBS: &str = "/classification/v1/jobs";
const FINDINGS: &str = "/classification/v1/jobs/j1/findings/databases/SALES/schemas/PUBLIC/tables/CUSTOMERS/columns/EMAIL";

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    let rules =
        json!({"operator": "AND", "rules": [{"type": "column_name", "pattern": "(?i)e_?mail"}]});
    vec![
        Sends {
            tool: "get_classifier",
            args: json!({"classifier_name": "EMAIL ADDRESS"}),
            method: "GET",
            path: "/classification/v1/classifiers/EMAIL%20ADDRESS",
            query: &[],
            body: None,
        },
        Sends {
            tool: "create_classifier",
            args: json!({"classifier_name": "EMAIL", "compound_ruleset": rules.clone(), "description": "Emails"}),
            method: "POST",
            path: "/classification/v1/classifiers",
            query: &[],
            body: Some(
                json!({"classifier_name": "EMAIL", "compound_ruleset": rules.clone(), "description": "Emails"}),
            ),
        },
        Sends {
            tool: "create_classifier",
            args: json!({"classifier_name": "EMAIL", "compound_ruleset": rules.to_string()}),
            method: "POST",
            path: "/classification/v1/classifiers",
            query: &[],
            body: Some(json!({"classifier_name": "EMAIL", "compound_ruleset": rules.clone()})),
        },
        Sends {
            tool: "update_classifier",
            args: json!({"classifier_name": "EMAIL", "description": "Email addresses"}),
            method: "PATCH",
            path: "/classification/v1/classifiers/EMAIL",
            query: &[],
            body: Some(json!({"description": "Email addresses"})),
        },
        Sends {
            tool: "update_classifier",
            args: json!({"classifier_name": "EMAIL", "compound_ruleset": rules.clone()}),
            method: "PATCH",
            path: "/classification/v1/classifiers/EMAIL",
            query: &[],
            body: Some(json!({"compound_ruleset": rules.clone(), "pattern": null})),
        },
        Sends {
            tool: "delete_classifier",
            args: json!({"classifier_name": "EMAIL"}),
            method: "DELETE",
            path: "/classification/v1/classifiers/EMAIL",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_collection",
            args: json!({"collection_name": "PII"}),
            method: "GET",
            path: "/classification/v1/collections/PII",
            query: &[],
            body: None,
        },
        Sends {
            tool: "create_collection",
            args: json!({"collection_name": "PII"}),
            method: "POST",
            path: "/classification/v1/collections",
            query: &[],
            body: Some(json!({"collection_name": "PII", "description": ""})),
        },
        Sends {
            tool: "update_collection",
            args: json!({"collection_name": "PII", "description": "Personal data"}),
            method: "PATCH",
            path: "/classification/v1/collections/PII",
            query: &[],
            body: Some(json!({"description": "Personal data"})),
        },
        Sends {
            tool: "delete_collection",
            args: json!({"collection_name": "PII"}),
            method: "DELETE",
            path: "/classification/v1/collections/PII",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_collection_classifiers",
            args: json!({"collection_name": "PII", "limit": 50, "contiguous_id": "c2"}),
            method: "GET",
            path: "/classification/v1/collections/PII/classifiers",
            query: &[("limit", "50"), ("contiguous_id", "c2")],
            body: None,
        },
        Sends {
            tool: "add_classifiers_to_collection",
            args: json!({"collection_name": "PII", "classifier_names": "EMAIL"}),
            method: "PATCH",
            path: "/classification/v1/collections/PII/classifiers/append",
            query: &[],
            body: Some(json!({"classifier_names": ["EMAIL"]})),
        },
        Sends {
            tool: "remove_classifiers_from_collection",
            args: json!({"collection_name": "PII", "classifier_names": ["EMAIL", "SSN"]}),
            method: "PATCH",
            path: "/classification/v1/collections/PII/classifiers/remove",
            query: &[],
            body: Some(json!({"classifier_names": ["EMAIL", "SSN"]})),
        },
        Sends {
            tool: "import_altr_managed_classifiers",
            args: none(),
            method: "POST",
            path: "/classification/v1/collections/altr-managed/import",
            query: &[],
            body: Some(json!({})),
        },
        Sends {
            tool: "get_altr_managed_timestamp",
            args: none(),
            method: "GET",
            path: "/classification/v1/collections/altr-managed/timestamp",
            query: &[],
            body: None,
        },
        Sends {
            tool: "list_altr_managed_classifiers",
            args: json!({"limit": 10}),
            method: "GET",
            path: "/classification/v1/collections/altr-managed/classifiers",
            query: &[("limit", "10")],
            body: None,
        },
        Sends {
            tool: "get_jobs",
            args: json!({"limit": 20, "status": "completed", "job_type": "FULL", "database_id": 3, "agent_id": "ag1", "classification_type": 2, "order": "DESC"}),
            method: "GET",
            path: JOBS,
            query: &[
                ("limit", "20"),
                ("database_id", "3"),
                ("classification_type", "2"),
                ("status", "COMPLETED"),
                ("job_type", "FULL"),
                ("agent_id", "ag1"),
                ("order", "desc"),
            ],
            body: None,
        },
        Sends {
            tool: "get_jobs",
            args: json!({"contiguous_id": "next"}),
            method: "GET",
            path: JOBS,
            query: &[("contiguous_id", "next")],
            body: None,
        },
        Sends {
            tool: "get_active_jobs",
            args: json!({"limit": 5, "database_id": 3, "contiguous_id": "c", "agent_id": "ag1"}),
            method: "GET",
            path: "/classification/v1/jobs/active",
            query: &[("limit", "5"), ("database_id", "3"), ("contiguous_id", "c"), ("agent_id", "ag1")],
            body: None,
        },
        Sends {
            tool: "get_job",
            args: json!({"job_id": "j1"}),
            method: "GET",
            path: "/classification/v1/jobs/j1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_job_summary",
            args: json!({"job_id": "j1"}),
            method: "GET",
            path: "/classification/v1/jobs/j1/summary",
            query: &[],
            body: None,
        },
        Sends {
            tool: "create_job",
            args: json!({"job_type": "full", "database_id": 3, "collection_name": "PII", "condition_types": [], "requires_review": true}),
            method: "POST",
            path: "/classification/v1/jobs/snowflake",
            query: &[],
            body: Some(json!({"job_type": "FULL", "database_id": 3, "collection_name": "PII", "classification_type": "altr_native", "requires_review": true})),
        },
        Sends {
            tool: "create_gdlp_job",
            args: json!({"database_id": 3, "collection_name": "PII", "condition_types": ["c1"], "sample_size": 10, "sample_type": "percent", "requires_review": false}),
            method: "POST",
            path: "/classification/v1/jobs/snowflake",
            query: &[],
            body: Some(json!({"database_id": 3, "collection_name": "PII", "condition_types": ["c1"], "sample_size": 10, "sample_type": "PERCENT", "requires_review": false, "classification_type": "gdlp"})),
        },
        Sends {
            tool: "update_job_status",
            args: json!({"job_id": "j1", "status": "paused"}),
            method: "PATCH",
            path: "/classification/v1/jobs/j1",
            query: &[],
            body: Some(json!({"status": "PAUSED"})),
        },
        Sends {
            tool: "create_databricks_job",
            args: json!({"database_id": 4}),
            method: "POST",
            path: "/classification/v1/jobs/databricks",
            query: &[],
            body: Some(json!({"database_id": 4})),
        },
        Sends {
            tool: "create_oltp_job",
            args: json!({"agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc", "collection_name": "PII"}),
            method: "POST",
            path: "/classification/v1/jobs/oltp",
            query: &[],
            body: Some(json!({
                "agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc", "collection_name": "PII",
                "classification_type": 5, "sample_strategy": "ROWS", "sample_size": 1000, "sample_type": "ROWS",
            })),
        },
        Sends {
            tool: "create_oltp_job",
            args: json!({
                "agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc", "collection_name": "PII",
                "classification_type": 5, "sample_strategy": "metadata", "condition_types": ["c"], "sid": "ORCL",
                "service_name": "orders_svc", "task_id": "t1", "requires_review": true,
            }),
            method: "POST",
            path: "/classification/v1/jobs/oltp",
            query: &[],
            body: Some(json!({
                "agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc", "collection_name": "PII",
                "classification_type": 5, "sample_strategy": "METADATA", "condition_types": ["c"], "sid": "ORCL",
                "service_name": "orders_svc", "task_id": "t1", "requires_review": true,
            })),
        },
        Sends {
            tool: "create_oltp_job",
            args: json!({"agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc", "collection_name": "PII", "sample_type": "PERCENT", "sample_size": 25}),
            method: "POST",
            path: "/classification/v1/jobs/oltp",
            query: &[],
            body: Some(json!({
                "agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc", "collection_name": "PII",
                "classification_type": 5, "sample_strategy": "ROWS", "sample_size": 25, "sample_type": "PERCENT",
            })),
        },
        Sends {
            tool: "get_job_findings",
            args: json!({"job_id": "j1", "limit": 10, "page_token": "p2", "classifier_name": ["EMAIL", "SSN"], "confirmed_status": "Approved", "include_column_status_counts": false}),
            method: "GET",
            path: "/classification/v1/jobs/j1/findings",
            query: &[
                ("limit", "10"),
                ("page_token", "p2"),
                ("classifier_name", "EMAIL"),
                ("classifier_name", "SSN"),
                ("confirmed_status", "approved"),
                ("include_column_status_counts", "false"),
            ],
            body: None,
        },
        Sends {
            tool: "get_job_findings_schemas",
            args: json!({"job_id": "j1", "database": "SALES", "classifier_name": "EMAIL"}),
            method: "GET",
            path: "/classification/v1/jobs/j1/findings/databases/SALES/schemas",
            query: &[("classifier_name", "EMAIL")],
            body: None,
        },
        Sends {
            tool: "get_job_findings_tables",
            args: json!({"job_id": "j1", "database": "SALES", "schema": "PUBLIC", "limit": 2}),
            method: "GET",
            path: "/classification/v1/jobs/j1/findings/databases/SALES/schemas/PUBLIC/tables",
            query: &[("limit", "2")],
            body: None,
        },
        Sends {
            tool: "get_job_findings_columns",
            args: json!({"job_id": "j1", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "confirmed_status": "rejected"}),
            method: "GET",
            path: "/classification/v1/jobs/j1/findings/databases/SALES/schemas/PUBLIC/tables/CUSTOMERS/columns",
            query: &[("confirmed_status", "rejected")],
            body: None,
        },
        Sends {
            tool: "get_job_findings_classifiers",
            args: json!({"job_id": "j1", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "column": "EMAIL", "page_token": "t"}),
            method: "GET",
            path: "/classification/v1/jobs/j1/findings/databases/SALES/schemas/PUBLIC/tables/CUSTOMERS/columns/EMAIL/classifiers",
            query: &[("page_token", "t")],
            body: None,
        },
        Sends {
            tool: "get_job_findings_lineage",
            args: json!({"job_id": "j1", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "column": "EMAIL", "classifier_name": "EMAIL"}),
            method: "GET",
            path: "/classification/v1/jobs/j1/findings/databases/SALES/schemas/PUBLIC/tables/CUSTOMERS/columns/EMAIL/classifiers/EMAIL/lineage",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_job_findings_leaves",
            args: json!({"job_id": "j1", "limit": 1000, "confidence": ["high", "LOW"]}),
            method: "GET",
            path: "/classification/v1/jobs/j1/findings/leaves",
            query: &[("limit", "1000"), ("confidence", "HIGH"), ("confidence", "LOW")],
            body: None,
        },
        Sends {
            tool: "record_job_decision",
            args: json!({"job_id": "j1", "confirmed_status": "approved", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "column": "EMAIL", "classifier_name": "EMAIL"}),
            method: "POST",
            path: "/classification/v1/jobs/j1/decisions",
            query: &[],
            body: Some(json!({"confirmed_status": "approved", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "column": "EMAIL", "classifier_name": "EMAIL"})),
        },
        Sends {
            tool: "get_job_decisions",
            args: json!({"job_id": "j1", "database": "SALES", "limit": 3, "page_token": "x"}),
            method: "GET",
            path: "/classification/v1/jobs/j1/decisions",
            query: &[("database", "SALES"), ("limit", "3"), ("page_token", "x")],
            body: None,
        },
        Sends {
            tool: "revoke_job_decisions",
            args: json!({"job_id": "j1", "database": "SALES", "classifier_name": "EMAIL"}),
            method: "DELETE",
            path: "/classification/v1/jobs/j1/decisions",
            query: &[("database", "SALES"), ("classifier_name", "EMAIL")],
            body: None,
        },
        Sends {
            tool: "record_bulk_job_decision",
            args: json!({"job_id": "j1", "confirmed_status": "approved", "classifier_names": ["EMAIL"], "confidence": ["HIGH"], "database": "SALES"}),
            method: "POST",
            path: "/classification/v1/jobs/j1/decisions/bulk",
            query: &[],
            body: Some(json!({"confirmed_status": "approved", "predicate": {"classifier_names": ["EMAIL"], "confidence": ["HIGH"], "database": "SALES"}, "dry_run": false})),
        },
        Sends {
            tool: "revoke_bulk_job_decision",
            args: json!({"job_id": "j1", "bulk_decision_id": "b1"}),
            method: "DELETE",
            path: "/classification/v1/jobs/j1/decisions/bulk/b1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_job_review_status",
            args: json!({"job_id": "j1"}),
            method: "GET",
            path: "/classification/v1/jobs/j1/review-status",
            query: &[],
            body: None,
        },
        Sends {
            tool: "confirm_job_report",
            args: json!({"job_id": "j1"}),
            method: "POST",
            path: "/classification/v1/jobs/j1/report/confirm",
            query: &[],
            body: None,
        },
        Sends {
            tool: "cancel_job_report",
            args: json!({"job_id": "j1"}),
            method: "POST",
            path: "/classification/v1/jobs/j1/report/cancel",
            query: &[],
            body: None,
        },
    ]
}

#[tokio::test]
async fn get_classifiers_follows_contiguous_id() {
    let h = Harness::start().await;
    let at = format!("{CLS}/classifiers");
    serve_pages(
        &h,
        "GET",
        &at,
        vec![
            (
                vec![],
                200,
                json!({"classifiers": [{"name": "A"}], "contiguous_id": "c2"}),
            ),
            (
                vec![("contiguous_id", "c2")],
                200,
                json!({"classifiers": [{"name": "B"}], "contiguous_id": null}),
            ),
        ],
    )
    .await;
    let c = h.call("get_classifiers", none()).await;
    assert_eq!(
        c.ok(),
        &json!({"classifiers": [{"name": "A"}, {"name": "B"}], "count": 2})
    );
    let r = h.requests().await;
    assert_eq!(r.len(), 2);
    assert_request(&r[1], "GET", &at, &[("contiguous_id", "c2")], None);
}

#[tokio::test]
async fn get_collections_reports_a_failed_page_instead_of_a_partial_list() {
    let h = Harness::start().await;
    let at = format!("{CLS}/collections");
    serve_pages(
        &h,
        "GET",
        &at,
        vec![
            (
                vec![],
                200,
                json!({"collections": [{"name": "PII"}], "contiguous_id": "c2"}),
            ),
            (
                vec![("contiguous_id", "c2")],
                401,
                json!({"message": "expired"}),
            ),
        ],
    )
    .await;
    let c = h.call("get_collections", none()).await;
    c.upstream(401);
    assert_eq!(h.requests().await.len(), 2);
}

#[tokio::test]
async fn get_jobs_without_a_page_fetches_every_page() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        JOBS,
        vec![
            (
                vec![("status", "RUNNING")],
                200,
                json!({"jobs": [{"id": "j1"}], "contiguous_id": "n1"}),
            ),
            (
                vec![("status", "RUNNING"), ("contiguous_id", "n1")],
                200,
                json!({"jobs": [{"id": "j2"}]}),
            ),
        ],
    )
    .await;
    let c = h.call("get_jobs", json!({"status": "running"})).await;
    assert_eq!(
        c.ok(),
        &json!({"jobs": [{"id": "j1"}, {"id": "j2"}], "count": 2})
    );
}

#[tokio::test]
async fn get_jobs_with_a_limit_returns_just_that_page() {
    let h = Harness::start().await;
    let page = json!({"jobs": [{"id": "j1"}], "contiguous_id": "n1"});
    serve_pages(
        &h,
        "GET",
        JOBS,
        vec![(vec![("limit", "1")], 200, page.clone())],
    )
    .await;
    let c = h.call("get_jobs", json!({"limit": 1})).await;
    assert_eq!(c.ok(), &page);
    assert_eq!(h.requests().await.len(), 1);
}

#[tokio::test]
async fn get_jobs_never_returns_a_partial_list_after_a_page_error() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        JOBS,
        vec![
            (
                vec![],
                200,
                json!({"jobs": [{"id": "j1"}], "contiguous_id": "n1"}),
            ),
            (vec![("contiguous_id", "n1")], 403, json!({"message": "no"})),
        ],
    )
    .await;
    let c = h.call("get_jobs", none()).await;
    c.upstream(403);
}

#[tokio::test]
async fn update_classifier_with_nothing_to_change_is_refused() {
    let h = Harness::start().await;
    let c = h
        .call("update_classifier", json!({"classifier_name": "EMAIL"}))
        .await;
    assert_eq!(c.error()["code"], "invalid_argument");
    assert!(c.error()["parameter"]
        .as_str()
        .unwrap()
        .contains("description"));
    h.assert_no_requests().await;
}

#[tokio::test]
async fn enumerations_and_lists_are_checked_before_sending() {
    let h = Harness::start().await;
    let cases = [
        ("get_jobs", json!({"status": SECRET}), "status"),
        ("get_jobs", json!({"job_type": SECRET}), "job_type"),
        (
            "get_jobs",
            json!({"classification_type": 7}),
            "classification_type",
        ),
        ("get_jobs", json!({"order": SECRET}), "order"),
        ("get_jobs", json!({"limit": 1001}), "limit"),
        (
            "get_job_findings_leaves",
            json!({"job_id": "j1", "limit": 1001}),
            "limit",
        ),
        (
            "get_job_findings_leaves",
            json!({"job_id": "j1", "confidence": []}),
            "confidence",
        ),
        (
            "get_job_findings_leaves",
            json!({"job_id": "j1", "confidence": ["HIGH", SECRET]}),
            "confidence[1]",
        ),
        (
            "record_job_decision",
            json!({"job_id": "j1", "confirmed_status": SECRET}),
            "confirmed_status",
        ),
        (
            "update_job_status",
            json!({"job_id": "j1", "status": "COMPLETED"}),
            "status",
        ),
        (
            "record_bulk_job_decision",
            json!({"job_id": "j1", "confirmed_status": "approved", "classifier_names": []}),
            "classifier_names",
        ),
        (
            "record_bulk_job_decision",
            json!({"job_id": "j1", "confirmed_status": "approved", "classifier_names": [""]}),
            "classifier_names",
        ),
        (
            "record_bulk_job_decision",
            json!({"job_id": "j1", "confirmed_status": "approved", "classifier_names": ["EMAIL"], "confidence": [SECRET]}),
            "confidence[0]",
        ),
        (
            "add_classifiers_to_collection",
            json!({"collection_name": "PII", "classifier_names": []}),
            "classifier_names",
        ),
        (
            "create_gdlp_job",
            json!({"database_id": 3, "sample_type": SECRET}),
            "sample_type",
        ),
        (
            "create_job",
            json!({"job_type": "PARTIAL", "database_id": 3, "collection_name": "PII"}),
            "job_type",
        ),
    ];
    for (tool, args, parameter) in cases {
        assert_refused(&h, tool, args, parameter).await;
    }
}

#[tokio::test]
async fn decision_scopes_need_their_broader_levels() {
    let h = Harness::start().await;
    assert_refused(
        &h,
        "record_job_decision",
        json!({"job_id": "j1", "confirmed_status": "approved", "database": "SALES", "table": "T"}),
        "schema",
    )
    .await;
    assert_refused(
        &h,
        "record_bulk_job_decision",
        json!({"job_id": "j1", "confirmed_status": "rejected", "classifier_names": "SSN", "schema": "PUBLIC"}),
        "database",
    )
    .await;
}

#[tokio::test]
async fn oltp_sample_rules_are_enforced_before_sending() {
    let h = Harness::start().await;
    let base = json!({"agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc", "collection_name": "PII"});
    let with = |extra: Value| {
        let mut a = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    let cases = [
        (json!({"sample_type": "PERCENT"}), "sample_size"),
        (
            json!({"sample_type": "PERCENT", "sample_size": 101}),
            "sample_size",
        ),
        (json!({"sample_size": 0}), "sample_size"),
        (
            json!({"sample_strategy": "METADATA", "sample_size": 10}),
            "sample_size",
        ),
        (
            json!({"sample_strategy": "METADATA", "sample_type": "ROWS"}),
            "sample_type",
        ),
        (json!({"sample_strategy": "  "}), "sample_strategy"),
        (json!({"classification_type": 0}), "classification_type"),
    ];
    for (extra, parameter) in cases {
        assert_refused(&h, "create_oltp_job", with(extra), parameter).await;
    }
}

/// The fake answering the report POST with a presigned link on itself.
async fn mock_report_link(h: &Harness, url: Value) {
    h.mock(
        "POST",
        "/classification/v1/jobs/j1/report",
        200,
        json!({"url": url, "expiration": "2026-11-22T07:00:00Z"}),
    )
    .await;
}

#[tokio::test]
async fn get_classification_report_downloads_without_credentials() {
    let h = Harness::start().await;
    mock_report_link(
        &h,
        json!(format!(
            "{}/bucket/report.json?X-Amz-Signature=abc",
            h.api.uri()
        )),
    )
    .await;
    let report = json!({"job_id": "j1", "findings": [{"column": "EMAIL"}]});
    h.mock("GET", "/bucket/report.json", 200, report.clone())
        .await;
    let c = h
        .call("get_classification_report", json!({"job_id": "j1"}))
        .await;
    assert_eq!(c.ok(), &report);
    let r = h.requests().await;
    assert_eq!(r.len(), 2);
    assert_request(
        &r[0],
        "POST",
        "/classification/v1/jobs/j1/report",
        &[],
        Some(json!({})),
    );
    assert_eq!(r[1].method.as_str(), "GET");
    assert_eq!(r[1].url.path(), "/bucket/report.json");
    assert_eq!(r[1].url.query(), Some("X-Amz-Signature=abc"));
    assert!(
        r[1].headers.get("authorization").is_none(),
        "credentials sent to the presigned host"
    );
}

#[tokio::test]
async fn get_classification_report_names_the_failed_step() {
    // Step 1 fails.
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/classification/v1/jobs/j1/report",
        404,
        json!({"message": "no such job"}),
    )
    .await;
    let c = h
        .call("get_classification_report", json!({"job_id": "j1"}))
        .await;
    assert_eq!(c.error()["code"], "report_create_failed");
    assert!(c.error()["message"].as_str().unwrap().contains("step 1"));
    assert_eq!(h.requests().await.len(), 1);

    // No link in the answer.
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/classification/v1/jobs/j1/report",
        200,
        json!({"status": "PENDING"}),
    )
    .await;
    let c = h
        .call("get_classification_report", json!({"job_id": "j1"}))
        .await;
    assert_eq!(c.error()["code"], "report_create_failed");

    // A link that is not http(s) is not fetched.
    let h = Harness::start().await;
    mock_report_link(&h, json!("file:///etc/passwd")).await;
    let c = h
        .call("get_classification_report", json!({"job_id": "j1"}))
        .await;
    assert_eq!(c.error()["code"], "report_create_failed");
    assert!(!c.text.contains("/etc/passwd"));
    assert_eq!(h.requests().await.len(), 1);

    // Download fails, redirects, or is not JSON.
    for (response, what) in [
        (
            ResponseTemplate::new(403).set_body_string("<Error>AccessDenied</Error>"),
            "HTTP 403",
        ),
        (
            ResponseTemplate::new(302).insert_header("location", "http://169.254.169.254/"),
            "HTTP 302",
        ),
        (
            ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
            "not JSON",
        ),
        (ResponseTemplate::new(200), "empty"),
    ] {
        let h = Harness::start().await;
        mock_report_link(
            &h,
            json!(format!("{}/bucket/r.json?sig=SIGNATURE", h.api.uri())),
        )
        .await;
        Mock::given(method("GET"))
            .and(path("/bucket/r.json"))
            .respond_with(response)
            .mount(&h.api)
            .await;
        let c = h
            .call("get_classification_report", json!({"job_id": "j1"}))
            .await;
        let e = c.error();
        assert_eq!(
            e["code"], "report_download_failed",
            "{what}: {}",
            c.envelope
        );
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains("step 2") && message.contains(what),
            "{what}: {message}"
        );
        assert!(
            !c.text.contains("SIGNATURE"),
            "the link's signature leaked: {}",
            c.text
        );
        assert_eq!(
            h.requests().await.len(),
            2,
            "{what}: a redirect was followed"
        );
    }
}

#[tokio::test]
async fn findings_path_parts_are_encoded() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        &format!("{FINDINGS}/classifiers/US%20SSN/lineage"),
        200,
        json!({"lineage": []}),
    )
    .await;
    let c = h
        .call(
            "get_job_findings_lineage",
            json!({"job_id": "j1", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "column": "EMAIL", "classifier_name": "US SSN"}),
        )
        .await;
    assert_eq!(c.ok(), &json!({"lineage": []}));
}

mod workflow {
    use crate::sandbox_common::*;
    use serde_json::{json, Value};

    fn list<'a>(v: &'a Value, key: &str, field: &str) -> Vec<&'a str> {
        v[key]
            .as_array()
            .map(|a| a.iter().filter_map(|i| i[field].as_str()).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn classification_workflow() {
        let s = Sbx::start().await;

        // The demo org: custom classifiers, a collection and a completed job with findings.
        let c = s.call("get_classifiers", json!({})).await;
        assert_eq!(
            list(c.ok(), "classifiers", "classifier_name"),
            ["EMAIL", "US_SSN", "PHONE_NUMBER"]
        );
        let jobs = s.call("get_jobs", json!({"status": "COMPLETED"})).await;
        assert_eq!(jobs.ok()["count"], 1);
        let seeded = jobs.ok()["jobs"][0]["id"].as_str().unwrap().to_string();
        let leaves = s
            .call("get_job_findings_leaves", json!({"job_id": seeded}))
            .await;
        assert!(list(leaves.ok(), "leaves", "column").contains(&"SSN"));

        // Import ALTR's managed classifiers.
        let before = s.call("get_altr_managed_timestamp", json!({})).await;
        assert_eq!(before.ok()["imported"], false);
        let imported = s.call("import_altr_managed_classifiers", json!({})).await;
        assert_eq!(imported.ok()["imported"], 6);
        let after = s.call("get_altr_managed_timestamp", json!({})).await;
        assert_eq!(after.ok()["imported"], true);
        let page = s
            .call("list_altr_managed_classifiers", json!({"limit": 4}))
            .await;
        assert_eq!(list(page.ok(), "classifiers", "classifier_name").len(), 4);
        let next = page.ok()["contiguous_id"].as_str().unwrap().to_string();
        let rest = s
            .call(
                "list_altr_managed_classifiers",
                json!({"limit": 4, "contiguous_id": next}),
            )
            .await;
        assert_eq!(
            list(rest.ok(), "classifiers", "classifier_name"),
            ["ALTR_PERSON_NAME", "ALTR_DATE_OF_BIRTH"]
        );

        s.call(
            "delete_classifier",
            json!({"classifier_name": "ALTR_EMAIL"}),
        )
        .await
        .upstream(409);
        let updated = s
            .call(
                "update_classifier",
                json!({"classifier_name": "PHONE_NUMBER", "description": "Phone and mobile numbers"}),
            )
            .await;
        assert_eq!(updated.ok()["description"], "Phone and mobile numbers");

        // A collection with classifiers.
        s.call(
            "create_collection",
            json!({"collection_name": "Contact data", "description": "How to reach people"}),
        )
        .await
        .ok();
        s.call(
            "create_collection",
            json!({"collection_name": "Contact data"}),
        )
        .await
        .upstream(409);
        let added = s
            .call(
                "add_classifiers_to_collection",
                json!({"collection_name": "Contact data", "classifier_names": ["EMAIL", "PHONE_NUMBER", "ALTR_US_SSN"]}),
            )
            .await;
        assert_eq!(added.ok()["classifier_count"], 3);
        s.call(
            "add_classifiers_to_collection",
            json!({"collection_name": "Contact data", "classifier_names": "NOPE"}),
        )
        .await
        .upstream(404);
        s.call(
            "remove_classifiers_from_collection",
            json!({"collection_name": "Contact data", "classifier_names": "ALTR_US_SSN"}),
        )
        .await
        .ok();
        let members = s
            .call(
                "get_collection_classifiers",
                json!({"collection_name": "Contact data"}),
            )
            .await;
        assert_eq!(
            list(members.ok(), "classifiers", "classifier_name"),
            ["EMAIL", "PHONE_NUMBER"]
        );

        // Start a review-gated job and watch it finish: it waits at AWAITING_REVIEW.
        let job = s
            .call("create_job", json!({"job_type": "FULL", "database_id": 1, "collection_name": "Contact data", "requires_review": true}))
            .await;
        assert_eq!(job.ok()["status"], "RUNNING");
        let id = job.ok()["id"].as_str().unwrap().to_string();
        let active = s.call("get_active_jobs", json!({})).await;
        assert!(list(active.ok(), "jobs", "id").contains(&id.as_str()));
        assert_eq!(list(active.ok(), "jobs", "status"), ["PAUSED", "RUNNING"]);
        let mut status = String::new();
        for _ in 0..5 {
            let j = s.call("get_job", json!({"job_id": id})).await;
            status = j.ok()["status"].as_str().unwrap().to_string();
            if status != "RUNNING" {
                break;
            }
        }
        assert_eq!(status, "AWAITING_REVIEW");
        s.call(
            "update_job_status",
            json!({"job_id": id, "status": "PAUSED"}),
        )
        .await
        .upstream(409);
        let summary = s.call("get_job_summary", json!({"job_id": id})).await;
        assert_eq!(summary.ok()["total_findings"], 5);

        // Browse the findings down to one column and its lineage.
        let dbs = s.call("get_job_findings", json!({"job_id": id})).await;
        assert_eq!(list(dbs.ok(), "databases", "database"), ["SALES_DB"]);
        let schemas = s
            .call(
                "get_job_findings_schemas",
                json!({"job_id": id, "database": "SALES_DB"}),
            )
            .await;
        assert_eq!(
            list(schemas.ok(), "schemas", "schema"),
            ["PUBLIC", "MARKETING"]
        );
        let tables = s
            .call(
                "get_job_findings_tables",
                json!({"job_id": id, "database": "SALES_DB", "schema": "PUBLIC", "limit": 1}),
            )
            .await;
        assert_eq!(list(tables.ok(), "tables", "table"), ["CUSTOMERS"]);
        let token = tables.ok()["next_page_token"].as_str().unwrap().to_string();
        let more = s
            .call("get_job_findings_tables", json!({"job_id": id, "database": "SALES_DB", "schema": "PUBLIC", "page_token": token}))
            .await;
        assert_eq!(list(more.ok(), "tables", "table"), ["ORDERS"]);
        let at =
            json!({"job_id": id, "database": "SALES_DB", "schema": "PUBLIC", "table": "CUSTOMERS"});
        let cols = s.call("get_job_findings_columns", at.clone()).await;
        assert_eq!(
            list(cols.ok(), "columns", "column"),
            ["EMAIL", "PHONE_NUMBER"]
        );
        let mut col = at.clone();
        col["column"] = json!("EMAIL");
        let cls = s.call("get_job_findings_classifiers", col.clone()).await;
        assert_eq!(list(cls.ok(), "classifiers", "confidence"), ["HIGH"]);
        let mut lin = col.clone();
        lin["classifier_name"] = json!("EMAIL");
        let lineage = s.call("get_job_findings_lineage", lin).await;
        assert_eq!(lineage.ok()["lineage"][0]["matched"], "email");
        let mut missing = at.clone();
        missing["table"] = json!("NO_SUCH_TABLE");
        s.call("get_job_findings_columns", missing)
            .await
            .upstream(404);

        // Approve one finding, then bulk-approve with a dry run first.
        let mut decision = col.clone();
        decision["confirmed_status"] = json!("approved");
        decision["classifier_name"] = json!("EMAIL");
        let d = s.call("record_job_decision", decision).await;
        assert_eq!(d.ok()["findings_changed"], 1);
        let approved = s
            .call(
                "get_job_findings_leaves",
                json!({"job_id": id, "confidence": ["HIGH"]}),
            )
            .await;
        assert_eq!(
            list(approved.ok(), "leaves", "confirmed_status"),
            ["approved"]
        );
        let decisions = s
            .call(
                "get_job_decisions",
                json!({"job_id": id, "database": "SALES_DB"}),
            )
            .await;
        assert_eq!(decisions.ok()["decisions"].as_array().unwrap().len(), 1);

        let bulk = json!({"job_id": id, "confirmed_status": "approved", "classifier_names": ["EMAIL", "PHONE_NUMBER"],
                          "confidence": ["HIGH", "MEDIUM"], "dry_run": true});
        let dry = s.call("record_bulk_job_decision", bulk.clone()).await;
        assert_eq!(dry.ok()["findings_would_change"], 4);
        let review = s.call("get_job_review_status", json!({"job_id": id})).await;
        assert_eq!(review.ok()["pending"], 4, "a dry run changed something");
        s.call("confirm_job_report", json!({"job_id": id}))
            .await
            .upstream(409);
        let mut real = bulk.clone();
        real["dry_run"] = json!(false);
        let done = s.call("record_bulk_job_decision", real.clone()).await;
        assert_eq!(done.ok()["findings_changed"], 4);
        let bulk_id = done.ok()["bulk_decision_id"].as_str().unwrap().to_string();
        let review = s.call("get_job_review_status", json!({"job_id": id})).await;
        assert_eq!(
            (
                review.ok()["approved"].clone(),
                review.ok()["pending"].clone()
            ),
            (json!(5), json!(0))
        );

        // Undo the bulk decision: only the single approval is left; then decide again.
        s.call(
            "revoke_bulk_job_decision",
            json!({"job_id": id, "bulk_decision_id": bulk_id}),
        )
        .await
        .ok();
        let review = s.call("get_job_review_status", json!({"job_id": id})).await;
        assert_eq!(review.ok()["approved"], 1);
        s.call("record_bulk_job_decision", real).await.ok();

        // Confirm and download the report; the download carries no ALTR credentials.
        let early = s
            .call("get_classification_report", json!({"job_id": id}))
            .await;
        assert_eq!(early.error()["code"], "report_create_failed");
        let confirmed = s.call("confirm_job_report", json!({"job_id": id})).await;
        assert_eq!(confirmed.ok()["report_status"], "CONFIRMED");
        assert_eq!(confirmed.ok()["status"], "COMPLETED");
        let report = s
            .call("get_classification_report", json!({"job_id": id}))
            .await;
        let r = report.ok();
        assert_eq!(r["job_id"], id.as_str());
        assert_eq!(
            r["summary"],
            json!({"approved": 5, "rejected": 0, "pending": 0})
        );
        assert_eq!(r["findings"].as_array().unwrap().len(), 5);
        assert!(s.requests().iter().any(|q| q.method == "GET"
            && q.path.starts_with("/presigned/classification-reports/")
            && q.status == Some(200)));
        // A confirmed report cannot be cancelled, and its decisions are locked.
        s.call("cancel_job_report", json!({"job_id": id}))
            .await
            .upstream(409);
        s.call("revoke_job_decisions", json!({"job_id": id}))
            .await
            .upstream(409);

        // Cancelling a gated job still in review discards its review.
        let other = s
            .call("create_job", json!({"job_type": "FULL", "database_id": 1, "collection_name": "Contact data", "requires_review": true}))
            .await;
        let other = other.ok()["id"].as_str().unwrap().to_string();
        for _ in 0..2 {
            s.call("get_job", json!({"job_id": other})).await.ok();
        }
        s.call(
            "record_job_decision",
            json!({"job_id": other, "confirmed_status": "rejected"}),
        )
        .await
        .ok();
        let cancelled = s.call("cancel_job_report", json!({"job_id": other})).await;
        assert_eq!(cancelled.ok()["status"], "CANCELLED");
        let review = s
            .call("get_job_review_status", json!({"job_id": other}))
            .await;
        assert_eq!(
            (
                review.ok()["rejected"].clone(),
                review.ok()["pending"].clone()
            ),
            (json!(0), json!(5))
        );
    }

    #[tokio::test]
    async fn jobs_complete_on_demand_and_pause_resume_cancel() {
        let s = Sbx::start().await;
        let start = json!({"job_type": "INCREMENTAL", "database_id": 2, "collection_name": "PII"});
        let job = s.call("create_job", start.clone()).await;
        let id = job.ok()["id"].as_str().unwrap().to_string();
        let paused = s
            .call(
                "update_job_status",
                json!({"job_id": id, "status": "PAUSED"}),
            )
            .await;
        assert_eq!(paused.ok()["status"], "PAUSED");
        for _ in 0..3 {
            let j = s.call("get_job", json!({"job_id": id})).await;
            assert_eq!(j.ok()["status"], "PAUSED", "a paused job advanced");
        }
        s.call(
            "update_job_status",
            json!({"job_id": id, "status": "RUNNING"}),
        )
        .await
        .ok();
        let url = format!(
            "{}/_sandbox/classification/jobs/{id}/complete",
            s.sandbox.url()
        );
        let done = reqwest::Client::new().post(url).send().await.unwrap();
        assert_eq!(done.status().as_u16(), 200);
        let leaves = s
            .call("get_job_findings_leaves", json!({"job_id": id}))
            .await;
        let columns = list(leaves.ok(), "leaves", "column");
        assert!(
            columns.contains(&"SSN") && columns.contains(&"HOME_PHONE"),
            "{columns:?}"
        );

        let other = s.call("create_job", start).await;
        let other = other.ok()["id"].as_str().unwrap().to_string();
        let c = s
            .call(
                "update_job_status",
                json!({"job_id": other, "status": "CANCELLED"}),
            )
            .await;
        assert_eq!(c.ok()["status"], "CANCELLED");
        s.call(
            "update_job_status",
            json!({"job_id": other, "status": "RUNNING"}),
        )
        .await
        .upstream(409);
        let wrong_platform = json!({"database_id": 1});
        s.call("create_databricks_job", wrong_platform)
            .await
            .upstream(400);
        s.call(
            "create_job",
            json!({"job_type": "FULL", "database_id": 99, "collection_name": "PII"}),
        )
        .await
        .upstream(404);
    }

    #[tokio::test]
    async fn presigned_links_need_their_signature_and_nothing_else() {
        let s = Sbx::start().await;
        let jobs = s
            .call("get_jobs", json!({"limit": 1, "status": "COMPLETED"}))
            .await;
        let id = jobs.ok()["jobs"][0]["id"].as_str().unwrap().to_string();
        let (status, link) = s
            .raw(
                "POST",
                &format!("/classification/v1/jobs/{id}/report"),
                Some("{}"),
            )
            .await;
        assert_eq!(status, 200);
        let url = link["data"]["url"].as_str().unwrap().to_string();
        let http = reqwest::Client::new();
        let good = http.get(&url).send().await.unwrap();
        assert_eq!(good.status().as_u16(), 200);
        let unsigned = url.split('?').next().unwrap().to_string();
        assert_eq!(
            http.get(&unsigned).send().await.unwrap().status().as_u16(),
            403
        );
        // Nothing else under the service prefixes skips authentication.
        let other = format!("{}/classification/v1/jobs", s.sandbox.url());
        assert_eq!(
            http.get(&other).send().await.unwrap().status().as_u16(),
            401
        );
    }
}

/// Every request of the table reaches a simulated endpoint (an answer from the domain, even if
/// it is a 404 for an unknown id, never the sandbox's "No such endpoint" or a 405).
#[tokio::test]
async fn the_sandbox_simulates_every_endpoint_the_tools_call() {
    let s = crate::sandbox_common::Sbx::start().await;
    for row in table() {
        s.call(row.tool, row.args.clone()).await;
    }
    let rows = table().len();
    assert_eq!(s.requests().len(), rows, "each row sends one request");
    for r in s.requests() {
        let status = r.status.unwrap_or(0);
        assert!(status != 405, "{} {} is not allowed", r.method, r.path);
        if status == 404 {
            let (_, body) = s.raw(&r.method, &r.path, Some("{}")).await;
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                !message.contains("No such endpoint"),
                "{} {}: {message}",
                r.method,
                r.path
            );
        }
    }
}
