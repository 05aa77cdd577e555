//! Telemetry: the running instances of sidecars and agents (health, throughput) and the
//! telemetry of agent tasks, from ALTR's sidecar control plane.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::client::{Method, Service::ScControl};
use crate::registry::params::{ContiguousId, Limit, Name};
use crate::registry::{Effect, ToolDef, Toolset};

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
    #[schemars(extend("x-doc" = "The agent's id, as list_sc_agents returns it."))]
    pub agent_id: Name,
    pub limit: Option<Limit<1000>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInstance {
    #[schemars(extend("x-doc" = "The agent's id, as list_sc_agents returns it."))]
    pub agent_id: Name,
    #[schemars(extend("x-doc" = "The id of one running instance of the agent, as get_agent_instances returns it."))]
    pub instance_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarPage {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    pub limit: Option<Limit<1000>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarInstance {
    #[schemars(extend("x-doc" = "The sidecar's id, as list_sc_sidecars returns it."))]
    pub sidecar_id: Name,
    #[schemars(extend("x-doc" = "The id of one running instance of the sidecar, as get_sidecar_instances returns it."))]
    pub instance_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskId {
    #[schemars(extend("x-doc" = "The agent task's id, as list_sc_agent_tasks returns it."))]
    pub task_id: Name,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool(
            "get_agent_instances",
            "List agent instances",
            Effect::ReadOnly,
        )
        .description("Running instances (instance_id) of agent_id, with health.")
        .request::<AgentPage>(Method::GET, ScControl, "/v1/agents/{agent_id}/instances"),
        SET.tool("get_agent_instance", "Get agent instance", Effect::ReadOnly)
            .description("Version, health, host of agent_id's instance_id.")
            .request::<AgentInstance>(
                Method::GET,
                ScControl,
                "/v1/agents/{agent_id}/instances/{instance_id}",
            ),
        SET.tool(
            "disconnect_agent_instance",
            "Drop agent instance",
            Effect::Destructive,
        )
        .formerly(&["delete_agent_instance"])
        .description("Remove agent_id's stale instance_id; agent stays.")
        .request::<AgentInstance>(
            Method::DELETE,
            ScControl,
            "/v1/agents/{agent_id}/instances/{instance_id}",
        ),
        SET.tool(
            "get_agent_task_telemetry",
            "Agent task telemetry",
            Effect::ReadOnly,
        )
        .description("Runs, status, rows scanned of agent_id's tasks.")
        .request::<AgentPage>(
            Method::GET,
            ScControl,
            "/v1/agents/{agent_id}/task-telemetry",
        ),
        SET.tool(
            "get_sidecar_instances",
            "List sidecar instances",
            Effect::ReadOnly,
        )
        .description("Running instances (instance_id) of sidecar_id: health, load.")
        .request::<SidecarPage>(
            Method::GET,
            ScControl,
            "/v1/sidecars/{sidecar_id}/instances",
        ),
        SET.tool(
            "get_sidecar_instance",
            "Get sidecar instance",
            Effect::ReadOnly,
        )
        .description("Health, connections, throughput of sidecar_id's instance_id.")
        .request::<SidecarInstance>(
            Method::GET,
            ScControl,
            "/v1/sidecars/{sidecar_id}/instances/{instance_id}",
        ),
        SET.tool(
            "disconnect_sidecar_instance",
            "Drop sidecar instance",
            Effect::Destructive,
        )
        .formerly(&["delete_sidecar_instance"])
        .description("Remove sidecar_id's stale instance_id; sidecar stays.")
        .request::<SidecarInstance>(
            Method::DELETE,
            ScControl,
            "/v1/sidecars/{sidecar_id}/instances/{instance_id}",
        ),
        SET.tool("get_task_telemetry", "Get task telemetry", Effect::ReadOnly)
            .description("Runs, status, errors of task_id (list_sc_agent_tasks).")
            .request::<TaskId>(Method::GET, ScControl, "/v1/tasks/{task_id}/task-telemetry"),
        SET.tool(
            "delete_task_telemetry",
            "Delete task telemetry",
            Effect::Destructive,
        )
        .description("Erase telemetry of task_id (list_sc_agent_tasks); task stays.")
        .request::<TaskId>(
            Method::DELETE,
            ScControl,
            "/v1/tasks/{task_id}/task-telemetry",
        ),
    ]
}
