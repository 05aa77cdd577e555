//! Tags tools through MCP against the fake ALTR API.

use crate::common::matchers::{method, path};
use crate::common::*;
use serde_json::{json, Value};
use wiremock::{Mock, Request, ResponseTemplate};

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "get_tag_details_by_group_id",
            args: json!({"tag_group_id": "tg-1"}),
            method: "GET",
            path: "/api/v1/tag/masking/tag/tg-1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_tag_details",
            args: json!({"database_id": 12, "database_name": "SALES DB", "tag_name": "PII", "schema_name": "PUBLIC"}),
            method: "GET",
            path: "/api/v1/tag/masking/database/12/database-name/SALES%20DB/tag-name/PII/schema-name/PUBLIC",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_tag_details",
            args: json!({
                "database_id": 12, "database_name": "SALES", "tag_name": "PII", "schema_name": "PUBLIC",
                "protection_type": "Governed-Pushdown",
            }),
            method: "GET",
            path: "/api/v1/tag/masking/database/12/database-name/SALES/tag-name/PII/schema-name/PUBLIC",
            query: &[("protection-type", "governed-pushdown")],
            body: None,
        },
        Sends {
            tool: "update_tag",
            args: json!({"tag_group_id": "tg-1", "database_id": 12, "friendly_name": "PII"}),
            method: "PUT",
            path: "/api/v1/tag/masking/tag/tg-1",
            query: &[],
            body: Some(json!({
                "database_id": 12, "friendly_name": "PII",
                "masking": {"protection_type": "governed", "custom_role_provider": {"enabled": false}},
            })),
        },
        Sends {
            tool: "update_tag",
            args: json!({
                "tag_group_id": "tg-1", "database_id": 12, "friendly_name": "PII",
                "protection_type": "tokenized-vault", "custom_role_provider_enabled": true,
                "mask_data_type_list": "VARCHAR",
            }),
            method: "PUT",
            path: "/api/v1/tag/masking/tag/tg-1",
            query: &[],
            body: Some(json!({
                "database_id": 12, "friendly_name": "PII",
                "masking": {
                    "protection_type": "tokenized-vault",
                    "custom_role_provider": {"enabled": true},
                    "mask_data_type_list": ["VARCHAR"],
                },
            })),
        },
        Sends {
            tool: "update_tag",
            args: json!({
                "tag_group_id": "tg-1", "database_id": 12, "friendly_name": "PII",
                "protection_type": "encryption-fpe", "mask_data_type_list": ["VARCHAR", "NUMBER"],
                "encryption_fpe_options": {"alphabet": "numeric", "is_padded": true, "key_name": "k1", "tweak_name": "t1"},
            }),
            method: "PUT",
            path: "/api/v1/tag/masking/tag/tg-1",
            query: &[],
            body: Some(json!({
                "database_id": 12, "friendly_name": "PII",
                "masking": {
                    "protection_type": "encryption-fpe",
                    "custom_role_provider": {"enabled": false},
                    "mask_data_type_list": ["VARCHAR", "NUMBER"],
                    "encryption_fpe_options": {"alphabet": "numeric", "is_padded": true, "key_name": "k1", "tweak_name": "t1"},
                },
            })),
        },
        Sends {
            tool: "disconnect_tag_by_details",
            args: json!({"database_id": 12, "database_name": "SALES", "schema_name": "PUBLIC", "tag_name": "PII"}),
            method: "DELETE",
            path: "/api/v1/tag/masking/",
            query: &[("ignore_errors", "false")],
            body: Some(json!({"database_id": 12, "database_name": "SALES", "schema_name": "PUBLIC", "tag_name": "PII"})),
        },
        Sends {
            tool: "disconnect_tag_by_details",
            args: json!({
                "database_id": 12, "database_name": "SALES", "schema_name": "PUBLIC", "tag_name": "PII",
                "ignore_errors": true,
            }),
            method: "DELETE",
            path: "/api/v1/tag/masking/",
            query: &[("ignore_errors", "true")],
            body: Some(json!({"database_id": 12, "database_name": "SALES", "schema_name": "PUBLIC", "tag_name": "PII"})),
        },
        Sends {
            tool: "get_tag_details_by_group_id",
            args: json!({"tag_group_id": "../admin"}),
            method: "GET",
            path: "/api/v1/tag/masking/tag/..%2Fadmin",
            query: &[],
            body: None,
        },
        Sends {
            tool: "update_tag",
            args: json!({"tag_group_id": "x%2F..", "database_id": 1, "friendly_name": "F"}),
            method: "PUT",
            path: "/api/v1/tag/masking/tag/x%252F..",
            query: &[],
            body: Some(json!({
                "database_id": 1, "friendly_name": "F",
                "masking": {"protection_type": "governed", "custom_role_provider": {"enabled": false}},
            })),
        },
        Sends {
            tool: "get_tag_details",
            args: json!({"database_id": 1, "database_name": "a/b", "tag_name": "t?x", "schema_name": "s#1"}),
            method: "GET",
            path: "/api/v1/tag/masking/database/1/database-name/a%2Fb/tag-name/t%3Fx/schema-name/s%231",
            query: &[],
            body: None,
        },
    ]
}

