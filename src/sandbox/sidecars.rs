//! The sidecar control plane (`SC`): agents with tasks, repositories with users and service
//! users, sidecars with listeners and bindings, and the telemetry generated from them.
//!
//! Behaviour, as an API would have it:
//! - A listener's port is its id within a sidecar: a second listener on the same port is a 409.
//! - A binding lives under a listener (`/sidecars/{id}/bindings/ports/{port}/repos/{repo}`): the
//!   sidecar and the listener must exist (404), so must the repository (404), and the listener's
//!   database type must match the repository's (400); binding twice is a 409.
//! - Deregistering a listener removes its bindings. As ALTR documents, disconnecting is refused
//!   (409) while something depends on the record: a sidecar with listeners, an agent with tasks
//!   (`task_count` above 0), a repository with users or bound to a sidecar port. What is left
//!   goes with it: a sidecar's or agent's instances, a repository's service users.
//! - Repository users and service users keep their password in exactly one secret store
//!   (`aws_secrets_manager` `{secrets_path, iam_role?}` or `azure_key_vault` `{key_vault_uri,
//!   secret_name}`, 400 otherwise); an update naming the other store moves the secret there (the
//!   old reference is dropped).
//! - A task needs an existing repository (400) and, if it names one, a service user of it (400);
//!   its schedule is `{type: "CRON", value: <cron expression>, max_duration?, timezone?}` (400
//!   otherwise). Agents and service users count their tasks in `task_count`, which creating and
//!   deleting a task move.
//! - Telemetry is derived from the configuration: a created sidecar or agent starts one running
//!   instance; a sidecar instance reports per-port query counts over 5 minutes, 1 hour and 24
//!   hours (a steady, per-port rate; zero on ports with no binding), connections and throughput;
//!   its health is `healthy` when it routes traffic and `idle` otherwise. Task telemetry lists the
//!   runs of a task; deleting it clears the runs (the task stays and reports zero runs).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::store::{self, validate, Field, Filter, Id, Mode, Op, Paging, Record, Spec};
use super::{created, lock, now, ok, Body, Fail, Org, Query, Reply, Seed, Shared, State};

const SC: &str = "/sc-control/v1";
// ALTR documents a default of 50 and a maximum of 100 per page for sidecar configuration lists.
const PAGING: Paging = Paging::contiguous_id(50, 100);
const REPO_TYPES: &[&str] = &["Oracle", "MSSQL", "MySQL", "Postgres"];

pub const AGENTS: Spec = Spec {
    name: "sc.agents",
    kind: "Agent",
    items: "agents",
    fields: &[
        Field::str("type").required().one_of(&["SIS", "CLASSIFIER"]),
        Field::str("name").required(),
        Field::str("description"),
        Field::str("public_key_1"),
        Field::str("public_key_2"),
    ],
    unique: &["name"],
    filters: &[
        Filter::equals("type", "type"),
        Filter::prefix("name_starts_with", "name"),
    ],
    paging: PAGING,
    ..Spec::NEW
};

pub const TASKS: Spec = Spec {
    name: "sc.tasks",
    kind: "Agent task",
    items: "tasks",
    parent: Some(&AGENTS),
    scope: &["agent_id"],
    fields: &[
        Field::str("name").required(),
        Field::str("repo_name").required(),
        Field::object("configuration").required(),
        Field::object("schedule").required(),
        Field::str("description"),
        Field::str("service_user"),
    ],
    unique: &["name"],
    paging: PAGING,
    ..Spec::NEW
};

pub const AGENT_INSTANCES: Spec = Spec {
    name: "sc.agent_instances",
    kind: "Agent instance",
    items: "instances",
    parent: Some(&AGENTS),
    scope: &["agent_id"],
    paging: PAGING,
    ..Spec::NEW
};

/// Runs of a task, by task id (unscoped: the telemetry endpoint names only the task).
pub const TASK_TELEMETRY: Spec = Spec {
    name: "sc.task_telemetry",
    kind: "Task telemetry",
    items: "task_telemetry",
    id: Id::Key("task_id"),
    paging: PAGING,
    ..Spec::NEW
};

pub const REPOS: Spec = Spec {
    name: "sc.repos",
    kind: "Repository",
    items: "repos",
    id: Id::Key("name"),
    fields: &[
        Field::str("name").required(),
        Field::str("type").required().one_of(REPO_TYPES),
        Field::str("hostname").required(),
        Field::int("port").required().range(1, 65535),
        Field::str("description"),
    ],
    filters: &[Filter::equals("repo_type", "type")],
    paging: PAGING,
    ..Spec::NEW
};

const SECRET_FIELDS: [Field; 2] = [
    Field::object("aws_secrets_manager"),
    Field::object("azure_key_vault"),
];

