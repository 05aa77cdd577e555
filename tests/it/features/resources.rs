//! Resources through MCP against the sandbox: the masking levels reference, the toolset
//! catalogue, and read-only views of the org with a template whose ids complete.

use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::Value;

use crate::sandbox_common::Sbx;

async fn read(s: &Sbx, uri: &str) -> Result<String, String> {
    s.client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .map(|r| match r.contents.first() {
            Some(ResourceContents::TextResourceContents { text, .. }) => text.clone(),
            other => panic!("{uri}: {other:?}"),
        })
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn resources_and_templates_are_listed_and_read() {
    let s = Sbx::start().await;
    assert!(s
        .client
        .peer_info()
        .unwrap()
        .capabilities
        .resources
        .is_some());
    let uris: Vec<String> = s
        .client
        .list_all_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uri.clone())
        .collect();
    assert_eq!(
        uris,
        [
            "altr://reference/masking-levels",
            "altr://toolsets",
            "altr://databases",
            "altr://tags"
        ]
    );
    let templates = s.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, "altr://policies/{policy_id}");

    let levels = read(&s, "altr://reference/masking-levels").await.unwrap();
    assert!(levels.contains("10003") && levels.contains("the last four characters"));

    let catalogue: Value =
        serde_json::from_str(&read(&s, "altr://toolsets").await.unwrap()).unwrap();
    let sets = catalogue["toolsets"].as_array().unwrap();
    assert_eq!(sets.len(), 12);
    let tokenization = sets.iter().find(|t| t["id"] == "tokenization").unwrap();
    let detok = tokenization["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "vault_detokenize")
        .unwrap();
    assert_eq!(detok["exposed"], false, "the clear-text gate is closed");

    let dbs = read(&s, "altr://databases").await.unwrap();
    assert!(dbs.contains("Sales Analytics"));
    let tags = read(&s, "altr://tags").await.unwrap();
    assert!(tags.contains("PII_TYPE"));

    // The template: ids complete from get_policies, and a completed id reads its rules.
    let ids = s
        .client
        .complete_resource_simple("altr://policies/{policy_id}", "policy_id", "tag#")
        .await
        .unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let encoded = ids[0].replace('#', "%23");
    let rules = read(&s, &format!("altr://policies/{encoded}"))
        .await
        .unwrap();
    assert!(rules.contains("ANALYST"), "{rules}");

    let e = read(&s, "altr://policies/TAG%23no-such-policy")
        .await
        .unwrap_err();
    assert!(e.contains("404") || e.contains("not"), "{e}");
    let e = read(&s, "altr://nothing").await.unwrap_err();
    assert!(e.contains("Unknown resource"), "{e}");
}

#[tokio::test]
async fn org_views_obey_the_tool_selection() {
    let s = Sbx::with_env(&[("ALTR_TOOLSETS", "tags")]).await;
    let e = read(&s, "altr://databases").await.unwrap_err();
    assert!(e.contains("not available"), "{e}");
    assert!(read(&s, "altr://tags").await.unwrap().contains("PII_TYPE"));
}
