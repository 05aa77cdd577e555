//! Sidecar configuration: agents and their tasks, repositories (the databases a sidecar fronts)
//! with their users and service users, sidecars with their listeners (ports), and the bindings
//! that route a sidecar port to a repository. All on ALTR's sidecar control plane.

use std::borrow::Cow;
use std::fmt::Display;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::args::JsonOr;
use super::params::{ContiguousId, Limit, Name, Port};
use super::{Ctx, Effect, ToolDef, ToolError, ToolResult, Toolset};
use crate::client::{path, seg, ApiRequest, Method, Service::ScControl};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "sidecars",
    title: "Sidecar Configuration",
    description: "Sidecar configuration: agents and tasks, repositories with users and service users, sidecars, listeners and repository bindings.",
    in_default: false,
    tools,
};

wire_enum! {
    /// The kind of an agent.
    pub enum AgentType { Sis = "SIS", Classifier = "CLASSIFIER" }
}

wire_enum! {
    /// The database engine of a repository.
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
            {"type": "string", "description": "the same values as comma-separated text"}
        ]})
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAgents {
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
    /// Only agents of this type.
    #[serde(rename(serialize = "type"))]
    pub agent_type: Option<AgentType>,
    /// Only agents whose name starts with this text.
    pub name_starts_with: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    /// Agent type: SIS (sidecar integration) or CLASSIFIER.
    #[serde(rename(serialize = "type"))]
    pub agent_type: AgentType,
    /// Agent name, unique in the org.
    pub name: Name,
    /// Free-text description.
    pub description: Option<String>,
    /// First public key (PEM) the agent authenticates with.
    pub public_key_1: Option<String>,
    /// Second public key (PEM), for key rotation.
    pub public_key_2: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentId {
    /// Agent id (from list_sc_agents).
    pub agent_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    /// Agent id (from list_sc_agents).
    pub agent_id: Name,
    /// New name.
    pub name: Option<Name>,
    /// New description.
    pub description: Option<String>,
    /// New first public key (PEM).
    pub public_key_1: Option<String>,
    /// New second public key (PEM).
    pub public_key_2: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPage {
    /// Agent id (from list_sc_agents).
    pub agent_id: Name,
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentTask {
    /// Agent id (from list_sc_agents).
    pub agent_id: Name,
    /// Task name.
    pub name: Name,
    /// Repository the task works on (from list_sc_repos).
    pub repo_name: Name,
    /// Task configuration, an object (or its JSON text), e.g. what to scan.
    pub configuration: Object,
    /// Schedule, an object (or its JSON text), e.g. {"type": "cron", "expression": "0 2 * * *"}.
    pub schedule: Object,
    /// Free-text description.
    pub description: Option<String>,
    /// Service user the task connects as (from list_sc_service_users).
    pub service_user: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentTask {
    /// Agent id (from list_sc_agents).
    pub agent_id: Name,
    /// Task id (from list_sc_agent_tasks).
    pub task_id: Name,
    /// New name.
    pub name: Option<Name>,
    /// New description.
    pub description: Option<String>,
    /// New configuration, an object (or its JSON text).
    pub configuration: Option<Object>,
    /// New schedule, an object (or its JSON text).
    pub schedule: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentTask {
    /// Agent id (from list_sc_agents).
    pub agent_id: Name,
    /// Task id (from list_sc_agent_tasks).
    pub task_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRepos {
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
    /// Only repositories of this database engine.
    pub repo_type: Option<RepoType>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepo {
    /// Repository name, unique in the org; used as repo_name by the other tools.
    pub name: Name,
    /// Database engine.
    #[serde(rename(serialize = "type"))]
    pub repo_type: RepoType,
    /// Host name of the database the sidecar forwards to.
    pub hostname: Name,
    /// Port of the database, 1-65535.
    pub port: Port,
    /// Free-text description.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoName {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepo {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// New description (the only field a repository lets you change).
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoPage {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepoUser {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// Database username.
    pub username: Name,
    /// Where the password lives in AWS Secrets Manager, e.g. {"secret_arn": "...", "region": "us-east-1"}; exactly one of this or azure_key_vault.
    pub aws_secrets_manager: Option<Object>,
    /// Where the password lives in Azure Key Vault, e.g. {"vault_url": "...", "secret_name": "..."}; exactly one of this or aws_secrets_manager.
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoUser {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// Database username.
    pub username: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepoUser {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// Database username.
    pub username: Name,
    /// Move the password to this AWS Secrets Manager location (not with azure_key_vault).
    pub aws_secrets_manager: Option<Object>,
    /// Move the password to this Azure Key Vault location (not with aws_secrets_manager).
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListServiceUsers {
    /// Repository name; without it, the service users of every repository are listed.
    pub repo_name: Option<Name>,
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
    /// Only usernames starting with this text (needs repo_name).
    pub username_starts_with: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceUser {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// Database username of the service user.
    pub username: Name,
    /// What the service user is for, e.g. `classification`.
    pub resource: Name,
    /// Where the password lives in AWS Secrets Manager; exactly one of this or azure_key_vault.
    pub aws_secrets_manager: Option<Object>,
    /// Where the password lives in Azure Key Vault; exactly one of this or aws_secrets_manager.
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceUser {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// Database username of the service user.
    pub username: Name,
    /// New resource.
    pub resource: Option<Name>,
    /// Move the password to this AWS Secrets Manager location (not with azure_key_vault).
    pub aws_secrets_manager: Option<Object>,
    /// Move the password to this Azure Key Vault location (not with aws_secrets_manager).
    pub azure_key_vault: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSidecar {
    /// Sidecar name.
    pub name: Name,
    /// Host name clients reach the sidecar at.
    pub hostname: Name,
    /// Free-text description.
    pub description: Option<String>,
    /// First public key (PEM) the sidecar authenticates with.
    pub public_key_1: Option<String>,
    /// Second public key (PEM), for key rotation.
    pub public_key_2: Option<String>,
    /// Pass queries the sidecar cannot parse through to the database instead of refusing them.
    pub unsupported_query_bypass: Option<bool>,
    /// Stop sending this sidecar's query audits to the ALTR platform.
    pub disable_platform_audits: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarId {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSidecar {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
    /// New name.
    pub name: Option<Name>,
    /// New host name.
    pub hostname: Option<Name>,
    /// New description.
    pub description: Option<String>,
    /// New first public key (PEM).
    pub public_key_1: Option<String>,
    /// New second public key (PEM).
    pub public_key_2: Option<String>,
    /// Pass unparsable queries through to the database.
    pub unsupported_query_bypass: Option<bool>,
    /// Stop sending query audits to the ALTR platform.
    pub disable_platform_audits: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarPage {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterListener {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
    /// Port the sidecar listens on, 1-65535; one listener per port.
    pub port: Port,
    /// Database protocol spoken on the port, e.g. `Postgres`.
    pub database_type: Name,
    /// Database version the sidecar advertises to clients.
    pub advertised_version: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
    /// Listener port (from list_sc_sidecar_listeners).
    pub port: Port,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarBindings {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
    /// Only bindings on these ports (a list or comma-separated text).
    pub ports: Option<CommaList<Port>>,
    /// Only bindings to these repositories (a list or comma-separated text).
    pub repo_names: Option<CommaList<Name>>,
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoBindings {
    /// Repository (from list_sc_repos).
    pub repo_name: Name,
    /// Only bindings on these ports (a list or comma-separated text).
    pub ports: Option<CommaList<Port>>,
    /// Only bindings on these sidecars (a list or comma-separated text).
    pub sidecar_ids: Option<CommaList<Name>>,
    /// Page size (1-1000).
    pub limit: Option<Limit<1000>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
    /// Listener port on that sidecar (from list_sc_sidecar_listeners).
    pub port: Port,
    /// Repository (from list_sc_repos).
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
        None => "/v1/serviceusers".to_string(),
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
            .description("List the org's agents (SIS or CLASSIFIER) with their ids, one page at a time. Start here to find an agent_id.")
            .request::<ListAgents>(Method::GET, ScControl, "/v1/agents"),
        SET.tool("create_sc_agent", "Create an agent", Effect::Additive)
            .description("Register an agent (SIS or CLASSIFIER) with the public keys it authenticates with; returns its agent_id. Then add work with create_sc_agent_task.")
            .request::<CreateAgent>(Method::POST, ScControl, "/v1/agents"),
        SET.tool("get_sc_agent", "Get an agent", Effect::ReadOnly)
            .description("Get one agent's configuration: type, name, description and public keys.")
            .request::<AgentId>(Method::GET, ScControl, "/v1/agents/{agent_id}"),
        SET.tool("update_sc_agent", "Update an agent", Effect::Idempotent)
            .description("Change an agent's name, description or public keys. Only the fields given change; at least one is required.")
            .require_change()
            .request::<UpdateAgent>(Method::PATCH, ScControl, "/v1/agents/{agent_id}"),
        SET.tool("disconnect_sc_agent", "Disconnect an agent", Effect::Destructive)
            .description("Remove an agent and its tasks from ALTR; its instances can no longer connect.")
            .request::<AgentId>(Method::DELETE, ScControl, "/v1/agents/{agent_id}"),
        // Agent tasks.
        SET.tool("list_sc_agent_tasks", "List an agent's tasks", Effect::ReadOnly)
            .description("List the tasks of an agent (repository, configuration, schedule), one page at a time. Their runs show in get_agent_task_telemetry.")
            .request::<AgentPage>(Method::GET, ScControl, "/v1/agents/{agent_id}/tasks"),
        SET.tool("create_sc_agent_task", "Create an agent task", Effect::Additive)
            .description("Give an agent a scheduled task on a repository (create the repository first with create_sc_repo). configuration and schedule are objects or their JSON text.")
            .request::<CreateAgentTask>(Method::POST, ScControl, "/v1/agents/{agent_id}/tasks"),
        SET.tool("update_sc_agent_task", "Update an agent task", Effect::Idempotent)
            .description("Change a task's name, description, configuration or schedule. Only the fields given change; at least one is required.")
            .require_change()
            .request::<UpdateAgentTask>(Method::PATCH, ScControl, "/v1/agents/{agent_id}/tasks/{task_id}"),
        SET.tool("delete_sc_agent_task", "Delete an agent task", Effect::Destructive)
            .description("Delete one task of an agent; it stops running. Its telemetry can be removed with delete_task_telemetry.")
            .request::<AgentTask>(Method::DELETE, ScControl, "/v1/agents/{agent_id}/tasks/{task_id}"),
        // Repositories.
        SET.tool("list_sc_repos", "List repositories", Effect::ReadOnly)
            .description("List the repositories (databases behind sidecars: Oracle, MSSQL, MySQL, Postgres), one page at a time. Start here to find a repo_name.")
            .request::<ListRepos>(Method::GET, ScControl, "/v1/repos"),
        SET.tool("create_sc_repo", "Create a repository", Effect::Additive)
            .description("Register a database (engine, host, port) as a repository; then add its users and service users and bind it to a sidecar listener with create_sc_sidecar_binding.")
            .request::<CreateRepo>(Method::POST, ScControl, "/v1/repos"),
        SET.tool("get_sc_repo", "Get a repository", Effect::ReadOnly)
            .description("Get one repository: engine, host, port and description.")
            .request::<RepoName>(Method::GET, ScControl, "/v1/repos/{repo_name}"),
        SET.tool("update_sc_repo", "Update a repository", Effect::Idempotent)
            .description("Change a repository's description (the only field that can change; to move it, create a new repository).")
            .request::<UpdateRepo>(Method::PATCH, ScControl, "/v1/repos/{repo_name}"),
        SET.tool("disconnect_sc_repo", "Disconnect a repository", Effect::Destructive)
            .description("Remove a repository with its users. Remove its bindings first (list_sc_repo_bindings, disconnect_sc_sidecar_binding).")
            .request::<RepoName>(Method::DELETE, ScControl, "/v1/repos/{repo_name}"),
        // Repository users.
        SET.tool("list_sc_repo_users", "List repository users", Effect::ReadOnly)
            .description("List the database users registered for a repository and where their passwords live, one page at a time.")
            .request::<RepoPage>(Method::GET, ScControl, "/v1/repos/{repo_name}/users"),
        SET.tool("create_sc_repo_user", "Add a repository user", Effect::Additive)
            .description("Register a database user of a repository whose password lives in a secret store: give exactly one of aws_secrets_manager or azure_key_vault (an object or its JSON text).")
            .exactly_one_of(SECRET_BACKENDS)
            .request::<CreateRepoUser>(Method::POST, ScControl, "/v1/repos/{repo_name}/users"),
        SET.tool("get_sc_repo_user", "Get a repository user", Effect::ReadOnly)
            .description("Get one database user of a repository and its secret-store reference.")
            .request::<RepoUser>(Method::GET, ScControl, "/v1/repos/{repo_name}/users/{username}"),
        SET.tool("update_sc_repo_user", "Move a repository user's secret", Effect::Idempotent)
            .description("Point a repository user's password at another secret store location: give one of aws_secrets_manager or azure_key_vault.")
            .require_change()
            .at_most_one_of(SECRET_BACKENDS)
            .request::<UpdateRepoUser>(Method::PATCH, ScControl, "/v1/repos/{repo_name}/users/{username}"),
        SET.tool("disconnect_sc_repo_user", "Remove a repository user", Effect::Destructive)
            .description("Remove a database user from a repository in ALTR (the user in the database and its secret stay).")
            .request::<RepoUser>(Method::DELETE, ScControl, "/v1/repos/{repo_name}/users/{username}"),
        // Service users.
        SET.tool("list_sc_service_users", "List service users", Effect::ReadOnly)
            .description("List the service users of one repository (repo_name; may filter by username_starts_with) or of every repository (no repo_name), one page at a time.")
            .handler(list_service_users),
        SET.tool("create_sc_service_user", "Add a service user", Effect::Additive)
            .description("Register a service user (the account ALTR itself connects with) for a repository: give exactly one of aws_secrets_manager or azure_key_vault for its password.")
            .exactly_one_of(SECRET_BACKENDS)
            .request::<CreateServiceUser>(Method::POST, ScControl, "/v1/repos/{repo_name}/serviceusers"),
        SET.tool("get_sc_service_user", "Get a service user", Effect::ReadOnly)
            .description("Get one service user of a repository: its resource and secret-store reference.")
            .request::<RepoUser>(Method::GET, ScControl, "/v1/repos/{repo_name}/serviceusers/{username}"),
        SET.tool("update_sc_service_user", "Update a service user", Effect::Idempotent)
            .description("Change a service user's resource or move its password to another secret store (at most one of aws_secrets_manager or azure_key_vault). At least one field is required.")
            .require_change()
            .at_most_one_of(SECRET_BACKENDS)
            .request::<UpdateServiceUser>(Method::PATCH, ScControl, "/v1/repos/{repo_name}/serviceusers/{username}"),
        SET.tool("disconnect_sc_service_user", "Remove a service user", Effect::Destructive)
            .description("Remove a service user from a repository; tasks that connect as it will fail until given another.")
            .request::<RepoUser>(Method::DELETE, ScControl, "/v1/repos/{repo_name}/serviceusers/{username}"),
        // Sidecars.
        SET.tool("list_sc_sidecars", "List sidecars", Effect::ReadOnly)
            .description("List the org's sidecars with their ids and host names, one page at a time. Start here to find a sidecar_id.")
            .request::<Page>(Method::GET, ScControl, "/v1/sidecars"),
        SET.tool("create_sc_sidecar", "Create a sidecar", Effect::Additive)
            .description("Register a sidecar (host name, public keys, query-bypass and audit options); returns its sidecar_id. Then open ports with register_sc_sidecar_listener.")
            .request::<CreateSidecar>(Method::POST, ScControl, "/v1/sidecars"),
        SET.tool("get_sc_sidecar", "Get a sidecar", Effect::ReadOnly)
            .description("Get one sidecar's configuration. Its running instances and health are in get_sidecar_instances.")
            .request::<SidecarId>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}"),
        SET.tool("update_sc_sidecar", "Update a sidecar", Effect::Idempotent)
            .description("Change a sidecar's name, host name, description, public keys or options. Only the fields given change; at least one is required.")
            .require_change()
            .request::<UpdateSidecar>(Method::PATCH, ScControl, "/v1/sidecars/{sidecar_id}"),
        SET.tool("disconnect_sc_sidecar", "Disconnect a sidecar", Effect::Destructive)
            .description("Remove a sidecar with its listeners and bindings; clients connected through it lose access.")
            .request::<SidecarId>(Method::DELETE, ScControl, "/v1/sidecars/{sidecar_id}"),
        // Listeners.
        SET.tool("list_sc_sidecar_listeners", "List a sidecar's listeners", Effect::ReadOnly)
            .description("List the ports a sidecar listens on and the database protocol of each, one page at a time.")
            .request::<SidecarPage>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/ports"),
        SET.tool("register_sc_sidecar_listener", "Open a sidecar port", Effect::Additive)
            .description("Make a sidecar listen on a port (1-65535, once per sidecar) for one database protocol; then bind a repository to it with create_sc_sidecar_binding.")
            .request::<RegisterListener>(Method::POST, ScControl, "/v1/sidecars/{sidecar_id}/ports"),
        SET.tool("deregister_sc_sidecar_listener", "Close a sidecar port", Effect::Destructive)
            .description("Stop a sidecar listening on a port; the repository bindings on that port go with it.")
            .request::<Listener>(Method::DELETE, ScControl, "/v1/sidecars/{sidecar_id}/ports/{port}"),
        // Bindings.
        SET.tool("list_sc_sidecar_bindings", "List a sidecar's bindings", Effect::ReadOnly)
            .description("List which repositories a sidecar routes to on which ports; filter by ports and repo_names.")
            .request::<SidecarBindings>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/bindings"),
        SET.tool("list_sc_repo_bindings", "List a repository's bindings", Effect::ReadOnly)
            .description("List which sidecars and ports route to a repository; filter by ports and sidecar_ids.")
            .request::<RepoBindings>(Method::GET, ScControl, "/v1/repos/{repo_name}/bindings"),
        SET.tool("get_sc_sidecar_binding", "Get a binding", Effect::ReadOnly)
            .description("Get the binding of a repository to one port of a sidecar (404 if they are not bound).")
            .request::<Binding>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
        SET.tool("create_sc_sidecar_binding", "Bind a repository to a sidecar port", Effect::Additive)
            .description("Route a sidecar port to a repository, so clients reach the database through the sidecar. The port needs a listener (register_sc_sidecar_listener) and the repository must exist.")
            .request::<Binding>(Method::POST, ScControl, "/v1/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
        SET.tool("disconnect_sc_sidecar_binding", "Unbind a repository from a sidecar port", Effect::Destructive)
            .description("Stop routing a sidecar port to a repository; the listener and the repository stay.")
            .request::<Binding>(Method::DELETE, ScControl, "/v1/sidecars/{sidecar_id}/bindings/ports/{port}/repos/{repo_name}"),
    ]
}
