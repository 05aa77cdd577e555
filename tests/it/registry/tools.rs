//! The registry as a whole: names, annotations, schemas, per-domain counts, selection rules, and
//! the generated tool reference.

use std::collections::BTreeSet;

use altr_mcp::registry::args::{shared_doc, SHARED_PARAMETERS};
use altr_mcp::registry::{docs, Effect, Registry, Selection, SelectionError};
use altr_mcp::server::INSTRUCTIONS;
use altr_mcp::toolsets::{all_tools, TOOLSETS};
use serde_json::Value;

fn select(
    toolsets: &[&str],
    read_only: bool,
    restricted: &[&str],
) -> Result<Registry, SelectionError> {
    altr_mcp::toolsets::select(&Selection {
        toolsets: toolsets.iter().map(|s| s.to_string()).collect(),
        read_only,
        restricted: restricted.iter().map(|s| s.to_string()).collect(),
        ..Selection::default()
    })
}

#[test]
fn names_are_unique_and_snake_case() {
    let tools = all_tools();
    let names: BTreeSet<&str> = tools.iter().map(|t| t.name).collect();
    assert_eq!(names.len(), tools.len(), "duplicate tool names");
    for n in names {
        assert!(
            n.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{n} is not snake_case"
        );
    }
}

#[test]
fn every_tool_is_documented_in_the_api_reference_with_its_toolset_and_effect() {
    for t in all_tools() {
        let Some((set, _, class)) = EXPECTED.iter().find(|(_, n, _)| *n == t.name) else {
            panic!("{} is not a tool of altr-api.md section 9", t.name);
        };
        assert_eq!(t.toolset.id, *set, "{} toolset", t.name);
        let want = match *class {
            "RO" => t.effect == Effect::ReadOnly,
            "DESTR" => t.effect == Effect::Destructive,
            "CLEAR" => t.effect == Effect::ClearText,
            _ => matches!(t.effect, Effect::Additive | Effect::Idempotent),
        };
        assert!(want, "{} should be {class}, is {:?}", t.name, t.effect);
    }
}

#[test]
fn every_registered_toolset_has_all_its_tools() {
    let tools = all_tools();
    for ts in TOOLSETS {
        let want: BTreeSet<&str> = EXPECTED
            .iter()
            .filter(|(set, _, _)| *set == ts.id)
            .map(|(_, n, _)| *n)
            .collect();
        let have: BTreeSet<&str> = tools
            .iter()
            .filter(|t| t.toolset == *ts)
            .map(|t| t.name)
            .collect();
        assert_eq!(have, want, "toolset {}", ts.id);
        assert!(
            !ts.title.is_empty() && ts.description.len() > 20,
            "{}",
            ts.id
        );
    }
}

#[test]
fn every_tool_is_fully_annotated_and_described() {
    for t in all_tools() {
        let tool = t.to_tool();
        let a = tool.annotations.as_ref().expect("annotations");
        assert!(
            tool.title.as_deref().is_some_and(|s| !s.is_empty()),
            "{} title",
            t.name
        );
        assert!(a.title.is_none(), "{} title given twice", t.name);
        assert!(a.open_world_hint.is_none(), "{} repeats a default", t.name);
        // The hints as a client reads them, protocol defaults filled in.
        let read_only = a.read_only_hint.unwrap_or(false);
        assert_eq!(read_only, t.effect.is_read_only(), "{}", t.name);
        if read_only {
            assert!(a.destructive_hint.is_none() && a.idempotent_hint.is_none());
        } else {
            assert_eq!(
                a.destructive_hint.unwrap_or(true),
                t.effect == Effect::Destructive,
                "{}",
                t.name
            );
            assert_eq!(
                a.idempotent_hint.unwrap_or(false),
                t.effect.is_idempotent(),
                "{}",
                t.name
            );
            assert_ne!(
                a.destructive_hint,
                Some(true),
                "{} repeats a default",
                t.name
            );
            assert_ne!(
                a.idempotent_hint,
                Some(false),
                "{} repeats a default",
                t.name
            );
        }
        let d = tool.description.as_deref().unwrap_or("");
        assert!(
            d.len() > 40 && d.len() < 600,
            "{} description length {}",
            t.name,
            d.len()
        );
    }
}

