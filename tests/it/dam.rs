//! DAM alerting through MCP against the fake ALTR API and the sandbox.

use crate::common::*;
use serde_json::json;

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "list_dam_rules",
            args: json!({"limit": 25, "contiguous_id": "c1", "enabled": true, "severity": "HIGH", "rule_type": "match"}),
            method: "GET",
            path: "/dam-alerting/rules",
            query: &[
                ("limit", "25"),
                ("contiguous_id", "c1"),
                ("enabled", "true"),
                ("severity", "high"),
                ("rule_type", "match"),
            ],
            body: None,
        },
        Sends {
            tool: "get_dam_rule",
            args: json!({"rule_id": "r1"}),
            method: "GET",
            path: "/dam-alerting/rules/r1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "create_dam_rule",
            args: json!({"name": "SSN reads", "rule_type": "threshold", "severity": "critical", "data_source_scope": "all", "filter_tree": "{\"field\": \"column_name\", \"op\": \"eq\", \"value\": \"SSN\"}", "description": "many SSN reads", "email_recipients": ["sec@x.com"], "window_type": "rolling_1h", "threshold": 10, "timezone": "UTC", "comment_required": true, "email_rate_limit_seconds": 600}),
            method: "POST",
            path: "/dam-alerting/rules",
            query: &[],
            body: Some(
                json!({"name": "SSN reads", "rule_type": "threshold", "severity": "critical", "data_source_scope": "all", "filter_tree": {"field": "column_name", "op": "eq", "value": "SSN"}, "enabled": false, "description": "many SSN reads", "email_recipients": ["sec@x.com"], "window_type": "rolling_1h", "threshold": 10, "timezone": "UTC", "comment_required": true, "email_rate_limit_seconds": 600}),
            ),
        },
        Sends {
            tool: "create_dam_rule",
            args: json!({"name": "Any SSN read", "rule_type": "match", "severity": "high", "data_source_scope": "all", "filter_tree": {"field": "column_name", "op": "eq", "value": "SSN"}, "enabled": true}),
            method: "POST",
            path: "/dam-alerting/rules",
            query: &[],
            body: Some(
                json!({"name": "Any SSN read", "rule_type": "match", "severity": "high", "data_source_scope": "all", "filter_tree": {"field": "column_name", "op": "eq", "value": "SSN"}, "enabled": true}),
            ),
        },
        Sends {
            tool: "update_dam_rule",
            args: json!({"rule_id": "r1", "severity": "low", "email_recipients": []}),
            method: "PATCH",
            path: "/dam-alerting/rules/r1",
            query: &[],
            body: Some(json!({"severity": "low", "email_recipients": []})),
        },
        Sends {
            tool: "delete_dam_rule",
            args: json!({"rule_id": "r1"}),
            method: "DELETE",
            path: "/dam-alerting/rules/r1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "list_dam_alerts",
            args: json!({"limit": 10, "rule_id": "r1", "state": "NEW", "severity": "critical"}),
            method: "GET",
            path: "/dam-alerting/alerts",
            query: &[
                ("limit", "10"),
                ("rule_id", "r1"),
                ("state", "new"),
                ("severity", "critical"),
            ],
            body: None,
        },
        Sends {
            tool: "get_dam_alert",
            args: json!({"alert_id": "a1"}),
            method: "GET",
            path: "/dam-alerting/alerts/a1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "acknowledge_dam_alert",
            args: json!({"alert_id": "a1"}),
            method: "PATCH",
            path: "/dam-alerting/alerts/a1/acknowledge",
            query: &[],
            body: Some(json!({})),
        },
        Sends {
            tool: "acknowledge_dam_alert",
            args: json!({"alert_id": "a1", "comment": "expected batch job"}),
            method: "PATCH",
            path: "/dam-alerting/alerts/a1/acknowledge",
            query: &[],
            body: Some(json!({"comment": "expected batch job"})),
        },
        Sends {
            tool: "list_dam_alert_comments",
            args: json!({"alert_id": "a1", "limit": 5, "contiguous_id": "c"}),
            method: "GET",
            path: "/dam-alerting/alerts/a1/comments",
            query: &[("limit", "5"), ("contiguous_id", "c")],
            body: None,
        },
        Sends {
            tool: "create_dam_alert_comment",
            args: json!({"alert_id": "a1", "text": "investigating"}),
            method: "POST",
            path: "/dam-alerting/alerts/a1/comments",
            query: &[],
            body: Some(json!({"text": "investigating"})),
        },
    ]
}

#[tokio::test]
async fn dam_values_and_combinations_are_checked_before_sending() {
    let h = Harness::start().await;
    let rule = json!({"name": "n", "rule_type": "match", "severity": "high", "data_source_scope": "all", "filter_tree": {"field": "x"}});
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(&rule, json!({"severity": "urgent"})),
        "severity",
    )
    .await;
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(&rule, json!({"rule_type": SECRET})),
        "rule_type",
    )
    .await;
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(&rule, json!({"threshold": 5})),
        "threshold",
    )
    .await;
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(&rule, json!({"window_type": "rolling_1h"})),
        "window_type",
    )
    .await;
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(
            &rule,
            json!({"rule_type": "threshold", "window_type": "rolling_1h"}),
        ),
        "threshold",
    )
    .await;
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(&rule, json!({"rule_type": "threshold", "threshold": 5})),
        "window_type",
    )
    .await;
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(&rule, json!({"filter_tree": "[1]"})),
        "filter_tree",
    )
    .await;
    assert_refused(
        &h,
        "create_dam_rule",
        with_args(&rule, json!({"filter_tree": {}})),
        "filter_tree",
    )
    .await;
    assert_refused(&h, "update_dam_rule", json!({"rule_id": "r1"}), "rule_id").await;
    assert_refused(&h, "list_dam_alerts", json!({"state": "closed"}), "state").await;
    assert_refused(&h, "list_dam_rules", json!({"limit": 101}), "limit").await;
}

#[tokio::test]
async fn filter_tree_bad_json_names_the_parameter_and_position() {
    let h = Harness::start().await;
    let c = h
        .call("create_dam_rule", json!({"name": "n", "rule_type": "match", "severity": "high", "data_source_scope": "all", "filter_tree": format!("{{\"a\": {SECRET}}}")}))
        .await;
    c.invalid("filter_tree");
    assert!(
        c.error()["message"].as_str().unwrap().contains("column"),
        "{}",
        c.envelope
    );
    assert!(!c.text.contains(SECRET));
    h.assert_no_requests().await;
}
