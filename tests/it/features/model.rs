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

#[tokio::test]
async fn a_value_set_altr_does_not_document_is_passed_on_not_refused() {
    // Findings not yet reviewed are `pending`: the natural filter, which ALTR takes.
    let s = Sbx::start().await;
    let jobs = s.call("get_jobs", json!({})).await;
    let job = jobs.ok()["jobs"]
        .as_array()
        .and_then(|j| j.iter().find(|j| j["status"] == "COMPLETED"))
        .unwrap_or_else(|| panic!("a completed demo job in {}", jobs.envelope))["id"]
        .clone();
    let pending = s
        .call(
            "get_job_findings",
            json!({"job_id": job, "confirmed_status": "Pending"}),
        )
        .await;
    pending.ok();
    let asked = s.requests();
    let last = asked.last().unwrap();
    assert!(
        last.query.contains("confirmed_status=pending"),
        "{}",
        last.query
    );
    // A sampling strategy this server does not know goes to ALTR as given.
    let h = crate::common::Harness::start().await;
    h.mock(
        "POST",
        "/classification/v1/jobs/oltp",
        200,
        json!({"id": "j9"}),
    )
    .await;
    let c = h
        .call(
            "create_oltp_job",
            json!({"agent_id": "ag1", "repo_name": "orders", "service_user_name": "svc",
                   "collection_name": "PII", "sample_strategy": "COLUMNS"}),
        )
        .await;
    c.ok();
    let r = h.only_request().await;
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["sample_strategy"], "COLUMNS");
    assert_eq!(body["sample_size"], 1000, "sampled like ROWS: {body}");
}

/// The instructions a server with these settings sends.
async fn instructions_with(env: &[(&str, &str)]) -> String {
    let h = crate::common::Harness::with_env(env).await;
    let info = h.client.peer_info().unwrap();
    info.instructions.clone().unwrap_or_default()
}

#[tokio::test]
async fn the_instructions_say_what_this_servers_settings_mean() {
    let plain = instructions_with(&[]).await;
    assert!(plain.starts_with(altr_mcp::server::INSTRUCTIONS.trim_end()));
    assert!(plain.contains("asks the user to confirm through your client"));
    assert!(plain.contains("Detokenizing is disabled"));
    // Where each audit question is answered, and how long to wait for a search.
    assert!(plain.contains("## Which audit answers what") && plain.contains("`wait_seconds`"));
    assert!(!plain.contains("Read-only") && !plain.contains("Toolsets served"));
    let required = instructions_with(&[("ALTR_CONFIRM", "required")]).await;
    assert!(required.contains("call again with `confirm: true`"));
    let never = instructions_with(&[("ALTR_CONFIRM", "never")]).await;
    assert!(never.contains("not confirmed by the server"));
    let narrow = instructions_with(&[
        ("ALTR_READ_ONLY", "true"),
        ("ALTR_TOOLSETS", "tags,policies"),
        ("ALTR_ALLOW_CLEARTEXT", "true"),
    ])
    .await;
    assert!(narrow.contains("Read-only (ALTR_READ_ONLY)"));
    assert!(
        narrow.contains("Toolsets served: tags, policies."),
        "{narrow}"
    );
    assert!(narrow.contains("detokenize tools are served"));
    let dynamic = instructions_with(&[("ALTR_DYNAMIC_TOOLSETS", "true")]).await;
    assert!(dynamic.contains("`enable_toolset`"), "{dynamic}");
}

