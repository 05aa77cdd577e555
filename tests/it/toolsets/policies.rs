//! Policies & Rules tools through MCP against the fake ALTR API.

use crate::common::matchers::{method, path};
use crate::common::*;
use serde_json::{json, Value};
use wiremock::{Mock, Request, ResponseTemplate};

const POLICY: &str = "/api/v1/unified-policy/management/policy";
const SUPPORTED: &str = "/api/v1/unified-policy/management/policy/rules/supportedMaskingTypes";
const ROLES: &str = "/altrnet/api/userGroups";
const TYPES: [&str; 7] = [
    "TAG",
    "COLUMN",
    "PUSHDOWN",
    "IMPERSONATION",
    "GRANT",
    "ROW",
    "OLTP",
];

/// `{"success": true, "data": {"data": [...]}}` as the supportedMaskingTypes lookup answers.
fn supported(levels: &[Value]) -> Value {
    let entries: Vec<Value> = levels
        .iter()
        .map(|l| json!({"masking_type": l, "name": "x"}))
        .collect();
    json!({"success": true, "data": entries})
}

/// The tag-policy lookup answering with these levels.
async fn mock_tag_levels(h: &Harness, levels: &[i64]) {
    let levels: Vec<Value> = levels.iter().map(|l| json!(l)).collect();
    h.mock("GET", SUPPORTED, 200, supported(&levels)).await;
}

fn assert_lookup(r: &Request) {
    assert_request(r, "GET", SUPPORTED, &[("policy_type", "tag")], None);
}

fn rule(level: Value, role: &str, tag_value: &str) -> Value {
    json!({"masking_policy": level, "role": role, "tag_value": tag_value})
}

fn put(rule: Value) -> Value {
    json!({"action": "PUT", "rule": rule})
}

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "create_policy",
            args: json!({"tag": "PII_TYPE"}),
            method: "POST",
            path: "/api/v1/unified-policy/management/policy",
            query: &[],
            body: Some(json!({"identifier": "PII_TYPE", "type": "TAG"})),
        },
        Sends {
            tool: "create_policy",
            args: json!({"tag": "pii", "policy_type": "pushdown", "database_ids": [2167]}),
            method: "POST",
            path: "/api/v1/unified-policy/management/policy",
            query: &[],
            body: Some(json!({"identifier": "pii", "type": "PUSHDOWN", "database_ids": [2167]})),
        },
        Sends {
            tool: "get_supported_masking_types",
            args: json!({"policy_type": "TAG", "database_type": "Snowflake"}),
            method: "GET",
            path: SUPPORTED,
            query: &[("policy_type", "tag"), ("database_type", "snowflake")],
            body: None,
        },
        Sends {
            tool: "get_supported_masking_types",
            args: json!({"policy_type": "tag_pushdown", "database_type": "databricks"}),
            method: "GET",
            path: SUPPORTED,
            query: &[
                ("policy_type", "tag_pushdown"),
                ("database_type", "databricks"),
            ],
            body: None,
        },
        Sends {
            tool: "get_supported_masking_types",
            args: json!({"policy_type": "column", "field_id": 42}),
            method: "GET",
            path: SUPPORTED,
            query: &[("policy_type", "column"), ("field_id", "42")],
            body: None,
        },
    ]
}

// ---- get_policies ----

