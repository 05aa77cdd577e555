//! Failure handling against injected faults: each call returns within a bound and says what
//! happened, and the sandbox's request log shows exactly what reached it. Also the sandbox's
//! independence from the code it checks.

use std::time::{Duration, Instant};

use crate::sandbox_common::*;
use serde_json::json;

const DATABASES: &str = "/altrnet/api/databases";
const POLICY: &str = "/api/v1/unified-policy/management/policy";

fn faults_of(s: &Sbx, method: &str, path: &str) -> Vec<Option<String>> {
    s.requests_to(method, path)
        .into_iter()
        .map(|r| r.fault)
        .collect()
}

#[tokio::test]
async fn rate_limit_is_waited_out_then_succeeds() {
    let s = Sbx::with_env(&[("MAX_RETRY_AFTER", "5")]).await;
    s.fault(json!({"method": "GET", "path": DATABASES, "count": 1, "kind": "429", "retry_after": "0.3"}))
        .await;
    let started = Instant::now();
    let c = s.call("get_databases", json!({})).await;
    let elapsed = started.elapsed();
    assert_eq!(c.ok()["databases"].as_array().unwrap().len(), 3);
    assert!(
        elapsed >= Duration::from_millis(300),
        "Retry-After honoured: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let log = s.requests_to("GET", DATABASES);
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].status, Some(429));
    assert_eq!(log[1].status, Some(200));
}

#[tokio::test]
async fn rate_limit_that_outlasts_the_attempts_is_reported() {
    let s = Sbx::with_env(&[("MAX_RETRIES", "2")]).await;
    s.fault(
        json!({"method": "GET", "path": DATABASES, "count": 5, "kind": "429", "retry_after": 0}),
    )
    .await;
    let c = s.call("get_databases", json!({})).await;
    let e = c.upstream(429);
    assert!(e["message"].as_str().unwrap().contains("2 attempts"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("Rate limited"));
    assert_eq!(s.requests_to("GET", DATABASES).len(), 2);
}

#[tokio::test]
async fn unavailable_post_is_retried_once_and_applied_once() {
    let s = Sbx::start().await;
    s.fault(json!({"method": "POST", "path": POLICY, "count": 1, "kind": "503"}))
        .await;
    let started = Instant::now();
    let c = s
        .call("create_policy", json!({"tag": "CONFIDENTIALITY"}))
        .await;
    assert!(c.ok()["policy_id"].as_str().unwrap().starts_with("TAG#"));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        faults_of(&s, "POST", POLICY),
        [Some("503".to_string()), None]
    );
    let listed = s.call("get_policies", json!({"policy_type": "TAG"})).await;
    let ids = names(&listed.ok()["policies"], "identifier");
    assert_eq!(
        ids.iter().filter(|i| *i == "CONFIDENTIALITY").count(),
        1,
        "{ids:?}"
    );
}

#[tokio::test]
async fn server_error_on_post_is_not_retried() {
    let s = Sbx::start().await;
    s.fault(json!({"method": "POST", "path": POLICY, "count": 3, "kind": "500"}))
        .await;
    let started = Instant::now();
    let c = s
        .call("create_policy", json!({"tag": "CONFIDENTIALITY"}))
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let e = c.upstream(500);
    assert!(e["hint"].as_str().unwrap().contains("not retried"), "{e}");
    assert_eq!(
        s.requests_to("POST", POLICY).len(),
        1,
        "exactly one request reached the sandbox"
    );
    let listed = s.call("get_policies", json!({"policy_type": "TAG"})).await;
    assert_eq!(names(&listed.ok()["policies"], "identifier"), ["PII_TYPE"]);

    // The same error on a GET is retried.
    s.fault(json!({"method": "GET", "path": DATABASES, "kind": "500"}))
        .await;
    s.call("get_databases", json!({})).await.ok();
    assert_eq!(
        faults_of(&s, "GET", DATABASES),
        [Some("500".to_string()), None]
    );
}

#[tokio::test]
async fn slow_answers_time_out_with_a_hint() {
    let s = Sbx::with_env(&[("REQUEST_TIMEOUT", "0.3"), ("MAX_RETRIES", "2")]).await;
    s.fault(json!({"method": "GET", "path": "/altrnet/api/*", "count": 2, "kind": "delay", "delay_ms": 5000}))
        .await;
    let started = Instant::now();
    let c = s.call("get_databases", json!({})).await;
    let elapsed = started.elapsed();
    let e = c.error();
    assert_eq!(e["code"], "upstream_timeout", "{e}");
    assert!(e["message"].as_str().unwrap().contains("0.3"), "{e}");
    assert!(
        e["hint"].as_str().unwrap().contains("REQUEST_TIMEOUT"),
        "{e}"
    );
    assert!(
        elapsed >= Duration::from_millis(600) && elapsed < Duration::from_secs(3),
        "two attempts of 0.3 s: {elapsed:?}"
    );
    assert_eq!(
        faults_of(&s, "GET", DATABASES),
        [Some("delay".to_string()), Some("delay".to_string())]
    );
    // The fault is used up: the next call is answered at once.
    s.call("get_databases", json!({})).await.ok();
}

