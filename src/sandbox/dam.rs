//! DAM alerting (DAM `/rules`, `/alerts`): rules whose filter tree is evaluated against the
//! org's audit events of the rule's `data_source_scope` (`oltp`: sidecar events, `snowflake`:
//! Snowflake query events; see [`super::audits`]); enabling a rule (at creation or later)
//! evaluates it. A match rule raises one alert per matching event (`matched_event`); a threshold
//! rule raises one alert (`threshold_context`) when at least `threshold` events match within the
//! `window_type` period before now (the sandbox counts a trailing period, and fires again only
//! once the open alert is acknowledged). Alerts are acknowledged once (409 after), with a comment
//! when the rule requires one, and carry comments.
//!
//! A filter tree is ALTR's: a junction `{"op": "and"|"or", "children": [...]}` or a leaf
//! `{"op", "dimension", <value field>}` (eq, neq, contains, regex, cidr, key_exists:
//! `string_value`; in: `list_value`; gt, gte, lt, lte: `number_value`; range: `range {min, max}`;
//! between: `between {start, end}` as HH:MM on time_of_day; key_eq: `key_eq {key, value}`;
//! exists: none), at most 16 levels deep and 256 nodes, over the documented dimensions of the
//! scope; anything else is a 400. The sandbox's regex knows literals, `.`, `*`, `^` and `$`;
//! time_of_day is read in UTC.

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
const SCOPES: &[&str] = &["oltp", "snowflake"];
const WINDOWS: &[&str] = &["hourly", "daily", "weekly", "monthly"];

const RULE_FIELDS: &[Field] = &[
    Field::str("name").required(),
    Field::str("rule_type")
        .required()
        .one_of(&["match", "threshold"]),
    Field::str("severity").required().one_of(SEVERITIES),
    Field::str("data_source_scope").required().one_of(SCOPES),
    Field::object("filter_tree").required(),
    Field::bool("enabled"),
    Field::str("description"),
    Field::list("email_recipients"),
    Field::str("window_type").one_of(WINDOWS),
    Field::int("threshold").range(1, 1_000_000),
    Field::str("timezone"),
    Field::bool("comment_required"),
    Field::int("email_rate_limit_seconds").range(0, 86_400),
];

/// The fields a rule update may change (rule_type, data_source_scope, filter_tree, window_type,
/// threshold and timezone are fixed once created).
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

/// Dimensions of both scopes.
const COMMON_DIMENSIONS: &[&str] = &[
    "user",
    "database",
    "schema",
    "table",
    "column",
    "statement_type",
    "statement_text",
    "event_name",
    "time_of_day",
];

/// Dimensions of sidecar (oltp) events only.
const OLTP_DIMENSIONS: &[&str] = &[
    "query_status",
    "repo_user",
    "client_ip",
    "client_app",
    "client_port",
    "repo_type",
    "repo_host",
    "sidecar_id",
    "connection_authorized",
    "authorization_type",
    "oltp_row_count",
    "bytes_returned",
    "policy_applied",
    "policy_type",
    "user_email",
    "user_group",
    "execution_role",
    "execution_database",
    "execution_schema",
    "execution_warehouse",
    "native_statement_type",
    "oltp_duration_ms",
    "oltp_rows_inserted",
    "oltp_rows_updated",
    "oltp_rows_deleted",
    "oltp_rows_produced",
    "oltp_rows_unloaded",
    "attributes",
];

/// Dimensions of Snowflake events only.
const SNOWFLAKE_DIMENSIONS: &[&str] = &[
    "snowflake_role",
    "snowflake_roles",
    "snowflake_warehouse",
    "snowflake_warehouse_size",
    "snowflake_ip_address",
    "snowflake_client",
    "snowflake_session_id",
    "snowflake_query_tag",
    "snowflake_row_count",
    "snowflake_account",
    "snowflake_account_region",
    "snowflake_masking_policy",
    "snowflake_column_policy",
    "snowflake_execution_duration",
    "snowflake_tag_name",
    "snowflake_tag_value",
];

