//! Safe changes (issue 13), through MCP: dry runs of every write tool, confirmation of
//! destructive calls (required, elicitation accepted and declined, overrides), before/after of
//! rule and policy changes, the masking preview, and the audit trail over stdio and HTTP.

use std::sync::{Arc, Mutex};

use altr_mcp::registry::flags::takes_dry_run;
use altr_mcp::registry::Effect;
use altr_mcp::sandbox::Sandbox;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData as McpError, RoleClient};
use serde_json::{json, Value};

use crate::common::*;
use crate::sandbox_common::Sbx;

const POLICY: &str = "/api/v1/unified-policy/management/policy";

/// The writes (anything but GET) the sandbox has received.
fn writes(s: &Sbx) -> Vec<String> {
    s.requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.starts_with("/_sandbox"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The rules of a policy (get_rules lists them flat).
async fn rules(s: &Sbx, policy_id: &str) -> Vec<Value> {
    let c = s.call("get_rules", json!({"policy_id": policy_id})).await;
    let data = c.ok();
    let rules = data["rules"].as_array().cloned().unwrap_or_default();
    assert_eq!(data["count"], rules.len());
    rules
}

fn rule_for<'a>(rules: &'a [Value], role: &str, tag_value: &str) -> &'a Value {
    rules
        .iter()
        .find(|r| r["role"] == role && r["tag_value"] == tag_value)
        .unwrap_or_else(|| panic!("no rule {role}/{tag_value} in {rules:?}"))
}

// ---- 1. Dry run ------------------------------------------------------------------------------

#[tokio::test]
async fn dry_run_of_every_write_tool_sends_no_write() {
    let s = Sbx::start().await;
    let rows = crate::generated::tables();
    let mut rehearsed = 0;
    let mut tried = 0;
    for t in altr_mcp::toolsets::everything().tools() {
        if !takes_dry_run(t) {
            continue;
        }
        tried += 1;
        let args = with_args(
            &crate::generated::valid_args(&rows, t),
            json!({"dry_run": true}),
        );
        let before = writes(&s);
        let c = s.call(t.name, args.clone()).await;
        assert_eq!(writes(&s), before, "{} {args} sent a write", t.name);
        if c.is_error {
            // Refused or failed on a read: still nothing sent.
            continue;
        }
        let data = c.ok();
        assert_eq!(data["dry_run"], true, "{}: {}", t.name, c.envelope);
        let would = data["would_send"].as_array().expect("would_send");
        // A declarative tool with a table row shows exactly the row's request.
        if let (Some(_), Some(row)) = (&t.endpoint, rows.iter().find(|r| r.tool == t.name)) {
            assert_eq!(would.len(), 1, "{}: {}", t.name, c.envelope);
            assert_eq!(would[0]["method"], row.method, "{}", t.name);
            let path = would[0]["path"].as_str().unwrap();
            assert!(
                row.path.ends_with(path),
                "{}: {path} vs {}",
                t.name,
                row.path
            );
        }
        rehearsed += 1;
    }
    let writers = altr_mcp::toolsets::everything()
        .tools()
        .iter()
        .filter(|t| !t.effect.is_read_only())
        .count();
    // All but record_bulk_job_decision, whose own dry_run goes to the API.
    assert_eq!(tried, writers - 1);
    // Every declarative write tool, at least, rehearses with its example.
    let declarative = altr_mcp::toolsets::everything()
        .tools()
        .iter()
        .filter(|t| takes_dry_run(t) && t.endpoint.is_some())
        .count();
    assert!(rehearsed >= declarative, "{rehearsed} of {tried} rehearsed");
    // With the examples of the hand-tested tools, every one of them rehearses.
    assert_eq!(rehearsed, tried);
}

