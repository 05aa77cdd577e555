//! Key management (KMA `/v1`): tweaks, and keys per namespace, each with numbered sequences.
//!
//! A record is `{name, (namespace,) current_sequence, sequences: [{sequence, status,
//! created_at, (deactivated_at), (envelope_version, envelope_rotated_at)}], created_at,
//! updated_at}`. Creating starts at sequence 1 (409 for a taken name). Rotating a key's sequence
//! is ALTR's envelope rotation: the sequence's data key is re-wrapped under a new envelope key,
//! so the sequence, its key material and `current_sequence` stay and only `envelope_version`
//! (1 before any rotation) goes up, with `envelope_rotated_at` (409 for a deactivated
//! sequence). Deactivating marks one sequence `deactivated` (again: no change). A get answers
//! one sequence (the current one unless `sequence` is given). Lists page by `contiguous_id`
//! (the name of the last record of the page), `contain` filters names, and `status` (active,
//! deactivated or any; default any) keeps only the sequences in that state, leaving out records
//! with none. Unknown names, namespaces and sequences are 404.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::response::IntoResponse;
use axum::routing::{get, patch};
use axum::Router;
use serde_json::{json, Value};

use super::store::{validate, Field, Id, Mode, Record, Spec};
use super::{created, lock, now, ok, Body, Fail, Org, Query, Reply, Seed, Shared, State};

/// Path prefix of the KMA service.
pub const KMA: &str = "/kma/v1";

/// Namespaces: created with their first key.
pub const NAMESPACES: Spec = Spec {
    name: "kma.namespaces",
    kind: "Namespace",
    items: "namespaces",
    id: Id::Key("namespace"),
    fields: &[Field::str("namespace").required()],
    ..Spec::NEW
};

/// Keys, one collection per namespace.
pub const KEYS: Spec = Spec {
    name: "kma.keys",
    kind: "Key",
    items: "keys",
    id: Id::Key("name"),
    parent: Some(&NAMESPACES),
    scope: &["namespace"],
    fields: &[
        Field::str("name").required(),
        Field::str("namespace").required(),
    ],
    ..Spec::NEW
};

/// Tweaks.
pub const TWEAKS: Spec = Spec {
    name: "kma.tweaks",
    kind: "Tweak",
    items: "tweaks",
    id: Id::Key("name"),
    fields: &[Field::str("name").required()],
    ..Spec::NEW
};

/// Default and largest page.
const PAGE: u64 = 25;
const MAX_PAGE: u64 = 1000;
const STATUSES: &[&str] = &["active", "deactivated", "any"];

/// Demo: namespace `payments` with `card-key` (sequence 1 deactivated, 2 current, its envelope
/// rotated once) and `iban-key`; namespace `hr` with `ssn-key`; tweak `ssn-tweak`.
pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    for (ns, name) in [
        ("payments", "card-key"),
        ("payments", "iban-key"),
        ("hr", "ssn-key"),
    ] {
        let _ = create_key(org, ns, name);
    }
    if let Ok(card) = org.store.get_mut(&KEYS, &["payments"], "card-key") {
        add_sequence(card);
        let _ = rotate(card, 2);
        let _ = deactivate(card, 1);
    }
    let _ = org
        .store
        .create(&TWEAKS, &[], fresh(json!({"name": "ssn-tweak"})));
}

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .route(&format!("{KMA}/tweaks"), get(list_tweaks).post(new_tweak))
        .route(&format!("{KMA}/tweaks/{{name}}"), get(get_tweak))
        .route(
            &format!("{KMA}/tweaks/{{name}}/sequence/{{sequence}}/deactivate"),
            patch(deactivate_tweak),
        )
        .route(&format!("{KMA}/keys"), get(no_namespace).post(new_key))
        .route(&format!("{KMA}/keys/{{namespace}}"), get(list_keys))
        .route(&format!("{KMA}/keys/{{namespace}}/{{name}}"), get(get_key))
        .route(
            &format!("{KMA}/keys/{{namespace}}/{{name}}/sequence/{{sequence}}/deactivate"),
            patch(deactivate_key),
        )
        .route(
            &format!("{KMA}/keys/{{namespace}}/{{name}}/sequence/{{sequence}}/rotate"),
            patch(rotate_key),
        )
}

/// A new record body at sequence 1.
fn fresh(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.insert("current_sequence".into(), json!(1));
        o.insert(
            "sequences".into(),
            json!([{"sequence": 1, "status": "active", "created_at": now()}]),
        );
    }
    body
}

fn create_key(org: &mut Org, namespace: &str, name: &str) -> Result<Value, Fail> {
    if org.store.get(&NAMESPACES, &[], namespace).is_err() {
        org.store
            .create(&NAMESPACES, &[], json!({"namespace": namespace}))?;
    }
    org.store.create(
        &KEYS,
        &[namespace],
        fresh(json!({"name": name, "namespace": namespace})),
    )
}