pub const REPO_USERS: Spec = Spec {
    name: "sc.repo_users",
    kind: "Repository user",
    items: "users",
    id: Id::Key("username"),
    parent: Some(&REPOS),
    scope: &["repo_name"],
    fields: &[
        Field::str("username").required(),
        SECRET_FIELDS[0],
        SECRET_FIELDS[1],
    ],
    paging: PAGING,
    ..Spec::NEW
};

pub const SERVICE_USERS: Spec = Spec {
    name: "sc.service_users",
    kind: "Service user",
    items: "service_users",
    id: Id::Key("username"),
    parent: Some(&REPOS),
    scope: &["repo_name"],
    fields: &[
        Field::str("username").required(),
        Field::str("resource").required(),
        SECRET_FIELDS[0],
        SECRET_FIELDS[1],
    ],
    filters: &[Filter::prefix("username_starts_with", "username")],
    paging: PAGING,
    ..Spec::NEW
};

pub const SIDECARS: Spec = Spec {
    name: "sc.sidecars",
    kind: "Sidecar",
    items: "sidecars",
    fields: &[
        Field::str("name").required(),
        Field::str("hostname").required(),
        Field::str("description"),
        Field::str("public_key_1"),
        Field::str("public_key_2"),
        Field::bool("unsupported_query_bypass"),
        Field::bool("disable_platform_audits"),
    ],
    unique: &["name"],
    paging: PAGING,
    ..Spec::NEW
};

pub const LISTENERS: Spec = Spec {
    name: "sc.listeners",
    kind: "Sidecar listener",
    items: "listeners",
    id: Id::Key("port"),
    parent: Some(&SIDECARS),
    scope: &["sidecar_id"],
    fields: &[
        Field::int("port").required().range(1, 65535),
        Field::str("database_type").required(),
        Field::str("advertised_version"),
    ],
    paging: PAGING,
    ..Spec::NEW
};

pub const BINDINGS: Spec = Spec {
    name: "sc.bindings",
    kind: "Binding",
    items: "bindings",
    id: Id::Key("repo_name"),
    parent: Some(&LISTENERS),
    scope: &["sidecar_id", "port"],
    paging: PAGING,
    updated: None,
    ..Spec::NEW
};