#[tokio::test]
async fn dry_run_is_listed_once_in_the_same_words_and_validation_still_runs() {
    let h = Harness::with_env(&[("ALTR_ALLOW_CLEARTEXT", "true")]).await;
    let tools = h.client.list_all_tools().await.unwrap();
    for tool in &tools {
        let props = tool.input_schema["properties"].as_object().unwrap();
        let read_only = tool.annotations.as_ref().unwrap().read_only_hint == Some(true);
        if tool.name == "record_bulk_job_decision" {
            assert_ne!(props["dry_run"], json!({"type": "boolean"}));
            assert!(tool.description.as_deref().unwrap().contains("own dry_run"));
        } else if read_only {
            assert!(!props.contains_key("dry_run"), "{}", tool.name);
        } else {
            // Documented once, in the server instructions (SHARED_PARAMETERS).
            assert_eq!(
                props["dry_run"],
                json!({"type": "boolean"}),
                "{}",
                tool.name
            );
        }
        // `confirm` is listed only where the mode in force uses it (ALTR_CONFIRM=required).
        assert!(!props.contains_key("confirm"), "{}", tool.name);
    }
    let required = Harness::with_env(&[("ALTR_CONFIRM", "required")]).await;
    for tool in required.client.list_all_tools().await.unwrap() {
        let a = tool.annotations.as_ref().unwrap();
        // Hints equal to the protocol defaults are left out: destructiveHint defaults to true.
        let destructive = a.read_only_hint != Some(true) && a.destructive_hint != Some(false);
        let props = tool.input_schema["properties"].as_object().unwrap();
        assert_eq!(
            props.get("confirm").cloned(),
            destructive.then(|| {
                json!({"type": "boolean", "description": altr_mcp::registry::flags::CONFIRM_DOC})
            }),
            "{}",
            tool.name
        );
    }
    // Validation first: refused as usual, nothing sent.
    let c = h
        .call(
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "dry_run": true}),
        )
        .await;
    c.invalid("masking_policy");
    let c = h
        .call(
            "delete_dam_rule",
            json!({"rule_id": "r1", "dry_run": "yes"}),
        )
        .await;
    c.invalid("dry_run");
    // A read-only tool does not take dry_run.
    let c = h.call("get_databases", json!({"dry_run": true})).await;
    c.invalid("dry_run");
    h.assert_no_requests().await;
    // Secrets are redacted in what would be sent.
    let c = h
        .call(
            "create_database",
            json!({"database_name": "SALES", "database_password": SECRET, "dry_run": true,
                   "hostname": "h", "database_type": "snowflake", "database_username": "u",
                   "friendly_database_name": "Sales"}),
        )
        .await;
    if !c.is_error {
        assert_eq!(c.ok()["would_send"][0]["method"], "POST");
    }
    assert!(!c.text.contains(SECRET), "{}", c.text);
    h.assert_no_requests().await;
}

// ---- 3. Before/after ---------------------------------------------------------------------

#[tokio::test]
async fn update_rule_returns_before_and_after_and_its_dry_run_shows_before() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let all = rules(&s, &policy).await;
    let rule = rule_for(&all, "ANALYST", "SSN");
    let id = rule["rule_id"].as_str().unwrap();
    let args = json!({"policy_id": policy, "rule_id": id, "masking_policy": 10001});
    let dry = s
        .call("update_rule", with_args(&args, json!({"dry_run": true})))
        .await;
    let d = dry.ok();
    assert_eq!(d["before"]["masking_policy"], 10003, "{}", dry.envelope);
    assert_eq!(d["would_send"][0]["method"], "PATCH");
    assert_eq!(d["would_send"][0]["body"], json!({"masking_policy": 10001}));
    assert_eq!(
        rule_for(&rules(&s, &policy).await, "ANALYST", "SSN")["masking_policy"],
        10003
    );
    let c = s.call("update_rule", args).await;
    let d = c.ok();
    assert_eq!(d["before"]["masking_policy"], 10003, "{}", c.envelope);
    assert_eq!(d["before"]["rule_id"], id);
    assert!(d["after"].is_object(), "{}", c.envelope);
    assert_eq!(
        rule_for(&rules(&s, &policy).await, "ANALYST", "SSN")["masking_policy"],
        10001
    );
}

