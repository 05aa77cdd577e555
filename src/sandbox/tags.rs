//! Tags (API `/v1/tag/masking...` and `/v1/dis/tags/v2/tags/list`).
//!
//! The org has a catalog of the tags that exist inside its Snowflake databases; connecting one
//! makes it a connected tag with a `tag_group_id`. `GET /v1/tag/masking` pages with `offset` and
//! `limit` and answers `{"items": [...], "has_more": bool}`; the tag-values list pages with
//! `offset` and answers `{"tags": [...], "totals": {"tagCount": n}}`. Connecting answers
//! `{"data": {"status": "SUCCESS"|"FAILED", "job_id": ...}}`; a tag missing from the database
//! gives `FAILED` with an `error_message`, as the connect job does. Disconnecting a tag a TAG
//! policy still names is refused (409), as ALTR does.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::databases::database_id;
use super::{
    field_string, lock, now, ok, page, to_json, type_name, Body, Fail, Org, Query, Reply, Seed,
    Shared, State, API,
};

/// Protection types a tag's masking may have.
pub const PROTECTION_TYPES: &[&str] = &[
    "governed",
    "governed-pushdown",
    "tokenized-vault",
    "encryption-fpe",
];

/// Connected tags per page unless `limit` says otherwise (small, so paging is exercised).
pub const TAG_PAGE: u64 = 2;
/// Tag values per page unless `limit` says otherwise.
pub const VALUE_PAGE: u64 = 4;

/// A tag that exists in a Snowflake database, with its values and how many columns carry each.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogTag {
    pub database_id: i64,
    pub schema_name: String,
    pub tag_name: String,
    pub values: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoleProvider {
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Masking {
    pub protection_type: String,
    pub custom_role_provider: RoleProvider,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask_data_type_list: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_fpe_options: Option<Value>,
}

impl Default for Masking {
    fn default() -> Self {
        Self {
            protection_type: "governed".into(),
            custom_role_provider: RoleProvider { enabled: false },
            mask_data_type_list: None,
            encryption_fpe_options: None,
        }
    }
}

/// A tag connected to ALTR.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tag {
    pub tag_group_id: String,
    pub database_id: i64,
    pub database_name: String,
    pub schema_name: String,
    pub tag_name: String,
    pub friendly_name: String,
    pub masking: Masking,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .route(&format!("{API}/v1/tag/masking"), get(list))
        .route(
            &format!("{API}/v1/tag/masking/"),
            axum::routing::put(connect).delete(disconnect_by_details),
        )
        .route(
            &format!("{API}/v1/tag/masking/tag/{{tag_group_id}}"),
            get(read).put(update).delete(disconnect),
        )
        .route(
            &format!("{API}/v1/tag/masking/database/{{database_id}}/database-name/{{database_name}}/tag-name/{{tag_name}}/schema-name/{{schema_name}}"),
            get(read_by_location),
        )
        .route(&format!("{API}/v1/dis/tags/v2/tags/list"), get(values))
}

fn catalog(database_id: i64, schema: &str, tag: &str, values: &[(&str, u32)]) -> CatalogTag {
    CatalogTag {
        database_id,
        schema_name: schema.into(),
        tag_name: tag.into(),
        values: values.iter().map(|(v, n)| (v.to_string(), *n)).collect(),
    }
}

/// Demo: Snowflake tags `GOVERNANCE.PII_TYPE` and `GOVERNANCE.CONFIDENTIALITY` in SALES_DB
/// (database 1), `GOVERNANCE.PII_TYPE` and `PAYROLL.COMP_BAND` in HR_DB (database 2), all with
/// values; every one connected except COMP_BAND (left for trying connect_tag).
pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    org.catalog = vec![
        catalog(
            1,
            "GOVERNANCE",
            "PII_TYPE",
            &[
                ("EMAIL", 4),
                ("PHONE", 3),
                ("SSN", 1),
                ("NAME", 6),
                ("ADDRESS", 2),
            ],
        ),
        catalog(
            1,
            "GOVERNANCE",
            "CONFIDENTIALITY",
            &[("PUBLIC", 12), ("INTERNAL", 7), ("RESTRICTED", 3)],
        ),
        catalog(
            2,
            "GOVERNANCE",
            "PII_TYPE",
            &[("EMAIL", 2), ("SSN", 2), ("SALARY", 1)],
        ),
        catalog(
            2,
            "PAYROLL",
            "COMP_BAND",
            &[("BAND_1", 1), ("BAND_2", 1), ("BAND_3", 1), ("BAND_4", 1)],
        ),
    ];
    for (db, schema, tag) in [
        (1, "GOVERNANCE", "PII_TYPE"),
        (1, "GOVERNANCE", "CONFIDENTIALITY"),
        (2, "GOVERNANCE", "PII_TYPE"),
    ] {
        // The catalog above holds these tags, so connecting cannot fail.
        let _ = connect_tag(org, db, schema, tag, None, Masking::default());
    }
}

