//! `altr-mcp call`: one tool call from the shell against the built-in sandbox, its envelope on
//! stdout and its outcome in the exit status.

use std::process::Output;

use serde_json::Value;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");

async fn call(args: &[&str]) -> (Output, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_clear()
        .kill_on_drop(true)
        .output()
        .await
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (out, stdout)
}

#[tokio::test]
async fn a_successful_call_prints_the_compact_envelope_and_exits_0() {
    let (out, stdout) = call(&["--sandbox", "call", "get_databases"]).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // Not a terminal: one line of compact JSON.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["success"], true);
    assert!(stdout.contains("Sales Analytics"), "{stdout}");
}

#[tokio::test]
async fn arguments_from_arg_and_json_reach_the_tool() {
    // A string parameter stays text even when it looks like a number.
    let (out, stdout) = call(&[
        "--sandbox",
        "call",
        "get_tag_details_by_group_id",
        "--arg",
        "tag_group_id=999999",
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "a tool failure exits 2: {stdout}"
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["success"], false);
    assert_eq!(v["error"]["status"], 404);
    let (out, stdout) = call(&[
        "call",
        "--sandbox",
        "get_database_id",
        "--json",
        r#"{"database_name": "Sales Analytics"}"#,
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("SALES_DB"), "{stdout}");
}

#[tokio::test]
async fn usage_problems_exit_1_with_nothing_on_stdout() {
    for args in [
        &["--sandbox", "call", "no_such_tool"][..],
        &["--sandbox", "call", "get_tags", "--arg", "novalue"],
        &["--sandbox", "call", "get_tags", "--json", "[1]"],
        &["--sandbox", "call", "vault_detokenize"],
        &["call", "get_databases"],
    ] {
        let (out, stdout) = call(args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
    // Invalid arguments are the tool's own failure: refused before sending, exit 2.
    let (out, stdout) = call(&["--sandbox", "call", "get_tags", "--arg", "bogus=1"]).await;
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("invalid_argument"), "{stdout}");
}
