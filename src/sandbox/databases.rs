//! Databases (ALTRnet `/api/databases`) and Snowflake service users (service-user
//! `/v1/services/snowflake/users`).
//!
//! List answers are `{"success": true, "data": {"databases": [...]}}`; `friendlyDatabaseName`
//! filters by name (case-insensitive, exact). Passwords and connection strings are stored but
//! never read back. Service users are a plain [`store`](super::store) collection.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::routing::{get, patch};
use axum::Router;
use serde::Serialize;
use serde_json::json;

use super::store::{Id, Spec};
use super::{
    created, lock, now, ok, to_json, Body, Fail, Org, Query, Reply, Seed, Shared, State, ALTRNET,
    SERVICE_USER,
};

/// Database platforms a connection may have. `snowflake_external_functions` is the type ALTR
/// documents for Snowflake; `snowflake` is taken as the same platform.
pub const DATABASE_TYPES: &[&str] = &[
    "snowflake",
    "snowflake_external_functions",
    "databricks",
    "postgresql",
    "mysql",
    "oracle",
    "sqlserver",
];

/// A database connection registered in ALTR.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Database {
    pub id: i64,
    pub friendly_database_name: String,
    pub database_name: String,
    pub database_type: String,
    pub hostname: Option<String>,
    pub database_port: Option<i64>,
    #[serde(rename = "serviceUserID")]
    pub service_user_id: Option<String>,
    pub database_username: Option<String>,
    #[serde(skip)]
    pub database_password: Option<String>,
    #[serde(skip)]
    pub connection_string: Option<String>,
    pub snowflake_role: Option<String>,
    pub warehouse_name: Option<String>,
    pub max_number_of_connections: i64,
    pub max_number_of_batches: i64,
    pub should_classify: bool,
    pub data_usage_history: bool,
    pub classification_type: Option<String>,
    pub status: String,
    pub last_status_sync: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Database {
    /// A connected database with the usual defaults.
    pub fn new(id: i64, friendly: &str, name: &str, kind: &str) -> Self {
        let at = now();
        Self {
            id,
            friendly_database_name: friendly.into(),
            database_name: name.into(),
            database_type: kind.into(),
            hostname: None,
            database_port: None,
            service_user_id: None,
            database_username: None,
            database_password: None,
            connection_string: None,
            snowflake_role: None,
            warehouse_name: None,
            max_number_of_connections: 10,
            max_number_of_batches: 5,
            should_classify: false,
            data_usage_history: false,
            classification_type: None,
            status: "CONNECTED".into(),
            last_status_sync: Some(at.clone()),
            created_at: at.clone(),
            updated_at: at,
        }
    }

    /// The platform: `snowflake` for either Snowflake type, else the type itself.
    pub fn platform(&self) -> &str {
        if self.database_type == "snowflake_external_functions" {
            "snowflake"
        } else {
            &self.database_type
        }
    }
}

/// Snowflake service users ALTR can connect with: `{id, name, account, role, service,
/// createdAt}`.
pub const SERVICE_USERS: Spec = Spec {
    name: "service_users",
    kind: "Service user",
    items: "users",
    id: Id::Key("id"),
    created: Some("createdAt"),
    updated: None,
    ..Spec::NEW
};

/// The id of the seeded service user.
pub const SERVICE_USER_ID: &str = "su-7c1e2a90";

/// Every org has the service user `ALTR_SERVICE_USER`. Demo: "Sales Analytics" (Snowflake
/// `SALES_DB`) and "HR Warehouse" (Snowflake `HR_DB`), both via that service user, and
/// "Lakehouse" (Databricks, catalog `main`).
pub(crate) fn seed(org: &mut Org, seed: Seed) {
    let _ = org.store.create(
        &SERVICE_USERS,
        &[],
        json!({"id": SERVICE_USER_ID, "name": "ALTR_SERVICE_USER", "account": "acme-xy12345",
               "role": "ALTR_SERVICE_ROLE", "service": "snowflake"}),
    );
    if seed != Seed::Demo {
        return;
    }
    let sales = snowflake(1, "Sales Analytics", "SALES_DB", "ANALYTICS_WH");
    let hr = snowflake(2, "HR Warehouse", "HR_DB", "HR_WH");
    let mut lake = Database::new(3, "Lakehouse", "main", "databricks");
    lake.hostname = Some("dbc-a1b2c3d4-e5f6.cloud.databricks.com".into());
    lake.database_username = Some("altr-svc@acme.example".into());
    lake.database_password = Some("sandbox-token".into());
    for db in [sales, hr, lake] {
        org.databases.insert(db.id, db);
    }
    org.next_database_id = 3;
}