#[tokio::test]
async fn get_policies_of_one_type_follows_last_evaluated_key() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        POLICY,
        vec![
            (
                vec![("policy_type", "TAG")],
                200,
                json!({"success": true, "data": {"policies": [{"id": "TAG#1"}], "last_evaluated_key": {"pk": "TAG#1", "sk": 7}}}),
            ),
            (
                vec![("policy_type", "TAG"), ("exclusive_start_key", r#"{"pk":"TAG#1","sk":7}"#)],
                200,
                json!({"success": true, "data": {"policies": [{"id": "TAG#2"}], "last_evaluated_key": "k2"}}),
            ),
            (
                vec![("policy_type", "TAG"), ("exclusive_start_key", "k2")],
                200,
                json!({"success": true, "data": {"policies": [{"id": "TAG#3"}], "last_evaluated_key": null}}),
            ),
        ],
    )
    .await;
    let c = h.call("get_policies", json!({"policy_type": "tag"})).await;
    assert_eq!(
        c.ok(),
        &json!({"policies": [{"id": "TAG#1"}, {"id": "TAG#2"}, {"id": "TAG#3"}], "count": 3})
    );
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    assert_request(&r[0], "GET", POLICY, &[("policy_type", "TAG")], None);
    assert_request(
        &r[1],
        "GET",
        POLICY,
        &[
            ("policy_type", "TAG"),
            ("exclusive_start_key", r#"{"pk":"TAG#1","sk":7}"#),
        ],
        None,
    );
    assert_request(
        &r[2],
        "GET",
        POLICY,
        &[("policy_type", "TAG"), ("exclusive_start_key", "k2")],
        None,
    );
}

#[tokio::test]
async fn get_policies_without_a_type_asks_for_each_of_the_seven() {
    let h = Harness::start().await;
    let mut pages: Vec<Page<'_>> = TYPES
        .iter()
        .map(|t| {
            let key = if *t == "TAG" {
                json!("next")
            } else {
                Value::Null
            };
            (
                vec![("policy_type", *t)],
                200,
                json!({"data": {"policies": [{"type": t}], "last_evaluated_key": key}}),
            )
        })
        .collect();
    pages.push((
        vec![("policy_type", "TAG"), ("exclusive_start_key", "next")],
        200,
        json!({"data": {"policies": [{"type": "TAG", "page": 2}]}}),
    ));
    serve_pages(&h, "GET", POLICY, pages).await;
    let c = h.call("get_policies", none()).await;
    let mut want = vec![json!({"type": "TAG"}), json!({"type": "TAG", "page": 2})];
    want.extend(TYPES[1..].iter().map(|t| json!({"type": t})));
    assert_eq!(c.ok(), &json!({"policies": want, "count": 8}));
    // The types are read side by side, so in any order; the result keeps the types' order, and
    // a type's second page follows its first.
    let r = h.requests().await;
    assert_eq!(r.len(), 8);
    let asked: Vec<Vec<(String, String)>> = r.iter().map(query_of).collect();
    for t in TYPES {
        assert!(asked.contains(&q(&[("policy_type", t)])), "{t} asked");
    }
    let first = asked
        .iter()
        .position(|a| a == &q(&[("policy_type", "TAG")]));
    let second = asked
        .iter()
        .position(|a| a == &q(&[("policy_type", "TAG"), ("exclusive_start_key", "next")]));
    assert!(first < second && second.is_some());
    for req in &r {
        assert_eq!(req.method.as_str(), "GET");
        assert_eq!(req.url.path(), POLICY);
    }
}

#[tokio::test]
async fn get_policies_refuses_a_repeated_cursor() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        POLICY,
        vec![
            (
                vec![("policy_type", "ROW")],
                200,
                json!({"data": {"policies": [{"id": 1}], "last_evaluated_key": "same"}}),
            ),
            (
                vec![("policy_type", "ROW"), ("exclusive_start_key", "same")],
                200,
                json!({"data": {"policies": [{"id": 2}], "last_evaluated_key": "same"}}),
            ),
        ],
    )
    .await;
    let c = h.call("get_policies", json!({"policy_type": "ROW"})).await;
    assert!(c.is_error, "{}", c.envelope);
    assert_eq!(c.data(), &Value::Null);
    assert_eq!(c.error()["code"], "upstream_invalid_response");
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("same `exclusive_start_key` cursor twice"));
    assert_eq!(h.requests().await.len(), 2);
}

