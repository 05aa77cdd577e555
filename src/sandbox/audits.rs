//! Audits and audit reports.
//!
//! - Audit events are generated from the seeded org: Snowflake queries by the seeded roles on the
//!   seeded tables, reads of masked columns (SSN, EMAIL, SALARY) included (query audits, API
//!   `/v1/query-audits`), and sidecar-proxied OLTP queries (sidecar audits, SC `/v1/audits`).
//! - A search (`POST`, filters in the query only) answers a `search_uuid`; its results are
//!   RUNNING (HTTP 202) on the first poll and COMPLETED after, paged by `next_page_token`.
//! - System audits (ALTRnet `/api/systemaudits/query`) are the org's own log: other domains add
//!   to it with [`system_event`]. A search without a positive `wait` answers 202 and a token.
//! - Audit report definitions (AR `/audit-reports/definitions/`) archive and restore, trigger
//!   report instances (at most once per 5 minutes: 409), and instances carry comments (one
//!   pinned at a time), sign-offs (one per user: 409) and download URLs.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::store::{self, validate, Field, Filter, Id, Mode, Op, Paging, Record, Spec};
use super::{
    created, lock, now, ok, query_pairs, rfc3339, Body, Fail, Org, Query, Reply, Seed, Shared,
    State, ALTRNET, API,
};

const SC: &str = "/sc-control";
const AR: &str = "/audit-report/v1/audit-reports/definitions";
/// The user the sandbox's API key acts as.
pub const CURRENT_USER: &str = "sandbox-key";

/// Audit events: `source` is `snowflake` (query audits) or `sidecar` (sidecar audits).
pub const EVENTS: Spec = Spec {
    name: "audits.events",
    kind: "Audit event",
    items: "events",
    id: Id::Uuid("event_id"),
    created: None,
    updated: None,
    ..Spec::NEW
};

/// Started searches with their results (computed when started).
pub const SEARCHES: Spec = Spec {
    name: "audits.searches",
    kind: "Audit search",
    items: "searches",
    id: Id::Uuid("search_uuid"),
    ..Spec::NEW
};

/// The system audit log.
pub const SYSTEM: Spec = Spec {
    name: "audits.system",
    kind: "System audit event",
    items: "events",
    id: Id::Uuid("id"),
    created: None,
    updated: None,
    ..Spec::NEW
};

/// Audit report definitions.
pub const DEFINITIONS: Spec = Spec {
    name: "audits.definitions",
    kind: "Report definition",
    items: "items",
    fields: DEFINITION_FIELDS,
    unique: &["name"],
    filters: &[Filter::equals("archived", "archived")],
    paging: Paging::cursor(25, 100),
    ..Spec::NEW
};

const DEFINITION_FIELDS: &[Field] = &[
    Field::str("name").required(),
    Field::str("integration_type")
        .required()
        .one_of(&["oltp", "snowflake"]),
    Field::str("description"),
    Field::object("report_window"),
    Field::object("schedule"),
    Field::object("delivery"),
    Field::object("filters"),
];

/// Generated reports of a definition.
pub const INSTANCES: Spec = Spec {
    name: "audits.instances",
    kind: "Report instance",
    items: "items",
    parent: Some(&DEFINITIONS),
    scope: &["definition_id"],
    paging: Paging::cursor(25, 100),
    ..Spec::NEW
};

/// Comments on a report instance.
pub const COMMENTS: Spec = Spec {
    name: "audits.comments",
    kind: "Report comment",
    items: "items",
    parent: Some(&INSTANCES),
    scope: &["definition_id", "instance_id"],
    fields: &[Field::str("text").required()],
    paging: Paging::cursor(25, 100),
    ..Spec::NEW
};

/// Sign-offs on a report instance.
pub const SIGN_OFFS: Spec = Spec {
    name: "audits.sign_offs",
    kind: "Report sign-off",
    items: "items",
    parent: Some(&INSTANCES),
    scope: &["definition_id", "instance_id"],
    paging: Paging::cursor(25, 100),
    ..Spec::NEW
};

/// System audit categories.
pub const CATEGORIES: &[&str] = &[
    "API Keys",
    "Locks",
    "Data",
    "Administrators",
    "Thresholds",
    "Anomalies",
    "Applications",
    "User Groups",
    "Data Sources",
    "Row Access Policy",
    "Unified Access Policy",
    "Access Requests",
    "Access Management Policy",
    "Impersonation Policy",
];

