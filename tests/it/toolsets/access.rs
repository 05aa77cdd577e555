//! Access management and access requests through MCP against the fake ALTR API and the sandbox.

use crate::common::*;
use serde_json::{json, Value};

const AM: &str = "/api/v1/unified-policy/management/policy/accessManagement";

pub(crate) fn sf_rule() -> Value {
    json!({
        "actors": [{"type": "role", "condition": "equals", "identifiers": ["ANALYST"]}],
        "objects": [{"type": "table", "condition": "equals", "identifiers": ["SALES.PUBLIC.ORDERS"]}],
        "access": [{"name": "read"}]
    })
}

fn oltp_rule() -> Value {
    json!({
        "type": "read",
        "actors": [{"type": "idp_group", "condition": "equals", "identifiers": ["analysts"]}],
        "objects": [{"type": "column", "identifiers": [{"database": {"name": "HR", "wildcard": false}, "column": {"name": "*", "wildcard": true}}]}]
    })
}

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "create_snowflake_access_policy",
            args: json!({"policy_name": "Analyst read", "description": "Analysts read orders", "connection_id": 3, "rules": [sf_rule()], "policy_maintenance": {"rate": "day", "value": 1}, "access_request_id": "req-1"}),
            method: "POST",
            path: "/api/v1/unified-policy/management/policy/accessManagement/snowflake",
            query: &[],
            body: Some(
                json!({"policy_name": "Analyst read", "description": "Analysts read orders", "connection_ids": [3], "rules": [sf_rule()], "policy_maintenance": {"rate": "day", "value": 1}, "access_request_id": "req-1"}),
            ),
        },
        Sends {
            tool: "create_snowflake_access_policy",
            args: json!({"policy_name": "P", "description": "D", "connection_id": "4", "rules": serde_json::to_string(&json!([sf_rule()])).unwrap()}),
            method: "POST",
            path: "/api/v1/unified-policy/management/policy/accessManagement/snowflake",
            query: &[],
            body: Some(
                json!({"policy_name": "P", "description": "D", "connection_ids": [4], "rules": [sf_rule()]}),
            ),
        },
        Sends {
            tool: "create_oltp_access_policy",
            args: json!({"policy_name": "HR read", "description": "HR columns", "repo_name": "hr-oracle", "database_type": 4, "database_type_name": "oracle", "rules": [oltp_rule()]}),
            method: "POST",
            path: "/api/v1/unified-policy/management/policy/accessManagement/oltp",
            query: &[],
            body: Some(
                json!({"policy_name": "HR read", "description": "HR columns", "repo_name": "hr-oracle", "database_type": 4, "database_type_name": "oracle", "rules": [oltp_rule()], "case_sensitivity": "case_sensitive"}),
            ),
        },
        Sends {
            tool: "trigger_access_policy_check",
            args: json!({"policy_id": "ACCESS%23p1"}),
            method: "PUT",
            path:
                "/api/v1/unified-policy/management/policy/accessManagement/triggerCheck/ACCESS%23p1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "trigger_access_policy_check",
            args: json!({"policy_id": "ACCESS#p1"}),
            method: "PUT",
            path:
                "/api/v1/unified-policy/management/policy/accessManagement/triggerCheck/ACCESS%23p1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "create_access_request",
            args: json!({"requester": "ann", "justification": "quarterly report", "connection_id": 3, "rules": [sf_rule()], "email": "ann@example.com", "role": "ANALYST", "snowflake_metadata": {"account_name": "acme"}}),
            method: "POST",
            path: "/api/v1/unified-policy/management/accessRequest",
            query: &[],
            body: Some(
                json!({"requester_identity": {"requester": "ann", "email": "ann@example.com", "role": "ANALYST"}, "justification": "quarterly report", "connection_id": 3, "rules": [sf_rule()], "snowflake_metadata": {"account_name": "acme"}}),
            ),
        },
        Sends {
            tool: "get_access_requests",
            args: json!({"limit": 5, "requester": "ann", "status": "open", "sort": "DESC", "exclusive_start_key": "k1"}),
            method: "GET",
            path: "/api/v1/unified-policy/management/accessRequest",
            query: &[
                ("limit", "5"),
                ("requester", "ann"),
                ("status", "OPEN"),
                ("sort", "desc"),
                ("exclusive_start_key", "k1"),
            ],
            body: None,
        },
        Sends {
            tool: "get_access_request",
            args: json!({"request_id": "ACCESS#r1"}),
            method: "GET",
            path: "/api/v1/unified-policy/management/accessRequest/ACCESS%23r1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_access_request",
            args: json!({"request_id": "ACCESS%23r1"}),
            method: "GET",
            path: "/api/v1/unified-policy/management/accessRequest/ACCESS%23r1",
            query: &[],
            body: None,
        },
    ]
}