/// A sequence number from the path or query: a positive whole number.
fn sequence_number(raw: &str) -> Result<u64, Fail> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Fail::bad_request(
            "sequence must be a positive whole number",
        )),
    }
}

fn sequences(record: &Record) -> Vec<Value> {
    record
        .get("sequences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn number_of(seq: &Value) -> u64 {
    seq.get("sequence").and_then(Value::as_u64).unwrap_or(0)
}

fn current(record: &Record) -> u64 {
    record
        .get("current_sequence")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

fn label(record: &Record) -> String {
    let name = record.get("name").and_then(Value::as_str).unwrap_or("?");
    match record.get("namespace").and_then(Value::as_str) {
        Some(ns) => format!("Key '{ns}/{name}'"),
        None => format!("Tweak '{name}'"),
    }
}

fn find_sequence(record: &Record, n: u64) -> Result<Value, Fail> {
    sequences(record)
        .into_iter()
        .find(|s| number_of(s) == n)
        .ok_or_else(|| Fail::not_found(format!("{} has no sequence {n}", label(record))))
}

/// Add the next sequence and make it current (the demo's key history; no endpoint does this).
fn add_sequence(record: &mut Record) {
    let next = sequences(record)
        .iter()
        .map(number_of)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let mut all = sequences(record);
    all.push(json!({"sequence": next, "status": "active", "created_at": now()}));
    record.insert("sequences".into(), Value::Array(all));
    record.insert("current_sequence".into(), json!(next));
}

/// Envelope rotation of sequence `n`, which must be active: its `envelope_version` goes up by
/// one (from 1) and `envelope_rotated_at` is stamped; nothing else changes.
fn rotate(record: &mut Record, n: u64) -> Result<(), Fail> {
    let seq = find_sequence(record, n)?;
    if seq.get("status").and_then(Value::as_str) != Some("active") {
        return Err(Fail::conflict(format!(
            "sequence {n} of {} is deactivated and cannot be rotated",
            label(record)
        )));
    }
    let all: Vec<Value> = sequences(record)
        .into_iter()
        .map(|mut s| {
            if number_of(&s) == n {
                let version = s
                    .get("envelope_version")
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                if let Some(o) = s.as_object_mut() {
                    o.insert("envelope_version".into(), json!(version.saturating_add(1)));
                    o.insert("envelope_rotated_at".into(), json!(now()));
                }
            }
            s
        })
        .collect();
    record.insert("sequences".into(), Value::Array(all));
    Ok(())
}

/// Mark one sequence deactivated (a deactivated one stays as it is).
fn deactivate(record: &mut Record, n: u64) -> Result<(), Fail> {
    find_sequence(record, n)?;
    let all: Vec<Value> = sequences(record)
        .into_iter()
        .map(|mut s| {
            let active = s.get("status").and_then(Value::as_str) == Some("active");
            if number_of(&s) == n && active {
                if let Some(o) = s.as_object_mut() {
                    o.insert("status".into(), json!("deactivated"));
                    o.insert("deactivated_at".into(), json!(now()));
                }
            }
            s
        })
        .collect();
    record.insert("sequences".into(), Value::Array(all));
    Ok(())
}

/// One sequence of a record: the record's fields without the sequence list, plus that
/// sequence's `sequence`, `status` and stamps.
fn view(record: &Record, wanted: Option<&str>) -> Reply {
    let n = match wanted {
        Some(raw) => sequence_number(raw)?,
        None => current(record),
    };
    let seq = find_sequence(record, n)?;
    let mut out = record.clone();
    out.remove("sequences");
    out.insert("sequence".into(), json!(n));
    for k in [
        "status",
        "deactivated_at",
        "envelope_version",
        "envelope_rotated_at",
    ] {
        if let Some(v) = seq.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    if let Some(at) = seq.get("created_at") {
        out.insert("sequence_created_at".into(), at.clone());
    }
    ok(Value::Object(out))
}

/// One page of `records`: `contain` on the name, `status` on the sequences, `contiguous_id`
/// (the last name of the previous page) and `limit`.
fn page(records: Vec<&Record>, items: &str, q: &Query) -> Reply {
    let limit = q.number("limit", PAGE, 1, MAX_PAGE)?;
    let status = q.get("status").map(|s| s.trim().to_ascii_lowercase());
    if let Some(s) = &status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(Fail::bad_request(format!(
                "status must be one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    let contain = q.get("contain").map(|s| s.to_ascii_lowercase());
    let name = |r: &Record| {
        r.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let start = match q.get("contiguous_id").map(str::trim) {
        None | Some("") => 0,
        Some(after) => records
            .iter()
            .position(|r| name(r) == after)
            .map(|i| i + 1)
            .ok_or_else(|| {
                Fail::bad_request(
                    "contiguous_id is not one this API gave out; pass back the contiguous_id of the previous page",
                )
            })?,
    };
    let mut rest = records.into_iter().skip(start).filter_map(|r| {
        if let Some(c) = &contain {
            if !name(r).to_ascii_lowercase().contains(c.as_str()) {
                return None;
            }
        }
        let mut r = r.clone();
        if let Some(s) = status.as_deref().filter(|s| *s != "any") {
            let kept: Vec<Value> = sequences(&r)
                .into_iter()
                .filter(|q| q.get("status").and_then(Value::as_str) == Some(s))
                .collect();
            if kept.is_empty() {
                return None;
            }
            r.insert("sequences".into(), Value::Array(kept));
        }
        Some(r)
    });
    let got: Vec<Record> = rest
        .by_ref()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let mut answer = serde_json::Map::new();
    answer.insert("success".into(), json!(true));
    if let (Some(last), true) = (got.last(), rest.next().is_some()) {
        answer.insert("contiguous_id".into(), json!(name(last)));
    }
    answer.insert(items.into(), json!(got));
    Ok(axum::Json(Value::Object(answer)).into_response())
}

/// Apply `f` to a copy of a record and store it only if `f` succeeds (so a refused rotation
/// leaves the record, `updated_at` included, as it was). The stored record.
fn change(
    org: &mut Org,
    spec: &Spec,
    parent: &[&str],
    name: &str,
    f: impl FnOnce(&mut Record) -> Result<(), Fail>,
) -> Result<Record, Fail> {
    let mut copy = org.store.get(spec, parent, name)?.clone();
    f(&mut copy)?;
    let slot = org.store.get_mut(spec, parent, name)?;
    let stamp = slot.get("updated_at").cloned();
    *slot = copy;
    if let Some(at) = stamp {
        slot.insert("updated_at".into(), at);
    }
    Ok(slot.clone())
}

async fn list_tweaks(AxumState(s): State, RawQuery(q): RawQuery) -> Reply {
    let org = lock(&s.org);
    page(org.store.list(&TWEAKS, &[])?, "tweaks", &Query::parse(q))
}

async fn new_tweak(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, TWEAKS.fields, Mode::Create)?;
    let mut org = lock(&s.org);
    created(org.store.create(&TWEAKS, &[], fresh(Value::Object(b.0)))?)
}

async fn get_tweak(AxumState(s): State, Path(name): Path<String>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q);
    let org = lock(&s.org);
    view(org.store.get(&TWEAKS, &[], &name)?, q.get("sequence"))
}

async fn deactivate_tweak(
    AxumState(s): State,
    Path((name, sequence)): Path<(String, String)>,
) -> Reply {
    let n = sequence_number(&sequence)?;
    let mut org = lock(&s.org);
    let t = change(&mut org, &TWEAKS, &[], &name, |r| deactivate(r, n))?;
    view(&t, Some(&sequence))
}

async fn new_key(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    validate(&b.0, KEYS.fields, Mode::Create)?;
    let namespace = b.string("namespace")?;
    let name = b.string("name")?;
    let mut org = lock(&s.org);
    created(create_key(&mut org, &namespace, &name)?)
}

/// Keys are listed per namespace: `GET /keys` alone names no collection.
async fn no_namespace() -> Reply {
    Err(Fail::not_found(
        "no namespace given: list keys with GET /keys/{namespace}",
    ))
}

async fn list_keys(
    AxumState(s): State,
    Path(namespace): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let org = lock(&s.org);
    page(
        org.store.list(&KEYS, &[namespace.as_str()])?,
        "keys",
        &Query::parse(q),
    )
}

async fn get_key(
    AxumState(s): State,
    Path((namespace, name)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q);
    let org = lock(&s.org);
    view(
        org.store.get(&KEYS, &[namespace.as_str()], &name)?,
        q.get("sequence"),
    )
}

async fn deactivate_key(
    AxumState(s): State,
    Path((namespace, name, sequence)): Path<(String, String, String)>,
) -> Reply {
    let n = sequence_number(&sequence)?;
    let mut org = lock(&s.org);
    let k = change(&mut org, &KEYS, &[namespace.as_str()], &name, |r| {
        deactivate(r, n)
    })?;
    view(&k, Some(&sequence))
}

async fn rotate_key(
    AxumState(s): State,
    Path((namespace, name, sequence)): Path<(String, String, String)>,
) -> Reply {
    let n = sequence_number(&sequence)?;
    let mut org = lock(&s.org);
    let k = change(&mut org, &KEYS, &[namespace.as_str()], &name, |r| {
        rotate(r, n)
    })?;
    view(&k, Some(&sequence))
}