const SIDECAR_LISTS: &[&str] = &[
    "consuming_user",
    "consuming_user_email",
    "query_id",
    "sidecar_id",
    "sidecar_instance_id",
    "table_name",
    "schema_name",
    "database_name",
    "column_name",
    "statement_type",
];

const QUERY_SCALARS: &[&str] = &[
    "executing_role",
    "executing_user",
    "query_id",
    "policy_tag_name",
    "policy_tag_value",
    "policy_column_database_name",
    "policy_column_schema_name",
    "policy_column_table_name",
    "policy_column_name",
];

const COMMON: &[&str] = &[
    "limit",
    "offset",
    "from_date_time",
    "to_date_time",
    "order_by",
    "sort_by",
];

fn secs_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Add an entry to the system audit log.
pub(crate) fn system_event(org: &mut Org, category: &str, action: &str, details: Value) {
    let _ = org.store.create(
        &SYSTEM,
        &[],
        json!({"category": category, "action": action, "actor": CURRENT_USER,
               "event_time": now(), "details": details}),
    );
}

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .route(&format!("{SC}/v1/audits"), post(search_sidecar))
        .route(&format!("{SC}/v1/audits/{{search_uuid}}"), get(sidecar_results))
        .route(&format!("{API}/v1/query-audits/search"), post(search_queries))
        .route(
            &format!("{API}/v1/query-audits/results/{{search_uuid}}"),
            get(query_results),
        )
        .route(
            &format!("{ALTRNET}/api/systemaudits/query/start"),
            post(search_system),
        )
        .route(
            &format!("{ALTRNET}/api/systemaudits/query/result/{{token}}"),
            get(system_results),
        )
        .route(&format!("{AR}/"), get(list_definitions).post(create_definition))
        .route(
            &format!("{AR}/{{definition_id}}"),
            get(read_definition)
                .put(update_definition)
                .delete(archive_definition),
        )
        .route(&format!("{AR}/{{definition_id}}/restore"), post(restore_definition))
        .route(&format!("{AR}/{{definition_id}}/trigger"), post(trigger_definition))
        .merge(store::routes(
            &INSTANCES,
            &format!("{AR}/{{definition_id}}/instances/"),
            &format!("{AR}/{{definition_id}}/instances/{{instance_id}}"),
            &[Op::List, Op::Get],
        ))
        .route(
            &format!("{AR}/{{definition_id}}/instances/{{instance_id}}/download"),
            get(download),
        )
        .route(
            &format!("{AR}/{{definition_id}}/instances/{{instance_id}}/comments/"),
            post(create_comment).get(list_comments),
        )
        .route(
            &format!("{AR}/{{definition_id}}/instances/{{instance_id}}/comments/{{comment_id}}/{{action}}"),
            post(pin),
        )
        .route(
            &format!("{AR}/{{definition_id}}/instances/{{instance_id}}/sign_off"),
            get(my_sign_off).post(sign_off),
        )
        .merge(store::routes(
            &SIGN_OFFS,
            &format!("{AR}/{{definition_id}}/instances/{{instance_id}}/sign_offs"),
            &format!("{AR}/{{definition_id}}/instances/{{instance_id}}/sign_offs/{{sign_off_id}}"),
            &[Op::List],
        ))
}

// ---------------------------------------------------------------------------------------------
// Searches

/// The text of a record field, lists as their items.
fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Array(items)) => items.iter().flat_map(|i| texts(Some(i))).collect(),
        _ => Vec::new(),
    }
}

/// Check a search query: only `known` keys, scalars given once. The pairs.
fn search_query(
    raw: Option<&str>,
    lists: &[&str],
    scalars: &[&str],
) -> Result<Vec<(String, String)>, Fail> {
    let pairs = query_pairs(raw);
    for (i, (k, _)) in pairs.iter().enumerate() {
        let known = lists.contains(&k.as_str())
            || scalars.contains(&k.as_str())
            || COMMON.contains(&k.as_str())
            || k == "statement_text_contains";
        if !known {
            return Err(Fail::bad_request(format!("unknown query parameter {k}")));
        }
        let repeated = pairs.iter().skip(i + 1).any(|(o, _)| o == k);
        if repeated && !lists.contains(&k.as_str()) {
            return Err(Fail::bad_request(format!(
                "query parameter {k} may be given once"
            )));
        }
    }
    Ok(pairs)
}