#[tokio::test]
async fn delete_rule_and_delete_policy_return_what_was_there() {
    let s = Sbx::with_env(&[("ALTR_CONFIRM", "never")]).await;
    let policy = s.tag_policy().await;
    let all = rules(&s, &policy).await;
    let id = rule_for(&all, "PUBLIC", "EMAIL")["rule_id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = s
        .call("delete_rule", json!({"policy_id": policy, "rule_id": id}))
        .await;
    assert_eq!(c.ok()["before"]["masking_policy"], 10001, "{}", c.envelope);
    assert_eq!(rules(&s, &policy).await.len(), all.len() - 1);
    let c = s.call("delete_policy", json!({"policy_id": policy})).await;
    let d = c.ok();
    assert_eq!(d["before"]["rule_count"], all.len() - 1, "{}", c.envelope);
    assert_eq!(d["after"]["deleted"], true, "{}", c.envelope);
}

/// The requests of the former table rows are unchanged; the read comes first.
#[tokio::test]
async fn update_rule_delete_rule_and_delete_policy_send_their_request_after_a_read() {
    let access = json!({"access_rate_unit": "MINUTE", "access_rate_limit": 10, "action": "BLOCK"});
    let window = json!({
        "day": ["MONDAY"], "start_time": {"hour": 8, "minute": 0}, "end_time": {"hour": 17, "minute": 30},
        "timezone": "America/Chicago", "action": "ALERT",
    });
    let rule =
        json!({"rule_id": "r1", "role": "ANALYST", "tag_value": "SSN", "masking_policy": 10003});
    // (tool, arguments, method, encoded policy id, rest of the path, body)
    type Case<'a> = (&'a str, Value, &'a str, &'a str, &'a str, Option<Value>);
    let cases: Vec<Case> = vec![
        (
            "delete_policy",
            json!({"policy_id": "TAG#p1"}),
            "DELETE",
            "TAG%23p1",
            "",
            None,
        ),
        (
            "delete_policy",
            json!({"policy_id": "TAG%23p1"}),
            "DELETE",
            "TAG%23p1",
            "",
            None,
        ),
        (
            "delete_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r/1?x"}),
            "DELETE",
            "TAG%23p1",
            "/rules/r%2F1%3Fx",
            None,
        ),
        (
            "update_rule",
            json!({"policy_id": "PUSHDOWN#p2", "rule_id": "r1", "role": "ANALYST"}),
            "PATCH",
            "PUSHDOWN%23p2",
            "/rules/r1",
            Some(json!({"role": "ANALYST"})),
        ),
        (
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "tag_value": "SSN"}),
            "PATCH",
            "TAG%23p1",
            "/rules/r1",
            Some(json!({"tag_value": "SSN"})),
        ),
        (
            "update_rule",
            json!({
                "policy_id": "PUSHDOWN#p2", "rule_id": "r1", "masking_policy": "10007", "role": "ANALYST",
                "tag_value": "SSN", "access_rate_thresholds": access.clone(),
                "time_window_thresholds": window.clone(),
            }),
            "PATCH",
            "PUSHDOWN%23p2",
            "/rules/r1",
            Some(json!({
                "masking_policy": 10007, "role": "ANALYST", "tag_value": "SSN",
                "access_rate_thresholds": [access.clone()], "time_window_thresholds": [window.clone()],
            })),
        ),
        (
            "update_rule",
            json!({
                "policy_id": "PUSHDOWN#p2", "rule_id": "r1",
                "access_rate_thresholds": [access.clone(), access.clone()],
                "time_window_thresholds": [window.clone()],
            }),
            "PATCH",
            "PUSHDOWN%23p2",
            "/rules/r1",
            Some(json!({
                "access_rate_thresholds": [access.clone(), access], "time_window_thresholds": [window],
            })),
        ),
    ];
    for (tool, args, method, policy, rest, body) in cases {
        let h = Harness::with_env(&[("ALTR_CONFIRM", "never")]).await;
        let list = format!("{POLICY}/{policy}/rules");
        h.mock(
            "GET",
            &list,
            200,
            json!({"data": {"items": {"h1": [rule.clone()]}}}),
        )
        .await;
        let target = format!("{POLICY}/{policy}{rest}");
        let answer = json!({"success": true, "data": {"answer_for": tool}});
        h.mock(method, &target, 200, answer.clone()).await;
        let c = h.call(tool, args.clone()).await;
        let d = c.ok();
        assert_eq!(d["after"], answer["data"], "{tool} {args}");
        let r = h.requests().await;
        assert_eq!(r.len(), 2, "{tool} {args}");
        assert_request(&r[0], "GET", &list, &[], None);
        assert_request(&r[1], method, &target, &[], body);
        if tool == "delete_policy" {
            assert_eq!(d["before"]["rules"], json!([rule.clone()]));
        } else if rest == "/rules/r1" {
            assert_eq!(d["before"], rule);
        } else {
            assert_eq!(d["before"], Value::Null, "no such rule listed");
        }
    }
}

#[tokio::test]
async fn a_failed_read_does_not_block_the_change_and_says_so() {
    let h = Harness::start().await;
    let target = format!("{POLICY}/TAG%23p1/rules/r1");
    h.mock(
        "GET",
        &format!("{POLICY}/TAG%23p1/rules"),
        403,
        json!({"message": "no"}),
    )
    .await;
    h.mock("PATCH", &target, 200, json!({"success": true}))
        .await;
    let c = h
        .call(
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "role": "A"}),
        )
        .await;
    let d = c.ok();
    assert_eq!(d["before"], Value::Null);
    assert_eq!(d["before_error"]["status"], 403, "{}", c.envelope);
    assert_eq!(d["after"], json!({}));
}

// ---- 4. preview_masking -------------------------------------------------------------------