fn snowflake(id: i64, friendly: &str, name: &str, warehouse: &str) -> Database {
    let mut db = Database::new(id, friendly, name, "snowflake");
    db.hostname = Some("acme-xy12345.snowflakecomputing.com".into());
    db.service_user_id = Some(SERVICE_USER_ID.into());
    db.snowflake_role = Some("ALTR_SERVICE_ROLE".into());
    db.warehouse_name = Some(warehouse.into());
    db.should_classify = true;
    db.classification_type = Some("altr".into());
    db
}

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .route(&format!("{ALTRNET}/api/databases"), get(list).post(create))
        .route(
            &format!("{ALTRNET}/api/databases/{{id}}"),
            get(read).patch(update).delete(disconnect),
        )
        .route(
            &format!("{ALTRNET}/api/databases/{{id}}/status"),
            patch(status_sync),
        )
        .route(
            &format!("{SERVICE_USER}/v1/services/snowflake/users"),
            get(service_users),
        )
}

/// The numeric id in a path.
pub(crate) fn database_id(raw: &str) -> Result<i64, Fail> {
    raw.trim().parse::<i64>().map_err(|_| {
        Fail::bad_request(format!(
            "database id must be a number (got '{}')",
            raw.chars().take(40).collect::<String>()
        ))
    })
}

fn find(org: &Org, id: i64) -> Result<&Database, Fail> {
    org.databases
        .get(&id)
        .ok_or_else(|| Fail::not_found(format!("Database {id} not found")))
}

fn name_taken(org: &Org, name: &str, except: Option<i64>) -> bool {
    org.databases
        .values()
        .any(|d| Some(d.id) != except && d.friendly_database_name.eq_ignore_ascii_case(name))
}

fn check_service_user(org: &Org, id: &str) -> Result<(), Fail> {
    if org.store.get(&SERVICE_USERS, &[], id).is_ok() {
        Ok(())
    } else {
        Err(Fail::bad_request(format!(
            "serviceUserID '{id}' is not a known service user (list them with get_service_users)"
        )))
    }
}

async fn list(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let org = lock(&s.org);
    let databases: Vec<&Database> = org
        .databases
        .values()
        .filter(|d| {
            q.get("friendlyDatabaseName")
                .is_none_or(|n| d.friendly_database_name.eq_ignore_ascii_case(n.trim()))
        })
        .collect();
    ok(json!({"databases": to_json(&databases), "count": databases.len()}))
}

async fn read(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let id = database_id(&id)?;
    let org = lock(&s.org);
    ok(to_json(find(&org, id)?))
}

const CREATE_FIELDS: &[&str] = &[
    "friendlyDatabaseName",
    "databaseType",
    "databaseName",
    "serviceUserID",
    "databaseUsername",
    "databasePassword",
    "hostname",
    "databasePort",
];

async fn create(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(CREATE_FIELDS)?;
    let friendly = b.string("friendlyDatabaseName")?;
    let kind = b.string("databaseType")?.to_ascii_lowercase();
    let name = b.string("databaseName")?;
    if !DATABASE_TYPES.contains(&kind.as_str()) {
        return Err(Fail::bad_request(format!(
            "databaseType must be one of {}",
            DATABASE_TYPES.join(", ")
        )));
    }
    let service_user = b.opt_string("serviceUserID")?;
    let username = b.opt_string("databaseUsername")?;
    let password = b.opt_string("databasePassword")?;
    let hostname = b.opt_string("hostname")?;
    let port = b.opt_int("databasePort")?;
    match (&service_user, &username, &password) {
        (Some(_), None, None) | (None, Some(_), Some(_)) => {}
        (Some(_), _, _) => {
            return Err(Fail::bad_request(
                "serviceUserID cannot be combined with databaseUsername/databasePassword",
            ))
        }
        _ => {
            return Err(Fail::bad_request(
                "give serviceUserID, or databaseUsername and databasePassword",
            ))
        }
    }
    if kind == "databricks" && hostname.is_none() {
        return Err(Fail::bad_request(
            "hostname is required for a Databricks workspace",
        ));
    }
    if let Some(p) = port {
        if !(1..=65535).contains(&p) {
            return Err(Fail::bad_request("databasePort must be from 1 to 65535"));
        }
    }
    let mut org = lock(&s.org);
    if let Some(id) = &service_user {
        check_service_user(&org, id)?;
    }
    if name_taken(&org, &friendly, None) {
        return Err(Fail::conflict(format!(
            "A database named '{friendly}' already exists"
        )));
    }
    org.next_database_id = org.next_database_id.saturating_add(1);
    let id = org.next_database_id;
    let mut db = Database::new(id, &friendly, &name, &kind);
    db.hostname = hostname;
    db.database_port = port;
    db.service_user_id = service_user;
    db.database_username = username;
    db.database_password = password;
    let out = to_json(&db);
    org.databases.insert(id, db);
    created(out)
}

