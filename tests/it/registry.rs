//! The registry as a whole: names, annotations, schemas, per-domain counts, selection rules, and
//! the generated tool reference.

use std::collections::BTreeSet;

use altr_mcp::tools::{all_tools, docs, Effect, Registry, Selection, SelectionError, Toolset};
use serde_json::Value;

fn select(
    toolsets: &[&str],
    read_only: bool,
    restricted: &[&str],
) -> Result<Registry, SelectionError> {
    Registry::select(&Selection {
        toolsets: toolsets.iter().map(|s| s.to_string()).collect(),
        read_only,
        restricted: restricted.iter().map(|s| s.to_string()).collect(),
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
fn per_domain_counts() {
    let tools = all_tools();
    let count = |ts: Toolset| tools.iter().filter(|t| t.toolset == ts).count();
    assert_eq!(count(Toolset::Databases), 8);
    assert_eq!(count(Toolset::Tags), 8);
    assert_eq!(count(Toolset::Policies), 9);
    assert_eq!(tools.len(), 25);
}

#[test]
fn every_tool_is_fully_annotated_and_described() {
    for t in all_tools() {
        let tool = t.to_tool();
        let a = tool.annotations.as_ref().expect("annotations");
        assert!(
            a.title.as_deref().is_some_and(|s| !s.is_empty()),
            "{} title",
            t.name
        );
        assert!(a.read_only_hint.is_some(), "{} readOnlyHint", t.name);
        assert!(a.destructive_hint.is_some(), "{} destructiveHint", t.name);
        assert!(a.idempotent_hint.is_some(), "{} idempotentHint", t.name);
        assert!(a.open_world_hint.is_some(), "{} openWorldHint", t.name);
        assert_eq!(
            a.read_only_hint,
            Some(t.effect == Effect::ReadOnly),
            "{}",
            t.name
        );
        assert_eq!(
            a.destructive_hint,
            Some(t.effect == Effect::Destructive),
            "{}",
            t.name
        );
        let d = tool.description.as_deref().unwrap_or("");
        assert!(
            d.len() > 40 && d.len() < 600,
            "{} description length {}",
            t.name,
            d.len()
        );
    }
}

#[test]
fn verbs_match_effects() {
    for t in all_tools() {
        let reads = t.name.starts_with("get_") || t.name.starts_with("list_");
        assert_eq!(reads, t.effect == Effect::ReadOnly, "{}", t.name);
        let removes = t.name.starts_with("delete_") || t.name.starts_with("disconnect_");
        assert_eq!(removes, t.effect == Effect::Destructive, "{}", t.name);
    }
}

#[test]
fn schemas_are_objects_with_every_parameter_documented() {
    for t in all_tools() {
        let schema = Value::Object((t.schema)());
        assert_eq!(schema["type"], "object", "{}", t.name);
        assert!(schema["properties"].is_object(), "{}", t.name);
        assert!(!schema.to_string().contains("$ref"), "{} has $ref", t.name);
        for (name, p) in schema["properties"].as_object().unwrap() {
            let desc = p["description"].as_str().unwrap_or("");
            assert!(!desc.is_empty(), "{}.{name} undocumented", t.name);
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
    assert_eq!(select(&[], false, &[]).unwrap().tools().len(), 25);
    assert_eq!(select(&["all"], false, &[]).unwrap().tools().len(), 25);
    assert_eq!(select(&["default"], false, &[]).unwrap().tools().len(), 25);
    let tags = select(&["tags"], false, &[]).unwrap();
    assert_eq!(tags.tools().len(), 8);
    assert!(tags.is_hidden("get_databases"));
    let ro = select(&[], true, &[]).unwrap();
    assert_eq!(ro.tools().len(), 11);
    assert!(ro.tools().iter().all(|t| t.effect == Effect::ReadOnly));
    let r = select(
        &["databases", "Policies"],
        false,
        &["delete_policy", "get_roles"],
    )
    .unwrap();
    assert_eq!(r.tools().len(), 8 + 9 - 2);
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
    let expected = docs::markdown(&Registry::everything());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/index.md");
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual.trim_end() == expected.trim_end(),
        "docs/index.md is stale: regenerate it with `cargo run -- tools --format markdown > docs/index.md`"
    );
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
    let readme = include_str!("../../README.md");
    for (var, _) in altr_mcp::settings::VARIABLES {
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
