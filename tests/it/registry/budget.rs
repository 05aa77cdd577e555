//! The size of tools/list: every tool description is paid for in every prompt, so the whole list
//! (all 172 tools, clear-text gate open) has a budget, measured on the real answer of a server.

use serde_json::json;

use crate::common::Harness;

/// The goal of issue 14, in bytes of compact JSON for the `tools` of tools/list with every tool
/// exposed: half of what ALTR's Python server sends for the same 172 tools (165,374 bytes). It was
/// 79,551 bytes when the target was reached; a change that crosses it fails here.
const TARGET: usize = 82_000;

#[tokio::test]
async fn all_tools_fit_the_tools_list_budget() {
    let h = Harness::with_env(&[("ALTR_ALLOW_CLEARTEXT", "true"), ("ALTR_TOOLSETS", "all")]).await;
    let tools = h.client.list_all_tools().await.unwrap();
    // Every tool but the two support-mode tools a session lists only once armed.
    assert_eq!(tools.len(), altr_mcp::toolsets::all_tools().len() - 2);
    assert_eq!(tools.len(), 174);
    let bytes = serde_json::to_vec(&json!({ "tools": tools }))
        .unwrap()
        .len();
    println!(
        "tools/list: {} tools in {bytes} bytes of compact JSON ({} per tool; budget {TARGET})",
        tools.len(),
        bytes / tools.len()
    );
    // Per toolset, to show where the bytes go.
    for set in altr_mcp::toolsets::TOOLSETS {
        let mine: Vec<_> = tools
            .iter()
            .filter(|t| {
                altr_mcp::toolsets::all_tools()
                    .iter()
                    .any(|d| d.name == t.name && d.toolset.id == set.id)
            })
            .collect();
        let weight = serde_json::to_vec(&mine).unwrap().len();
        println!(
            "  {:<15} {:>3} tools {:>6} bytes",
            set.id,
            mine.len(),
            weight
        );
    }
    assert!(
        bytes <= TARGET,
        "tools/list is {bytes} bytes, over the budget of {TARGET}: shorten descriptions or schemas"
    );
}

#[tokio::test]
async fn lean_schemas_keep_what_the_model_needs() {
    let h = Harness::with_env(&[("ALTR_ALLOW_CLEARTEXT", "true")]).await;
    let tools = h.client.list_all_tools().await.unwrap();
    let text = serde_json::to_string(&tools).unwrap();
    // Nothing that repeats a protocol default or a check the server makes anyway.
    assert!(
        !text.contains("\"openWorldHint\""),
        "openWorldHint true is the default"
    );
    assert!(!text.contains("\"additionalProperties\":false"));
    assert!(!text.contains("\"minLength\":1"));
    for t in &tools {
        let a = t.annotations.as_ref().unwrap();
        assert!(a.title.is_none(), "{}: the title is the tool's own", t.name);
        assert!(
            t.title.as_deref().is_some_and(|s| !s.is_empty()),
            "{}",
            t.name
        );
    }
    // Unknown arguments are still refused, though the schema no longer says so.
    let c = h.call("get_databases", json!({"bogus": 1})).await;
    c.invalid("bogus");
    h.assert_no_requests().await;
    // Empty text is still refused, though the schema no longer says so.
    let c = h
        .call("get_tag_details_by_group_id", json!({"tag_group_id": ""}))
        .await;
    c.invalid("tag_group_id");
    h.assert_no_requests().await;
}
