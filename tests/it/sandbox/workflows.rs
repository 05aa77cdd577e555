//! Workflows through MCP against the built-in ALTR sandbox, one per domain: every step is a real
//! tool call, and each change shows in the next read.

use crate::sandbox_common::*;
use altr_mcp::sandbox::Seed;
use serde_json::{json, Value};

const POLICY: &str = "/api/v1/unified-policy/management/policy";

fn database_names(data: &Value) -> Vec<String> {
    names(&data["databases"], "friendlyDatabaseName")
}

#[tokio::test]
async fn databases_workflow() {
    let s = Sbx::start().await;

    let all = s.call("get_databases", json!({})).await;
    assert_eq!(
        database_names(all.ok()),
        ["Sales Analytics", "HR Warehouse", "Lakehouse"]
    );

    let hr = s
        .call("get_database_id", json!({"database_name": "HR Warehouse"}))
        .await;
    assert_eq!(hr.ok()["database_id"], 2);
    assert_eq!(hr.ok()["database"]["databaseName"], "HR_DB");

    let users = s.call("get_service_users", json!({})).await;
    let user_id = users.ok()["users"][0]["id"]
        .as_str()
        .expect("a seeded service user")
        .to_string();

    let created = s
        .call(
            "create_database",
            json!({"friendly_database_name": "Finance Mart", "database_type": "snowflake",
                   "database_name": "FIN_DB", "service_user_id": user_id,
                   "hostname": "acme-xy12345.snowflakecomputing.com"}),
        )
        .await;
    let fin_id = created.ok()["id"].as_i64().expect("an id");
    assert_eq!(fin_id, 4);
    assert_eq!(created.ok()["serviceUserID"], user_id.as_str());

    let again = s
        .call(
            "create_database",
            json!({"friendly_database_name": "finance mart", "database_type": "snowflake",
                   "database_name": "FIN_DB", "service_user_id": user_id}),
        )
        .await;
    again.upstream(409);

    let lake = s
        .call(
            "create_databricks_database",
            json!({"friendly_database_name": "ML Workspace", "database_name": "ml",
                   "hostname": "dbc-0000-ffff.cloud.databricks.com",
                   "database_username": "svc", "database_password": "dapi-secret-token"}),
        )
        .await;
    assert_eq!(lake.ok()["databaseType"], "databricks");

    let all = s.call("get_databases", json!({})).await;
    assert_eq!(database_names(all.ok()).len(), 5);
    assert!(
        !all.text.contains("dapi-secret-token"),
        "passwords are never read back"
    );

    let updated = s
        .call(
            "update_database",
            json!({"database_id": fin_id, "friendly_database_name": "Finance Mart EU",
                   "warehouse_name": "FIN_WH", "should_classify": true}),
        )
        .await;
    assert_eq!(updated.ok()["friendlyDatabaseName"], "Finance Mart EU");
    let found = s
        .call(
            "get_database_id",
            json!({"database_name": "Finance Mart EU"}),
        )
        .await;
    assert_eq!(found.ok()["database_id"], fin_id);
    assert_eq!(found.ok()["database"]["warehouseName"], "FIN_WH");
    assert_eq!(found.ok()["database"]["shouldClassify"], true);
    let old = s
        .call("get_database_id", json!({"database_name": "Finance Mart"}))
        .await;
    assert_eq!(old.error()["code"], "not_found");

    let sync = s
        .call(
            "trigger_database_status_sync",
            json!({"database_id": fin_id}),
        )
        .await;
    assert_eq!(sync.ok()["status"], "CONNECTED");

    let gone = s
        .call(
            "disconnect_database",
            json!({"database_id": fin_id, "ignore_errors": true}),
        )
        .await;
    assert_eq!(gone.ok()["status"], "DISCONNECTED");
    let deletes = s.requests_to("DELETE", &format!("/altrnet/api/databases/{fin_id}"));
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].query, "ignoreErrors=true");

    let all = s.call("get_databases", json!({})).await;
    assert_eq!(
        database_names(all.ok()),
        [
            "Sales Analytics",
            "HR Warehouse",
            "Lakehouse",
            "ML Workspace"
        ]
    );
    let e = s
        .call("disconnect_database", json!({"database_id": fin_id}))
        .await;
    assert!(e.upstream(404)["message"]
        .as_str()
        .unwrap()
        .contains("not found"));
    s.call(
        "update_database",
        json!({"database_id": 99, "warehouse_name": "X"}),
    )
    .await
    .upstream(404);
}