#[tokio::test]
async fn preview_masking_shows_the_effect_of_proposed_rules_without_changing_anything() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let all = rules(&s, &policy).await;
    let analyst_email = rule_for(&all, "ANALYST", "EMAIL")["rule_id"].clone();
    let hr_salary = rule_for(&all, "HR_ADMIN", "SALARY")["rule_id"].clone();
    let before = writes(&s);
    let c = s
        .call(
            "preview_masking",
            json!({
                "policy_id": policy,
                "add": [
                    {"masking_policy": 10003, "role": "PUBLIC", "tag_value": "SSN"},
                    // Less permissive than ANALYST's 10003 on SSN: the most permissive wins.
                    {"masking_policy": 10001, "role": "ANALYST", "tag_value": "SSN"},
                ],
                "update": [{"rule_id": analyst_email, "masking_policy": 10000}],
                "delete": [hr_salary],
                "roles": ["AUDITOR"],
            }),
        )
        .await;
    let d = c.ok();
    assert_eq!(d["now"]["SSN"]["ANALYST"], 10003, "{}", c.envelope);
    assert_eq!(d["after"]["SSN"]["ANALYST"], 10003);
    // A role no rule matches sees NULL, and the answer says which cells those are.
    assert_eq!(d["no_rule_level"], 10005);
    assert_eq!(d["levels"]["10005"], "NULL");
    assert_eq!(d["now"]["SSN"]["PUBLIC"], 10005);
    assert!(d["no_rule"]["now"]["SSN"]
        .as_array()
        .unwrap()
        .contains(&json!("PUBLIC")));
    assert_eq!(d["after"]["SSN"]["PUBLIC"], 10003);
    assert!(!d["no_rule"]["after"]["SSN"]
        .as_array()
        .unwrap()
        .contains(&json!("PUBLIC")));
    assert_eq!(d["now"]["EMAIL"]["ANALYST"], 10002);
    assert_eq!(d["after"]["EMAIL"]["ANALYST"], 10000);
    assert_eq!(d["now"]["SALARY"]["HR_ADMIN"], 10000);
    assert_eq!(d["after"]["SALARY"]["HR_ADMIN"], 10005);
    assert_eq!(d["after"]["EMAIL"]["AUDITOR"], 10005);
    assert_eq!(d["changed"].as_array().unwrap().len(), 3, "{}", c.envelope);
    // Every value of the tag is covered, those no rule names too (ALTR's tag values).
    assert_eq!(d["tag"], "PII_TYPE");
    let listed = s
        .call("get_tag_values", json!({"tag_name": "PII_TYPE"}))
        .await;
    let values = listed.ok()["tags"].as_array().unwrap().clone();
    assert!(values.len() >= 5, "{}", listed.envelope);
    for v in &values {
        let tv = v["tagValue"].as_str().unwrap();
        for role in ["ANALYST", "AUDITOR", "HR_ADMIN", "PUBLIC"] {
            assert!(d["now"][tv][role].is_i64(), "{tv}/{role}: {}", c.envelope);
            assert!(d["after"][tv][role].is_i64(), "{tv}/{role}");
        }
    }
    assert_eq!(d["now"]["PHONE"]["ANALYST"], 10005, "no rule names PHONE");
    assert_eq!(d["rules_now"], all.len());
    assert_eq!(d["rules_after"], all.len() + 1);
    assert_eq!(writes(&s), before, "preview sent a write");
    assert_eq!(rules(&s, &policy).await, all, "rules changed");
    // Unknown rule ids are refused, naming the parameter.
    let c = s
        .call(
            "preview_masking",
            json!({"policy_id": policy, "delete": ["no-such-rule"]}),
        )
        .await;
    c.invalid("delete[0]");
}

// ---- 2. Confirmation ---------------------------------------------------------------------

#[tokio::test]
async fn confirmation_required_without_elicitation_refuses_and_deletes_nothing() {
    let s = Sbx::with_env(&[("ALTR_CONFIRM", "required")]).await;
    let policy = s.tag_policy().await;
    let c = s.call("delete_policy", json!({"policy_id": policy})).await;
    let e = c.error();
    assert_eq!(e["code"], "confirmation_required", "{}", c.envelope);
    assert_eq!(e["details"]["would_send"][0]["method"], "DELETE");
    assert_eq!(e["details"]["before"]["rule_count"], 5);
    assert!(writes(&s).is_empty(), "{:?}", writes(&s));
    assert_eq!(s.tag_policy().await, policy);
    // A write that is not destructive needs no confirmation.
    let c = s
        .call(
            "add_rules",
            json!({"policy_id": policy, "rules": [{"masking_policy": 10001, "role": "PUBLIC", "tag_value": "SSN"}]}),
        )
        .await;
    c.ok();
    let c = s
        .call(
            "delete_policy",
            json!({"policy_id": policy, "confirm": true}),
        )
        .await;
    assert_eq!(c.ok()["before"]["rule_count"], 6, "{}", c.envelope);
    let left = s.call("get_policies", json!({"policy_type": "TAG"})).await;
    assert!(!left.ok().to_string().contains(&policy));
}