/// The events of `source` matching the search query, ordered and sliced as asked.
fn matching(
    org: &Org,
    source: &str,
    pairs: &[(String, String)],
    lists: &[&str],
    scalars: &[&str],
) -> Result<Vec<Value>, Fail> {
    let q = Query(pairs.to_vec());
    // Sidecar searches return up to 100,000 results, Snowflake query searches up to 10,000.
    let most = if source == "snowflake" {
        10_000
    } else {
        100_000
    };
    let limit = q.number("limit", 10_000, 1, most)? as usize;
    let offset = q.number("offset", 0, 0, u64::MAX)? as usize;
    let desc = match q.get("order_by") {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => return Err(Fail::bad_request("order_by must be asc or desc")),
    };
    let sort_by = match q.get("sort_by") {
        None | Some("event_time") => "event_time",
        Some("rows_accessed") => "rows_accessed",
        Some(_) => {
            return Err(Fail::bad_request(
                "sort_by must be event_time or rows_accessed",
            ))
        }
    };
    let from = q.get("from_date_time");
    let to = q.get("to_date_time");
    let contains = q
        .get("statement_text_contains")
        .map(str::to_ascii_lowercase);
    let mut events: Vec<&Record> = org
        .store
        .list(&EVENTS, &[])?
        .into_iter()
        .filter(|e| e.get("source").and_then(Value::as_str) == Some(source))
        .filter(|e| {
            lists.iter().chain(scalars).all(|field| {
                let wanted: Vec<&str> = pairs
                    .iter()
                    .filter(|(k, _)| k == field)
                    .map(|(_, v)| v.as_str())
                    .collect();
                wanted.is_empty()
                    || texts(e.get(*field))
                        .iter()
                        .any(|have| wanted.iter().any(|w| have.eq_ignore_ascii_case(w)))
            })
        })
        .filter(|e| {
            let at = e
                .get("event_time")
                .and_then(Value::as_str)
                .unwrap_or_default();
            from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
        })
        .filter(|e| {
            contains.as_ref().is_none_or(|c| {
                e.get("statement_text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase()
                    .contains(c)
            })
        })
        .collect();
    events.sort_by(|a, b| {
        let key = |r: &Record| r.get(sort_by).cloned().unwrap_or(Value::Null);
        let (ka, kb) = (key(a), key(b));
        let ord = match (ka.as_i64(), kb.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => ka
                .as_str()
                .unwrap_or_default()
                .cmp(kb.as_str().unwrap_or_default()),
        };
        if desc {
            ord.reverse()
        } else {
            ord
        }
    });
    Ok(events
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|e| Value::Object(e.clone()))
        .collect())
}

fn start_search(org: &mut Org, kind: &str, results: Vec<Value>) -> Result<String, Fail> {
    let stored = org.store.create(
        &SEARCHES,
        &[],
        json!({"kind": kind, "status": "RUNNING", "polls": 0, "results": results}),
    )?;
    Ok(stored
        .get("search_uuid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

async fn search_sidecar(AxumState(s): State, RawQuery(raw): RawQuery, body: Bytes) -> Reply {
    if !body.is_empty() {
        return Err(Fail::bad_request(
            "this search takes its filters in the query string, not a body",
        ));
    }
    let pairs = search_query(raw.as_deref(), SIDECAR_LISTS, &[])?;
    let mut org = lock(&s.org);
    let results = matching(&org, "sidecar", &pairs, SIDECAR_LISTS, &[])?;
    let id = start_search(&mut org, "sidecar", results)?;
    Ok(Json(json!({"success": true, "search_uuid": id, "expires_in_days": 30})).into_response())
}

async fn search_queries(AxumState(s): State, RawQuery(raw): RawQuery, body: Bytes) -> Reply {
    if !body.is_empty() {
        return Err(Fail::bad_request(
            "this search takes its filters in the query string, not a body",
        ));
    }
    let pairs = search_query(raw.as_deref(), &[], QUERY_SCALARS)?;
    let mut org = lock(&s.org);
    let results = matching(&org, "snowflake", &pairs, &[], QUERY_SCALARS)?;
    let id = start_search(&mut org, "query", results)?;
    ok(json!({"search_uuid": id, "expires_in_days": 30}))
}

/// One poll of a search: 202 RUNNING the first time, then pages of results.
fn poll(s: &Shared, kind: &str, id: &str, raw: Option<String>) -> Reply {
    let q = Query::parse(raw);
    let limit = q.number("limit", 250, 1, 250)? as usize;
    let start = match q.get("next_page_token") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| Fail::bad_request("next_page_token is not one this API gave out"))?,
    };
    let mut org = lock(&s.org);
    let search = org.store.get_mut(&SEARCHES, &[], id)?;
    if search.get("kind").and_then(Value::as_str) != Some(kind) {
        return Err(Fail::not_found(format!("Audit search '{id}' not found")));
    }
    let polls = search
        .get("polls")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    search.insert("polls".into(), json!(polls + 1));
    if polls == 0 {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"success": true, "search_uuid": id, "status": "RUNNING"})),
        )
            .into_response());
    }
    search.insert("status".into(), json!("COMPLETED"));
    let all = search
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let end = start.saturating_add(limit).min(all.len());
    let page: Vec<Value> = all.get(start.min(end)..end).unwrap_or_default().to_vec();
    let mut answer = json!({"success": true, "search_uuid": id, "status": "COMPLETED",
                            "total": all.len(), "results": page});
    if end < all.len() {
        if let Some(o) = answer.as_object_mut() {
            o.insert("next_page_token".into(), json!(end.to_string()));
        }
    }
    Ok(Json(answer).into_response())
}

