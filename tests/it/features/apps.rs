//! The masking matrix MCP App (issue 21), through MCP against the sandbox: a client that declares
//! the `io.modelcontextprotocol/ui` extension gets the extension back, `_meta.ui` on the six
//! tools that show the app, the `ui://` resource, and the matrix in those tools' result `_meta`;
//! a client that does not (or a server with MCP_APPS=false) sees none of it, and every result's
//! text is the same for both.

use rmcp::model::{
    CallToolResult, ClientCapabilities, ClientConfig, Implementation, ReadResourceRequestParams,
    ResourceContents,
};
use rmcp::service::RunningService;
use rmcp::{ClientHandler, RoleClient};
use serde_json::{json, Value};

use crate::common::{
    call_tool_result, call_tool_rounds, connect, connect_with, with_overrides, Call,
};
use crate::sandbox_common::Sbx;

const EXTENSION: &str = "io.modelcontextprotocol/ui";
const MIME: &str = "text/html;profile=mcp-app";
const APP: &str = "ui://altr/masking-matrix";
const MATRIX: &str = "io.altr/masking-matrix";
const SHOWN_BY: [&str; 6] = [
    "add_rules",
    "delete_policy",
    "delete_rule",
    "get_rules",
    "preview_masking",
    "update_rule",
];

/// A client that declares the apps extension with `mime_types`.
#[derive(Clone)]
struct AppHost {
    mime_types: Vec<&'static str>,
}

impl ClientHandler for AppHost {
    fn get_info(&self) -> ClientConfig {
        let mut caps = ClientCapabilities::default();
        let mut ui = rmcp::model::JsonObject::new();
        ui.insert("mimeTypes".into(), json!(self.mime_types));
        caps.extensions = Some([(EXTENSION.to_string(), ui)].into_iter().collect());
        ClientConfig::new(caps, Implementation::new("app-host", "1.0"))
    }
}

type Host = RunningService<RoleClient, AppHost>;

async fn host(s: &Sbx, mime_types: Vec<&'static str>, extra: &[(&str, &str)]) -> Host {
    let pairs = with_overrides(s.sandbox.env(), extra);
    connect_with(pairs, AppHost { mime_types }).await
}

async fn app_host(s: &Sbx) -> Host {
    host(s, vec![MIME], &[]).await
}

/// The matrix a call's result carries for the app, failing when there is none.
fn matrix(c: &Call) -> &Value {
    c.meta
        .as_ref()
        .and_then(|m| m.get(MATRIX))
        .unwrap_or_else(|| panic!("no matrix in the result _meta: {:?}", c.meta))
}

fn has_matrix(c: &Call) -> bool {
    c.meta.as_ref().is_some_and(|m| m.get(MATRIX).is_some())
}

fn writes(s: &Sbx) -> usize {
    s.requests()
        .iter()
        .filter(|r| r.method != "GET" && !r.path.starts_with("/_sandbox"))
        .count()
}

/// The cell of `role` and `tag_value` in an app view.
fn cell<'a>(view: &'a Value, role: &str, tag_value: &str) -> &'a Value {
    let at = |key: &str, name: &str| {
        view[key]
            .as_array()
            .unwrap()
            .iter()
            .position(|x| x == name)
            .unwrap_or_else(|| panic!("{name} not in {key}: {view}"))
    };
    &view["cells"][at("roles", role)][at("tag_values", tag_value)]
}

/// Every tool's listing with `_meta.ui` taken out.
fn without_ui(tools: &[rmcp::model::Tool]) -> Value {
    let mut v = serde_json::to_value(tools).unwrap();
    for t in v.as_array_mut().unwrap() {
        if let Some(meta) = t.get_mut("_meta").and_then(Value::as_object_mut) {
            meta.remove("ui");
            if meta.is_empty() {
                t.as_object_mut().unwrap().remove("_meta");
            }
        }
    }
    v
}