#[tokio::test]
async fn access_rules_are_validated_before_sending() {
    let h = Harness::start().await;
    let base =
        json!({"policy_name": "P", "description": "D", "connection_id": 3, "rules": [sf_rule()]});
    let mut bad_actor = sf_rule();
    bad_actor["actors"][0]["type"] = json!(SECRET);
    assert_refused(
        &h,
        "create_snowflake_access_policy",
        with_args(&base, json!({"rules": [bad_actor]})),
        "rules[0].actors[0].type",
    )
    .await;
    let mut bad_access = sf_rule();
    bad_access["access"] = json!([{"name": "delete"}]);
    assert_refused(
        &h,
        "create_snowflake_access_policy",
        with_args(&base, json!({"rules": [bad_access]})),
        "rules[0].access[0].name",
    )
    .await;
    let mut no_actors = sf_rule();
    no_actors["actors"] = json!([]);
    assert_refused(
        &h,
        "create_snowflake_access_policy",
        with_args(&base, json!({"rules": [no_actors]})),
        "rules[0].actors",
    )
    .await;
    assert_refused(
        &h,
        "create_snowflake_access_policy",
        with_args(&base, json!({"rules": []})),
        "rules",
    )
    .await;
    let mut extra = sf_rule();
    extra["grant_everything"] = json!(true);
    assert_refused(
        &h,
        "create_access_request",
        json!({"requester": "a", "justification": "j", "connection_id": 1, "rules": [extra]}),
        "rules[0].grant_everything",
    )
    .await;
    let mut bad_oltp = oltp_rule();
    bad_oltp["type"] = json!("write");
    assert_refused(&h, "create_oltp_access_policy", json!({"policy_name": "P", "description": "D", "repo_name": "r", "database_type": 4, "database_type_name": "oracle", "rules": [bad_oltp]}), "rules[0].type").await;
    assert_refused(
        &h,
        "create_snowflake_access_policy",
        with_args(
            &base,
            json!({"policy_maintenance": {"rate": "hourly", "value": 1}}),
        ),
        "policy_maintenance.rate",
    )
    .await;
    assert_refused(
        &h,
        "get_access_requests",
        json!({"status": SECRET}),
        "status",
    )
    .await;
    assert_refused(
        &h,
        "approve_access_request",
        json!({"request_id": "r1", "justification": " "}),
        "justification",
    )
    .await;
}

#[tokio::test]
async fn rules_as_invalid_json_text_name_the_parameter_and_position_without_echoing() {
    let h = Harness::start().await;
    let text = format!("[{{\"actors\": {SECRET}");
    let c = h
        .call(
            "create_access_request",
            json!({"requester": "a", "justification": "j", "connection_id": 1, "rules": text}),
        )
        .await;
    c.invalid("rules");
    let message = c.error()["message"].as_str().unwrap();
    assert!(message.contains("column"), "{message}");
    assert!(!c.text.contains(SECRET), "{}", c.text);
    h.assert_no_requests().await;
}

#[tokio::test]
async fn update_snowflake_access_policy_refuses_to_drop_existing_rules() {
    let h = Harness::start().await;
    let old = json!({"rule_id": "r-old", "actors": [{"type": "role", "condition": "equals", "identifiers": ["AUDITOR"]}], "objects": [{"type": "database", "condition": "equals", "identifiers": ["SALES"]}], "access": [{"name": "read"}]});
    let mut kept = sf_rule();
    kept["rule_id"] = json!("r-kept");
    h.mock(
        "GET",
        &format!("{AM}/snowflake/ACCESS%23p1"),
        200,
        json!({"data": {"policy_id": "ACCESS#p1", "rules": [kept, old.clone()]}}),
    )
    .await;
    let c = h
        .call(
            "update_snowflake_access_policy",
            json!({"policy_id": "ACCESS%23p1", "policy_name": "P", "rules": [sf_rule()]}),
        )
        .await;
    let e = c.error();
    assert_eq!(e["code"], "would_remove_rules", "{}", c.envelope);
    assert_eq!(e["details"]["rules_removed"], json!([old]));
    assert!(e["message"].as_str().unwrap().contains("replace_all"));
    let r = h.requests().await;
    assert_eq!(r.len(), 1, "only the read was sent");
    assert_eq!(r[0].method.as_str(), "GET");
}

