//! The generic store: in-memory collections of JSON records, a wire spec per field to check
//! bodies against, and the axum handlers that serve a collection, so that a domain whose
//! endpoints are plain collections is a route table, a seed and a few custom handlers.
//!
//! # What a collection does
//! - Records are JSON objects keyed by an id, kept in creation order. The id is generated
//!   (uuid-like, from the org's id sequence: [`Id::Uuid`]) or taken from a body field
//!   ([`Id::Key`], e.g. a repo's `name` or a listener's `port`).
//! - A collection may be scoped by a parent: listeners live under a sidecar, users under a repo.
//!   The parent key is the list of path values above the record (`&["sc-1"]`, or
//!   `&["def-1", "inst-1"]` two levels down); the store checks that the parent record exists
//!   (404 naming the parent) and writes the key into the record under the [`Spec::scope`] names.
//! - 404 for an unknown id (`Sidecar listener '5432' not found`), 409 for a duplicate id or a
//!   duplicate value of a [`Spec::unique`] field within the same parent.
//! - `created_at` / `updated_at` are maintained (names set by [`Spec::created`] /
//!   [`Spec::updated`]; `None` leaves that stamp out).
//! - PATCH merges the given fields (a `null` removes one); PUT replaces all body fields (id,
//!   parent fields and `created_at` stay). An empty PATCH is a 400.
//!
//! # Answers of the generic handlers
//! - list: `200 {"success": true, "<items>": [...], <next-page key>: "..."}`, items and
//!   cursor at top level (as ALTR's classifier list answers `classifiers` and `contiguous_id`);
//! - get / patch / put: `200 {"success": true, "data": record}`; create: `201` with the same;
//! - delete: `204` with no body.
//!
//! # Paging ([`Paging`]), caller-driven, `limit` from 1 to the declared max (else 400)
//! | style | request | answer, absent on the last page |
//! |---|---|---|
//! | [`Style::ContiguousId`] | `limit`, `contiguous_id` | top-level `contiguous_id` |
//! | [`Style::PageToken`] | `limit`, `page_token` | `next_page_token` |
//! | [`Style::Cursor`] | `limit`, `cursor` | `next_cursor` |
//!
//! ALTR documents only the request parameter `cursor` for audit reports, not the answer key
//! that carries the next one; the store answers `next_cursor`, following the `page_token` ->
//! `next_page_token` pattern of the same newer services. The value is opaque to callers (the
//! position after the page); a value the store never gave out is a 400 naming the parameter.
//! Records deleted between pages do not break paging.
//!
//! # Declaring a collection (worked example)
//! A shortened version of the sidecar collections of [`super::sidecars`]; its `rotate` handler
//! stands for any custom handler and is not in that file.
//! ```ignore
//! use super::store::{self, Field, Id, Op, Paging, Spec};
//!
//! const SC: &str = "/sc-control/v1";
//! pub const SIDECARS: Spec = Spec {
//!     name: "sc.sidecars", kind: "Sidecar", items: "sidecars",
//!     fields: &[Field::str("name").required(), Field::str("hostname").required(),
//!               Field::str("description"), Field::bool("unsupported_query_bypass")],
//!     unique: &["name"],
//!     ..Spec::NEW
//! };
//! pub const LISTENERS: Spec = Spec {
//!     name: "sc.listeners", kind: "Sidecar listener", items: "listeners",
//!     id: Id::Key("port"), parent: Some(&SIDECARS), scope: &["sidecar_id"],
//!     fields: &[Field::int("port").required().range(1, 65535),
//!               Field::str("database_type").required().one_of(&["oracle", "mssql", "mysql", "postgres"]),
//!               Field::str("advertised_version")],
//!     ..Spec::NEW
//! };
//!
//! pub(crate) fn routes() -> Router<Arc<Shared>> {
//!     Router::new()
//!         .merge(store::routes(&SIDECARS, &format!("{SC}/sidecars"),
//!                &format!("{SC}/sidecars/{{sidecar_id}}"), Op::CRUD))
//!         .merge(store::routes(&LISTENERS, &format!("{SC}/sidecars/{{sidecar_id}}/ports"),
//!                &format!("{SC}/sidecars/{{sidecar_id}}/ports/{{port}}"),
//!                &[Op::List, Op::Create, Op::Delete]))
//!         // Real behaviour: a custom handler on one method of a path.
//!         .route(&format!("{SC}/sidecars/{{sidecar_id}}/rotate"), post(rotate))
//! }
//!
//! pub(crate) fn seed(org: &mut Org, seed: Seed) {
//!     if seed == Seed::Demo {
//!         let sc = json!({"name": "edge-1", "hostname": "sc1.acme.example"});
//!         if let Ok(sc) = org.store.create(&SIDECARS, &[], sc) {
//!             let id = sc.get("id").and_then(Value::as_str).unwrap_or_default();
//!             let port = json!({"port": 5432, "database_type": "postgres"});
//!             let _ = org.store.create(&LISTENERS, &[id], port);
//!         }
//!     }
//! }
//!
//! // A custom handler: the store does the lookups (404 included), the handler the behaviour.
//! async fn rotate(AxumState(s): State, Path(id): Path<String>) -> Reply {
//!     let mut org = lock(&s.org);
//!     let sidecar = org.store.get_mut(&SIDECARS, &[], &id)?;
//!     sidecar.insert("key_version".into(), json!(2));
//!     ok(Value::Object(sidecar.clone()))
//! }
//! ```
//! Then one line in [`super::DOMAINS`]. A custom handler uses the same pieces: [`Body::parse`],
//! [`validate`], and `org.store.get/list/create/patch/put/delete` (which check ids, parents
//! and unique fields but not field types: that is [`validate`]'s job).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::{
    created, field_int, lock, now, ok, type_name, unknown_fields, Body, Fail, Query, Reply, Shared,
};

/// A JSON record.
pub type Record = Map<String, Value>;

/// Where a record's id comes from; the field named holds it in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    /// Generated from the org's id sequence (uuid-like), e.g. `Id::Uuid("id")`.
    Uuid(&'static str),
    /// Taken from a (required) body field, e.g. `Id::Key("name")`; it cannot be changed later.
    Key(&'static str),
}

impl Id {
    /// The record field holding the id.
    pub const fn field(self) -> &'static str {
        match self {
            Id::Uuid(f) | Id::Key(f) => f,
        }
    }
}

