//! Earlier tool names (ALTR's release lines called the `disconnect_*` tools `delete_*`): known
//! aliases in every setting that names a tool and in tools/call, never listed.

use std::collections::BTreeSet;

use altr_mcp::config::{Purpose, Settings, Sources};
use serde_json::{json, Value};

use crate::sandbox_common::Sbx;

/// The RESTRICTED_TOOLS example of ALTR's own README.
const UPSTREAM_EXAMPLE: &str = "delete_database,delete_policy,delete_rule,delete_tag,delete_tag_by_details,delete_classifier,delete_collection,delete_sc_repo,delete_sc_sidecar";

#[test]
fn every_disconnect_tool_keeps_its_earlier_name() {
    let registry = altr_mcp::toolsets::everything();
    let aliases: Vec<(&str, &str)> = registry.aliases().collect();
    let disconnects: BTreeSet<&str> = registry
        .tools()
        .iter()
        .map(|t| t.name)
        .filter(|n| n.starts_with("disconnect_"))
        .collect();
    assert_eq!(disconnects.len(), 11);
    for name in &disconnects {
        let earlier = name.replacen("disconnect_", "delete_", 1);
        assert_eq!(registry.alias(&earlier), Some(*name), "{earlier}");
    }
    // An alias never shadows a tool of its own.
    for (alias, _) in &aliases {
        assert!(registry.get(alias).is_none(), "{alias} is also a tool");
    }
}

#[tokio::test]
async fn the_upstream_restricted_tools_example_starts_and_restricts_what_it_names() {
    let s = Sbx::with_env(&[("RESTRICTED_TOOLS", UPSTREAM_EXAMPLE)]).await;
    let names: BTreeSet<String> = s
        .client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    for gone in [
        "disconnect_database",
        "delete_policy",
        "delete_rule",
        "disconnect_tag",
        "disconnect_tag_by_details",
        "delete_classifier",
        "delete_collection",
        "disconnect_sc_repo",
        "disconnect_sc_sidecar",
    ] {
        assert!(!names.contains(gone), "{gone} is still listed");
    }
    assert!(names.contains("disconnect_sc_agent"), "unnamed tools stay");
    assert!(
        !names.iter().any(|n| n.starts_with("delete_database")),
        "aliases are never listed"
    );
    // Called by either name, the restricted tool is refused.
    for name in ["delete_database", "disconnect_database"] {
        let c = s.call(name, json!({"database_id": 1})).await;
        assert_eq!(c.error()["code"], "tool_unavailable", "{name}");
    }
    // A name no tool ever had is still a start-up error.
    let e = Settings::load(
        &Sources::from_pairs([("RESTRICTED_TOOLS", "delete_everything")]),
        Purpose::ListTools,
    )
    .map(|s| altr_mcp::toolsets::select(&altr_mcp::cli::selection_of(&s)));
    assert!(matches!(e, Ok(Err(_))), "{e:?}");
}

#[tokio::test]
async fn a_call_by_an_earlier_name_runs_the_tool_and_is_audited_under_its_current_name() {
    let path = crate::common::temp_log("alias");
    let s = Sbx::with_env(&[
        ("ALTR_AUDIT_LOG", path.to_str().unwrap()),
        ("ALTR_CONFIRM", "never"),
    ])
    .await;
    let dbs = s.call("get_databases", json!({})).await;
    // ALTR's own envelope is inside ours (until `data` is the payload).
    let id = dbs.ok()["databases"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a database id in {}", dbs.envelope));
    let c = s.call("delete_database", json!({"database_id": id})).await;
    c.ok();
    let gone = s.call("get_databases", json!({})).await;
    assert!(!gone.ok().to_string().contains(&format!("\"id\":{id},")));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let line = &lines[1];
    assert_eq!(line["tool"], "disconnect_database", "{line}");
    assert_eq!(line["called_as"], "delete_database", "{line}");
    assert_eq!(line["outcome"], "ok", "{line}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn confirmation_overrides_take_earlier_names() {
    let s = Settings::load(
        &Sources::from_pairs([("ALTR_CONFIRM_TOOLS", "-delete_database")]),
        Purpose::ListTools,
    )
    .unwrap();
    assert!(s.confirm.removed.contains("disconnect_database"));
    let notes = altr_mcp::cli::compose::alias_notes(&s);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("disconnect_database"), "{}", notes[0]);
}
