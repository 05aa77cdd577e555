//! Tokenization tools through MCP against the fake ALTR API: the wire keys, the determinism
//! header, the batch limits, the clear-text gate and its `_meta` label, and a token's life
//! cycle against the sandbox.

use crate::common::*;
use altr_mcp::registry::Selection;
use rmcp::model::CallToolRequestParams;
use serde_json::{json, Map, Value};
use wiremock::{Mock, Request, ResponseTemplate};

const OPEN: &[(&str, &str)] = &[("ALTR_ALLOW_CLEARTEXT", "true")];

/// The eight tools: name, method, path on the fake, the batch parameter, whether tokenize.
const TOOLS: &[(&str, &str, &str, &str, bool)] = &[
    ("vault_tokenize", "POST", "/vault/batch", "values", true),
    ("vault_detokenize", "PUT", "/vault/batch", "tokens", false),
    (
        "vault_partial_detokenize",
        "PUT",
        "/vault/batch/partial",
        "values",
        false,
    ),
    (
        "vault_delete_tokens",
        "PUT",
        "/vault/batch/delete",
        "tokens",
        false,
    ),
    (
        "critical_tokenize",
        "POST",
        "/critical/batch",
        "values",
        true,
    ),
    (
        "critical_detokenize",
        "PUT",
        "/critical/batch",
        "tokens",
        false,
    ),
    (
        "critical_partial_detokenize",
        "PUT",
        "/critical/batch/partial",
        "values",
        false,
    ),
    (
        "critical_delete_tokens",
        "PUT",
        "/critical/batch/delete",
        "tokens",
        false,
    ),
];

const CLEAR: &[&str] = &[
    "vault_detokenize",
    "vault_partial_detokenize",
    "critical_detokenize",
    "critical_partial_detokenize",
];