/// The three caller-driven paging styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `contiguous_id` in, top-level `contiguous_id` out.
    ContiguousId,
    /// `page_token` in, `next_page_token` out.
    PageToken,
    /// `cursor` in, `next_cursor` out.
    Cursor,
}

impl Style {
    /// The query parameter that carries the position.
    pub const fn param(self) -> &'static str {
        match self {
            Style::ContiguousId => "contiguous_id",
            Style::PageToken => "page_token",
            Style::Cursor => "cursor",
        }
    }

    /// The answer key that carries the next position.
    pub const fn answer(self) -> &'static str {
        match self {
            Style::ContiguousId => "contiguous_id",
            Style::PageToken => "next_page_token",
            Style::Cursor => "next_cursor",
        }
    }
}

/// How a collection's list pages: the style and the `limit` default and maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub style: Style,
    pub default: u64,
    pub max: u64,
}

impl Paging {
    pub const fn contiguous_id(default: u64, max: u64) -> Paging {
        Paging {
            style: Style::ContiguousId,
            default,
            max,
        }
    }
    pub const fn page_token(default: u64, max: u64) -> Paging {
        Paging {
            style: Style::PageToken,
            default,
            max,
        }
    }
    pub const fn cursor(default: u64, max: u64) -> Paging {
        Paging {
            style: Style::Cursor,
            default,
            max,
        }
    }
}

/// The JSON type a field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Bool,
    Object,
    List,
    Any,
}

/// One body field as the wire has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Needed on create and put (a required string must not be empty).
    pub required: bool,
    /// The values a string (or each item of a list) may take; empty means any.
    pub allowed: &'static [&'static str],
    /// Inclusive bounds of an integer.
    pub range: Option<(i64, i64)>,
}

impl Field {
    const fn of(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            required: false,
            allowed: &[],
            range: None,
        }
    }
    pub const fn str(name: &'static str) -> Field {
        Field::of(name, Kind::Str)
    }
    pub const fn int(name: &'static str) -> Field {
        Field::of(name, Kind::Int)
    }
    pub const fn bool(name: &'static str) -> Field {
        Field::of(name, Kind::Bool)
    }
    pub const fn object(name: &'static str) -> Field {
        Field::of(name, Kind::Object)
    }
    pub const fn list(name: &'static str) -> Field {
        Field::of(name, Kind::List)
    }
    pub const fn any(name: &'static str) -> Field {
        Field::of(name, Kind::Any)
    }
    pub const fn required(self) -> Field {
        Field {
            required: true,
            ..self
        }
    }
    pub const fn one_of(self, allowed: &'static [&'static str]) -> Field {
        Field { allowed, ..self }
    }
    pub const fn range(self, min: i64, max: i64) -> Field {
        Field {
            range: Some((min, max)),
            ..self
        }
    }
}

/// How a list filter compares a query value with a record field (case-insensitive, on the
/// field's text: strings as they are, numbers and booleans as written in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Equals,
    Prefix,
    Contains,
}

/// A list filter: query parameter `param` narrows the list on record field `field`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub param: &'static str,
    pub field: &'static str,
    pub how: Match,
}

impl Filter {
    pub const fn equals(param: &'static str, field: &'static str) -> Filter {
        Filter {
            param,
            field,
            how: Match::Equals,
        }
    }
    pub const fn prefix(param: &'static str, field: &'static str) -> Filter {
        Filter {
            param,
            field,
            how: Match::Prefix,
        }
    }
    pub const fn contains(param: &'static str, field: &'static str) -> Filter {
        Filter {
            param,
            field,
            how: Match::Contains,
        }
    }
}

/// A collection as a domain declares it (a `const`, usually `Spec { .., ..Spec::NEW }`).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Unique across the sandbox, e.g. `"sc.listeners"`.
    pub name: &'static str,
    /// What one record is, for messages: `"Sidecar listener"`.
    pub kind: &'static str,
    /// The key of the list in a list answer: `"listeners"`.
    pub items: &'static str,
    pub id: Id,
    /// The collection whose records own these records, if scoped.
    pub parent: Option<&'static Spec>,
    /// The record fields that receive the parent key, outermost first (one per level).
    pub scope: &'static [&'static str],
    /// The body fields (the id field of an [`Id::Key`] collection included).
    pub fields: &'static [Field],
    /// Fields whose values are unique within one parent (strings compared case-insensitively).
    pub unique: &'static [&'static str],
    /// Query parameters that narrow the list.
    pub filters: &'static [Filter],
    pub paging: Paging,
    /// The creation and update stamps' field names.
    pub created: Option<&'static str>,
    pub updated: Option<&'static str>,
}

impl Spec {
    /// The defaults to complete a declaration with: generated `id`, unscoped, no fields,
    /// `contiguous_id` paging 25 per page up to 100, `created_at` and `updated_at`.
    pub const NEW: Spec = Spec {
        name: "",
        kind: "Record",
        items: "items",
        id: Id::Uuid("id"),
        parent: None,
        scope: &[],
        fields: &[],
        unique: &[],
        filters: &[],
        paging: Paging::contiguous_id(25, 100),
        created: Some("created_at"),
        updated: Some("updated_at"),
    };
}

/// What a body is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Required fields present.
    Create,
    /// At least one field; nothing required.
    Patch,
    /// A full replacement: required fields present.
    Put,
}

/// Check a body against the wire spec: no unknown fields, required fields present (create and
/// put), at least one field (patch), each present field of its kind, in its allowed values and
/// range. A `null` counts as absent. The 400 names the field and what is wrong.
pub fn validate(body: &Record, fields: &[Field], mode: Mode) -> Result<(), Fail> {
    let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
    unknown_fields(body, &known)?;
    if mode == Mode::Patch && body.is_empty() {
        return Err(Fail::bad_request(format!(
            "nothing to update; give at least one of {}",
            known.join(", ")
        )));
    }
    for f in fields {
        let value = body.get(f.name).filter(|v| !v.is_null());
        match value {
            None if f.required && mode != Mode::Patch => {
                return Err(Fail::bad_request(format!("{} is required", f.name)))
            }
            None => {}
            Some(v) => check_field(f, v)?,
        }
    }
    Ok(())
}

