//! Prompts for the usual workflows through MCP against the sandbox: listed with typed arguments,
//! filled in on prompts/get, and their argument values completed from the live (simulated) org.

use rmcp::model::GetPromptRequestParams;
use serde_json::json;

use crate::common::args;
use crate::sandbox_common::Sbx;

#[tokio::test]
async fn workflow_prompts_are_listed_and_filled_in() {
    let s = Sbx::start().await;
    let info = s.client.peer_info().unwrap();
    assert!(info.capabilities.prompts.is_some());
    assert!(info.capabilities.completions.is_some());
    let prompts = s.client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "protect_new_tag",
            "classify_database",
            "review_access_requests",
            "investigate_dam_alert",
            "rotate_key_safely"
        ]
    );
    let protect = &prompts[0];
    let required: Vec<&str> = protect
        .arguments
        .as_ref()
        .unwrap()
        .iter()
        .filter(|a| a.required == Some(true))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(required, ["database_name", "tag_name"]);

    let got = s
        .client
        .get_prompt(
            GetPromptRequestParams::new("protect_new_tag").with_arguments(args(
                json!({"database_name": "Sales Analytics", "tag_name": "PII_TYPE", "role": "HR_ADMIN"}),
            )),
        )
        .await
        .unwrap();
    let text = serde_json::to_string(&got.messages).unwrap();
    for part in [
        "`PII_TYPE`",
        "`Sales Analytics`",
        "`HR_ADMIN`",
        "connect_tag",
        "add_rules",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // Every tool a prompt names is a real tool.
    let tools: Vec<&str> = altr_mcp::toolsets::all_tools()
        .iter()
        .map(|t| t.name)
        .collect();
    for p in &prompts {
        let mut a = serde_json::Map::new();
        for arg in p.arguments.as_deref().unwrap_or_default() {
            a.insert(arg.name.clone(), json!("x"));
        }
        let got = s
            .client
            .get_prompt(GetPromptRequestParams::new(p.name.clone()).with_arguments(a))
            .await
            .unwrap();
        let text = serde_json::to_string(&got.messages).unwrap();
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            let looks_like_tool = [
                "get_",
                "list_",
                "create_",
                "add_",
                "connect_",
                "record_",
                "approve_",
                "deny_",
                "rotate_",
                "acknowledge_",
                "search_",
            ]
            .iter()
            .any(|pre| word.starts_with(pre) && word.len() > pre.len());
            if looks_like_tool {
                assert!(
                    tools.contains(&word),
                    "{} names unknown tool {word}",
                    p.name
                );
            }
        }
    }
    // A missing required argument is a protocol error naming it.
    let e = s
        .client
        .get_prompt(GetPromptRequestParams::new("rotate_key_safely"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("namespace"), "{e}");
}

#[tokio::test]
async fn argument_values_complete_from_the_live_org() {
    let s = Sbx::start().await;
    let dbs = s
        .client
        .complete_prompt_simple("protect_new_tag", "database_name", "sal")
        .await
        .unwrap();
    assert_eq!(dbs, ["Sales Analytics"]);
    let tags = s
        .client
        .complete_prompt_simple("protect_new_tag", "tag_name", "")
        .await
        .unwrap();
    assert!(tags.contains(&"PII_TYPE".to_string()), "{tags:?}");
    let roles = s
        .client
        .complete_prompt_simple("protect_new_tag", "role", "DATA_")
        .await
        .unwrap();
    assert_eq!(roles, ["DATA_ENGINEER", "DATA_SCIENTIST"]);
    let collections = s
        .client
        .complete_prompt_simple("classify_database", "collection_name", "p")
        .await
        .unwrap();
    assert_eq!(collections, ["PII"]);
    // An argument without a source completes to nothing.
    let none = s
        .client
        .complete_prompt_simple("rotate_key_safely", "key_name", "")
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn completion_obeys_the_tool_selection() {
    let s = Sbx::with_env(&[("RESTRICTED_TOOLS", "get_roles")]).await;
    let roles = s
        .client
        .complete_prompt_simple("protect_new_tag", "role", "")
        .await
        .unwrap();
    assert!(roles.is_empty(), "{roles:?}");
}
