//! Toolset discovery (ALTR_DYNAMIC_TOOLSETS) through MCP against the sandbox: a session starts
//! with the default set plus list_toolsets and enable_toolset; enabling a toolset tells the
//! client the list changed and its tools appear, within read-only mode, RESTRICTED_TOOLS and the
//! clear-text gate; sessions do not share what they enabled.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use altr_mcp::sandbox::{Sandbox, Seed};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::RoleClient;
use serde_json::{json, Value};

use crate::common::{connect_with, with_overrides, Counting, STEP};

struct Session {
    _sandbox: Sandbox,
    client: RunningService<RoleClient, Counting>,
    changes: Arc<AtomicUsize>,
}

async fn session(extra: &[(&str, &str)]) -> Session {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sandbox = Sandbox::start(0, Seed::Demo).await.expect("sandbox starts");
    let mut pairs = sandbox.env();
    pairs.push(("ALTR_DYNAMIC_TOOLSETS".into(), "true".into()));
    let pairs = with_overrides(pairs, extra);
    let counting = Counting::default();
    let changes = counting.0.clone();
    let client = connect_with(pairs, counting).await;
    Session {
        _sandbox: sandbox,
        client,
        changes,
    }
}

impl Session {
    async fn names(&self) -> BTreeSet<String> {
        let tools = self.client.list_all_tools().await.unwrap();
        tools.into_iter().map(|t| t.name.to_string()).collect()
    }

    async fn call(&self, name: &str, args: Value) -> (bool, Value) {
        let mut params = CallToolRequestParams::new(name.to_string());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        let r = tokio::time::timeout(STEP, self.client.call_tool(params))
            .await
            .unwrap()
            .unwrap();
        (
            r.is_error.unwrap_or(false),
            r.structured_content.unwrap_or(Value::Null),
        )
    }