/// A client that answers every form elicitation with `action`, and remembers the messages.
#[derive(Clone)]
struct Asker {
    action: ElicitationAction,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Asker {
    fn get_info(&self) -> ClientConfig {
        let mut caps = ClientCapabilities::default();
        caps.elicitation = Some(Default::default());
        ClientConfig::new(caps, Implementation::new("asker", "1.0"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.asked.lock().unwrap().push(message);
        }
        let mut r = ElicitResult::new(self.action.clone());
        if self.action == ElicitationAction::Accept {
            r = r.with_content(json!({"confirm": true}));
        }
        Ok(r)
    }
}

async fn asking_client(
    s: &Sandbox,
    action: ElicitationAction,
    extra: &[(&str, &str)],
) -> (RunningService<RoleClient, Asker>, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let pairs = with_overrides(s.env(), extra);
    let client = connect_with(
        pairs,
        Asker {
            action,
            asked: asked.clone(),
        },
    )
    .await;
    (client, asked)
}

#[tokio::test]
async fn with_elicitation_accept_deletes_and_decline_does_not() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    for action in [ElicitationAction::Decline, ElicitationAction::Cancel] {
        let (client, asked) = asking_client(&s.sandbox, action, &[]).await;
        let c = call_tool(&client, "delete_policy", json!({"policy_id": policy})).await;
        assert_eq!(c.error()["code"], "declined", "{}", c.envelope);
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1);
        assert!(asked[0].contains(&policy), "{}", asked[0]);
        assert!(asked[0].contains("5 rule(s)"), "{}", asked[0]);
        assert!(asked[0].contains("DELETE "), "{}", asked[0]);
    }
    assert!(writes(&s).is_empty(), "{:?}", writes(&s));
    // Not asked when the policy says so: never, or the tool is taken out.
    for extra in [
        ("ALTR_CONFIRM", "never"),
        ("ALTR_CONFIRM_TOOLS", "-delete_rule"),
    ] {
        let (client, asked) = asking_client(&s.sandbox, ElicitationAction::Decline, &[extra]).await;
        let all = rules(&s, &policy).await;
        let id = all[0]["rule_id"].as_str().unwrap();
        let c = call_tool(
            &client,
            "delete_rule",
            json!({"policy_id": policy, "rule_id": id}),
        )
        .await;
        c.ok();
        assert!(asked.lock().unwrap().is_empty(), "{extra:?}");
    }
    // A tool added with + is confirmed although not destructive.
    let (client, asked) = asking_client(
        &s.sandbox,
        ElicitationAction::Decline,
        &[("ALTR_CONFIRM_TOOLS", "+add_rules")],
    )
    .await;
    let c = call_tool(
        &client,
        "add_rules",
        json!({"policy_id": policy, "rules": [{"masking_policy": 10001, "role": "PUBLIC", "tag_value": "SSN"}]}),
    )
    .await;
    assert_eq!(c.error()["code"], "declined");
    assert_eq!(asked.lock().unwrap().len(), 1);
    let before = writes(&s).len();
    let (client, asked) = asking_client(&s.sandbox, ElicitationAction::Accept, &[]).await;
    let c = call_tool(&client, "delete_policy", json!({"policy_id": policy})).await;
    assert_eq!(c.ok()["after"]["deleted"], true, "{}", c.envelope);
    assert_eq!(asked.lock().unwrap().len(), 1);
    assert_eq!(writes(&s).len(), before + 1);
}

