//! Access management policies (API `/v1/unified-policy/management/policy/accessManagement`) and
//! access requests (API `/v1/unified-policy/management/accessRequest`).
//!
//! Policies are kept in one collection keyed by `policy_id` (`ACCESS#<uuid>`; the path decodes
//! `ACCESS%23...`), Snowflake and OLTP alike; `triggerCheck` records a completed check. Access
//! requests start OPEN; approve, deny and cancel close them (409 unless OPEN), and approving one
//! creates the Snowflake access policy it asks for. Each change is written to the system audit
//! log (category Access Requests / Access Management Policy).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::{json, Map, Value};

use super::store::{validate, Field, Id, Mode, Record, Spec};
use super::{
    audits, created, lock, now, ok, Body, Fail, Org, Query, Reply, Seed, Shared, State, API,
};

const AM: &str = "/v1/unified-policy/management/policy/accessManagement";
const AR: &str = "/v1/unified-policy/management/accessRequest";

/// Access management policies, Snowflake and OLTP.
pub const POLICIES: Spec = Spec {
    name: "access.policies",
    kind: "Access policy",
    items: "policies",
    id: Id::Key("policy_id"),
    ..Spec::NEW
};

/// Access requests.
pub const REQUESTS: Spec = Spec {
    name: "access.requests",
    kind: "Access request",
    items: "items",
    id: Id::Uuid("request_id"),
    ..Spec::NEW
};

const SNOWFLAKE_FIELDS: &[Field] = &[
    Field::str("policy_name").required(),
    Field::str("description").required(),
    Field::list("connection_ids").required(),
    Field::list("rules").required(),
    Field::object("policy_maintenance"),
    Field::str("access_request_id"),
];

const SNOWFLAKE_UPDATE: &[Field] = &[
    Field::str("policy_name").required(),
    Field::list("rules").required(),
    Field::str("description"),
];

const OLTP_FIELDS: &[Field] = &[
    Field::str("policy_name").required(),
    Field::str("description").required(),
    Field::str("repo_name").required(),
    Field::int("database_type").required(),
    Field::str("database_type_name").required(),
    Field::list("rules").required(),
    Field::str("case_sensitivity").one_of(&["case_sensitive", "case_insensitive"]),
];

const REQUEST_FIELDS: &[Field] = &[
    Field::object("requester_identity").required(),
    Field::str("justification").required(),
    Field::int("connection_id").required(),
    Field::list("rules").required(),
    Field::object("snowflake_metadata"),
];

/// Request states that can still be decided.
const OPEN: &str = "OPEN";

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .route(&format!("{API}{AM}/snowflake"), post(create_snowflake))
        .route(
            &format!("{API}{AM}/snowflake/{{policy_id}}"),
            get(read_policy).put(update_snowflake),
        )
        .route(&format!("{API}{AM}/oltp"), post(create_oltp))
        .route(
            &format!("{API}{AM}/triggerCheck/{{policy_id}}"),
            put(trigger_check),
        )
        .route(
            &format!("{API}{AR}"),
            get(list_requests).post(create_request),
        )
        .route(&format!("{API}{AR}/{{request_id}}"), get(read_request))
        .route(
            &format!("{API}{AR}/{{request_id}}/{{decision}}"),
            put(decide),
        )
}

/// 400 unless `rules` is a non-empty list of objects whose `keys` are non-empty lists.
fn check_rules(rules: Option<&Value>, keys: &[&str]) -> Result<(), Fail> {
    let rules = rules
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Fail::bad_request("rules must list at least one rule"))?;
    for (i, rule) in rules.iter().enumerate() {
        for key in keys {
            let listed = rule
                .get(*key)
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if !listed {
                return Err(Fail::bad_request(format!(
                    "rules[{i}].{key} must list at least one item"
                )));
            }
        }
    }
    Ok(())
}