async fn sidecar_results(
    AxumState(s): State,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Reply {
    poll(&s, "sidecar", &id, raw)
}

async fn query_results(
    AxumState(s): State,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Reply {
    poll(&s, "query", &id, raw)
}

/// A page of a system search: events, moreData, and the token of the next page.
fn system_page(org: &Org, search: &str, offset: usize) -> Result<Value, Fail> {
    let record = org.store.get(&SEARCHES, &[], search)?;
    let all = record
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let limit = record.get("limit").and_then(Value::as_u64).unwrap_or(50) as usize;
    let end = offset.saturating_add(limit).min(all.len());
    let events: Vec<Value> = all.get(offset.min(end)..end).unwrap_or_default().to_vec();
    let more = end < all.len();
    let mut answer = json!({"success": true, "events": events, "moreData": more});
    if more {
        if let Some(o) = answer.as_object_mut() {
            o.insert("token".into(), json!(format!("{search}.{end}")));
        }
    }
    Ok(answer)
}

async fn search_system(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let category = q
        .get("category")
        .ok_or_else(|| Fail::bad_request("category is required"))?;
    if !CATEGORIES.contains(&category) {
        return Err(Fail::bad_request(format!(
            "category must be one of {}",
            CATEGORIES.join(", ")
        )));
    }
    let limit = q.number("limit", 50, 1, 100)?;
    let offset = q.number("offset", 0, 0, u64::MAX)? as usize;
    let wait = match q.get("wait") {
        None => 100,
        Some(w) => match w.trim().parse::<i64>() {
            Ok(n) if (-1..=1000).contains(&n) => n,
            _ => {
                return Err(Fail::bad_request(
                    "wait must be a whole number from -1 to 1000",
                ))
            }
        },
    };
    let from = q.get("from").map(str::to_string);
    let to = q.get("to").map(str::to_string);
    let mut org = lock(&s.org);
    let results: Vec<Value> = org
        .store
        .list(&SYSTEM, &[])?
        .into_iter()
        .filter(|e| e.get("category").and_then(Value::as_str) == Some(category))
        .filter(|e| {
            let at = e
                .get("event_time")
                .and_then(Value::as_str)
                .unwrap_or_default();
            from.as_deref().is_none_or(|f| at >= f) && to.as_deref().is_none_or(|t| at <= t)
        })
        .rev()
        .skip(offset)
        .map(|e| Value::Object(e.clone()))
        .collect();
    let stored = org.store.create(
        &SEARCHES,
        &[],
        json!({"kind": "system", "status": "COMPLETED", "limit": limit, "results": results}),
    )?;
    let id = stored
        .get("search_uuid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if wait <= 0 {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"success": true, "token": format!("{id}.0")})),
        )
            .into_response());
    }
    Ok(Json(system_page(&org, &id, 0)?).into_response())
}

async fn system_results(AxumState(s): State, Path(token): Path<String>) -> Reply {
    let bad = || Fail::not_found("System audit token not found or expired");
    let (search, offset) = token.rsplit_once('.').ok_or_else(bad)?;
    let offset = offset.parse::<usize>().map_err(|_| bad())?;
    let org = lock(&s.org);
    let record = org.store.get(&SEARCHES, &[], search).map_err(|_| bad())?;
    if record.get("kind").and_then(Value::as_str) != Some("system") {
        return Err(bad());
    }
    Ok(Json(system_page(&org, search, offset)?).into_response())
}

// ---------------------------------------------------------------------------------------------
// Report definitions