fn check_field(f: &Field, v: &Value) -> Result<(), Fail> {
    let name = f.name;
    let wrong = |what: &str| {
        Err(Fail::bad_request(format!(
            "{name} must be {what}, not {}",
            type_name(v)
        )))
    };
    match f.kind {
        Kind::Str => match v {
            Value::String(s) if f.required && s.trim().is_empty() => {
                return Err(Fail::bad_request(format!("{name} must not be empty")))
            }
            Value::String(s) => one_of(name, f.allowed, s)?,
            _ => return wrong("a string"),
        },
        Kind::Int => {
            if let Some(n) = field_int(name, Some(v))? {
                if let Some((min, max)) = f.range.filter(|(min, max)| !(*min..=*max).contains(&n)) {
                    return Err(Fail::bad_request(format!(
                        "{name} must be from {min} to {max}"
                    )));
                }
            }
        }
        Kind::Bool if !v.is_boolean() => return wrong("true or false"),
        Kind::Object if !v.is_object() => return wrong("an object"),
        Kind::List => match v {
            Value::Array(items) if !f.allowed.is_empty() => {
                for item in items {
                    match item {
                        Value::String(s) => one_of(name, f.allowed, s)?,
                        _ => {
                            return Err(Fail::bad_request(format!(
                                "{name} must list strings, one of {}",
                                f.allowed.join(", ")
                            )))
                        }
                    }
                }
            }
            Value::Array(_) => {}
            _ => return wrong("a list"),
        },
        _ => {}
    }
    Ok(())
}

fn one_of(name: &str, allowed: &[&str], value: &str) -> Result<(), Fail> {
    if allowed.is_empty() || allowed.contains(&value) {
        Ok(())
    } else {
        Err(Fail::bad_request(format!(
            "{name} must be one of {}",
            allowed.join(", ")
        )))
    }
}

/// A record's id (or any key field) as text: strings as they are, numbers as written.
fn key_text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// A field's text for filters and unique checks.
fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Bool(b)) => Some(b.to_string()),
        other => key_text(other),
    }
}

#[derive(Debug, Clone)]
struct Entry {
    /// Creation position within the collection (paging runs on it).
    n: u64,
    parent: Vec<String>,
    id: String,
    record: Record,
}

/// The records of one collection, in creation order.
#[derive(Debug, Default, Clone)]
struct Collection {
    /// The name of the collection whose records own these (for deleting with the owner).
    owner: Option<&'static str>,
    next: u64,
    entries: Vec<Entry>,
}

/// Every generic collection of the org, and the org's id sequence.
#[derive(Debug, Default)]
pub struct Store {
    seq: u64,
    collections: BTreeMap<&'static str, Collection>,
}

fn not_found(kind: &str, id: &str) -> Fail {
    Fail::not_found(format!(
        "{kind} '{}' not found",
        id.chars().take(120).collect::<String>()
    ))
}

fn same_parent(e: &Entry, parent: &[&str]) -> bool {
    e.parent.len() == parent.len() && e.parent.iter().zip(parent).all(|(a, b)| a == b)
}