#[tokio::test]
async fn get_tags_single_page() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        "/api/v1/tag/masking",
        200,
        json!({"items": [{"tag_group_id": "a"}, {"tag_group_id": "b"}], "has_more": false}),
    )
    .await;
    let c = h.call("get_tags", none()).await;
    assert_eq!(
        c.ok(),
        &json!({"items": [{"tag_group_id": "a"}, {"tag_group_id": "b"}], "count": 2})
    );
    assert_request(
        &h.only_request().await,
        "GET",
        "/api/v1/tag/masking",
        &[],
        None,
    );
}

#[tokio::test]
async fn get_tags_follows_has_more_with_the_offset_so_far() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        "/api/v1/tag/masking",
        vec![
            (
                vec![],
                200,
                json!({"items": [{"n": 1}, {"n": 2}], "has_more": true}),
            ),
            (
                vec![("offset", "2")],
                200,
                json!({"items": [{"n": 3}, {"n": 4}], "has_more": true}),
            ),
            (
                vec![("offset", "4")],
                200,
                json!({"data": {"items": [{"n": 5}], "has_more": false}}),
            ),
        ],
    )
    .await;
    let c = h.call("get_tags", none()).await;
    assert_eq!(
        c.ok(),
        &json!({"items": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}, {"n": 5}], "count": 5})
    );
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    assert_request(&r[0], "GET", "/api/v1/tag/masking", &[], None);
    assert_request(
        &r[1],
        "GET",
        "/api/v1/tag/masking",
        &[("offset", "2")],
        None,
    );
    assert_request(
        &r[2],
        "GET",
        "/api/v1/tag/masking",
        &[("offset", "4")],
        None,
    );
}

#[tokio::test]
async fn get_tags_stops_at_the_page_cap_when_has_more_never_ends() {
    let h = Harness::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/tag/masking"))
        .respond_with(|r: &Request| {
            let offset = query_of(r)
                .into_iter()
                .find(|(k, _)| k == "offset")
                .map(|(_, v)| v)
                .unwrap_or_else(|| "0".into());
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [{"at": offset}], "has_more": true}))
        })
        .mount(&h.api)
        .await;
    let c = h.call("get_tags", none()).await;
    let data = c.ok();
    assert_eq!(data["count"], 100);
    assert_eq!(data["truncated"], true);
    assert_eq!(data["items"][0], json!({"at": "0"}));
    assert_eq!(data["items"][99], json!({"at": "99"}));
    let qs = queries(&h).await;
    assert_eq!(qs.len(), 100);
    assert_eq!(qs[0], q(&[]));
    assert_eq!(qs[1], q(&[("offset", "1")]));
    assert_eq!(qs[99], q(&[("offset", "99")]));
}

#[tokio::test]
async fn get_tags_stops_on_an_empty_page_even_if_has_more() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        "/api/v1/tag/masking",
        200,
        json!({"items": [], "has_more": true}),
    )
    .await;
    let c = h.call("get_tags", none()).await;
    assert_eq!(c.ok(), &json!({"items": [], "count": 0}));
    assert_eq!(h.requests().await.len(), 1);
}

#[tokio::test]
async fn get_tags_reports_an_error_on_page_two() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        "/api/v1/tag/masking",
        vec![
            (vec![], 200, json!({"items": [{"n": 1}], "has_more": true})),
            (vec![("offset", "1")], 403, json!({"message": "forbidden"})),
        ],
    )
    .await;
    let c = h.call("get_tags", none()).await;
    c.upstream(403);
    assert_eq!(h.requests().await.len(), 2);
}