/// 400 unless the schedule's cron has six fields.
fn check_definition(body: &Record) -> Result<(), Fail> {
    if let Some(cron) = body.get("schedule").and_then(|s| s.get("cron")) {
        let fields = cron
            .as_str()
            .map(|c| c.split_whitespace().count())
            .unwrap_or(0);
        if fields != 6 {
            return Err(Fail::bad_request(
                "schedule.cron must be a 6-field AWS cron expression",
            ));
        }
    }
    if let Some(days) = body
        .get("report_window")
        .and_then(|w| w.get("lookback_days"))
    {
        if !days.as_u64().is_some_and(|d| (1..=366).contains(&d)) {
            return Err(Fail::bad_request(
                "report_window.lookback_days must be from 1 to 366",
            ));
        }
    }
    if let Some(filters) = body.get("filters") {
        let fields = match body.get("integration_type").and_then(Value::as_str) {
            Some("oltp") => OLTP_REPORT_FIELDS,
            _ => SNOWFLAKE_REPORT_FIELDS,
        };
        check_report_filters(filters, fields)?;
    }
    Ok(())
}

/// The fields a report filter may name, per integration type.
const OLTP_REPORT_FIELDS: &[&str] = &[
    "database_name",
    "table_name",
    "schema_name",
    "column_name",
    "statement_type",
    "consuming_user",
    "event_source",
    "event_name",
    "repo_user",
    "repo_host",
    "repo_name",
    "repo_type",
    "application_name",
    "client_host",
    "connection_id",
    "statement_text",
    "policy_blocked",
    "execution_success",
    "row_count",
];
const SNOWFLAKE_REPORT_FIELDS: &[&str] = &[
    "username",
    "current_role",
    "ip_address",
    "client",
    "query_type",
    "warehouse",
    "warehouse_size",
];

/// 400 unless `filters` is `{filter_groups: [{filters: [{field, mode, patterns: [{match_type,
/// value}]}]}]}` over the integration type's fields.
fn check_report_filters(filters: &Value, fields: &[&str]) -> Result<(), Fail> {
    let bad = |what: String| Err(Fail::bad_request(format!("filters: {what}")));
    let Some(groups) = filters.get("filter_groups").and_then(Value::as_array) else {
        return bad("needs a filter_groups list".into());
    };
    for (g, group) in groups.iter().enumerate() {
        let Some(list) = group.get("filters").and_then(Value::as_array) else {
            return bad(format!("filter_groups[{g}] needs a filters list"));
        };
        for (i, f) in list.iter().enumerate() {
            let at = format!("filter_groups[{g}].filters[{i}]");
            match f.get("field").and_then(Value::as_str) {
                Some(name) if fields.contains(&name) => {}
                Some(name) => {
                    return bad(format!(
                        "{at}.field '{name}' is not one of {}",
                        fields.join(", ")
                    ))
                }
                None => return bad(format!("{at} needs a field")),
            }
            if !matches!(
                f.get("mode").and_then(Value::as_str),
                Some("include" | "exclude")
            ) {
                return bad(format!("{at}.mode must be include or exclude"));
            }
            let patterns = f
                .get("patterns")
                .and_then(Value::as_array)
                .filter(|p| !p.is_empty());
            let Some(patterns) = patterns else {
                return bad(format!("{at} needs a patterns list"));
            };
            for (j, p) in patterns.iter().enumerate() {
                let kind = p.get("match_type").and_then(Value::as_str);
                if !matches!(kind, Some("exact" | "prefix" | "suffix" | "contains")) {
                    return bad(format!(
                        "{at}.patterns[{j}].match_type must be exact, prefix, suffix or contains"
                    ));
                }
                if !p.get("value").is_some_and(Value::is_string) {
                    return bad(format!("{at}.patterns[{j}] needs a value"));
                }
            }
        }
    }
    Ok(())
}

async fn list_definitions(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let mut pairs = query_pairs(raw.as_deref());
    if !pairs.iter().any(|(k, _)| k == "archived") {
        pairs.push(("archived".into(), "false".into()));
    }
    let org = lock(&s.org);
    let answer = org.store.page(&DEFINITIONS, &[], &Query(pairs))?;
    Ok(Json(answer).into_response())
}

async fn create_definition(AxumState(s): State, body: Bytes) -> Reply {
    let mut b = Body::parse(&body)?;
    validate(&b.0, DEFINITION_FIELDS, Mode::Create)?;
    check_definition(&b.0)?;
    b.0.insert("archived".into(), json!(false));
    b.0.insert("created_by".into(), json!(CURRENT_USER));
    let mut org = lock(&s.org);
    created(org.store.create(&DEFINITIONS, &[], Value::Object(b.0))?)
}

