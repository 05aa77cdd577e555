//! Sidecar configuration: agents and their tasks, repositories (the databases a sidecar fronts)
//! with their users and service users, sidecars with their listeners (ports), and the bindings
//! that route a sidecar port to a repository. All on ALTR's sidecar control plane.

use std::borrow::Cow;
use std::fmt::Display;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::client::{path, seg, ApiRequest, Method, Service::ScControl};
use crate::registry::args::JsonOr;
use crate::registry::params::{ContiguousId, Limit, Name, Port};
use crate::registry::{Ctx, Effect, ToolDef, ToolError, ToolResult, Toolset};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "sidecars",
    title: "Sidecar Configuration",
    description: "Sidecar configuration: agents and tasks, repositories with users and service users, sidecars, listeners and repository bindings.",
    in_default: false,
    tools,
};

wire_enum! {
    pub enum AgentType { Sis = "SIS", Classifier = "CLASSIFIER" }
}

wire_enum! {
    pub enum RepoType { Oracle = "Oracle", Mssql = "MSSQL", Mysql = "MySQL", Postgres = "Postgres" }
}

/// A JSON object, or its JSON text.
type Object = JsonOr<Map<String, Value>>;

/// Several values, given as a list or as comma-separated text; sent as comma-separated text (the
/// API's filter format). Each item is checked as a `T`; an empty list is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct CommaList<T>(pub Vec<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for CommaList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items: Vec<Value> = match Value::deserialize(d)? {
            Value::String(s) => s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_string()))
                .collect(),
            Value::Array(items) => items,
            _ => {
                return Err(serde::de::Error::custom(
                    "must be a list or comma-separated text",
                ))
            }
        };
        if items.is_empty() {
            return Err(serde::de::Error::custom("must list at least one value"));
        }
        items
            .into_iter()
            .map(|v| serde_json::from_value::<T>(v).map_err(serde::de::Error::custom))
            .collect::<Result<Vec<T>, D::Error>>()
            .map(CommaList)
    }
}

impl<T: Display> Serialize for CommaList<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        s.serialize_str(&text.join(","))
    }
}