/// Numeric dimensions (gt, gte, lt, lte, range).
const NUMBER_DIMENSIONS: &[&str] = &[
    "client_port",
    "oltp_row_count",
    "bytes_returned",
    "oltp_duration_ms",
    "oltp_rows_inserted",
    "oltp_rows_updated",
    "oltp_rows_deleted",
    "oltp_rows_produced",
    "oltp_rows_unloaded",
    "snowflake_row_count",
    "snowflake_execution_duration",
];

/// Map dimensions (key_exists, key_eq).
const MAP_DIMENSIONS: &[&str] = &["attributes", "snowflake_query_tag"];

/// The audit-event field a dimension reads, per event source (`sidecar` or `snowflake`).
fn event_field(dimension: &str, source: &str) -> Option<&'static str> {
    let sidecar = source == "sidecar";
    Some(match dimension {
        "user" if sidecar => "consuming_user",
        "user" => "executing_user",
        "user_email" => "consuming_user_email",
        "database" if sidecar => "database_name",
        "database" => "policy_column_database_name",
        "schema" if sidecar => "schema_name",
        "schema" => "policy_column_schema_name",
        "table" if sidecar => "table_name",
        "table" => "policy_column_table_name",
        "column" if sidecar => "column_name",
        "column" => "policy_column_name",
        "statement_type" => "statement_type",
        "statement_text" => "statement_text",
        "sidecar_id" => "sidecar_id",
        "oltp_row_count" => "rows_accessed",
        "snowflake_row_count" => "rows_accessed",
        "snowflake_role" | "snowflake_roles" => "executing_role",
        "snowflake_tag_name" => "policy_tag_name",
        "snowflake_tag_value" => "policy_tag_value",
        _ => return None,
    })
}

/// 400 unless `node` is a well-formed filter tree over `scope`'s dimensions; counts its nodes.
fn check_tree(
    node: &Value,
    at: &str,
    depth: usize,
    nodes: &mut usize,
    scope: &str,
) -> Result<(), Fail> {
    let bad = |what: String| Fail::bad_request(format!("{at} {what}"));
    *nodes += 1;
    if depth > 16 || *nodes > 256 {
        return Err(Fail::bad_request(
            "filter_tree may be at most 16 levels deep with at most 256 nodes",
        ));
    }
    let op = node
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("needs an op".into()))?;
    if matches!(op, "and" | "or") {
        let children = node
            .get("children")
            .and_then(Value::as_array)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad(format!("(op {op}) must list its children")))?;
        for (i, child) in children.iter().enumerate() {
            check_tree(
                child,
                &format!("{at}.children[{i}]"),
                depth + 1,
                nodes,
                scope,
            )?;
        }
        return Ok(());
    }
    let dimension = node
        .get("dimension")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("(op {op}) needs a dimension")))?;
    let own = if scope == "oltp" {
        OLTP_DIMENSIONS
    } else {
        SNOWFLAKE_DIMENSIONS
    };
    if !COMMON_DIMENSIONS.contains(&dimension) && !own.contains(&dimension) {
        return Err(bad(format!(
            "dimension '{dimension}' is not a {scope} dimension"
        )));
    }
    let number = NUMBER_DIMENSIONS.contains(&dimension);
    let map = MAP_DIMENSIONS.contains(&dimension);
    let string = !number && !map && dimension != "connection_authorized";
    let field = |name: &str| node.get(name);
    let (fits, value_ok) = match op {
        "eq" | "neq" | "contains" | "regex" | "cidr" => {
            (string, field("string_value").is_some_and(Value::is_string))
        }
        "in" => (
            string,
            field("list_value")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty() && l.iter().all(Value::is_string)),
        ),
        "gt" | "gte" | "lt" | "lte" => (number, field("number_value").is_some_and(Value::is_number)),
        "range" => (
            number,
            field("range").is_some_and(|r| r["min"].is_number() && r["max"].is_number()),
        ),
        "between" => (
            dimension == "time_of_day",
            field("between").is_some_and(|b| minutes(&b["start"]).is_some() && minutes(&b["end"]).is_some()),
        ),
        "key_exists" => (map, field("string_value").is_some_and(Value::is_string)),
        "key_eq" => (
            map,
            field("key_eq").is_some_and(|k| k["key"].is_string() && !k["value"].is_null()),
        ),
        "exists" => (true, true),
        _ => {
            return Err(bad(format!(
                "op '{op}' is not one of and, or, eq, neq, contains, regex, cidr, in, gt, gte, lt, lte, range, between, key_exists, key_eq, exists"
            )))
        }
    };
    if !fits {
        return Err(bad(format!(
            "op {op} does not apply to dimension {dimension}"
        )));
    }
    if !value_ok {
        return Err(bad(format!(
            "(op {op}) is missing its value field or has the wrong type"
        )));
    }
    Ok(())
}