#[tokio::test]
async fn tags_workflow() {
    let s = Sbx::start().await;

    let tags = s.call("get_tags", json!({})).await;
    assert_eq!(tags.ok()["count"], 3);
    // Two items per page: the tool followed the offset cursor.
    let pages = s.requests_to("GET", "/api/v1/tag/masking");
    assert_eq!(
        pages.iter().map(|r| r.query.as_str()).collect::<Vec<_>>(),
        ["", "offset=2"]
    );

    let values = s
        .call("get_tag_values", json!({"tag_name": "PII_TYPE"}))
        .await;
    let got = names(&values.ok()["tags"], "tagValue");
    assert_eq!(
        got,
        ["EMAIL", "PHONE", "SSN", "NAME", "ADDRESS", "EMAIL", "SSN", "SALARY"]
    );
    assert_eq!(
        s.requests_to("GET", "/api/v1/dis/tags/v2/tags/list").len(),
        2
    );

    let connected = s
        .call(
            "connect_tag",
            json!({"database_name": "HR Warehouse", "schema_name": "PAYROLL", "tag_name": "COMP_BAND"}),
        )
        .await;
    assert_eq!(connected.ok()["status"], "SUCCESS");
    assert!(connected.ok()["job_id"].as_str().is_some());
    assert_eq!(
        connected.ok()["before"],
        Value::Null,
        "not connected before"
    );
    let group = connected.ok()["after"]["tag_group_id"]
        .as_str()
        .expect("tag_group_id")
        .to_string();

    let tags = s.call("get_tags", json!({})).await;
    assert_eq!(tags.ok()["count"], 4);
    assert!(names(&tags.ok()["items"], "tag_name").contains(&"COMP_BAND".to_string()));

    let by_location = s
        .call(
            "get_tag_details",
            json!({"database_id": 2, "database_name": "HR_DB", "tag_name": "COMP_BAND", "schema_name": "PAYROLL"}),
        )
        .await;
    assert_eq!(by_location.ok()["tag_group_id"], group.as_str());

    let updated = s
        .call(
            "update_tag",
            json!({"tag_group_id": group, "database_id": 2, "friendly_name": "Compensation band",
                   "protection_type": "governed-pushdown", "mask_data_type_list": ["VARCHAR", "NUMBER"]}),
        )
        .await;
    updated.ok();
    let read = s
        .call(
            "get_tag_details_by_group_id",
            json!({"tag_group_id": group}),
        )
        .await;
    let tag = &read.ok();
    assert_eq!(tag["friendly_name"], "Compensation band");
    assert_eq!(tag["masking"]["protection_type"], "governed-pushdown");
    assert_eq!(
        tag["masking"]["mask_data_type_list"],
        json!(["VARCHAR", "NUMBER"])
    );
    s.call(
        "get_tag_details",
        json!({"database_id": 2, "database_name": "HR_DB", "tag_name": "COMP_BAND",
               "schema_name": "PAYROLL", "protection_type": "governed"}),
    )
    .await
    .upstream(404);

    let missing = s
        .call(
            "connect_tag",
            json!({"database_name": "Sales Analytics", "schema_name": "GOVERNANCE", "tag_name": "NO_SUCH_TAG"}),
        )
        .await;
    let e = missing.error();
    assert_eq!(e["code"], "tag_connection_failed");
    assert!(e["message"].as_str().unwrap().contains("does not exist"));
    s.call(
        "connect_tag",
        json!({"database_name": "Lakehouse", "schema_name": "default", "tag_name": "pii"}),
    )
    .await
    .upstream(400);

    s.call("disconnect_tag", json!({"tag_group_id": group}))
        .await
        .ok();
    s.call(
        "get_tag_details_by_group_id",
        json!({"tag_group_id": group}),
    )
    .await
    .upstream(404);

    let by_details = json!({"database_id": 1, "database_name": "SALES_DB",
                            "schema_name": "GOVERNANCE", "tag_name": "CONFIDENTIALITY"});
    s.call("disconnect_tag_by_details", by_details.clone())
        .await
        .ok();
    let tags = s.call("get_tags", json!({})).await;
    assert_eq!(tags.ok()["count"], 2);
    assert!(!names(&tags.ok()["items"], "tag_name").contains(&"CONFIDENTIALITY".to_string()));
    s.call("disconnect_tag_by_details", by_details)
        .await
        .upstream(404);
}