/// One round of a call by a client of protocol 2026-07-28, driven by hand.
async fn one_round(
    client: &RunningService<RoleClient, Asker>,
    tool: &str,
    args: Value,
    answer: Option<Value>,
    state: Option<&str>,
) -> CallToolResponse {
    let mut params = CallToolRequestParams::new(tool.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    if let Some(a) = answer {
        params = params.with_input_responses([("confirm".to_string(), a)].into());
    }
    if let Some(s) = state {
        params = params.with_request_state(s);
    }
    tokio::time::timeout(STEP, client.call_tool_once(params))
        .await
        .expect("in time")
        .expect("no protocol error")
}

fn finished(r: CallToolResponse) -> Call {
    match r {
        CallToolResponse::Complete(c) => Call::of(c),
        other => panic!("expected a finished call, got {other:?}"),
    }
}

#[tokio::test]
async fn newest_protocol_clients_confirm_through_the_result_with_sealed_state() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let connect = |action: ElicitationAction, extra: &[(&str, &str)]| {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let pairs = with_overrides(s.sandbox.env(), extra);
        let asker = Asker {
            action,
            asked: asked.clone(),
        };
        async move { (connect_newest_with(pairs, asker).await, asked) }
    };
    // The client asks its human when the result says so, then calls again: decline sends nothing.
    let (client, asked) = connect(ElicitationAction::Decline, &[]).await;
    let c = call_tool_rounds(&client, "delete_policy", json!({"policy_id": policy})).await;
    assert_eq!(c.error()["code"], "declined", "{}", c.envelope);
    let question = asked.lock().unwrap().clone();
    assert_eq!(question.len(), 1);
    assert!(question[0].contains(&policy), "{}", question[0]);
    assert!(question[0].contains("5 rule(s)"), "{}", question[0]);
    assert!(writes(&s).is_empty(), "{:?}", writes(&s));

    // By hand: the first round asks and sends nothing.
    let args = json!({"policy_id": policy});
    let yes = json!({"action": "accept", "content": {"confirm": true}});
    let CallToolResponse::InputRequired(q) =
        one_round(&client, "delete_policy", args.clone(), None, None).await
    else {
        panic!("expected an input-required result");
    };
    let requests = q.input_requests.expect("a question");
    let asks = serde_json::to_value(&requests["confirm"]).unwrap();
    assert_eq!(asks["method"], "elicitation/create");
    assert!(asks["params"]["message"]
        .as_str()
        .unwrap()
        .contains(&policy));
    let state = q.request_state.expect("sealed state");
    assert!(writes(&s).is_empty());

    // Altered state, state for other arguments or another tool, answers without state, and no
    // answer: refused, nothing sent.
    let mut altered = state.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let cases = [
        (
            "delete_policy",
            args.clone(),
            Some(yes.clone()),
            Some(altered.as_str()),
            "confirmation_invalid",
        ),
        (
            "delete_policy",
            json!({"policy_id": "TAG#someone-else"}),
            Some(yes.clone()),
            Some(state.as_str()),
            "confirmation_invalid",
        ),
        (
            "delete_rule",
            json!({"policy_id": policy, "rule_id": "r1"}),
            Some(yes.clone()),
            Some(state.as_str()),
            "confirmation_invalid",
        ),
        (
            "delete_policy",
            args.clone(),
            Some(yes.clone()),
            None,
            "confirmation_invalid",
        ),
        (
            "delete_policy",
            args.clone(),
            None,
            Some(state.as_str()),
            "confirmation_invalid",
        ),
    ];
    for (tool, a, answer, st, code) in cases {
        let c = finished(one_round(&client, tool, a.clone(), answer, st).await);
        assert_eq!(c.error()["code"], code, "{tool} {a}: {}", c.envelope);
        assert!(c.error()["message"]
            .as_str()
            .unwrap()
            .contains("Nothing was sent"));
    }
    assert!(writes(&s).is_empty(), "{:?}", writes(&s));

    // The state is spent by the refusal above that carried no answer; ask again, then accept.
    let CallToolResponse::InputRequired(q) =
        one_round(&client, "delete_policy", args.clone(), None, None).await
    else {
        panic!("expected an input-required result");
    };
    let state = q.request_state.unwrap();
    let c = finished(
        one_round(
            &client,
            "delete_policy",
            args.clone(),
            Some(yes.clone()),
            Some(&state),
        )
        .await,
    );
    assert_eq!(c.ok()["after"]["deleted"], true, "{}", c.envelope);
    assert_eq!(writes(&s).len(), 1);
    // Replayed: refused, nothing sent again.
    let c = finished(one_round(&client, "delete_policy", args, Some(yes), Some(&state)).await);
    assert_eq!(c.error()["code"], "confirmation_replayed", "{}", c.envelope);
    assert_eq!(writes(&s).len(), 1);

    // A client of the newest protocol that cannot be asked: ALTR_CONFIRM=required still refuses.
    let client = connect_newest_with(
        with_overrides(s.sandbox.env(), &[("ALTR_CONFIRM", "required")]),
        ClientConfig::default(),
    )
    .await;
    let c = call_tool(
        &client,
        "delete_rule",
        json!({"policy_id": "TAG#x", "rule_id": "r1"}),
    )
    .await;
    assert_eq!(c.error()["code"], "confirmation_required", "{}", c.envelope);
    assert_eq!(writes(&s).len(), 1);
}