/// Whether `text` names `word` as a whole word (`sidecar_id`, not `sidecar_ids`).
fn names(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word)
        .any(|(i, _)| !text[..i].ends_with(ident) && !text[i + word.len()..].starts_with(ident))
}

#[test]
fn shared_parameters_are_documented_once_in_the_instructions() {
    for (name, doc) in SHARED_PARAMETERS {
        assert!(
            INSTRUCTIONS.contains(&format!("`{name}`: {doc}")),
            "instructions.md must document `{name}`: {doc}"
        );
    }
}

#[test]
fn schemas_are_objects_with_every_parameter_documented() {
    for t in all_tools() {
        let schema = Value::Object((t.schema)());
        assert_eq!(schema["type"], "object", "{}", t.name);
        assert!(schema["properties"].is_object(), "{}", t.name);
        assert!(!schema.to_string().contains("$ref"), "{} has $ref", t.name);
        // Documented in its schema, or by the tool's description naming it, or once for all tools
        // (the shared parameters, in the server instructions).
        for (name, p) in schema["properties"].as_object().unwrap() {
            let desc = p["description"].as_str().unwrap_or("");
            assert!(
                !desc.is_empty() || names(t.description, name) || shared_doc(name).is_some(),
                "{}.{name} undocumented: describe it in the schema or name it in the tool description",
                t.name
            );
        }
        if let Some(req) = schema["required"].as_array() {
            for r in req {
                assert!(
                    schema["properties"].get(r.as_str().unwrap()).is_some(),
                    "{}",
                    t.name
                );
            }
        }
    }
}

#[test]
fn toolsets_read_only_and_restrictions_select_tools() {
    // The registry holds the support tools a session lists only once armed.
    let armed_only = crate::common::ARMED_ONLY.len();
    assert_eq!(
        select(&[], false, &[]).unwrap().tools().len(),
        crate::common::default_tool_count() + armed_only
    );
    assert_eq!(
        select(&["all"], false, &[]).unwrap().tools().len(),
        crate::common::default_tool_count() + armed_only
    );
    let default = select(&["default"], false, &[]).unwrap();
    assert_eq!(default.tools().len(), 26 + 10 + 14 + 3);
    assert!(
        default.tools().len() <= 60,
        "the default set fits Cursor and Windsurf"
    );
    for name in [
        "get_collections",
        "get_jobs",
        "get_job",
        "create_job",
        "get_job_findings",
        "get_classification_report",
        "search_audits",
        "get_audit_results",
        "search_query_audits",
        "get_query_audit_results",
        "list_dam_alerts",
        "get_dam_alert",
        "acknowledge_dam_alert",
        "list_dam_rules",
    ] {
        assert!(
            default.get(name).is_some(),
            "{name} is a known tool in default"
        );
    }
    assert!(default.get("create_classifier").is_none());
    assert!(default.is_hidden("create_classifier"));
    // The daily tools still obey read-only mode and RESTRICTED_TOOLS.
    let ro = select(&["default"], true, &["get_jobs"]).unwrap();
    assert!(ro.get("create_job").is_none() && ro.get("get_jobs").is_none());
    assert!(ro.get("get_job").is_some());
    // A toolset named beside `default` adds its whole self.
    let more = select(&["default", "classification"], false, &[]).unwrap();
    assert_eq!(more.tools().len(), 26 + 10 + 41 + 8 + 3);
    let tags = select(&["tags"], false, &[]).unwrap();
    assert_eq!(tags.tools().len(), 8);
    assert!(tags.is_hidden("get_databases"));
    let ro = select(&[], true, &[]).unwrap();
    assert_eq!(
        ro.tools().len(),
        crate::common::read_only_tool_count() + armed_only
    );
    assert!(ro.tools().iter().all(|t| t.effect.is_read_only()));
    let r = select(
        &["databases", "Policies"],
        false,
        &["delete_policy", "get_roles"],
    )
    .unwrap();
    assert_eq!(r.tools().len(), 8 + 10 - 2);
    assert!(r.get("delete_policy").is_none());
    assert!(r.is_hidden("delete_policy"));
    assert!(!r.is_hidden("no_such_tool"));
}

