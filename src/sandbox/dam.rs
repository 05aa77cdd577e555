//! DAM alerting (DAM `/rules`, `/alerts`): rules whose filter tree is evaluated against the
//! org's audit events (see [`super::audits`]); enabling a rule (at creation or later) raises an
//! alert when its events match (a match rule: any event; a threshold rule: at least `threshold`
//! events). Alerts are acknowledged once (409 after), with a comment when the rule requires one,
//! and carry comments.
//!
//! A filter tree is a condition `{"field", "operator": equals|not_equals|contains|in, "value"}`
//! or a group `{"operator": "and"|"or", "conditions": [...]}`; anything else is a 400.

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::routing::{patch, post};
use axum::Router;
use serde_json::{json, Value};

use super::audits::EVENTS;
use super::store::{self, validate, Field, Filter, Mode, Op, Record, Spec};
use super::{created, lock, now, ok, Body, Fail, Org, Reply, Seed, Shared, State};

const DAM: &str = "/dam-alerting/v1/dam-alerting";

const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];

const RULE_FIELDS: &[Field] = &[
    Field::str("name").required(),
    Field::str("rule_type")
        .required()
        .one_of(&["match", "threshold"]),
    Field::str("severity").required().one_of(SEVERITIES),
    Field::str("data_source_scope").required(),
    Field::object("filter_tree").required(),
    Field::bool("enabled"),
    Field::str("description"),
    Field::list("email_recipients"),
    Field::str("window_type"),
    Field::int("threshold").range(1, 1_000_000),
    Field::str("timezone"),
    Field::bool("comment_required"),
    Field::int("email_rate_limit_seconds").range(0, 86_400),
];

/// The fields a rule update may change.
const RULE_UPDATE: &[Field] = &[
    Field::str("name"),
    Field::str("description"),
    Field::bool("enabled"),
    Field::str("severity").one_of(SEVERITIES),
    Field::list("email_recipients"),
    Field::bool("comment_required"),
    Field::int("email_rate_limit_seconds").range(0, 86_400),
];

/// DAM rules.
pub const RULES: Spec = Spec {
    name: "dam.rules",
    kind: "DAM rule",
    items: "rules",
    fields: RULE_FIELDS,
    unique: &["name"],
    filters: &[
        Filter::equals("enabled", "enabled"),
        Filter::equals("severity", "severity"),
        Filter::equals("rule_type", "rule_type"),
    ],
    ..Spec::NEW
};

/// DAM alerts.
pub const ALERTS: Spec = Spec {
    name: "dam.alerts",
    kind: "DAM alert",
    items: "alerts",
    filters: &[
        Filter::equals("rule_id", "rule_id"),
        Filter::equals("state", "state"),
        Filter::equals("severity", "severity"),
    ],
    ..Spec::NEW
};

/// Comments on an alert.
pub const COMMENTS: Spec = Spec {
    name: "dam.comments",
    kind: "DAM alert comment",
    items: "comments",
    parent: Some(&ALERTS),
    scope: &["alert_id"],
    fields: &[Field::str("text").required()],
    ..Spec::NEW
};

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .merge(store::routes(
            &RULES,
            &format!("{DAM}/rules"),
            &format!("{DAM}/rules/{{rule_id}}"),
            &[Op::List, Op::Get, Op::Delete],
        ))
        .route(&format!("{DAM}/rules"), post(create_rule))
        .route(&format!("{DAM}/rules/{{rule_id}}"), patch(update_rule))
        .merge(store::routes(
            &ALERTS,
            &format!("{DAM}/alerts"),
            &format!("{DAM}/alerts/{{alert_id}}"),
            &[Op::List, Op::Get],
        ))
        .route(
            &format!("{DAM}/alerts/{{alert_id}}/acknowledge"),
            patch(acknowledge),
        )
        .merge(store::routes(
            &COMMENTS,
            &format!("{DAM}/alerts/{{alert_id}}/comments"),
            &format!("{DAM}/alerts/{{alert_id}}/comments/{{comment_id}}"),
            &[Op::List, Op::Create],
        ))
}