#[tokio::test]
async fn get_tag_values_pages_by_offset_until_the_total() {
    let h = Harness::start().await;
    let at = "/api/v1/dis/tags/v2/tags/list";
    serve_pages(
        &h,
        "GET",
        at,
        vec![
            (
                vec![("filter", "PII")],
                200,
                json!({"tags": ["ssn", "email"], "totals": {"tagCount": 5}}),
            ),
            (
                vec![("filter", "PII"), ("offset", "2")],
                200,
                json!({"tags": ["phone", "dob"], "totals": {"tagCount": 5}}),
            ),
            (
                vec![("filter", "PII"), ("offset", "4")],
                200,
                json!({"data": {"tags": ["zip"], "totals": {"tagCount": 5}}}),
            ),
        ],
    )
    .await;
    let c = h.call("get_tag_values", json!({"tag_name": "PII"})).await;
    assert_eq!(
        c.ok(),
        &json!({"tags": ["ssn", "email", "phone", "dob", "zip"], "count": 5})
    );
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    assert_request(&r[0], "GET", at, &[("filter", "PII")], None);
    assert_request(
        &r[1],
        "GET",
        at,
        &[("filter", "PII"), ("offset", "2")],
        None,
    );
    assert_request(
        &r[2],
        "GET",
        at,
        &[("filter", "PII"), ("offset", "4")],
        None,
    );
}

#[tokio::test]
async fn get_tag_values_single_page_and_empty_answer() {
    let h = Harness::start().await;
    let at = "/api/v1/dis/tags/v2/tags/list";
    serve_pages(
        &h,
        "GET",
        at,
        vec![
            (
                vec![("filter", "PII")],
                200,
                json!({"tags": ["ssn"], "totals": {"tagCount": 1}}),
            ),
            // A total that is never reached with an empty page must not loop.
            (
                vec![("filter", "NONE")],
                200,
                json!({"tags": [], "totals": {"tagCount": 9}}),
            ),
        ],
    )
    .await;
    let c = h.call("get_tag_values", json!({"tag_name": "PII"})).await;
    assert_eq!(c.ok(), &json!({"tags": ["ssn"], "count": 1}));
    let c = h.call("get_tag_values", json!({"tag_name": "NONE"})).await;
    assert_eq!(c.ok(), &json!({"tags": [], "count": 0}));
    assert_eq!(
        queries(&h).await,
        vec![q(&[("filter", "PII")]), q(&[("filter", "NONE")])]
    );
}

#[tokio::test]
async fn get_tag_values_reports_an_error_on_page_two() {
    let h = Harness::start().await;
    let at = "/api/v1/dis/tags/v2/tags/list";
    serve_pages(
        &h,
        "GET",
        at,
        vec![
            (
                vec![("filter", "PII")],
                200,
                json!({"tags": ["ssn"], "totals": {"tagCount": 3}}),
            ),
            (
                vec![("filter", "PII"), ("offset", "1")],
                404,
                json!({"message": "gone"}),
            ),
        ],
    )
    .await;
    let c = h.call("get_tag_values", json!({"tag_name": "PII"})).await;
    c.upstream(404);
    assert_eq!(h.requests().await.len(), 2);
}

// ---- connect_tag ----

const LOOKUP: &str = "/altrnet/api/databases";
const CONNECT: &str = "/api/v1/tag/masking/";

async fn mock_database(h: &Harness, record: Value) {
    h.mock(
        "GET",
        LOOKUP,
        200,
        json!({"success": true, "data": {"databases": [record]}}),
    )
    .await;
}

fn connect_args() -> Value {
    json!({"database_name": "Sales", "schema_name": "PUBLIC", "tag_name": "PII"})
}

fn connect_body(database_name: &str) -> Value {
    json!({
        "database_id": 12,
        "database_name": database_name,
        "schema_name": "PUBLIC",
        "tag_name": "PII",
        "friendly_name": "PII",
        "masking": {"custom_role_provider": {"enabled": false}, "protection_type": "governed"},
    })
}

/// The lookup, the read of the tag's connection as it is, and the PUT, as sent.
async fn assert_connect_requests(h: &Harness, database_name: &str) {
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    assert_request(
        &r[0],
        "GET",
        LOOKUP,
        &[("friendlyDatabaseName", "Sales")],
        None,
    );
    assert_request(
        &r[1],
        "GET",
        &format!("/api/v1/tag/masking/database/12/database-name/{database_name}/tag-name/PII/schema-name/PUBLIC"),
        &[],
        None,
    );
    assert_request(
        &r[2],
        "PUT",
        CONNECT,
        &[],
        Some(connect_body(database_name)),
    );
}