impl<T: JsonSchema> JsonSchema for CommaList<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("CommaList_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<T>();
        json_schema!({"anyOf": [
            {"type": "array", "items": item, "minItems": 1},
            {"type": "string", "description": "comma-separated"}
        ]})
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAgents {
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
    #[serde(rename(serialize = "type"))]
    #[schemars(extend("x-doc" = "Only agents of this type: SIS or CLASSIFIER (sent as type). Omit for both."))]
    pub agent_type: Option<AgentType>,
    #[schemars(extend("x-doc" = "Only agents whose name starts with this text. Omit for all."))]
    pub name_starts_with: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    #[serde(rename(serialize = "type"))]
    #[schemars(extend("x-doc" = "The agent's type: SIS (sidecar integration) or CLASSIFIER; sent as type."))]
    pub agent_type: AgentType,
    #[schemars(extend("x-doc" = "The new agent's name; it must be unique."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "What the agent is for; not sent when omitted."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "A public key of the agent for mTLS, in PEM format; not sent when omitted."))]
    pub public_key_1: Option<String>,
    #[schemars(extend("x-doc" = "A second public key of the agent, in PEM format (e.g. for key rotation); not sent when omitted."))]
    pub public_key_2: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentId {
    #[schemars(extend("x-doc" = "The agent's id, as list_sc_agents returns it."))]
    pub agent_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    #[schemars(extend("x-doc" = "The agent's id, as list_sc_agents returns it."))]
    pub agent_id: Name,
    #[schemars(extend("x-doc" = "The agent's new name; unchanged when omitted."))]
    pub name: Option<Name>,
    #[schemars(extend("x-doc" = "The agent's new description; unchanged when omitted."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "The agent's new first public key, in PEM format; unchanged when omitted."))]
    pub public_key_1: Option<String>,
    #[schemars(extend("x-doc" = "The agent's new second public key, in PEM format; unchanged when omitted."))]
    pub public_key_2: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPage {
    #[schemars(extend("x-doc" = "The agent's id, as list_sc_agents returns it."))]
    pub agent_id: Name,
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentTask {
    #[schemars(extend("x-doc" = "The id of the agent that runs the task, as list_sc_agents returns it."))]
    pub agent_id: Name,
    #[schemars(extend("x-doc" = "The new task's name."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "The repository the task works on, by its name from list_sc_repos."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The task's settings, as a JSON object or its JSON text; the keys depend on the agent's type (get_sc_agent), never mixed. CLASSIFIER: classification_type (5 ALTR native, 6 GDLP BYOK), sample_strategy (ROWS, METADATA, ROW_COUNT, ROW_PERCENT or COMBINED), collection_name, and optionally condition_types, the scan targets beyond the default (ROW_DATA, METADATA, COLUMN_LOCATION, GDLP, SNOWFLAKE_NATIVE, CONTENT_TYPE, DATA_LENGTH, COLUMN_SIZE, AMAZON_COMPREHEND; needed for METADATA-only scans, AMAZON_COMPREHEND, DATA_LENGTH, COLUMN_SIZE and CONTENT_TYPE), and service_name for Oracle. SIS, by the repository's engine: Oracle optionally initial_audit_timestamp and service_name; MSSQL audit_file_path (required, an absolute path); PostgreSQL audit_file_path and audit_file_type (log, csv or json), optionally log_line_prefix; MySQL table_name or audit_file_path."))]
    pub configuration: Object,
    #[schemars(extend("x-doc" = "When the task runs, as a JSON object or its JSON text: {\"type\": \"CRON\", \"value\": a cron expression, optionally \"max_duration\" (ISO 8601, e.g. PT2H) and \"timezone\" (e.g. America/New_York)}, e.g. {\"type\": \"CRON\", \"value\": \"0 2 * * *\"}."))]
    pub schedule: Object,
    #[schemars(extend("x-doc" = "What the task does; not sent when omitted."))]
    pub description: Option<String>,
    /// SIS: needed for Oracle, MSSQL, MySQL table_name; refused for Postgres, MySQL audit_file_path
    #[schemars(extend("x-doc" = "The repository service user the task connects as (list_sc_service_users). For a SIS agent: required for Oracle, MSSQL and MySQL with table_name; refused for PostgreSQL and MySQL with audit_file_path. Not sent when omitted."))]
    pub service_user: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentTask {
    #[schemars(extend("x-doc" = "The agent's id, as list_sc_agents returns it."))]
    pub agent_id: Name,
    #[schemars(extend("x-doc" = "The task's id, as list_sc_agent_tasks returns it for the agent."))]
    pub task_id: Name,
    #[schemars(extend("x-doc" = "The task's new name; unchanged when omitted."))]
    pub name: Option<Name>,
    #[schemars(extend("x-doc" = "The task's new description; unchanged when omitted."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "The task's new settings, as a JSON object or its JSON text, with the keys create_sc_agent_task describes for the agent's type and the repository's engine; unchanged when omitted."))]
    pub configuration: Option<Object>,
    #[schemars(extend("x-doc" = "The task's new schedule, as a JSON object or its JSON text, e.g. {\"type\": \"CRON\", \"value\": \"0 2 * * *\"}; unchanged when omitted."))]
    pub schedule: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentTask {
    #[schemars(extend("x-doc" = "The agent's id, as list_sc_agents returns it."))]
    pub agent_id: Name,
    #[schemars(extend("x-doc" = "The task's id, as list_sc_agent_tasks returns it for the agent."))]
    pub task_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRepos {
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
    #[schemars(extend("x-doc" = "Only repositories of this database engine: Oracle, MSSQL, MySQL or Postgres. Omit for all."))]
    pub repo_type: Option<RepoType>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepo {
    #[schemars(extend("x-doc" = "The repository's name; the other tools call it repo_name."))]
    pub name: Name,
    #[serde(rename(serialize = "type"))]
    #[schemars(extend("x-doc" = "The database engine: Oracle, MSSQL, MySQL or Postgres; sent as type."))]
    pub repo_type: RepoType,
    #[schemars(extend("x-doc" = "The host name the database is reached at."))]
    pub hostname: Name,
    #[schemars(extend("x-doc" = "The TCP port the database listens on, 1-65535."))]
    pub port: Port,
    #[schemars(extend("x-doc" = "What the repository is; not sent when omitted."))]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoName {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepo {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The repository's new description (its only changeable field); required."))]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoPage {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepoUser {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The database user's name to register."))]
    pub username: Name,
    #[schemars(extend("x-doc" = "Where the user's password is kept in AWS Secrets Manager: {\"secrets_path\" (required), \"iam_role\" (optional)}, an object or its JSON text. Give exactly one of aws_secrets_manager and azure_key_vault."))]
    pub aws_secrets_manager: Option<Object>,
    #[schemars(extend("x-doc" = "Where the user's password is kept in Azure Key Vault: {\"key_vault_uri\", \"secret_name\"}, an object or its JSON text. Give exactly one of aws_secrets_manager and azure_key_vault."))]
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoUser {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The user's name: a repository user as list_sc_repo_users returns it (get_sc_repo_user, disconnect_sc_repo_user), or a service user as list_sc_service_users returns it (get_sc_service_user, disconnect_sc_service_user)."))]
    pub username: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepoUser {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The repository user's name, as list_sc_repo_users returns it."))]
    pub username: Name,
    #[schemars(extend("x-doc" = "Move the password to AWS Secrets Manager: {\"secrets_path\" (required), \"iam_role\" (optional)}, an object or its JSON text. At most one of aws_secrets_manager and azure_key_vault."))]
    pub aws_secrets_manager: Option<Object>,
    #[schemars(extend("x-doc" = "Move the password to Azure Key Vault: {\"key_vault_uri\", \"secret_name\"}, an object or its JSON text. At most one of aws_secrets_manager and azure_key_vault."))]
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListServiceUsers {
    #[schemars(extend("x-doc" = "List the service users of this repository (name from list_sc_repos); omitted: the service users of all repositories."))]
    pub repo_name: Option<Name>,
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
    #[schemars(extend("x-doc" = "Only service users whose username starts with this text; needs repo_name (refused without it)."))]
    pub username_starts_with: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceUser {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The database user ALTR connects as."))]
    pub username: Name,
    #[schemars(extend("x-doc" = "What ALTR uses the service user for, e.g. classification."))]
    pub resource: Name,
    #[schemars(extend("x-doc" = "Where the user's password is kept in AWS Secrets Manager: {\"secrets_path\" (required), \"iam_role\" (optional)}, an object or its JSON text. Give exactly one of aws_secrets_manager and azure_key_vault."))]
    pub aws_secrets_manager: Option<Object>,
    #[schemars(extend("x-doc" = "Where the user's password is kept in Azure Key Vault: {\"key_vault_uri\", \"secret_name\"}, an object or its JSON text. Give exactly one of aws_secrets_manager and azure_key_vault."))]
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceUser {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The service user's name, as list_sc_service_users returns it."))]
    pub username: Name,
    #[schemars(extend("x-doc" = "What ALTR uses the service user for from now on, e.g. classification; unchanged when omitted."))]
    pub resource: Option<Name>,
    #[schemars(extend("x-doc" = "Move the password to AWS Secrets Manager: {\"secrets_path\" (required), \"iam_role\" (optional)}, an object or its JSON text. At most one of aws_secrets_manager and azure_key_vault."))]
    pub aws_secrets_manager: Option<Object>,
    #[schemars(extend("x-doc" = "Move the password to Azure Key Vault: {\"key_vault_uri\", \"secret_name\"}, an object or its JSON text. At most one of aws_secrets_manager and azure_key_vault."))]
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSidecar {
    #[schemars(extend("x-doc" = "The new sidecar's name, at most 64 characters."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "The host name clients reach the sidecar at, at most 500 characters."))]
    pub hostname: Name,
    #[schemars(extend("x-doc" = "What the sidecar is for, at most 400 characters; not sent when omitted."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "A public key of the sidecar for mTLS, in PEM format; not sent when omitted."))]
    pub public_key_1: Option<String>,
    #[schemars(extend("x-doc" = "A second public key of the sidecar, in PEM format (e.g. for key rotation); not sent when omitted."))]
    pub public_key_2: Option<String>,
    #[schemars(extend("x-doc" = "true lets queries the sidecar cannot parse pass through; not sent when omitted."))]
    pub unsupported_query_bypass: Option<bool>,
    #[schemars(extend("x-doc" = "true turns off platform audits for this sidecar; not sent when omitted."))]
    pub disable_platform_audits: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarId {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSidecar {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    #[schemars(extend("x-doc" = "The sidecar's new name; unchanged when omitted."))]
    pub name: Option<Name>,
    #[schemars(extend("x-doc" = "The new host name clients reach the sidecar at; unchanged when omitted."))]
    pub hostname: Option<Name>,
    #[schemars(extend("x-doc" = "The sidecar's new description; unchanged when omitted."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "The sidecar's new first public key, in PEM format; unchanged when omitted."))]
    pub public_key_1: Option<String>,
    #[schemars(extend("x-doc" = "The sidecar's new second public key, in PEM format; unchanged when omitted."))]
    pub public_key_2: Option<String>,
    #[schemars(extend("x-doc" = "true lets queries the sidecar cannot parse pass through, false stops that; unchanged when omitted."))]
    pub unsupported_query_bypass: Option<bool>,
    #[schemars(extend("x-doc" = "true turns off platform audits for this sidecar, false turns them on; unchanged when omitted."))]
    pub disable_platform_audits: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarPage {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterListener {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    #[schemars(extend("x-doc" = "The TCP port the sidecar is to listen on, 1-65535; one listener per port."))]
    pub port: Port,
    #[schemars(extend("x-doc" = "The database protocol the listener speaks, e.g. Postgres."))]
    pub database_type: Name,
    #[schemars(extend("x-doc" = "The database version the listener advertises to clients; not sent when omitted."))]
    pub advertised_version: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    #[schemars(extend("x-doc" = "The listener's port, as list_sc_sidecar_listeners returns it."))]
    pub port: Port,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarBindings {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    #[schemars(extend("x-doc" = "Only bindings on these listener ports (1-65535): a list or comma-separated text, sent as comma-separated text."))]
    pub ports: Option<CommaList<Port>>,
    #[schemars(extend("x-doc" = "Only bindings to these repositories (names from list_sc_repos): a list or comma-separated text, sent as comma-separated text."))]
    pub repo_names: Option<CommaList<Name>>,
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoBindings {
    #[schemars(extend("x-doc" = "The repository's name, as list_sc_repos returns it."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "Only bindings on these listener ports (1-65535): a list or comma-separated text, sent as comma-separated text."))]
    pub ports: Option<CommaList<Port>>,
    #[schemars(extend("x-doc" = "Only bindings on these sidecars (ids from list_sc_sidecars): a list or comma-separated text, sent as comma-separated text."))]
    pub sidecar_ids: Option<CommaList<Name>>,
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    #[schemars(extend("x-doc" = "The sidecar listener's port (list_sc_sidecar_listeners), 1-65535."))]
    pub port: Port,
    #[schemars(extend("x-doc" = "The repository bound to the port, by its name from list_sc_repos."))]
    pub repo_name: Name,
}

const SECRET_BACKENDS: &[&str] = &["aws_secrets_manager", "azure_key_vault"];

/// The per-repository listing when repo_name is given, otherwise the org-wide one (which cannot
/// filter by username, so that filter alone is refused rather than dropped).
async fn list_service_users(ctx: Ctx, p: ListServiceUsers) -> ToolResult {
    let at = match &p.repo_name {
        Some(repo) => path("/v1/repos/{}/serviceusers", &[seg("repo_name", repo)])?,
        None if p.username_starts_with.is_some() => {
            return Err(ToolError::invalid(
                "username_starts_with",
                "needs repo_name: only a repository's listing can filter by username",
            ))
        }
        None => "/v1/serviceusers".into(),
    };
    let req = ApiRequest::get(ScControl, at)
        .query_opt("limit", p.limit.map(Limit::get))
        .query_opt("contiguous_id", p.contiguous_id)
        .query_opt("username_starts_with", p.username_starts_with);
    ctx.send(req).await
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        // Agents.
        SET.tool("list_sc_agents", "List agents", Effect::ReadOnly)
            .description("Agents and their agent_id; filter by agent_type, name_starts_with.")
            .request::<ListAgents>(Method::GET, ScControl, "/v1/agents"),
        SET.tool("create_sc_agent", "Create agent", Effect::Additive)
            .description("New agent: agent_type (SIS = sidecar integration), unique name, description, PEM public_key_1, public_key_2. Returns agent_id.")
            .request::<CreateAgent>(Method::POST, ScControl, "/v1/agents"),
        SET.tool("get_sc_agent", "Get agent", Effect::ReadOnly)
            .description("Type, name, description, keys of agent_id.")
            .request::<AgentId>(Method::GET, ScControl, "/v1/agents/{agent_id}"),
        SET.tool("update_sc_agent", "Update agent", Effect::Idempotent)
            .description("Change name, description, public_key_1, public_key_2 of agent_id; refuses empty updates.")
            .require_change()
            .request::<UpdateAgent>(Method::PATCH, ScControl, "/v1/agents/{agent_id}"),
        SET.tool("disconnect_sc_agent", "Disconnect agent", Effect::Destructive)
            .formerly(&["delete_sc_agent"])
            .description("Remove agent_id (needs task_count 0); its instances lose access.")
            .request::<AgentId>(Method::DELETE, ScControl, "/v1/agents/{agent_id}"),
        // Agent tasks.
        SET.tool("list_sc_agent_tasks", "List agent tasks", Effect::ReadOnly)
            .description("Tasks of agent_id: task_id, repo, configuration, schedule.")
            .request::<AgentPage>(Method::GET, ScControl, "/v1/agents/{agent_id}/tasks"),
        SET.tool("create_sc_agent_task", "Create agent task", Effect::Additive)
            .description("Task name, description of agent_id on repo_name. schedule {type: CRON, value: cron, max_duration?: ISO 8601, timezone?}. configuration by agent type (get_sc_agent): CLASSIFIER {classification_type 5|6 (GDLP BYOK), sample_strategy ROWS|METADATA|ROW_COUNT|ROW_PERCENT|COMBINED, collection_name, condition_types?}; SIS by repo: MSSQL {audit_file_path (absolute)}, Postgres {audit_file_path, audit_file_type log|csv|json, log_line_prefix?}, MySQL {table_name or audit_file_path}, Oracle {initial_audit_timestamp?, service_name?}.")
            .request::<CreateAgentTask>(Method::POST, ScControl, "/v1/agents/{agent_id}/tasks"),
        SET.tool("update_sc_agent_task", "Update agent task", Effect::Idempotent)
            .description("Change name, description, configuration, schedule of agent_id's task_id; refuses empty updates.")
            .require_change()
            .request::<UpdateAgentTask>(Method::PATCH, ScControl, "/v1/agents/{agent_id}/tasks/{task_id}"),
        SET.tool("delete_sc_agent_task", "Delete agent task", Effect::Destructive)
            .description("Delete agent_id's task_id; agent and service user task_count drop.")
            .request::<AgentTask>(Method::DELETE, ScControl, "/v1/agents/{agent_id}/tasks/{task_id}"),
        // Repositories.
        SET.tool("list_sc_repos", "List repos", Effect::ReadOnly)
            .description("Repos (databases behind sidecars) and their repo_name; filter by repo_type.")
            .request::<ListRepos>(Method::GET, ScControl, "/v1/repos"),
        SET.tool("create_sc_repo", "Create repo", Effect::Additive)
            .description("Register a database (repo_type, hostname, port, description) as repo name, the repo_name elsewhere.")
            .request::<CreateRepo>(Method::POST, ScControl, "/v1/repos"),
        SET.tool("get_sc_repo", "Get repo", Effect::ReadOnly)
            .description("Engine, host, port, description of repo_name.")
            .request::<RepoName>(Method::GET, ScControl, "/v1/repos/{repo_name}"),
        SET.tool("update_sc_repo", "Update repo", Effect::Idempotent)
            .description("Set description, the only changeable field, of repo_name.")
            .request::<UpdateRepo>(Method::PATCH, ScControl, "/v1/repos/{repo_name}"),
        SET.tool("disconnect_sc_repo", "Disconnect repo", Effect::Destructive)
            .formerly(&["delete_sc_repo"])
            .description("Remove repo_name (needs no users or bindings: remove them first).")
            .request::<RepoName>(Method::DELETE, ScControl, "/v1/repos/{repo_name}"),
        // Repository users.
        SET.tool("list_sc_repo_users", "List repo users", Effect::ReadOnly)
            .description("Database users (username) of repo_name, with their secret stores.")
            .request::<RepoPage>(Method::GET, ScControl, "/v1/repos/{repo_name}/users"),
        SET.tool("create_sc_repo_user", "Add repo user", Effect::Additive)
            .description("Add database username to repo_name, password in one of aws_secrets_manager {secrets_path, iam_role?} or azure_key_vault {key_vault_uri, secret_name}.")
            .exactly_one_of(SECRET_BACKENDS)
            .request::<CreateRepoUser>(Method::POST, ScControl, "/v1/repos/{repo_name}/users"),
        SET.tool("get_sc_repo_user", "Get repo user", Effect::ReadOnly)
            .description("Secret store of repo_name's database username.")
            .request::<RepoUser>(Method::GET, ScControl, "/v1/repos/{repo_name}/users/{username}"),
        SET.tool("update_sc_repo_user", "Move user secret", Effect::Idempotent)
            .description("Move password of repo_name's username to aws_secrets_manager or azure_key_vault.")
            .require_change()
            .at_most_one_of(SECRET_BACKENDS)
            .request::<UpdateRepoUser>(Method::PATCH, ScControl, "/v1/repos/{repo_name}/users/{username}"),
        SET.tool("disconnect_sc_repo_user", "Remove repo user", Effect::Destructive)
            .formerly(&["delete_sc_repo_user"])
            .description("Unregister repo_name's username; database user and secret stay.")
            .request::<RepoUser>(Method::DELETE, ScControl, "/v1/repos/{repo_name}/users/{username}"),
        // Service users.
        SET.tool("list_sc_service_users", "List service users", Effect::ReadOnly)
            .description("Service users (username) of repo_name (filter username_starts_with), else of all repos.")
            .handler(list_service_users),
        SET.tool("create_sc_service_user", "Add service user", Effect::Additive)
            .description("Add username that ALTR connects as to repo_name: resource e.g. classification, password in one of aws_secrets_manager or azure_key_vault (as create_sc_repo_user).")
            .exactly_one_of(SECRET_BACKENDS)
            .request::<CreateServiceUser>(Method::POST, ScControl, "/v1/repos/{repo_name}/serviceusers"),
        SET.tool("get_sc_service_user", "Get service user", Effect::ReadOnly)
            .description("Resource and secret store of repo_name's service username.")
            .request::<RepoUser>(Method::GET, ScControl, "/v1/repos/{repo_name}/serviceusers/{username}"),
        SET.tool("update_sc_service_user", "Update service user", Effect::Idempotent)
            .description("Change resource of repo_name's service username, or move its password to aws_secrets_manager or azure_key_vault; refuses empty updates.")
            .require_change()
            .at_most_one_of(SECRET_BACKENDS)
            .request::<UpdateServiceUser>(Method::PATCH, ScControl, "/v1/repos/{repo_name}/serviceusers/{username}"),
        SET.tool("disconnect_sc_service_user", "Remove service user", Effect::Destructive)
            .formerly(&["delete_sc_service_user"])
            .description("Remove repo_name's service username; tasks using it fail.")
            .request::<RepoUser>(Method::DELETE, ScControl, "/v1/repos/{repo_name}/serviceusers/{username}"),
        // Sidecars.
        SET.tool("list_sc_sidecars", "List sidecars", Effect::ReadOnly)
            .description("Sidecars with their sidecar_id and host name.")
            .request::<Page>(Method::GET, ScControl, "/v1/sidecars"),
        SET.tool("create_sc_sidecar", "Create sidecar", Effect::Additive)
            .description("New sidecar: name, hostname clients reach, description, PEM public_key_1, public_key_2, unsupported_query_bypass (pass unparsable queries), disable_platform_audits. Returns sidecar_id.")
            .request::<CreateSidecar>(Method::POST, ScControl, "/v1/sidecars"),
        SET.tool("get_sc_sidecar", "Get sidecar", Effect::ReadOnly)
            .description("Settings of sidecar_id; health: get_sidecar_instances.")
            .request::<SidecarId>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}"),
        SET.tool("update_sc_sidecar", "Update sidecar", Effect::Idempotent)
            .description("Change name, hostname, description, public_key_1, public_key_2, unsupported_query_bypass, disable_platform_audits of sidecar_id; refuses empty updates.")
            .require_change()
            .request::<UpdateSidecar>(Method::PATCH, ScControl, "/v1/sidecars/{sidecar_id}"),
        SET.tool("disconnect_sc_sidecar", "Disconnect sidecar", Effect::Destructive)
            .formerly(&["delete_sc_sidecar"])
            .description("Remove sidecar_id (needs no listeners); clients lose access.")
            .request::<SidecarId>(Method::DELETE, ScControl, "/v1/sidecars/{sidecar_id}"),
        // Listeners.
        SET.tool("list_sc_sidecar_listeners", "List listeners", Effect::ReadOnly)
            .description("Listener ports of sidecar_id, with database protocols.")
            .request::<SidecarPage>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/ports"),
        SET.tool("register_sc_sidecar_listener", "Open sidecar port", Effect::Additive)
            .description("Make sidecar_id listen on port (once per port) for database_type (e.g. Postgres), advertising advertised_version.")
            .request::<RegisterListener>(Method::POST, ScControl, "/v1/sidecars/{sidecar_id}/ports"),
        SET.tool("deregister_sc_sidecar_listener", "Close sidecar port", Effect::Destructive)
            .description("Close sidecar_id's listener port and its bindings.")
            .request::<Listener>(Method::DELETE, ScControl, "/v1/sidecars/{sidecar_id}/ports/{port}"),
        // Bindings.
        SET.tool("list_sc_sidecar_bindings", "List sidecar bindings", Effect::ReadOnly)
            .description("Repos and ports sidecar_id routes to; filter by ports, repo_names.")
            .request::<SidecarBindings>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/bindings"),
        SET.tool("list_sc_repo_bindings", "List repo bindings", Effect::ReadOnly)
            .description("Sidecars and ports routing to repo_name; filter by ports, sidecar_ids.")
            .request::<RepoBindings>(Method::GET, ScControl, "/v1/repos/{repo_name}/bindings"),
        SET.tool("get_sc_sidecar_binding", "Get binding", Effect::ReadOnly)
            .description("Binding of repo_name to sidecar_id's port; 404 if unbound.")
            .request::<Binding>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
        SET.tool("create_sc_sidecar_binding", "Bind repo to port", Effect::Additive)
            .description("Route sidecar_id's listener port to repo_name, so clients reach it via the sidecar.")
            .request::<Binding>(Method::POST, ScControl, "/v1/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
        SET.tool("disconnect_sc_sidecar_binding", "Unbind repo", Effect::Destructive)
            .formerly(&["delete_sc_sidecar_binding"])
            .description("Stop routing sidecar_id's port to repo_name; listener and repo stay.")
            .request::<Binding>(Method::DELETE, ScControl, "/v1/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
    ]
}
