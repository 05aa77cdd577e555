//! Classification: classifiers, collections and their members, the ALTR-managed import, jobs
//! with a lifecycle, the findings tree generated from the seeded databases' columns, review
//! decisions (single and bulk, with dry runs), review status, report confirmation and a
//! presigned report download served without credentials.
//!
//! A job starts RUNNING; every read of it (get, list, summary) advances it by half, so the second
//! read finds it COMPLETED with its findings: deterministic, and fast for tests and demos. A job
//! started with `requires_review: true` (default false) stops at AWAITING_REVIEW instead: once
//! every finding is decided, confirming its report makes it COMPLETED and locks the decisions;
//! cancelling before that makes it CANCELLED and discards the review.
//! `POST /_sandbox/classification/jobs/{job_id}/complete` finishes one at once.
//! Findings come from each database's simulated columns: a classifier matches a column whose
//! name contains one of its keywords (the `pattern`/`keywords`/`value` texts of its ruleset).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::store::{self, validate, Field, Filter, Id, Mode, Op, Paging, Record, Spec};
use super::{created, lock, now, ok, Body, Fail, Org, Query, Reply, Seed, Shared, State};

const CLS: &str = "/classification/v1";
/// Where presigned report links point. Served without ALTR credentials (see `handle`).
pub const REPORT_DOWNLOADS: &str = "/presigned/classification-reports/";

const FINDING_PAGE: (u64, u64) = (100, 1000);

pub const CLASSIFIERS: Spec = Spec {
    name: "cls.classifiers",
    kind: "Classifier",
    items: "classifiers",
    id: Id::Key("classifier_name"),
    fields: &[
        Field::str("classifier_name").required(),
        Field::str("description"),
        Field::object("compound_ruleset").required(),
        Field::any("pattern"),
    ],
    paging: Paging::contiguous_id(100, 1000),
    ..Spec::NEW
};

pub const COLLECTIONS: Spec = Spec {
    name: "cls.collections",
    kind: "Collection",
    items: "collections",
    id: Id::Key("collection_name"),
    fields: &[
        Field::str("collection_name").required(),
        Field::str("description"),
    ],
    paging: Paging::contiguous_id(100, 1000),
    ..Spec::NEW
};

/// A collection's classifiers.
pub const MEMBERS: Spec = Spec {
    name: "cls.members",
    kind: "Collection classifier",
    items: "classifiers",
    id: Id::Key("classifier_name"),
    parent: Some(&COLLECTIONS),
    scope: &["collection_name"],
    paging: Paging::contiguous_id(100, 1000),
    updated: None,
    ..Spec::NEW
};

pub const JOBS: Spec = Spec {
    name: "cls.jobs",
    kind: "Job",
    items: "jobs",
    paging: Paging::contiguous_id(25, 1000),
    ..Spec::NEW
};

/// A job's findings: one per (column, classifier).
pub const FINDINGS: Spec = Spec {
    name: "cls.findings",
    kind: "Finding",
    items: "findings",
    parent: Some(&JOBS),
    scope: &["job_id"],
    created: None,
    updated: None,
    ..Spec::NEW
};

pub const DECISIONS: Spec = Spec {
    name: "cls.decisions",
    kind: "Decision",
    items: "decisions",
    parent: Some(&JOBS),
    scope: &["job_id"],
    filters: &[
        Filter::equals("database", "database"),
        Filter::equals("schema", "schema"),
        Filter::equals("table", "table"),
        Filter::equals("column", "column"),
    ],
    paging: Paging::page_token(100, 1000),
    updated: None,
    ..Spec::NEW
};

pub const BULK: Spec = Spec {
    name: "cls.bulk",
    kind: "Bulk decision",
    items: "bulk_decisions",
    parent: Some(&JOBS),
    scope: &["job_id"],
    updated: None,
    ..Spec::NEW
};

/// Presigned report links handed out, by token.
pub const REPORT_LINKS: Spec = Spec {
    name: "cls.report_links",
    kind: "Report",
    id: Id::Key("token"),
    updated: None,
    ..Spec::NEW
};

/// The collection the ALTR-managed import fills.
const MANAGED_COLLECTION: &str = "ALTR Managed";

/// The version (a timestamp) of the ALTR-managed classifiers the sandbox offers.
const MANAGED_VERSION: &str = "2025-06-01T00:00:00Z";

/// ALTR's managed classifiers: name, description, keywords.
const MANAGED: &[(&str, &str, &[&str])] = &[
    ("ALTR_EMAIL", "Email addresses", &["email", "e_mail"]),
    (
        "ALTR_US_SSN",
        "US social security numbers",
        &["ssn", "social_security"],
    ),
    ("ALTR_PHONE", "Phone numbers", &["phone", "mobile"]),
    (
        "ALTR_CREDIT_CARD",
        "Payment card numbers",
        &["card_number", "credit_card", "pan"],
    ),
    (
        "ALTR_PERSON_NAME",
        "Person names",
        &["first_name", "last_name", "full_name"],
    ),
    ("ALTR_DATE_OF_BIRTH", "Dates of birth", &["birth", "dob"]),
];

/// The custom classifiers of the demo org.
const CUSTOM: &[(&str, &str, &[&str])] = &[
    ("EMAIL", "Email addresses", &["email"]),
    ("US_SSN", "US social security numbers", &["ssn"]),
    ("PHONE_NUMBER", "Phone numbers", &["phone"]),
];

/// The simulated columns of a database: (schema, table, columns).
fn columns_of(database_name: &str) -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    match database_name.to_ascii_uppercase().as_str() {
        "SALES_DB" => vec![
            (
                "PUBLIC",
                "CUSTOMERS",
                &[
                    "ID",
                    "EMAIL",
                    "PHONE_NUMBER",
                    "SSN",
                    "FIRST_NAME",
                    "CREATED_AT",
                ][..],
            ),
            (
                "PUBLIC",
                "ORDERS",
                &["ID", "CUSTOMER_EMAIL", "AMOUNT", "CARD_NUMBER"][..],
            ),
            (
                "MARKETING",
                "LEADS",
                &["EMAIL_ADDRESS", "MOBILE_PHONE", "COMPANY"][..],
            ),
        ],
        "HR_DB" => vec![(
            "PEOPLE",
            "EMPLOYEES",
            &[
                "EMPLOYEE_ID",
                "SSN",
                "HOME_PHONE",
                "WORK_EMAIL",
                "DATE_OF_BIRTH",
                "SALARY",
            ][..],
        )],
        _ => vec![(
            "PUBLIC",
            "USERS",
            &["ID", "EMAIL", "PHONE", "SSN", "FULL_NAME"][..],
        )],
    }
}

/// A compound ruleset in ALTR's shape: column-name (METADATA) conditions, any one matching.
fn ruleset(keywords: &[&str]) -> Value {
    let conditions: Vec<Value> = keywords
        .iter()
        .map(|k| json!({"target": "METADATA", "pattern": k, "comparator": "contains"}))
        .collect();
    json!({"operator": "OR", "conditions": conditions})
}