fn connection_known(org: &Org, id: i64) -> Result<(), Fail> {
    if org.databases.contains_key(&id) {
        Ok(())
    } else {
        Err(Fail::bad_request(format!(
            "connection {id} is not a database connected to ALTR"
        )))
    }
}

/// Store a new Snowflake policy (the body already checked); the stored record.
fn add_snowflake(org: &mut Org, mut body: Record) -> Result<Value, Fail> {
    let id = format!("ACCESS#{}", org.new_uuid());
    body.insert("policy_id".into(), json!(id));
    body.insert("policy_type".into(), json!("snowflake"));
    body.insert("status".into(), json!("ACTIVE"));
    body.entry("policy_maintenance")
        .or_insert(json!({"rate": "day", "value": 1}));
    let name = body.get("policy_name").cloned().unwrap_or(Value::Null);
    let stored = org.store.create(&POLICIES, &[], Value::Object(body))?;
    audits::system_event(
        org,
        "Access Management Policy",
        "CREATE",
        json!({"policy_id": id, "policy_name": name}),
    );
    Ok(stored)
}

async fn create_snowflake(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, SNOWFLAKE_FIELDS, Mode::Create)?;
    check_rules(b.0.get("rules"), &["actors", "objects", "access"])?;
    let mut org = lock(&s.org);
    let ids =
        b.0.get("connection_ids")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
    if ids.is_empty() {
        return Err(Fail::bad_request("connection_ids must list a connection"));
    }
    for id in &ids {
        let id = id
            .as_i64()
            .ok_or_else(|| Fail::bad_request("connection_ids must list numeric ids"))?;
        connection_known(&org, id)?;
    }
    created(add_snowflake(&mut org, b.0)?)
}

async fn create_oltp(AxumState(s): State, body: Bytes) -> Reply {
    let mut b = Body::parse(&body)?;
    validate(&b.0, OLTP_FIELDS, Mode::Create)?;
    check_rules(b.0.get("rules"), &["actors", "objects"])?;
    let mut org = lock(&s.org);
    let id = format!("ACCESS#{}", org.new_uuid());
    b.0.insert("policy_id".into(), json!(id));
    b.0.insert("policy_type".into(), json!("oltp"));
    b.0.insert("status".into(), json!("ACTIVE"));
    b.0.entry("case_sensitivity")
        .or_insert(json!("case_sensitive"));
    let stored = org.store.create(&POLICIES, &[], Value::Object(b.0))?;
    audits::system_event(
        &mut org,
        "Access Management Policy",
        "CREATE",
        json!({"policy_id": id}),
    );
    created(stored)
}

fn snowflake_policy<'a>(org: &'a Org, id: &str) -> Result<&'a Record, Fail> {
    let policy = org.store.get(&POLICIES, &[], id)?;
    if policy.get("policy_type").and_then(Value::as_str) != Some("snowflake") {
        return Err(Fail::not_found(format!(
            "Snowflake access policy '{id}' not found"
        )));
    }
    Ok(policy)
}

async fn read_policy(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let org = lock(&s.org);
    ok(Value::Object(snowflake_policy(&org, &id)?.clone()))
}

async fn update_snowflake(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, SNOWFLAKE_UPDATE, Mode::Put)?;
    check_rules(b.0.get("rules"), &["actors", "objects", "access"])?;
    let mut org = lock(&s.org);
    snowflake_policy(&org, &id)?;
    let mut fields = b.0;
    fields.insert("updated_at".into(), json!(now()));
    let updated = org
        .store
        .patch(&POLICIES, &[], &id, Value::Object(fields))?;
    audits::system_event(
        &mut org,
        "Access Management Policy",
        "UPDATE",
        json!({"policy_id": id}),
    );
    ok(updated)
}

async fn trigger_check(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    let policy = org.store.get_mut(&POLICIES, &[], &id)?;
    let at = now();
    policy.insert(
        "last_check".into(),
        json!({"status": "COMPLETED", "checked_at": at, "violations": 0}),
    );
    ok(json!({"policy_id": id, "status": "CHECK_STARTED", "requested_at": at}))
}