#[tokio::test]
async fn connect_tag_success() {
    let h = Harness::start().await;
    mock_database(
        &h,
        json!({"id": 12, "friendlyDatabaseName": "Sales", "databaseName": "SALES_DB"}),
    )
    .await;
    h.mock(
        "PUT",
        CONNECT,
        200,
        json!({"success": true, "data": {"status": "success", "job_id": "j-1"}}),
    )
    .await;
    let c = h.call("connect_tag", connect_args()).await;
    assert_eq!(
        c.ok(),
        &json!({
            "status": "SUCCESS",
            "message": "Tag PII connected for database Sales, schema PUBLIC.",
            "job_id": "j-1",
            "before": null,
            "after": {"status": "success", "job_id": "j-1"},
        })
    );
    assert_connect_requests(&h, "SALES_DB").await;
}

#[tokio::test]
async fn connect_tag_pending() {
    let h = Harness::start().await;
    // No databaseName in the record: the given name is used.
    mock_database(&h, json!({"id": 12, "friendlyDatabaseName": "Sales"})).await;
    h.mock(
        "PUT",
        CONNECT,
        202,
        json!({"data": {"status": "PENDING", "job_id": "j-2"}}),
    )
    .await;
    let c = h.call("connect_tag", connect_args()).await;
    let data = c.ok();
    assert_eq!(data["status"], "PENDING");
    assert_eq!(data["job_id"], "j-2");
    assert_eq!(data["after"], json!({"status": "PENDING", "job_id": "j-2"}));
    assert_eq!(data["before"], Value::Null);
    assert!(data["message"].as_str().unwrap().contains("in progress"));
    assert_connect_requests(&h, "Sales").await;
}

#[tokio::test]
async fn connect_tag_shows_the_connection_before_and_goes_on_when_that_read_fails() {
    let location =
        "/api/v1/tag/masking/database/12/database-name/SALES_DB/tag-name/PII/schema-name/PUBLIC";
    let answer = json!({"success": true, "data": {"status": "success", "job_id": "j-9"}});
    let existing = json!({"tag_group_id": "tg-7", "tag_name": "PII", "status": "CONNECTED"});
    for (status, body, before, before_error) in [
        (200, existing.clone(), existing.clone(), false),
        (500, json!({"message": "boom"}), Value::Null, true),
    ] {
        let h = Harness::start().await;
        mock_database(
            &h,
            json!({"id": 12, "friendlyDatabaseName": "Sales", "databaseName": "SALES_DB"}),
        )
        .await;
        h.mock("GET", location, status, body).await;
        h.mock("PUT", CONNECT, 200, answer.clone()).await;
        let c = h.call("connect_tag", connect_args()).await;
        let data = c.ok();
        assert_eq!(data["before"], before, "{}", c.envelope);
        assert_eq!(data["after"], answer["data"]);
        assert_eq!(data.get("before_error").is_some(), before_error);
        let puts = h.requests().await;
        assert_eq!(puts.last().unwrap().method.as_str(), "PUT");
    }
}

#[tokio::test]
async fn connect_tag_failed_is_a_tool_error() {
    let h = Harness::start().await;
    mock_database(
        &h,
        json!({"id": 12, "friendlyDatabaseName": "Sales", "databaseName": "SALES_DB"}),
    )
    .await;
    let details =
        json!({"status": "FAILED", "job_id": "j-3", "error_message": "tag does not exist"});
    h.mock(
        "PUT",
        CONNECT,
        200,
        json!({"success": true, "data": details.clone()}),
    )
    .await;
    let c = h.call("connect_tag", connect_args()).await;
    assert!(c.is_error);
    assert_eq!(c.envelope["success"], false);
    assert_eq!(c.data(), &Value::Null);
    assert_eq!(
        c.error(),
        &json!({
            "code": "tag_connection_failed",
            "message": "Tag connection failed: tag does not exist",
            "details": details,
        })
    );
    assert_connect_requests(&h, "SALES_DB").await;
}