#[tokio::test]
async fn get_policies_reports_an_error_on_a_later_type() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        POLICY,
        vec![
            (
                vec![("policy_type", "TAG")],
                200,
                json!({"data": {"policies": [{"id": 1}]}}),
            ),
            (
                vec![("policy_type", "COLUMN")],
                403,
                json!({"message": "column policies not enabled"}),
            ),
        ],
    )
    .await;
    let c = h.call("get_policies", none()).await;
    // The types are read side by side; the first failing one, in the types' order, is reported.
    c.upstream(403);
    assert_eq!(h.requests().await.len(), TYPES.len());
}

// ---- get_rules ----

#[tokio::test]
async fn get_rules_lists_every_rule_of_every_page_flat() {
    let at = "/api/v1/unified-policy/management/policy/TAG%23p1/rules";
    for policy_id in ["TAG#p1", "TAG%23p1"] {
        let h = Harness::start().await;
        serve_pages(
            &h,
            "GET",
            at,
            vec![
                (
                    vec![],
                    200,
                    json!({"data": {"items": {"h1": [{"id": "r1"}], "h2": [{"id": "r2"}]}, "last_evaluated_key": "c1"}}),
                ),
                (
                    vec![("exclusive_start_key", "c1")],
                    200,
                    json!({"data": {"items": {"h1": [{"id": "r3"}], "h3": [{"id": "r4"}]}}}),
                ),
            ],
        )
        .await;
        let c = h.call("get_rules", json!({"policy_id": policy_id})).await;
        assert_eq!(
            c.ok(),
            // One flat list in ALTR's group order, each rule as it came, and the count.
            &json!({"rules": [{"id": "r1"}, {"id": "r3"}, {"id": "r2"}, {"id": "r4"}], "count": 4})
        );
        let r = h.requests().await;
        assert_eq!(r.len(), 2);
        assert_request(&r[0], "GET", at, &[], None);
        assert_request(&r[1], "GET", at, &[("exclusive_start_key", "c1")], None);
    }
}

// ---- get_supported_masking_types ----

#[tokio::test]
async fn get_supported_masking_types_drops_10010_entries() {
    let h = Harness::start().await;
    let answer = json!({"success": true, "data": [
        {"masking_type": 10000, "name": "No Mask"},
        {"masking_type": "10010", "name": "Policy Error at Runtime"},
        {"masking_type": 10010, "name": "Policy Error at Runtime"},
        {"masking_type": " 10010 ", "name": "Policy Error at Runtime"},
        {"masking_type": "10003", "name": "Show Last Four"},
        {"name": "malformed"},
    ]});
    h.mock("GET", SUPPORTED, 200, answer).await;
    let c = h
        .call("get_supported_masking_types", json!({"policy_type": "tag"}))
        .await;
    assert_eq!(
        c.ok(),
        &json!([
            {"masking_type": 10000, "name": "No Mask"},
            {"masking_type": "10003", "name": "Show Last Four"},
            {"name": "malformed"},
        ])
    );
    assert_request(
        &h.only_request().await,
        "GET",
        SUPPORTED,
        &[("policy_type", "tag")],
        None,
    );
}

// ---- create_policy ----

#[tokio::test]
async fn create_policy_returns_the_response_data() {
    let cases = [
        (
            json!({"tag": "PII"}),
            json!({"identifier": "PII", "type": "TAG"}),
            json!({"success": true, "data": {"policy_id": "TAG#abc", "created": true}}),
            json!({"policy_id": "TAG#abc", "created": true}),
        ),
        (
            json!({"tag": "pii", "policy_type": "pushdown", "database_ids": [3, 4]}),
            json!({"identifier": "pii", "type": "PUSHDOWN", "database_ids": [3, 4]}),
            json!({"success": true, "data": {"policy_id": "PUSHDOWN#d"}}),
            json!({"policy_id": "PUSHDOWN#d"}),
        ),
        // No policy_id in the answer: the whole answer is returned, not lost.
        (
            json!({"tag": "PII", "policy_type": "TAG"}),
            json!({"identifier": "PII", "type": "TAG"}),
            json!({"success": true, "message": "accepted"}),
            json!({"message": "accepted"}),
        ),
    ];
    for (args, body, answer, data) in cases {
        let h = Harness::start().await;
        h.mock("POST", POLICY, 200, answer).await;
        let c = h.call("create_policy", args).await;
        assert_eq!(c.ok(), &data);
        assert_request(&h.only_request().await, "POST", POLICY, &[], Some(body));
    }
}