const UPDATE_FIELDS: &[&str] = &[
    "friendlyDatabaseName",
    "maxNumberOfConnections",
    "maxNumberOfBatches",
    "serviceUserID",
    "connectionString",
    "databasePassword",
    "databaseUsername",
    "snowflakeRole",
    "warehouseName",
    "shouldClassify",
    "dataUsageHistory",
    "classificationType",
    "reinvoke",
];

async fn update(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let id = database_id(&id)?;
    let b = Body::parse(&body)?;
    b.only(UPDATE_FIELDS)?;
    if b.0.is_empty() {
        return Err(Fail::bad_request(format!(
            "nothing to update; give at least one of {}",
            UPDATE_FIELDS.join(", ")
        )));
    }
    let positive = |key: &str| -> Result<Option<i64>, Fail> {
        match b.opt_int(key)? {
            Some(n) if n < 1 => Err(Fail::bad_request(format!("{key} must be at least 1"))),
            other => Ok(other),
        }
    };
    let friendly = b.opt_string("friendlyDatabaseName")?;
    let connections = positive("maxNumberOfConnections")?;
    let batches = positive("maxNumberOfBatches")?;
    let service_user = b.opt_string("serviceUserID")?;
    let connection_string = b.opt_string("connectionString")?;
    let password = b.opt_string("databasePassword")?;
    let username = b.opt_string("databaseUsername")?;
    let role = b.opt_string("snowflakeRole")?;
    let warehouse = b.opt_string("warehouseName")?;
    let classify = b.opt_bool("shouldClassify")?;
    let usage = b.opt_bool("dataUsageHistory")?;
    let classification_type = b.opt_string("classificationType")?;
    let reinvoke = b.opt_bool("reinvoke")?;

    let mut org = lock(&s.org);
    find(&org, id)?;
    if let Some(name) = &friendly {
        if name_taken(&org, name, Some(id)) {
            return Err(Fail::conflict(format!(
                "A database named '{name}' already exists"
            )));
        }
    }
    if let Some(u) = &service_user {
        check_service_user(&org, u)?;
    }
    let Some(db) = org.databases.get_mut(&id) else {
        return Err(Fail::not_found(format!("Database {id} not found")));
    };
    if let Some(v) = friendly {
        db.friendly_database_name = v;
    }
    if let Some(v) = connections {
        db.max_number_of_connections = v;
    }
    if let Some(v) = batches {
        db.max_number_of_batches = v;
    }
    if let Some(v) = service_user {
        db.service_user_id = Some(v);
        db.database_username = None;
        db.database_password = None;
    }
    if connection_string.is_some() {
        db.connection_string = connection_string;
    }
    if password.is_some() {
        db.database_password = password;
    }
    if username.is_some() {
        db.database_username = username;
    }
    if role.is_some() {
        db.snowflake_role = role;
    }
    if warehouse.is_some() {
        db.warehouse_name = warehouse;
    }
    if let Some(v) = classify {
        db.should_classify = v;
    }
    if let Some(v) = usage {
        db.data_usage_history = v;
    }
    if classification_type.is_some() {
        db.classification_type = classification_type;
    }
    db.updated_at = now();
    if reinvoke == Some(true) {
        db.status = "CONNECTED".into();
        db.last_status_sync = Some(db.updated_at.clone());
    }
    ok(to_json(db))
}

async fn status_sync(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let id = database_id(&id)?;
    let mut org = lock(&s.org);
    let Some(db) = org.databases.get_mut(&id) else {
        return Err(Fail::not_found(format!("Database {id} not found")));
    };
    let at = now();
    db.status = "CONNECTED".into();
    db.last_status_sync = Some(at.clone());
    ok(json!({"id": id, "status": db.status, "lastStatusSync": at}))
}

async fn disconnect(AxumState(s): State, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Reply {
    let id = database_id(&id)?;
    let ignore_errors = Query::parse(raw).boolean("ignoreErrors", false)?;
    let mut org = lock(&s.org);
    if org.databases.remove(&id).is_none() {
        return Err(Fail::not_found(format!("Database {id} not found")));
    }
    // Its connected tags go with it.
    let before = org.tags.len();
    org.tags.retain(|_, t| t.database_id != id);
    let tags_disconnected = before - org.tags.len();
    org.catalog.retain(|c| c.database_id != id);
    ok(json!({
        "id": id,
        "status": "DISCONNECTED",
        "ignoreErrors": ignore_errors,
        "tagsDisconnected": tags_disconnected,
    }))
}

async fn service_users(AxumState(s): State) -> Reply {
    let org = lock(&s.org);
    let users = org.store.list(&SERVICE_USERS, &[])?;
    ok(json!({"users": users, "count": users.len()}))
}
