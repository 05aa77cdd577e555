//! Databases: the Snowflake, Databricks and OLTP connections registered in ALTR.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client::{ApiRequest, Method, Service::AltrNet, Service::ServiceUser};
use crate::registry::args::{object_without_nulls, NoParams};
use crate::registry::params::{Id, Port};
use crate::registry::{Ctx, Effect, ToolDef, ToolError, Toolset};

pub static SET: Toolset = Toolset {
    id: "databases",
    title: "Databases",
    description: "Database connections registered in ALTR (Snowflake, Databricks, OLTP) and the Snowflake service users they connect with.",
    in_default: true,
    tools,
};

// Parameters without a `///` doc have no description in tools/list, where their tool's
// description names them; each carries a doc-only long form (`#[schemars(extend("x-doc" = ...))]`)
// that the reference, `docs/index.md`, shows. Parameters many tools share (`limit` and the page
// cursors) are documented once instead (`registry::args::SHARED_PARAMETERS`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseName {
    #[schemars(extend("x-doc" = "The database's friendly name in ALTR (friendlyDatabaseName in get_databases), not its name in the platform. An exact match is preferred, then one that differs only in letter case."))]
    pub database_name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatabase {
    #[schemars(extend("x-doc" = "The name ALTR shows for the new connection; other tools (e.g. connect_tag, get_database_id) find the database by it."))]
    pub friendly_database_name: String,
    #[schemars(extend("x-doc" = "The platform of the database, sent as databaseType: for Snowflake snowflake_external_functions. Use create_databricks_database for Databricks."))]
    pub database_type: String,
    #[schemars(extend("x-doc" = "The database's real name in its platform, as opposed to the friendly name."))]
    pub database_name: String,
    #[schemars(extend("x-doc" = "The service user ALTR connects as (keypair authentication, preferred for Snowflake), from get_service_users; then no password, hostname or port is needed. Give it or database_username and database_password, not both."))]
    pub service_user_id: Option<String>,
    #[schemars(extend("x-doc" = "The user ALTR connects as with password authentication; required with database_password, refused with service_user_id."))]
    pub database_username: Option<String>,
    #[schemars(extend("x-doc" = "The password of database_username; needs database_username and is refused with service_user_id."))]
    pub database_password: Option<String>,
    #[schemars(extend("x-doc" = "The host name the database is reached at, for password authentication; not sent when omitted."))]
    pub hostname: Option<String>,
    #[schemars(extend("x-doc" = "The TCP port the database listens on, 1-65535, for password authentication; not sent when omitted."))]
    pub database_port: Option<Port>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatabricks {
    #[schemars(extend("x-doc" = "The name ALTR shows for the new Databricks connection; other tools find the database by it."))]
    pub friendly_database_name: String,
    #[schemars(extend("x-doc" = "The Databricks catalog to govern."))]
    pub database_name: String,
    #[schemars(extend("x-doc" = "The Databricks workspace URL, e.g. https://adb-1234567890.azuredatabricks.net."))]
    pub hostname: String,
    #[schemars(extend("x-doc" = "The user ALTR connects as when not using a service user; required with database_password, refused with service_user_id."))]
    pub database_username: Option<String>,
    #[schemars(extend("x-doc" = "The password of database_username; needs database_username and is refused with service_user_id."))]
    pub database_password: Option<String>,
    #[schemars(extend("x-doc" = "The service user ALTR connects as (token authentication, preferred), from get_service_users. Give it or database_username and database_password, not both."))]
    pub service_user_id: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDatabase {
    #[schemars(extend("x-doc" = "The database's numeric id, from get_databases or get_database_id."))]
    pub database_id: Id,
    #[serde(rename(serialize = "friendlyDatabaseName"))]
    #[schemars(extend("x-doc" = "The new name ALTR shows for the connection; unchanged when omitted."))]
    pub friendly_database_name: Option<String>,
    #[serde(rename(serialize = "maxNumberOfConnections"))]
    #[schemars(extend("x-doc" = "The new maximum number of connections ALTR opens to the database; unchanged when omitted."))]
    pub max_number_of_connections: Option<i64>,
    #[serde(rename(serialize = "maxNumberOfBatches"))]
    #[schemars(extend("x-doc" = "The new maximum number of batches; unchanged when omitted."))]
    pub max_number_of_batches: Option<i64>,
    #[serde(rename(serialize = "serviceUserID"))]
    #[schemars(extend("x-doc" = "The service user ALTR connects as from now on, from get_service_users; unchanged when omitted."))]
    pub service_user_id: Option<String>,
    #[serde(rename(serialize = "connectionString"))]
    #[schemars(extend("x-doc" = "The new connection string of the database; unchanged when omitted."))]
    pub connection_string: Option<String>,
    #[serde(rename(serialize = "databasePassword"))]
    #[schemars(extend("x-doc" = "The new password ALTR connects with; unchanged when omitted."))]
    pub database_password: Option<String>,
    #[serde(rename(serialize = "databaseUsername"))]
    #[schemars(extend("x-doc" = "The new user ALTR connects as; unchanged when omitted."))]
    pub database_username: Option<String>,
    #[serde(rename(serialize = "snowflakeRole"))]
    #[schemars(extend("x-doc" = "The Snowflake role ALTR uses on this connection; unchanged when omitted."))]
    pub snowflake_role: Option<String>,
    #[serde(rename(serialize = "warehouseName"))]
    #[schemars(extend("x-doc" = "The Snowflake warehouse ALTR uses on this connection; unchanged when omitted."))]
    pub warehouse_name: Option<String>,
    #[serde(rename(serialize = "shouldClassify"))]
    #[schemars(extend("x-doc" = "true turns classification of the database on, false off; unchanged when omitted."))]
    pub should_classify: Option<bool>,
    #[serde(rename(serialize = "dataUsageHistory"))]
    #[schemars(extend("x-doc" = "true turns the connection's data usage history setting on, false off; unchanged when omitted."))]
    pub data_usage_history: Option<bool>,
    #[serde(rename(serialize = "classificationType"))]
    #[schemars(extend("x-doc" = "The connection's new classification type, sent as classificationType (the accepted values are not documented); unchanged when omitted."))]
    pub classification_type: Option<String>,
    #[schemars(extend("x-doc" = "true reruns the connection's setup in ALTR; omit or false to leave it."))]
    pub reinvoke: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseId {
    #[schemars(extend("x-doc" = "The database's numeric id, from get_databases or get_database_id."))]
    pub database_id: Id,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disconnect {
    #[schemars(extend("x-doc" = "The numeric id of the database to disconnect, from get_databases or get_database_id."))]
    pub database_id: Id,
    #[serde(
        default,
        rename(serialize = "ignoreErrors"),
        skip_serializing_if = "is_false"
    )]
    #[schemars(extend("x-doc" = "true removes the connection even if clean-up fails (sent as ignoreErrors=true); default false."))]
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
            .description("All database connections: id, friendly name, type, status.")
            .request::<NoParams>(Method::GET, AltrNet, "/api/databases"),
        SET.tool("get_database_id", "Find database", Effect::ReadOnly)
            .description("database_id and record for friendly database_name.")
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
        SET.tool("get_service_users", "List service users", Effect::ReadOnly)
            .description("Snowflake service users (service_user_id values).")
            .request::<NoParams>(Method::GET, ServiceUser, "/v1/services/snowflake/users"),
        SET.tool("create_database", "Connect database", Effect::Additive)
            .description("Register a connection: friendly_database_name, real database_name, database_type (Snowflake: snowflake_external_functions); service_user_id (keypair, preferred) or database_username+database_password with hostname, database_port.")
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
        SET.tool("create_databricks_database", "Connect Databricks", Effect::Additive)
            .description("Register Databricks workspace hostname (https://adb-N.azuredatabricks.net), catalog database_name, friendly_database_name; service_user_id (token auth) or database_username+database_password, not both.")
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
        SET.tool("update_database", "Update database", Effect::Idempotent)
            .description("Set database_id's friendly_database_name, database_username, database_password, service_user_id, connection_string, snowflake_role, warehouse_name, max_number_of_connections, max_number_of_batches, should_classify, data_usage_history, classification_type; reinvoke reruns setup. Refuses empty updates.")
            .require_change()
            .request::<UpdateDatabase>(Method::PATCH, AltrNet, "/api/databases/{database_id}"),
        SET.tool("trigger_database_status_sync", "Re-check database", Effect::Additive)
            .description("Re-check database_id's connection; status is in progress until done.")
            .request::<DatabaseId>(Method::PATCH, AltrNet, "/api/databases/{database_id}/status"),
        SET.tool("disconnect_database", "Disconnect database", Effect::Destructive)
            .formerly(&["delete_database"])
            .description("Remove database_id and its governance; ignore_errors: even if clean-up fails.")
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