// ---- add_rules ----

const TAG_BATCH: &str = "/api/v1/unified-policy/management/policy/TAG%23p1/rules/batch";
const PUSHDOWN_BATCH: &str = "/api/v1/unified-policy/management/policy/PUSHDOWN%23p2/rules/batch";

#[tokio::test]
async fn add_rules_on_a_tag_policy_checks_levels_then_patches() {
    for policy_id in ["TAG#p1", "TAG%23p1"] {
        let h = Harness::start().await;
        mock_tag_levels(&h, &[10000, 10001, 10002, 10003, 10004]).await;
        let answer = json!({"success": true, "data": {"updated": 2}});
        h.mock("PATCH", TAG_BATCH, 200, answer.clone()).await;
        let rules = json!([
            rule(json!("10001"), "ANALYST", "SSN"),
            {"masking_policy": 10003, "role": "SUPPORT", "tag_value": "PHONE", "comment": "kept"},
        ]);
        let c = h
            .call("add_rules", json!({"policy_id": policy_id, "rules": rules}))
            .await;
        assert_eq!(c.ok(), &json!({"rules_added": 2, "batches": [answer]}));
        let r = h.requests().await;
        assert_eq!(r.len(), 2, "{policy_id}");
        assert_lookup(&r[0]);
        assert_request(
            &r[1],
            "PATCH",
            TAG_BATCH,
            &[],
            Some(json!({"rules": [
                put(rule(json!(10001), "ANALYST", "SSN")),
                put(json!({"masking_policy": 10003, "role": "SUPPORT", "tag_value": "PHONE", "comment": "kept"})),
            ]})),
        );
    }
}

#[tokio::test]
async fn add_rules_accepts_rules_as_json_text_and_never_looks_up_pushdown() {
    let h = Harness::start().await;
    h.mock("PATCH", PUSHDOWN_BATCH, 200, json!({"success": true}))
        .await;
    let text = r#"[{"masking_policy": 10007, "role": "ANALYST", "tag_value": "SSN"}]"#;
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "PUSHDOWN#p2", "rules": text}),
        )
        .await;
    assert_eq!(
        c.ok(),
        &json!({"rules_added": 1, "batches": [{"success": true}]})
    );
    assert_request(
        &h.only_request().await,
        "PATCH",
        PUSHDOWN_BATCH,
        &[],
        Some(json!({"rules": [put(rule(json!(10007), "ANALYST", "SSN"))]})),
    );
}

fn many_rules(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| rule(json!(10001), &format!("ROLE_{i}"), "SSN"))
        .collect()
}

#[tokio::test]
async fn add_rules_sends_batches_of_99() {
    let h = Harness::start().await;
    h.mock("PATCH", PUSHDOWN_BATCH, 200, json!({"success": true}))
        .await;
    let rules = many_rules(150);
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "PUSHDOWN#p2", "rules": rules}),
        )
        .await;
    assert_eq!(
        c.ok(),
        &json!({"rules_added": 150, "batches": [{"success": true}, {"success": true}]})
    );
    let r = h.requests().await;
    assert_eq!(r.len(), 2);
    let first: Vec<Value> = rules[..99].iter().cloned().map(put).collect();
    let second: Vec<Value> = rules[99..].iter().cloned().map(put).collect();
    assert_eq!((first.len(), second.len()), (99, 51));
    assert_request(
        &r[0],
        "PATCH",
        PUSHDOWN_BATCH,
        &[],
        Some(json!({"rules": first})),
    );
    assert_request(
        &r[1],
        "PATCH",
        PUSHDOWN_BATCH,
        &[],
        Some(json!({"rules": second})),
    );
}