/// 400 unless `tree` is a well-formed filter tree.
fn check_tree(tree: &Value, at: &str) -> Result<(), Fail> {
    let bad = |what: &str| Fail::bad_request(format!("{at} {what}"));
    let op = tree
        .get("operator")
        .or_else(|| tree.get("op"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("needs an operator"))?;
    match op {
        "and" | "or" => {
            let items = tree
                .get("conditions")
                .and_then(Value::as_array)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| bad("(a group) must list its conditions"))?;
            for (i, item) in items.iter().enumerate() {
                check_tree(item, &format!("{at}.conditions[{i}]"))?;
            }
            Ok(())
        }
        "equals" | "not_equals" | "contains" | "in" => {
            if !tree.get("field").is_some_and(Value::is_string) {
                return Err(bad("(a condition) needs a field name"));
            }
            match (op, tree.get("value")) {
                ("in", Some(Value::Array(_))) => Ok(()),
                ("in", _) => Err(bad("with operator in needs a list value")),
                (_, Some(Value::String(_) | Value::Number(_) | Value::Bool(_))) => Ok(()),
                _ => Err(bad("(a condition) needs a value")),
            }
        }
        _ => Err(bad(
            "operator must be and, or, equals, not_equals, contains or in",
        )),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string(),
    }
}