#[tokio::test]
async fn update_snowflake_access_policy_keeping_every_rule_reads_then_replaces() {
    let h = Harness::start().await;
    let mut kept = sf_rule();
    kept["rule_id"] = json!("r-kept");
    h.mock(
        "GET",
        &format!("{AM}/snowflake/ACCESS%23p1"),
        200,
        json!({"data": {"rules": [kept]}}),
    )
    .await;
    h.mock(
        "PUT",
        &format!("{AM}/snowflake/ACCESS%23p1"),
        200,
        json!({"data": {"updated": true}}),
    )
    .await;
    let extra = json!({"actors": [{"type": "role", "condition": "starts_with", "identifiers": ["BI_"]}], "objects": [{"type": "schema", "condition": "equals", "identifiers": ["SALES.PUBLIC"]}], "access": [{"name": "read"}, {"name": "write"}]});
    let c = h
        .call("update_snowflake_access_policy", json!({"policy_id": "ACCESS#p1", "policy_name": "P", "rules": [sf_rule(), extra.clone()]}))
        .await;
    assert_eq!(c.ok()["after"], json!({"data": {"updated": true}}));
    assert_eq!(c.ok()["before"]["data"]["rules"][0]["rule_id"], "r-kept");
    let r = h.requests().await;
    assert_eq!(r.len(), 2);
    assert_request(
        &r[1],
        "PUT",
        &format!("{AM}/snowflake/ACCESS%23p1"),
        &[],
        Some(json!({"policy_name": "P", "rules": [sf_rule(), extra]})),
    );
}

/// With replace_all the read is not a check: its failure does not stop the replacement.
#[tokio::test]
async fn update_snowflake_access_policy_replace_all_sends_exactly_its_put_after_the_read() {
    let h = Harness::start().await;
    let at = format!("{AM}/snowflake/ACCESS%23p1");
    h.mock("GET", &at, 500, json!({"message": "down"})).await;
    h.mock("PUT", &at, 200, json!({"data": {"updated": true}}))
        .await;
    let c = h
        .call("update_snowflake_access_policy", json!({"policy_id": "ACCESS#p1", "policy_name": "P2", "rules": [sf_rule()], "description": "new", "replace_all": true}))
        .await;
    assert_eq!(c.ok()["after"], json!({"data": {"updated": true}}));
    assert_eq!(c.ok()["before"], Value::Null);
    assert_eq!(c.ok()["before_error"]["status"], 500);
    let r = h.requests().await;
    let put = r
        .iter()
        .find(|r| r.method.as_str() == "PUT")
        .expect("the PUT");
    assert_request(
        put,
        "PUT",
        &at,
        &[],
        Some(json!({"policy_name": "P2", "rules": [sf_rule()], "description": "new"})),
    );
}

#[tokio::test]
async fn update_snowflake_access_policy_reports_a_failed_read() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        &format!("{AM}/snowflake/nope"),
        404,
        json!({"message": "no such policy"}),
    )
    .await;
    let c = h
        .call(
            "update_snowflake_access_policy",
            json!({"policy_id": "nope", "policy_name": "P", "rules": [sf_rule()]}),
        )
        .await;
    c.upstream(404);
    assert_eq!(h.requests().await.len(), 1);
}

