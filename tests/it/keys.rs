//! Key management tools through MCP against the fake ALTR API, and a key's life cycle against the
//! sandbox.

use crate::common::*;
use serde_json::json;

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "list_tweaks",
            args: json!({"contiguous_id": "c1", "limit": 50, "contain": "pii", "status": "Active"}),
            method: "GET",
            path: "/kma/tweaks",
            query: &[
                ("contiguous_id", "c1"),
                ("limit", "50"),
                ("contain", "pii"),
                ("status", "active"),
            ],
            body: None,
        },
        Sends {
            tool: "list_tweaks",
            args: none(),
            method: "GET",
            path: "/kma/tweaks",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_tweak",
            args: json!({"name": "ssn-tweak", "sequence": 2}),
            method: "GET",
            path: "/kma/tweaks/ssn-tweak",
            query: &[("sequence", "2")],
            body: None,
        },
        Sends {
            tool: "get_tweak",
            args: json!({"name": "a b", "sequence": "3"}),
            method: "GET",
            path: "/kma/tweaks/a%20b",
            query: &[("sequence", "3")],
            body: None,
        },
        Sends {
            tool: "create_tweak",
            args: json!({"name": "ssn-tweak"}),
            method: "POST",
            path: "/kma/tweaks",
            query: &[],
            body: Some(json!({"name": "ssn-tweak"})),
        },
        Sends {
            tool: "deactivate_tweak",
            args: json!({"name": "ssn-tweak", "sequence": 1}),
            method: "PATCH",
            path: "/kma/tweaks/ssn-tweak/sequence/1/deactivate",
            query: &[],
            body: None,
        },
        Sends {
            tool: "list_keys",
            args: json!({"namespace": "payments", "limit": 10, "status": "deactivated"}),
            method: "GET",
            path: "/kma/keys/payments",
            query: &[("limit", "10"), ("status", "deactivated")],
            body: None,
        },
        Sends {
            tool: "list_keys",
            args: json!({"namespace": "pay/ments", "contiguous_id": "k9", "contain": "card", "status": "any"}),
            method: "GET",
            path: "/kma/keys/pay%2Fments",
            query: &[
                ("contiguous_id", "k9"),
                ("contain", "card"),
                ("status", "any"),
            ],
            body: None,
        },
        Sends {
            tool: "get_key",
            args: json!({"namespace": "payments", "name": "card-key"}),
            method: "GET",
            path: "/kma/keys/payments/card-key",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_key",
            args: json!({"namespace": "payments", "name": "card#key", "sequence": 4}),
            method: "GET",
            path: "/kma/keys/payments/card%23key",
            query: &[("sequence", "4")],
            body: None,
        },
        Sends {
            tool: "create_key",
            args: json!({"namespace": "payments", "name": "card-key"}),
            method: "POST",
            path: "/kma/keys",
            query: &[],
            body: Some(json!({"name": "card-key", "namespace": "payments"})),
        },
        Sends {
            tool: "deactivate_key",
            args: json!({"namespace": "payments", "name": "card-key", "sequence": 1}),
            method: "PATCH",
            path: "/kma/keys/payments/card-key/sequence/1/deactivate",
            query: &[],
            body: None,
        },
        Sends {
            tool: "rotate_key",
            args: json!({"namespace": "payments", "name": "card-key", "sequence": 1}),
            method: "PATCH",
            path: "/kma/keys/payments/card-key/sequence/1/rotate",
            query: &[],
            body: None,
        },
    ]
}

#[tokio::test]
async fn names_sequences_statuses_and_limits_are_checked_before_sending() {
    let h = Harness::start().await;
    assert_refused(&h, "create_tweak", json!({"name": " "}), "name").await;
    assert_refused(
        &h,
        "create_key",
        json!({"namespace": "", "name": "k"}),
        "namespace",
    )
    .await;
    assert_refused(
        &h,
        "rotate_key",
        json!({"namespace": "n", "name": "k", "sequence": 0}),
        "sequence",
    )
    .await;
    assert_refused(
        &h,
        "deactivate_key",
        json!({"namespace": "n", "name": "k", "sequence": SECRET}),
        "sequence",
    )
    .await;
    assert_refused(
        &h,
        "deactivate_tweak",
        json!({"name": "t", "sequence": "1/../2"}),
        "sequence",
    )
    .await;
    assert_refused(&h, "list_tweaks", json!({"status": SECRET}), "status").await;
    assert_refused(
        &h,
        "list_keys",
        json!({"namespace": "n", "status": "inactive"}),
        "status",
    )
    .await;
    assert_refused(
        &h,
        "list_keys",
        json!({"namespace": "n", "limit": 1001}),
        "limit",
    )
    .await;
    assert_refused(
        &h,
        "get_key",
        json!({"namespace": "n", "name": ".."}),
        "name",
    )
    .await;
}

#[tokio::test]
async fn status_refusal_lists_the_allowed_values() {
    let h = Harness::start().await;
    let c = h.call("list_tweaks", json!({"status": "inactive"})).await;
    c.invalid("status");
    let message = c.error()["message"].as_str().unwrap();
    assert!(message.contains("active, deactivated, any"), "{message}");
}

#[tokio::test]
async fn deactivations_are_destructive_and_rotation_is_a_non_idempotent_write() {
    let h = Harness::start().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let ann = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.annotations.clone())
            .unwrap_or_else(|| panic!("{name} listed with annotations"))
    };
    for name in ["deactivate_key", "deactivate_tweak"] {
        assert_eq!(ann(name).destructive_hint, Some(true), "{name}");
    }
    let rotate = ann("rotate_key");
    assert_eq!(rotate.read_only_hint, Some(false));
    assert_eq!(rotate.destructive_hint, Some(false));
    assert_eq!(rotate.idempotent_hint, Some(false));
}