fn determinism(r: &Request) -> Option<String> {
    r.headers
        .get("x-altr-determinism")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `n` values keyed `k<n-1>` down to `k0` (so the caller's order is not alphabetical).
fn batch(n: usize) -> Map<String, Value> {
    (0..n)
        .rev()
        .map(|i| (format!("k{i}"), json!(format!("v{i}"))))
        .collect()
}

/// The fake API echoes a batch back: `{success, data: {fieldNNN: "t-" + value}}`.
async fn echo(h: &Harness) {
    Mock::given(matchers::any())
        .respond_with(|r: &Request| {
            let body: Map<String, Value> = serde_json::from_slice(&r.body).unwrap_or_default();
            let data: Map<String, Value> = body
                .into_iter()
                .map(|(k, v)| (k, json!(format!("t-{}", v.as_str().unwrap_or_default()))))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": data}))
        })
        .mount(&h.api)
        .await;
}

#[tokio::test]
async fn vault_and_critical_tools_send_numbered_fields_and_map_the_answer_back() {
    let h = Harness::with_env(OPEN).await;
    for (tool, method, path, param, tokenizes) in TOOLS {
        h.api.reset().await;
        h.mock(
            method,
            path,
            200,
            json!({"success": true, "data": {"field000": "A", "field001": "B", "note": "kept"}}),
        )
        .await;
        let mut args = json!({*param: {"ssn": "123-45-6789", "email": "a@b.c"}});
        if *tokenizes {
            args["deterministic"] = json!(true);
        }
        let c = h.call(tool, args).await;
        assert_eq!(
            c.ok(),
            &json!({"ssn": "A", "email": "B", "note": "kept"}),
            "{tool}"
        );
        let r = h.only_request().await;
        assert_request(
            &r,
            method,
            path,
            &[],
            Some(json!({"field000": "123-45-6789", "field001": "a@b.c"})),
        );
        let want = tokenizes.then(|| "true".to_string());
        assert_eq!(determinism(&r), want, "{tool}: determinism header");
    }
}

#[tokio::test]
async fn vault_tokenize_sends_determinism_false_by_default() {
    let h = Harness::start().await;
    for (tool, deterministic, want) in [
        ("vault_tokenize", None, "false"),
        ("vault_tokenize", Some(false), "false"),
        ("critical_tokenize", None, "false"),
        ("critical_tokenize", Some(true), "true"),
    ] {
        h.api.reset().await;
        echo(&h).await;
        let mut args = json!({"values": {"x": "1"}});
        if let Some(d) = deterministic {
            args["deterministic"] = json!(d);
        }
        h.call(tool, args).await.ok();
        assert_eq!(
            determinism(&h.only_request().await).as_deref(),
            Some(want),
            "{tool}"
        );
    }
}

#[tokio::test]
async fn vault_keys_follow_the_callers_order_padded_to_three_digits() {
    let h = Harness::start().await;
    for n in [1usize, 12] {
        h.api.reset().await;
        echo(&h).await;
        let c = h.call("vault_tokenize", json!({"values": batch(n)})).await;
        let body: Map<String, Value> =
            serde_json::from_slice(&h.only_request().await.body).unwrap();
        let keys: Vec<&str> = body.keys().map(String::as_str).collect();
        let want: Vec<String> = (0..n).map(|i| format!("field{i:03}")).collect();
        assert_eq!(keys, want, "{n} values");
        // field000 holds the caller's first value (k<n-1>), and so on.
        for (i, (wire, value)) in body.iter().enumerate() {
            assert_eq!(wire, &format!("field{i:03}"));
            assert_eq!(value, &json!(format!("v{}", n - 1 - i)));
        }
        let data = c.ok().as_object().unwrap();
        let got: Vec<&str> = data.keys().map(String::as_str).collect();
        let want: Vec<String> = (0..n).rev().map(|i| format!("k{i}")).collect();
        assert_eq!(got, want, "answer keys for {n} values");
        for i in 0..n {
            assert_eq!(data[&format!("k{i}")], json!(format!("t-v{i}")));
        }
    }
}

#[tokio::test]
async fn critical_keys_past_999_keep_counting() {
    let h = Harness::start().await;
    echo(&h).await;
    h.call("critical_tokenize", json!({"values": batch(1001)}))
        .await
        .ok();
    let body: Map<String, Value> = serde_json::from_slice(&h.only_request().await.body).unwrap();
    let keys: Vec<&str> = body.keys().map(String::as_str).collect();
    assert_eq!(keys[999], "field999");
    assert_eq!(keys[1000], "field1000");
}

#[tokio::test]
async fn vault_takes_4096_values_and_refuses_4097_without_sending() {
    let h = Harness::with_env(OPEN).await;
    for (tool, _, _, param, _) in TOOLS.iter().filter(|t| t.0.starts_with("vault")) {
        h.api.reset().await;
        echo(&h).await;
        let c = h.call(tool, json!({*param: batch(4096)})).await;
        assert_eq!(c.ok().as_object().unwrap().len(), 4096, "{tool}");
        h.only_request().await;

        h.api.reset().await;
        let c = h.call(tool, json!({*param: batch(4097)})).await;
        c.invalid(param);
        let message = c.error()["message"].as_str().unwrap();
        assert!(message.contains("4096"), "{tool}: {message}");
        h.assert_no_requests().await;
    }
}

#[tokio::test]
async fn critical_takes_1024_values_and_refuses_1025_without_sending() {
    let h = Harness::with_env(OPEN).await;
    for (tool, _, _, param, _) in TOOLS.iter().filter(|t| t.0.starts_with("critical")) {
        h.api.reset().await;
        echo(&h).await;
        let c = h.call(tool, json!({*param: batch(1024)})).await;
        assert_eq!(c.ok().as_object().unwrap().len(), 1024, "{tool}");
        h.only_request().await;

        h.api.reset().await;
        let c = h.call(tool, json!({*param: batch(1025)})).await;
        c.invalid(param);
        let message = c.error()["message"].as_str().unwrap();
        assert!(message.contains("1024"), "{tool}: {message}");
        h.assert_no_requests().await;
    }
}

#[tokio::test]
async fn critical_empty_and_non_text_batches_are_refused_without_echo() {
    let h = Harness::with_env(OPEN).await;
    for (tool, _, _, param, _) in TOOLS {
        assert_refused(&h, tool, json!({*param: {}}), param).await;
        assert_refused(&h, tool, json!({*param: {"k": 12345, "j": SECRET}}), param).await;
        assert_refused(&h, tool, json!({*param: [SECRET]}), param).await;
        assert_refused(&h, tool, json!({*param: SECRET}), param).await;
    }
    assert_refused(
        &h,
        "vault_tokenize",
        json!({"values": {"k": "v"}, "deterministic": SECRET}),
        "deterministic",
    )
    .await;
}

#[tokio::test]
async fn vault_answers_that_are_not_success_with_data_are_returned_as_is() {
    let h = Harness::with_env(OPEN).await;
    // Only ALTR's own envelope comes off.
    for (answer, data) in [
        (json!({"success": true}), json!({})),
        (
            json!({"success": true, "message": "queued"}),
            json!({"message": "queued"}),
        ),
        (
            json!({"success": true, "data": ["field000"]}),
            json!(["field000"]),
        ),
    ] {
        for tool in ["vault_tokenize", "vault_detokenize"] {
            h.api.reset().await;
            h.mock(
                if tool == "vault_tokenize" {
                    "POST"
                } else {
                    "PUT"
                },
                "/vault/batch",
                200,
                answer.clone(),
            )
            .await;
            let param = if tool == "vault_tokenize" {
                "values"
            } else {
                "tokens"
            };
            let c = h.call(tool, json!({param: {"ssn": "x"}})).await;
            assert_eq!(c.ok(), &data, "{tool}");
        }
    }
    // A 2xx that says `success: false` is a failure (not passed through as the Python server does).
    h.api.reset().await;
    let refused = json!({"success": false, "data": {"field000": "x"}, "message": "partly failed"});
    h.mock("POST", "/vault/batch", 200, refused).await;
    let c = h
        .call("vault_tokenize", json!({"values": {"ssn": "x"}}))
        .await;
    assert_eq!(c.error()["code"], "upstream_unsuccessful", "{}", c.envelope);
}

#[tokio::test]
async fn vault_upstream_failures_are_failures() {
    for (tool, method, path, param, _) in TOOLS.iter().filter(|t| !CLEAR.contains(&t.0)) {
        assert_upstream_failure(tool, json!({*param: {"k": "v"}}), method, path, 403).await;
    }
}

// The clear-text gate.

async fn listed(h: &Harness) -> Vec<String> {
    h.client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

#[tokio::test]
async fn gate_closed_by_default_hides_and_refuses_detokenize_naming_the_setting() {
    for env in [
        &[][..],
        &[("ALTR_READ_ONLY", "true")][..],
        &[("ALTR_ALLOW_CLEARTEXT", "false")][..],
    ] {
        let h = Harness::with_env(env).await;
        let names = listed(&h).await;
        for tool in CLEAR {
            assert!(
                !names.iter().any(|n| n == tool),
                "{tool} listed with {env:?}"
            );
            let c = h
                .call(
                    tool,
                    json!({"tokens": {"k": SECRET}, "values": {"k": SECRET}}),
                )
                .await;
            let e = c.error();
            assert_eq!(e["code"], "tool_unavailable", "{tool}");
            let message = e["message"].as_str().unwrap();
            assert!(
                message.contains("ALTR_ALLOW_CLEARTEXT"),
                "{tool}: {message}"
            );
            assert!(!c.text.contains(SECRET));
        }
        h.assert_no_requests().await;
    }
}

#[tokio::test]
async fn gate_open_lists_detokenize_also_in_read_only_mode() {
    let h = Harness::with_env(OPEN).await;
    let names = listed(&h).await;
    for (tool, ..) in TOOLS {
        assert!(names.iter().any(|n| n == tool), "{tool} not listed");
    }
    let h =
        Harness::with_env(&[("ALTR_ALLOW_CLEARTEXT", "true"), ("ALTR_READ_ONLY", "true")]).await;
    let names = listed(&h).await;
    for tool in CLEAR {
        assert!(
            names.iter().any(|n| n == tool),
            "{tool} not listed read-only"
        );
    }
    for tool in [
        "vault_tokenize",
        "vault_delete_tokens",
        "critical_tokenize",
        "critical_delete_tokens",
    ] {
        assert!(!names.iter().any(|n| n == tool), "{tool} listed read-only");
        let c = h.call(tool, json!({"values": {"k": "v"}})).await;
        assert_eq!(c.error()["code"], "tool_unavailable");
        assert!(!c.error()["message"]
            .as_str()
            .unwrap()
            .contains("ALTR_ALLOW_CLEARTEXT"));
    }
    echo(&h).await;
    let c = h
        .call("critical_detokenize", json!({"tokens": {"ssn": "tok"}}))
        .await;
    assert_eq!(c.ok(), &json!({"ssn": "t-tok"}));
}

#[tokio::test]
async fn gate_restricted_tools_stay_hidden_with_the_gate_open() {
    let h = Harness::with_env(&[
        ("ALTR_ALLOW_CLEARTEXT", "true"),
        ("RESTRICTED_TOOLS", "vault_detokenize"),
    ])
    .await;
    assert!(!listed(&h).await.iter().any(|n| n == "vault_detokenize"));
    let c = h
        .call("vault_detokenize", json!({"tokens": {"k": "t"}}))
        .await;
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("RESTRICTED_TOOLS"));
    h.assert_no_requests().await;
}

#[test]
fn gate_is_a_registry_rule() {
    let closed = altr_mcp::toolsets::select(&Selection::default()).unwrap();
    let open = altr_mcp::toolsets::select(&Selection {
        allow_cleartext: true,
        ..Selection::default()
    })
    .unwrap();
    for tool in CLEAR {
        assert!(closed.is_gated(tool) && closed.get(tool).is_none());
        assert!(!open.is_gated(tool) && open.get(tool).is_some());
    }
    assert!(!closed.is_gated("vault_tokenize"));
}

#[tokio::test]
async fn gate_open_labels_clear_text_results_and_only_them() {
    let h = Harness::with_env(OPEN).await;
    echo(&h).await;
    for (tool, _, _, param, _) in TOOLS {
        let mut params = CallToolRequestParams::new(tool.to_string());
        params = params.with_arguments(args(json!({*param: {"k": "v"}})));
        let r = h.client.call_tool(params).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{tool}");
        let label = r
            .meta
            .as_ref()
            .and_then(|m| m.0.get("altr/sensitivity").cloned());
        if CLEAR.contains(tool) {
            assert_eq!(label, Some(json!("cleartext")), "{tool}");
        } else {
            assert_eq!(label, None, "{tool}");
        }
    }
}

#[tokio::test]
async fn gate_open_keeps_values_tokens_and_clear_text_out_of_the_log() {
    use rmcp::transport::TokioChildProcess;
    use rmcp::ServiceExt;
    use std::process::Stdio;
    use tokio::io::AsyncReadExt;

    const CLEAR_VALUE: &str = "123-45-6789-clear";
    const TOKEN: &str = "tok-9f8e7d-secret";
    let api = wiremock::MockServer::start().await;
    Mock::given(matchers::method("POST"))
        .and(matchers::path("/vault/batch"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "data": {"field000": TOKEN}})),
        )
        .mount(&api)
        .await;
    Mock::given(matchers::method("PUT"))
        .and(matchers::path("/vault/batch"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "data": {"field000": CLEAR_VALUE}})),
        )
        .mount(&api)
        .await;
    Mock::given(matchers::method("PUT"))
        .and(matchers::path("/vault/batch/partial"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"message": "bad batch"})))
        .mount(&api)
        .await;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_altr-mcp"));
    cmd.env_clear()
        .env("ORG_ID", "test-org")
        .env("MAPI_KEY", "test-key")
        .env("MAPI_SECRET", "test-secret")
        .env("ALTR_VAULT_BASE_URL", format!("{}/vault", api.uri()))
        .env("ALTR_ALLOW_CLEARTEXT", "true")
        .env("LOG_FORMAT", "json")
        .env("LOG_LEVEL", "debug");
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = ().serve(transport).await.unwrap();
    let calls = [
        (
            "vault_tokenize",
            json!({"values": {"ssn": CLEAR_VALUE}, "deterministic": true}),
        ),
        ("vault_detokenize", json!({"tokens": {"ssn": TOKEN}})),
        (
            "vault_partial_detokenize",
            json!({"values": {"ssn": TOKEN}}),
        ),
    ];
    for (tool, arguments) in &calls {
        let r = client
            .call_tool(
                CallToolRequestParams::new(tool.to_string())
                    .with_arguments(args(arguments.clone())),
            )
            .await
            .unwrap();
        assert!(r.structured_content.is_some(), "{tool}");
    }
    client.cancel().await.unwrap();
    let mut log = String::new();
    stderr.unwrap().read_to_string(&mut log).await.unwrap();
    assert!(!log.contains(CLEAR_VALUE), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "tool call")
        .collect();
    assert_eq!(lines.len(), calls.len(), "{log}");
    for (line, (tool, _)) in lines.iter().zip(&calls) {
        assert_eq!(line["tool"], *tool);
        let logged = line["args"].as_str().unwrap();
        assert!(
            logged.contains("ssn") && logged.contains("<redacted>"),
            "{logged}"
        );
    }
    assert_eq!(lines[2]["outcome"], "upstream_http_error");
}