/// The keywords of a classifier: every `pattern`, `keywords` or `value` text in its ruleset,
/// reduced to lower-case letters, digits and `_`.
fn keywords(classifier: &Record) -> Vec<String> {
    fn walk(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => o.iter().for_each(|(k, v)| walk(v, Some(k), out)),
            Value::Array(a) => a.iter().for_each(|v| walk(v, key, out)),
            Value::String(s) if matches!(key, Some("pattern" | "keywords" | "value")) => {
                let cleaned: String = s
                    .to_ascii_lowercase()
                    .replace("(?i)", "")
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if cleaned.len() >= 2 {
                    out.push(cleaned);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(r) = classifier.get("compound_ruleset") {
        walk(r, None, &mut out);
    }
    out
}

/// How well a column name matches a keyword, if at all.
fn confidence(column: &str, keyword: &str) -> Option<&'static str> {
    let c = column.to_ascii_lowercase();
    if c == keyword {
        Some("HIGH")
    } else if c.starts_with(keyword) || c.ends_with(keyword) {
        Some("MEDIUM")
    } else if c.contains(keyword) {
        Some("LOW")
    } else {
        None
    }
}

fn rank(c: &str) -> u8 {
    match c {
        "HIGH" => 3,
        "MEDIUM" => 2,
        _ => 1,
    }
}

fn text<'a>(r: &'a Record, key: &str) -> &'a str {
    r.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Every value of a repeated query key.
fn all<'a>(q: &'a Query, key: &str) -> Vec<&'a str> {
    q.0.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// One page of computed items, paged by position: `param` in, `answer` out.
fn page_of(
    items: Vec<Value>,
    q: &Query,
    key: &str,
    (param, answer): (&str, &str),
    (default, max): (u64, u64),
) -> Result<Value, Fail> {
    let limit = q.number("limit", default, 1, max)?;
    let start = match q.get(param).map(str::trim) {
        None | Some("") => 0,
        Some(raw) => raw.parse::<usize>().ok().filter(|n| *n <= items.len()).ok_or_else(|| {
            Fail::bad_request(format!("{param} is not one this API gave out; pass back the {answer} of the previous page"))
        })?,
    };
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
        .min(items.len());
    let page: Vec<Value> = items
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("success".into(), Value::Bool(true));
    out.insert(key.into(), Value::Array(page));
    if end < items.len() {
        out.insert(answer.into(), Value::String(end.to_string()));
    }
    Ok(Value::Object(out))
}

const CONTIGUOUS: (&str, &str) = ("contiguous_id", "contiguous_id");
const TOKEN: (&str, &str) = ("page_token", "next_page_token");

fn answer(v: Value) -> Reply {
    Ok(Json(v).into_response())
}

// ---- classifiers and collections ----

async fn create_classifier(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, CLASSIFIERS.fields, Mode::Create)?;
    let mut org = lock(&s.org);
    let mut record = b.0;
    record.insert("managed".into(), Value::Bool(false));
    created(org.store.create(&CLASSIFIERS, &[], Value::Object(record))?)
}

/// 409 for ALTR-managed classifiers: they change only through the import.
fn custom_only(org: &Org, name: &str) -> Result<(), Fail> {
    let c = org.store.get(&CLASSIFIERS, &[], name)?;
    if c.get("managed") == Some(&Value::Bool(true)) {
        return Err(Fail::conflict(format!(
            "Classifier '{name}' is managed by ALTR; it changes only through import_altr_managed_classifiers"
        )));
    }
    Ok(())
}

async fn patch_classifier(AxumState(s): State, Path(name): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, CLASSIFIERS.fields, Mode::Patch)?;
    let mut org = lock(&s.org);
    custom_only(&org, &name)?;
    ok(org
        .store
        .patch(&CLASSIFIERS, &[], &name, Value::Object(b.0))?)
}

async fn delete_classifier(AxumState(s): State, Path(name): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    custom_only(&org, &name)?;
    org.store.delete(&CLASSIFIERS, &[], &name)?;
    let collections: Vec<String> = org
        .store
        .list(&COLLECTIONS, &[])?
        .iter()
        .map(|c| text(c, "collection_name").to_string())
        .collect();
    for c in collections {
        let _ = org.store.delete(&MEMBERS, &[&c], &name);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn members_body(body: &Bytes) -> Result<Vec<String>, Fail> {
    let b = Body::parse(body)?;
    b.only(&["classifier_names"])?;
    let names: Vec<String> = match b.0.get("classifier_names") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Fail::bad_request("classifier_names must be a list of non-empty names")
            })?,
        _ => {
            return Err(Fail::bad_request(
                "classifier_names must be a list of classifier names",
            ))
        }
    };
    if names.is_empty() {
        return Err(Fail::bad_request(
            "classifier_names must name at least one classifier",
        ));
    }
    Ok(names)
}

async fn append(AxumState(s): State, Path(collection): Path<String>, body: Bytes) -> Reply {
    let names = members_body(&body)?;
    let mut org = lock(&s.org);
    org.store.get(&COLLECTIONS, &[], &collection)?;
    if collection == MANAGED_COLLECTION {
        return Err(Fail::conflict(format!(
            "classifiers cannot be appended to the {MANAGED_COLLECTION} collection"
        )));
    }
    for n in &names {
        org.store.get(&CLASSIFIERS, &[], n)?;
        if org.store.get(&MEMBERS, &[&collection], n).is_ok() {
            return Err(Fail::conflict(format!(
                "classifier {n} is already in collection {collection}"
            )));
        }
    }
    let mut added = 0;
    for n in &names {
        if org.store.get(&MEMBERS, &[&collection], n).is_err() {
            org.store
                .create(&MEMBERS, &[&collection], json!({"classifier_name": n}))?;
            added += 1;
        }
    }
    let count = org.store.list(&MEMBERS, &[&collection])?.len();
    ok(json!({"collection_name": collection, "added": added, "classifier_count": count}))
}

async fn remove(AxumState(s): State, Path(collection): Path<String>, body: Bytes) -> Reply {
    let names = members_body(&body)?;
    let mut org = lock(&s.org);
    org.store.get(&COLLECTIONS, &[], &collection)?;
    for n in &names {
        org.store.get(&MEMBERS, &[&collection], n)?;
    }
    for n in &names {
        org.store.delete(&MEMBERS, &[&collection], n)?;
    }
    let count = org.store.list(&MEMBERS, &[&collection])?.len();
    ok(json!({"collection_name": collection, "removed": names.len(), "classifier_count": count}))
}

async fn get_collection(AxumState(s): State, Path(name): Path<String>) -> Reply {
    let org = lock(&s.org);
    let mut c = org.store.get(&COLLECTIONS, &[], &name)?.clone();
    let count = org.store.list(&MEMBERS, &[&name])?.len();
    c.insert("classifier_count".into(), json!(count));
    ok(Value::Object(c))
}

fn import_managed(org: &mut Org) -> Result<usize, Fail> {
    for (name, description, words) in MANAGED {
        let record = json!({"classifier_name": name, "description": description,
                            "compound_ruleset": ruleset(words), "managed": true});
        if org.store.get(&CLASSIFIERS, &[], name).is_ok() {
            org.store.put(&CLASSIFIERS, &[], name, record)?;
        } else {
            org.store.create(&CLASSIFIERS, &[], record)?;
        }
    }
    let stamp = json!({"collection_name": MANAGED_COLLECTION,
                       "description": "Classifiers maintained by ALTR", "imported_at": now(),
                       "version": MANAGED_VERSION});
    if org.store.get(&COLLECTIONS, &[], MANAGED_COLLECTION).is_ok() {
        org.store
            .put(&COLLECTIONS, &[], MANAGED_COLLECTION, stamp)?;
    } else {
        org.store.create(&COLLECTIONS, &[], stamp)?;
    }
    for (name, _, _) in MANAGED {
        if org
            .store
            .get(&MEMBERS, &[MANAGED_COLLECTION], name)
            .is_err()
        {
            org.store.create(
                &MEMBERS,
                &[MANAGED_COLLECTION],
                json!({"classifier_name": name}),
            )?;
        }
    }
    Ok(MANAGED.len())
}

