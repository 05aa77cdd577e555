//! The built binary: `altr-mcp --sandbox` over stdio, and `altr-mcp sandbox` printing its settings.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");
const BOUND: Duration = Duration::from_secs(20);

fn command(args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd.spawn().expect("the binary starts")
}

/// The next stdout line, which must be JSON.
async fn next_json(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(BOUND, lines.next_line())
        .await
        .expect("an answer in time")
        .expect("stdout readable")
        .expect("stdout still open");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"))
}

/// Initialize, call get_databases over stdio, and return the seeded database names and stderr.
async fn databases_over_stdio(args: &[&str], env: &[(&str, &str)]) -> (Vec<String>, String) {
    let mut child = command(args, env);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();

    let send = |v: Value| format!("{v}\n");
    stdin
        .write_all(
            send(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "sandbox-cli-test", "version": "0"}}}),
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let init = next_json(&mut lines).await;
    assert_eq!(init["id"], 1, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "altr");
    let calls = send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        + &send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "get_databases", "arguments": {}}}));
    stdin.write_all(calls.as_bytes()).await.unwrap();
    let answer = loop {
        let msg = next_json(&mut lines).await;
        if msg["id"] == 2 {
            break msg;
        }
    };
    let result = &answer["result"];
    assert_eq!(result["isError"], false, "{answer}");
    let names = result["structuredContent"]["data"]["databases"]
        .as_array()
        .expect("databases")
        .iter()
        .filter_map(|d| d["friendlyDatabaseName"].as_str().map(str::to_string))
        .collect();

    // Closing stdin ends the session; the process exits cleanly and stdout has nothing more.
    drop(stdin);
    let status = tokio::time::timeout(BOUND, child.wait())
        .await
        .expect("exits after stdin closes")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        tokio::time::timeout(BOUND, lines.next_line())
            .await
            .unwrap()
            .unwrap(),
        None
    );
    let mut err = String::new();
    stderr.read_to_string(&mut err).await.unwrap();
    (names, err)
}

#[tokio::test]
async fn sandbox_flag_serves_the_demo_org_over_stdio() {
    let (names, stderr) = databases_over_stdio(&["--sandbox"], &[]).await;
    assert_eq!(names, ["Sales Analytics", "HR Warehouse", "Lakehouse"]);
    let notice: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("SANDBOX MODE"))
        .collect();
    assert_eq!(notice.len(), 1, "one notice line: {stderr}");
    assert!(notice[0].contains("no real ALTR org is touched"));
}

#[tokio::test]
async fn sandbox_env_wins_over_real_settings() {
    // A real-looking org and an unreachable base URL: the sandbox replaces both.
    let (names, stderr) = databases_over_stdio(
        &[],
        &[
            ("ALTR_SANDBOX", "true"),
            ("ORG_ID", "real-org"),
            ("MAPI_KEY", "real-key"),
            ("MAPI_SECRET", "real-secret"),
            ("ALTR_ALTRNET_BASE_URL", "http://127.0.0.1:9"),
        ],
    )
    .await;
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(stderr.contains("SANDBOX MODE"));
    assert!(!stderr.contains("real-secret"));
}

/// Start `altr-mcp sandbox` with `args` and read its settings lines.
async fn sandbox_subcommand(args: &[&str]) -> (Child, BTreeMap<String, String>) {
    let mut child = command(args, &[]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut env = BTreeMap::new();
    while env.len() < 13 {
        let line = tokio::time::timeout(BOUND, lines.next_line())
            .await
            .expect("settings lines in time")
            .unwrap()
            .expect("13 settings lines");
        let (k, v) = line.split_once('=').expect("NAME=value");
        env.insert(k.to_string(), v.to_string());
    }
    (child, env)
}

#[tokio::test]
async fn sandbox_subcommand_prints_settings_and_serves() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (mut child, env) = sandbox_subcommand(&["sandbox", "--port", "0"]).await;
    let mut keys: Vec<&str> = env.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = vec![
        "ALTR_API_BASE_URL",
        "ALTR_ALTRNET_BASE_URL",
        "ALTR_CLASSIFICATION_BASE_URL",
        "ALTR_SC_CONTROL_BASE_URL",
        "ALTR_SERVICE_USER_BASE_URL",
        "ALTR_AUDIT_REPORT_BASE_URL",
        "ALTR_VAULT_BASE_URL",
        "ALTR_CRITICAL_BASE_URL",
        "ALTR_KMA_BASE_URL",
        "ALTR_DAM_ALERTING_BASE_URL",
        "ORG_ID",
        "MAPI_KEY",
        "MAPI_SECRET",
    ];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(env["ORG_ID"], "sandbox");
    assert_eq!(env["MAPI_KEY"], "sandbox-key");
    assert_eq!(env["MAPI_SECRET"], "sandbox-secret");
    for (k, v) in &env {
        if k.ends_with("_BASE_URL") {
            assert!(v.starts_with("http://127.0.0.1:"), "{k}={v}");
        }
    }
    assert!(env["ALTR_AUDIT_REPORT_BASE_URL"].ends_with("/audit-report/v1"));

    let http = reqwest::Client::builder().timeout(BOUND).build().unwrap();
    let url = format!("{}/api/databases", env["ALTR_ALTRNET_BASE_URL"]);
    let ok = http
        .get(&url)
        .basic_auth(&env["MAPI_KEY"], Some(&env["MAPI_SECRET"]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["data"]["databases"].as_array().unwrap().len(), 3);
    let refused = http
        .get(&url)
        .basic_auth("sandbox-key", Some("guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);

    child.kill().await.unwrap();
}

#[tokio::test]
async fn sandbox_subcommand_can_start_empty() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (mut child, env) = sandbox_subcommand(&["sandbox", "--seed", "empty"]).await;
    let body: Value = reqwest::Client::builder()
        .timeout(BOUND)
        .build()
        .unwrap()
        .get(format!("{}/api/databases", env["ALTR_ALTRNET_BASE_URL"]))
        .basic_auth(&env["MAPI_KEY"], Some(&env["MAPI_SECRET"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["databases"], json!([]));
    child.kill().await.unwrap();
}
