//! Telemetry: the running instances of sidecars and agents (health, throughput) and the
//! telemetry of agent tasks, from ALTR's sidecar control plane.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::params::{ContiguousId, Limit, Name};
use super::{Effect, ToolDef, Toolset};
use crate::client::{Method, Service::ScControl};

pub static SET: Toolset = Toolset {
    id: "telemetry",
    title: "Telemetry",
    description: "Running sidecar and agent instances (health, throughput, query counts) and agent task telemetry.",
    in_default: false,
    tools,
};

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
pub struct AgentInstance {
    /// Agent id (from list_sc_agents).
    pub agent_id: Name,
    /// Instance id (from get_agent_instances).
    pub instance_id: Name,
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
pub struct SidecarInstance {
    /// Sidecar id (from list_sc_sidecars).
    pub sidecar_id: Name,
    /// Instance id (from get_sidecar_instances).
    pub instance_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskId {
    /// Agent task id (from list_sc_agent_tasks).
    pub task_id: Name,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("get_agent_instances", "List an agent's instances", Effect::ReadOnly)
            .description("List the running instances of an agent with their health and last check-in, one page at a time (pass contiguous_id back for the next page).")
            .request::<AgentPage>(Method::GET, ScControl, "/v1/agents/{agent_id}/instances"),
        SET.tool("get_agent_instance", "Get an agent instance", Effect::ReadOnly)
            .description("Get one running instance of an agent: version, health, host and last check-in.")
            .request::<AgentInstance>(Method::GET, ScControl, "/v1/agents/{agent_id}/instances/{instance_id}"),
        SET.tool("disconnect_agent_instance", "Disconnect an agent instance", Effect::Destructive)
            .description("Remove a running instance from an agent (e.g. a host that was shut down); the agent and its other instances stay.")
            .request::<AgentInstance>(Method::DELETE, ScControl, "/v1/agents/{agent_id}/instances/{instance_id}"),
        SET.tool("get_agent_task_telemetry", "List an agent's task telemetry", Effect::ReadOnly)
            .description("List the telemetry of an agent's tasks (runs, status, rows scanned), one page at a time. For one task use get_task_telemetry.")
            .request::<AgentPage>(Method::GET, ScControl, "/v1/agents/{agent_id}/task-telemetry"),
        SET.tool("get_sidecar_instances", "List a sidecar's instances", Effect::ReadOnly)
            .description("List the running instances of a sidecar with their health, throughput and query counts, one page at a time (pass contiguous_id back for the next page).")
            .request::<SidecarPage>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/instances"),
        SET.tool("get_sidecar_instance", "Get a sidecar instance", Effect::ReadOnly)
            .description("Get one running instance of a sidecar: version, health, connections, throughput and query counts.")
            .request::<SidecarInstance>(Method::GET, ScControl, "/v1/sidecars/{sidecar_id}/instances/{instance_id}"),
        SET.tool("disconnect_sidecar_instance", "Disconnect a sidecar instance", Effect::Destructive)
            .description("Remove a running instance from a sidecar (e.g. a stale container); the sidecar, its listeners and bindings stay.")
            .request::<SidecarInstance>(Method::DELETE, ScControl, "/v1/sidecars/{sidecar_id}/instances/{instance_id}"),
        SET.tool("get_task_telemetry", "Get a task's telemetry", Effect::ReadOnly)
            .description("Get the telemetry of one agent task (runs, status, rows scanned, errors); task_id from list_sc_agent_tasks.")
            .request::<TaskId>(Method::GET, ScControl, "/v1/tasks/{task_id}/task-telemetry"),
        SET.tool("delete_task_telemetry", "Delete a task's telemetry", Effect::Destructive)
            .description("Delete the recorded telemetry of one agent task; the task itself stays and records new runs.")
            .request::<TaskId>(Method::DELETE, ScControl, "/v1/tasks/{task_id}/task-telemetry"),
    ]
}