#[tokio::test]
async fn connect_tag_answer_saying_not_successful_is_a_tool_error() {
    let h = Harness::start().await;
    mock_database(
        &h,
        json!({"id": 12, "friendlyDatabaseName": "Sales", "databaseName": "SALES_DB"}),
    )
    .await;
    h.mock(
        "PUT",
        CONNECT,
        200,
        json!({"success": false, "message": "no such schema"}),
    )
    .await;
    let c = h.call("connect_tag", connect_args()).await;
    assert!(c.is_error, "{}", c.envelope);
    assert_eq!(c.error()["code"], "tag_connection_failed");
    assert_eq!(
        c.error()["message"],
        "Tag connection failed: no such schema"
    );
}

#[tokio::test]
async fn connect_tag_unknown_database_sends_no_put() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        LOOKUP,
        200,
        json!({"data": {"databases": [{"id": 3, "friendlyDatabaseName": "Other"}]}}),
    )
    .await;
    let c = h.call("connect_tag", connect_args()).await;
    assert!(c.is_error);
    assert_eq!(c.error()["code"], "not_found");
    assert!(c.error()["message"].as_str().unwrap().contains("'Sales'"));
    assert_request(
        &h.only_request().await,
        "GET",
        LOOKUP,
        &[("friendlyDatabaseName", "Sales")],
        None,
    );
}

#[tokio::test]
async fn connect_tag_upstream_errors() {
    // Lookup refused: no PUT.
    let h = Harness::start().await;
    h.mock("GET", LOOKUP, 403, json!({"message": "forbidden"}))
        .await;
    let c = h.call("connect_tag", connect_args()).await;
    c.upstream(403);
    assert_eq!(h.requests().await.len(), 1);
    // PUT refused.
    let h = Harness::start().await;
    mock_database(
        &h,
        json!({"id": 12, "friendlyDatabaseName": "Sales", "databaseName": "SALES_DB"}),
    )
    .await;
    h.mock("PUT", CONNECT, 404, json!({"message": "no such tag"}))
        .await;
    let c = h.call("connect_tag", connect_args()).await;
    c.upstream(404);
    assert_connect_requests(&h, "SALES_DB").await;
}

#[tokio::test]
async fn invalid_arguments_are_refused_before_any_request() {
    let h = Harness::start().await;
    let update_base = json!({"tag_group_id": "tg", "database_id": 1, "friendly_name": "F"});
    let update = |extra: Value| with_args(&update_base, extra);
    let details_base =
        json!({"database_id": 1, "database_name": "D", "tag_name": "T", "schema_name": "S"});
    let details = |extra: Value| with_args(&details_base, extra);
    let cases: Vec<(&str, Value, &str)> = vec![
        // (Unknown, missing and mistyped parameters: generated for every tool.)
        // Enumerations.
        (
            "get_tag_details",
            details(json!({"protection_type": SECRET})),
            "protection_type",
        ),
        (
            "update_tag",
            update(json!({"protection_type": "masked"})),
            "protection_type",
        ),
        // FPE options only with encryption-fpe, and a known alphabet.
        (
            "update_tag",
            update(json!({"encryption_fpe_options": {"alphabet": "numeric"}})),
            "encryption_fpe_options",
        ),
        (
            "update_tag",
            update(json!({"protection_type": "governed", "encryption_fpe_options": {}})),
            "encryption_fpe_options",
        ),
        (
            "update_tag",
            update(
                json!({"protection_type": "encryption-fpe", "encryption_fpe_options": {"alphabet": "emoji"}}),
            ),
            "encryption_fpe_options.alphabet",
        ),
        // Ids that would change the URL.
        (
            "disconnect_tag",
            json!({"tag_group_id": ".."}),
            "tag_group_id",
        ),
        (
            "disconnect_tag",
            json!({"tag_group_id": ""}),
            "tag_group_id",
        ),
        (
            "get_tag_details_by_group_id",
            json!({"tag_group_id": "."}),
            "tag_group_id",
        ),
        (
            "get_tag_details_by_group_id",
            json!({"tag_group_id": ".."}),
            "tag_group_id",
        ),
        (
            "update_tag",
            update(json!({"tag_group_id": ".."})),
            "tag_group_id",
        ),
        (
            "update_tag",
            update(json!({"tag_group_id": ""})),
            "tag_group_id",
        ),
        (
            "get_tag_details",
            details(json!({"schema_name": ".."})),
            "schema_name",
        ),
        (
            "get_tag_details",
            details(json!({"database_name": ""})),
            "database_name",
        ),
    ];
    for (tool, args, parameter) in cases {
        assert_refused(&h, tool, args, parameter).await;
    }
}