pub const SIDECAR_INSTANCES: Spec = Spec {
    name: "sc.sidecar_instances",
    kind: "Sidecar instance",
    items: "instances",
    parent: Some(&SIDECARS),
    scope: &["sidecar_id"],
    paging: PAGING,
    ..Spec::NEW
};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    let at = |p: &str| format!("{SC}{p}");
    Router::new()
        // Agents, their tasks and instances.
        .merge(store::routes(
            &AGENTS,
            &at("/agents"),
            &at("/agents/{agent_id}"),
            &[Op::List, Op::Get, Op::Patch],
        ))
        .route(&at("/agents"), post(create_agent))
        .route(
            &at("/agents/{agent_id}"),
            axum::routing::delete(delete_agent),
        )
        .merge(store::routes(
            &TASKS,
            &at("/agents/{agent_id}/tasks"),
            &at("/agents/{agent_id}/tasks/{task_id}"),
            &[Op::List],
        ))
        .route(&at("/agents/{agent_id}/tasks"), post(create_task))
        .route(
            &at("/agents/{agent_id}/tasks/{task_id}"),
            axum::routing::delete(delete_task).patch(update_task),
        )
        .merge(instance_routes(
            &at("/agents/{parent}/instances"),
            &AGENT_INSTANCES,
            agent_live,
        ))
        .route(
            &at("/agents/{agent_id}/task-telemetry"),
            get(agent_task_telemetry),
        )
        .route(
            &at("/tasks/{task_id}/task-telemetry"),
            get(task_telemetry).delete(delete_task_telemetry),
        )
        // Repositories, users, service users.
        .merge(store::routes(
            &REPOS,
            &at("/repos"),
            &at("/repos/{repo_name}"),
            &[Op::List, Op::Create, Op::Get],
        ))
        .route(
            &at("/repos/{repo_name}"),
            axum::routing::patch(update_repo).delete(delete_repo),
        )
        .merge(store::routes(
            &REPO_USERS,
            &at("/repos/{repo_name}/users"),
            &at("/repos/{repo_name}/users/{username}"),
            &[Op::List, Op::Get, Op::Delete],
        ))
        .route(&at("/repos/{repo_name}/users"), post(create_repo_user))
        .route(
            &at("/repos/{repo_name}/users/{username}"),
            axum::routing::patch(update_repo_user),
        )
        .merge(store::routes(
            &SERVICE_USERS,
            &at("/repos/{repo_name}/serviceusers"),
            &at("/repos/{repo_name}/serviceusers/{username}"),
            &[Op::List, Op::Get, Op::Delete],
        ))
        .route(
            &at("/repos/{repo_name}/serviceusers"),
            post(create_service_user),
        )
        .route(
            &at("/repos/{repo_name}/serviceusers/{username}"),
            axum::routing::patch(update_service_user),
        )
        .route(&at("/serviceusers"), get(all_service_users))
        .route(&at("/repos/{repo_name}/bindings"), get(repo_bindings))
        // Sidecars, listeners, bindings, instances.
        .merge(store::routes(
            &SIDECARS,
            &at("/sidecars"),
            &at("/sidecars/{sidecar_id}"),
            &[Op::List, Op::Get, Op::Patch],
        ))
        .route(&at("/sidecars"), post(create_sidecar))
        .route(
            &at("/sidecars/{sidecar_id}"),
            axum::routing::delete(delete_sidecar),
        )
        .merge(store::routes(
            &LISTENERS,
            &at("/sidecars/{sidecar_id}/ports"),
            &at("/sidecars/{sidecar_id}/ports/{port}"),
            &[Op::List, Op::Create, Op::Delete],
        ))
        .route(
            &at("/sidecars/{sidecar_id}/bindings"),
            get(sidecar_bindings),
        )
        .merge(store::routes(
            &BINDINGS,
            &at("/sidecars/{sidecar_id}/bindings/ports/{port}/repos"),
            &at("/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
            &[Op::Get, Op::Delete],
        ))
        .route(
            &at("/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
            post(create_binding),
        )
        .merge(instance_routes(
            &at("/sidecars/{parent}/instances"),
            &SIDECAR_INSTANCES,
            sidecar_live,
        ))
}

/// A steady rate (per minute) for one thing, so the same configuration always reads the same.
fn rate(key: &str, low: u64, spread: u64) -> u64 {
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    low + h % spread.max(1)
}

fn text(r: &Record, key: &str) -> String {
    match r.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Counts over the three windows for a per-minute rate.
fn windows(per_minute: u64) -> Value {
    json!({"last_5m": per_minute * 5, "last_1h": per_minute * 60, "last_24h": per_minute * 1440})
}

/// One page of `items` by position (`contiguous_id` is the position after the previous page).
/// List, get and disconnect the running instances of an agent or a sidecar (`{parent}` in
/// `list_path`); `live` adds what the instance reports now.
fn instance_routes(
    list_path: &str,
    spec: &'static Spec,
    live: fn(&Org, &Record) -> Value,
) -> Router<Arc<Shared>> {
    let list = move |AxumState(s): State, Path(parent): Path<String>, RawQuery(q): RawQuery| async move {
        let org = lock(&s.org);
        let items: Vec<Value> = org
            .store
            .list(spec, &[&parent])?
            .into_iter()
            .map(|r| live(&org, r))
            .collect();
        page_of(items, "instances", &Query::parse(q))
    };
    let read = move |AxumState(s): State, Path((parent, id)): Path<(String, String)>| async move {
        let org = lock(&s.org);
        let r = org.store.get(spec, &[&parent], &id)?;
        ok(live(&org, r))
    };
    let disconnect = move |AxumState(s): State, Path((parent, id)): Path<(String, String)>| async move {
        lock(&s.org).store.delete(spec, &[&parent], &id)?;
        Reply::Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    };
    Router::new()
        .route(list_path, get(list))
        .route(&format!("{list_path}/{{id}}"), get(read).delete(disconnect))
}

fn page_of(items: Vec<Value>, key: &str, q: &Query) -> Reply {
    let limit = q.number("limit", PAGING.default, 1, PAGING.max)?;
    let from = match q.get("contiguous_id").map(str::trim) {
        None | Some("") => 0,
        Some(raw) => raw.parse::<u64>().map_err(|_| {
            Fail::bad_request("contiguous_id is not one this API gave out; pass back the contiguous_id of the previous page")
        })?,
    };
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(from).take(limit).collect();
    let mut answer = Map::new();
    answer.insert("success".into(), Value::Bool(true));
    answer.insert(key.into(), Value::Array(page));
    let next = from.saturating_add(limit);
    if next < total {
        answer.insert("contiguous_id".into(), Value::String(next.to_string()));
    }
    Ok(Json(Value::Object(answer)).into_response())
}

/// A comma-separated filter from the query, trimmed and lower-cased (`None` when absent).
fn list_filter(q: &Query, key: &str) -> Option<Vec<String>> {
    q.get(key).map(|v| {
        v.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

fn passes(filter: &Option<Vec<String>>, value: &str) -> bool {
    filter
        .as_ref()
        .is_none_or(|f| f.iter().any(|w| w.eq_ignore_ascii_case(value)))
}

/// Every binding of a sidecar, as records.
fn bindings_of(org: &Org, sidecar_id: &str) -> Result<Vec<Record>, Fail> {
    let mut out = Vec::new();
    for l in org.store.list(&LISTENERS, &[sidecar_id])? {
        let port = text(l, "port");
        for b in org.store.list(&BINDINGS, &[sidecar_id, &port])? {
            out.push(b.clone());
        }
    }
    Ok(out)
}

/// Every binding in the org.
fn all_bindings(org: &Org) -> Result<Vec<Record>, Fail> {
    let mut out = Vec::new();
    for sc in org.store.list(&SIDECARS, &[])? {
        out.extend(bindings_of(org, &text(sc, "id"))?);
    }
    Ok(out)
}

// ---- agents and tasks ----

async fn create_agent(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, AGENTS.fields, Mode::Create)?;
    let mut body = b.0;
    body.insert("task_count".into(), json!(0));
    let mut org = lock(&s.org);
    let agent = org.store.create(&AGENTS, &[], Value::Object(body))?;
    let id = agent
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    start_agent_instance(&mut org, &id, 1);
    created(agent)
}

fn start_agent_instance(org: &mut Org, agent_id: &str, n: u64) {
    let host = format!("agent-host-{n}.acme.internal");
    let _ = org.store.create(
        &AGENT_INSTANCES,
        &[agent_id],
        json!({"hostname": host, "version": "2.14.1", "status": "running", "started_at": now()}),
    );
}

async fn create_task(AxumState(s): State, Path(agent_id): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    let mut org = lock(&s.org);
    org.store.get(&AGENTS, &[], &agent_id)?;
    validate(&b.0, TASKS.fields, Mode::Create)?;
    check_schedule(b.0.get("schedule"))?;
    let repo = b.string("repo_name")?;
    if org.store.get(&REPOS, &[], &repo).is_err() {
        return Err(Fail::bad_request(format!(
            "repo_name '{repo}' is not a repository; create it with POST /v1/repos first"
        )));
    }
    if let Some(user) = b.opt_string("service_user")? {
        if org.store.get(&SERVICE_USERS, &[&repo], &user).is_err() {
            return Err(Fail::bad_request(format!(
                "service_user '{user}' is not a service user of repository '{repo}'"
            )));
        }
    }
    let user = b.opt_string("service_user")?;
    let task = org.store.create(&TASKS, &[&agent_id], Value::Object(b.0))?;
    count_task(&mut org, &agent_id, &repo, user.as_deref(), 1);
    created(task)
}

/// `{type: "CRON", value: <text>, max_duration?: <text>, timezone?: <text>}`, as ALTR documents
/// a task schedule.
fn check_schedule(schedule: Option<&Value>) -> Result<(), Fail> {
    let Some(schedule) = schedule else {
        return Ok(());
    };
    let text = |k: &str| schedule.get(k).and_then(Value::as_str);
    if text("type") != Some("CRON") || text("value").is_none_or(|v| v.trim().is_empty()) {
        return Err(Fail::bad_request(
            "schedule must be {\"type\": \"CRON\", \"value\": <cron expression>}, optionally with max_duration (ISO 8601) and timezone",
        ));
    }
    for k in ["max_duration", "timezone"] {
        if schedule.get(k).is_some_and(|v| !v.is_string()) {
            return Err(Fail::bad_request(format!("schedule.{k} must be a string")));
        }
    }
    Ok(())
}

/// Move the `task_count` of an agent and of the task's service user (if any) by `by`.
fn count_task(org: &mut Org, agent_id: &str, repo: &str, user: Option<&str>, by: i64) {
    let bump = |r: &mut Record| {
        let n = r.get("task_count").and_then(Value::as_i64).unwrap_or(0);
        r.insert("task_count".into(), json!((n + by).max(0)));
    };
    if let Ok(agent) = org.store.get_mut(&AGENTS, &[], agent_id) {
        bump(agent);
    }
    if let Some(user) = user {
        if let Ok(u) = org.store.get_mut(&SERVICE_USERS, &[repo], user) {
            bump(u);
        }
    }
}

async fn update_task(
    AxumState(s): State,
    Path((agent_id, task_id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, TASKS.fields, Mode::Patch)?;
    check_schedule(b.0.get("schedule"))?;
    let mut org = lock(&s.org);
    ok(org
        .store
        .patch(&TASKS, &[&agent_id], &task_id, Value::Object(b.0))?)
}

async fn delete_task(
    AxumState(s): State,
    Path((agent_id, task_id)): Path<(String, String)>,
) -> Reply {
    let mut org = lock(&s.org);
    let task = org.store.delete(&TASKS, &[&agent_id], &task_id)?;
    let _ = org.store.delete(&TASK_TELEMETRY, &[], &task_id);
    let repo = text(&task, "repo_name");
    let user = task.get("service_user").and_then(Value::as_str);
    count_task(&mut org, &agent_id, &repo, user, -1);
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// Disconnect an agent: refused while it has tasks; its instances go with it.
async fn delete_agent(AxumState(s): State, Path(agent_id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    org.store.get(&AGENTS, &[], &agent_id)?;
    let tasks = org.store.list(&TASKS, &[&agent_id])?.len();
    if tasks > 0 {
        return Err(Fail::conflict(format!(
            "Agent '{agent_id}' has task_count {tasks}; delete its tasks first (DELETE /v1/agents/{agent_id}/tasks/{{task_id}})"
        )));
    }
    org.store.delete(&AGENTS, &[], &agent_id)?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// A task's telemetry: its recorded runs, or none yet.
fn telemetry_of(org: &Org, task: &Record) -> Value {
    let task_id = text(task, "id");
    let runs = org
        .store
        .get(&TASK_TELEMETRY, &[], &task_id)
        .ok()
        .and_then(|r| r.get("runs").cloned())
        .unwrap_or_else(|| json!([]));
    let list = runs.as_array().cloned().unwrap_or_default();
    let rows: u64 = list
        .iter()
        .filter_map(|r| r.get("rows_scanned").and_then(Value::as_u64))
        .sum();
    let failed = list
        .iter()
        .filter(|r| r.get("status").and_then(Value::as_str) == Some("failed"))
        .count();
    json!({
        "task_id": task_id,
        "agent_id": text(task, "agent_id"),
        "task_name": text(task, "name"),
        "repo_name": text(task, "repo_name"),
        "total_runs": list.len(),
        "failed_runs": failed,
        "rows_scanned": rows,
        "last_status": list.last().and_then(|r| r.get("status")).cloned().unwrap_or(Value::Null),
        "runs": runs,
    })
}

fn find_task<'a>(org: &'a Org, task_id: &str) -> Result<&'a Record, Fail> {
    for agent in org.store.list(&AGENTS, &[])? {
        if let Ok(task) = org.store.get(&TASKS, &[&text(agent, "id")], task_id) {
            return Ok(task);
        }
    }
    Err(Fail::not_found(format!(
        "Agent task '{}' not found",
        task_id.chars().take(120).collect::<String>()
    )))
}

async fn task_telemetry(AxumState(s): State, Path(task_id): Path<String>) -> Reply {
    let org = lock(&s.org);
    let task = find_task(&org, &task_id)?;
    ok(telemetry_of(&org, task))
}

async fn delete_task_telemetry(AxumState(s): State, Path(task_id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    find_task(&org, &task_id)?;
    let _ = org.store.delete(&TASK_TELEMETRY, &[], &task_id);
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

async fn agent_task_telemetry(
    AxumState(s): State,
    Path(agent_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let org = lock(&s.org);
    let items: Vec<Value> = org
        .store
        .list(&TASKS, &[&agent_id])?
        .into_iter()
        .map(|t| telemetry_of(&org, t))
        .collect();
    page_of(items, "task_telemetry", &Query::parse(q))
}

/// An agent instance with its live figures.
fn agent_live(org: &Org, r: &Record) -> Value {
    let agent_id = text(r, "agent_id");
    let tasks = org
        .store
        .list(&TASKS, &[&agent_id])
        .map(|t| t.len())
        .unwrap_or(0);
    let mut out = r.clone();
    out.insert("health".into(), json!("healthy"));
    out.insert("last_check_in".into(), json!(now()));
    out.insert("assigned_tasks".into(), json!(tasks));
    Value::Object(out)
}

// ---- repositories and users ----

async fn update_repo(AxumState(s): State, Path(repo): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, &[Field::str("description")], Mode::Patch)?;
    let mut org = lock(&s.org);
    ok(org.store.patch(&REPOS, &[], &repo, Value::Object(b.0))?)
}

async fn delete_repo(AxumState(s): State, Path(repo): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    org.store.get(&REPOS, &[], &repo)?;
    let bound: Vec<String> = all_bindings(&org)?
        .iter()
        .filter(|b| text(b, "repo_name") == repo)
        .map(|b| format!("{}:{}", text(b, "sidecar_id"), text(b, "port")))
        .collect();
    if !bound.is_empty() {
        return Err(Fail::conflict(format!(
            "Repository '{repo}' is still bound to sidecar port(s) {}; remove those bindings first",
            bound.join(", ")
        )));
    }
    let users: Vec<String> = org
        .store
        .list(&REPO_USERS, &[&repo])?
        .iter()
        .map(|u| text(u, "username"))
        .collect();
    if !users.is_empty() {
        return Err(Fail::conflict(format!(
            "Repository '{repo}' still has user(s) {}; disconnect them first",
            users.join(", ")
        )));
    }
    org.store.delete(&REPOS, &[], &repo)?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// Whether a secret store reference has ALTR's documented keys: AWS `secrets_path` (and an
/// optional `iam_role`), Azure `key_vault_uri` and `secret_name`, all text.
fn store_shape_ok(store: &str, value: &Value) -> bool {
    let text = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.trim().is_empty())
    };
    if store == "aws_secrets_manager" {
        text("secrets_path") && value.get("iam_role").is_none_or(Value::is_string)
    } else {
        text("key_vault_uri") && text("secret_name")
    }
}

/// Exactly one secret store on create; at most one on update, which then replaces the other.
fn secret_store(body: &mut Record, creating: bool) -> Result<(), Fail> {
    let given: Vec<&str> = ["aws_secrets_manager", "azure_key_vault"]
        .into_iter()
        .filter(|k| body.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    match given.as_slice() {
        [] if creating => Err(Fail::bad_request(
            "give exactly one of aws_secrets_manager or azure_key_vault",
        )),
        [one] if !store_shape_ok(one, &body[*one]) => {
            Err(Fail::bad_request(if *one == "aws_secrets_manager" {
                "aws_secrets_manager must be {\"secrets_path\": <text>} with an optional \"iam_role\""
            } else {
                "azure_key_vault must be {\"key_vault_uri\": <text>, \"secret_name\": <text>}"
            }))
        }
        [_, _] => Err(Fail::bad_request(
            "give only one of aws_secrets_manager or azure_key_vault",
        )),
        [one] if !creating => {
            let other = if *one == "aws_secrets_manager" {
                "azure_key_vault"
            } else {
                "aws_secrets_manager"
            };
            body.insert(other.into(), Value::Null);
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn create_user(s: &Shared, spec: &'static Spec, repo: &str, body: &Bytes) -> Reply {
    let mut b = Body::parse(body)?;
    validate(&b.0, spec.fields, Mode::Create)?;
    secret_store(&mut b.0, true)?;
    if std::ptr::eq(spec, &SERVICE_USERS) {
        b.0.insert("task_count".into(), json!(0));
    }
    created(
        lock(&s.org)
            .store
            .create(spec, &[repo], Value::Object(b.0))?,
    )
}

async fn update_user(
    s: &Shared,
    spec: &'static Spec,
    repo: &str,
    user: &str,
    body: &Bytes,
) -> Reply {
    let mut b = Body::parse(body)?;
    let fields: Vec<Field> = spec
        .fields
        .iter()
        .copied()
        .filter(|f| f.name != "username")
        .collect();
    validate(&b.0, &fields, Mode::Patch)?;
    secret_store(&mut b.0, false)?;
    ok(lock(&s.org)
        .store
        .patch(spec, &[repo], user, Value::Object(b.0))?)
}

async fn create_repo_user(AxumState(s): State, Path(repo): Path<String>, body: Bytes) -> Reply {
    create_user(&s, &REPO_USERS, &repo, &body).await
}

async fn update_repo_user(
    AxumState(s): State,
    Path((repo, user)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    update_user(&s, &REPO_USERS, &repo, &user, &body).await
}

async fn create_service_user(AxumState(s): State, Path(repo): Path<String>, body: Bytes) -> Reply {
    create_user(&s, &SERVICE_USERS, &repo, &body).await
}

async fn update_service_user(
    AxumState(s): State,
    Path((repo, user)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    update_user(&s, &SERVICE_USERS, &repo, &user, &body).await
}

/// The org-wide listing: every repository's service users (no username filter here).
async fn all_service_users(AxumState(s): State, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q);
    if q.get("username_starts_with").is_some() {
        return Err(Fail::bad_request(
            "username_starts_with is only supported on /v1/repos/{repo_name}/serviceusers",
        ));
    }
    let org = lock(&s.org);
    let mut items = Vec::new();
    for repo in org.store.list(&REPOS, &[])? {
        for u in org.store.list(&SERVICE_USERS, &[&text(repo, "name")])? {
            items.push(Value::Object(u.clone()));
        }
    }
    page_of(items, "service_users", &q)
}

async fn repo_bindings(
    AxumState(s): State,
    Path(repo): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q);
    let org = lock(&s.org);
    org.store.get(&REPOS, &[], &repo)?;
    let (ports, sidecars) = (list_filter(&q, "ports"), list_filter(&q, "sidecar_ids"));
    let items: Vec<Value> = all_bindings(&org)?
        .into_iter()
        .filter(|b| text(b, "repo_name") == repo)
        .filter(|b| passes(&ports, &text(b, "port")) && passes(&sidecars, &text(b, "sidecar_id")))
        .map(Value::Object)
        .collect();
    page_of(items, "bindings", &q)
}

// ---- sidecars, listeners, bindings ----

/// Disconnect a sidecar: refused while it has listeners; its instances go with it.
async fn delete_sidecar(AxumState(s): State, Path(sidecar_id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    org.store.get(&SIDECARS, &[], &sidecar_id)?;
    let ports: Vec<String> = org
        .store
        .list(&LISTENERS, &[&sidecar_id])?
        .iter()
        .map(|l| text(l, "port"))
        .collect();
    if !ports.is_empty() {
        return Err(Fail::conflict(format!(
            "Sidecar '{sidecar_id}' still listens on port(s) {}; deregister those listeners first",
            ports.join(", ")
        )));
    }
    org.store.delete(&SIDECARS, &[], &sidecar_id)?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

async fn create_sidecar(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, SIDECARS.fields, Mode::Create)?;
    let mut org = lock(&s.org);
    let sc = org.store.create(&SIDECARS, &[], Value::Object(b.0))?;
    let id = sc
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    start_sidecar_instance(&mut org, &id, "10.0.0.10");
    created(sc)
}

fn start_sidecar_instance(org: &mut Org, sidecar_id: &str, address: &str) {
    let _ = org.store.create(
        &SIDECAR_INSTANCES,
        &[sidecar_id],
        json!({"address": address, "version": "3.8.2", "status": "running", "started_at": now()}),
    );
}

async fn sidecar_bindings(
    AxumState(s): State,
    Path(sidecar_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q);
    let org = lock(&s.org);
    org.store.get(&SIDECARS, &[], &sidecar_id)?;
    let (ports, repos) = (list_filter(&q, "ports"), list_filter(&q, "repo_names"));
    let items: Vec<Value> = bindings_of(&org, &sidecar_id)?
        .into_iter()
        .filter(|b| passes(&ports, &text(b, "port")) && passes(&repos, &text(b, "repo_name")))
        .map(Value::Object)
        .collect();
    page_of(items, "bindings", &q)
}

async fn create_binding(
    AxumState(s): State,
    Path((sidecar_id, port, repo)): Path<(String, String, String)>,
) -> Reply {
    let mut org = lock(&s.org);
    let listener = org.store.get(&LISTENERS, &[&sidecar_id], &port)?;
    let protocol = text(listener, "database_type");
    let repo_type = text(org.store.get(&REPOS, &[], &repo)?, "type");
    if !protocol.eq_ignore_ascii_case(&repo_type) {
        return Err(Fail::bad_request(format!(
            "port {port} speaks {protocol}; repository '{repo}' is {repo_type}"
        )));
    }
    created(bind(&mut org, &sidecar_id, &port, &repo)?)
}

/// Add a binding; the record carries the port as a number, as listeners do.
fn bind(org: &mut Org, sidecar_id: &str, port: &str, repo: &str) -> Result<Value, Fail> {
    org.store
        .create(&BINDINGS, &[sidecar_id, port], json!({"repo_name": repo}))?;
    let record = org.store.get_mut(&BINDINGS, &[sidecar_id, port], repo)?;
    if let Ok(n) = port.parse::<u16>() {
        record.insert("port".into(), json!(n));
    }
    Ok(Value::Object(record.clone()))
}

/// A sidecar instance with its live figures: per-port query counts (zero where nothing is
/// bound), connections, throughput and health.
fn sidecar_live(org: &Org, r: &Record) -> Value {
    let sidecar_id = text(r, "sidecar_id");
    let instance = text(r, "id");
    let listeners = org
        .store
        .list(&LISTENERS, &[&sidecar_id])
        .unwrap_or_default();
    let (mut total, mut connections) = (0u64, 0u64);
    let ports: Vec<Value> = listeners
        .iter()
        .map(|l| {
            let port = text(l, "port");
            let repos: Vec<String> = org
                .store
                .list(&BINDINGS, &[&sidecar_id, &port])
                .unwrap_or_default()
                .iter()
                .map(|b| text(b, "repo_name"))
                .collect();
            let per_minute = if repos.is_empty() {
                0
            } else {
                rate(&format!("{instance}:{port}"), 20, 180)
            };
            total += per_minute;
            connections += per_minute.div_ceil(15);
            json!({"port": l.get("port"), "database_type": l.get("database_type"), "repos": repos,
                   "queries_per_minute": per_minute, "queries": windows(per_minute)})
        })
        .collect();
    let mut out = r.clone();
    out.insert(
        "health".into(),
        json!(if total > 0 { "healthy" } else { "idle" }),
    );
    out.insert("last_check_in".into(), json!(now()));
    out.insert("active_connections".into(), json!(connections));
    out.insert("queries".into(), windows(total));
    out.insert(
        "throughput".into(),
        json!({"queries_per_second": total as f64 / 60.0, "bytes_in_per_second": total * 38, "bytes_out_per_second": total * 412}),
    );
    out.insert("listeners".into(), Value::Array(ports));
    Value::Object(out)
}

// ---- seed ----

/// The demo org's sidecar estate: two repositories with users and service users, one sidecar
/// routing both through two ports (two instances), a classifier agent with a nightly task that
/// has run three times.
pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    let aws = |name: &str| json!({"secrets_path": format!("altr/{name}"), "iam_role": "arn:aws:iam::123456789012:role/altr-secrets-reader"});
    let azure = |name: &str| json!({"key_vault_uri": "https://acme-kv.vault.azure.net", "secret_name": name});
    let s = &mut org.store;
    let _ = s.create(&REPOS, &[], json!({"name": "orders-pg", "type": "Postgres", "hostname": "pg-orders.acme.internal", "port": 5432, "description": "Orders (PostgreSQL 15)"}));
    let _ = s.create(&REPOS, &[], json!({"name": "hr-oracle", "type": "Oracle", "hostname": "ora-hr.acme.internal", "port": 1521, "description": "HR (Oracle 19c)"}));
    let _ = s.create(
        &REPO_USERS,
        &["orders-pg"],
        json!({"username": "orders_app", "aws_secrets_manager": aws("orders-app")}),
    );
    let _ = s.create(
        &REPO_USERS,
        &["hr-oracle"],
        json!({"username": "hr_app", "azure_key_vault": azure("hr-app")}),
    );
    let _ = s.create(&SERVICE_USERS, &["orders-pg"], json!({"username": "altr_scan", "resource": "classification", "aws_secrets_manager": aws("altr-scan"), "task_count": 1}));
    let _ = s.create(&SERVICE_USERS, &["hr-oracle"], json!({"username": "altr_audit", "resource": "audit", "azure_key_vault": azure("altr-audit"), "task_count": 0}));

    if let Ok(sc) = s.create(&SIDECARS, &[], json!({"name": "edge-east", "hostname": "sc-east.acme.internal", "description": "East data center", "unsupported_query_bypass": false, "disable_platform_audits": false})) {
        let id = sc.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let _ = s.create(&LISTENERS, &[&id], json!({"port": 5432, "database_type": "Postgres", "advertised_version": "15.4"}));
        let _ = s.create(&LISTENERS, &[&id], json!({"port": 1521, "database_type": "Oracle", "advertised_version": "19.0"}));
        let _ = bind(org, &id, "5432", "orders-pg");
        let _ = bind(org, &id, "1521", "hr-oracle");
        start_sidecar_instance(org, &id, "10.0.1.11");
        start_sidecar_instance(org, &id, "10.0.1.12");
    }
    let s = &mut org.store;
    if let Ok(agent) = s.create(&AGENTS, &[], json!({"type": "CLASSIFIER", "name": "scanner-east", "description": "Classifies the east repositories", "task_count": 1})) {
        let agent_id = agent.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let task = s.create(&TASKS, &[&agent_id], json!({
            "name": "nightly-orders-scan", "repo_name": "orders-pg", "service_user": "altr_scan",
            "configuration": {"classification_type": 5, "sample_strategy": "ROWS", "collection_name": "pii-default"},
            "schedule": {"type": "CRON", "value": "0 2 * * *", "timezone": "America/New_York"},
        }));
        if let Ok(task) = task {
            let task_id = task.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            let runs: Vec<Value> = (1..=3u64)
                .map(|d| json!({"run_id": format!("run-{d}"), "started_at": format!("2026-01-0{d}T02:00:00Z"),
                                "finished_at": format!("2026-01-0{d}T02:{:02}:00Z", 10 + d * 3),
                                "status": "succeeded", "rows_scanned": 120_000 + d * 2_500}))
                .collect();
            let _ = s.create(&TASK_TELEMETRY, &[], json!({"task_id": task_id, "runs": runs}));
        }
        start_agent_instance(org, &agent_id, 1);
    }
    let _ = org.store.create(
        &AGENTS,
        &[],
        json!({"type": "SIS", "name": "sis-west", "task_count": 0}),
    );
}