#[tokio::test]
async fn a_declaring_client_is_offered_the_app_and_no_other_client_is() {
    let s = Sbx::start().await;
    let with = app_host(&s).await;
    // The extension comes back in the server's capabilities, with the app MIME type.
    let caps = &with.peer_info().expect("initialized").capabilities;
    let ui = caps.extensions.as_ref().and_then(|e| e.get(EXTENSION));
    assert_eq!(ui.map(|u| u["mimeTypes"].clone()), Some(json!([MIME])));
    // Exactly the six tools carry the app's URI.
    let tools = with.list_all_tools().await.unwrap();
    let mut marked: Vec<&str> = tools
        .iter()
        .filter(|t| {
            t.meta
                .as_ref()
                .and_then(|m| m.0.get("ui"))
                .is_some_and(|ui| ui == &json!({"resourceUri": APP}))
        })
        .map(|t| t.name.as_ref())
        .collect();
    marked.sort();
    assert_eq!(marked, SHOWN_BY);
    // The app is a resource, listed and readable, self-contained.
    let resources = with.list_all_resources().await.unwrap();
    let app = resources
        .iter()
        .find(|r| r.uri == APP)
        .expect("the app is listed");
    assert_eq!(app.mime_type.as_deref(), Some(MIME));
    let read = with
        .read_resource(ReadResourceRequestParams::new(APP))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents {
        mime_type,
        text,
        meta,
        ..
    } = &read.contents[0]
    else {
        panic!("the app is text")
    };
    assert_eq!(mime_type.as_deref(), Some(MIME));
    assert!(text.starts_with("<!DOCTYPE html>") || text.starts_with("<!doctype html>"));
    assert!(text.contains("ui/initialize"));
    let csp = &meta.as_ref().expect("_meta.ui").0["ui"]["csp"];
    assert_eq!(csp, &json!({"connectDomains": [], "resourceDomains": []}));

    // Without the extension, or with it but another MIME type: no app anywhere.
    let plain = connect(s.sandbox.env()).await;
    let html_only = host(&s, vec!["text/html"], &[]).await;
    for (who, peer) in [
        ("plain", plain.peer()),
        ("text/html only", html_only.peer()),
    ] {
        let info = peer.peer_info().expect("initialized");
        assert!(
            info.capabilities
                .extensions
                .as_ref()
                .is_none_or(|e| !e.contains_key(EXTENSION)),
            "{who}"
        );
        let listed = peer.list_all_tools().await.unwrap();
        let bytes = serde_json::to_string(&listed).unwrap();
        assert!(!bytes.contains(APP), "{who}: {bytes}");
        // The listing is the declaring client's, less `_meta.ui`, byte for byte.
        assert_eq!(
            serde_json::to_string(&without_ui(&tools)).unwrap(),
            bytes,
            "{who}"
        );
        let resources = peer.list_all_resources().await.unwrap();
        assert!(resources.iter().all(|r| r.uri != APP), "{who}");
        let read = peer
            .read_resource(ReadResourceRequestParams::new(APP))
            .await;
        assert!(read.is_err(), "{who}: {read:?}");
    }
}

#[tokio::test]
async fn mcp_apps_false_offers_no_app_even_to_a_declaring_client() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let off = host(&s, vec![MIME], &[("MCP_APPS", "false")]).await;
    let info = off.peer_info().expect("initialized");
    assert!(info
        .capabilities
        .extensions
        .as_ref()
        .is_none_or(|e| !e.contains_key(EXTENSION)));
    let tools = off.list_all_tools().await.unwrap();
    assert!(!serde_json::to_string(&tools).unwrap().contains(APP));
    let resources = off.list_all_resources().await.unwrap();
    assert!(resources.iter().all(|r| r.uri != APP));
    let rules = call_tool_rounds(&off, "get_rules", json!({"policy_id": policy})).await;
    assert!(!has_matrix(&rules), "{:?}", rules.meta);
}