/// Connect a catalog tag (used by the seed as well as by the endpoint). The connected tag's id,
/// or the reason it cannot be connected.
pub(crate) fn connect_tag(
    org: &mut Org,
    database_id: i64,
    schema: &str,
    tag_name: &str,
    friendly_name: Option<&str>,
    masking: Masking,
) -> Result<String, String> {
    let Some(db) = org.databases.get(&database_id) else {
        return Err(format!("Database {database_id} not found"));
    };
    let database_name = db.database_name.clone();
    let Some(found) = org
        .catalog
        .iter()
        .find(|c| {
            c.database_id == database_id
                && c.schema_name.eq_ignore_ascii_case(schema)
                && c.tag_name.eq_ignore_ascii_case(tag_name)
        })
        .cloned()
    else {
        return Err(format!(
            "Tag {}.{} does not exist in database {database_name}, or ALTR's service user cannot see it",
            schema.to_ascii_uppercase(),
            tag_name.to_ascii_uppercase()
        ));
    };
    if let Some(existing) = org.tags.values().find(|t| {
        t.database_id == database_id
            && t.schema_name == found.schema_name
            && t.tag_name == found.tag_name
    }) {
        return Ok(existing.tag_group_id.clone());
    }
    let id = org.new_uuid();
    let at = now();
    org.tags.insert(
        id.clone(),
        Tag {
            tag_group_id: id.clone(),
            database_id,
            database_name,
            schema_name: found.schema_name.clone(),
            tag_name: found.tag_name.clone(),
            friendly_name: friendly_name.unwrap_or(&found.tag_name).to_string(),
            masking,
            status: "CONNECTED".into(),
            created_at: at.clone(),
            updated_at: at,
        },
    );
    Ok(id)
}

/// Read a `masking` object. `protection_type` defaults to governed unless `require_type`.
fn parse_masking(v: Option<&Value>, require_type: bool) -> Result<Masking, Fail> {
    let map = match v {
        None | Some(Value::Null) if !require_type => return Ok(Masking::default()),
        None | Some(Value::Null) => return Err(Fail::bad_request("masking is required")),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Fail::bad_request(format!(
                "masking must be an object, not {}",
                type_name(other)
            )))
        }
    };
    let allowed = [
        "protection_type",
        "custom_role_provider",
        "mask_data_type_list",
        "encryption_fpe_options",
    ];
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Fail::bad_request(format!(
            "unknown field masking.{k}; allowed: {}",
            allowed.join(", ")
        )));
    }
    let protection_type = match field_string("masking.protection_type", map.get("protection_type"))?
    {
        Some(t) => t.to_ascii_lowercase(),
        None if require_type => {
            return Err(Fail::bad_request("masking.protection_type is required"))
        }
        None => "governed".into(),
    };
    if !PROTECTION_TYPES.contains(&protection_type.as_str()) {
        return Err(Fail::bad_request(format!(
            "masking.protection_type must be one of {}",
            PROTECTION_TYPES.join(", ")
        )));
    }
    let enabled = match map.get("custom_role_provider") {
        None | Some(Value::Null) => false,
        Some(Value::Object(p)) => match p.get("enabled") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) if p.len() == 1 => *b,
            _ => {
                return Err(Fail::bad_request(
                    "masking.custom_role_provider must be {\"enabled\": true|false}",
                ))
            }
        },
        Some(_) => {
            return Err(Fail::bad_request(
                "masking.custom_role_provider must be {\"enabled\": true|false}",
            ))
        }
    };
    let mask_data_type_list = match map.get("mask_data_type_list") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut types = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) if !s.trim().is_empty() => types.push(s.to_ascii_uppercase()),
                    _ => {
                        return Err(Fail::bad_request(
                            "masking.mask_data_type_list must be a list of data type names",
                        ))
                    }
                }
            }
            Some(types)
        }
        Some(_) => {
            return Err(Fail::bad_request(
                "masking.mask_data_type_list must be a list of data type names",
            ))
        }
    };
    let encryption_fpe_options = match map.get("encryption_fpe_options") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => {
            if protection_type != "encryption-fpe" {
                return Err(Fail::bad_request(
                    "masking.encryption_fpe_options only applies with protection_type encryption-fpe",
                ));
            }
            check_fpe(o)?;
            Some(Value::Object(o.clone()))
        }
        Some(_) => {
            return Err(Fail::bad_request(
                "masking.encryption_fpe_options must be an object",
            ))
        }
    };
    Ok(Masking {
        protection_type,
        custom_role_provider: RoleProvider { enabled },
        mask_data_type_list,
        encryption_fpe_options,
    })
}