    /// Wait (bounded) until `n` list_changed notifications arrived.
    async fn changes_reach(&self, n: usize) -> bool {
        for _ in 0..200 {
            if self.changes.load(Ordering::SeqCst) >= n {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    }
}

#[tokio::test]
async fn sessions_start_small_and_enable_toolsets_on_demand() {
    let s = session(&[]).await;
    let info = s.client.peer_info().unwrap();
    assert_eq!(
        info.capabilities
            .tools
            .as_ref()
            .and_then(|t| t.list_changed),
        Some(true)
    );
    let names = s.names().await;
    // The default set (50, and enter_support_mode) and the two discovery tools, which do not
    // count among the registry's tools.
    assert_eq!(names.len(), 51 + 2, "{names:?}");
    assert!(names.contains("list_toolsets") && names.contains("enable_toolset"));
    assert!(names.contains("create_job") && !names.contains("list_keys"));
    assert!(altr_mcp::toolsets::all_tools()
        .iter()
        .all(|t| t.name != "list_toolsets" && t.name != "enable_toolset"));

    let (err, env) = s.call("list_toolsets", json!({})).await;
    assert!(!err, "{env}");
    let sets = env["data"]["toolsets"].as_array().unwrap();
    let keys = sets.iter().find(|t| t["id"] == "keys").unwrap();
    assert_eq!(keys["enabled"], false);
    assert_eq!(keys["tools"], 9);
    assert_eq!(keys["listed"], 0);
    let tags = sets.iter().find(|t| t["id"] == "tags").unwrap();
    assert_eq!(tags["enabled"], true);
    let classification = sets.iter().find(|t| t["id"] == "classification").unwrap();
    assert_eq!(classification["enabled"], false);
    assert_eq!(classification["listed"], 6);

    // A tool of a toolset not enabled is refused, saying how to enable it; nothing is sent.
    let (err, env) = s.call("list_keys", json!({})).await;
    assert!(err);
    assert_eq!(env["error"]["code"], "tool_unavailable");
    assert!(env["error"]["message"]
        .as_str()
        .unwrap()
        .contains("enable_toolset"));

    let (err, env) = s.call("enable_toolset", json!({"toolset": "keys"})).await;
    assert!(!err, "{env}");
    assert_eq!(env["data"]["added"].as_array().unwrap().len(), 9);
    assert!(
        s.changes_reach(1).await,
        "notifications/tools/list_changed sent"
    );
    let names = s.names().await;
    assert_eq!(names.len(), 51 + 2 + 9);
    assert!(names.contains("rotate_key"));
    // Served now: an argument problem is the tool's own answer, no longer a refusal.
    let (err, env) = s.call("list_keys", json!({})).await;
    assert!(err);
    assert_eq!(env["error"]["parameter"], "namespace", "{env}");
    let (err, env) = s.call("list_tweaks", json!({})).await;
    assert!(!err, "{env}");

    // Enabling it again changes nothing and sends no notification.
    let (err, env) = s.call("enable_toolset", json!({"toolset": "KEYS"})).await;
    assert!(!err);
    assert_eq!(env["data"]["added"], json!([]));
    let (_, env) = s.call("list_toolsets", json!({})).await;
    let keys = env["data"]["toolsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "keys")
        .cloned()
        .unwrap();
    assert_eq!(keys["enabled"], true);
    assert_eq!(s.changes.load(Ordering::SeqCst), 1);

    // Bad arguments name the parameter.
    let (err, env) = s.call("enable_toolset", json!({"toolset": "keyz"})).await;
    assert!(err);
    assert_eq!(env["error"]["parameter"], "toolset");
    let (err, env) = s.call("enable_toolset", json!({})).await;
    assert!(err);
    assert_eq!(env["error"]["parameter"], "toolset");

    // Another session starts from the default set again.
    let other = session(&[]).await;
    assert_eq!(other.names().await.len(), 51 + 2);
}

#[tokio::test]
async fn read_only_restrictions_and_the_clear_text_gate_still_bound_what_can_be_enabled() {
    let s = session(&[
        ("ALTR_READ_ONLY", "true"),
        ("RESTRICTED_TOOLS", "list_keys"),
    ])
    .await;
    let (err, env) = s.call("enable_toolset", json!({"toolset": "keys"})).await;
    assert!(!err, "{env}");
    let names = s.names().await;
    assert!(names.contains("get_key") && names.contains("list_tweaks"));
    for hidden in ["list_keys", "create_key", "rotate_key", "deactivate_key"] {
        assert!(!names.contains(hidden), "{hidden} listed");
        let (err, env) = s.call(hidden, json!({})).await;
        assert!(err, "{hidden} served");
        assert_eq!(env["error"]["code"], "tool_unavailable");
    }
    let (err, env) = s
        .call("enable_toolset", json!({"toolset": "tokenization"}))
        .await;
    // Read-only without the clear-text gate: no tokenization tool may be exposed at all.
    assert!(err, "{env}");
    assert_eq!(env["error"]["code"], "tool_unavailable");
    assert!(!s.names().await.iter().any(|n| n.contains("detokenize")));
}

#[tokio::test]
async fn a_configured_selection_is_the_starting_set() {
    let s = session(&[("ALTR_TOOLSETS", "tags")]).await;
    assert_eq!(s.names().await.len(), 8 + 2);
    // Without the setting, no discovery tools.
    let sandbox = Sandbox::start(0, Seed::Demo).await.unwrap();
    let plain = crate::common::connect(sandbox.env()).await;
    let tools = plain.list_all_tools().await.unwrap();
    assert!(tools.iter().all(|t| t.name != "enable_toolset"));
    // Support mode changes the list of any session, so the capability is always there.
    assert_eq!(
        plain
            .peer_info()
            .unwrap()
            .capabilities
            .tools
            .as_ref()
            .and_then(|t| t.list_changed),
        Some(true)
    );
}

#[test]
fn the_setting_is_validated() {
    let src = altr_mcp::config::Sources::from_pairs([
        ("ORG_ID", "o"),
        ("MAPI_KEY", "k"),
        ("MAPI_SECRET", "s"),
        ("ALTR_DYNAMIC_TOOLSETS", "perhaps"),
    ]);
    let e = altr_mcp::config::Settings::load(&src, altr_mcp::config::Purpose::Serve).unwrap_err();
    assert!(e.to_string().contains("ALTR_DYNAMIC_TOOLSETS"), "{e}");
}