async fn create_request(AxumState(s): State, body: Bytes) -> Reply {
    let mut b = Body::parse(&body)?;
    validate(&b.0, REQUEST_FIELDS, Mode::Create)?;
    check_rules(b.0.get("rules"), &["actors", "objects", "access"])?;
    let requester =
        b.0.get("requester_identity")
            .and_then(|r| r.get("requester"))
            .and_then(Value::as_str)
            .filter(|r| !r.trim().is_empty())
            .map(str::to_string)
            .ok_or_else(|| Fail::bad_request("requester_identity.requester is required"))?;
    let mut org = lock(&s.org);
    connection_known(&org, b.int("connection_id")?)?;
    b.0.insert("requester".into(), json!(requester));
    b.0.insert("status".into(), json!(OPEN));
    let stored = org.store.create(&REQUESTS, &[], Value::Object(b.0))?;
    let id = stored.get("request_id").cloned().unwrap_or(Value::Null);
    audits::system_event(
        &mut org,
        "Access Requests",
        "CREATE",
        json!({"request_id": id, "requester": requester}),
    );
    created(stored)
}

async fn list_requests(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let limit = q.number("limit", 10, 1, 1000)?;
    let start = match q.get("exclusive_start_key") {
        None => 0,
        Some(k) => k.trim().parse::<usize>().map_err(|_| {
            Fail::bad_request("exclusive_start_key is not one this API gave out; pass back the last_evaluated_key of the previous page")
        })?,
    };
    let descending = match q.get("sort").map(str::to_ascii_lowercase).as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => return Err(Fail::bad_request("sort must be asc or desc")),
    };
    let org = lock(&s.org);
    let mut items: Vec<&Record> = org
        .store
        .list(&REQUESTS, &[])?
        .into_iter()
        .filter(|r| {
            q.get("requester").is_none_or(|want| {
                r.get("requester")
                    .and_then(Value::as_str)
                    .is_some_and(|have| have.eq_ignore_ascii_case(want))
            })
        })
        .filter(|r| {
            q.get("status")
                .is_none_or(|want| r.get("status").and_then(Value::as_str) == Some(want))
        })
        .collect();
    if descending {
        items.reverse();
    }
    let end = start.saturating_add(limit as usize).min(items.len());
    let page: Vec<Value> = items
        .get(start.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|r| Value::Object((*r).clone()))
        .collect();
    let mut data = Map::new();
    data.insert("items".into(), Value::Array(page));
    if end < items.len() {
        data.insert("last_evaluated_key".into(), json!(end.to_string()));
    }
    ok(Value::Object(data))
}

async fn read_request(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let org = lock(&s.org);
    ok(Value::Object(org.store.get(&REQUESTS, &[], &id)?.clone()))
}