impl Store {
    /// The next number of the org's id sequence.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq = self.seq.saturating_add(1);
        self.seq
    }

    /// A fresh id in UUID form. Ids grow with creation order, so sorting by id is creation order.
    pub(crate) fn new_uuid(&mut self) -> String {
        let seq = self.next_seq();
        let mix = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) & 0xFFFF_FFFF_FFFF;
        format!("{seq:08x}-5a4d-4b0c-8a17-{mix:012x}")
    }

    fn entries(&self, spec: &Spec) -> &[Entry] {
        self.collections
            .get(spec.name)
            .map(|c| c.entries.as_slice())
            .unwrap_or_default()
    }

    /// 404 unless the parent record exists (recursively up the scopes).
    fn check_parent(&self, spec: &Spec, parent: &[&str]) -> Result<(), Fail> {
        if parent.len() != spec.scope.len() {
            return Err(Fail::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "sandbox bug: {} takes {} parent key(s), got {}",
                    spec.kind,
                    spec.scope.len(),
                    parent.len()
                ),
            ));
        }
        match (spec.parent, parent.split_last()) {
            (Some(owner), Some((id, above))) => self.get(owner, above, id).map(|_| ()),
            _ => Ok(()),
        }
    }

    fn position(&self, spec: &Spec, parent: &[&str], id: &str) -> Result<usize, Fail> {
        self.check_parent(spec, parent)?;
        self.entries(spec)
            .iter()
            .position(|e| e.id == id && same_parent(e, parent))
            .ok_or_else(|| not_found(spec.kind, id))
    }

    /// The records under `parent` (`&[]` when unscoped), in creation order.
    pub(crate) fn list(&self, spec: &Spec, parent: &[&str]) -> Result<Vec<&Record>, Fail> {
        self.check_parent(spec, parent)?;
        Ok(self
            .entries(spec)
            .iter()
            .filter(|e| same_parent(e, parent))
            .map(|e| &e.record)
            .collect())
    }

    /// One record; 404 names the kind and id (or the missing parent).
    pub(crate) fn get(&self, spec: &Spec, parent: &[&str], id: &str) -> Result<&Record, Fail> {
        let at = self.position(spec, parent, id)?;
        self.entries(spec)
            .get(at)
            .map(|e| &e.record)
            .ok_or_else(|| not_found(spec.kind, id))
    }

    /// One record to change in place (custom handlers); stamps its update time.
    pub(crate) fn get_mut(
        &mut self,
        spec: &Spec,
        parent: &[&str],
        id: &str,
    ) -> Result<&mut Record, Fail> {
        let at = self.position(spec, parent, id)?;
        let entry = self
            .collections
            .get_mut(spec.name)
            .and_then(|c| c.entries.get_mut(at))
            .ok_or_else(|| not_found(spec.kind, id))?;
        if let Some(updated) = spec.updated {
            entry.record.insert(updated.into(), Value::String(now()));
        }
        Ok(&mut entry.record)
    }

    /// 409 if another record under `parent` has the same value of a unique field.
    fn check_unique(
        &self,
        spec: &Spec,
        parent: &[&str],
        except: Option<&str>,
        body: &Record,
    ) -> Result<(), Fail> {
        for field in spec.unique {
            let Some(wanted) = text(body.get(*field)) else {
                continue;
            };
            let taken = self.entries(spec).iter().any(|e| {
                same_parent(e, parent)
                    && Some(e.id.as_str()) != except
                    && text(e.record.get(*field)).is_some_and(|t| t.eq_ignore_ascii_case(&wanted))
            });
            if taken {
                return Err(Fail::conflict(format!(
                    "A {} with {field} '{wanted}' already exists",
                    spec.kind.to_ascii_lowercase()
                )));
            }
        }
        Ok(())
    }

    /// Add a record: the id generated or taken from the body, the parent key and stamps
    /// written in; `null` fields dropped. 404 for a missing parent, 409 for a taken id or
    /// unique value. The stored record.
    pub(crate) fn create(
        &mut self,
        spec: &Spec,
        parent: &[&str],
        body: Value,
    ) -> Result<Value, Fail> {
        let Value::Object(mut body) = body else {
            return Err(Fail::bad_request("the request body must be a JSON object"));
        };
        body.retain(|_, v| !v.is_null());
        self.check_parent(spec, parent)?;
        let id = match spec.id {
            Id::Key(field) => key_text(body.get(field))
                .ok_or_else(|| Fail::bad_request(format!("{field} is required")))?,
            Id::Uuid(_) => String::new(),
        };
        if matches!(spec.id, Id::Key(_))
            && self
                .entries(spec)
                .iter()
                .any(|e| e.id == id && same_parent(e, parent))
        {
            return Err(Fail::conflict(format!(
                "{} '{id}' already exists",
                spec.kind
            )));
        }
        self.check_unique(spec, parent, None, &body)?;
        let id = match spec.id {
            Id::Uuid(field) => {
                let id = self.new_uuid();
                body.insert(field.into(), Value::String(id.clone()));
                id
            }
            Id::Key(_) => id,
        };
        for (field, key) in spec.scope.iter().zip(parent) {
            body.insert((*field).into(), Value::String((*key).to_string()));
        }
        let at = now();
        for stamp in [spec.created, spec.updated].into_iter().flatten() {
            body.insert(stamp.into(), Value::String(at.clone()));
        }
        let out = Value::Object(body.clone());
        let c = self.collections.entry(spec.name).or_default();
        c.owner = spec.parent.map(|p| p.name);
        c.next = c.next.saturating_add(1);
        c.entries.push(Entry {
            n: c.next,
            parent: parent.iter().map(|p| p.to_string()).collect(),
            id,
            record: body,
        });
        Ok(out)
    }

    /// 400 if a body changes the key of an [`Id::Key`] record.
    fn check_key_kept(spec: &Spec, id: &str, body: &Record) -> Result<(), Fail> {
        if let Id::Key(field) = spec.id {
            if body
                .get(field)
                .is_some_and(|v| !v.is_null() && key_text(Some(v)).as_deref() != Some(id))
            {
                return Err(Fail::bad_request(format!("{field} cannot be changed")));
            }
        }
        Ok(())
    }

    /// Merge `fields` into a record (a `null` removes that field). The updated record.
    pub(crate) fn patch(
        &mut self,
        spec: &Spec,
        parent: &[&str],
        id: &str,
        fields: Value,
    ) -> Result<Value, Fail> {
        let Value::Object(fields) = fields else {
            return Err(Fail::bad_request("the request body must be a JSON object"));
        };
        Self::check_key_kept(spec, id, &fields)?;
        self.position(spec, parent, id)?;
        self.check_unique(spec, parent, Some(id), &fields)?;
        let record = self.get_mut(spec, parent, id)?;
        for (k, v) in fields {
            if v.is_null() {
                record.remove(&k);
            } else {
                record.insert(k, v);
            }
        }
        Ok(Value::Object(record.clone()))
    }

    /// Replace a record's body fields; the id, parent fields and creation stamp stay.
    pub(crate) fn put(
        &mut self,
        spec: &Spec,
        parent: &[&str],
        id: &str,
        body: Value,
    ) -> Result<Value, Fail> {
        let Value::Object(mut body) = body else {
            return Err(Fail::bad_request("the request body must be a JSON object"));
        };
        body.retain(|_, v| !v.is_null());
        Self::check_key_kept(spec, id, &body)?;
        self.position(spec, parent, id)?;
        self.check_unique(spec, parent, Some(id), &body)?;
        let record = self.get_mut(spec, parent, id)?;
        let kept = [Some(spec.id.field()), spec.created, spec.updated]
            .into_iter()
            .flatten()
            .chain(spec.scope.iter().copied());
        for field in kept {
            if let Some(v) = record.get(field) {
                body.insert(field.into(), v.clone());
            }
        }
        *record = body;
        Ok(Value::Object(record.clone()))
    }

    /// Remove a record and every record scoped under it (a sidecar's listeners go with it).
    /// The removed record.
    pub(crate) fn delete(
        &mut self,
        spec: &Spec,
        parent: &[&str],
        id: &str,
    ) -> Result<Record, Fail> {
        let at = self.position(spec, parent, id)?;
        let c = self
            .collections
            .get_mut(spec.name)
            .ok_or_else(|| not_found(spec.kind, id))?;
        if at >= c.entries.len() {
            return Err(not_found(spec.kind, id));
        }
        let removed = c.entries.remove(at);
        let mut key = removed.parent;
        key.push(removed.id);
        let mut owners = vec![(spec.name, key)];
        while let Some((owner, key)) = owners.pop() {
            for (name, c) in self.collections.iter_mut() {
                if c.owner != Some(owner) {
                    continue;
                }
                let (gone, kept) = std::mem::take(&mut c.entries)
                    .into_iter()
                    .partition(|e| e.parent == key);
                c.entries = kept;
                for e in gone {
                    let mut below = e.parent;
                    below.push(e.id);
                    owners.push((*name, below));
                }
            }
        }
        Ok(removed.record)
    }

    /// One page of the records under `parent`, narrowed by the spec's filters: the list answer
    /// `{"success": true, "<items>": [...], <next key>: ...}`.
    pub(crate) fn page(&self, spec: &Spec, parent: &[&str], q: &Query) -> Result<Value, Fail> {
        self.check_parent(spec, parent)?;
        let Paging {
            style,
            default,
            max,
        } = spec.paging;
        let limit = q.number("limit", default, 1, max)?;
        let after = match q.get(style.param()).map(str::trim) {
            None | Some("") => 0,
            Some(raw) => raw.parse::<u64>().map_err(|_| {
                Fail::bad_request(format!(
                    "{} is not one this API gave out; pass back the {} of the previous page",
                    style.param(),
                    style.answer()
                ))
            })?,
        };
        let wanted: Vec<(Filter, String)> = spec
            .filters
            .iter()
            .filter_map(|f| q.get(f.param).map(|v| (*f, v.trim().to_ascii_lowercase())))
            .collect();
        let mut rest = self.entries(spec).iter().filter(|e| {
            e.n > after
                && same_parent(e, parent)
                && wanted
                    .iter()
                    .all(|(f, v)| matches(f, e.record.get(f.field), v))
        });
        let items: Vec<&Entry> = rest
            .by_ref()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        let mut answer = Map::new();
        answer.insert("success".into(), Value::Bool(true));
        answer.insert(
            spec.items.into(),
            Value::Array(
                items
                    .iter()
                    .map(|e| Value::Object(e.record.clone()))
                    .collect(),
            ),
        );
        if let (Some(last), true) = (items.last(), rest.next().is_some()) {
            answer.insert(style.answer().into(), Value::String(last.n.to_string()));
        }
        Ok(Value::Object(answer))
    }
}

