//! The built binary over stdio: initialize (and discover) clients, tools/list, tools/call against a
//! fake ALTR API; a clean stdout; the command line without credentials; start-up errors.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientLifecycleMode, ClientServiceExt, ServiceExt};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");

/// A command for the binary with a clean environment pointed at `api`.
fn server_command(api: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.env_clear()
        .env("ORG_ID", "test-org")
        .env("MAPI_KEY", "test-key")
        .env("MAPI_SECRET", "test-secret")
        .env("ALTR_ALTRNET_BASE_URL", format!("{api}/altrnet"))
        .env("ALTR_API_BASE_URL", format!("{api}/api"))
        .env("LOG_LEVEL", "debug");
    cmd
}

async fn fake_api() -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/altrnet/api/databases"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"databases": [{"id": 1, "friendlyDatabaseName": "Sales"}]}}),
        ))
        .mount(&api)
        .await;
    api
}

#[tokio::test]
async fn initialize_list_and_call_over_stdio() {
    let api = fake_api().await;
    let transport = TokioChildProcess::new(server_command(&api.uri())).unwrap();
    let client = ().serve(transport).await.expect("initialize");
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "altr");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), crate::common::default_tool_count());
    let result = client
        .call_tool(CallToolRequestParams::new("get_databases"))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    let env = result.structured_content.unwrap();
    assert_eq!(env["success"], true);
    assert_eq!(env["data"]["data"]["databases"][0]["id"], 1);
    client.cancel().await.unwrap();
    let received = api.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn discover_first_clients_are_served() {
    let api = fake_api().await;
    let transport = TokioChildProcess::new(server_command(&api.uri())).unwrap();
    let client = ()
        .serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("discover");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), crate::common::default_tool_count());
    let result = client
        .call_tool(CallToolRequestParams::new("get_databases"))
        .await
        .unwrap();
    assert_eq!(result.structured_content.unwrap()["success"], true);
    client.cancel().await.unwrap();
}