/// The rule with this role and tag value, from a get_rules answer.
fn find_rule(rules: &Value, role: &str, value: &str) -> Option<Value> {
    rules["rules"]
        .as_array()?
        .iter()
        .find(|r| r["role"] == role && r["tag_value"] == value)
        .cloned()
}

fn rule_count(rules: &Value) -> usize {
    let n = rules["rules"].as_array().map_or(0, Vec::len);
    assert_eq!(rules["count"], n, "count matches the list");
    n
}

#[tokio::test]
async fn policies_workflow() {
    let s = Sbx::start().await;

    let roles = s.call("get_roles", json!({})).await;
    let roles: Vec<String> = roles.ok()["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    assert_eq!(roles.len(), 7);
    assert!(roles.contains(&"ANALYST".to_string()));
    assert_eq!(s.requests_to("GET", "/altrnet/api/userGroups").len(), 3);

    let masks = s
        .call("get_supported_masking_types", json!({"policy_type": "tag"}))
        .await;
    let levels: Vec<i64> = masks
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["masking_type"].as_i64())
        .collect();
    assert_eq!(levels, [10000, 10001, 10002, 10003, 10004]);

    let seeded = s.call("get_policies", json!({"policy_type": "TAG"})).await;
    assert_eq!(seeded.ok()["count"], 1);
    assert_eq!(seeded.ok()["policies"][0]["identifier"], "PII_TYPE");
    assert_eq!(seeded.ok()["policies"][0]["rule_count"], 5);
    s.call("create_policy", json!({"tag": "PII_TYPE"}))
        .await
        .upstream(409);

    s.call(
        "connect_tag",
        json!({"database_name": "HR Warehouse", "schema_name": "PAYROLL", "tag_name": "COMP_BAND"}),
    )
    .await
    .ok();
    let created = s.call("create_policy", json!({"tag": "COMP_BAND"})).await;
    let policy = created.ok()["policy_id"]
        .as_str()
        .expect("policy_id")
        .to_string();
    assert!(policy.starts_with("TAG#"), "{policy}");
    s.call("create_policy", json!({"tag": "CONFIDENTIALITY"}))
        .await
        .ok();

    // Three TAG policies, two per page: the second page was asked for with the cursor.
    let listed = s.call("get_policies", json!({"policy_type": "TAG"})).await;
    assert_eq!(
        names(&listed.ok()["policies"], "identifier"),
        ["PII_TYPE", "COMP_BAND", "CONFIDENTIALITY"]
    );
    let pages = s.requests_to("GET", POLICY);
    let last = pages.last().unwrap();
    assert!(
        last.query.contains("exclusive_start_key="),
        "{}",
        last.query
    );

    // 105 rules: two batches (99 + 6).
    let rules: Vec<Value> = roles
        .iter()
        .flat_map(|role| {
            (1..=15).map(move |n| {
                json!({"role": role, "tag_value": format!("BAND_{n}"), "masking_policy": 10001})
            })
        })
        .collect();
    let added = s
        .call("add_rules", json!({"policy_id": policy, "rules": rules}))
        .await;
    assert_eq!(added.ok()["rules_added"], 105);
    let batch_path = format!("{POLICY}/{}/rules/batch", policy.replace('#', "%23"));
    assert_eq!(s.requests_to("PATCH", &batch_path).len(), 2);

    let read = s.call("get_rules", json!({"policy_id": policy})).await;
    assert_eq!(rule_count(read.ok()), 105);
    // One flat list, however ALTR grouped the rules.
    assert!(read.ok().get("items").is_none());
    let first = find_rule(read.ok(), "ANALYST", "BAND_1").expect("rule");
    assert_eq!(first["masking_policy"], 10001);

    // Adding the same role and value again replaces the rule instead of duplicating it.
    s.call(
        "add_rules",
        json!({"policy_id": policy, "rules": [{"role": "ANALYST", "tag_value": "BAND_1", "masking_policy": 10003}]}),
    )
    .await
    .ok();
    let read = s.call("get_rules", json!({"policy_id": policy})).await;
    assert_eq!(rule_count(read.ok()), 105);
    let first = find_rule(read.ok(), "ANALYST", "BAND_1").expect("rule");
    assert_eq!(first["masking_policy"], 10003);
    let rule_id = first["rule_id"].as_str().unwrap().to_string();

    let updated = s
        .call(
            "update_rule",
            json!({"policy_id": policy, "rule_id": rule_id, "masking_policy": 10000, "tag_value": "BAND_0"}),
        )
        .await;
    assert_eq!(updated.ok()["after"]["masking_policy"], 10000);
    assert_eq!(updated.ok()["before"]["masking_policy"], 10003);
    let read = s.call("get_rules", json!({"policy_id": policy})).await;
    let moved = find_rule(read.ok(), "ANALYST", "BAND_0").expect("updated rule");
    assert_eq!(moved["rule_id"], rule_id.as_str());
    assert_eq!(moved["masking_policy"], 10000);
    assert!(find_rule(read.ok(), "ANALYST", "BAND_1").is_none());

    // Moving it onto another rule's role and value conflicts.
    s.call(
        "update_rule",
        json!({"policy_id": policy, "rule_id": rule_id, "tag_value": "BAND_2"}),
    )
    .await
    .upstream(409);
    // Level 10005 on a tag policy: refused by the server before sending.
    s.call(
        "update_rule",
        json!({"policy_id": policy, "rule_id": rule_id, "masking_policy": 10005}),
    )
    .await
    .invalid("masking_policy");
    // A role the org does not have: refused by the API.
    let e = s
        .call(
            "add_rules",
            json!({"policy_id": policy, "rules": [{"role": "NOBODY", "tag_value": "BAND_1", "masking_policy": 10001}]}),
        )
        .await;
    assert!(e.upstream(400)["message"]
        .as_str()
        .unwrap()
        .contains("NOBODY"));

    s.call(
        "delete_rule",
        json!({"policy_id": policy, "rule_id": rule_id}),
    )
    .await
    .ok();
    let read = s.call("get_rules", json!({"policy_id": policy})).await;
    assert_eq!(rule_count(read.ok()), 104);
    assert!(find_rule(read.ok(), "ANALYST", "BAND_0").is_none());
    s.call(
        "delete_rule",
        json!({"policy_id": policy, "rule_id": rule_id}),
    )
    .await
    .upstream(404);

    // A pushdown policy on the Databricks workspace takes levels beyond 10004.
    let pushdown = s
        .call(
            "create_policy",
            json!({"tag": "pii", "policy_type": "PUSHDOWN", "database_ids": [3]}),
        )
        .await;
    let pushdown = pushdown.ok()["policy_id"].as_str().unwrap().to_string();
    assert!(pushdown.starts_with("PUSHDOWN#"));
    s.call(
        "add_rules",
        json!({"policy_id": pushdown, "rules": [{"role": "DATA_SCIENTIST", "tag_value": "email", "masking_policy": 10007}]}),
    )
    .await
    .ok();
    let read = s.call("get_rules", json!({"policy_id": pushdown})).await;
    assert_eq!(
        find_rule(read.ok(), "DATA_SCIENTIST", "email").unwrap()["masking_policy"],
        10007
    );

    s.call("delete_policy", json!({"policy_id": policy}))
        .await
        .ok();
    let listed = s.call("get_policies", json!({"policy_type": "TAG"})).await;
    assert_eq!(
        names(&listed.ok()["policies"], "identifier"),
        ["PII_TYPE", "CONFIDENTIALITY"]
    );
    let all = s.call("get_policies", json!({})).await;
    assert_eq!(all.ok()["count"], 3);
    s.call("get_rules", json!({"policy_id": policy}))
        .await
        .upstream(404);
    s.call("delete_policy", json!({"policy_id": policy}))
        .await
        .upstream(404);
}