fn matches(f: &Filter, field: Option<&Value>, wanted: &str) -> bool {
    let Some(have) = text(field).map(|t| t.to_ascii_lowercase()) else {
        return false;
    };
    match f.how {
        Match::Equals => have == wanted,
        Match::Prefix => have.starts_with(wanted),
        Match::Contains => have.contains(wanted),
    }
}

/// The generic operations a collection's routes can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET <list path>`: one page.
    List,
    /// `POST <list path>`: 201 and the record.
    Create,
    /// `GET <item path>`.
    Get,
    /// `PATCH <item path>`: merge the given fields.
    Patch,
    /// `PUT <item path>`: replace.
    Put,
    /// `DELETE <item path>`: 204.
    Delete,
}

impl Op {
    /// List, create, get, patch and delete.
    pub const CRUD: &'static [Op] = &[Op::List, Op::Create, Op::Get, Op::Patch, Op::Delete];
}

/// The path values of a request, in order (none for a route without parameters).
#[cfg_attr(not(test), allow(dead_code))]
type Params = Option<Path<Vec<(String, String)>>>;

#[cfg_attr(not(test), allow(dead_code))]
fn values(params: &Params) -> Vec<&str> {
    params
        .as_ref()
        .map(|Path(p)| p.iter().map(|(_, v)| v.as_str()).collect())
        .unwrap_or_default()
}

/// The routes serving `ops` for one collection. `list_path` holds one `{param}` per parent
/// level; `item_path` those plus the id last. Put a custom handler on any other method of
/// these paths with `.route(path, method(handler))` on the result.
#[cfg_attr(not(test), allow(dead_code))] // The domains to come use it.
pub(crate) fn routes(
    spec: &'static Spec,
    list_path: &str,
    item_path: &str,
    ops: &[Op],
) -> Router<Arc<Shared>> {
    let mut list: MethodRouter<Arc<Shared>> = MethodRouter::new();
    let mut item: MethodRouter<Arc<Shared>> = MethodRouter::new();
    let (mut has_list, mut has_item) = (false, false);
    for op in ops {
        match op {
            Op::List => {
                has_list = true;
                list = list.get(
                    move |AxumState(s): AxumState<Arc<Shared>>,
                          p: Params,
                          RawQuery(q): RawQuery| async move {
                        let org = lock(&s.org);
                        let answer = org.store.page(spec, &values(&p), &Query::parse(q))?;
                        Reply::Ok(Json(answer).into_response())
                    },
                );
            }
            Op::Create => {
                has_list = true;
                list = list.post(
                    move |AxumState(s): AxumState<Arc<Shared>>, p: Params, body: Bytes| async move {
                        let b = Body::parse(&body)?;
                        validate(&b.0, spec.fields, Mode::Create)?;
                        let mut org = lock(&s.org);
                        created(org.store.create(spec, &values(&p), Value::Object(b.0))?)
                    },
                );
            }
            Op::Get => {
                has_item = true;
                item = item.get(
                    move |AxumState(s): AxumState<Arc<Shared>>, p: Params| async move {
                        let (parent, id) = split(&p)?;
                        let org = lock(&s.org);
                        ok(Value::Object(org.store.get(spec, &parent, id)?.clone()))
                    },
                );
            }
            Op::Patch => {
                has_item = true;
                item = item.patch(
                    move |AxumState(s): AxumState<Arc<Shared>>, p: Params, body: Bytes| async move {
                        let (parent, id) = split(&p)?;
                        let b = Body::parse(&body)?;
                        validate(&b.0, spec.fields, Mode::Patch)?;
                        let mut org = lock(&s.org);
                        ok(org.store.patch(spec, &parent, id, Value::Object(b.0))?)
                    },
                );
            }
            Op::Put => {
                has_item = true;
                item = item.put(
                    move |AxumState(s): AxumState<Arc<Shared>>, p: Params, body: Bytes| async move {
                        let (parent, id) = split(&p)?;
                        let b = Body::parse(&body)?;
                        validate(&b.0, spec.fields, Mode::Put)?;
                        let mut org = lock(&s.org);
                        ok(org.store.put(spec, &parent, id, Value::Object(b.0))?)
                    },
                );
            }
            Op::Delete => {
                has_item = true;
                item = item.delete(
                    move |AxumState(s): AxumState<Arc<Shared>>, p: Params| async move {
                        let (parent, id) = split(&p)?;
                        lock(&s.org).store.delete(spec, &parent, id)?;
                        Reply::Ok(StatusCode::NO_CONTENT.into_response())
                    },
                );
            }
        }
    }
    let mut router = Router::new();
    if has_list {
        router = router.route(list_path, list);
    }
    if has_item {
        router = router.route(item_path, item);
    }
    router
}

