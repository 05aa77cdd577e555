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
        // destructiveHint defaults to true for a write.
        let a = ann(name);
        assert_eq!(a.read_only_hint, None, "{name}");
        assert!(a.destructive_hint.unwrap_or(true), "{name}");
    }
    let rotate = ann("rotate_key");
    // Protocol defaults: readOnlyHint false, idempotentHint false.
    assert!(!rotate.read_only_hint.unwrap_or(false));
    assert_eq!(rotate.destructive_hint, Some(false));
    assert!(!rotate.idempotent_hint.unwrap_or(false));
}

// Against the sandbox.

use crate::sandbox_common::{names, Sbx};
use serde_json::Value;

fn sequences(key: &Value) -> Vec<(u64, String)> {
    key["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["sequence"].as_u64().unwrap(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sandbox_key_workflow_create_rotate_deactivate_list() {
    let s = Sbx::start().await;
    let created = s
        .call(
            "create_key",
            json!({"namespace": "payments", "name": "token-key"}),
        )
        .await;
    assert_eq!(created.ok()["current_sequence"], 1);
    let dup = s
        .call(
            "create_key",
            json!({"namespace": "payments", "name": "token-key"}),
        )
        .await;
    dup.upstream(409);

    // Envelope rotation: the same sequence, its data key re-wrapped; the key material stays.
    let rotate = json!({"namespace": "payments", "name": "token-key", "sequence": 1});
    let rotated = s.call("rotate_key", rotate.clone()).await;
    let rotated = rotated.ok().clone();
    assert_eq!(rotated["sequence"], 1);
    assert_eq!(rotated["current_sequence"], 1);
    assert_eq!(rotated["status"], "active");
    assert_eq!(rotated["envelope_version"], 2);
    assert!(rotated["envelope_rotated_at"].is_string());
    let again = s.call("rotate_key", rotate.clone()).await;
    assert_eq!(again.ok()["sequence"], 1);
    assert_eq!(again.ok()["envelope_version"], 3);

    let off = s
        .call(
            "deactivate_key",
            json!({"namespace": "payments", "name": "token-key", "sequence": 1}),
        )
        .await;
    assert_eq!(off.ok()["after"]["status"], "deactivated");
    assert!(off.ok()["before"].is_object(), "{}", off.envelope);
    // A deactivated sequence is not rotated.
    s.call("rotate_key", rotate).await.upstream(409);
    let old = s
        .call(
            "get_key",
            json!({"namespace": "payments", "name": "token-key", "sequence": 1}),
        )
        .await;
    assert_eq!(old.ok()["status"], "deactivated");
    assert_eq!(old.ok()["envelope_version"], 3);
    // The seeded card-key has two sequences: 1 deactivated, 2 current.
    let now = s
        .call(
            "get_key",
            json!({"namespace": "payments", "name": "card-key"}),
        )
        .await;
    assert_eq!(now.ok()["sequence"], 2);
    assert_eq!(now.ok()["status"], "active");
    s.call(
        "get_key",
        json!({"namespace": "payments", "name": "token-key", "sequence": 9}),
    )
    .await
    .upstream(404);

    let deactivated = s
        .call(
            "list_keys",
            json!({"namespace": "payments", "status": "deactivated"}),
        )
        .await;
    let keys = deactivated.ok()["keys"].clone();
    assert_eq!(names(&keys, "name"), ["card-key", "token-key"]);
    let token_key = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "token-key")
        .unwrap();
    assert_eq!(sequences(token_key), [(1, "deactivated".to_string())]);
    let active = s
        .call(
            "list_keys",
            json!({"namespace": "payments", "status": "active", "contain": "CARD"}),
        )
        .await;
    let keys = active.ok()["keys"].clone();
    assert_eq!(names(&keys, "name"), ["card-key"]);
    assert_eq!(sequences(&keys[0]), [(2, "active".to_string())]);
    let none = s
        .call(
            "list_keys",
            json!({"namespace": "payments", "status": "active", "contain": "TOKEN"}),
        )
        .await;
    assert_eq!(none.ok()["keys"], json!([]));
    let all = s
        .call(
            "list_keys",
            json!({"namespace": "payments", "status": "any"}),
        )
        .await;
    assert_eq!(sequences(&all.ok()["keys"][0]).len(), 2);

    s.call("list_keys", json!({"namespace": "nowhere"}))
        .await
        .upstream(404);
}

#[tokio::test]
async fn sandbox_lists_page_by_contiguous_id_and_tweaks_deactivate() {
    let s = Sbx::start().await;
    let first = s
        .call("list_keys", json!({"namespace": "payments", "limit": 1}))
        .await;
    let first = first.ok().clone();
    assert_eq!(names(&first["keys"], "name"), ["card-key"]);
    let cursor = first["contiguous_id"].as_str().unwrap();
    let second = s
        .call(
            "list_keys",
            json!({"namespace": "payments", "limit": 1, "contiguous_id": cursor}),
        )
        .await;
    let second = second.ok().clone();
    assert_eq!(names(&second["keys"], "name"), ["iban-key"]);
    assert!(second.get("contiguous_id").is_none());
    assert_eq!(
        names(
            &s.call("list_keys", json!({"namespace": "hr"})).await.ok()["keys"],
            "name"
        ),
        ["ssn-key"]
    );

    let tweaks = s.call("list_tweaks", json!({})).await;
    assert_eq!(names(&tweaks.ok()["tweaks"], "name"), ["ssn-tweak"]);
    s.call("create_tweak", json!({"name": "email tweak"}))
        .await
        .ok();
    let got = s.call("get_tweak", json!({"name": "email tweak"})).await;
    assert_eq!(got.ok()["sequence"], 1);
    let off = s
        .call(
            "deactivate_tweak",
            json!({"name": "email tweak", "sequence": 1}),
        )
        .await;
    assert_eq!(off.ok()["after"]["status"], "deactivated");
    assert_eq!(off.ok()["before"]["sequence"], 1, "{}", off.envelope);
    let active = s.call("list_tweaks", json!({"status": "active"})).await;
    assert_eq!(names(&active.ok()["tweaks"], "name"), ["ssn-tweak"]);
    s.call("deactivate_tweak", json!({"name": "nope", "sequence": 1}))
        .await
        .upstream(404);
}