async fn import(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&[])?;
    let mut org = lock(&s.org);
    let n = import_managed(&mut org)?;
    ok(json!({"imported": n, "collection_name": MANAGED_COLLECTION}))
}

/// The latest ALTR-managed version next to the installed one (null before any import), and
/// when the import ran.
async fn managed_timestamp(AxumState(s): State) -> Reply {
    let org = lock(&s.org);
    let managed = org.store.get(&COLLECTIONS, &[], MANAGED_COLLECTION).ok();
    let field = |k: &str| {
        managed
            .and_then(|c| c.get(k).cloned())
            .unwrap_or(Value::Null)
    };
    let (at, installed) = (field("imported_at"), field("version"));
    ok(json!({
        "latest_timestamp": MANAGED_VERSION, "installed_timestamp": installed,
        "update_available": installed != json!(MANAGED_VERSION),
        "timestamp": at, "imported": !at.is_null(),
    }))
}

async fn managed_list(RawQuery(raw): RawQuery) -> Reply {
    let items = MANAGED
        .iter()
        .map(|(n, d, w)| json!({"classifier_name": n, "description": d, "compound_ruleset": ruleset(w)}))
        .collect();
    answer(page_of(
        items,
        &Query::parse(raw),
        "classifiers",
        CONTIGUOUS,
        (100, 1000),
    )?)
}

// ---- jobs ----

/// Advance a RUNNING job by one read; on completion, generate its findings.
fn advance(org: &mut Org, id: &str) -> Result<(), Fail> {
    let job = org.store.get(&JOBS, &[], id)?.clone();
    if text(&job, "status") != "RUNNING" {
        return Ok(());
    }
    let progress = job.get("progress").and_then(Value::as_u64).unwrap_or(0) + 50;
    if progress < 100 {
        org.store
            .patch(&JOBS, &[], id, json!({"progress": progress}))?;
        return Ok(());
    }
    let collection = text(&job, "collection_name").to_string();
    let members: Option<Vec<String>> = org.store.list(&MEMBERS, &[&collection]).ok().map(|m| {
        m.iter()
            .map(|r| text(r, "classifier_name").to_string())
            .collect()
    });
    let Some(members) = members else {
        let failed = json!({"status": "FAILED", "progress": 100,
                            "error": format!("collection '{collection}' no longer exists")});
        org.store.patch(&JOBS, &[], id, failed)?;
        return Ok(());
    };
    let classifiers: Vec<(String, Vec<String>)> = members
        .iter()
        .filter_map(|m| {
            org.store
                .get(&CLASSIFIERS, &[], m)
                .ok()
                .map(|c| (m.clone(), keywords(c)))
        })
        .collect();
    let database = text(&job, "database").to_string();
    let mut columns = 0;
    for (schema, table, cols) in columns_of(&database) {
        for column in cols {
            columns += 1;
            for (name, words) in &classifiers {
                let best = words
                    .iter()
                    .filter_map(|w| confidence(column, w).map(|c| (c, w)))
                    .max_by_key(|(c, _)| rank(c));
                if let Some((conf, word)) = best {
                    let finding = json!({
                        "database": database, "schema": schema, "table": table, "column": column,
                        "classifier_name": name, "confidence": conf,
                        "lineage": [{"target": "METADATA", "comparator": "contains", "matched": word,
                                     "evidence": format!("column name {column} matches '{word}'")}],
                    });
                    org.store.create(&FINDINGS, &[id], finding)?;
                }
            }
        }
    }
    let status = if job.get("requires_review") == Some(&Value::Bool(true)) {
        "AWAITING_REVIEW"
    } else {
        "COMPLETED"
    };
    let done = json!({"status": status, "progress": 100, "columns_scanned": columns,
                      "completed_at": now()});
    org.store.patch(&JOBS, &[], id, done)?;
    Ok(())
}

fn job_ids(org: &Org) -> Vec<String> {
    org.store
        .list(&JOBS, &[])
        .map(|l| l.iter().map(|j| text(j, "id").to_string()).collect())
        .unwrap_or_default()
}

fn job_matches(job: &Record, q: &Query, active_only: bool) -> bool {
    let status = text(job, "status");
    if active_only && !matches!(status, "RUNNING" | "PAUSED") {
        return false;
    }
    let same = |key: &str, field: &str| match q.get(key) {
        None => true,
        Some(want) => job
            .get(field)
            .map(|v| match v {
                Value::String(s) => s.eq_ignore_ascii_case(want.trim()),
                other => *other.to_string() == *want.trim(),
            })
            .unwrap_or(false),
    };
    same("status", "status")
        && same("job_type", "job_type")
        && same("database_id", "database_id")
        && same("agent_id", "agent_id")
        && same("classification_type", "classification_level")
}

fn list_jobs(s: &Shared, raw: Option<String>, active_only: bool) -> Reply {
    let q = Query::parse(raw);
    // ALTR lists jobs newest first unless asked otherwise.
    let default_order = if active_only { "asc" } else { "desc" };
    let order = q.get("order").unwrap_or(default_order).to_ascii_lowercase();
    if !matches!(order.as_str(), "asc" | "desc") {
        return Err(Fail::bad_request("order must be asc or desc"));
    }
    if let Some(st) = q.get("status") {
        if ![
            "RUNNING",
            "PAUSED",
            "COMPLETED",
            "CANCELLED",
            "FAILED",
            "AWAITING_REVIEW",
        ]
        .contains(&st.to_ascii_uppercase().as_str())
        {
            return Err(Fail::bad_request(
                "status must be RUNNING, PAUSED, COMPLETED, CANCELLED, FAILED or AWAITING_REVIEW",
            ));
        }
    }
    let mut org = lock(&s.org);
    for id in job_ids(&org) {
        advance(&mut org, &id)?;
    }
    let mut jobs: Vec<Value> = org
        .store
        .list(&JOBS, &[])?
        .into_iter()
        .filter(|j| job_matches(j, &q, active_only))
        .map(|j| Value::Object(j.clone()))
        .collect();
    if order == "desc" {
        jobs.reverse();
    }
    // ALTR lists jobs 50 a page at most (active jobs as other listings).
    let bounds = if active_only { (25, 1000) } else { (50, 50) };
    answer(page_of(jobs, &q, "jobs", CONTIGUOUS, bounds)?)
}

async fn get_jobs(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    list_jobs(&s, raw, false)
}

async fn active_jobs(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    list_jobs(&s, raw, true)
}

async fn get_job(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    advance(&mut org, &id)?;
    ok(Value::Object(org.store.get(&JOBS, &[], &id)?.clone()))
}

fn findings(org: &Org, job: &str) -> Result<Vec<Record>, Fail> {
    Ok(org
        .store
        .list(&FINDINGS, &[job])?
        .into_iter()
        .cloned()
        .collect())
}

