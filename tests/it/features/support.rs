//! Support mode through MCP against a fake ALTR API: a session arms it, then only lookups run
//! and the list says so; one unlock lets exactly one call of one tool through (two concurrent
//! calls cannot both spend it); RESTRICTED_TOOLS, the clear-text tools and unknown names are
//! beyond any unlock; exit needs the operator's exact phrase and returns the session log;
//! SUPPORT_MODE holds every session for good; every control call and the unlocked call are in
//! the audit trail with `reason` and `confirmation` redacted.

use std::collections::BTreeSet;

use altr_mcp::registry::select::is_support_read;
use altr_mcp::toolsets::all_tools;
use rmcp::service::RunningService;
use rmcp::RoleClient;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::common::{api_settings, call_tool, connect_with, with_overrides, Call, Counting};

#[rustfmt::skip]
/// The 71 names ALTR's support line allows (altr-support-mode.md section 2.2).
const UPSTREAM_ALLOWED: &[&str] = &[
    "get_policies", "get_rules", "get_roles", "get_tags", "get_tag_values",
    "get_tag_details_by_group_id", "get_tag_details", "get_classifiers", "get_classifier",
    "get_collections", "get_collection", "get_collection_classifiers",
    "get_altr_managed_timestamp", "list_altr_managed_classifiers", "get_jobs", "get_active_jobs",
    "get_job", "get_job_summary", "get_job_findings", "get_job_findings_schemas",
    "get_job_findings_tables", "get_job_findings_columns", "get_job_findings_classifiers",
    "get_job_findings_lineage", "get_job_decisions", "get_job_review_status",
    "get_classification_report", "get_databases", "get_database_id", "get_service_users",
    "get_access_requests", "get_access_request", "get_agent_instances", "get_agent_instance",
    "get_agent_task_telemetry", "get_sidecar_instances", "get_sidecar_instance",
    "get_task_telemetry", "search_audits", "get_audit_results", "search_system_audits",
    "get_system_audit_results", "search_query_audits", "get_query_audit_results",
    "list_report_definitions", "get_report_definition", "list_report_instances",
    "get_report_instance", "get_report_instance_download_url", "list_report_comments",
    "get_report_sign_off", "list_report_sign_offs", "list_sc_agents", "get_sc_agent",
    "list_sc_agent_tasks", "list_sc_repos", "get_sc_repo", "list_sc_repo_users",
    "get_sc_repo_user", "list_sc_service_users", "get_sc_service_user", "list_sc_sidecars",
    "get_sc_sidecar", "list_sc_sidecar_listeners", "list_sc_sidecar_bindings",
    "list_sc_repo_bindings", "get_sc_sidecar_binding", "list_tweaks", "get_tweak", "list_keys",
    "get_key",
];

/// A write that sends one request: `create_tweak` is `POST /kma/tweaks`.
const WRITE: &str = "create_tweak";

fn write_args() -> Value {
    json!({"name": "t1"})
}

struct Session {
    api: MockServer,
    client: RunningService<RoleClient, Counting>,
    changes: Counting,
}

async fn session(extra: &[(&str, &str)]) -> Session {
    let api = MockServer::start().await;
    crate::common::mock_on(&api, "POST", "/kma/tweaks", 200, json!({"name": "t1"})).await;
    let changes = Counting::default();
    let client = connect_with(with_overrides(api_settings(&api), extra), changes.clone()).await;
    Session {
        api,
        client,
        changes,
    }
}

impl Session {
    async fn call(&self, name: &str, args: Value) -> Call {
        call_tool(&self.client, name, args).await
    }

    async fn names(&self) -> BTreeSet<String> {
        let tools = self.client.list_all_tools().await.unwrap();
        tools.into_iter().map(|t| t.name.to_string()).collect()
    }

    async fn requests(&self) -> usize {
        self.api.received_requests().await.unwrap().len()
    }

    async fn arm(&self) -> Value {
        self.call("enter_support_mode", json!({}))
            .await
            .ok()
            .clone()
    }

    async fn unlock(&self, tool: &str) -> Call {
        self.call(
            "request_write_unlock",
            json!({"tool_name": tool, "reason": "operator approved ticket 42"}),
        )
        .await
    }
}

fn code(c: &Call) -> &str {
    c.error()["code"].as_str().unwrap_or_default()
}