#[tokio::test]
async fn add_rules_reports_a_failed_second_batch_as_partially_applied() {
    let h = Harness::start().await;
    Mock::given(method("PATCH"))
        .and(path(PUSHDOWN_BATCH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .up_to_n_times(1)
        .mount(&h.api)
        .await;
    h.mock("PATCH", PUSHDOWN_BATCH, 403, json!({"message": "quota"}))
        .await;
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "PUSHDOWN#p2", "rules": many_rules(150)}),
        )
        .await;
    assert!(c.is_error, "{}", c.envelope);
    assert_eq!(c.data(), &Value::Null);
    let e = c.error();
    assert_eq!(e["code"], "partially_applied");
    assert_eq!(e["details"]["rules_added"], 99);
    assert_eq!(e["details"]["rules_total"], 150);
    assert_eq!(e["details"]["error"]["status"], 403);
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("Batch 2 of 2 failed"));
    assert_eq!(h.requests().await.len(), 2);
}

#[tokio::test]
async fn add_rules_reports_a_failed_first_batch_as_the_upstream_error() {
    let h = Harness::start().await;
    h.mock(
        "PATCH",
        PUSHDOWN_BATCH,
        404,
        json!({"message": "no policy"}),
    )
    .await;
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "PUSHDOWN#p2", "rules": many_rules(150)}),
        )
        .await;
    c.upstream(404);
    assert_eq!(h.requests().await.len(), 1);
}

#[tokio::test]
async fn tag_levels_are_looked_up_once_and_cached() {
    let h = Harness::start().await;
    mock_tag_levels(&h, &[10000, 10001, 10002, 10003, 10004]).await;
    h.mock("PATCH", TAG_BATCH, 200, json!({"success": true}))
        .await;
    let rule_path = "/api/v1/unified-policy/management/policy/TAG%23p1/rules/r1";
    h.mock("PATCH", rule_path, 200, json!({"success": true}))
        .await;
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": [rule(json!(10002), "A", "SSN")]}),
        )
        .await;
    c.ok();
    let c = h
        .call(
            "update_rule",
            json!({"policy_id": "TAG%23p1", "rule_id": "r1", "masking_policy": 10004}),
        )
        .await;
    c.ok();
    // The cached list still refuses what it does not hold, without asking again.
    let c = h
        .call(
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "masking_policy": 10005}),
        )
        .await;
    c.invalid("masking_policy");
    // update_rule also reads the rule first (its before-state); those reads are not counted here.
    let r: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| !(r.method.as_str() == "GET" && r.url.path().ends_with("/rules")))
        .collect();
    assert_eq!(r.len(), 3);
    assert_lookup(&r[0]);
    assert_request(
        &r[1],
        "PATCH",
        TAG_BATCH,
        &[],
        Some(json!({"rules": [put(rule(json!(10002), "A", "SSN"))]})),
    );
    assert_request(
        &r[2],
        "PATCH",
        rule_path,
        &[],
        Some(json!({"masking_policy": 10004})),
    );
}

#[tokio::test]
async fn a_failed_lookup_falls_back_and_is_asked_again() {
    let h = Harness::start().await;
    h.mock("GET", SUPPORTED, 403, json!({"message": "forbidden"}))
        .await;
    h.mock("PATCH", TAG_BATCH, 200, json!({"success": true}))
        .await;
    // 10005 is outside the fallback set 10000-10004.
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": [rule(json!(10005), "A", "SSN")]}),
        )
        .await;
    c.invalid("rules[0].masking_policy");
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("use one of 10000, 10001, 10002, 10003, 10004"));
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": [rule(json!(10004), "A", "SSN")]}),
        )
        .await;
    c.ok();
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    assert_lookup(&r[0]);
    assert_lookup(&r[1]);
    assert_request(
        &r[2],
        "PATCH",
        TAG_BATCH,
        &[],
        Some(json!({"rules": [put(rule(json!(10004), "A", "SSN"))]})),
    );
}

