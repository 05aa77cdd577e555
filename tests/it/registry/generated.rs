//! Rows generated for every tool from the registry and the domains' request tables: the exact
//! request of every table row, an upstream 4xx, an unknown parameter, each missing required
//! parameter, each parameter with a wrong type, and hostile path ids. A domain adds its table to
//! [`tables`]; everything else follows from its tool declarations.

use altr_mcp::registry::ToolDef;
use serde_json::{json, Map, Value};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

/// Every domain's hand-written request table.
pub(crate) fn tables() -> Vec<Sends> {
    [
        crate::databases::table(),
        crate::tags::table(),
        crate::policies::table(),
        crate::classification::table(),
        crate::telemetry::table(),
        crate::sidecars::table(),
        crate::keys::table(),
        crate::access::table(),
        crate::audits::table(),
        crate::dam::table(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Tools with no table row, and where their requests are tested instead: each sends several
/// requests or reshapes the answer, so a one-request row cannot describe it.
const HAND_TESTED: &[(&str, &str)] = &[
    ("get_database_id", "toolsets::databases::get_database_id_*"),
    ("get_tags", "toolsets::tags::get_tags_*"),
    ("get_tag_values", "toolsets::tags::get_tag_values_*"),
    ("connect_tag", "toolsets::tags::connect_tag_*"),
    ("get_policies", "toolsets::policies::get_policies_*"),
    ("get_rules", "toolsets::policies::get_rules_*"),
    ("get_roles", "toolsets::policies::get_roles_*"),
    ("add_rules", "toolsets::policies::add_rules_*"),
    ("update_rule", "features::safe::update_rule_*"),
    ("delete_rule", "features::safe::delete_rule_*"),
    ("delete_policy", "features::safe::delete_policy_*"),
    ("preview_masking", "features::safe::preview_masking_*"),
    ("disconnect_tag", "features::safe::declared_reads_before_*"),
    ("update_dam_rule", "features::safe::declared_reads_before_*"),
    ("delete_dam_rule", "features::safe::declared_reads_before_*"),
    (
        "deactivate_tweak",
        "features::safe::declared_reads_before_*",
    ),
    ("deactivate_key", "features::safe::declared_reads_before_*"),
    (
        "approve_access_request",
        "features::safe::declared_reads_before_*",
    ),
    (
        "deny_access_request",
        "features::safe::declared_reads_before_*",
    ),
    (
        "cancel_access_request",
        "features::safe::declared_reads_before_*",
    ),
    (
        "update_snowflake_access_policy",
        "toolsets::access::update_snowflake_access_policy_*",
    ),
    (
        "get_classifiers",
        "toolsets::classification::get_classifiers_*",
    ),
    (
        "get_collections",
        "toolsets::classification::get_collections_*",
    ),
    (
        "get_classification_report",
        "toolsets::classification::get_classification_report_*",
    ),
    ("vault_tokenize", "toolsets::tokenization::vault_*"),
    ("vault_detokenize", "toolsets::tokenization::vault_*"),
    (
        "vault_partial_detokenize",
        "toolsets::tokenization::vault_*",
    ),
    ("vault_delete_tokens", "toolsets::tokenization::vault_*"),
    ("critical_tokenize", "toolsets::tokenization::critical_*"),
    ("critical_detokenize", "toolsets::tokenization::critical_*"),
    (
        "critical_partial_detokenize",
        "toolsets::tokenization::critical_*",
    ),
    (
        "critical_delete_tokens",
        "toolsets::tokenization::critical_*",
    ),
    ("enter_support_mode", "features::support::*"),
    ("request_write_unlock", "features::support::*"),
    ("exit_support_mode", "features::support::*"),
];

/// The generated rows exercise every tool, so the clear-text gate is open for them.
const EVERY_TOOL: &[(&str, &str)] = &[("ALTR_ALLOW_CLEARTEXT", "true")];

fn all() -> Vec<ToolDef> {
    altr_mcp::toolsets::everything().tools().to_vec()
}

/// The first table row of each tool, whose arguments are the tool's valid example.
fn example(rows: &[Sends], tool: &str) -> Option<Value> {
    rows.iter().find(|r| r.tool == tool).map(|r| r.args.clone())
}

/// A valid value for a parameter schema, for tools without a table row.
fn sample(schema: &Value) -> Value {
    if let Some(values) = schema["enum"].as_array() {
        return values.first().cloned().unwrap_or(Value::Null);
    }
    if let Some(alts) = schema["anyOf"].as_array() {
        return alts.first().map(sample).unwrap_or(Value::Null);
    }
    match schema["type"].as_str() {
        Some("integer") | Some("number") => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
        Some("boolean") => json!(true),
        Some("array") => json!([sample(&schema["items"])]),
        Some("object") => {
            let mut o = Map::new();
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            for r in required {
                let name = r.as_str().unwrap_or_default();
                o.insert(name.into(), sample(&schema["properties"][name]));
            }
            let least = schema["minProperties"].as_u64().unwrap_or(0) as usize;
            for i in o.len()..least {
                o.insert(format!("key{i}"), sample(&schema["additionalProperties"]));
            }
            Value::Object(o)
        }
        _ => json!("sample"),
    }
}

/// Valid examples of hand-tested tools whose parameters a sample cannot make valid.
fn hand_examples(tool: &str) -> Option<Value> {
    match tool {
        "update_snowflake_access_policy" => Some(
            json!({"policy_id": "ACCESS#p1", "policy_name": "P2", "rules": [crate::access::sf_rule()], "replace_all": true}),
        ),
        "add_rules" => Some(
            json!({"policy_id": "PUSHDOWN#p2", "rules": [{"masking_policy": 10000, "role": "ANALYST", "tag_value": "x"}]}),
        ),
        "update_rule" => {
            Some(json!({"policy_id": "PUSHDOWN#p2", "rule_id": "r1", "role": "ANALYST"}))
        }
        "update_dam_rule" => Some(json!({"rule_id": "r1", "severity": "low"})),
        "connect_tag" => Some(
            json!({"database_name": "Sales Analytics", "schema_name": "PUBLIC", "tag_name": "PII"}),
        ),
        _ => None,
    }
}

pub(crate) fn valid_args(rows: &[Sends], t: &ToolDef) -> Value {
    example(rows, t.name)
        .or_else(|| hand_examples(t.name))
        .unwrap_or_else(|| {
            let schema = Value::Object((t.schema)());
            let mut o = Map::new();
            for r in schema["required"].as_array().cloned().unwrap_or_default() {
                let name = r.as_str().unwrap_or_default();
                o.insert(name.into(), sample(&schema["properties"][name]));
            }
            Value::Object(o)
        })
}

/// A value of the wrong type for a parameter, carrying SECRET where it can, or None when the
/// parameter takes any JSON.
fn wrong(schema: &Value) -> Option<Value> {
    if schema.get("anyOf").is_some() {
        return Some(json!(7.5));
    }
    if schema.get("enum").is_some() {
        return Some(json!(SECRET));
    }
    match schema["type"].as_str()? {
        "string" => Some(json!({"k": SECRET})),
        "integer" | "number" | "boolean" => Some(json!(SECRET)),
        "array" => Some(json!({"k": SECRET})),
        "object" => Some(json!(7.5)),
        _ => None,
    }
}

#[tokio::test]
async fn every_tool_has_a_table_row_or_a_hand_written_test() {
    let rows = tables();
    let missing: Vec<&str> = all()
        .iter()
        .map(|t| t.name)
        .filter(|n| !rows.iter().any(|r| r.tool == *n) && !HAND_TESTED.iter().any(|(h, _)| h == n))
        .collect();
    assert!(
        missing.is_empty(),
        "no request-table row for {missing:?}; add one to the domain's table()"
    );
    for t in all() {
        let has_row = rows.iter().any(|r| r.tool == t.name);
        assert!(
            // A declarative tool that reads its target first sends two requests: hand-tested.
            t.endpoint.is_none()
                || has_row
                || t.endpoint.as_ref().is_some_and(|e| e.before.is_some()),
            "{} is declarative and needs a table row",
            t.name
        );
    }
    for r in &rows {
        assert!(
            all().iter().any(|t| t.name == r.tool),
            "table row for unknown tool {}",
            r.tool
        );
    }
}

#[tokio::test]
async fn every_row_sends_exactly_its_request() {
    let h = Harness::with_env(EVERY_TOOL).await;
    for row in tables() {
        h.api.reset().await;
        let payload = json!({"success": true, "data": {"answer_for": row.tool}});
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_json(payload.clone()))
            .mount(&h.api)
            .await;
        let c = h.call(row.tool, row.args.clone()).await;
        // ALTR's own envelope is taken off: the result's data is ALTR's payload.
        assert_eq!(c.ok(), &payload["data"], "{} {}", row.tool, row.args);
        assert_request(
            &h.only_request().await,
            row.method,
            row.path,
            row.query,
            row.body.clone(),
        );
    }
}

#[tokio::test]
async fn every_tool_reports_an_upstream_4xx_as_a_failure_with_a_hint() {
    let h = Harness::with_env(EVERY_TOOL).await;
    let rows = tables();
    for (i, t) in all().iter().enumerate() {
        let Some(row) = rows.iter().find(|r| r.tool == t.name) else {
            continue;
        };
        let status = [401u16, 403, 404][i % 3];
        h.api.reset().await;
        Mock::given(matchers::any())
            .respond_with(
                ResponseTemplate::new(status).set_body_json(json!({"message": "upstream says no"})),
            )
            .mount(&h.api)
            .await;
        let c = h.call(t.name, row.args.clone()).await;
        c.upstream(status);
        assert_hint(&c, status);
        let message = c.error()["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("upstream says no"),
            "{}: {}",
            t.name,
            c.envelope
        );
        let r = h.only_request().await;
        assert_eq!(
            (r.method.as_str(), r.url.path()),
            (row.method, row.path),
            "{}",
            t.name
        );
    }
}

/// Call with `args`; it must be refused naming `parameter` (or a part of it), echo no SECRET,
/// and send nothing.
async fn refused(h: &Harness, tool: &str, args: Value, parameter: &str, what: &str) {
    let before = h.requests().await.len();
    let c = h.call(tool, args.clone()).await;
    assert!(c.is_error, "{tool}: {what} was accepted: {args}");
    let e = c.error();
    assert_eq!(
        e["code"], "invalid_argument",
        "{tool}: {what}: {}",
        c.envelope
    );
    let named = e["parameter"].as_str().unwrap_or_default();
    assert!(
        named == parameter
            || named.starts_with(&format!("{parameter}."))
            || named.starts_with(&format!("{parameter}["))
            || named.split(',').any(|n| n == parameter),
        "{tool}: {what}: names `{named}`, not `{parameter}`: {}",
        c.envelope
    );
    assert!(
        !c.text.contains(SECRET),
        "{tool}: {what}: echoed the value: {}",
        c.text
    );
    assert_eq!(
        h.requests().await.len(),
        before,
        "{tool}: {what}: a request was sent"
    );
}

#[tokio::test]
async fn every_tool_refuses_unknown_missing_and_wrongly_typed_arguments() {
    let h = Harness::with_env(EVERY_TOOL).await;
    let rows = tables();
    for t in all() {
        let base = valid_args(&rows, &t);
        let schema = Value::Object((t.schema)());

        let mut extra = base.clone();
        extra["bogus_parameter"] = json!(SECRET);
        refused(&h, t.name, extra, "bogus_parameter", "an unknown parameter").await;

        for r in schema["required"].as_array().cloned().unwrap_or_default() {
            let name = r.as_str().unwrap_or_default();
            let mut args = base.clone();
            args.as_object_mut().unwrap().remove(name);
            refused(&h, t.name, args, name, "a missing required parameter").await;
        }

        for (name, p) in schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default()
        {
            let Some(bad) = wrong(&p) else { continue };
            let mut args = base.clone();
            args[name.as_str()] = bad;
            refused(&h, t.name, args, &name, "a wrongly typed parameter").await;
        }
    }
}

#[tokio::test]
async fn every_path_id_is_one_encoded_segment_and_dot_segments_are_refused() {
    let h = Harness::with_env(EVERY_TOOL).await;
    let rows = tables();
    for t in all() {
        let Some(endpoint) = &t.endpoint else {
            continue;
        };
        let Some(row) = rows.iter().find(|r| r.tool == t.name) else {
            continue;
        };
        let schema = Value::Object((t.schema)());
        for (hole, _) in endpoint.holes() {
            if schema["properties"][hole]["type"] != "string" {
                continue;
            }
            let mut args = row.args.clone();
            args[hole] = json!("..");
            refused(&h, t.name, args, hole, "a `..` path id").await;

            h.api.reset().await;
            Mock::given(matchers::any())
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
                .mount(&h.api)
                .await;
            let mut args = row.args.clone();
            args[hole] = json!("a/b?c#d");
            h.call(t.name, args).await.ok();
            let r = h.only_request().await;
            let path = r.url.path();
            assert!(
                path.split('/').any(|s| s == "a%2Fb%3Fc%23d"),
                "{}: {hole} not encoded as one segment: {path}",
                t.name
            );
            assert_eq!(
                path.matches('/').count(),
                row.path.matches('/').count(),
                "{}: {hole} changed the path's shape: {path}",
                t.name
            );
            h.api.reset().await;
        }
    }
}

/// `want` with every secret field masked as a dry run shows it.
fn shown(want: &Value) -> Value {
    altr_mcp::safety::redact::redact_secrets(want)
}

#[tokio::test]
async fn every_write_rows_dry_run_shows_each_non_secret_field_it_would_send() {
    let h = Harness::with_env(EVERY_TOOL).await;
    let writes: Vec<String> = all()
        .iter()
        // A tool with its own dry_run (ALTR evaluates it) is not rehearsed by the server.
        .filter(|t| altr_mcp::registry::flags::takes_dry_run(t))
        .map(|t| t.name.to_string())
        .collect();
    let mut checked = 0;
    for row in tables()
        .into_iter()
        .filter(|r| writes.iter().any(|w| w == r.tool))
    {
        h.api.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .mount(&h.api)
            .await;
        let mut args = row.args.clone();
        if let Some(o) = args.as_object_mut() {
            o.insert("dry_run".into(), json!(true));
        }
        let c = h.call(row.tool, args).await;
        let data = c.ok();
        let sent = data["would_send"]
            .as_array()
            .and_then(|w| w.iter().find(|w| w["method"] == row.method))
            .unwrap_or_else(|| panic!("{}: would_send has the {} in {data}", row.tool, row.method));
        // The row's path carries the fake API's service prefix; would_send names the service.
        let path = sent["path"].as_str().unwrap_or_default();
        assert!(
            row.path.ends_with(path) && !path.is_empty(),
            "{}: {path} / {}",
            row.tool,
            row.path
        );
        match &row.body {
            Some(body) => assert_eq!(sent["body"], shown(body), "{}: the body shown", row.tool),
            None => assert!(sent["body"].is_null(), "{}", row.tool),
        }
        for (k, v) in row.query {
            let shown_value = &sent["query"][*k];
            if !altr_mcp::safety::redact::is_secret(k) {
                assert!(
                    shown_value == &json!(v)
                        || shown_value
                            .as_array()
                            .is_some_and(|a| a.contains(&json!(v))),
                    "{}: query {k} shown as {shown_value}",
                    row.tool
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} write rows");
}