#[tokio::test]
async fn get_rules_and_preview_masking_carry_the_matrix_their_json_shows() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let with = app_host(&s).await;
    let plain = connect(s.sandbox.env()).await;

    // get_rules: the current rules, one cell per role and tag value.
    let shown = call_tool_rounds(&with, "get_rules", json!({"policy_id": policy})).await;
    let bare = call_tool_rounds(&plain, "get_rules", json!({"policy_id": policy})).await;
    assert_eq!(
        shown.text, bare.text,
        "the text is the same for both clients"
    );
    assert!(!has_matrix(&bare));
    let view = matrix(&shown);
    assert_eq!(view["mode"], "current");
    assert_eq!(view["policy_id"], policy);
    assert_eq!(view["title"], "Current rules");
    let levels: Vec<i64> = view["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_i64().unwrap())
        .collect();
    let rank = |level: i64| levels.iter().position(|l| *l == level).unwrap();
    let rules = shown.envelope["data"]["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    // Each cell is the most permissive level of the rules for its pair, NULL where none is.
    for role in view["roles"].as_array().unwrap() {
        for tv in view["tag_values"].as_array().unwrap() {
            let matching: Vec<i64> = rules
                .iter()
                .filter(|r| r["tag_value"] == *tv)
                .filter(|r| {
                    r["role"]
                        .as_str()
                        .unwrap()
                        .eq_ignore_ascii_case(role.as_str().unwrap())
                })
                .map(|r| r["masking_policy"].as_i64().unwrap())
                .collect();
            let c = cell(view, role.as_str().unwrap(), tv.as_str().unwrap());
            match matching.iter().min_by_key(|l| rank(**l)) {
                Some(best) => assert_eq!(c, &json!({"now": best}), "{role}/{tv}"),
                None => assert_eq!(c, &json!({"now": 10005, "no_rule": ["now"]}), "{role}/{tv}"),
            }
        }
    }
    assert_eq!(levels[0], 10000, "the legend runs from clear");
    assert_eq!(*levels.last().unwrap(), 10005, "to NULL");

    // preview_masking: the app's cells are the preview's own now and after.
    let analyst_email = rules
        .iter()
        .find(|r| r["role"] == "ANALYST" && r["tag_value"] == "EMAIL")
        .expect("a seeded rule")["rule_id"]
        .clone();
    let args = json!({
        "policy_id": policy,
        "add": [{"masking_policy": 10003, "role": "PUBLIC", "tag_value": "SSN"}],
        "update": [{"rule_id": analyst_email, "masking_policy": 10005}],
        "roles": ["AUDITOR"],
    });
    let shown = call_tool_rounds(&with, "preview_masking", args.clone()).await;
    let bare = call_tool_rounds(&plain, "preview_masking", args).await;
    assert_eq!(shown.text, bare.text);
    let d = &shown.envelope["data"];
    let view = matrix(&shown);
    assert_eq!(view["mode"], "diff");
    let roles = view["roles"].as_array().unwrap();
    assert!(
        roles.contains(&json!("AUDITOR")),
        "an asked-for role is a row"
    );
    for role in roles {
        let role = role.as_str().unwrap();
        for tv in view["tag_values"].as_array().unwrap() {
            let tv = tv.as_str().unwrap();
            let c = cell(view, role, tv);
            assert_eq!(c["now"], d["now"][tv][role], "{role}/{tv}");
            assert_eq!(c["after"], d["after"][tv][role], "{role}/{tv}");
        }
    }
    assert_eq!(
        cell(view, "PUBLIC", "SSN"),
        &json!({"now": 10005, "after": 10003, "no_rule": ["now"]})
    );
    assert_eq!(cell(view, "ANALYST", "EMAIL")["after"], 10005);
    let summary = &view["summary"];
    assert!(summary["gain"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["lose"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(
        summary["pairs"],
        roles.len() * view["tag_values"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn writes_show_the_matrix_before_and_after_in_a_dry_run_and_when_applied() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let with = app_host(&s).await;
    let plain = connect(s.sandbox.env()).await;

    // add_rules, dry run: the picture of what would change; nothing sent.
    let add = json!({
        "policy_id": policy,
        "rules": [{"masking_policy": 10000, "role": "FINANCE", "tag_value": "SALARY"}],
        "dry_run": true,
    });
    let before = writes(&s);
    let shown = call_tool_rounds(&with, "add_rules", add.clone()).await;
    let bare = call_tool_rounds(&plain, "add_rules", add.clone()).await;
    assert_eq!(writes(&s), before, "a dry run sends nothing");
    assert_eq!(shown.text, bare.text);
    assert!(!has_matrix(&bare));
    let view = matrix(&shown);
    assert_eq!(view["title"], "Dry run: nothing was sent");
    assert_eq!(view["mode"], "diff");
    assert_eq!(cell(view, "FINANCE", "SALARY")["now"], 10005);
    assert_eq!(cell(view, "FINANCE", "SALARY")["after"], 10000);
    assert_eq!(view["summary"]["changed"], 1, "{view}");
    assert_eq!(view["summary"]["gain"], 1);

    // add_rules, applied: the same picture, titled as done, and the rule is there.
    let mut apply = add.clone();
    apply.as_object_mut().unwrap().remove("dry_run");
    let shown = call_tool_rounds(&with, "add_rules", apply).await;
    assert_eq!(shown.envelope["success"], true, "{}", shown.text);
    let view = matrix(&shown);
    assert_eq!(view["title"], "Applied: before and after");
    assert_eq!(cell(view, "FINANCE", "SALARY")["after"], 10000);
    let now = call_tool_rounds(&with, "get_rules", json!({"policy_id": policy})).await;
    assert_eq!(
        cell(matrix(&now), "FINANCE", "SALARY"),
        &json!({"now": 10000})
    );

    // update_rule: the changed level, before and after.
    let rule = now.envelope["data"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "FINANCE" && r["tag_value"] == "SALARY")
        .unwrap()["rule_id"]
        .clone();
    let update = json!({"policy_id": policy, "rule_id": rule, "masking_policy": 10002});
    let shown = call_tool_rounds(&with, "update_rule", update).await;
    assert_eq!(shown.envelope["success"], true, "{}", shown.text);
    assert_eq!(
        cell(matrix(&shown), "FINANCE", "SALARY"),
        &json!({"now": 10000, "after": 10002})
    );
    assert_eq!(matrix(&shown)["summary"]["lose"], 1);

    // delete_rule: the role falls back to NULL for want of a rule.
    let delete = json!({"policy_id": policy, "rule_id": rule, "confirm": true});
    let shown = call_tool_rounds(&with, "delete_rule", delete).await;
    assert_eq!(shown.envelope["success"], true, "{}", shown.text);
    assert_eq!(
        cell(matrix(&shown), "FINANCE", "SALARY"),
        &json!({"now": 10002, "after": 10005, "no_rule": ["after"]})
    );

    // delete_policy, dry run and applied: the tag is no longer masked.
    let drop = json!({"policy_id": policy, "dry_run": true});
    let before = writes(&s);
    let shown = call_tool_rounds(&with, "delete_policy", drop).await;
    assert_eq!(writes(&s), before);
    let view = matrix(&shown);
    assert_eq!(view["title"], "Dry run: nothing was sent");
    for row in view["cells"].as_array().unwrap() {
        for c in row.as_array().unwrap() {
            assert_eq!(c["after"], 10000, "{c}");
        }
    }
    let shown = call_tool_rounds(
        &with,
        "delete_policy",
        json!({"policy_id": policy, "confirm": true}),
    )
    .await;
    assert_eq!(shown.envelope["success"], true, "{}", shown.text);
    assert_eq!(matrix(&shown)["title"], "Applied: before and after");
}

#[tokio::test]
async fn a_failed_or_refused_write_carries_no_matrix() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let with = app_host(&s).await;
    // Refused before anything is read: a level tags do not support.
    let bad = json!({
        "policy_id": policy,
        "rules": [{"masking_policy": 10009, "role": "PUBLIC", "tag_value": "EMAIL"}],
    });
    let shown = call_tool_rounds(&with, "add_rules", bad).await;
    assert_eq!(shown.envelope["success"], false, "{}", shown.text);
    assert!(!has_matrix(&shown), "{:?}", shown.meta);
    // A rule the policy does not have: the API's 404, and no picture of a change that did not happen.
    let missing = json!({"policy_id": policy, "rule_id": "no-such-rule", "confirm": true});
    let shown = call_tool_rounds(&with, "delete_rule", missing).await;
    assert_eq!(shown.envelope["success"], false, "{}", shown.text);
    assert!(!has_matrix(&shown), "{:?}", shown.meta);
}

#[tokio::test]
async fn a_client_of_the_newest_protocol_declaring_the_extension_gets_the_app() {
    let s = Sbx::start().await;
    let policy = s.tag_policy().await;
    let pairs = s.sandbox.env();
    let newest = crate::common::connect_newest_with(
        pairs,
        AppHost {
            mime_types: vec![MIME],
        },
    )
    .await;
    let tools = newest.list_all_tools().await.unwrap();
    let marked = tools
        .iter()
        .filter(|t| t.meta.as_ref().is_some_and(|m| m.0.contains_key("ui")))
        .count();
    assert_eq!(marked, SHOWN_BY.len());
    let rules = call_tool_rounds(&newest, "get_rules", json!({"policy_id": policy})).await;
    assert_eq!(matrix(&rules)["mode"], "current");
}

// ---- The app itself, rendered in headless Chromium -----------------------------------------

/// The Chromium to render with: `CHROMIUM`, else the first of the usual names on PATH.
fn chromium() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A value as JSON that can sit inside a `<script>`: every `<` escaped.
fn script_json(v: &Value) -> String {
    serde_json::to_string(v).unwrap().replace('<', "\\u003c")
}

fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// How the test host page shows the app.
struct Look<'a> {
    theme: &'a str,
    /// Scroll the table to its far corner before reading the facts and taking the picture.
    scroll_end: bool,
    /// The screenshot, under the test target's tmp directory.
    png: &'a str,
}

/// The app loaded in the test host page with a tool's real result, rendered by Chromium: what
/// the page read from the app's DOM (see tests/it/apps/host.html), and a screenshot.
async fn render(
    chromium: &std::path::Path,
    app_html: &str,
    result: &CallToolResult,
    args: &Value,
    look: Look<'_>,
) -> Value {
    let theme = look.theme;
    let png = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(look.png);
    let page = include_str!("../apps/host.html")
        .replace("__APP_HTML_JSON__", &script_json(&json!(app_html)))
        .replace(
            "__RESULT_JSON__",
            &script_json(&serde_json::to_value(result).unwrap()),
        )
        .replace("__ARGS_JSON__", &script_json(args))
        .replace("__THEME_JSON__", &script_json(&json!(theme)));
    let dir = std::env::temp_dir().join(format!("altr-app-{}-{}", std::process::id(), look.png));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("host.html");
    std::fs::write(&file, page).unwrap();
    let url = format!(
        "file://{}{}",
        file.display(),
        if look.scroll_end { "#scroll-end" } else { "" }
    );
    let run = |extra: Vec<String>| {
        let profile = dir.join(format!("profile-{}", extra.len()));
        let mut cmd = tokio::process::Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        async move {
            tokio::time::timeout(std::time::Duration::from_secs(90), cmd.output())
                .await
                .expect("chromium finishes within 90 s")
                .expect("chromium runs")
        }
    };
    let dom = run(vec!["--dump-dom".into()]).await;
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<title>rendered</title>"),
        "the app did not render: {dom}"
    );
    let facts = dom
        .split_once("<pre id=\"app-facts\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(facts, _)| unescape_html(facts))
        .expect("the host page wrote the app's facts");
    let shot = run(vec![
        "--window-size=1280,900".into(),
        format!("--screenshot={}", png.display()),
    ])
    .await;
    assert!(shot.status.success(), "screenshot: {shot:?}");
    let bytes = std::fs::read(&png).expect("a screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", png.display());
    println!("screenshot: {}", png.display());
    serde_json::from_str(&facts).unwrap_or_else(|e| panic!("{e}: {facts}"))
}

/// Chromium, or None after saying the test is skipped (a failure under ALTR_REQUIRE_CHROMIUM).
fn chromium_or_skip() -> Option<std::path::PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("ALTR_REQUIRE_CHROMIUM").is_none(),
            "ALTR_REQUIRE_CHROMIUM is set but no chromium was found (set CHROMIUM to its path)"
        );
        eprintln!(
            "skipped: the masking matrix app was not rendered, no chromium on PATH \
             (Debian: apt-get install chromium; or set CHROMIUM)"
        );
    }
    found
}

/// A sandbox, an app host connected to it with the app's HTML in hand, and Chromium.
struct Stage {
    chromium: std::path::PathBuf,
    _sandbox: Sbx,
    with: Host,
    policy: String,
    app_html: String,
}

impl Stage {
    /// None, after saying the test is skipped, when there is no Chromium.
    async fn new() -> Option<Stage> {
        let chromium = chromium_or_skip()?;
        let s = Sbx::start().await;
        let policy = s.tag_policy().await;
        let with = app_host(&s).await;
        let read = with
            .read_resource(ReadResourceRequestParams::new(APP))
            .await
            .unwrap();
        let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
            panic!("the app is text")
        };
        let app_html = text.clone();
        Some(Stage {
            chromium,
            _sandbox: s,
            with,
            policy,
            app_html,
        })
    }

    /// Call `tool` as the app host and render its result: the matrix the server sent for the
    /// app, and what the host page read off the rendered app.
    async fn show(&self, tool: &str, args: Value, look: Look<'_>) -> (Value, Value) {
        let result = call_tool_result(&self.with, tool, args.clone()).await;
        let view = result.meta.as_ref().expect("a result _meta").0[MATRIX].clone();
        let facts = render(&self.chromium, &self.app_html, &result, &args, look).await;
        (view, facts)
    }
}