#[test]
fn unknown_names_are_startup_errors() {
    let e = select(&["tags", "tagz"], false, &[]).unwrap_err();
    assert!(matches!(e, SelectionError::UnknownToolset { .. }));
    assert!(e.to_string().contains("tagz"));
    assert!(e.to_string().contains("ALTR_TOOLSETS"));
    let e = select(&[], false, &["get_tag"]).unwrap_err();
    assert_eq!(e, SelectionError::UnknownTool("get_tag".into()));
    assert!(e.to_string().contains("RESTRICTED_TOOLS"));
}

#[test]
fn generated_reference_is_current() {
    let expected = docs::markdown(&altr_mcp::toolsets::everything());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/index.md");
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual.trim_end() == expected.trim_end(),
        "docs/index.md is stale: regenerate it with `ALTR_ALLOW_CLEARTEXT=true cargo run -- tools --format markdown > docs/index.md`"
    );
}

/// The README's intro and tool overview are generated from the registry; with
/// `ALTR_UPDATE_README=1` this test writes them instead of failing.
#[test]
fn readme_sections_are_generated_from_the_registry() {
    let registry = altr_mcp::toolsets::everything();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let mut readme = std::fs::read_to_string(path).unwrap();
    let sections = [
        ("intro", docs::readme_intro(&registry)),
        ("tools", docs::readme_tools(&registry)),
        ("aliases", docs::readme_aliases(&registry)),
    ];
    if std::env::var_os("ALTR_UPDATE_README").is_some() {
        for (name, text) in &sections {
            readme = docs::replace_section(&readme, name, text).unwrap();
        }
        std::fs::write(path, &readme).unwrap();
    }
    for (name, text) in &sections {
        let actual = docs::generated_section(&readme, name)
            .unwrap_or_else(|| panic!("README.md has no generated:{name} markers"));
        assert_eq!(
            actual, text,
            "README.md section {name} is stale: run `ALTR_UPDATE_README=1 cargo test --test it readme`"
        );
    }
    // Every tool is in the overview.
    for t in registry.tools() {
        assert!(
            sections[1].1.contains(&format!("`{}`", t.name)),
            "{}",
            t.name
        );
    }
}

/// The reference gives every parameter a description: its own, a doc-only long form, or the
/// shared one of the server's own parameters.
#[test]
fn every_parameter_has_a_reference_description() {
    let reference = include_str!("../../../docs/index.md");
    for line in reference.lines().filter(|l| l.starts_with("| `")) {
        let description = line.rsplit('|').nth(1).unwrap_or_default().trim();
        assert!(!description.is_empty(), "{line}");
    }
    for t in all_tools() {
        let schema = serde_json::Value::Object((t.documented_schema)());
        for (name, p) in schema["properties"].as_object().unwrap() {
            assert!(
                p.get("x-doc").is_some()
                    || p.get("description").is_some()
                    || altr_mcp::registry::args::shared_doc(name).is_some(),
                "{}.{name} has no description for the reference",
                t.name
            );
        }
        // The long form stays out of tools/list.
        assert!(!serde_json::to_string(&t.to_tool())
            .unwrap()
            .contains("x-doc"));
    }
}

