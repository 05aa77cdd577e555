//! Databases: the Snowflake, Databricks and OLTP connections registered in ALTR.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::args::{object_without_nulls, NoParams};
use super::params::{Id, Port};
use super::{Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::client::{ApiRequest, Method, Service::AltrNet, Service::ServiceUser};

pub static SET: Toolset = Toolset {
    id: "databases",
    title: "Databases",
    description: "Database connections registered in ALTR (Snowflake, Databricks, OLTP) and the Snowflake service users they connect with.",
    in_default: true,
    tools,
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseName {
    /// Friendly database name (from get_databases).
    pub database_name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatabase {
    /// Name to show for this database in ALTR.
    pub friendly_database_name: String,
    /// Database platform, e.g. `snowflake` (use create_databricks_database for Databricks).
    pub database_type: String,
    /// The database's real name on the platform.
    pub database_name: String,
    /// Service user id (from get_service_users) to connect with; replaces username/password.
    pub service_user_id: Option<String>,
    /// Username for password authentication (not with service_user_id).
    pub database_username: Option<String>,
    /// Password for password authentication (not with service_user_id).
    pub database_password: Option<String>,
    /// Host name of the database or account, e.g. `xy12345.snowflakecomputing.com`.
    pub hostname: Option<String>,
    /// Port of the database, 1-65535.
    pub database_port: Option<Port>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatabricks {
    /// Name to show for this workspace in ALTR.
    pub friendly_database_name: String,
    /// The Databricks catalog or database name.
    pub database_name: String,
    /// Workspace host, e.g. `dbc-1234.cloud.databricks.com`.
    pub hostname: String,
    /// Username for password/token authentication (not with service_user_id).
    pub database_username: Option<String>,
    /// Password or personal access token (not with service_user_id).
    pub database_password: Option<String>,
    /// Service user id to connect with; replaces username/password.
    pub service_user_id: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDatabase {
    /// Database id (from get_databases).
    pub database_id: Id,
    /// New display name.
    #[serde(rename(serialize = "friendlyDatabaseName"))]
    pub friendly_database_name: Option<String>,
    /// Most concurrent connections ALTR may open.
    #[serde(rename(serialize = "maxNumberOfConnections"))]
    pub max_number_of_connections: Option<i64>,
    /// Most concurrent classification batches.
    #[serde(rename(serialize = "maxNumberOfBatches"))]
    pub max_number_of_batches: Option<i64>,
    /// Service user id to connect with.
    #[serde(rename(serialize = "serviceUserID"))]
    pub service_user_id: Option<String>,
    /// Full connection string.
    #[serde(rename(serialize = "connectionString"))]
    pub connection_string: Option<String>,
    /// New password for the connection user.
    #[serde(rename(serialize = "databasePassword"))]
    pub database_password: Option<String>,
    /// New connection username.
    #[serde(rename(serialize = "databaseUsername"))]
    pub database_username: Option<String>,
    /// Snowflake role ALTR uses.
    #[serde(rename(serialize = "snowflakeRole"))]
    pub snowflake_role: Option<String>,
    /// Snowflake warehouse ALTR uses.
    #[serde(rename(serialize = "warehouseName"))]
    pub warehouse_name: Option<String>,
    /// Whether ALTR classifies this database.
    #[serde(rename(serialize = "shouldClassify"))]
    pub should_classify: Option<bool>,
    /// Whether ALTR collects data usage history.
    #[serde(rename(serialize = "dataUsageHistory"))]
    pub data_usage_history: Option<bool>,
    /// Classification type to use.
    #[serde(rename(serialize = "classificationType"))]
    pub classification_type: Option<String>,
    /// Re-run the connection setup.
    pub reinvoke: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseId {
    /// Database id (from get_databases).
    pub database_id: Id,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disconnect {
    /// Database id (from get_databases).
    pub database_id: Id,
    /// Disconnect even if clean-up on the database side fails (default false).
    #[serde(
        default,
        rename(serialize = "ignoreErrors"),
        skip_serializing_if = "is_false"
    )]
    pub ignore_errors: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// The database records of a list response, wherever the API put them.
pub fn database_records(body: &Value) -> Vec<Value> {
    body.pointer("/data/databases")
        .or_else(|| body.get("databases"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Password authentication and a service user exclude each other.
fn auth_fields(
    service_user_id: Option<String>,
    username: Option<String>,
    password: Option<String>,
) -> Result<[(&'static str, Value); 3], ToolError> {
    if service_user_id.is_some() && (username.is_some() || password.is_some()) {
        let which = if username.is_some() {
            "database_username"
        } else {
            "database_password"
        };
        return Err(ToolError::invalid(
            which,
            "cannot be combined with service_user_id; use either a service user or username/password",
        ));
    }
    if password.is_some() && username.is_none() {
        return Err(ToolError::invalid(
            "database_username",
            "is required with database_password",
        ));
    }
    Ok([
        ("serviceUserID", json!(service_user_id)),
        ("databaseUsername", json!(username)),
        ("databasePassword", json!(password)),
    ])
}

fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(b), Value::Object(e)) = (base, extra) {
        b.extend(e);
    }
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("get_databases", "List databases", Effect::ReadOnly)
            .description("List every database connection registered in ALTR (Snowflake, Databricks, OLTP) with its numeric id, friendly name, type and status. Start here to find a database_id.")
            .request::<NoParams>(Method::GET, AltrNet, "/api/databases"),
        SET.tool("get_database_id", "Find a database by name", Effect::ReadOnly)
            .description("Look up a database by its friendly name and return its numeric database_id and record. Fails with not_found when no database has that name.")
            .handler(|ctx: Ctx, p: DatabaseName| async move {
                let found = find_database(&ctx, &p.database_name).await?;
                match found {
                    Some(rec) => Ok(json!({"database_id": rec.get("id").cloned().unwrap_or(Value::Null), "database": rec})),
                    None => Err(ToolError::Failed {
                        code: "not_found",
                        message: format!("No database named '{}' in ALTR; call get_databases to see the friendly names.", p.database_name),
                        details: None,
                    }),
                }
            }),
        SET.tool("get_service_users", "List Snowflake service users", Effect::ReadOnly)
            .description("List the Snowflake service users ALTR can connect with; pass one's id as service_user_id to create_database or update_database.")
            .request::<NoParams>(Method::GET, ServiceUser, "/v1/services/snowflake/users"),
        SET.tool("create_database", "Connect a database", Effect::Additive)
            .description("Register a database connection in ALTR. Authenticate with service_user_id (see get_service_users) or with database_username and database_password, not both. For Databricks use create_databricks_database.")
            .handler(|ctx: Ctx, p: CreateDatabase| async move {
                let mut body = json!({
                    "friendlyDatabaseName": p.friendly_database_name,
                    "databaseType": p.database_type,
                    "databaseName": p.database_name,
                });
                merge(&mut body, object_without_nulls(auth_fields(p.service_user_id, p.database_username, p.database_password)?));
                merge(&mut body, object_without_nulls([("hostname", json!(p.hostname)), ("databasePort", json!(p.database_port.map(|p| p.0)))]));
                ctx.send(ApiRequest::post(AltrNet, "/api/databases").json(body)).await
            }),
        SET.tool("create_databricks_database", "Connect a Databricks workspace", Effect::Additive)
            .description("Register a Databricks workspace in ALTR. Authenticate with service_user_id or with database_username and database_password (a token), not both.")
            .handler(|ctx: Ctx, p: CreateDatabricks| async move {
                let mut body = json!({
                    "friendlyDatabaseName": p.friendly_database_name,
                    "databaseType": "databricks",
                    "databaseName": p.database_name,
                    "hostname": p.hostname,
                });
                merge(&mut body, object_without_nulls(auth_fields(p.service_user_id, p.database_username, p.database_password)?));
                ctx.send(ApiRequest::post(AltrNet, "/api/databases").json(body)).await
            }),
        SET.tool("update_database", "Update a database connection", Effect::Idempotent)
            .description("Change settings of a database connection: name, credentials, Snowflake role and warehouse, classification and usage-history options. Only the fields given are changed; at least one is required.")
            .require_change()
            .request::<UpdateDatabase>(Method::PATCH, AltrNet, "/api/databases/{database_id}"),
        SET.tool("trigger_database_status_sync", "Re-check a database's status", Effect::Additive)
            .description("Ask ALTR to re-check a database connection and refresh its status; read it back with get_databases.")
            .request::<DatabaseId>(Method::PATCH, AltrNet, "/api/databases/{database_id}/status"),
        SET.tool("disconnect_database", "Disconnect a database", Effect::Destructive)
            .description("Remove a database connection from ALTR, with its governance. Set ignore_errors to disconnect even if clean-up inside the database fails.")
            .request::<Disconnect>(Method::DELETE, AltrNet, "/api/databases/{database_id}"),
    ]
}

/// The database record with this friendly name (the exact match if the API returns several).
pub async fn find_database(ctx: &Ctx, friendly_name: &str) -> Result<Option<Value>, ToolError> {
    let body = ctx
        .send(
            ApiRequest::get(AltrNet, "/api/databases").query("friendlyDatabaseName", friendly_name),
        )
        .await?;
    let records = database_records(&body);
    let name_of = |r: &Value| {
        r.get("friendlyDatabaseName")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let exact = records
        .iter()
        .find(|r| name_of(r).as_deref() == Some(friendly_name));
    let loose = || {
        records
            .iter()
            .find(|r| name_of(r).is_some_and(|n| n.eq_ignore_ascii_case(friendly_name)))
    };
    // Never fall back to some other record: a tag connected to the wrong database is worse
    // than a clear "not found".
    Ok(exact.or_else(loose).cloned())
}