async fn read_definition(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let org = lock(&s.org);
    ok(Value::Object(
        org.store.get(&DEFINITIONS, &[], &id)?.clone(),
    ))
}

async fn update_definition(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let mut b = Body::parse(&body)?;
    validate(&b.0, DEFINITION_FIELDS, Mode::Put)?;
    check_definition(&b.0)?;
    let mut org = lock(&s.org);
    let current = org.store.get(&DEFINITIONS, &[], &id)?;
    for kept in ["archived", "created_by", "last_triggered_at"] {
        if let Some(v) = current.get(kept) {
            b.0.insert(kept.into(), v.clone());
        }
    }
    b.0.insert("updated_at".into(), json!(now()));
    ok(org.store.put(&DEFINITIONS, &[], &id, Value::Object(b.0))?)
}

fn set_archived(s: &Shared, id: &str, archived: bool) -> Reply {
    let mut org = lock(&s.org);
    let def = org.store.get_mut(&DEFINITIONS, &[], id)?;
    if def.get("archived").and_then(Value::as_bool) == Some(archived) {
        let state = if archived {
            "already archived"
        } else {
            "not archived"
        };
        return Err(Fail::conflict(format!(
            "Report definition '{id}' is {state}"
        )));
    }
    def.insert("archived".into(), json!(archived));
    def.insert("updated_at".into(), json!(now()));
    ok(Value::Object(def.clone()))
}

async fn archive_definition(AxumState(s): State, Path(id): Path<String>) -> Reply {
    set_archived(&s, &id, true)
}

async fn restore_definition(AxumState(s): State, Path(id): Path<String>) -> Reply {
    set_archived(&s, &id, false)
}

/// A generated report of `definition` over its window, from the audit events.
fn new_instance(org: &mut Org, def_id: &str, trigger: &str) -> Result<Value, Fail> {
    let def = org.store.get(&DEFINITIONS, &[], def_id)?.clone();
    let source = match def.get("integration_type").and_then(Value::as_str) {
        Some("oltp") => "sidecar",
        _ => "snowflake",
    };
    let days = def
        .get("report_window")
        .and_then(|w| w.get("lookback_days"))
        .and_then(Value::as_u64)
        .unwrap_or(7);
    let end = secs_now();
    let start = end.saturating_sub(days * 86_400);
    let events: Vec<&Record> = org
        .store
        .list(&EVENTS, &[])?
        .into_iter()
        .filter(|e| e.get("source").and_then(Value::as_str) == Some(source))
        .collect();
    let users: std::collections::BTreeSet<String> = events
        .iter()
        .flat_map(|e| texts(e.get("executing_user").or_else(|| e.get("consuming_user"))))
        .collect();
    let rows: i64 = events
        .iter()
        .filter_map(|e| e.get("rows_accessed").and_then(Value::as_i64))
        .sum();
    let instance = json!({
        "status": "COMPLETED", "trigger": trigger, "integration_type": def.get("integration_type"),
        "window_start": rfc3339(start), "window_end": rfc3339(end), "generated_at": now(),
        "summary": {"events": events.len(), "users": users.len(), "rows_accessed": rows},
        "sign_off_status": "PENDING",
    });
    org.store.create(&INSTANCES, &[def_id], instance)
}

async fn trigger_definition(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    let def = org.store.get(&DEFINITIONS, &[], &id)?;
    if def.get("archived").and_then(Value::as_bool) == Some(true) {
        return Err(Fail::conflict(format!(
            "Report definition '{id}' is archived; restore it first"
        )));
    }
    let last = def
        .get("last_triggered_at")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    let at = secs_now();
    if last > 0 && at.saturating_sub(last) < 300 {
        return Err(Fail::conflict(
            "A report was triggered for this definition less than 5 minutes ago",
        ));
    }
    let instance = new_instance(&mut org, &id, "manual")?;
    org.store
        .get_mut(&DEFINITIONS, &[], &id)?
        .insert("last_triggered_at".into(), json!(at));
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"success": true, "data": instance})),
    )
        .into_response())
}