fn check_fpe(o: &Map<String, Value>) -> Result<(), Fail> {
    for (k, v) in o {
        let good = match (k.as_str(), v) {
            ("alphabet", Value::String(a)) => {
                ["numeric", "alphabetic", "alphanumeric"].contains(&a.as_str())
            }
            ("is_padded", Value::Bool(_)) => true,
            ("key_name" | "tweak_name", Value::String(s)) => !s.trim().is_empty(),
            _ => false,
        };
        if !good {
            return Err(Fail::bad_request(format!(
                "masking.encryption_fpe_options.{k} is not valid (alphabet: numeric|alphabetic|alphanumeric, is_padded: boolean, key_name and tweak_name: names)"
            )));
        }
    }
    Ok(())
}

async fn list(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let offset = q.number("offset", 0, 0, u64::from(u32::MAX))?;
    let limit = q.number("limit", TAG_PAGE, 1, 100)?;
    let org = lock(&s.org);
    let all: Vec<&Tag> = org.tags.values().collect();
    let items = page(&all, offset, limit);
    let has_more = offset.saturating_add(items.len() as u64) < all.len() as u64;
    Ok(Json(json!({
        "success": true,
        "items": to_json(&items),
        "has_more": has_more,
        "offset": offset,
        "total": all.len(),
    }))
    .into_response())
}

fn tag_not_found(id: &str) -> Fail {
    Fail::not_found(format!(
        "Tag group '{}' not found",
        id.chars().take(80).collect::<String>()
    ))
}

async fn read(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let org = lock(&s.org);
    let tag = org.tags.get(&id).ok_or_else(|| tag_not_found(&id))?;
    ok(to_json(tag))
}

async fn connect(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&[
        "database_id",
        "database_name",
        "schema_name",
        "tag_name",
        "friendly_name",
        "masking",
    ])?;
    let database_id = b.int("database_id")?;
    let database_name = b.string("database_name")?;
    let schema = b.string("schema_name")?;
    let tag_name = b.string("tag_name")?;
    let friendly = b.opt_string("friendly_name")?;
    let masking = parse_masking(b.0.get("masking"), false)?;
    let mut org = lock(&s.org);
    let db = org
        .databases
        .get(&database_id)
        .ok_or_else(|| Fail::not_found(format!("Database {database_id} not found")))?;
    if db.platform() != "snowflake" {
        return Err(Fail::bad_request(format!(
            "Database {database_id} is a {} database; only Snowflake tags are connected (Databricks tags need no connecting)",
            db.database_type
        )));
    }
    if !db.database_name.eq_ignore_ascii_case(&database_name) {
        return Err(Fail::bad_request(format!(
            "database_name '{database_name}' does not match database {database_id} ({})",
            db.database_name
        )));
    }
    let job_id = org.new_job_id();
    match connect_tag(
        &mut org,
        database_id,
        &schema,
        &tag_name,
        friendly.as_deref(),
        masking,
    ) {
        Ok(id) => ok(json!({
            "status": "SUCCESS",
            "job_id": job_id,
            "tag_group_id": id,
            "tag": org.tags.get(&id).map(to_json),
        })),
        Err(reason) => ok(json!({
            "status": "FAILED",
            "job_id": job_id,
            "error_message": reason,
        })),
    }
}

async fn update(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&["database_id", "friendly_name", "masking"])?;
    let database_id = b.int("database_id")?;
    let friendly = b.string("friendly_name")?;
    let masking = parse_masking(b.0.get("masking"), true)?;
    let mut org = lock(&s.org);
    let tag = org.tags.get_mut(&id).ok_or_else(|| tag_not_found(&id))?;
    if tag.database_id != database_id {
        return Err(Fail::bad_request(format!(
            "database_id {database_id} does not match the tag's database ({})",
            tag.database_id
        )));
    }
    tag.friendly_name = friendly;
    tag.masking = masking;
    tag.updated_at = now();
    ok(to_json(tag))
}