#[test]
fn stdout_carries_only_protocol_messages() {
    let mut child = Command::new(BIN)
        .env_clear()
        .env("ORG_ID", "o")
        .env("MAPI_KEY", "k")
        .env("MAPI_SECRET", "never-print-me")
        .env("LOG_LEVEL", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    ];
    for l in lines {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut replies = Vec::new();
    while replies.len() < 2 {
        let line = rx.recv_timeout(Duration::from_secs(10)).expect("a reply");
        let v: Value = serde_json::from_str(&line).expect("every stdout line is JSON-RPC");
        replies.push(v);
    }
    assert_eq!(replies[0]["id"], 1);
    assert_eq!(replies[0]["result"]["serverInfo"]["name"], "altr");
    assert_eq!(
        replies[1]["result"]["tools"].as_array().unwrap().len(),
        crate::common::default_tool_count()
    );
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exits 0 when stdin closes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("never-print-me"));
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_need_no_credentials() {
    let (code, out, _) = run(&["--version"], &[]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        format!("altr-mcp {}", env!("CARGO_PKG_VERSION"))
    );
    let (code, out, _) = run(&["--help"], &[]);
    assert_eq!(code, 0);
    for var in [
        "ORG_ID",
        "MAPI_SECRET",
        "MAX_RETRIES",
        "ALTR_TOOLSETS",
        "ALTR_READ_ONLY",
    ] {
        assert!(out.contains(var), "--help mentions {var}");
    }
    let (code, _, err) = run(&["--no-such-flag"], &[]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn tools_subcommand_lists_without_credentials() {
    let (code, out, err) = run(&["tools", "--format", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // The reference lists every tool served, the support tools a session lists once armed too.
    assert_eq!(
        v.as_array().unwrap().len(),
        crate::common::default_tool_count() + crate::common::ARMED_ONLY.len()
    );
    let (code, out, _) = run(
        &["tools", "--format", "json"],
        &[("ALTR_READ_ONLY", "1"), ("RESTRICTED_TOOLS", "get_roles")],
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let reads = altr_mcp::toolsets::all_tools()
        .iter()
        .filter(|t| t.effect == altr_mcp::registry::Effect::ReadOnly)
        .count();
    assert_eq!(v.as_array().unwrap().len(), reads - 1);
    let (code, out, _) = run(&["tools", "--altr-toolsets", "policies"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("10 tools."));
}

#[test]
fn startup_errors_name_every_problem_and_exit_non_zero() {
    let (code, out, err) = run(&[], &[("MAPI_KEY", "k")]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("ORG_ID, MAPI_SECRET"), "{err}");
    let (code, _, err) = run(
        &[],
        &[
            ("ORG_ID", "o"),
            ("MAPI_KEY", "k"),
            ("MAPI_SECRET", "s"),
            ("MAX_RETRIES", "0"),
            ("MCP_TRANSPORT", "pigeon"),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("MAX_RETRIES") && err.contains("MCP_TRANSPORT"),
        "{err}"
    );
    assert!(!err.contains("pigeon"));
    let (code, _, err) = run(
        &[],
        &[
            ("ORG_ID", "o"),
            ("MAPI_KEY", "k"),
            ("MAPI_SECRET", "s"),
            ("RESTRICTED_TOOLS", "get_tagz"),
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("get_tagz"), "{err}");
}

#[tokio::test]
async fn each_call_logs_one_line_to_stderr_with_secrets_redacted() {
    use tokio::io::AsyncReadExt;
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/altrnet/api/databases"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "not enabled"})))
        .mount(&api)
        .await;
    let mut cmd = server_command(&api.uri());
    cmd.env("LOG_FORMAT", "json").env("LOG_LEVEL", "info");
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = ().serve(transport).await.unwrap();
    let result = client
        .call_tool(CallToolRequestParams::new("create_database").with_arguments(
            json!({"friendly_database_name": "Sales", "database_type": "snowflake", "database_name": "SALES",
                   "database_username": "svc", "database_password": "hunter2-password"})
            .as_object()
            .unwrap()
            .clone(),
        ))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    client.cancel().await.unwrap();
    let mut log = String::new();
    stderr.unwrap().read_to_string(&mut log).await.unwrap();
    assert!(!log.contains("hunter2-password"), "{log}");
    assert!(!log.contains("test-secret"), "{log}");
    let calls: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "tool call")
        .collect();
    assert_eq!(calls.len(), 1, "{log}");
    let line = &calls[0];
    assert_eq!(line["tool"], "create_database");
    assert_eq!(line["outcome"], "upstream_http_error");
    assert_eq!(line["status"], 403);
    assert!(line["elapsed_ms"].is_u64());
    assert!(line["args"].as_str().unwrap().contains("<redacted>"));
}

/// Over stdio too, a tool called by its earlier name runs the tool (issue: earlier names), and
/// is never listed by that name.
#[tokio::test]
async fn earlier_tool_names_work_over_stdio() {
    let api = fake_api().await;
    Mock::given(method("DELETE"))
        .and(path("/altrnet/api/databases/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&api)
        .await;
    let mut cmd = server_command(&api.uri());
    cmd.env("ALTR_CONFIRM", "never");
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.expect("initialize");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "disconnect_database"));
    assert!(!tools.iter().any(|t| t.name.starts_with("delete_database")));
    let result = client
        .call_tool(
            CallToolRequestParams::new("delete_database")
                .with_arguments(json!({"database_id": 1}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        result.is_error,
        Some(false),
        "{:?}",
        result.structured_content
    );
    client.cancel().await.unwrap();
    let deletes = api
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .count();
    assert_eq!(deletes, 1);
}

#[test]
fn tools_subcommand_lists_the_audit_searches_in_support_and_read_only_mode() {
    for setting in ["SUPPORT_MODE", "ALTR_READ_ONLY"] {
        let (code, out, err) = run(&["tools", "--format", "json"], &[(setting, "true")]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let names: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        for search in [
            "search_audits",
            "search_query_audits",
            "search_system_audits",
        ] {
            assert!(names.contains(&search), "{setting}: {search} listed");
        }
        assert!(!names.contains(&"create_policy"), "{setting}: no writes");
        assert!(
            !names.contains(&"vault_detokenize"),
            "{setting}: no clear text"
        );
        assert!(names.contains(&"enter_support_mode"), "{setting}");
    }
}