async fn download(
    AxumState(s): State,
    Path((def, inst)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let q = Query::parse(raw);
    let format = q.get("format").unwrap_or("pdf");
    if !["pdf", "csv"].contains(&format) {
        return Err(Fail::bad_request("format must be pdf or csv"));
    }
    let org = lock(&s.org);
    org.store.get(&INSTANCES, &[&def], &inst)?;
    ok(json!({
        "url": format!("https://reports.sandbox.invalid/{def}/{inst}.{format}?X-Amz-Expires=900&X-Amz-Signature=sandbox"),
        "format": format, "expires_in": 900,
    }))
}

// ---------------------------------------------------------------------------------------------
// Comments and sign-offs

async fn list_comments(
    AxumState(s): State,
    Path((def, inst)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let org = lock(&s.org);
    let mut answer = org
        .store
        .page(&COMMENTS, &[&def, &inst], &Query::parse(raw))?;
    // Pinned first, the rest in order.
    if let Some(Value::Array(items)) = answer.get_mut(COMMENTS.items) {
        items.sort_by_key(|c| c.get("pinned").and_then(Value::as_bool) != Some(true));
    }
    Ok(Json(answer).into_response())
}

async fn create_comment(
    AxumState(s): State,
    Path((def, inst)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let mut b = Body::parse(&body)?;
    validate(&b.0, COMMENTS.fields, Mode::Create)?;
    b.0.insert("pinned".into(), json!(false));
    b.0.insert("author".into(), json!(CURRENT_USER));
    let mut org = lock(&s.org);
    created(
        org.store
            .create(&COMMENTS, &[&def, &inst], Value::Object(b.0))?,
    )
}

async fn pin(
    AxumState(s): State,
    Path((def, inst, comment, action)): Path<(String, String, String, String)>,
) -> Reply {
    let pinned = match action.as_str() {
        "pin" => true,
        "unpin" => false,
        _ => return Err(Fail::not_found(format!("No such comment action: {action}"))),
    };
    let mut org = lock(&s.org);
    let parent = [def.as_str(), inst.as_str()];
    let current = org.store.get(&COMMENTS, &parent, &comment)?;
    let is_pinned = current.get("pinned").and_then(Value::as_bool) == Some(true);
    if !pinned && !is_pinned {
        return Err(Fail::conflict(format!("Comment '{comment}' is not pinned")));
    }
    if pinned {
        // One pinned comment per instance: pinning this one unpins the other.
        let others: Vec<String> = org
            .store
            .list(&COMMENTS, &parent)?
            .into_iter()
            .filter(|c| c.get("pinned").and_then(Value::as_bool) == Some(true))
            .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
        for other in others {
            org.store
                .get_mut(&COMMENTS, &parent, &other)?
                .insert("pinned".into(), json!(false));
        }
    }
    let c = org.store.get_mut(&COMMENTS, &parent, &comment)?;
    c.insert("pinned".into(), json!(pinned));
    ok(Value::Object(c.clone()))
}

async fn my_sign_off(AxumState(s): State, Path((def, inst)): Path<(String, String)>) -> Reply {
    let org = lock(&s.org);
    let mine = org
        .store
        .list(&SIGN_OFFS, &[&def, &inst])?
        .into_iter()
        .find(|so| so.get("user").and_then(Value::as_str) == Some(CURRENT_USER))
        .map(|so| Value::Object(so.clone()))
        .unwrap_or(Value::Null);
    ok(mine)
}

async fn sign_off(
    AxumState(s): State,
    Path((def, inst)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    const FIELDS: &[Field] = &[
        Field::str("action").required().one_of(&["approve"]),
        Field::bool("attestation").required(),
        Field::str("comments"),
    ];
    let mut b = Body::parse(&body)?;
    validate(&b.0, FIELDS, Mode::Create)?;
    let mut org = lock(&s.org);
    let parent = [def.as_str(), inst.as_str()];
    let already = org
        .store
        .list(&SIGN_OFFS, &parent)?
        .into_iter()
        .any(|so| so.get("user").and_then(Value::as_str) == Some(CURRENT_USER));
    if already {
        return Err(Fail::conflict("You have already signed off this report"));
    }
    b.0.insert("user".into(), json!(CURRENT_USER));
    let stored = org.store.create(&SIGN_OFFS, &parent, Value::Object(b.0))?;
    org.store
        .get_mut(&INSTANCES, &[&def], &inst)?
        .insert("sign_off_status".into(), json!("SIGNED_OFF"));
    created(stored)
}

// ---------------------------------------------------------------------------------------------
// Seed

/// Masked Snowflake columns: (database, schema, table, column, tag value).
const MASKED: &[(&str, &str, &str, &str, &str)] = &[
    ("SALES_DB", "PUBLIC", "CUSTOMERS", "SSN", "SSN"),
    ("SALES_DB", "PUBLIC", "CUSTOMERS", "EMAIL", "EMAIL"),
    ("HR_DB", "PUBLIC", "EMPLOYEES", "SALARY", "SALARY"),
];

/// Who queries: (role, user).
const QUERIERS: &[(&str, &str)] = &[
    ("ANALYST", "ann"),
    ("ANALYST", "carl"),
    ("DATA_SCIENTIST", "dina"),
    ("HR_ADMIN", "hank"),
    ("FINANCE", "fay"),
];

pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    let base = secs_now();
    let mut n = 0u64;
    for (role, user) in QUERIERS
        .iter()
        .filter(|(r, _)| org.roles.iter().any(|o| o == r))
    {
        for (db, schema, table, column, tag_value) in MASKED {
            if org.databases.values().all(|d| d.database_name != *db) {
                continue;
            }
            n += 1;
            let _ = org.store.create(&EVENTS, &[], json!({
                "source": "snowflake", "query_id": format!("01b2-{n:04}"),
                "event_time": rfc3339(base.saturating_sub(n * 3_517)),
                "executing_role": role, "executing_user": user.to_ascii_uppercase(),
                "policy_tag_name": "PII_TYPE", "policy_tag_value": tag_value,
                "policy_column_database_name": db, "policy_column_schema_name": schema,
                "policy_column_table_name": table, "policy_column_name": column,
                "rows_accessed": 40 + (n * 37) % 900,
                "statement_type": "SELECT",
                "statement_text": format!("SELECT {column} FROM {db}.{schema}.{table} LIMIT 100"),
            }));
        }
    }
    for (i, (user, columns, kind)) in [
        ("ann", vec!["first_name", "ssn"], "SELECT"),
        ("bob", vec!["salary"], "UPDATE"),
        ("hank", vec!["first_name", "last_name", "salary"], "SELECT"),
        ("ann", vec!["email"], "SELECT"),
    ]
    .into_iter()
    .enumerate()
    {
        let i = i as u64 + 1;
        let text = match kind {
            "UPDATE" => "UPDATE employees SET salary = salary * 1.03 WHERE id = 7".to_string(),
            _ => format!("SELECT {} FROM employees", columns.join(", ")),
        };
        let _ = org.store.create(
            &EVENTS,
            &[],
            json!({
                "source": "sidecar", "query_id": format!("sc-q-{i:04}"),
                "event_time": rfc3339(base.saturating_sub(i * 5_400)),
                "consuming_user": user, "consuming_user_email": format!("{user}@acme.example"),
                "sidecar_id": "sc-edge-1", "sidecar_instance_id": "sc-edge-1-a",
                "database_name": "hr", "schema_name": "public", "table_name": "employees",
                "column_name": columns, "statement_type": kind, "statement_text": text,
                "rows_accessed": 10 * i,
            }),
        );
    }
    for (category, action, details) in [
        ("API Keys", "CREATE", json!({"key_name": "sandbox-key"})),
        ("Data Sources", "CONNECT", json!({"database": "SALES_DB"})),
        ("User Groups", "UPDATE", json!({"group": "ANALYST"})),
    ] {
        system_event(org, category, action, details);
    }
    let def = json!({
        "name": "Weekly masked-column reads", "integration_type": "snowflake",
        "description": "Who read masked PII columns last week",
        "report_window": {"lookback_days": 7, "timezone": "UTC"},
        "schedule": {"cron": "0 9 ? * MON *", "enabled": true, "timezone": "UTC"},
        "delivery": {"channels": [{"type": "email", "enabled": true, "recipients": ["security@acme.example"]}]},
        "filters": {"filter_groups": [{"filters": [{"field": "current_role", "mode": "include", "patterns": [{"match_type": "exact", "value": "ANALYST"}]}]}]},
        "archived": false, "created_by": CURRENT_USER,
    });
    let Ok(def) = org.store.create(&DEFINITIONS, &[], def) else {
        return;
    };
    let def_id = def
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Ok(inst) = new_instance(org, &def_id, "schedule") else {
        return;
    };
    let inst_id = inst
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let _ = org.store.create(
        &COMMENTS,
        &[&def_id, &inst_id],
        json!({"text": "ANALYST reads of SSN look higher than usual; checking with the team.",
               "pinned": true, "author": "security-lead"}),
    );
    let _ = org.store.create(
        &SIGN_OFFS,
        &[&def_id, &inst_id],
        json!({"action": "approve", "attestation": true, "user": "security-lead", "comments": "Reviewed"}),
    );
    let _ = org.store.create(
        &DEFINITIONS,
        &[],
        json!({"name": "Retired HR report", "integration_type": "oltp", "archived": true, "created_by": CURRENT_USER}),
    );
}