async fn summary(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    advance(&mut org, &id)?;
    let job = org.store.get(&JOBS, &[], &id)?.clone();
    let all = findings(&org, &id)?;
    let mut by_classifier = Map::new();
    let mut by_confidence = json!({"HIGH": 0, "MEDIUM": 0, "LOW": 0});
    for f in &all {
        let n = by_classifier
            .get(text(f, "classifier_name"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        by_classifier.insert(text(f, "classifier_name").into(), json!(n + 1));
        if let Some(c) = by_confidence.get_mut(text(f, "confidence")) {
            *c = json!(c.as_u64().unwrap_or(0) + 1);
        }
    }
    ok(json!({
        "job_id": id, "status": job.get("status"), "database": job.get("database"),
        "columns_scanned": job.get("columns_scanned").cloned().unwrap_or(json!(0)),
        "total_findings": all.len(), "findings_by_classifier": by_classifier,
        "findings_by_confidence": by_confidence,
    }))
}

/// Create a job on an ALTR database of `platform`, after checking its body.
fn start_job(org: &mut Org, b: &Body, platform: &str, mut job: Map<String, Value>) -> Reply {
    let db_id = b.int("database_id")?;
    let db = org
        .databases
        .get(&db_id)
        .ok_or_else(|| Fail::not_found(format!("Database {db_id} not found")))?;
    if !db.platform().eq_ignore_ascii_case(platform) {
        return Err(Fail::bad_request(format!(
            "database {db_id} is a {} database; this endpoint starts {platform} jobs",
            db.database_type
        )));
    }
    job.insert("database".into(), json!(db.database_name));
    job.insert("database_id".into(), json!(db_id));
    start(org, b, job)
}

fn start(org: &mut Org, b: &Body, mut job: Map<String, Value>) -> Reply {
    let collection = match b.opt_string("collection_name")? {
        Some(c) => c,
        None => MANAGED_COLLECTION.to_string(),
    };
    org.store.get(&COLLECTIONS, &[], &collection)?;
    if let Some(v) = b.0.get("condition_types") {
        if !v.is_array() {
            return Err(Fail::bad_request("condition_types must be a list"));
        }
        job.insert("condition_types".into(), v.clone());
    }
    job.insert("collection_name".into(), json!(collection));
    job.insert(
        "requires_review".into(),
        json!(b.opt_bool("requires_review")?.unwrap_or(false)),
    );
    job.insert("status".into(), json!("RUNNING"));
    job.insert("progress".into(), json!(0));
    job.insert("report_status".into(), json!("NOT_CONFIRMED"));
    created(org.store.create(&JOBS, &[], Value::Object(job))?)
}

async fn snowflake_job(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&[
        "job_type",
        "database_id",
        "collection_name",
        "classification_type",
        "condition_types",
        "requires_review",
        "sample_size",
        "sample_type",
    ])?;
    let mut job = Map::new();
    match b.string("classification_type")?.as_str() {
        "altr_native" => {
            let t = b.string("job_type")?.to_ascii_uppercase();
            if !matches!(t.as_str(), "FULL" | "INCREMENTAL") {
                return Err(Fail::bad_request("job_type must be FULL or INCREMENTAL"));
            }
            b.opt_string("collection_name")?
                .ok_or_else(|| Fail::bad_request("collection_name is required"))?;
            job.insert("job_type".into(), json!(t));
            job.insert("classification_type".into(), json!("altr_native"));
        }
        "gdlp" => {
            job.insert("job_type".into(), json!("FULL"));
            job.insert("classification_type".into(), json!("gdlp"));
            let kind = b.opt_string("sample_type")?;
            if let Some(k) = &kind {
                if !matches!(k.as_str(), "ROWS" | "PERCENT") {
                    return Err(Fail::bad_request("sample_type must be ROWS or PERCENT"));
                }
                job.insert("sample_type".into(), json!(k));
            }
            if let Some(n) = b.opt_int("sample_size")? {
                let max = if kind.as_deref() == Some("PERCENT") {
                    100
                } else {
                    1_000_000
                };
                if !(1..=max).contains(&n) {
                    return Err(Fail::bad_request(format!(
                        "sample_size must be from 1 to {max}"
                    )));
                }
                job.insert("sample_size".into(), json!(n));
            }
        }
        _ => {
            return Err(Fail::bad_request(
                "classification_type must be altr_native or gdlp",
            ))
        }
    }
    job.insert("classification_level".into(), json!(1));
    let mut org = lock(&s.org);
    start_job(&mut org, &b, "snowflake", job)
}

async fn databricks_job(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&[
        "database_id",
        "collection_name",
        "condition_types",
        "requires_review",
    ])?;
    let mut job = Map::new();
    job.insert("job_type".into(), json!("FULL"));
    job.insert("classification_type".into(), json!("databricks"));
    job.insert("classification_level".into(), json!(1));
    let mut org = lock(&s.org);
    start_job(&mut org, &b, "databricks", job)
}

async fn oltp_job(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&[
        "agent_id",
        "repo_name",
        "service_user_name",
        "collection_name",
        "classification_type",
        "sample_strategy",
        "sample_size",
        "sample_type",
        "condition_types",
        "sid",
        "service_name",
        "task_id",
        "requires_review",
    ])?;
    // OLTP jobs run ALTR native (5) or GDLP BYOK (6) classification; BYOK samples rows only.
    let level = b.opt_int("classification_type")?.unwrap_or(5);
    if !(5..=6).contains(&level) {
        return Err(Fail::bad_request(
            "classification_type must be 5 (ALTR Native) or 6 (GDLP BYOK)",
        ));
    }
    let strategy = b
        .opt_string("sample_strategy")?
        .unwrap_or_else(|| "ROWS".into());
    if level == 6 && strategy != "ROWS" {
        return Err(Fail::bad_request(
            "GDLP BYOK (classification_type 6) supports sample_strategy ROWS only",
        ));
    }
    let size = b.opt_int("sample_size")?;
    let kind = b.opt_string("sample_type")?;
    match strategy.as_str() {
        "METADATA" if size.is_some() || kind.is_some() => {
            return Err(Fail::bad_request(
                "sample_size and sample_type do not apply to METADATA sampling",
            ))
        }
        "METADATA" => {}
        "ROWS" | "COMBINED" => match (kind.as_deref().unwrap_or("ROWS"), size) {
            ("PERCENT", Some(1..=100)) | ("ROWS", Some(1..)) => {}
            ("PERCENT", _) => {
                return Err(Fail::bad_request(
                    "sample_size (1-100) is required when sample_type is PERCENT",
                ))
            }
            ("ROWS", _) => {
                return Err(Fail::bad_request(
                    "sample_size must be a positive number of rows",
                ))
            }
            _ => return Err(Fail::bad_request("sample_type must be ROWS or PERCENT")),
        },
        _ => {
            return Err(Fail::bad_request(
                "sample_strategy must be ROWS, METADATA or COMBINED",
            ))
        }
    }
    let mut job = Map::new();
    let repo = b.string("repo_name")?;
    job.insert("job_type".into(), json!("FULL"));
    job.insert("classification_type".into(), json!("oltp"));
    job.insert("classification_level".into(), json!(level));
    job.insert("agent_id".into(), json!(b.string("agent_id")?));
    job.insert("repo_name".into(), json!(repo));
    job.insert("database".into(), json!(repo));
    job.insert(
        "service_user_name".into(),
        json!(b.string("service_user_name")?),
    );
    job.insert("sample_strategy".into(), json!(strategy));
    if let Some(n) = size {
        job.insert("sample_size".into(), json!(n));
    }
    if let Some(k) = kind {
        job.insert("sample_type".into(), json!(k));
    }
    b.string("collection_name")?;
    let mut org = lock(&s.org);
    start(&mut org, &b, job)
}