/// Whether an event matches a (checked) filter tree; list fields match on any item.
fn matches(tree: &Value, event: &Record) -> bool {
    let op = tree
        .get("operator")
        .or_else(|| tree.get("op"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let children = || {
        tree.get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    let field = tree
        .get("field")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let have: Vec<String> = match event.get(field) {
        Some(Value::Array(items)) => items.iter().map(text).collect(),
        Some(v) => vec![text(v)],
        None => Vec::new(),
    };
    let want = tree.get("value").map(text).unwrap_or_default();
    match op {
        "and" => children().all(|c| matches(c, event)),
        "or" => children().any(|c| matches(c, event)),
        "equals" => have.contains(&want),
        "not_equals" => !have.contains(&want),
        "contains" => have.iter().any(|h| h.contains(&want)),
        "in" => tree
            .get("value")
            .and_then(Value::as_array)
            .is_some_and(|vals| vals.iter().map(text).any(|v| have.contains(&v))),
        _ => false,
    }
}

/// Evaluate an enabled rule against the audit events; raise an alert when it fires and has no
/// open (new) alert yet.
fn evaluate(org: &mut Org, rule: &Record) -> Result<(), Fail> {
    let Some(rule_id) = rule.get("id").and_then(Value::as_str) else {
        return Ok(());
    };
    let tree = rule.get("filter_tree").cloned().unwrap_or(Value::Null);
    let hits: Vec<Value> = org
        .store
        .list(&EVENTS, &[])?
        .into_iter()
        .filter(|e| matches(&tree, e))
        .map(|e| Value::Object(e.clone()))
        .collect();
    let needed = match rule.get("rule_type").and_then(Value::as_str) {
        Some("threshold") => rule.get("threshold").and_then(Value::as_u64).unwrap_or(1),
        _ => 1,
    };
    if (hits.len() as u64) < needed.max(1) {
        return Ok(());
    }
    let open = org.store.list(&ALERTS, &[])?.into_iter().any(|a| {
        a.get("rule_id").and_then(Value::as_str) == Some(rule_id)
            && a.get("state").and_then(Value::as_str) == Some("new")
    });
    if open {
        return Ok(());
    }
    let name = rule
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("DAM rule");
    let alert = json!({
        "rule_id": rule_id, "rule_name": name,
        "severity": rule.get("severity"), "state": "new",
        "title": format!("{name}: {} matching event(s)", hits.len()),
        "event_count": hits.len(),
        "events": hits.into_iter().take(10).collect::<Vec<_>>(),
        "raised_at": now(),
    });
    org.store.create(&ALERTS, &[], alert)?;
    Ok(())
}

fn check_rule(body: &Record) -> Result<(), Fail> {
    validate(body, RULE_FIELDS, Mode::Create)?;
    if let Some(tree) = body.get("filter_tree") {
        check_tree(tree, "filter_tree")?;
    }
    let threshold = body.get("rule_type").and_then(Value::as_str) == Some("threshold");
    let has = |f: &str| body.get(f).is_some_and(|v| !v.is_null());
    if threshold && (!has("threshold") || !has("window_type")) {
        return Err(Fail::bad_request(
            "a threshold rule needs threshold and window_type",
        ));
    }
    if !threshold && (has("threshold") || has("window_type")) {
        return Err(Fail::bad_request(
            "threshold and window_type only apply to threshold rules",
        ));
    }
    Ok(())
}

async fn create_rule(AxumState(s): State, body: Bytes) -> Reply {
    let mut b = Body::parse(&body)?;
    check_rule(&b.0)?;
    b.0.entry("enabled").or_insert(json!(false));
    let mut org = lock(&s.org);
    let stored = org.store.create(&RULES, &[], Value::Object(b.0))?;
    if let Value::Object(rule) = &stored {
        if rule.get("enabled") == Some(&json!(true)) {
            evaluate(&mut org, rule)?;
        }
    }
    created(stored)
}

async fn update_rule(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, RULE_UPDATE, Mode::Patch)?;
    let mut org = lock(&s.org);
    let mut fields = b.0;
    fields.insert("updated_at".into(), json!(now()));
    let updated = org.store.patch(&RULES, &[], &id, Value::Object(fields))?;
    if let Value::Object(rule) = &updated {
        if rule.get("enabled") == Some(&json!(true)) {
            evaluate(&mut org, rule)?;
        }
    }
    ok(updated)
}

async fn acknowledge(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&["comment"])?;
    let comment = b.opt_string("comment")?;
    let mut org = lock(&s.org);
    let alert = org.store.get(&ALERTS, &[], &id)?;
    if alert.get("state").and_then(Value::as_str) == Some("acknowledged") {
        return Err(Fail::conflict(format!(
            "DAM alert '{id}' is already acknowledged"
        )));
    }
    let rule_id = alert
        .get("rule_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let required = org
        .store
        .get(&RULES, &[], &rule_id)
        .ok()
        .and_then(|r| r.get("comment_required").and_then(Value::as_bool))
        .unwrap_or(false);
    if required && comment.is_none() {
        return Err(Fail::bad_request(
            "this alert's rule requires a comment to acknowledge it",
        ));
    }
    if let Some(text) = &comment {
        org.store.create(
            &COMMENTS,
            &[&id],
            json!({"text": text, "author": "sandbox-key"}),
        )?;
    }
    let a = org.store.get_mut(&ALERTS, &[], &id)?;
    a.insert("state".into(), json!("acknowledged"));
    a.insert("acknowledged_at".into(), json!(now()));
    a.insert("acknowledged_by".into(), json!("sandbox-key"));
    ok(Value::Object(a.clone()))
}

pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    let rules = [
        json!({"name": "Bulk SSN reads", "rule_type": "threshold", "severity": "critical",
               "data_source_scope": "snowflake", "enabled": true, "threshold": 3, "window_type": "rolling_24h",
               "description": "Three or more reads of the SSN column in a day",
               "filter_tree": {"field": "policy_column_name", "operator": "equals", "value": "SSN"},
               "email_recipients": ["security@acme.example"], "comment_required": true}),
        json!({"name": "Salary updates", "rule_type": "match", "severity": "medium",
               "data_source_scope": "oltp", "enabled": true,
               "filter_tree": {"operator": "and", "conditions": [
                   {"field": "statement_type", "operator": "equals", "value": "UPDATE"},
                   {"field": "column_name", "operator": "equals", "value": "salary"}]}}),
        json!({"name": "Finance reads EMAIL", "rule_type": "match", "severity": "low",
               "data_source_scope": "snowflake", "enabled": false,
               "filter_tree": {"operator": "and", "conditions": [
                   {"field": "executing_role", "operator": "equals", "value": "FINANCE"},
                   {"field": "policy_column_name", "operator": "equals", "value": "EMAIL"}]}}),
    ];
    for rule in rules {
        if let Ok(Value::Object(stored)) = org.store.create(&RULES, &[], rule) {
            if stored.get("enabled") == Some(&json!(true)) {
                let _ = evaluate(org, &stored);
            }
        }
    }
    // The salary-update alert has been looked at.
    let salary = org
        .store
        .list(&ALERTS, &[])
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.get("rule_name").and_then(Value::as_str) == Some("Salary updates"))
        .and_then(|a| a.get("id").and_then(Value::as_str).map(str::to_string));
    if let Some(id) = salary {
        let _ = org.store.create(
            &COMMENTS,
            &[&id],
            json!({"text": "Annual raise batch, expected.", "author": "dba"}),
        );
        let _ = org.store.patch(
            &ALERTS,
            &[],
            &id,
            json!({"state": "acknowledged", "acknowledged_by": "dba"}),
        );
    }
}