#[tokio::test]
async fn wrong_credentials_are_refused_with_a_hint() {
    let s = Sbx::with_env(&[("MAPI_SECRET", "not-the-secret")]).await;
    let c = s.call("get_databases", json!({})).await;
    let e = c.upstream(401);
    assert!(e["hint"].as_str().unwrap().contains("MAPI_KEY"));
    assert!(!c.text.contains("not-the-secret"));
}

#[tokio::test]
async fn the_api_enforces_its_rules() {
    let s = Sbx::start().await;
    let (_, policies) = s
        .raw("GET", &format!("{POLICY}?policy_type=TAG"), None)
        .await;
    let id = policies["data"]["policies"][0]["policy_id"]
        .as_str()
        .unwrap()
        .replace('#', "%23");
    let batch = |n: usize, level: i64| {
        let rules: Vec<Value> = (0..n)
            .map(|i| json!({"action": "PUT", "rule": {"role": "ANALYST", "tag_value": format!("V{i}"), "masking_policy": level}}))
            .collect();
        json!({"rules": rules}).to_string()
    };
    let path = format!("{POLICY}/{id}/rules/batch");

    let (status, body) = s.raw("PATCH", &path, Some(&batch(100, 10001))).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("1 to 99"));
    assert_eq!(s.raw("PATCH", &path, Some(&batch(99, 10001))).await.0, 200);
    let (status, body) = s.raw("PATCH", &path, Some(&batch(1, 10005))).await;
    assert_eq!(status, 400);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("not supported on a TAG policy"));
    assert_eq!(s.raw("PATCH", &path, Some(&batch(1, 10010))).await.0, 400);

    let (status, body) = s.raw("POST", POLICY, Some("{not json")).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("not valid JSON"));
    assert_eq!(s.raw("POST", POLICY, Some("[]")).await.0, 400);
    assert_eq!(s.raw("POST", POLICY, None).await.0, 400);
    let (status, body) = s
        .raw(
            "POST",
            POLICY,
            Some(r#"{"identifier": "PII_TYPE", "type": "TAG", "extra": 1}"#),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("extra"));

    assert_eq!(s.raw("GET", "/altrnet/api/databases/77", None).await.0, 404);
    assert_eq!(s.raw("GET", "/altrnet/api/databases/x", None).await.0, 400);
    assert_eq!(
        s.raw("GET", &format!("{POLICY}/TAG%23nope/rules"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        s.raw(
            "GET",
            &format!("{POLICY}?exclusive_start_key=%7Bbroken"),
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(s.raw("GET", "/kma/v1/keys", None).await.0, 404);
    assert_eq!(s.raw("PUT", "/altrnet/api/databases", None).await.0, 405);
}

#[tokio::test]
async fn an_empty_org_starts_empty() {
    let s = Sbx::build(Seed::Empty, &[]).await;
    let all = s.call("get_databases", json!({})).await;
    assert!(database_names(all.ok()).is_empty());
    assert_eq!(s.call("get_tags", json!({})).await.ok()["count"], 0);
    assert_eq!(s.call("get_policies", json!({})).await.ok()["count"], 0);
    assert_eq!(s.call("get_roles", json!({})).await.ok()["count"], 7);
    let created = s
        .call(
            "create_database",
            json!({"friendly_database_name": "First", "database_type": "snowflake",
                   "database_name": "FIRST_DB", "database_username": "u", "database_password": "p"}),
        )
        .await;
    assert_eq!(created.ok()["id"], 1);
}
