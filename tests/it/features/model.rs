//! What the model meets (issue 24), through MCP against the sandbox: text this server fences
//! when it returns it is accepted back as input.

use serde_json::json;

use crate::sandbox_common::Sbx;

#[tokio::test]
async fn fenced_text_read_back_is_accepted_as_input() {
    let s = Sbx::start().await;
    let alerts = s.call("list_dam_alerts", json!({})).await;
    let alert_id = alerts.ok()["alerts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a demo alert in {}", alerts.envelope))
        .to_string();
    s.call(
        "create_dam_alert_comment",
        json!({"alert_id": alert_id, "text": "first look"}),
    )
    .await
    .ok();
    let listed = s
        .call("list_dam_alert_comments", json!({"alert_id": alert_id}))
        .await;
    let fenced = listed.ok()["comments"][0]["text"].clone();
    assert_eq!(fenced, json!({"untrusted_text": "first look"}));
    // Sent back as it came, fence and all: the text is what ALTR receives.
    s.call(
        "create_dam_alert_comment",
        json!({"alert_id": alert_id, "text": fenced}),
    )
    .await
    .ok();
    let listed = s
        .call("list_dam_alert_comments", json!({"alert_id": alert_id}))
        .await;
    let texts: Vec<_> = listed.ok()["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].clone())
        .collect();
    assert_eq!(
        texts,
        [fenced.clone(), fenced],
        "stored as text, not as a nested fence"
    );
    // An object that is not exactly the fence is still refused where text is expected.
    let c = s
        .call(
            "create_dam_alert_comment",
            json!({"alert_id": alert_id, "text": {"untrusted_text": "x", "more": 1}}),
        )
        .await;
    c.invalid("text");
}