/// Minutes after midnight of an `HH:MM` text.
fn minutes(v: &Value) -> Option<u32> {
    let (h, m) = v.as_str()?.split_once(':')?;
    if !(1..=2).contains(&h.len()) || m.len() != 2 {
        return None;
    }
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Whether a filter tree has a leaf on time_of_day.
fn has_time_of_day(node: &Value) -> bool {
    node.get("dimension").and_then(Value::as_str) == Some("time_of_day")
        || node
            .get("children")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(has_time_of_day))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string(),
    }
}

/// A tiny regular-expression matcher: literals, `.`, `*` (after a literal or `.`), `^` and `$`.
fn regex(pattern: &[u8], text: &[u8]) -> bool {
    fn here(p: &[u8], t: &[u8]) -> bool {
        match p {
            [] => true,
            [b'$'] => t.is_empty(),
            [c, b'*', rest @ ..] => {
                let mut t = t;
                loop {
                    if here(rest, t) {
                        return true;
                    }
                    match t.split_first() {
                        Some((x, tail)) if *c == b'.' || c == x => t = tail,
                        _ => return false,
                    }
                }
            }
            [c, rest @ ..] => match t.split_first() {
                Some((x, tail)) if *c == b'.' || c == x => here(rest, tail),
                _ => false,
            },
        }
    }
    if let [b'^', rest @ ..] = pattern {
        return here(rest, text);
    }
    (0..=text.len())
        .filter_map(|i| text.get(i..))
        .any(|t| here(pattern, t))
}

/// Whether an IPv4 address is in a `a.b.c.d/n` block.
fn in_cidr(ip: &str, block: &str) -> bool {
    let (net, bits) = block.split_once('/').unwrap_or((block, "32"));
    let (Ok(ip), Ok(net), Ok(bits)) = (
        ip.parse::<std::net::Ipv4Addr>(),
        net.parse::<std::net::Ipv4Addr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32))
    };
    u32::from(ip) & mask == u32::from(net) & mask
}