#[tokio::test]
async fn the_api_list_decides_which_levels_a_tag_policy_takes() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        SUPPORTED,
        200,
        supported(&[json!(10000), json!("10001"), json!(10010)]),
    )
    .await;
    let c = h
        .call(
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": [
                rule(json!(10001), "A", "SSN"),
                rule(json!(10003), "B", "SSN"),
                rule(json!(10004), "C", "SSN"),
            ]}),
        )
        .await;
    c.invalid("rules[1].masking_policy");
    let message = c.error()["message"].as_str().unwrap();
    assert!(
        message.contains(
            "masking level 10003, 10004 is not supported on a tag policy; use one of 10000, 10001"
        ),
        "{message}"
    );
    assert_lookup(&h.only_request().await);
}

#[tokio::test]
async fn update_rule_refuses_a_bad_id_before_the_lookup() {
    let h = Harness::start().await;
    for rule_id in ["..", ""] {
        let c = h
            .call(
                "update_rule",
                json!({"policy_id": "TAG#p1", "rule_id": rule_id, "masking_policy": 10001}),
            )
            .await;
        c.invalid("rule_id");
    }
    h.assert_no_requests().await;
}

// ---- get_roles ----

#[tokio::test]
async fn get_roles_pages_by_offset_until_the_count() {
    let h = Harness::start().await;
    let groups = |names: &[&str]| -> Value {
        names
            .iter()
            .map(|n| json!({"userGroupName": n, "id": 1}))
            .collect()
    };
    serve_pages(
        &h,
        "GET",
        ROLES,
        vec![
            (
                vec![("offset", "0")],
                200,
                json!({"data": {"userGroups": groups(&["ANALYST", "ADMIN"]), "count": 5}}),
            ),
            (
                vec![("offset", "2")],
                200,
                json!({"data": {"userGroups": groups(&["SUPPORT", "HR"]), "count": 5}}),
            ),
            (
                vec![("offset", "4")],
                200,
                json!({"data": {"userGroups": groups(&["FINANCE"]), "count": 5}}),
            ),
        ],
    )
    .await;
    let c = h.call("get_roles", none()).await;
    assert_eq!(
        c.ok(),
        &json!({"roles": ["ANALYST", "ADMIN", "SUPPORT", "HR", "FINANCE"], "count": 5})
    );
    let r = h.requests().await;
    assert_eq!(r.len(), 3);
    for (req, offset) in r.iter().zip(["0", "2", "4"]) {
        assert_request(req, "GET", ROLES, &[("offset", offset)], None);
    }
}

#[tokio::test]
async fn get_roles_stops_on_an_empty_page_and_reports_errors() {
    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        ROLES,
        vec![
            (
                vec![("offset", "0")],
                200,
                json!({"data": {"userGroups": [{"userGroupName": "A"}], "count": 9}}),
            ),
            (
                vec![("offset", "1")],
                200,
                json!({"data": {"userGroups": [], "count": 9}}),
            ),
        ],
    )
    .await;
    let c = h.call("get_roles", none()).await;
    assert_eq!(c.ok(), &json!({"roles": ["A"], "count": 1}));
    assert_eq!(h.requests().await.len(), 2);

    let h = Harness::start().await;
    serve_pages(
        &h,
        "GET",
        ROLES,
        vec![
            (
                vec![("offset", "0")],
                200,
                json!({"data": {"userGroups": [{"userGroupName": "A"}], "count": 9}}),
            ),
            (vec![("offset", "1")], 401, json!({"message": "expired"})),
        ],
    )
    .await;
    let c = h.call("get_roles", none()).await;
    c.upstream(401);
    assert_eq!(h.requests().await.len(), 2);
}

// ---- errors ----