#[tokio::test]
async fn the_app_draws_a_real_result_in_headless_chromium() {
    let Some(stage) = Stage::new().await else {
        return;
    };
    let (with, policy) = (&stage.with, &stage.policy);

    // A preview, in diff mode, light theme.
    let rules = call_tool_rounds(with, "get_rules", json!({"policy_id": policy})).await;
    let analyst_email = rules.envelope["data"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "ANALYST" && r["tag_value"] == "EMAIL")
        .unwrap()["rule_id"]
        .clone();
    let args = json!({
        "policy_id": policy,
        "add": [{"masking_policy": 10003, "role": "FINANCE", "tag_value": "SALARY"}],
        "update": [{"rule_id": analyst_email, "masking_policy": 10005}],
    });
    let look = Look {
        theme: "light",
        scroll_end: false,
        png: "masking-matrix-diff.png",
    };
    let (view, f) = stage.show("preview_masking", args, look).await;
    assert_eq!(f["rendered"], "true", "{f}");
    assert_eq!(f["mode"], "diff");
    assert_eq!(f["theme"], "light");
    assert_eq!(f["rows"], view["roles"], "one row per role, in order");
    assert_eq!(f["columns"], view["tag_values"], "one column per tag value");
    assert_eq!(f["stickyHeader"], "sticky", "the headers stay in view");
    let caption = f["caption"].as_str().unwrap();
    assert!(
        caption.contains(policy.as_str()) && caption.contains("PII_TYPE"),
        "{caption}"
    );
    let cells = f["cells"].as_array().unwrap();
    let (roles, values) = (
        view["roles"].as_array().unwrap(),
        view["tag_values"].as_array().unwrap(),
    );
    assert_eq!(cells.len(), roles.len() * values.len());
    let levels: Vec<(i64, String)> = view["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["level"].as_i64().unwrap(),
                l["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let rank = |l: i64| levels.iter().position(|(x, _)| *x == l).unwrap();
    let name = |l: i64| levels[rank(l)].1.clone();
    let (mut gain, mut lose) = (0, 0);
    for c in cells {
        let served = &view["cells"][c["role"].as_u64().unwrap() as usize]
            [c["value"].as_u64().unwrap() as usize];
        let (now, after) = (
            served["now"].as_i64().unwrap(),
            served["after"].as_i64().unwrap(),
        );
        assert_eq!(c["now"], now.to_string(), "{c}");
        assert_eq!(c["after"], after.to_string(), "{c}");
        let classes: Vec<&str> = c["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let text = c["text"].as_str().unwrap();
        // The level in words, with its number; never a data value.
        assert!(
            text.contains(&name(now)) && text.contains(&now.to_string()),
            "{c}"
        );
        if now == after {
            assert!(
                classes.contains(&"unchanged") && !classes.contains(&"changed"),
                "{c}"
            );
        } else {
            assert!(classes.contains(&"changed"), "{c}");
            assert!(text.contains('→') && text.contains(&name(after)), "{c}");
            let dir = if rank(after) < rank(now) {
                "gain"
            } else {
                "lose"
            };
            assert!(classes.contains(&dir), "{c}");
            assert!(c["label"].as_str().unwrap().contains(if dir == "gain" {
                "gains visibility"
            } else {
                "loses visibility"
            }));
            if dir == "gain" {
                gain += 1
            } else {
                lose += 1
            }
        }
        if served.get("no_rule").is_some() {
            assert!(classes.contains(&"no-rule"), "{c}");
        }
    }
    assert_eq!(
        (gain, lose),
        (1, 1),
        "FINANCE/SALARY gains, ANALYST/EMAIL loses"
    );
    let legend = f["legend"].as_array().unwrap();
    assert_eq!(
        legend
            .iter()
            .map(|l| l["level"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        levels.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        "the legend lists every level, most permissive first"
    );
    assert!(legend[0]["text"].as_str().unwrap().contains("clear"));
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.contains("2 of")
            && summary.contains("1 gains visibility")
            && summary.contains("1 loses visibility"),
        "{summary}"
    );

    // The current rules, dark theme.
    let look = Look {
        theme: "dark",
        scroll_end: false,
        png: "masking-matrix-current-dark.png",
    };
    let (_, f) = stage
        .show("get_rules", json!({"policy_id": policy}), look)
        .await;
    assert_eq!(f["mode"], "current", "{f}");
    assert_eq!(f["theme"], "dark");
    assert_eq!(f["title"], "Current rules");
    for c in f["cells"].as_array().unwrap() {
        assert!(c["after"].is_null(), "no after in current mode: {c}");
        assert!(!c["classes"].to_string().contains("changed"), "{c}");
    }
    assert!(
        f["summary"].as_str().unwrap().contains("role/value pairs"),
        "{f}"
    );
}

#[tokio::test]
async fn the_app_stays_readable_at_100_roles_by_30_values() {
    let Some(stage) = Stage::new().await else {
        return;
    };
    let policy = &stage.policy;
    // The sandbox tag lists six values; a preview adding rules for 24 more makes 30 columns,
    // and 100 roles to show make 100 rows.
    let add: Vec<Value> = (1..=24)
        .map(|i| json!({"masking_policy": 10001, "role": "ANALYST", "tag_value": format!("VALUE_{i:02}")}))
        .collect();
    let roles: Vec<String> = (1..=100).map(|i| format!("ROLE_{i:03}")).collect();
    let args = json!({"policy_id": policy, "add": add, "roles": roles});
    let look = Look {
        theme: "light",
        scroll_end: true,
        png: "masking-matrix-100x30-scrolled.png",
    };
    let (view, f) = stage.show("preview_masking", args, look).await;
    let (rows, columns) = (
        view["roles"].as_array().unwrap().len(),
        view["tag_values"].as_array().unwrap().len(),
    );
    assert!(
        rows >= 100 && columns == 30,
        "{rows} roles × {columns} values"
    );
    assert_eq!(f["rendered"], "true", "{f}");
    assert_eq!(f["cells"].as_array().unwrap().len(), rows * columns);
    // The frame stays within the host's height; the table scrolls inside it, both ways.
    let frame = &f["frame"];
    assert!(
        frame["height"].as_i64() <= frame["maxHeight"].as_i64(),
        "{frame}"
    );
    let g = &f["scroll"];
    assert!(
        g["scrollHeight"].as_i64() > g["clientHeight"].as_i64(),
        "{g}"
    );
    assert!(g["scrollWidth"].as_i64() > g["clientWidth"].as_i64(), "{g}");
    assert!(
        g["scrollTop"].as_i64() > Some(0) && g["scrollLeft"].as_i64() > Some(0),
        "{g}"
    );
    // Scrolled to the far corner, the column headers are still at the top and the role
    // names still at the left.
    let (col, row) = (&g["lastColumnHeader"], &g["lastRowHeader"]);
    assert!(
        col["top"].as_i64().unwrap().abs() <= 2,
        "column header in view: {g}"
    );
    assert!(
        row["left"].as_i64().unwrap().abs() <= 2,
        "role name in view: {g}"
    );
    assert_eq!(f["stickyHeader"], "sticky");
    assert_eq!(g["rowHeaderPosition"], "sticky");
}