/// Whether an event matches a (checked) filter tree; list fields match on any item.
fn matches(node: &Value, event: &Record) -> bool {
    let op = node.get("op").and_then(Value::as_str).unwrap_or_default();
    let children = || {
        node.get("children")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    match op {
        "and" => return children().all(|c| matches(c, event)),
        "or" => return children().any(|c| matches(c, event)),
        _ => {}
    }
    let dimension = node
        .get("dimension")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let source = event
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if dimension == "time_of_day" {
        let now = event
            .get("event_time")
            .and_then(Value::as_str)
            .and_then(crate::clock::parse_rfc3339)
            .map(|secs| (secs.rem_euclid(86_400) / 60) as u32);
        let (Some(now), Some(b)) = (now, node.get("between")) else {
            return op == "exists" && now.is_some();
        };
        let (Some(start), Some(end)) = (minutes(&b["start"]), minutes(&b["end"])) else {
            return false;
        };
        return if start <= end {
            (start..=end).contains(&now)
        } else {
            now >= start || now <= end
        };
    }
    let value = event_field(dimension, source)
        .and_then(|f| event.get(f))
        .filter(|v| !v.is_null());
    let have: Vec<String> = match value {
        Some(Value::Array(items)) => items.iter().map(text).collect(),
        Some(v) => vec![text(v)],
        None => Vec::new(),
    };
    let want = node.get("string_value").map(text).unwrap_or_default();
    let number = value.and_then(Value::as_f64);
    let num = |name: &str| node.get(name).and_then(Value::as_f64);
    match op {
        "exists" => value.is_some(),
        "eq" => have.contains(&want),
        "neq" => !have.contains(&want),
        "contains" => have.iter().any(|h| h.contains(&want)),
        "regex" => have.iter().any(|h| regex(want.as_bytes(), h.as_bytes())),
        "cidr" => have.iter().any(|h| in_cidr(h, &want)),
        "in" => node
            .get("list_value")
            .and_then(Value::as_array)
            .is_some_and(|vals| vals.iter().map(text).any(|v| have.contains(&v))),
        "gt" => number.zip(num("number_value")).is_some_and(|(x, n)| x > n),
        "gte" => number.zip(num("number_value")).is_some_and(|(x, n)| x >= n),
        "lt" => number.zip(num("number_value")).is_some_and(|(x, n)| x < n),
        "lte" => number.zip(num("number_value")).is_some_and(|(x, n)| x <= n),
        "range" => number.is_some_and(|x| {
            let r = &node["range"];
            r["min"].as_f64().is_some_and(|m| x >= m) && r["max"].as_f64().is_some_and(|m| x <= m)
        }),
        // No sandbox event carries a map dimension.
        _ => false,
    }
}

/// The audit-event source a scope reads.
fn source_of(scope: Option<&Value>) -> &'static str {
    match scope.and_then(Value::as_str) {
        Some("oltp") => "sidecar",
        _ => "snowflake",
    }
}

/// The length in seconds of a threshold rule's window.
fn window_secs(window: Option<&Value>) -> i64 {
    match window.and_then(Value::as_str) {
        Some("hourly") => 3_600,
        Some("weekly") => 7 * 86_400,
        Some("monthly") => 30 * 86_400,
        _ => 86_400,
    }
}

/// Evaluate an enabled rule against its scope's audit events: a match rule raises an alert per
/// matching event it has not alerted on yet; a threshold rule raises one when enough events
/// match in its window and it has no open (new) alert.
fn evaluate(org: &mut Org, rule: &Record) -> Result<(), Fail> {
    let Some(rule_id) = rule.get("id").and_then(Value::as_str) else {
        return Ok(());
    };
    let tree = rule.get("filter_tree").cloned().unwrap_or(Value::Null);
    let source = source_of(rule.get("data_source_scope"));
    let hits: Vec<Record> = org
        .store
        .list(&EVENTS, &[])?
        .into_iter()
        .filter(|e| e.get("source").and_then(Value::as_str) == Some(source))
        .filter(|e| matches(&tree, e))
        .cloned()
        .collect();
    let alerts: Vec<Record> = org
        .store
        .list(&ALERTS, &[])?
        .into_iter()
        .filter(|a| a.get("rule_id").and_then(Value::as_str) == Some(rule_id))
        .cloned()
        .collect();
    let name = rule
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("DAM rule");
    let base = json!({
        "rule_id": rule_id, "rule_name": name, "rule_type": rule.get("rule_type"),
        "severity": rule.get("severity"), "state": "new", "raised_at": now(),
    });
    let raise = |org: &mut Org, extra: Value| -> Result<(), Fail> {
        let mut alert = base.clone();
        if let (Value::Object(a), Value::Object(e)) = (&mut alert, extra) {
            a.extend(e);
        }
        org.store.create(&ALERTS, &[], alert).map(|_| ())
    };
    if rule.get("rule_type").and_then(Value::as_str) != Some("threshold") {
        for event in hits {
            let event_id = event.get("event_id").cloned().unwrap_or(Value::Null);
            let seen = alerts
                .iter()
                .any(|a| a.get("matched_event").and_then(|m| m.get("event_id")) == Some(&event_id));
            if !seen {
                raise(
                    org,
                    json!({"title": format!("{name}: matching event"), "matched_event": event}),
                )?;
            }
        }
        return Ok(());
    }
    let end = crate::clock::now_secs();
    let start = end - window_secs(rule.get("window_type"));
    let count = hits
        .iter()
        .filter_map(|e| {
            e.get("event_time")
                .and_then(Value::as_str)
                .and_then(crate::clock::parse_rfc3339)
        })
        .filter(|t| (start..=end).contains(t))
        .count() as u64;
    let threshold = rule
        .get("threshold")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    let open = alerts
        .iter()
        .any(|a| a.get("state").and_then(Value::as_str) == Some("new"));
    if count >= threshold && !open {
        let window_start = crate::clock::rfc3339(start.max(0) as u64);
        let window_end = crate::clock::rfc3339(end.max(0) as u64);
        raise(
            org,
            json!({
                "title": format!("{name}: {count} matching event(s)"),
                "threshold_context": {"count": count, "threshold": threshold, "window_type": rule.get("window_type"),
                                      "window_start": window_start, "window_end": window_end},
            }),
        )?;
    }
    Ok(())
}