#[tokio::test]
async fn invalid_arguments_are_refused_before_any_request() {
    let h = Harness::start().await;
    let one = |level: Value| json!([rule(level, "A", "SSN")]);
    let window = |hour: u8, minute: u8| {
        json!({
            "day": ["MONDAY"], "start_time": {"hour": 8, "minute": 0}, "end_time": {"hour": hour, "minute": minute},
            "timezone": "UTC", "action": "BLOCK",
        })
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        // (Unknown, missing and mistyped parameters: generated for every tool.)
        // Enumerations.
        (
            "get_policies",
            json!({"policy_type": SECRET}),
            "policy_type",
        ),
        (
            "get_supported_masking_types",
            json!({"policy_type": "row"}),
            "policy_type",
        ),
        (
            "get_supported_masking_types",
            json!({"policy_type": "tag", "database_type": "oracle"}),
            "database_type",
        ),
        (
            "get_supported_masking_types",
            json!({"policy_type": "column"}),
            "field_id",
        ),
        (
            "create_policy",
            json!({"tag": "PII", "policy_type": "MASK"}),
            "policy_type",
        ),
        (
            "create_policy",
            json!({"tag": "PII", "database_ids": [1]}),
            "database_ids",
        ),
        (
            "create_policy",
            json!({"tag": "PII", "policy_type": "tag", "database_ids": [1]}),
            "database_ids",
        ),
        (
            "create_policy",
            json!({"tag": "PII", "policy_type": "PUSHDOWN", "database_ids": []}),
            "database_ids",
        ),
        ("create_policy", json!({"tag": " "}), "tag"),
        // Rules and levels: refused before the tag-policy lookup too.
        (
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": []}),
            "rules",
        ),
        (
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": "[]"}),
            "rules",
        ),
        (
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": one(json!(10010))}),
            "rules[0].masking_policy",
        ),
        (
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": one(json!("10010"))}),
            "rules[0].masking_policy",
        ),
        (
            "add_rules",
            json!({"policy_id": "PUSHDOWN#p2", "rules": one(json!(9999))}),
            "rules[0].masking_policy",
        ),
        (
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": [rule(json!(10001), "A", "S"), rule(json!(10010), "B", "S")]}),
            "rules[1].masking_policy",
        ),
        (
            "add_rules",
            json!({"policy_id": "TAG#p1", "rules": [rule(json!(10001), " ", "S")]}),
            "rules[0].role",
        ),
        (
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "masking_policy": 10010}),
            "masking_policy",
        ),
        (
            "update_rule",
            json!({"policy_id": "TAG%23p1", "rule_id": "r1", "masking_policy": "10010"}),
            "masking_policy",
        ),
        (
            "update_rule",
            json!({"policy_id": "PUSHDOWN#p2", "rule_id": "r1", "masking_policy": 9999}),
            "masking_policy",
        ),
        (
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1"}),
            "masking_policy",
        ),
        (
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "role": null, "tag_value": null}),
            "role",
        ),
        (
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "time_window_thresholds": window(24, 0)}),
            "time_window_thresholds[0].end_time",
        ),
        (
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "time_window_thresholds": [window(17, 0), window(23, 60)]}),
            "time_window_thresholds[1].end_time",
        ),
        // Ids that would change the URL.
        ("get_rules", json!({"policy_id": ".."}), "policy_id"),
        ("get_rules", json!({"policy_id": "%2E%2E"}), "policy_id"),
        ("delete_policy", json!({"policy_id": ""}), "policy_id"),
        ("delete_policy", json!({"policy_id": "."}), "policy_id"),
        (
            "delete_rule",
            json!({"policy_id": "TAG#p1", "rule_id": ".."}),
            "rule_id",
        ),
        (
            "add_rules",
            json!({"policy_id": "..", "rules": one(json!(10001))}),
            "policy_id",
        ),
        (
            "update_rule",
            json!({"policy_id": "", "rule_id": "r1", "role": "A"}),
            "policy_id",
        ),
    ];
    for (tool, args, parameter) in cases {
        assert_refused(&h, tool, args, parameter).await;
    }
}