#[test]
fn confirm_settings_are_checked_at_start() {
    use altr_mcp::config::{Purpose, Settings, Sources};
    let load = |pairs: &[(&str, &str)]| {
        let mut all = vec![("ORG_ID", "o"), ("MAPI_KEY", "k"), ("MAPI_SECRET", "s")];
        all.extend_from_slice(pairs);
        Settings::load(&Sources::from_pairs(all), Purpose::Serve)
    };
    let e = load(&[
        ("ALTR_CONFIRM", "maybe"),
        ("ALTR_CONFIRM_TOOLS", "+delete_polcy"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("ALTR_CONFIRM: must be one of elicit, required, never"),
        "{e}"
    );
    assert!(e.contains("delete_polcy"), "{e}");
    let e = load(&[("MCP_AUTH_TOKENS", "alice:tok-1,bob,alice:tok-2,carol:tok-1")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("entry 2"), "{e}");
    assert!(e.contains("alice is given twice"), "{e}");
    assert!(e.contains("token of carol"), "{e}");
    assert!(!e.contains("tok-1") && !e.contains("tok-2"), "{e}");
    let e = load(&[("ALTR_AUDIT_LOG", "/no/such/dir/audit.jsonl")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("ALTR_AUDIT_LOG"), "{e}");
    let s = load(&[("MCP_AUTH_TOKENS", "alice:tok-1, bob:tok-2")]).unwrap();
    assert_eq!(s.http.auth_tokens.len(), 2);
    assert_eq!(s.http.auth_tokens[1].name, "bob");
    assert!(s.http.auth_tokens[1].grant.is_none());
}

// ---- 5. Audit trail ----------------------------------------------------------------------

use crate::common::temp_log;

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn the_audit_log_has_one_line_per_call_and_refusal_without_secrets() {
    let path = temp_log("stdio");
    let p = path.to_str().unwrap();
    let h = Harness::with_env(&[
        ("ALTR_AUDIT_LOG", p),
        ("RESTRICTED_TOOLS", "delete_dam_rule"),
        ("ALTR_CONFIRM", "required"),
    ])
    .await;
    h.mock("GET", "/altrnet/api/databases", 200, json!({"data": []}))
        .await;
    h.call("get_databases", json!({})).await.ok();
    let c = h
        .call(
            "update_database",
            json!({"database_id": 7, "database_password": SECRET, "dry_run": true}),
        )
        .await;
    c.ok();
    h.call(
        "update_rule",
        json!({"policy_id": "TAG#p1", "rule_id": "r1"}),
    )
    .await
    .invalid("masking_policy");
    let c = h.call("delete_dam_rule", json!({"rule_id": "r1"})).await;
    assert_eq!(c.error()["code"], "tool_unavailable");
    let c = h
        .call("disconnect_database", json!({"database_id": 7}))
        .await;
    assert_eq!(c.error()["code"], "confirmation_required");
    let unknown = h
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("no_such_tool"))
        .await;
    assert!(unknown.is_err());
    let log = lines(&path);
    let outcomes: Vec<&str> = log.iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["ok", "dry_run", "refused", "refused", "refused", "refused"],
        "{log:?}"
    );
    let first = &log[0];
    assert_eq!(first["tool"], "get_databases");
    assert_eq!(first["effect"], "read_only");
    assert_eq!(first["statuses"], json!([200]));
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    assert!(first["duration_ms"].is_u64());
    assert!(
        first["caller"].as_str().unwrap().starts_with("client:"),
        "{first}"
    );
    assert_eq!(log[1]["effect"], "idempotent");
    assert_eq!(log[1]["arguments"]["database_password"], "<redacted>");
    assert_eq!(log[2]["code"], "invalid_argument");
    assert_eq!(log[4]["code"], "confirmation_required");
    assert_eq!(log[5]["code"], "unknown_tool");
    assert_eq!(log[5]["tool"], "no_such_tool");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_failed_audit_write_fails_the_call() {
    let h = Harness::with_env(&[("ALTR_AUDIT_LOG", "/dev/full")]).await;
    h.mock("GET", "/altrnet/api/databases", 200, json!({"data": []}))
        .await;
    let c = h.call("get_databases", json!({})).await;
    assert_eq!(c.error()["code"], "audit_failed", "{}", c.envelope);
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("ALTR_AUDIT_LOG"));
}

#[tokio::test]
async fn over_http_the_audit_log_names_the_caller_by_its_token() {
    use crate::http_common::{Server, WAIT};
    use rmcp::model::{CallToolRequestParams, ClientConfig};
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::ServiceExt;

    let path = temp_log("http");
    let p = path.to_str().unwrap();
    let server = Server::start(
        "streamable-http",
        &[
            ("ALTR_AUDIT_LOG", p),
            ("MCP_AUTH_TOKENS", "alice:tok-alice-1234,bob:tok-bob-5678"),
        ],
    )
    .await;
    for (token, name) in [("tok-bob-5678", "bob"), ("tok-alice-1234", "alice")] {
        let _ = crate::http_common::http();
        let config =
            StreamableHttpClientTransportConfig::with_uri(server.url("/mcp")).auth_header(token);
        let client = tokio::time::timeout(
            WAIT,
            ClientConfig::default().serve(StreamableHttpClientTransport::from_config(config)),
        )
        .await
        .expect("initialize in time")
        .expect("initialize");
        let r = tokio::time::timeout(
            WAIT,
            client.call_tool(CallToolRequestParams::new("get_databases")),
        )
        .await
        .expect("in time")
        .expect("tools/call");
        assert_eq!(r.is_error, Some(false));
        let log = lines(&path);
        assert_eq!(log.last().unwrap()["caller"], name, "{log:?}");
    }
    let r = crate::http_common::http()
        .post(server.url("/mcp"))
        .bearer_auth("tok-nobody")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(!text.contains("tok-"), "{text}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn every_destructive_tool_takes_confirm() {
    for t in altr_mcp::toolsets::everything().tools() {
        let listed = t.to_tool();
        let has = listed.input_schema["properties"]
            .as_object()
            .unwrap()
            .contains_key("confirm");
        assert_eq!(has, t.effect == Effect::Destructive, "{}", t.name);
    }
}

/// Declarative tools that read their target first: the former table rows, each now sending the
/// read, then exactly its request, and returning {before, after}.
#[tokio::test]
async fn declared_reads_before_the_change_keep_each_request_unchanged() {
    // (tool, arguments, read path, method, path, body)
    type Case<'a> = (&'a str, Value, &'a str, &'a str, &'a str, Option<Value>);
    let cases: Vec<Case> = vec![
        (
            "disconnect_tag",
            json!({"tag_group_id": "tg-1"}),
            "/api/v1/tag/masking/tag/tg-1",
            "DELETE",
            "/api/v1/tag/masking/tag/tg-1",
            None,
        ),
        (
            "disconnect_tag",
            json!({"tag_group_id": "a/b?c#d"}),
            "/api/v1/tag/masking/tag/a%2Fb%3Fc%23d",
            "DELETE",
            "/api/v1/tag/masking/tag/a%2Fb%3Fc%23d",
            None,
        ),
        (
            "update_dam_rule",
            json!({"rule_id": "r1", "severity": "low", "email_recipients": []}),
            "/dam-alerting/rules/r1",
            "PATCH",
            "/dam-alerting/rules/r1",
            Some(json!({"severity": "low", "email_recipients": []})),
        ),
        (
            "delete_dam_rule",
            json!({"rule_id": "r1"}),
            "/dam-alerting/rules/r1",
            "DELETE",
            "/dam-alerting/rules/r1",
            None,
        ),
        (
            "deactivate_tweak",
            json!({"name": "ssn-tweak", "sequence": 1}),
            "/kma/tweaks/ssn-tweak",
            "PATCH",
            "/kma/tweaks/ssn-tweak/sequence/1/deactivate",
            None,
        ),
        (
            "deactivate_key",
            json!({"namespace": "payments", "name": "card-key", "sequence": 1}),
            "/kma/keys/payments/card-key",
            "PATCH",
            "/kma/keys/payments/card-key/sequence/1/deactivate",
            None,
        ),
    ];
    // Access requests: read, then PUT the decision.
    let request = "/api/v1/unified-policy/management/accessRequest/ACCESS%23r1";
    let decisions: Vec<(String, String)> = ["approve", "deny", "cancel"]
        .iter()
        .map(|verb| {
            (
                format!("{verb}_access_request"),
                format!("{request}/{verb}"),
            )
        })
        .collect();
    let mut cases = cases;
    for (tool, path) in &decisions {
        cases.push((
            tool,
            json!({"request_id": "ACCESS#r1", "justification": "why"}),
            request,
            "PUT",
            path,
            Some(json!({"justification": "why"})),
        ));
    }
    for (tool, args, read, method, path, body) in cases {
        let h = Harness::with_env(&[("ALTR_CONFIRM", "never")]).await;
        let state = json!({"state_of": tool, "active": true});
        h.mock("GET", read, 200, state.clone()).await;
        let answer = json!({"success": true, "data": {"answer_for": tool}});
        h.mock(method, path, 200, answer.clone()).await;
        let c = h.call(tool, args.clone()).await;
        assert_eq!(
            c.ok(),
            &json!({"before": state, "after": answer["data"]}),
            "{tool} {args}"
        );
        let r = h.requests().await;
        assert_eq!(r.len(), 2, "{tool} {args}");
        assert_request(&r[0], "GET", read, &[], None);
        assert_request(&r[1], method, path, &[], body);
        // An upstream failure of the change is still a failure with its hint.
        let h = Harness::with_env(&[("ALTR_CONFIRM", "never")]).await;
        h.mock("GET", read, 200, state.clone()).await;
        h.mock(method, path, 404, json!({"message": "upstream says no"}))
            .await;
        let c = h.call(tool, args.clone()).await;
        c.upstream(404);
        // A dry run reads and shows the state, and sends nothing else.
        let h = Harness::start().await;
        h.mock("GET", read, 200, state.clone()).await;
        let c = h
            .call(tool, with_args(&args, json!({"dry_run": true})))
            .await;
        assert_eq!(c.ok()["before"], state, "{tool}");
        assert_eq!(c.ok()["would_send"][0]["method"], method);
        assert!(h
            .requests()
            .await
            .iter()
            .all(|r| r.method.as_str() == "GET"));
    }
}

#[tokio::test]
async fn over_legacy_sse_the_audit_log_names_the_caller_by_its_token() {
    use crate::http_common::{Server, SseClient};
    let path = temp_log("sse");
    let p = path.to_str().unwrap();
    let server = Server::start(
        "sse",
        &[
            ("ALTR_AUDIT_LOG", p),
            ("MCP_AUTH_TOKENS", "carol:tok-carol-1234"),
        ],
    )
    .await;
    let mut c = SseClient::connect(&server.url(""), Some("tok-carol-1234")).await;
    c.initialize().await;
    let r = c
        .request(
            1,
            "tools/call",
            json!({"name": "get_databases", "arguments": {}}),
        )
        .await;
    assert_eq!(r["result"]["isError"], false, "{r}");
    let log = lines(&path);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["caller"], "carol");
    assert_eq!(log[0]["outcome"], "ok");
    let _ = std::fs::remove_file(&path);
}