/// 400 unless `v` is 0 or 60 to 86400 seconds.
fn check_rate_limit(body: &Record) -> Result<(), Fail> {
    match body.get("email_rate_limit_seconds").and_then(Value::as_i64) {
        Some(n) if n != 0 && !(60..=86_400).contains(&n) => Err(Fail::bad_request(
            "email_rate_limit_seconds must be 0 (the platform default, 300) or 60 to 86400",
        )),
        _ => Ok(()),
    }
}

/// 400 unless the name, description and recipient list fit ALTR's limits.
fn check_sizes(body: &Record) -> Result<(), Fail> {
    let chars = |f: &str| {
        body.get(f)
            .and_then(Value::as_str)
            .map_or(0, |s| s.chars().count())
    };
    if chars("name") > 255 {
        return Err(Fail::bad_request("name must be at most 255 characters"));
    }
    if chars("description") > 2000 {
        return Err(Fail::bad_request(
            "description must be at most 2000 characters",
        ));
    }
    if body
        .get("email_recipients")
        .and_then(Value::as_array)
        .is_some_and(|r| r.len() > 100)
    {
        return Err(Fail::bad_request(
            "email_recipients may list at most 100 addresses",
        ));
    }
    check_rate_limit(body)
}

fn check_rule(body: &Record) -> Result<(), Fail> {
    validate(body, RULE_FIELDS, Mode::Create)?;
    check_sizes(body)?;
    let scope = body
        .get("data_source_scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let tree = body.get("filter_tree").cloned().unwrap_or(Value::Null);
    check_tree(&tree, "filter_tree", 1, &mut 0, scope)?;
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
    if threshold && !has("timezone") {
        return Err(Fail::bad_request("a threshold rule needs a timezone"));
    }
    if !threshold && has("timezone") != has_time_of_day(&tree) {
        return Err(Fail::bad_request(
            "a match rule takes a timezone exactly when its filter_tree has a time_of_day leaf",
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
    check_sizes(&b.0)?;
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
               "data_source_scope": "snowflake", "enabled": true, "threshold": 3, "window_type": "daily", "timezone": "UTC",
               "description": "Three or more reads of the SSN column in a day",
               "filter_tree": {"op": "eq", "dimension": "column", "string_value": "SSN"},
               "email_recipients": ["security@acme.example"], "comment_required": true}),
        json!({"name": "Salary updates", "rule_type": "match", "severity": "medium",
               "data_source_scope": "oltp", "enabled": true,
               "filter_tree": {"op": "and", "children": [
                   {"op": "eq", "dimension": "statement_type", "string_value": "UPDATE"},
                   {"op": "eq", "dimension": "column", "string_value": "salary"}]}}),
        json!({"name": "Finance reads EMAIL", "rule_type": "match", "severity": "low",
               "data_source_scope": "snowflake", "enabled": false,
               "filter_tree": {"op": "and", "children": [
                   {"op": "eq", "dimension": "snowflake_role", "string_value": "FINANCE"},
                   {"op": "eq", "dimension": "column", "string_value": "EMAIL"}]}}),
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