async fn update_status(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&["status"])?;
    let want = b.string("status")?.to_ascii_uppercase();
    let mut org = lock(&s.org);
    let now_status = text(org.store.get(&JOBS, &[], &id)?, "status").to_string();
    let allowed = match (now_status.as_str(), want.as_str()) {
        ("RUNNING", "PAUSED") | ("PAUSED", "RUNNING") => true,
        ("RUNNING" | "PAUSED", "CANCELLED") => true,
        (_, "PAUSED" | "RUNNING" | "CANCELLED") => false,
        _ => {
            return Err(Fail::bad_request(
                "status must be PAUSED, RUNNING or CANCELLED",
            ))
        }
    };
    if !allowed {
        return Err(Fail::conflict(format!(
            "a {now_status} job cannot be set to {want}"
        )));
    }
    ok(org.store.patch(&JOBS, &[], &id, json!({"status": want}))?)
}

// ---- findings ----

/// A finding's decision: "approved", "rejected" or "pending".
fn status_of(f: &Record) -> &str {
    f.get("confirmed_status")
        .and_then(Value::as_str)
        .unwrap_or("pending")
}

/// The job's findings under a path scope, narrowed by the query's filters.
fn scoped(
    org: &Org,
    job: &str,
    scope: &[(&str, &str)],
    q: &Query,
    classifier_filter: bool,
) -> Result<Vec<Record>, Fail> {
    let mut within: Vec<Record> = findings(org, job)?
        .into_iter()
        .filter(|f| scope.iter().all(|(k, v)| text(f, k) == *v))
        .collect();
    if within.is_empty() && !scope.is_empty() {
        let (level, name) = scope.last().copied().unwrap_or_default();
        return Err(Fail::not_found(format!(
            "No findings for {level} '{name}' in job {job}"
        )));
    }
    if classifier_filter {
        let names = all(q, "classifier_name");
        if !names.is_empty() {
            within.retain(|f| {
                names
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(text(f, "classifier_name")))
            });
        }
    }
    if let Some(st) = q.get("confirmed_status") {
        let st = st.to_ascii_lowercase();
        // Undecided findings read as pending, and filter as such.
        if !matches!(st.as_str(), "approved" | "rejected" | "pending") {
            return Err(Fail::bad_request(
                "confirmed_status must be approved, rejected or pending",
            ));
        }
        within.retain(|f| status_of(f) == st);
    }
    Ok(within)
}

/// Group findings by `level`, in first-seen order: (name, findings).
fn group(fs: &[Record], level: &str) -> Vec<(String, Vec<Record>)> {
    let mut out: Vec<(String, Vec<Record>)> = Vec::new();
    for f in fs {
        let key = text(f, level).to_string();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(f.clone()),
            None => out.push((key, vec![f.clone()])),
        }
    }
    out
}

fn tally(fs: &[Record]) -> (usize, usize, usize) {
    let n = |s: &str| fs.iter().filter(|f| status_of(f) == s).count();
    (n("approved"), n("rejected"), n("pending"))
}

fn counts(fs: &[Record]) -> Value {
    let (approved, rejected, pending) = tally(fs);
    json!({"approved": approved, "rejected": rejected, "pending": pending})
}

/// Set a member of a JSON object.
fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.into(), value);
    }
}

fn tree_level(
    s: &Shared,
    job: &str,
    scope: &[(&str, &str)],
    raw: Option<String>,
    level: &str,
    key: &str,
) -> Reply {
    let q = Query::parse(raw);
    let with_counts = q.boolean("include_column_status_counts", false)?;
    let mut org = lock(&s.org);
    advance(&mut org, job)?;
    let fs = scoped(&org, job, scope, &q, true)?;
    let items = group(&fs, level)
        .into_iter()
        .map(|(name, list)| {
            let mut item = json!({level: name, "finding_count": list.len()});
            let mut classifiers: Vec<&str> =
                list.iter().map(|f| text(f, "classifier_name")).collect();
            classifiers.dedup();
            set(&mut item, "classifiers", json!(classifiers));
            if with_counts || level == "column" {
                set(&mut item, "column_status_counts", counts(&list));
            }
            item
        })
        .collect();
    answer(page_of(items, &q, key, TOKEN, FINDING_PAGE)?)
}

async fn f_databases(AxumState(s): State, Path(job): Path<String>, RawQuery(q): RawQuery) -> Reply {
    tree_level(&s, &job, &[], q, "database", "databases")
}