#[tokio::test]
async fn dropped_connections_are_reported_or_retried() {
    let s = Sbx::start().await;

    // A write whose connection dropped may have been applied: reported, not retried.
    s.fault(json!({"method": "POST", "path": POLICY, "kind": "drop"}))
        .await;
    let started = Instant::now();
    let c = s
        .call("create_policy", json!({"tag": "CONFIDENTIALITY"}))
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let e = c.error();
    assert_eq!(e["code"], "upstream_unreachable", "{e}");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("could not reach the ALTR API"));
    let log = s.requests_to("POST", POLICY);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].fault.as_deref(), Some("drop"));
    assert_eq!(log[0].status, None);

    // A read is retried on a fresh connection.
    s.fault(json!({"method": "GET", "path": DATABASES, "kind": "drop"}))
        .await;
    let c = s.call("get_databases", json!({})).await;
    assert_eq!(c.ok()["databases"].as_array().unwrap().len(), 3);
    assert_eq!(
        faults_of(&s, "GET", DATABASES),
        [Some("drop".to_string()), None]
    );
}

#[tokio::test]
async fn bad_fault_specs_are_refused() {
    let s = Sbx::start().await;
    for spec in [
        json!({"path": DATABASES, "kind": "teapot"}),
        json!({"path": "no-slash", "kind": "500"}),
        json!({"path": DATABASES, "kind": "delay", "delay_ms": 10_000_000}),
        json!({"path": DATABASES, "kind": "500", "count": 0}),
        json!({"path": DATABASES, "kind": "500", "colour": "red"}),
    ] {
        let resp = reqwest::Client::new()
            .post(format!("{}/_sandbox/faults", s.sandbox.url()))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{spec}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Nothing was armed.
    s.call("get_databases", json!({})).await.ok();
    assert_eq!(faults_of(&s, "GET", DATABASES), [None]);
}

/// The paths into the tools or the client that Rust source uses: `crate::registry::..`,
/// `crate::toolsets::..` or `crate::client::..` anywhere, and any `use` of `crate`, `altr_mcp` or
/// `super` naming a `registry`, `toolsets` or `client` segment (`use crate::{client::Service, ..}`,
/// `use super::super::registry`).
fn forbidden_imports(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    // Comments may name them (the module docs say what the sandbox is independent of).
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let source = code.as_str();
    let compact: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    for direct in [
        "crate::registry",
        "crate::toolsets",
        "crate::client",
        "altr_mcp::registry",
        "altr_mcp::toolsets",
        "altr_mcp::client",
    ] {
        if compact.contains(direct) {
            found.push(direct.to_string());
        }
    }
    for statement in source.split(';') {
        let Some(at) = statement.find("use ") else {
            continue;
        };
        let tokens: Vec<&str> = statement[at + 4..]
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|t| !t.is_empty())
            .collect();
        let from_here = matches!(tokens.first(), Some(&"crate" | &"altr_mcp" | &"super"));
        if from_here
            && tokens
                .iter()
                .any(|t| matches!(*t, "registry" | "toolsets" | "client"))
        {
            found.push(statement.trim().to_string());
        }
    }
    found
}

/// The sandbox is written from the API facts alone: no file under `src/sandbox/` may use the
/// tools or the client, or a bug in them could pass both sides of a test.
#[test]
fn sandbox_does_not_import_the_tools_or_the_client() {
    for bad in [
        "use crate::client::Service;",
        "use crate::{\n    sandbox::Fail,\n    client::{self, Service},\n};",
        "use super::super::toolsets;",
        "let x = crate :: registry::all();",
        "use altr_mcp::client;",
    ] {
        assert!(!forbidden_imports(bad).is_empty(), "not caught: {bad}");
    }
    assert!(forbidden_imports(
        "//! independent of `crate::registry`\nuse super::{store, Body};\nlet client = 1;"
    )
    .is_empty());

    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = vec![src.join("sandbox"), src.join("sandbox.rs")];
    let mut checked = 0;
    let mut offences = Vec::new();
    while let Some(path) = paths.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                paths.push(entry.unwrap().path());
            }
        } else {
            checked += 1;
            for f in forbidden_imports(&std::fs::read_to_string(&path).unwrap()) {
                offences.push(format!("{}: {f}", path.display()));
            }
        }
    }
    assert!(checked >= 5, "read the sandbox sources ({checked} files)");
    assert!(offences.is_empty(), "{offences:#?}");
}

/// The sandbox serves every service the client knows.
#[test]
fn sandbox_serves_every_base_url_variable() {
    let ours: Vec<&str> = altr_mcp::sandbox::SERVICES
        .iter()
        .map(|(v, _)| *v)
        .collect();
    for s in altr_mcp::client::Service::ALL {
        assert!(ours.contains(&s.env_var()), "{} missing", s.env_var());
    }
    assert_eq!(ours.len(), altr_mcp::client::Service::ALL.len());
}