fn message(c: &Call) -> &str {
    c.error()["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_session_not_in_support_mode_lists_only_the_entry_and_the_others_refuse() {
    let s = session(&[]).await;
    let names = s.names().await;
    assert!(names.contains("enter_support_mode") && names.contains(WRITE));
    assert!(!names.contains("request_write_unlock") && !names.contains("exit_support_mode"));
    let c = s.unlock(WRITE).await;
    assert_eq!(code(&c), "support_mode");
    assert!(message(&c).contains("not on"), "{}", c.envelope);
    let c = s
        .call(
            "exit_support_mode",
            json!({"confirmation": "EXIT SUPPORT MODE"}),
        )
        .await;
    assert_eq!(code(&c), "support_mode");
    assert_eq!(s.requests().await, 0);
    // Writes run as usual.
    s.call(WRITE, write_args()).await.ok();
    assert_eq!(s.requests().await, 1);
}

#[tokio::test]
async fn arming_leaves_the_lookups_and_tells_the_client_the_list_changed() {
    let s = session(&[]).await;
    let data = s.arm().await;
    assert_eq!(data["state"], "soft");
    assert_eq!(data["changed"], true);
    assert!(s.changes.reach(1).await, "list_changed after arming");
    let names = s.names().await;
    let reads: BTreeSet<String> = all_tools()
        .iter()
        .filter(|t| is_support_read(t) && t.toolset.id != "support")
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(data["read_tools_available"], reads.len());
    let controls = [
        "enter_support_mode",
        "request_write_unlock",
        "exit_support_mode",
    ];
    let mut want = reads.clone();
    want.extend(controls.iter().map(|c| c.to_string()));
    assert_eq!(names, want);
    // Every read, the searches and the DAM reads included; at least upstream's list.
    for n in UPSTREAM_ALLOWED.iter().chain(&[
        "list_dam_rules",
        "get_dam_rule",
        "list_dam_alerts",
        "get_dam_alert",
        "list_dam_alert_comments",
        "get_job_findings_leaves",
        "get_supported_masking_types",
    ]) {
        assert!(names.contains(*n), "{n} is a lookup support mode keeps");
    }
    // Never a write or a clear-text tool.
    for n in [
        "create_policy",
        "vault_tokenize",
        "vault_detokenize",
        "disconnect_database",
    ] {
        assert!(!names.contains(n), "{n} withheld");
    }
    // Arming again changes nothing and sends nothing.
    let again = s.arm().await;
    assert_eq!(again["changed"], false);
    // A withheld write is refused without a request, and says how to get one through.
    let c = s.call(WRITE, write_args()).await;
    assert_eq!(code(&c), "support_mode");
    assert!(
        message(&c).contains("request_write_unlock"),
        "{}",
        c.envelope
    );
    // A lookup still runs (here the fake API has no route for it: the call is sent).
    let _ = s.call("get_databases", json!({})).await;
    assert_eq!(s.requests().await, 1);
    assert_eq!(s.changes.count(), 1);
}

#[tokio::test]
async fn one_unlock_lets_exactly_one_call_through_then_support_mode_closes_again() {
    let s = session(&[]).await;
    s.arm().await;
    let granted = s.unlock(WRITE).await;
    let data = granted.ok();
    assert_eq!(data["unlocked"], WRITE);
    assert_eq!(data["reason"], "operator approved ticket 42");
    assert_eq!(data["never_unlockable"].as_array().unwrap().len(), 6);
    assert!(s.changes.reach(2).await);
    assert!(
        s.names().await.contains(WRITE),
        "the unlocked tool is listed"
    );
    // A dry run sends nothing and does not spend the unlock.
    let dry = s
        .call(
            WRITE,
            crate::common::with_args(&write_args(), json!({"dry_run": true})),
        )
        .await;
    assert_eq!(dry.ok()["dry_run"], true);
    assert_eq!(s.requests().await, 0);
    s.call(WRITE, write_args()).await.ok();
    assert_eq!(s.requests().await, 1);
    assert!(
        s.changes.reach(3).await,
        "list_changed when the unlock is spent"
    );
    assert!(!s.names().await.contains(WRITE));
    let c = s.call(WRITE, write_args()).await;
    assert_eq!(code(&c), "support_mode");
    assert_eq!(s.requests().await, 1);
}

#[tokio::test]
async fn two_concurrent_calls_spend_one_unlock_exactly_once() {
    let s = session(&[]).await;
    s.arm().await;
    s.unlock(WRITE).await.ok();
    let (a, b) = tokio::join!(s.call(WRITE, write_args()), s.call(WRITE, write_args()));
    let passed = [&a, &b].iter().filter(|c| !c.is_error).count();
    assert_eq!(passed, 1, "{} / {}", a.envelope, b.envelope);
    let refused = if a.is_error { &a } else { &b };
    assert_eq!(code(refused), "support_mode");
    assert_eq!(s.requests().await, 1);
}

#[tokio::test]
async fn what_an_unlock_cannot_reach() {
    let s = session(&[("RESTRICTED_TOOLS", "create_key")]).await;
    s.arm().await;
    // Unknown names name the parameter.
    s.unlock("no_such_tool").await.invalid("tool_name");
    // Never: the tools that return or destroy real values.
    for n in [
        "vault_detokenize",
        "critical_partial_detokenize",
        "vault_delete_tokens",
    ] {
        let c = s.unlock(n).await;
        assert_eq!(code(&c), "support_mode");
        assert!(message(&c).contains("never"), "{}", c.envelope);
    }
    // RESTRICTED_TOOLS outranks any unlock.
    let c = s.unlock("create_key").await;
    assert_eq!(code(&c), "support_mode");
    assert!(message(&c).contains("RESTRICTED_TOOLS"), "{}", c.envelope);
    // A lookup needs none.
    let c = s.unlock("get_tags").await;
    assert!(message(&c).contains("already available"), "{}", c.envelope);
    // A blank reason is refused.
    s.call(
        "request_write_unlock",
        json!({"tool_name": WRITE, "reason": "  "}),
    )
    .await
    .invalid("reason");
    // An earlier name unlocks its tool; a second grant replaces the first.
    let c = s.unlock("delete_database").await;
    assert_eq!(c.ok()["unlocked"], "disconnect_database");
    let c = s.unlock(WRITE).await;
    assert_eq!(c.ok()["replaced"], "disconnect_database");
    let names = s.names().await;
    assert!(names.contains(WRITE) && !names.contains("disconnect_database"));
    assert_eq!(s.requests().await, 0);
}

#[tokio::test]
async fn exit_takes_only_the_exact_phrase_and_returns_the_session_log() {
    let s = session(&[]).await;
    s.arm().await;
    s.unlock(WRITE).await.ok();
    s.call(WRITE, write_args()).await.ok();
    for wrong in ["exit support mode", "EXIT SUPPORT MODE ", "", "please exit"] {
        let c = s
            .call("exit_support_mode", json!({"confirmation": wrong}))
            .await;
        c.invalid("confirmation");
        assert!(
            !c.text.contains("EXIT SUPPORT MODE"),
            "the refusal never shows the phrase"
        );
    }
    let out = s
        .call(
            "exit_support_mode",
            json!({"confirmation": "EXIT SUPPORT MODE"}),
        )
        .await;
    let data = out.ok();
    assert_eq!(data["state"], "off");
    assert_eq!(data["writes_executed"], json!([WRITE]));
    let actions: Vec<&str> = data["session_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["entered", "unlock_granted", "write_executed", "exited"]
    );
    let entry = &data["session_log"][1];
    assert_eq!(entry["tool"], WRITE);
    assert_eq!(entry["detail"], "operator approved ticket 42");
    assert!(entry["at"].as_str().unwrap().ends_with('Z'));
    // Everything runs again, and a new arming starts a new log.
    let names = s.names().await;
    assert!(names.contains("create_policy") && !names.contains("exit_support_mode"));
    s.call(WRITE, write_args()).await.ok();
    assert_eq!(s.requests().await, 2);
    s.arm().await;
    let again = s
        .call(
            "exit_support_mode",
            json!({"confirmation": "EXIT SUPPORT MODE"}),
        )
        .await;
    assert_eq!(again.ok()["session_log"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn support_mode_set_by_the_operator_holds_every_session_for_good() {
    let s = session(&[("SUPPORT_MODE", "true")]).await;
    let info = s.client.peer_info().unwrap();
    let instructions = info.instructions.as_deref().unwrap_or_default();
    assert!(instructions.starts_with("# ALTR data security"));
    assert!(instructions.contains("SUPPORT READ-ONLY MODE IS ACTIVE"));
    let names = s.names().await;
    assert!(names.contains("enter_support_mode") && names.contains("search_audits"));
    assert!(!names.contains("request_write_unlock") && !names.contains("exit_support_mode"));
    assert!(!names.contains(WRITE) && !names.contains("vault_detokenize"));
    let data = s.arm().await;
    assert_eq!(data["state"], "hard");
    assert_eq!(data["changed"], false);
    let c = s.call(WRITE, write_args()).await;
    assert_eq!(code(&c), "tool_unavailable");
    assert!(message(&c).contains("SUPPORT_MODE"), "{}", c.envelope);
    let c = s.unlock(WRITE).await;
    assert!(message(&c).contains("SUPPORT_MODE"), "{}", c.envelope);
    let c = s
        .call(
            "exit_support_mode",
            json!({"confirmation": "EXIT SUPPORT MODE"}),
        )
        .await;
    assert!(message(&c).contains("restarting"), "{}", c.envelope);
    assert_eq!(s.requests().await, 0);
    assert_eq!(s.changes.count(), 0);
}

#[tokio::test]
async fn a_stateless_http_server_cannot_arm_a_session() {
    // Only streamable HTTP can serve without sessions.
    let s = session(&[
        ("MCP_TRANSPORT", "streamable-http"),
        ("MCP_STATELESS", "true"),
    ])
    .await;
    assert!(!s.names().await.contains("enter_support_mode"));
    let c = s.call("enter_support_mode", json!({})).await;
    assert_eq!(code(&c), "support_mode");
    assert!(message(&c).contains("SUPPORT_MODE=true"), "{}", c.envelope);
}

#[tokio::test]
async fn control_calls_and_the_unlocked_call_are_audited_with_reason_and_phrase_redacted() {
    let path = crate::common::temp_log("support");
    let s = session(&[("ALTR_AUDIT_LOG", path.to_str().unwrap())]).await;
    s.arm().await;
    s.unlock(WRITE).await.ok();
    s.call(WRITE, write_args()).await.ok();
    s.call(WRITE, write_args()).await;
    s.call(
        "exit_support_mode",
        json!({"confirmation": "EXIT SUPPORT MODE"}),
    )
    .await
    .ok();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tools: Vec<&str> = lines.iter().map(|l| l["tool"].as_str().unwrap()).collect();
    assert_eq!(
        tools,
        [
            "enter_support_mode",
            "request_write_unlock",
            WRITE,
            WRITE,
            "exit_support_mode"
        ]
    );
    assert_eq!(lines[1]["arguments"]["reason"], "<redacted>");
    assert_eq!(lines[1]["arguments"]["tool_name"], WRITE);
    assert_eq!(lines[2]["support_unlock"], true, "{}", lines[2]);
    assert_eq!(lines[3]["code"], "support_mode", "{}", lines[3]);
    assert!(lines[3].get("support_unlock").is_none());
    assert_eq!(lines[4]["arguments"]["confirmation"], "<redacted>");
    assert!(!text.contains("ticket 42") && !text.contains("EXIT SUPPORT MODE"));
}

#[tokio::test]
async fn an_altr_mcp_call_has_no_session_to_arm() {
    let h = crate::common::Harness::start().await;
    // In-process the call has a session; the composed server's own `call` (what `altr-mcp call`
    // runs) has none.
    let settings = altr_mcp::config::Settings::load(
        &altr_mcp::config::Sources::from_pairs(api_settings(&h.api)),
        altr_mcp::config::Purpose::Serve,
    )
    .unwrap();
    let registry = altr_mcp::toolsets::select(&altr_mcp::cli::selection_of(&settings)).unwrap();
    let server =
        altr_mcp::cli::compose::build_server(&settings, std::sync::Arc::new(registry)).unwrap();
    let result = server.call("enter_support_mode", None).await.unwrap();
    let c = Call::of(result);
    assert_eq!(code(&c), "support_mode");
    assert!(message(&c).contains("SUPPORT_MODE=true"), "{}", c.envelope);
}

#[tokio::test]
async fn toolset_discovery_stays_listed_while_support_mode_is_on() {
    let s = session(&[("ALTR_DYNAMIC_TOOLSETS", "true")]).await;
    s.arm().await;
    let names = s.names().await;
    assert!(names.contains("list_toolsets") && names.contains("enable_toolset"));
    assert!(names.contains("get_databases") && !names.contains("create_database"));
}