async fn f_schemas(
    AxumState(s): State,
    Path((job, db)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Reply {
    tree_level(&s, &job, &[("database", &db)], q, "schema", "schemas")
}

async fn f_tables(
    AxumState(s): State,
    Path((job, db, schema)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> Reply {
    tree_level(
        &s,
        &job,
        &[("database", &db), ("schema", &schema)],
        q,
        "table",
        "tables",
    )
}

async fn f_columns(
    AxumState(s): State,
    Path((job, db, schema, table)): Path<(String, String, String, String)>,
    RawQuery(q): RawQuery,
) -> Reply {
    let scope = [
        ("database", db.as_str()),
        ("schema", &schema),
        ("table", &table),
    ];
    tree_level(&s, &job, &scope, q, "column", "columns")
}

fn leaf(f: &Record) -> Value {
    json!({
        "database": f.get("database"), "schema": f.get("schema"), "table": f.get("table"),
        "column": f.get("column"), "classifier_name": f.get("classifier_name"),
        "confidence": f.get("confidence"), "confirmed_status": status_of(f),
    })
}

async fn f_classifiers(
    AxumState(s): State,
    Path((job, db, schema, table, column)): Path<(String, String, String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let q = Query::parse(raw);
    let scope = [
        ("database", db.as_str()),
        ("schema", &schema),
        ("table", &table),
        ("column", &column),
    ];
    let org = lock(&s.org);
    let fs = scoped(&org, &job, &scope, &q, false)?;
    let items = fs.iter().map(leaf).collect();
    answer(page_of(items, &q, "classifiers", TOKEN, FINDING_PAGE)?)
}

async fn f_lineage(
    AxumState(s): State,
    Path((job, db, schema, table, column, classifier)): Path<(
        String,
        String,
        String,
        String,
        String,
        String,
    )>,
) -> Reply {
    let org = lock(&s.org);
    let scope = [
        ("database", db.as_str()),
        ("schema", &schema),
        ("table", &table),
        ("column", &column),
        ("classifier_name", &classifier),
    ];
    let fs = scoped(&org, &job, &scope, &Query::parse(None), false)?;
    let f = fs
        .first()
        .ok_or_else(|| Fail::not_found("no such finding"))?;
    let mut out = leaf(f);
    set(
        &mut out,
        "lineage",
        f.get("lineage").cloned().unwrap_or(json!([])),
    );
    ok(out)
}

async fn f_leaves(AxumState(s): State, Path(job): Path<String>, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let wanted: Vec<String> = all(&q, "confidence")
        .iter()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if wanted
        .iter()
        .any(|c| !matches!(c.as_str(), "HIGH" | "MEDIUM" | "LOW"))
    {
        return Err(Fail::bad_request("confidence must be HIGH, MEDIUM or LOW"));
    }
    let mut org = lock(&s.org);
    advance(&mut org, &job)?;
    let items = findings(&org, &job)?
        .iter()
        .filter(|f| wanted.is_empty() || wanted.iter().any(|c| c == text(f, "confidence")))
        .map(leaf)
        .collect();
    answer(page_of(items, &q, "leaves", TOKEN, FINDING_PAGE)?)
}

// ---- decisions ----

const SCOPE: [&str; 5] = ["database", "schema", "table", "column", "classifier_name"];

fn decision_status(b: &Body) -> Result<String, Fail> {
    let st = b.string("confirmed_status")?.to_ascii_lowercase();
    if !matches!(st.as_str(), "approved" | "rejected") {
        return Err(Fail::bad_request(
            "confirmed_status must be approved or rejected",
        ));
    }
    Ok(st)
}

/// The job, which must be COMPLETED for its report.
fn completed(org: &Org, job: &str) -> Result<(), Fail> {
    let j = org.store.get(&JOBS, &[], job)?;
    if text(j, "status") != "COMPLETED" {
        return Err(Fail::conflict(format!(
            "job {job} is {}; its report is ready once it is COMPLETED",
            text(j, "status")
        )));
    }
    Ok(())
}

/// The job, whose findings can be decided: COMPLETED, or AWAITING_REVIEW, and its report not
/// confirmed yet (confirming locks the decisions).
fn reviewable(org: &Org, job: &str) -> Result<(), Fail> {
    let j = org.store.get(&JOBS, &[], job)?;
    let status = text(j, "status");
    if !matches!(status, "COMPLETED" | "AWAITING_REVIEW") {
        return Err(Fail::conflict(format!(
            "job {job} is {status}; findings can be reviewed once it is COMPLETED or AWAITING_REVIEW"
        )));
    }
    if text(j, "report_status") == "CONFIRMED" {
        return Err(Fail::conflict(format!(
            "job {job}'s report is confirmed; its decisions are locked"
        )));
    }
    Ok(())
}

/// A review-gated job still in review (AWAITING_REVIEW), for confirming or cancelling its report.
fn in_review(org: &Org, job: &str) -> Result<(), Fail> {
    let j = org.store.get(&JOBS, &[], job)?;
    if j.get("requires_review") != Some(&Value::Bool(true)) {
        return Err(Fail::conflict(format!(
            "job {job} was not started with requires_review; its report needs no confirmation"
        )));
    }
    match text(j, "status") {
        "AWAITING_REVIEW" => Ok(()),
        _ if text(j, "report_status") == "CONFIRMED" => Err(Fail::conflict(format!(
            "job {job}'s report is already confirmed"
        ))),
        other => Err(Fail::conflict(format!(
            "job {job} is {other}, not AWAITING_REVIEW"
        ))),
    }
}

/// Set findings' decisions; the ids and previous decisions of those that changed.
fn decide(org: &mut Org, job: &str, ids: &[String], status: &str) -> Result<Vec<Value>, Fail> {
    let mut changed = Vec::new();
    for id in ids {
        let f = org.store.get_mut(&FINDINGS, &[job], id)?;
        let before = f.get("confirmed_status").cloned().unwrap_or(Value::Null);
        if before.as_str() != Some(status) {
            f.insert("confirmed_status".into(), json!(status));
            changed.push(json!({"id": id, "previous": before}));
        }
    }
    Ok(changed)
}

async fn record_decision(AxumState(s): State, Path(job): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    let mut known = vec!["confirmed_status"];
    known.extend(SCOPE);
    b.only(&known)?;
    let status = decision_status(&b)?;
    let mut scope = Vec::new();
    for k in SCOPE {
        if let Some(v) = b.opt_string(k)? {
            scope.push((k, v));
        }
    }
    let mut org = lock(&s.org);
    reviewable(&org, &job)?;
    let ids: Vec<String> = findings(&org, &job)?
        .iter()
        .filter(|f| {
            scope
                .iter()
                .all(|(k, v)| text(f, k).eq_ignore_ascii_case(v))
        })
        .map(|f| text(f, "id").to_string())
        .collect();
    if ids.is_empty() {
        return Err(Fail::not_found(
            "no finding of this job matches the decision's scope",
        ));
    }
    let changed = decide(&mut org, &job, &ids, &status)?;
    let mut record = Map::new();
    record.insert("confirmed_status".into(), json!(status));
    for (k, v) in &scope {
        record.insert((*k).into(), json!(v));
    }
    record.insert("findings_matched".into(), json!(ids.len()));
    record.insert("findings_changed".into(), json!(changed.len()));
    created(
        org.store
            .create(&DECISIONS, &[&job], Value::Object(record))?,
    )
}

async fn revoke_decisions(
    AxumState(s): State,
    Path(job): Path<String>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let q = Query::parse(raw);
    let scope: Vec<(&str, String)> = SCOPE
        .iter()
        .filter_map(|k| q.get(k).map(|v| (*k, v.to_string())))
        .collect();
    let mut org = lock(&s.org);
    reviewable(&org, &job)?;
    let within = |r: &Record| {
        scope
            .iter()
            .all(|(k, v)| text(r, k).eq_ignore_ascii_case(v))
    };
    let decisions: Vec<String> = org
        .store
        .list(&DECISIONS, &[&job])?
        .into_iter()
        .filter(|d| within(d))
        .map(|d| text(d, "id").to_string())
        .collect();
    for d in &decisions {
        org.store.delete(&DECISIONS, &[&job], d)?;
    }
    let ids: Vec<String> = findings(&org, &job)?
        .iter()
        .filter(|f| within(f) && f.contains_key("confirmed_status"))
        .map(|f| text(f, "id").to_string())
        .collect();
    for id in &ids {
        org.store
            .get_mut(&FINDINGS, &[&job], id)?
            .remove("confirmed_status");
    }
    ok(json!({"decisions_revoked": decisions.len(), "findings_reset": ids.len()}))
}

async fn bulk(AxumState(s): State, Path(job): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&["confirmed_status", "predicate", "dry_run"])?;
    let status = decision_status(&b)?;
    let dry_run = b.opt_bool("dry_run")?.unwrap_or(false);
    let Some(Value::Object(predicate)) = b.0.get("predicate").cloned() else {
        return Err(Fail::bad_request(
            "predicate must be an object with classifier_names",
        ));
    };
    unknown_predicate(&predicate)?;
    let names: Vec<String> = predicate
        .get("classifier_names")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        return Err(Fail::bad_request(
            "predicate.classifier_names must name at least one classifier",
        ));
    }
    let confidences: Vec<String> = predicate
        .get("confidence")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_uppercase)
                .collect()
        })
        .unwrap_or_default();
    let place: Vec<(&str, String)> = ["database", "schema", "table"]
        .iter()
        .filter_map(|k| {
            predicate
                .get(*k)
                .and_then(Value::as_str)
                .map(|v| (*k, v.to_string()))
        })
        .collect();
    let mut org = lock(&s.org);
    reviewable(&org, &job)?;
    let matched: Vec<Record> = findings(&org, &job)?
        .into_iter()
        .filter(|f| {
            names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(text(f, "classifier_name")))
        })
        .filter(|f| {
            confidences.is_empty() || confidences.iter().any(|c| c == text(f, "confidence"))
        })
        .filter(|f| {
            place
                .iter()
                .all(|(k, v)| text(f, k).eq_ignore_ascii_case(v))
        })
        .collect();
    let would_change = matched.iter().filter(|f| status_of(f) != status).count();
    if dry_run {
        return ok(
            json!({"dry_run": true, "findings_matched": matched.len(), "findings_would_change": would_change}),
        );
    }
    let ids: Vec<String> = matched.iter().map(|f| text(f, "id").to_string()).collect();
    let changed = decide(&mut org, &job, &ids, &status)?;
    let record = json!({"confirmed_status": status, "predicate": predicate, "dry_run": false,
                        "findings_matched": matched.len(), "findings_changed": changed.len(),
                        "changes": changed});
    let mut out = org.store.create(&BULK, &[&job], record)?;
    if let Some(o) = out.as_object_mut() {
        let id = o.get("id").cloned().unwrap_or(Value::Null);
        o.insert("bulk_decision_id".into(), id);
        o.remove("changes");
    }
    created(out)
}