async fn decide(
    AxumState(s): State,
    Path((id, decision)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let closed = match decision.as_str() {
        "approve" => "CLOSED_APPROVED",
        "deny" => "CLOSED_DENIED",
        "cancel" => "CLOSED_CANCELLED",
        _ => {
            return Err(Fail::not_found(format!(
                "No such access request action: {decision}"
            )))
        }
    };
    let b = Body::parse(&body)?;
    b.only(&["justification"])?;
    let justification = b.string("justification")?;
    let mut org = lock(&s.org);
    let request = org.store.get(&REQUESTS, &[], &id)?.clone();
    let status = request
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if status != OPEN {
        return Err(Fail::conflict(format!(
            "Access request '{id}' is {status}; only an OPEN request can be decided"
        )));
    }
    let mut change = json!({
        "status": closed,
        "decision": {"action": decision, "justification": justification, "decided_at": now()},
    });
    if decision == "approve" {
        let requester = request
            .get("requester")
            .and_then(Value::as_str)
            .unwrap_or("requester");
        let mut policy = Record::new();
        policy.insert(
            "policy_name".into(),
            json!(format!("Access request for {requester}")),
        );
        policy.insert(
            "description".into(),
            request
                .get("justification")
                .cloned()
                .unwrap_or(json!("Approved access request")),
        );
        policy.insert(
            "connection_ids".into(),
            json!([request.get("connection_id").cloned().unwrap_or(Value::Null)]),
        );
        policy.insert(
            "rules".into(),
            request.get("rules").cloned().unwrap_or(json!([])),
        );
        policy.insert("access_request_id".into(), json!(id));
        let created_policy = add_snowflake(&mut org, policy)?;
        if let Some(o) = change.as_object_mut() {
            o.insert(
                "policy_id".into(),
                created_policy
                    .get("policy_id")
                    .cloned()
                    .unwrap_or(Value::Null),
            );
        }
    }
    let updated = org.store.patch(&REQUESTS, &[], &id, change)?;
    audits::system_event(
        &mut org,
        "Access Requests",
        &decision.to_ascii_uppercase(),
        json!({"request_id": id}),
    );
    ok(updated)
}

/// A Snowflake rule: `roles` may `access` the `table` (fully qualified).
fn rule(roles: &[&str], table: &str, access: &[&str]) -> Value {
    json!({
        "actors": [{"type": "role", "condition": "equals", "identifiers": roles}],
        "objects": [{"type": "table", "condition": "equals", "identifiers": [table]}],
        "access": access.iter().map(|a| json!({"name": a})).collect::<Vec<_>>(),
    })
}

pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    let policy = json!({
        "policy_name": "Analysts read sales",
        "description": "Analysts may read the sales tables",
        "connection_ids": [1],
        "rules": [rule(&["ANALYST"], "SALES_DB.PUBLIC.ORDERS", &["read"]),
                  rule(&["DATA_ENGINEER"], "SALES_DB.PUBLIC.ORDERS", &["read", "write"])],
    });
    if let Value::Object(p) = policy {
        let _ = add_snowflake(org, p);
    }
    let oltp = json!({
        "policy_id": format!("ACCESS#{}", org.new_uuid()),
        "policy_type": "oltp", "status": "ACTIVE",
        "policy_name": "HR readers", "description": "HR group reads employee names",
        "repo_name": "hr-postgres", "database_type": 2, "database_type_name": "postgres",
        "case_sensitivity": "case_sensitive",
        "rules": [{"type": "read",
                   "actors": [{"type": "idp_group", "condition": "equals", "identifiers": ["hr"]}],
                   "objects": [{"type": "column", "identifiers": [{
                       "database": {"name": "hr", "wildcard": false},
                       "schema": {"name": "public", "wildcard": false},
                       "table": {"name": "employees", "wildcard": false},
                       "column": {"name": "*", "wildcard": true}}]}]}],
    });
    let _ = org.store.create(&POLICIES, &[], oltp);
    for (requester, role, table, status) in [
        ("ann", "ANALYST", "SALES_DB.PUBLIC.CUSTOMERS", OPEN),
        (
            "bob",
            "DATA_ENGINEER",
            "HR_DB.PUBLIC.EMPLOYEES",
            "CLOSED_DENIED",
        ),
    ] {
        let stored = org.store.create(
            &REQUESTS,
            &[],
            json!({
                "requester_identity": {"requester": requester, "email": format!("{requester}@acme.example"), "role": role},
                "requester": requester,
                "justification": format!("{requester} needs {table} for the quarterly review"),
                "connection_id": if table.starts_with("HR") { 2 } else { 1 },
                "rules": [rule(&[role], table, &["read"])],
                "status": status,
            }),
        );
        let id = stored.ok().and_then(|r| r.get("request_id").cloned());
        audits::system_event(
            org,
            "Access Requests",
            "CREATE",
            json!({"request_id": id, "requester": requester}),
        );
        if status != OPEN {
            audits::system_event(org, "Access Requests", "DENY", json!({"request_id": id}));
        }
    }
}
