//! Telemetry tools through MCP against the fake ALTR API.

use crate::common::*;
use serde_json::json;

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "get_agent_instances",
            args: json!({"agent_id": "agt-1", "limit": 50, "contiguous_id": "c-9"}),
            method: "GET",
            path: "/sc-control/v1/agents/agt-1/instances",
            query: &[("limit", "50"), ("contiguous_id", "c-9")],
            body: None,
        },
        Sends {
            tool: "get_agent_instances",
            args: json!({"agent_id": "agt-1"}),
            method: "GET",
            path: "/sc-control/v1/agents/agt-1/instances",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_agent_instance",
            args: json!({"agent_id": "agt-1", "instance_id": "i-1"}),
            method: "GET",
            path: "/sc-control/v1/agents/agt-1/instances/i-1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "disconnect_agent_instance",
            args: json!({"agent_id": "agt-1", "instance_id": "i-1"}),
            method: "DELETE",
            path: "/sc-control/v1/agents/agt-1/instances/i-1",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_agent_task_telemetry",
            args: json!({"agent_id": "agt-1", "limit": 10}),
            method: "GET",
            path: "/sc-control/v1/agents/agt-1/task-telemetry",
            query: &[("limit", "10")],
            body: None,
        },
        Sends {
            tool: "get_sidecar_instances",
            args: json!({"sidecar_id": "sc-1", "contiguous_id": "next"}),
            method: "GET",
            path: "/sc-control/v1/sidecars/sc-1/instances",
            query: &[("contiguous_id", "next")],
            body: None,
        },
        Sends {
            tool: "get_sidecar_instance",
            args: json!({"sidecar_id": "sc-1", "instance_id": "i-2"}),
            method: "GET",
            path: "/sc-control/v1/sidecars/sc-1/instances/i-2",
            query: &[],
            body: None,
        },
        Sends {
            tool: "disconnect_sidecar_instance",
            args: json!({"sidecar_id": "sc-1", "instance_id": "i-2"}),
            method: "DELETE",
            path: "/sc-control/v1/sidecars/sc-1/instances/i-2",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_task_telemetry",
            args: json!({"task_id": "task-7"}),
            method: "GET",
            path: "/sc-control/v1/tasks/task-7/task-telemetry",
            query: &[],
            body: None,
        },
        Sends {
            tool: "delete_task_telemetry",
            args: json!({"task_id": "task-7"}),
            method: "DELETE",
            path: "/sc-control/v1/tasks/task-7/task-telemetry",
            query: &[],
            body: None,
        },
    ]
}

/// The Python server interpolates telemetry ids raw; here each is one encoded segment.
#[tokio::test]
async fn telemetry_ids_are_encoded_where_python_sent_them_raw() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        "/sc-control/v1/sidecars/sc%2F1/instances/i%3Fx%3D1",
        200,
        json!({"ok": true}),
    )
    .await;
    let c = h
        .call(
            "get_sidecar_instance",
            json!({"sidecar_id": "sc/1", "instance_id": "i?x=1"}),
        )
        .await;
    assert_eq!(c.ok(), &json!({"ok": true}));
    let r = h.only_request().await;
    assert_eq!(
        r.url.path(),
        "/sc-control/v1/sidecars/sc%2F1/instances/i%3Fx%3D1"
    );
    assert_eq!(r.url.query(), None);
}

#[tokio::test]
async fn telemetry_limits_are_bounded() {
    let h = Harness::start().await;
    for bad in [json!(0), json!(1001), json!("many")] {
        assert_refused(
            &h,
            "get_agent_task_telemetry",
            json!({"agent_id": "agt-1", "limit": bad}),
            "limit",
        )
        .await;
    }
}