#[test]
fn gate_setting_is_a_validated_boolean() {
    use altr_mcp::config::{Purpose, Settings, Sources};
    let load = |v: &str| {
        Settings::load(
            &Sources::from_pairs([("ALTR_ALLOW_CLEARTEXT", v)]),
            Purpose::ListTools,
        )
    };
    assert!(
        !Settings::load(&Sources::default(), Purpose::ListTools)
            .unwrap()
            .selection
            .allow_cleartext
    );
    assert!(load("true").unwrap().selection.allow_cleartext);
    assert!(!load("false").unwrap().selection.allow_cleartext);
    let e = load("perhaps-s3cr3t").unwrap_err().to_string();
    assert!(e.contains("ALTR_ALLOW_CLEARTEXT"), "{e}");
    assert!(!e.contains("perhaps-s3cr3t"), "{e}");
}

// Against the sandbox.

use crate::sandbox_common::Sbx;

fn twelve() -> Map<String, Value> {
    (1..=12)
        .map(|i| {
            (
                format!("customer_{i:02}"),
                json!(format!("{i:03}-55-{:04}", 1000 + i)),
            )
        })
        .collect()
}

#[tokio::test]
async fn sandbox_vault_workflow_tokenize_detokenize_delete() {
    let s = Sbx::with_env(OPEN).await;
    let values = twelve();

    // Deterministic twice: the same tokens, keyed by the caller's labels.
    let first = s
        .call(
            "vault_tokenize",
            json!({"values": values, "deterministic": true}),
        )
        .await;
    let first = first.ok().as_object().unwrap().clone();
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        values.keys().collect::<Vec<_>>()
    );
    let second = s
        .call(
            "vault_tokenize",
            json!({"values": values, "deterministic": true}),
        )
        .await;
    assert_eq!(second.ok().as_object().unwrap(), &first);
    for (k, token) in &first {
        assert_ne!(token, &values[k], "{k} was not tokenized");
    }
    // Not deterministic: new tokens.
    let fresh = s.call("vault_tokenize", json!({"values": values})).await;
    assert_ne!(fresh.ok().as_object().unwrap(), &first);

    // Detokenize: the originals, labelled.
    let clear = s.call("vault_detokenize", json!({"tokens": first})).await;
    assert_eq!(clear.ok().as_object().unwrap(), &values);

    // Partial: tokens in clear, plain values unchanged.
    let mixed = json!({"a": first["customer_01"], "b": "not-a-token"});
    let partial = s
        .call("vault_partial_detokenize", json!({"values": mixed}))
        .await;
    assert_eq!(
        partial.ok(),
        &json!({"a": values["customer_01"], "b": "not-a-token"})
    );

    // Delete two tokens: later detokenize fails for those values only.
    let gone = json!({"x": first["customer_01"], "y": first["customer_02"]});
    let deleted = s.call("vault_delete_tokens", json!({"tokens": gone})).await;
    assert_eq!(deleted.ok(), &json!({"x": true, "y": true}));
    let again = s.call("vault_detokenize", json!({"tokens": first})).await;
    let again = again.ok();
    assert_eq!(again["customer_01"], Value::Null);
    assert_eq!(again["customer_02"], Value::Null);
    assert_eq!(again["customer_03"], values["customer_03"]);
    let twice = s.call("vault_delete_tokens", json!({"tokens": gone})).await;
    assert_eq!(twice.ok(), &json!({"x": false, "y": false}));
}

