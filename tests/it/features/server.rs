//! MCP surface: server info, instructions, tool listing and selection, unknown and hidden tools.

use crate::common::*;
use rmcp::model::CallToolRequestParams;
use serde_json::json;

#[tokio::test]
async fn initialize_reports_name_version_instructions_and_capabilities() {
    let h = Harness::start().await;
    let info = h.client.peer_info().expect("server info");
    let server = info.server_info.as_ref().expect("serverInfo");
    assert_eq!(server.name, "altr");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    let instructions = info.instructions.as_deref().unwrap_or("");
    assert!(instructions.contains("10009"));
    assert!(instructions.contains("Databricks"));
    assert!(info.capabilities.tools.is_some());
    assert!(info.capabilities.logging.is_some());
}

#[tokio::test]
async fn tools_list_has_every_tool_annotated() {
    let h = Harness::start().await;
    let tools = h.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), crate::common::default_tool_count());
    for t in &tools {
        let a = t.annotations.as_ref().unwrap();
        assert!(t.title.is_some());
        // Only hints that differ from the protocol defaults are sent.
        assert!(
            a.read_only_hint == Some(true)
                || a.destructive_hint == Some(false)
                || a.idempotent_hint == Some(true)
        );
        assert_eq!(t.input_schema.get("type"), Some(&json!("object")));
    }
}

#[tokio::test]
async fn read_only_mode_lists_and_serves_only_reads() {
    let h = Harness::with_env(&[("ALTR_READ_ONLY", "true")]).await;
    let tools = h.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), crate::common::read_only_tool_count());
    assert!(tools
        .iter()
        .all(|t| t.annotations.as_ref().unwrap().read_only_hint == Some(true)));
    let c = h.call("delete_policy", json!({"policy_id": "TAG#x"})).await;
    assert!(c.is_error);
    assert_eq!(c.error()["code"], "tool_unavailable");
    h.assert_no_requests().await;
}

#[tokio::test]
async fn restricted_tools_are_hidden_and_refused() {
    let h = Harness::with_env(&[("RESTRICTED_TOOLS", "get_databases, disconnect_database")]).await;
    let tools = h.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), crate::common::default_tool_count() - 2);
    assert!(!tools.iter().any(|t| t.name == "get_databases"));
    let c = h.call("get_databases", json!({})).await;
    assert_eq!(c.error()["code"], "tool_unavailable");
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("RESTRICTED_TOOLS"));
    h.assert_no_requests().await;
}

#[tokio::test]
async fn toolsets_limit_the_list() {
    let h = Harness::with_env(&[("ALTR_TOOLSETS", "tags")]).await;
    let tools = h.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 8);
    assert!(tools.iter().all(|t| t.name.contains("tag")));
}

#[tokio::test]
async fn unknown_tool_is_a_protocol_error() {
    let h = Harness::start().await;
    let err = h
        .client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no_such_tool"), "{err}");
}

#[tokio::test]
async fn bad_arguments_never_reach_altr_and_are_not_echoed() {
    let h = Harness::start().await;
    let c = h
        .call("get_database_id", json!({"database_name": 12345678}))
        .await;
    c.invalid("database_name");
    assert!(!c.text.contains("12345678"));
    let c = h.call("get_database_id", json!({})).await;
    c.invalid("database_name");
    let c = h
        .call(
            "get_database_id",
            json!({"database_name": "x", "surprise": "y"}),
        )
        .await;
    c.invalid("surprise");
    h.assert_no_requests().await;
}

/// The audit searches POST to start a search but change nothing: read-only mode lists and serves
/// them, so a read-only auditor can search and read the results.
#[tokio::test]
async fn read_only_mode_keeps_the_audit_searches() {
    let s = crate::sandbox_common::Sbx::with_env(&[("ALTR_READ_ONLY", "true")]).await;
    let tools = s.client.list_all_tools().await.unwrap();
    for name in [
        "search_audits",
        "search_system_audits",
        "search_query_audits",
    ] {
        let tool = tools.iter().find(|t| t.name == name).expect(name);
        assert_eq!(
            tool.annotations.as_ref().unwrap().read_only_hint,
            Some(true)
        );
        assert!(
            !tool.input_schema["properties"]
                .as_object()
                .unwrap()
                .contains_key("dry_run"),
            "{name} changes nothing, so it takes no dry_run"
        );
    }
    let found = s.call("search_audits", json!({"wait_seconds": 5})).await;
    assert_eq!(found.ok()["status"], "COMPLETED", "{}", found.envelope);
    // The command line lists them too.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_altr-mcp"))
        .args(["tools", "--format", "json"])
        .env("ALTR_READ_ONLY", "true")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    for name in [
        "search_audits",
        "search_system_audits",
        "search_query_audits",
    ] {
        assert!(listed.contains(&format!("\"{name}\"")), "{name}");
    }
}