#[tokio::test]
async fn search_windows_can_be_named_relative_to_now() {
    let s = Sbx::start().await;
    let before = altr_mcp::clock::now_secs();
    let c = s
        .call(
            "search_query_audits",
            json!({"from_date_time": "-24h", "to_date_time": "now", "wait_seconds": 5}),
        )
        .await;
    let window = c.ok()["window"].clone();
    let from = window["from_date_time"].as_str().unwrap();
    let to = window["to_date_time"].as_str().unwrap();
    let from_secs = altr_mcp::clock::parse_rfc3339(from).unwrap();
    let to_secs = altr_mcp::clock::parse_rfc3339(to).unwrap();
    assert_eq!(to_secs - from_secs, 86_400);
    assert!((before - 5..=before + 60).contains(&to_secs), "{window}");
    // ALTR is sent the absolute times.
    let start = s
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("the search was started");
    assert!(
        start.query.contains(&from.replace(':', "%3A")),
        "{} / {from}",
        start.query
    );
    // Absolute times are sent as given and add no window.
    let c = s
        .call(
            "search_audits",
            json!({"from_date_time": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert!(c.ok().get("window").is_none(), "{}", c.envelope);
    // Future, inverted and unreadable windows are refused before anything is sent.
    let sent = s.requests().len();
    for (args, parameter) in [
        (
            json!({"from_date_time": "2999-01-01T00:00:00Z"}),
            "from_date_time",
        ),
        (
            json!({"from_date_time": "-1h", "to_date_time": "-2h"}),
            "to_date_time",
        ),
        (json!({"from_date_time": "yesterday"}), "from_date_time"),
        (json!({"to_date_time": "-5y"}), "to_date_time"),
    ] {
        s.call("search_query_audits", args).await.invalid(parameter);
    }
    assert_eq!(s.requests().len(), sent);
}

#[tokio::test]
async fn every_limit_is_the_apis_own() {
    let s = Sbx::start().await;
    let tools = s.client.list_all_tools().await.unwrap();
    let max_of = |name: &str| -> u64 {
        let t = tools.iter().find(|t| t.name == name).unwrap();
        t.input_schema["properties"]["limit"]["maximum"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has a limit maximum"))
    };
    // (tool, the API's documented maximum); these need no other argument.
    for (tool, documented) in [
        ("list_sc_agents", 100),
        ("list_sc_repos", 100),
        ("list_sc_service_users", 100),
        ("list_sc_sidecars", 100),
        ("list_report_definitions", 100),
        ("get_jobs", 50),
        ("search_audits", 100_000),
        ("search_query_audits", 10_000),
        ("list_dam_rules", 100),
        ("list_dam_alerts", 100),
    ] {
        assert_eq!(max_of(tool), documented, "{tool}");
        // The maximum itself is taken by the (simulated) API; one more is refused here.
        let at = s.call(tool, json!({"limit": documented})).await;
        assert!(!at.is_error, "{tool} at its maximum: {}", at.envelope);
        let sent = s.requests().len();
        s.call(tool, json!({"limit": documented + 1}))
            .await
            .invalid("limit");
        assert_eq!(s.requests().len(), sent, "{tool}: nothing sent");
    }
}

/// Whether `v`, or one of its direct values, still carries ALTR's `"success": true`.
fn nested_success(v: &serde_json::Value) -> bool {
    let carries = |v: &serde_json::Value| v.get("success").is_some();
    carries(v)
        || v.as_object().is_some_and(|o| o.values().any(carries))
        || v.as_array().is_some_and(|a| a.iter().any(carries))
}

#[tokio::test]
async fn results_carry_one_envelope_ours() {
    let s = Sbx::with_env(&[("ALTR_ALLOW_CLEARTEXT", "true"), ("ALTR_CONFIRM", "never")]).await;
    // Every read that needs no argument, against the demo org.
    let mut read = 0;
    for t in altr_mcp::toolsets::everything().tools() {
        let schema = serde_json::Value::Object((t.schema)());
        let needs = schema["required"].as_array().is_some_and(|r| !r.is_empty());
        // Entering support mode would withhold the writes below.
        if t.effect != altr_mcp::registry::Effect::ReadOnly
            || needs
            || t.name == "enter_support_mode"
        {
            continue;
        }
        let c = s.call(t.name, json!({})).await;
        if c.is_error {
            continue;
        }
        read += 1;
        assert!(!nested_success(c.ok()), "{}: {}", t.name, c.envelope);
    }
    assert!(read >= 20, "only {read} reads answered");
    // A change's before and after, and a create.
    let rule = json!({"actors": [{"type": "role", "condition": "equals", "identifiers": ["ANALYST"]}],
                      "objects": [{"type": "table", "condition": "equals", "identifiers": ["SALES_DB.PUBLIC.CUSTOMERS"]}],
                      "access": [{"name": "read"}]});
    let created = s
        .call(
            "create_access_request",
            json!({"requester": "erin", "justification": "churn analysis", "connection_id": 1, "rules": [rule]}),
        )
        .await;
    assert!(!nested_success(created.ok()), "{}", created.envelope);
    let id = created.ok()["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", created.envelope));
    // The dry run's before is ALTR's payload too.
    let rehearsed = s
        .call(
            "approve_access_request",
            json!({"request_id": id, "justification": "owner approved", "dry_run": true}),
        )
        .await;
    assert_eq!(
        rehearsed.ok()["before"]["status"],
        "OPEN",
        "{}",
        rehearsed.envelope
    );
    assert!(!nested_success(rehearsed.ok()), "{}", rehearsed.envelope);
    let approved = s
        .call(
            "approve_access_request",
            json!({"request_id": id, "justification": "owner approved"}),
        )
        .await;
    assert!(!nested_success(approved.ok()), "{}", approved.envelope);
    assert_eq!(approved.ok()["before"]["status"], "OPEN");
    assert_eq!(approved.ok()["after"]["status"], "CLOSED_APPROVED");
    // The side effect its description names: an ACCESS# policy for the request.
    let policy = approved.ok()["after"]["policy_id"]
        .as_str()
        .unwrap_or_default();
    assert!(policy.starts_with("ACCESS#"), "{}", approved.envelope);
    let dbs = s.call("get_databases", json!({})).await;
    assert!(dbs.ok()["databases"].is_array(), "{}", dbs.envelope);
}

/// The text of one listed tool: its description and every parameter description, as one string.
fn tool_text(tools: &[rmcp::model::Tool], name: &str) -> String {
    let t = tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} is listed"));
    format!(
        "{} {}",
        t.description.as_deref().unwrap_or_default(),
        serde_json::Value::Object((*t.input_schema).clone())
    )
}

/// Some clients give the model tools/list and never the instructions: what one call's correct
/// use depends on is in the tool's own text, and results name what their numbers mean.
#[tokio::test]
async fn tools_stand_alone_without_the_instructions() {
    let s = Sbx::with_env(&[("ALTR_CONFIRM", "required")]).await;
    let tools = s.client.list_all_tools().await.unwrap();
    // Every tool that takes a masking level names the levels.
    for name in ["add_rules", "update_rule"] {
        let text = tool_text(&tools, name);
        for named in [
            "10001 all *",
            "10003 last 4",
            "10005 NULL",
            "10009 12/31/9999",
        ] {
            assert!(text.contains(named), "{name} lacks {named:?}: {text}");
        }
    }
    // What a role no rule matches sees, where rules are made and previewed.
    assert!(tool_text(&tools, "add_rules").contains("none: NULL"));
    assert!(tool_text(&tools, "create_policy").contains("else all reads NULL"));
    // confirm says what it is for, wherever it is listed.
    let with_confirm: Vec<_> = tools
        .iter()
        .filter(|t| t.input_schema["properties"].get("confirm").is_some())
        .collect();
    assert!(with_confirm.len() > 20, "{}", with_confirm.len());
    for t in with_confirm {
        let doc = &t.input_schema["properties"]["confirm"]["description"];
        assert!(
            doc.as_str().is_some_and(|d| d.contains("user approved")),
            "{}: {doc}",
            t.name
        );
    }
    // Results name their levels: get_rules and preview_masking.
    let policies = s.call("get_policies", json!({"policy_type": "TAG"})).await;
    let policy = policies.ok()["policies"][0]["policy_id"].clone();
    let rules = s.call("get_rules", json!({"policy_id": policy})).await;
    let d = rules.ok();
    for r in d["rules"].as_array().unwrap() {
        let level = r["masking_policy"].to_string();
        assert!(
            d["levels"][&level].is_string(),
            "{level}: {}",
            rules.envelope
        );
    }
    assert_eq!(d["levels"]["10003"], "show last four");
    let preview = s
        .call("preview_masking", json!({"policy_id": policy}))
        .await;
    let p = preview.ok();
    assert_eq!(p["levels"]["10005"], "NULL", "{}", preview.envelope);
    assert_eq!(p["no_rule_level"], 10005);
}

/// Facts ALTR's own tool text gives that a single call depends on (issue 24, points 8 and 9):
/// limits, quotas, formats, prerequisites and what else a write changes, each in the listed
/// text of its tool (description or parameter descriptions).
const FACTS: &[(&str, &str)] = &[
    // Tokenization: quota, sizes, token formats.
    ("vault_tokenize", "492 calls/month, 50/s"),
    ("vault_tokenize", "each <1024 chars"),
    ("vault_tokenize", "vaultd_ if deterministic"),
    ("critical_tokenize", "each value <128 UTF-8 bytes"),
    ("critical_tokenize", "token_ tokens (64+ chars)"),
    (
        "vault_delete_tokens",
        "retokenizing the value gives a new token",
    ),
    // Prerequisites and side effects of writes.
    ("disconnect_tag", "delete its policies first"),
    ("disconnect_sc_agent", "needs task_count 0"),
    ("disconnect_sc_sidecar", "needs no listeners"),
    ("approve_access_request", "ACCESS#"),
    ("delete_dam_rule", "its past alerts stay"),
    ("cancel_job_report", "review data discarded"),
    ("confirm_job_report", "once every finding is decided"),
    ("rotate_key", "under a new envelope key"),
    ("create_policy", "connect_tag"),
    // Formats and platform differences.
    ("create_database", "snowflake_external_functions"),
    (
        "create_databricks_database",
        "https://adb-N.azuredatabricks.net",
    ),
    ("create_sc_agent_task", "schedule {type: CRON, value: cron"),
    ("create_sc_repo_user", "{secrets_path, iam_role?}"),
    ("create_report_definition", "mode:include|exclude"),
    ("create_dam_rule", "oltp|snowflake"),
    (
        "create_job",
        "report held for review until confirm_job_report",
    ),
];

#[tokio::test]
async fn tools_carry_the_facts_altr_documents() {
    let s = Sbx::with_env(&[("ALTR_ALLOW_CLEARTEXT", "true"), ("ALTR_TOOLSETS", "all")]).await;
    let tools = s.client.list_all_tools().await.unwrap();
    let missing: Vec<_> = FACTS
        .iter()
        .filter(|(name, fact)| !tool_text(&tools, name).contains(fact))
        .collect();
    assert!(
        missing.is_empty(),
        "facts missing from tools/list: {missing:?}"
    );
    // The sandbox mints tokens in ALTR's documented formats, so a model that reads them sees a
    // correct result as correct.
    let values = json!({"a": "123-45-6789"});
    let det = s
        .call(
            "vault_tokenize",
            json!({"values": values, "deterministic": true}),
        )
        .await;
    assert!(
        det.ok()["a"].as_str().unwrap().starts_with("vaultd_"),
        "{}",
        det.envelope
    );
    let random = s.call("vault_tokenize", json!({"values": values})).await;
    assert!(random.ok()["a"].as_str().unwrap().starts_with("vaultn_"));
    let critical = s.call("critical_tokenize", json!({"values": values})).await;
    let token = critical.ok()["a"].as_str().unwrap().to_string();
    assert!(token.starts_with("token_") && token.len() >= 70, "{token}");
}