#[tokio::test]
async fn sandbox_critical_workflow_and_the_closed_gate() {
    let s = Sbx::start().await;
    let values = twelve();
    let tokens = s
        .call(
            "critical_tokenize",
            json!({"values": values, "deterministic": true}),
        )
        .await;
    let tokens = tokens.ok().clone();
    let again = s
        .call(
            "critical_tokenize",
            json!({"values": values, "deterministic": true}),
        )
        .await;
    assert_eq!(again.ok(), &tokens);
    // Gate closed: refused naming the setting, and nothing reaches the API.
    let before = s.requests().len();
    let c = s
        .call("critical_detokenize", json!({"tokens": tokens}))
        .await;
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("ALTR_ALLOW_CLEARTEXT"));
    assert_eq!(s.requests().len(), before);
    // Deleting still works with the gate closed.
    let deleted = s
        .call("critical_delete_tokens", json!({"tokens": tokens}))
        .await;
    assert!(deleted
        .ok()
        .as_object()
        .unwrap()
        .values()
        .all(|v| v == true));
}

#[tokio::test]
async fn sandbox_enforces_batch_limits_and_determinism_header() {
    let s = Sbx::start().await;
    let many: Map<String, Value> = (0..1025)
        .map(|i| (format!("field{i:03}"), json!("v")))
        .collect();
    let (status, body) = s
        .raw(
            "POST",
            "/critical/v2/batch",
            Some(&Value::Object(many).to_string()),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = s.raw("PUT", "/vault/api/v2/batch", Some("{}")).await;
    assert_eq!(status, 400);
    let (status, _) = s
        .raw("PUT", "/vault/api/v2/batch", Some(r#"{"field000": 5}"#))
        .await;
    assert_eq!(status, 400);
    // The seeded tokens detokenize through the API.
    let (status, body) = s
        .raw(
            "POST",
            "/vault/api/v2/batch",
            Some(r#"{"field000": "555-12-3456"}"#),
        )
        .await;
    assert_eq!(status, 200);
    let token = body["data"]["field000"].as_str().unwrap().to_string();
    let (_, clear) = s
        .raw(
            "PUT",
            "/vault/api/v2/batch",
            Some(&json!({"field000": token}).to_string()),
        )
        .await;
    assert_eq!(clear["data"]["field000"], "555-12-3456");
}

#[tokio::test]
async fn sandbox_tokens_have_altrs_documented_prefixes() {
    let s = Sbx::with_env(OPEN).await;
    let values = json!({"ssn": "123-45-6789", "email": "a@b.c"});
    let fixed = s
        .call(
            "vault_tokenize",
            json!({"values": values, "deterministic": true}),
        )
        .await;
    let random = s.call("vault_tokenize", json!({"values": values})).await;
    for (label, tokens, prefix) in [
        ("deterministic", &fixed, "vaultd_"),
        ("random", &random, "vaultn_"),
    ] {
        for token in tokens.ok().as_object().unwrap().values() {
            let token = token.as_str().unwrap();
            assert!(token.starts_with(prefix), "{label}: {token}");
        }
    }
    let critical = s
        .call(
            "critical_tokenize",
            json!({"values": values, "deterministic": true}),
        )
        .await;
    for token in critical.ok().as_object().unwrap().values() {
        let token = token.as_str().unwrap();
        assert!(token.starts_with("token_") && token.len() >= 64, "{token}");
    }

    // Both vault prefixes detokenize; a value that is no token fails the whole call, and
    // partial detokenize passes it through.
    let mixed = json!({"d": fixed.ok()["ssn"], "n": random.ok()["email"]});
    let clear = s.call("vault_detokenize", json!({"tokens": mixed})).await;
    assert_eq!(clear.ok(), &json!({"d": "123-45-6789", "n": "a@b.c"}));
    let not_token = json!({"d": fixed.ok()["ssn"], "p": "plain"});
    s.call("vault_detokenize", json!({"tokens": not_token}))
        .await
        .upstream(400);
    let partial = s
        .call("vault_partial_detokenize", json!({"values": not_token}))
        .await;
    assert_eq!(partial.ok(), &json!({"d": "123-45-6789", "p": "plain"}));
    let clear = s
        .call("critical_detokenize", json!({"tokens": critical.ok()}))
        .await;
    assert_eq!(clear.ok(), &values);
    // Deleting: what is not a token is ignored (false), not an error.
    let deleted = s
        .call(
            "critical_delete_tokens",
            json!({"tokens": {"t": critical.ok()["ssn"], "p": "plain"}}),
        )
        .await;
    assert_eq!(deleted.ok(), &json!({"t": true, "p": false}));
}

#[tokio::test]
async fn values_over_the_size_limit_are_refused_naming_the_key_not_the_value() {
    let h = Harness::start().await;
    echo(&h).await;
    let long = |unit: &str, n: usize| format!("{SECRET}{}", unit.repeat(n));
    // Vault: under 1,024 characters (a multi-byte character counts once); critical: under 128
    // UTF-8 bytes.
    let cases = [
        ("vault_tokenize", long("é", 1023 - SECRET.len()), true),
        ("vault_tokenize", long("a", 1024 - SECRET.len()), false),
        ("critical_tokenize", long("a", 127 - SECRET.len()), true),
        ("critical_tokenize", long("é", 64), false),
    ];
    for (tool, value, fits) in cases {
        h.api.reset().await;
        echo(&h).await;
        let c = h
            .call(tool, json!({"values": {"ok": "1", "card_no": value}}))
            .await;
        if fits {
            c.ok();
            h.only_request().await;
            continue;
        }
        c.invalid("values");
        let message = c.error()["message"].as_str().unwrap();
        assert!(message.contains("card_no"), "{tool}: {message}");
        assert!(!c.text.contains(SECRET), "{tool}: {}", c.text);
        h.assert_no_requests().await;
    }
    // The sandbox refuses them too.
    let s = Sbx::start().await;
    let body = json!({"field000": "a".repeat(128)}).to_string();
    let (status, answer) = s.raw("POST", "/critical/v2/batch", Some(&body)).await;
    assert_eq!(status, 400, "{answer}");
}