fn unknown_predicate(p: &Map<String, Value>) -> Result<(), Fail> {
    match p.keys().find(|k| {
        ![
            "classifier_names",
            "confidence",
            "database",
            "schema",
            "table",
        ]
        .contains(&k.as_str())
    }) {
        Some(k) => Err(Fail::bad_request(format!(
            "predicate.{k} is not a known field"
        ))),
        None => Ok(()),
    }
}

async fn revoke_bulk(AxumState(s): State, Path((job, id)): Path<(String, String)>) -> Reply {
    let mut org = lock(&s.org);
    reviewable(&org, &job)?;
    let record = org.store.delete(&BULK, &[&job], &id)?;
    let changes = record
        .get("changes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for c in changes {
        let fid = c.get("id").and_then(Value::as_str).unwrap_or_default();
        if let Ok(f) = org.store.get_mut(&FINDINGS, &[&job], fid) {
            match c.get("previous") {
                Some(Value::String(p)) => {
                    f.insert("confirmed_status".into(), json!(p));
                }
                _ => {
                    f.remove("confirmed_status");
                }
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn review_status(AxumState(s): State, Path(job): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    advance(&mut org, &job)?;
    let j = org.store.get(&JOBS, &[], &job)?.clone();
    let fs = findings(&org, &job)?;
    let (approved, rejected, pending) = tally(&fs);
    ok(json!({
        "job_id": job, "job_status": j.get("status"), "requires_review": j.get("requires_review"),
        "total_findings": fs.len(), "approved": approved, "rejected": rejected, "pending": pending,
        "review_complete": pending == 0 && !fs.is_empty(),
        "report_status": j.get("report_status"),
    }))
}

/// Confirm a review-gated job's report: every finding must be decided. The job becomes
/// COMPLETED (the sandbox builds the report at once) and its decisions are locked.
async fn report_confirm(AxumState(s): State, Path(job): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    in_review(&org, &job)?;
    let (_, _, pending) = tally(&findings(&org, &job)?);
    if pending > 0 {
        return Err(Fail::conflict(format!(
            "job {job} has {pending} undecided findings; decide every finding before confirming"
        )));
    }
    ok(org.store.patch(
        &JOBS,
        &[],
        &job,
        json!({"status": "COMPLETED", "report_status": "CONFIRMED", "report_confirmed_at": now()}),
    )?)
}

/// Cancel a review-gated job before its report is confirmed: the job becomes CANCELLED and its
/// review (decisions, bulk decisions, findings' decided states) is discarded.
async fn report_cancel(AxumState(s): State, Path(job): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    in_review(&org, &job)?;
    for spec in [&DECISIONS, &BULK] {
        let ids: Vec<String> = org
            .store
            .list(spec, &[&job])?
            .iter()
            .map(|r| text(r, "id").to_string())
            .collect();
        for id in ids {
            org.store.delete(spec, &[&job], &id)?;
        }
    }
    let decided: Vec<String> = findings(&org, &job)?
        .iter()
        .filter(|f| f.contains_key("confirmed_status"))
        .map(|f| text(f, "id").to_string())
        .collect();
    for id in decided {
        org.store
            .get_mut(&FINDINGS, &[&job], &id)?
            .remove("confirmed_status");
    }
    ok(org.store.patch(
        &JOBS,
        &[],
        &job,
        json!({"status": "CANCELLED", "report_status": "CANCELLED"}),
    )?)
}

async fn report_link(
    AxumState(s): State,
    Path(job): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&[])?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| Fail::bad_request("Host header required"))?
        .to_string();
    let mut org = lock(&s.org);
    completed(&org, &job)?;
    let token = org.new_uuid();
    let signature = org.new_uuid().replace('-', "");
    org.store.create(
        &REPORT_LINKS,
        &[],
        json!({"token": token, "job_id": job, "signature": signature}),
    )?;
    let url =
        format!("http://{host}{REPORT_DOWNLOADS}{token}.json?X-Sandbox-Signature={signature}");
    ok(json!({"url": url, "expiration": 900}))
}

/// The presigned download: no ALTR credentials, only the link's signature.
async fn report_download(
    AxumState(s): State,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let q = Query::parse(raw);
    let token = file.strip_suffix(".json").unwrap_or(&file);
    let org = lock(&s.org);
    let link = org
        .store
        .get(&REPORT_LINKS, &[], token)
        .map_err(|_| Fail::not_found("NoSuchKey: the report link is unknown or expired"))?;
    if q.get("X-Sandbox-Signature") != Some(text(link, "signature")) {
        return Err(Fail::new(
            StatusCode::FORBIDDEN,
            "AccessDenied: the link's signature does not match",
        ));
    }
    let job_id = text(link, "job_id").to_string();
    let job = org.store.get(&JOBS, &[], &job_id)?.clone();
    let fs = findings(&org, &job_id)?;
    Ok(Json(json!({
        "job_id": job_id, "database": job.get("database"), "collection_name": job.get("collection_name"),
        "report_status": job.get("report_status"), "generated_at": now(),
        "summary": counts(&fs), "findings": fs.iter().map(leaf).collect::<Vec<_>>(),
    }))
    .into_response())
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    let classifiers = format!("{CLS}/classifiers");
    let classifier = format!("{classifiers}/{{classifier_name}}");
    let collections = format!("{CLS}/collections");
    let collection = format!("{collections}/{{collection_name}}");
    let members = format!("{collection}/classifiers");
    let member = format!("{members}/{{classifier_name}}");
    let managed = format!("{collections}/altr-managed");
    let jobs = format!("{CLS}/jobs");
    let job = format!("{jobs}/{{job_id}}");
    let db = format!("{job}/findings/databases/{{database}}");
    let schema = format!("{db}/schemas/{{schema}}");
    let table = format!("{schema}/tables/{{table}}");
    let column = format!("{table}/columns/{{column}}");
    let decisions = format!("{job}/decisions");
    Router::new()
        .merge(store::routes(
            &CLASSIFIERS,
            &classifiers,
            &classifier,
            &[Op::List, Op::Get],
        ))
        .route(&classifiers, post(create_classifier))
        .route(
            &classifier,
            delete(delete_classifier).patch(patch_classifier),
        )
        .merge(store::routes(
            &COLLECTIONS,
            &collections,
            &collection,
            COLLECTION_OPS,
        ))
        .route(&collection, get(get_collection))
        .merge(store::routes(&MEMBERS, &members, &member, &[Op::List]))
        .route(&format!("{members}/append"), patch(append))
        .route(&format!("{members}/remove"), patch(remove))
        .route(&format!("{managed}/import"), post(import))
        .route(&format!("{managed}/timestamp"), get(managed_timestamp))
        .route(&format!("{managed}/classifiers"), get(managed_list))
        .route(&jobs, get(get_jobs))
        .route(&format!("{jobs}/active"), get(active_jobs))
        .route(&format!("{jobs}/snowflake"), post(snowflake_job))
        .route(&format!("{jobs}/databricks"), post(databricks_job))
        .route(&format!("{jobs}/oltp"), post(oltp_job))
        .route(&job, get(get_job).patch(update_status))
        .route(&format!("{job}/summary"), get(summary))
        .route(&format!("{job}/findings"), get(f_databases))
        .route(&format!("{job}/findings/leaves"), get(f_leaves))
        .route(&format!("{db}/schemas"), get(f_schemas))
        .route(&format!("{schema}/tables"), get(f_tables))
        .route(&format!("{table}/columns"), get(f_columns))
        .route(&format!("{column}/classifiers"), get(f_classifiers))
        .route(
            &format!("{column}/classifiers/{{classifier_name}}/lineage"),
            get(f_lineage),
        )
        .merge(store::routes(
            &DECISIONS,
            &decisions,
            &format!("{decisions}/{{decision_id}}"),
            &[Op::List],
        ))
        .route(&decisions, post(record_decision).delete(revoke_decisions))
        .route(&format!("{decisions}/bulk"), post(bulk))
        .route(
            &format!("{decisions}/bulk/{{bulk_id}}"),
            delete(revoke_bulk),
        )
        .route(&format!("{job}/review-status"), get(review_status))
        .route(&format!("{job}/report"), post(report_link))
        .route(&format!("{job}/report/confirm"), post(report_confirm))
        .route(&format!("{job}/report/cancel"), post(report_cancel))
        .route(&format!("{REPORT_DOWNLOADS}{{file}}"), get(report_download))
        .route(
            "/_sandbox/classification/jobs/{job_id}/complete",
            post(complete_now),
        )
}

const COLLECTION_OPS: &[Op] = &[Op::List, Op::Create, Op::Patch, Op::Delete];

/// Control endpoint: run a RUNNING job to its end now (no credentials, not logged).
async fn complete_now(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    for _ in 0..3 {
        advance(&mut org, &id)?;
    }
    ok(Value::Object(org.store.get(&JOBS, &[], &id)?.clone()))
}

pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    for (name, description, words) in CUSTOM {
        let _ = org.store.create(
            &CLASSIFIERS,
            &[],
            json!({"classifier_name": name, "description": description,
                   "compound_ruleset": ruleset(words), "managed": false}),
        );
    }
    let _ = org.store.create(
        &COLLECTIONS,
        &[],
        json!({"collection_name": "PII", "description": "Personal data: emails, SSNs, phone numbers"}),
    );
    for (name, _, _) in CUSTOM {
        let _ = org
            .store
            .create(&MEMBERS, &["PII"], json!({"classifier_name": name}));
    }
    let jobs: Vec<(i64, String, &str)> = org
        .databases
        .values()
        .filter(|d| d.platform() == "snowflake")
        .map(|d| {
            (
                d.id,
                d.database_name.clone(),
                d.friendly_database_name.as_str(),
            )
        })
        .filter(|(_, _, name)| matches!(*name, "Sales Analytics" | "HR Warehouse"))
        .map(|(id, db, name)| {
            (
                id,
                db,
                if name == "Sales Analytics" {
                    "RUNNING"
                } else {
                    "PAUSED"
                },
            )
        })
        .collect();
    for (database_id, database, status) in jobs {
        let job = json!({
            "job_type": "FULL", "classification_type": "altr_native", "classification_level": 1,
            "database_id": database_id, "database": database, "collection_name": "PII",
            "requires_review": false, "status": status, "progress": 50,
            "report_status": "NOT_CONFIRMED",
        });
        let Ok(job) = org.store.create(&JOBS, &[], job) else {
            continue;
        };
        let id = job
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // The Sales Analytics job completes now, with one finding already approved.
        if advance(org, &id).is_ok() && status == "RUNNING" {
            let email = findings(org, &id).ok().and_then(|fs| {
                fs.iter()
                    .find(|f| text(f, "column") == "EMAIL" && text(f, "table") == "CUSTOMERS")
                    .map(|f| text(f, "id").to_string())
            });
            if let Some(fid) = email {
                if decide(org, &id, &[fid], "approved").is_ok() {
                    let decision = json!({
                        "confirmed_status": "approved", "database": database, "schema": "PUBLIC",
                        "table": "CUSTOMERS", "column": "EMAIL", "classifier_name": "EMAIL",
                        "findings_matched": 1, "findings_changed": 1,
                    });
                    let _ = org.store.create(&DECISIONS, &[&id], decision);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_org_has_classifiers_a_collection_and_a_completed_job_with_findings() {
        let org = Org::seeded(Seed::Demo);
        assert_eq!(org.store.list(&CLASSIFIERS, &[]).unwrap().len(), 3);
        assert_eq!(org.store.list(&MEMBERS, &["PII"]).unwrap().len(), 3);
        let jobs = org.store.list(&JOBS, &[]).unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(text(jobs[1], "status"), "PAUSED");
        assert_eq!(
            org.store
                .list(&DECISIONS, &[text(jobs[0], "id")])
                .unwrap()
                .len(),
            1
        );
        assert_eq!(text(jobs[0], "status"), "COMPLETED");
        assert_eq!(text(jobs[0], "database"), "SALES_DB");
        let id = text(jobs[0], "id").to_string();
        let found: Vec<(String, String)> = findings(&org, &id)
            .unwrap()
            .iter()
            .map(|f| {
                (
                    text(f, "column").to_string(),
                    text(f, "classifier_name").to_string(),
                )
            })
            .collect();
        for want in [
            ("EMAIL", "EMAIL"),
            ("SSN", "US_SSN"),
            ("PHONE_NUMBER", "PHONE_NUMBER"),
        ] {
            assert!(
                found.contains(&(want.0.into(), want.1.into())),
                "{want:?} in {found:?}"
            );
        }
        assert!(!found.iter().any(|(c, _)| c == "AMOUNT"));
    }

    #[test]
    fn empty_org_has_no_classification_data() {
        let org = Org::seeded(Seed::Empty);
        assert!(org.store.list(&CLASSIFIERS, &[]).unwrap().is_empty());
        assert!(org.store.list(&JOBS, &[]).unwrap().is_empty());
    }

    #[test]
    fn keywords_and_confidence() {
        let c = json!({"compound_ruleset": {"rules": [{"pattern": "(?i)E-Mail"}, {"keywords": ["ssn"]}, {"other": "xyz"}]}});
        let Value::Object(c) = c else { unreachable!() };
        assert_eq!(keywords(&c), ["email", "ssn"]);
        assert_eq!(confidence("EMAIL", "email"), Some("HIGH"));
        assert_eq!(confidence("EMAIL_ADDRESS", "email"), Some("MEDIUM"));
        assert_eq!(confidence("X_EMAIL_Y", "email"), Some("LOW"));
        assert_eq!(confidence("AMOUNT", "email"), None);
    }

    #[test]
    fn computed_pages_hand_out_and_check_tokens() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let q = Query::parse(Some("limit=2".into()));
        let first = page_of(items.clone(), &q, "x", TOKEN, FINDING_PAGE).unwrap();
        assert_eq!(first["x"], json!([0, 1]));
        assert_eq!(first["next_page_token"], "2");
        let q = Query::parse(Some("limit=2&page_token=4".into()));
        let last = page_of(items.clone(), &q, "x", TOKEN, FINDING_PAGE).unwrap();
        assert_eq!(last["x"], json!([4]));
        assert!(last.get("next_page_token").is_none());
        for bad in ["page_token=9", "page_token=x", "limit=0", "limit=1001"] {
            let q = Query::parse(Some(bad.into()));
            assert!(
                page_of(items.clone(), &q, "x", TOKEN, FINDING_PAGE).is_err(),
                "{bad}"
            );
        }
    }
}