/// The parent key and the id (the last path value).
#[cfg_attr(not(test), allow(dead_code))]
fn split(params: &Params) -> Result<(Vec<&str>, &str), Fail> {
    let mut all = values(params);
    let id = all.pop().ok_or_else(|| {
        Fail::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "sandbox bug: an item route without an id parameter",
        )
    })?;
    Ok((all, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{Org, Seed};
    use axum::body::Body as HttpBody;
    use axum::http::Request;
    use axum::routing::post;
    use hyper::service::Service as _;
    use hyper_util::service::TowerToHyperService;
    use serde_json::json;

    const REPOS: Spec = Spec {
        name: "test.repos",
        kind: "Repo",
        items: "repos",
        id: Id::Key("name"),
        fields: &[
            Field::str("name").required(),
            Field::str("type").required().one_of(&["Oracle", "MySQL"]),
            Field::int("port").range(1, 65535),
            Field::str("description"),
        ],
        filters: &[Filter::equals("repo_type", "type")],
        ..Spec::NEW
    };

    const USERS: Spec = Spec {
        name: "test.users",
        kind: "Repo user",
        items: "users",
        parent: Some(&REPOS),
        scope: &["repo_name"],
        fields: &[
            Field::str("username").required(),
            Field::object("aws_secrets_manager"),
            Field::list("tags").one_of(&["a", "b"]),
            Field::bool("enabled"),
        ],
        unique: &["username"],
        filters: &[Filter::prefix("username_starts_with", "username")],
        paging: Paging::page_token(2, 3),
        ..Spec::NEW
    };

    const COMMENTS: Spec = Spec {
        name: "test.comments",
        kind: "Comment",
        items: "comments",
        parent: Some(&USERS),
        scope: &["repo_name", "user_id"],
        fields: &[Field::str("text").required()],
        paging: Paging::cursor(1, 2),
        ..Spec::NEW
    };

    fn q(raw: &str) -> Query {
        Query::parse(Some(raw.to_string()))
    }

    fn msg<T: std::fmt::Debug>(r: Result<T, Fail>, status: u16) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.status.as_u16(), status, "{}", e.message);
        e.message
    }

    /// Repos ora, my; users alice (and bob, carol, dave under ora).
    fn store() -> Store {
        let mut s = Store::default();
        for (name, kind) in [("ora", "Oracle"), ("my", "MySQL")] {
            s.create(
                &REPOS,
                &[],
                json!({"name": name, "type": kind, "port": 1521}),
            )
            .unwrap();
        }
        for u in ["alice", "bob", "carol", "dave"] {
            s.create(&USERS, &["ora"], json!({"username": u})).unwrap();
        }
        s.create(&USERS, &["my"], json!({"username": "alice"}))
            .unwrap();
        s
    }

    fn ids(page: &Value, items: &str, field: &str) -> Vec<String> {
        page[items]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[field].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn records_keep_creation_order_ids_and_stamps() {
        let s = store();
        let repos = s.list(&REPOS, &[]).unwrap();
        assert_eq!(repos.len(), 2);
        assert_eq!(repos[0]["name"], "ora");
        assert_eq!(repos[1]["name"], "my");
        let users = s.list(&USERS, &["ora"]).unwrap();
        let names: Vec<&str> = users
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["alice", "bob", "carol", "dave"]);
        let alice = users[0];
        assert_eq!(alice["repo_name"], "ora", "the parent key is written in");
        let id = alice["id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "uuid-like: {id}");
        assert!(alice["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(alice["created_at"], alice["updated_at"]);
        assert_eq!(s.get(&USERS, &["ora"], id).unwrap()["username"], "alice");
    }

    #[test]
    fn generated_ids_come_from_the_org_sequence() {
        let mut org = Org::default();
        let first = org.new_uuid();
        org.store
            .create(&REPOS, &[], json!({"name": "r", "type": "Oracle"}))
            .unwrap();
        let user = org
            .store
            .create(&USERS, &["r"], json!({"username": "u"}))
            .unwrap();
        let next = org.new_uuid();
        assert!(first.as_str() < user["id"].as_str().unwrap());
        assert!(user["id"].as_str().unwrap() < next.as_str());
    }

    #[test]
    fn unknown_ids_and_parents_are_404_naming_kind_and_id() {
        let mut s = store();
        assert_eq!(msg(s.get(&REPOS, &[], "pg"), 404), "Repo 'pg' not found");
        assert_eq!(
            msg(s.get(&USERS, &["ora"], "nope"), 404),
            "Repo user 'nope' not found"
        );
        assert_eq!(msg(s.list(&USERS, &["pg"]), 404), "Repo 'pg' not found");
        assert_eq!(
            msg(s.create(&USERS, &["pg"], json!({"username": "x"})), 404),
            "Repo 'pg' not found"
        );
        assert_eq!(
            msg(
                s.create(&COMMENTS, &["ora", "nope"], json!({"text": "x"})),
                404
            ),
            "Repo user 'nope' not found"
        );
        msg(s.delete(&REPOS, &[], "pg"), 404);
        // Deleting a repo deletes its users: a new repo of the same name starts empty.
        s.delete(&REPOS, &[], "my").unwrap();
        s.create(&REPOS, &[], json!({"name": "my", "type": "MySQL"}))
            .unwrap();
        assert!(s.list(&USERS, &["my"]).unwrap().is_empty());
        assert_eq!(s.list(&USERS, &["ora"]).unwrap().len(), 4);
        msg(s.patch(&REPOS, &[], "pg", json!({"port": 1})), 404);
        msg(s.put(&REPOS, &[], "pg", json!({"name": "pg"})), 404);
        // A record is only found under its own parent.
        let alice_ora = s.list(&USERS, &["ora"]).unwrap()[0]["id"].clone();
        msg(s.get(&USERS, &["my"], alice_ora.as_str().unwrap()), 404);
    }

    #[test]
    fn duplicates_are_409() {
        let mut s = store();
        assert_eq!(
            msg(
                s.create(&REPOS, &[], json!({"name": "ora", "type": "Oracle"})),
                409
            ),
            "Repo 'ora' already exists"
        );
        assert_eq!(
            msg(
                s.create(&USERS, &["ora"], json!({"username": "ALICE"})),
                409
            ),
            "A repo user with username 'ALICE' already exists"
        );
        // Unique within one parent only.
        s.create(&USERS, &["my"], json!({"username": "bob"}))
            .unwrap();
        let bob = s.list(&USERS, &["my"]).unwrap()[1]["id"].clone();
        msg(
            s.patch(
                &USERS,
                &["my"],
                bob.as_str().unwrap(),
                json!({"username": "alice"}),
            ),
            409,
        );
        // Renaming to its own name is fine.
        s.patch(
            &USERS,
            &["my"],
            bob.as_str().unwrap(),
            json!({"username": "Bob"}),
        )
        .unwrap();
    }

    #[test]
    fn patch_merges_and_put_replaces() {
        let mut s = store();
        let before = s.get(&REPOS, &[], "ora").unwrap().clone();
        let patched = s
            .patch(
                &REPOS,
                &[],
                "ora",
                json!({"description": "prod", "port": null}),
            )
            .unwrap();
        assert_eq!(patched["description"], "prod");
        assert_eq!(patched["type"], "Oracle", "untouched fields stay");
        assert!(patched.get("port").is_none(), "null removes a field");
        assert_eq!(patched["created_at"], before["created_at"]);

        let put = s
            .put(&REPOS, &[], "ora", json!({"name": "ora", "type": "MySQL"}))
            .unwrap();
        assert_eq!(put["type"], "MySQL");
        assert!(put.get("description").is_none(), "put replaces");
        assert_eq!(put["name"], "ora");
        assert_eq!(put["created_at"], before["created_at"]);
        assert!(put["updated_at"].is_string());
        assert_eq!(
            msg(s.patch(&REPOS, &[], "ora", json!({"name": "pg"})), 400),
            "name cannot be changed"
        );
        assert_eq!(s.get(&REPOS, &[], "ora").unwrap()["type"], "MySQL");

        // Put keeps the parent fields and the generated id.
        let alice = s.list(&USERS, &["ora"]).unwrap()[0]["id"].clone();
        let id = alice.as_str().unwrap();
        let put = s
            .put(&USERS, &["ora"], id, json!({"username": "al"}))
            .unwrap();
        assert_eq!(put["id"], id);
        assert_eq!(put["repo_name"], "ora");
    }

    #[test]
    fn delete_removes_and_paging_survives_it() {
        let mut s = store();
        let first = s.page(&USERS, &["ora"], &q("")).unwrap();
        assert_eq!(ids(&first, "users", "username"), ["alice", "bob"]);
        let token = first["next_page_token"].as_str().unwrap().to_string();
        let bob = s.list(&USERS, &["ora"]).unwrap()[1]["id"].clone();
        s.create(
            &COMMENTS,
            &["ora", bob.as_str().unwrap()],
            json!({"text": "hi"}),
        )
        .unwrap();
        s.delete(&USERS, &["ora"], bob.as_str().unwrap()).unwrap();
        assert!(
            s.entries(&COMMENTS).is_empty(),
            "records under a deleted record go with it"
        );
        msg(s.get(&USERS, &["ora"], bob.as_str().unwrap()), 404);
        let next = s
            .page(&USERS, &["ora"], &q(&format!("page_token={token}")))
            .unwrap();
        assert_eq!(ids(&next, "users", "username"), ["carol", "dave"]);
        assert!(next.get("next_page_token").is_none(), "last page");
    }

    #[test]
    fn contiguous_id_paging() {
        let mut s = Store::default();
        for i in 0..5 {
            s.create(
                &REPOS,
                &[],
                json!({"name": format!("r{i}"), "type": "Oracle"}),
            )
            .unwrap();
        }
        let mut seen = Vec::new();
        let mut query = "limit=2".to_string();
        let mut pages = 0;
        loop {
            let page = s.page(&REPOS, &[], &q(&query)).unwrap();
            pages += 1;
            assert_eq!(page["success"], true);
            seen.extend(ids(&page, "repos", "name"));
            match page.get("contiguous_id").and_then(Value::as_str) {
                Some(next) => query = format!("limit=2&contiguous_id={next}"),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ["r0", "r1", "r2", "r3", "r4"]);
        // Exactly full last page: no next id.
        let all = s.page(&REPOS, &[], &q("limit=5")).unwrap();
        assert!(all.get("contiguous_id").is_none());
        // Default page size and an empty cursor mean the first page.
        assert_eq!(
            ids(
                &s.page(&REPOS, &[], &q("contiguous_id=")).unwrap(),
                "repos",
                "name"
            )
            .len(),
            5
        );
    }

    #[test]
    fn cursor_paging_and_two_level_scopes() {
        let mut s = store();
        let alice = s.list(&USERS, &["ora"]).unwrap()[0]["id"].clone();
        let alice = alice.as_str().unwrap();
        for t in ["one", "two"] {
            s.create(&COMMENTS, &["ora", alice], json!({"text": t}))
                .unwrap();
        }
        let first = s.page(&COMMENTS, &["ora", alice], &q("")).unwrap();
        assert_eq!(ids(&first, "comments", "text"), ["one"]);
        assert_eq!(first["comments"][0]["user_id"], alice);
        assert_eq!(first["comments"][0]["repo_name"], "ora");
        let cursor = first["next_cursor"].as_str().unwrap();
        let last = s
            .page(&COMMENTS, &["ora", alice], &q(&format!("cursor={cursor}")))
            .unwrap();
        assert_eq!(ids(&last, "comments", "text"), ["two"]);
        assert!(last.get("next_cursor").is_none());
        assert!(last.get("cursor").is_none());
    }

    #[test]
    fn bad_limits_and_cursors_are_400() {
        let s = store();
        for bad in ["limit=0", "limit=4", "limit=-1", "limit=x"] {
            assert_eq!(
                msg(s.page(&USERS, &["ora"], &q(bad)), 400),
                "query parameter limit must be a whole number from 1 to 3",
                "{bad}"
            );
        }
        assert!(s.page(&USERS, &["ora"], &q("limit=3")).is_ok());
        assert_eq!(
            msg(s.page(&USERS, &["ora"], &q("page_token=abc")), 400),
            "page_token is not one this API gave out; pass back the next_page_token of the previous page"
        );
        msg(s.page(&REPOS, &[], &q("limit=101")), 400);
        msg(s.page(&COMMENTS, &["ora", "x"], &q("cursor=zz")), 404);
    }

    #[test]
    fn filters_narrow_lists() {
        let mut s = store();
        let page = s.page(&REPOS, &[], &q("repo_type=mysql")).unwrap();
        assert_eq!(ids(&page, "repos", "name"), ["my"]);
        s.create(&USERS, &["ora"], json!({"username": "carla"}))
            .unwrap();
        let page = s
            .page(&USERS, &["ora"], &q("username_starts_with=CAR&limit=3"))
            .unwrap();
        assert_eq!(ids(&page, "users", "username"), ["carol", "carla"]);
    }

    fn check(body: Value, fields: &[Field], mode: Mode) -> Result<(), Fail> {
        let Value::Object(map) = body else {
            panic!("an object")
        };
        validate(&map, fields, mode)
    }

    #[test]
    fn validation_names_the_field_and_the_problem() {
        let f = REPOS.fields;
        assert!(check(
            json!({"name": "a", "type": "Oracle", "port": 1}),
            f,
            Mode::Create
        )
        .is_ok());
        let cases = [
            (json!({"type": "Oracle"}), Mode::Create, "name is required"),
            (
                json!({"name": null, "type": "Oracle"}),
                Mode::Put,
                "name is required",
            ),
            (
                json!({"name": " ", "type": "Oracle"}),
                Mode::Create,
                "name must not be empty",
            ),
            (
                json!({"name": "a", "type": "Postgres"}),
                Mode::Create,
                "type must be one of Oracle, MySQL",
            ),
            (
                json!({"name": "a", "type": "Oracle", "port": 70000}),
                Mode::Create,
                "port must be from 1 to 65535",
            ),
            (
                json!({"port": "5432"}),
                Mode::Patch,
                "port must be a number, not a string",
            ),
            (
                json!({"port": 1.5}),
                Mode::Patch,
                "port must be a whole number",
            ),
            (
                json!({"name": 5}),
                Mode::Patch,
                "name must be a string, not a number",
            ),
            (
                json!({"colour": "red", "port": 1}),
                Mode::Patch,
                "unknown field(s): colour; allowed: name, type, port, description",
            ),
            (
                json!({}),
                Mode::Patch,
                "nothing to update; give at least one of name, type, port, description",
            ),
        ];
        for (body, mode, want) in cases {
            assert_eq!(msg(check(body.clone(), f, mode), 400), want, "{body}");
        }
        // Patch needs nothing in particular; an optional string may be empty.
        assert!(check(json!({"description": ""}), f, Mode::Patch).is_ok());

        let u = USERS.fields;
        let cases = [
            (
                json!({"username": "a", "enabled": "yes"}),
                "enabled must be true or false, not a string",
            ),
            (
                json!({"username": "a", "aws_secrets_manager": []}),
                "aws_secrets_manager must be an object, not an array",
            ),
            (
                json!({"username": "a", "tags": "a"}),
                "tags must be a list, not a string",
            ),
            (
                json!({"username": "a", "tags": ["a", "c"]}),
                "tags must be one of a, b",
            ),
            (
                json!({"username": "a", "tags": [1]}),
                "tags must list strings, one of a, b",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(
                msg(check(body.clone(), u, Mode::Create), 400),
                want,
                "{body}"
            );
        }
        assert!(check(
            json!({"username": "a", "tags": ["b"], "enabled": false, "aws_secrets_manager": {}}),
            u,
            Mode::Create
        )
        .is_ok());
    }

    /// A sandbox router holding the test collections, with a custom handler beside the generic
    /// ones on the same path.
    fn app() -> TowerToHyperService<Router> {
        let shared = Arc::new(Shared::new(Seed::Empty));
        let router = Router::new()
            .merge(routes(&REPOS, "/t/repos", "/t/repos/{repo_name}", Op::CRUD))
            .merge(routes(
                &USERS,
                "/t/repos/{repo_name}/users",
                "/t/repos/{repo_name}/users/{id}",
                &[Op::List, Op::Create, Op::Get, Op::Put, Op::Delete],
            ))
            .route(
                "/t/repos/{repo_name}/users/{id}",
                axum::routing::patch(|| async { (StatusCode::ACCEPTED, "custom") }),
            )
            .route("/t/repos/{repo_name}", post(|| async { "custom post" }))
            .with_state(shared);
        TowerToHyperService::new(router)
    }

    async fn send(
        app: &TowerToHyperService<Router>,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(HttpBody::from(body.to_string()))
            .unwrap();
        let resp = app.call(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn generic_handlers_serve_a_collection() {
        let app = app();
        let (status, body) = send(
            &app,
            "POST",
            "/t/repos",
            r#"{"name":"ora db","type":"Oracle"}"#,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["data"]["name"], "ora db");
        let (status, body) = send(
            &app,
            "POST",
            "/t/repos",
            r#"{"name":"ora db","type":"Oracle"}"#,
        )
        .await;
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (409, "Repo 'ora db' already exists")
        );
        let (status, body) = send(&app, "POST", "/t/repos", r#"{"name":"x","type":"DB2"}"#).await;
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (400, "type must be one of Oracle, MySQL")
        );
        let (status, _) = send(&app, "POST", "/t/repos", "").await;
        assert_eq!(status, 400);

        let (status, body) = send(&app, "GET", "/t/repos/ora%20db", "").await;
        assert_eq!((status, &body["data"]["type"]), (200, &json!("Oracle")));
        let (status, body) = send(&app, "PATCH", "/t/repos/ora%20db", r#"{"port":1521}"#).await;
        assert_eq!((status, &body["data"]["port"]), (200, &json!(1521)));
        let (status, body) = send(&app, "PATCH", "/t/repos/ora%20db", "{}").await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = send(&app, "GET", "/t/repos?limit=1", "").await;
        assert_eq!(status, 200);
        assert_eq!(body["success"], true);
        assert_eq!(body["repos"].as_array().unwrap().len(), 1);
        assert!(body.get("contiguous_id").is_none());
        let (status, _) = send(&app, "GET", "/t/repos?limit=0", "").await;
        assert_eq!(status, 400);

        // Scoped: users under the repo; the parent must exist.
        let (status, body) = send(
            &app,
            "POST",
            "/t/repos/ora%20db/users",
            r#"{"username":"alice"}"#,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["data"]["repo_name"], "ora db");
        let id = body["data"]["id"].as_str().unwrap().to_string();
        let (status, body) =
            send(&app, "POST", "/t/repos/pg/users", r#"{"username":"alice"}"#).await;
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (404, "Repo 'pg' not found")
        );
        let (status, body) = send(&app, "GET", "/t/repos/ora%20db/users", "").await;
        assert_eq!(
            (status, ids(&body, "users", "username")),
            (200, vec!["alice".to_string()])
        );
        let (status, body) = send(
            &app,
            "PUT",
            &format!("/t/repos/ora%20db/users/{id}"),
            r#"{"username":"al"}"#,
        )
        .await;
        assert_eq!((status, &body["data"]["username"]), (200, &json!("al")));
        let (status, _) = send(
            &app,
            "PUT",
            &format!("/t/repos/ora%20db/users/{id}"),
            r#"{"enabled":true}"#,
        )
        .await;
        assert_eq!(status, 400, "put needs the required fields");

        // Custom handlers sit beside the generic ones.
        let (status, _) = send(
            &app,
            "PATCH",
            &format!("/t/repos/ora%20db/users/{id}"),
            "{}",
        )
        .await;
        assert_eq!(status, 202);
        let (status, _) = send(&app, "POST", "/t/repos/ora%20db", "").await;
        assert_eq!(status, 200);

        let (status, body) =
            send(&app, "DELETE", &format!("/t/repos/ora%20db/users/{id}"), "").await;
        assert_eq!((status, body), (204, Value::Null));
        let (status, body) = send(&app, "GET", &format!("/t/repos/ora%20db/users/{id}"), "").await;
        assert_eq!(status, 404);
        assert_eq!(body["message"], format!("Repo user '{id}' not found"));
        let (status, _) = send(&app, "DELETE", "/t/repos/ora%20db", "").await;
        assert_eq!(status, 204);
        let (status, _) = send(&app, "GET", "/t/repos/ora%20db", "").await;
        assert_eq!(status, 404);
    }
}