#[test]
fn instructions_name_only_real_tools() {
    let text = altr_mcp::server::INSTRUCTIONS;
    let names: BTreeSet<&str> = all_tools().iter().map(|t| t.name).collect();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let looks_like_tool = [
            "get_",
            "create_",
            "add_",
            "update_",
            "delete_",
            "connect_",
            "disconnect_",
            "trigger_",
        ]
        .iter()
        .any(|p| word.starts_with(p) && word.len() > p.len());
        if looks_like_tool {
            assert!(
                names.contains(word),
                "instructions mention unknown tool {word}"
            );
        }
    }
}

#[test]
fn readme_documents_every_setting_and_tool() {
    let readme = include_str!("../../../README.md");
    for (var, _) in altr_mcp::config::variables() {
        assert!(
            readme.contains(&format!("`{var}`")),
            "README does not document {var}"
        );
    }
    for t in all_tools() {
        assert!(
            readme.contains(&format!("`{}`", t.name)),
            "README does not list {}",
            t.name
        );
    }
}

/// Every tool of altr-api.md section 9: (toolset, name, effect class). RO = read-only,
/// DESTR = destructive, W = other writes, CLEAR = read-only but returns clear text (hidden unless
/// ALTR_ALLOW_CLEARTEXT). An effect is what a tool changes, not its HTTP method. Deliberate
/// differences from the Python server:
/// - the detokenize tools are CLEAR;
/// - deregister_sc_sidecar_listener and remove_classifiers_from_collection are DESTR: they take
///   something away (an update that is not additive), even where it can be put back;
/// - search_audits, search_system_audits and search_query_audits are RO: they POST to start a
///   search but change nothing of the org, so read-only mode keeps them (and their results tools
///   stay useful);
/// - kept as writes after review: trigger_access_policy_check and trigger_database_status_sync
///   (they make ALTR act on the database), trigger_report_definition (it creates a report
///   instance); get_report_instance_download_url and preview_masking are RO already.
pub const EXPECTED: &[(&str, &str, &str)] = &[
    ("databases", "get_databases", "RO"),
    ("databases", "get_database_id", "RO"),
    ("databases", "get_service_users", "RO"),
    ("databases", "create_database", "W"),
    ("databases", "create_databricks_database", "W"),
    ("databases", "update_database", "W"),
    ("databases", "trigger_database_status_sync", "W"),
    ("databases", "disconnect_database", "DESTR"),
    ("tags", "get_tags", "RO"),
    ("tags", "disconnect_tag", "DESTR"),
    ("tags", "get_tag_values", "RO"),
    ("tags", "get_tag_details_by_group_id", "RO"),
    ("tags", "get_tag_details", "RO"),
    ("tags", "update_tag", "W"),
    ("tags", "disconnect_tag_by_details", "DESTR"),
    ("tags", "connect_tag", "W"),
    ("policies", "get_policies", "RO"),
    ("policies", "get_rules", "RO"),
    ("policies", "get_supported_masking_types", "RO"),
    ("policies", "create_policy", "W"),
    ("policies", "add_rules", "W"),
    ("policies", "delete_policy", "DESTR"),
    ("policies", "update_rule", "W"),
    ("policies", "delete_rule", "DESTR"),
    ("policies", "preview_masking", "RO"),
    ("policies", "get_roles", "RO"),
    ("classification", "get_classifiers", "RO"),
    ("classification", "get_classifier", "RO"),
    ("classification", "create_classifier", "W"),
    ("classification", "update_classifier", "W"),
    ("classification", "delete_classifier", "DESTR"),
    ("classification", "get_collections", "RO"),
    ("classification", "get_collection", "RO"),
    ("classification", "create_collection", "W"),
    ("classification", "update_collection", "W"),
    ("classification", "delete_collection", "DESTR"),
    ("classification", "get_collection_classifiers", "RO"),
    ("classification", "add_classifiers_to_collection", "W"),
    (
        "classification",
        "remove_classifiers_from_collection",
        "DESTR",
    ),
    ("classification", "import_altr_managed_classifiers", "W"),
    ("classification", "get_altr_managed_timestamp", "RO"),
    ("classification", "list_altr_managed_classifiers", "RO"),
    ("classification", "get_jobs", "RO"),
    ("classification", "get_active_jobs", "RO"),
    ("classification", "get_job", "RO"),
    ("classification", "get_job_summary", "RO"),
    ("classification", "create_job", "W"),
    ("classification", "create_gdlp_job", "W"),
    ("classification", "update_job_status", "W"),
    ("classification", "create_databricks_job", "W"),
    ("classification", "create_oltp_job", "W"),
    ("classification", "get_job_findings", "RO"),
    ("classification", "get_job_findings_schemas", "RO"),
    ("classification", "get_job_findings_tables", "RO"),
    ("classification", "get_job_findings_columns", "RO"),
    ("classification", "get_job_findings_classifiers", "RO"),
    ("classification", "get_job_findings_lineage", "RO"),
    ("classification", "get_job_findings_leaves", "RO"),
    ("classification", "record_job_decision", "W"),
    ("classification", "get_job_decisions", "RO"),
    ("classification", "revoke_job_decisions", "DESTR"),
    ("classification", "record_bulk_job_decision", "W"),
    ("classification", "revoke_bulk_job_decision", "DESTR"),
    ("classification", "get_job_review_status", "RO"),
    ("classification", "confirm_job_report", "W"),
    ("classification", "cancel_job_report", "W"),
    ("classification", "get_classification_report", "RO"),
    ("access", "create_snowflake_access_policy", "W"),
    ("access", "create_oltp_access_policy", "W"),
    ("access", "update_snowflake_access_policy", "W"),
    ("access", "trigger_access_policy_check", "W"),
    ("access", "create_access_request", "W"),
    ("access", "get_access_requests", "RO"),
    ("access", "get_access_request", "RO"),
    ("access", "approve_access_request", "W"),
    ("access", "deny_access_request", "W"),
    ("access", "cancel_access_request", "W"),
    ("audits", "search_audits", "RO"),
    ("audits", "get_audit_results", "RO"),
    ("audits", "search_system_audits", "RO"),
    ("audits", "get_system_audit_results", "RO"),
    ("audits", "search_query_audits", "RO"),
    ("audits", "get_query_audit_results", "RO"),
    ("audits", "list_report_definitions", "RO"),
    ("audits", "create_report_definition", "W"),
    ("audits", "get_report_definition", "RO"),
    ("audits", "update_report_definition", "W"),
    ("audits", "archive_report_definition", "DESTR"),
    ("audits", "restore_report_definition", "W"),
    ("audits", "trigger_report_definition", "W"),
    ("audits", "list_report_instances", "RO"),
    ("audits", "get_report_instance", "RO"),
    ("audits", "get_report_instance_download_url", "RO"),
    ("audits", "list_report_comments", "RO"),
    ("audits", "create_report_comment", "W"),
    ("audits", "pin_report_comment", "W"),
    ("audits", "unpin_report_comment", "W"),
    ("audits", "get_report_sign_off", "RO"),
    ("audits", "create_report_sign_off", "W"),
    ("audits", "list_report_sign_offs", "RO"),
    ("dam", "list_dam_rules", "RO"),
    ("dam", "get_dam_rule", "RO"),
    ("dam", "create_dam_rule", "W"),
    ("dam", "update_dam_rule", "W"),
    ("dam", "delete_dam_rule", "DESTR"),
    ("dam", "list_dam_alerts", "RO"),
    ("dam", "get_dam_alert", "RO"),
    ("dam", "acknowledge_dam_alert", "W"),
    ("dam", "list_dam_alert_comments", "RO"),
    ("dam", "create_dam_alert_comment", "W"),
    ("telemetry", "get_agent_instances", "RO"),
    ("telemetry", "get_agent_instance", "RO"),
    ("telemetry", "disconnect_agent_instance", "DESTR"),
    ("telemetry", "get_agent_task_telemetry", "RO"),
    ("telemetry", "get_sidecar_instances", "RO"),
    ("telemetry", "get_sidecar_instance", "RO"),
    ("telemetry", "disconnect_sidecar_instance", "DESTR"),
    ("telemetry", "get_task_telemetry", "RO"),
    ("telemetry", "delete_task_telemetry", "DESTR"),
    ("sidecars", "list_sc_agents", "RO"),
    ("sidecars", "create_sc_agent", "W"),
    ("sidecars", "get_sc_agent", "RO"),
    ("sidecars", "update_sc_agent", "W"),
    ("sidecars", "disconnect_sc_agent", "DESTR"),
    ("sidecars", "list_sc_agent_tasks", "RO"),
    ("sidecars", "create_sc_agent_task", "W"),
    ("sidecars", "update_sc_agent_task", "W"),
    ("sidecars", "delete_sc_agent_task", "DESTR"),
    ("sidecars", "list_sc_repos", "RO"),
    ("sidecars", "create_sc_repo", "W"),
    ("sidecars", "get_sc_repo", "RO"),
    ("sidecars", "update_sc_repo", "W"),
    ("sidecars", "disconnect_sc_repo", "DESTR"),
    ("sidecars", "list_sc_repo_users", "RO"),
    ("sidecars", "create_sc_repo_user", "W"),
    ("sidecars", "get_sc_repo_user", "RO"),
    ("sidecars", "update_sc_repo_user", "W"),
    ("sidecars", "disconnect_sc_repo_user", "DESTR"),
    ("sidecars", "list_sc_service_users", "RO"),
    ("sidecars", "create_sc_service_user", "W"),
    ("sidecars", "get_sc_service_user", "RO"),
    ("sidecars", "update_sc_service_user", "W"),
    ("sidecars", "disconnect_sc_service_user", "DESTR"),
    ("sidecars", "list_sc_sidecars", "RO"),
    ("sidecars", "create_sc_sidecar", "W"),
    ("sidecars", "get_sc_sidecar", "RO"),
    ("sidecars", "update_sc_sidecar", "W"),
    ("sidecars", "disconnect_sc_sidecar", "DESTR"),
    ("sidecars", "list_sc_sidecar_listeners", "RO"),
    ("sidecars", "register_sc_sidecar_listener", "W"),
    ("sidecars", "deregister_sc_sidecar_listener", "DESTR"),
    ("sidecars", "list_sc_sidecar_bindings", "RO"),
    ("sidecars", "list_sc_repo_bindings", "RO"),
    ("sidecars", "get_sc_sidecar_binding", "RO"),
    ("sidecars", "create_sc_sidecar_binding", "W"),
    ("sidecars", "disconnect_sc_sidecar_binding", "DESTR"),
    ("tokenization", "vault_tokenize", "W"),
    ("tokenization", "vault_detokenize", "CLEAR"),
    ("tokenization", "vault_partial_detokenize", "CLEAR"),
    ("tokenization", "vault_delete_tokens", "DESTR"),
    ("tokenization", "critical_tokenize", "W"),
    ("tokenization", "critical_detokenize", "CLEAR"),
    ("tokenization", "critical_partial_detokenize", "CLEAR"),
    ("tokenization", "critical_delete_tokens", "DESTR"),
    ("keys", "list_tweaks", "RO"),
    ("keys", "get_tweak", "RO"),
    ("keys", "create_tweak", "W"),
    ("keys", "deactivate_tweak", "DESTR"),
    ("keys", "list_keys", "RO"),
    ("keys", "get_key", "RO"),
    ("keys", "create_key", "W"),
    ("keys", "deactivate_key", "DESTR"),
    ("keys", "rotate_key", "W"),
    // Not ALTR API tools: support mode's controls (altr-support-mode.md section 1.3). They change
    // the session, nothing of the org.
    ("support", "enter_support_mode", "RO"),
    ("support", "request_write_unlock", "RO"),
    ("support", "exit_support_mode", "RO"),
];