#[tokio::test]
async fn access_request_workflow_in_the_sandbox() {
    use crate::sandbox_common::Sbx;
    let s = Sbx::start().await;

    let open = s
        .call("get_access_requests", json!({"status": "OPEN"}))
        .await;
    let seeded = open.ok()["items"].as_array().unwrap().clone();
    assert_eq!(seeded.len(), 1, "{}", open.envelope);
    assert_eq!(seeded[0]["requester"], "ann");

    let rule = json!({"actors": [{"type": "role", "condition": "equals", "identifiers": ["ANALYST"]}],
                      "objects": [{"type": "table", "condition": "equals", "identifiers": ["SALES_DB.PUBLIC.CUSTOMERS"]}],
                      "access": [{"name": "read"}]});
    let asked = s
        .call(
            "create_access_request",
            json!({"requester": "erin", "justification": "churn analysis", "connection_id": 1,
                   "rules": [rule.clone()], "email": "erin@acme.example", "role": "ANALYST"}),
        )
        .await;
    let request_id = asked.ok()["request_id"].as_str().unwrap().to_string();
    assert_eq!(asked.ok()["status"], "OPEN");

    let unknown_db = s
        .call(
            "create_access_request",
            json!({"requester": "erin", "justification": "x", "connection_id": 99, "rules": [rule.clone()]}),
        )
        .await;
    unknown_db.upstream(400);

    let approved = s
        .call(
            "approve_access_request",
            json!({"request_id": request_id, "justification": "ok for Q3"}),
        )
        .await;
    assert_eq!(approved.ok()["after"]["status"], "CLOSED_APPROVED");
    assert_eq!(approved.ok()["before"]["status"], "OPEN");
    let policy_id = approved.ok()["after"]["policy_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(policy_id.starts_with("ACCESS#"), "{policy_id}");
    s.call(
        "deny_access_request",
        json!({"request_id": request_id, "justification": "too late"}),
    )
    .await
    .upstream(409);

    let read = s
        .call("get_access_request", json!({"request_id": request_id}))
        .await;
    assert_eq!(read.ok()["status"], "CLOSED_APPROVED");

    // The approval made the policy: a full replacement that forgets its rule is refused.
    let encoded = policy_id.replace('#', "%23");
    let other = json!({"actors": [{"type": "role", "condition": "equals", "identifiers": ["FINANCE"]}],
                       "objects": [{"type": "database", "condition": "equals", "identifiers": ["SALES_DB"]}],
                       "access": [{"name": "read"}]});
    let refused = s
        .call(
            "update_snowflake_access_policy",
            json!({"policy_id": encoded, "policy_name": "Erin", "rules": [other.clone()]}),
        )
        .await;
    assert_eq!(refused.error()["code"], "would_remove_rules");
    assert_eq!(
        refused.error()["details"]["rules_removed"][0]["actors"],
        rule["actors"]
    );
    let kept = s
        .call("update_snowflake_access_policy", json!({"policy_id": policy_id, "policy_name": "Erin", "rules": [rule.clone(), other.clone()]}))
        .await;
    assert_eq!(kept.ok()["after"]["rules"].as_array().unwrap().len(), 2);
    assert_eq!(kept.ok()["before"]["rules"].as_array().unwrap().len(), 1);
    let replaced = s
        .call("update_snowflake_access_policy", json!({"policy_id": encoded, "policy_name": "Erin", "rules": [other], "replace_all": true}))
        .await;
    assert_eq!(replaced.ok()["after"]["rules"].as_array().unwrap().len(), 1);
    assert_eq!(
        replaced.ok()["before"]["rules"].as_array().unwrap().len(),
        2
    );
    let check = s
        .call("trigger_access_policy_check", json!({"policy_id": encoded}))
        .await;
    assert_eq!(check.ok()["policy_id"], policy_id.as_str());
    s.call(
        "trigger_access_policy_check",
        json!({"policy_id": "ACCESS#nope"}),
    )
    .await
    .upstream(404);

    let cancelled = s
        .call(
            "cancel_access_request",
            json!({"request_id": seeded[0]["request_id"], "justification": "no longer needed"}),
        )
        .await;
    assert_eq!(cancelled.ok()["after"]["status"], "CLOSED_CANCELLED");
    let still_open = s
        .call("get_access_requests", json!({"status": "OPEN"}))
        .await;
    assert_eq!(still_open.ok()["items"], json!([]));

    let oltp = s
        .call(
            "create_oltp_access_policy",
            json!({"policy_name": "HR read", "description": "HR columns", "repo_name": "hr-postgres",
                   "database_type": 2, "database_type_name": "postgres", "rules": [oltp_rule()]}),
        )
        .await;
    assert_eq!(oltp.ok()["policy_type"], "oltp");

    let log = s
        .call(
            "search_system_audits",
            json!({"category": "Access Requests", "wait": -1, "wait_seconds": 5}),
        )
        .await;
    let actions: Vec<&str> = log.ok()["results"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"APPROVE") && actions.contains(&"CANCEL"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn object_identifiers_must_agree_with_the_condition() {
    let h = Harness::start().await;
    let base = json!({"policy_name": "P", "description": "D", "connection_id": 3});
    let mut fq_without = sf_rule();
    fq_without["objects"][0]["condition"] = json!("fully_qualified");
    assert_refused(
        &h,
        "create_snowflake_access_policy",
        with_args(&base, json!({"rules": [fq_without]})),
        "rules[0].objects[0]",
    )
    .await;
    let mut both = sf_rule();
    both["objects"][0]["fully_qualified_identifiers"] =
        json!([{"database": "SALES_DB", "table": "ORDERS"}]);
    assert_refused(
        &h,
        "create_snowflake_access_policy",
        with_args(&base, json!({"rules": [both]})),
        "rules[0].objects[0]",
    )
    .await;
    let mut fq = sf_rule();
    fq["objects"][0] = json!({"type": "table", "condition": "fully_qualified", "fully_qualified_identifiers": [{"database": "SALES_DB", "schema": "PUBLIC", "table": "ORDERS"}]});
    h.mock("POST", &format!("{AM}/snowflake"), 200, json!({"ok": true}))
        .await;
    let c = h
        .call(
            "create_snowflake_access_policy",
            with_args(&base, json!({"rules": [fq.clone()]})),
        )
        .await;
    assert_eq!(c.ok(), &json!({"ok": true}));
    let body: Value = serde_json::from_slice(&h.only_request().await.body).unwrap();
    assert_eq!(body["rules"], json!([fq]));
}