/// 409 while a TAG policy names the tag: ALTR disconnects a tag only once its policies are gone.
fn without_policies(org: &Org, tag_name: &str) -> Result<(), Fail> {
    match org
        .policies
        .values()
        .find(|p| p.policy_type == "TAG" && p.identifier == tag_name)
    {
        Some(p) => Err(Fail::conflict(format!(
            "Tag {tag_name} still has policy {}; delete its policies before disconnecting it",
            p.policy_id
        ))),
        None => Ok(()),
    }
}

async fn disconnect(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    let name = org
        .tags
        .get(&id)
        .ok_or_else(|| tag_not_found(&id))?
        .tag_name
        .clone();
    without_policies(&org, &name)?;
    let tag = org.tags.remove(&id).ok_or_else(|| tag_not_found(&id))?;
    ok(json!({"tag_group_id": tag.tag_group_id, "status": "DISCONNECTED"}))
}

fn find_by_location<'a>(
    org: &'a Org,
    database_id: i64,
    database_name: &str,
    schema: &str,
    tag_name: &str,
) -> Option<&'a Tag> {
    org.tags.values().find(|t| {
        t.database_id == database_id
            && t.database_name.eq_ignore_ascii_case(database_name)
            && t.schema_name.eq_ignore_ascii_case(schema)
            && t.tag_name.eq_ignore_ascii_case(tag_name)
    })
}

async fn read_by_location(
    AxumState(s): State,
    Path((db, database_name, tag_name, schema)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let database_id = database_id(&db)?;
    let q = Query::parse(raw);
    let protection = q.get("protection-type").map(str::to_ascii_lowercase);
    if let Some(p) = &protection {
        if !PROTECTION_TYPES.contains(&p.as_str()) {
            return Err(Fail::bad_request(format!(
                "protection-type must be one of {}",
                PROTECTION_TYPES.join(", ")
            )));
        }
    }
    let org = lock(&s.org);
    let tag = find_by_location(&org, database_id, &database_name, &schema, &tag_name)
        .filter(|t| {
            protection
                .as_deref()
                .is_none_or(|p| t.masking.protection_type == p)
        })
        .ok_or_else(|| {
            Fail::not_found(format!(
                "No connected tag {schema}.{tag_name} in database {database_id} ({database_name})"
            ))
        })?;
    ok(to_json(tag))
}

async fn disconnect_by_details(AxumState(s): State, RawQuery(raw): RawQuery, body: Bytes) -> Reply {
    let ignore_errors = Query::parse(raw).boolean("ignore_errors", false)?;
    let b = Body::parse(&body)?;
    b.only(&["database_id", "database_name", "schema_name", "tag_name"])?;
    let database_id = b.int("database_id")?;
    let database_name = b.string("database_name")?;
    let schema = b.string("schema_name")?;
    let tag_name = b.string("tag_name")?;
    let mut org = lock(&s.org);
    let (id, name) = find_by_location(&org, database_id, &database_name, &schema, &tag_name)
        .map(|t| (t.tag_group_id.clone(), t.tag_name.clone()))
        .ok_or_else(|| {
            Fail::not_found(format!(
                "No connected tag {schema}.{tag_name} in database {database_id} ({database_name})"
            ))
        })?;
    without_policies(&org, &name)?;
    org.tags.remove(&id);
    ok(json!({"tag_group_id": id, "status": "DISCONNECTED", "ignore_errors": ignore_errors}))
}

async fn values(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let offset = q.number("offset", 0, 0, u64::from(u32::MAX))?;
    let limit = q.number("limit", VALUE_PAGE, 1, 100)?;
    let filter = q.get("filter").map(|f| f.trim().to_ascii_lowercase());
    let org = lock(&s.org);
    let mut all: Vec<Value> = Vec::new();
    for c in &org.catalog {
        if filter
            .as_deref()
            .is_some_and(|f| !c.tag_name.to_ascii_lowercase().contains(f))
        {
            continue;
        }
        let Some(db) = org.databases.get(&c.database_id) else {
            continue;
        };
        let connected = org.tags.values().any(|t| {
            t.database_id == c.database_id
                && t.schema_name == c.schema_name
                && t.tag_name == c.tag_name
        });
        for (value, columns) in &c.values {
            all.push(json!({
                "tagName": c.tag_name,
                "tagValue": value,
                "databaseId": c.database_id,
                "databaseName": db.database_name,
                "schemaName": c.schema_name,
                "columnCount": columns,
                "connected": connected,
            }));
        }
    }
    let tags = page(&all, offset, limit);
    Ok(Json(json!({
        "success": true,
        "tags": tags,
        "totals": {"tagCount": all.len()},
    }))
    .into_response())
}
