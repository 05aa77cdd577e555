//! OAuth sign-in over streamable HTTP (issue 19): the built binary as an OAuth resource server
//! in front of a local identity provider this test starts (discovery document and JWKS served
//! on 127.0.0.1, tokens signed with a key made here), and per-caller permission.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

use crate::http_common::*;

/// The public URL the server is told it has: the resource, and the audience tokens carry.
const PUBLIC: &str = "https://altr-mcp.test/mcp";
const METADATA: &str = "https://altr-mcp.test/.well-known/oauth-protected-resource/mcp";
const FIRST_SCOPE: &str = "altr:read";

/// A local identity provider: OpenID discovery and a JWKS with one Ed25519 key.
struct Idp {
    issuer: String,
    key: Arc<Ed25519KeyPair>,
    pkcs8: Vec<u8>,
}

impl Idp {
    async fn start() -> Idp {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .unwrap()
            .as_ref()
            .to_vec();
        let key = Arc::new(Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.public_key().as_ref());
        let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"}]});
        let discovery = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")});
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route("/jwks", get(move || async move { Json(jwks) }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Idp { issuer, key, pkcs8 }
    }

    /// A token with these claims over the standard ones (iss, aud, sub, exp, iat).
    fn token(&self, extra: Value) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = json!({"iss": self.issuer, "aud": PUBLIC, "sub": "user-1", "exp": now + 600, "iat": now});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("k1".into());
        let _ = &self.key;
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&self.pkcs8)).unwrap()
    }
}

/// The server with OAuth on against `idp`, stateless (raw requests need no session), with more
/// settings.
async fn server(idp: &Idp, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("MCP_OAUTH_ISSUER", idp.issuer.as_str()),
        ("MCP_PUBLIC_URL", PUBLIC),
        ("MCP_STATELESS", "true"),
        ("ALTR_TOOLSETS", "all"),
    ];
    env.extend_from_slice(extra);
    Server::start("streamable-http", &env).await
}

fn post(server: &Server, token: Option<&str>, body: Value) -> reqwest::RequestBuilder {
    let mut r = http()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r
}

fn challenge(r: &reqwest::Response) -> String {
    r.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn connect(server: &Server, token: &str) -> RunningService<RoleClient, ClientConfig> {
    let _ = http();
    let config =
        StreamableHttpClientTransportConfig::with_uri(server.url("/mcp")).auth_header(token);
    tokio::time::timeout(
        WAIT,
        ClientConfig::default().serve(StreamableHttpClientTransport::from_config(config)),
    )
    .await
    .expect("initialize in time")
    .expect("initialize")
}

async fn names(client: &RunningService<RoleClient, ClientConfig>) -> Vec<String> {
    let tools = client.list_all_tools().await.expect("tools/list");
    tools.iter().map(|t| t.name.to_string()).collect()
}

/// An initialize request of a raw client.
fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
}

/// The server with OAuth on against `idp`, with sessions (not stateless).
async fn with_sessions(idp: &Idp) -> Server {
    Server::start(
        "streamable-http",
        &[
            ("MCP_OAUTH_ISSUER", idp.issuer.as_str()),
            ("MCP_PUBLIC_URL", PUBLIC),
        ],
    )
    .await
}

fn call_body(name: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": args}})
}

#[tokio::test]
async fn protected_resource_metadata_is_published_at_both_paths() {
    let idp = Idp::start().await;
    let s = server(&idp, &[]).await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let r = http().get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let doc: Value = r.json().await.unwrap();
        assert_eq!(
            doc,
            json!({
                "resource": PUBLIC,
                "authorization_servers": [idp.issuer],
                // Only what this server serves: no clear-text tools without ALTR_ALLOW_CLEARTEXT.
                "scopes_supported": ["altr:read", "altr:write", "altr:destructive"],
                "bearer_methods_supported": ["header"],
                "resource_name": "altr-mcp",
            })
        );
    }
}

#[tokio::test]
async fn read_only_mode_offers_only_the_read_scope() {
    let idp = Idp::start().await;
    let s = server(&idp, &[("ALTR_READ_ONLY", "true")]).await;
    let doc: Value = http()
        .get(s.url("/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["scopes_supported"], json!(["altr:read"]));
}

/// A session opened by one signed-in caller is theirs: another caller's valid token gets 404
/// for it (calls, its stream, ending it), as for a session that does not exist.
#[tokio::test]
async fn a_session_belongs_to_the_caller_who_opened_it() {
    let idp = Idp::start().await;
    let s = with_sessions(&idp).await;
    let alice = idp.token(json!({"sub": "alice", "scope": "altr:read"}));
    let bob = idp.token(json!({"sub": "bob", "scope": "altr:read"}));
    let init = initialize();
    let r = post(&s, Some(&alice), init).send().await.unwrap();
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let _ = r.text().await;
    let with = |token: &str, method: reqwest::Method| {
        http()
            .request(method, s.url("/mcp"))
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-session-id", session.clone())
            .header("mcp-protocol-version", "2025-06-18")
    };
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    let r = with(&alice, reqwest::Method::POST)
        .body(initialized)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let call = call_body("get_databases", json!({})).to_string();
    for method in [
        reqwest::Method::POST,
        reqwest::Method::GET,
        reqwest::Method::DELETE,
    ] {
        let r = with(&bob, method.clone())
            .body(call.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "bob {method}");
    }
    // Alice's session is intact.
    let r = with(&alice, reqwest::Method::POST)
        .body(call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("\"success\":true"));
}

#[tokio::test]
async fn requests_without_a_valid_token_get_the_challenge_byte_for_byte() {
    let idp = Idp::start().await;
    let s = server(&idp, &[]).await;
    let init = initialize();
    let r = post(&s, None, init.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        challenge(&r),
        format!("Bearer resource_metadata=\"{METADATA}\", scope=\"{FIRST_SCOPE}\"")
    );
    // Each way a token can be wrong: 401, invalid_token, and why (never the token itself).
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let other_resource = idp.token(json!({"aud": "https://other.example/mcp"}));
    let expired = idp.token(json!({"exp": now - 3600}));
    let wrong_issuer = idp.token(json!({"iss": "https://evil.example"}));
    for (token, why) in [
        (other_resource.as_str(), "resource"),
        (expired.as_str(), "expired"),
        (wrong_issuer.as_str(), "authorization server"),
        ("not-a-jwt", ""),
    ] {
        let r = post(&s, Some(token), init.clone()).send().await.unwrap();
        assert_eq!(r.status(), 401, "{why}");
        let c = challenge(&r);
        assert!(
            c.starts_with(&format!(
                "Bearer resource_metadata=\"{METADATA}\", scope=\"{FIRST_SCOPE}\", error=\"invalid_token\", error_description=\""
            )),
            "{c}"
        );
        assert!(c.to_lowercase().contains(why), "{why}: {c}");
        assert!(!c.contains(token) && !s.log().contains(token));
    }
}

#[tokio::test]
async fn scopes_decide_what_a_caller_sees_and_calls() {
    let idp = Idp::start().await;
    let audit = std::env::temp_dir().join(format!("altr-oauth-audit-{}.jsonl", std::process::id()));
    let audit_path = audit.to_string_lossy().into_owned();
    let s = server(&idp, &[("ALTR_AUDIT_LOG", audit_path.as_str())]).await;
    let reader = idp.token(json!({"scope": "openid altr:read", "email": "ana@example.com"}));
    let client = connect(&s, &reader).await;
    let listed = names(&client).await;
    // Exactly the read-only tools of what the same server lists without sign-in.
    let plain = Server::start(
        "streamable-http",
        &[("ALTR_TOOLSETS", "all"), ("MCP_STATELESS", "true")],
    )
    .await;
    let _ = http();
    let baseline = tokio::time::timeout(
        WAIT,
        ClientConfig::default().serve(StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(plain.url("/mcp")),
        )),
    )
    .await
    .unwrap()
    .unwrap();
    let all = altr_mcp::toolsets::everything();
    let mut expected: Vec<String> = names(&baseline)
        .await
        .into_iter()
        .filter(|n| {
            all.get(n)
                .is_none_or(|d| d.effect == altr_mcp::registry::Effect::ReadOnly)
        })
        .collect();
    expected.sort();
    let mut got = listed.clone();
    got.sort();
    assert_eq!(got, expected);
    let result = client
        .call_tool(CallToolRequestParams::new("get_databases"))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    // A destructive call: 403 with the scope it needs, nothing sent to ALTR.
    let r = post(
        &s,
        Some(&reader),
        call_body("delete_policy", json!({"policy_id": "TAG#p"})),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        challenge(&r),
        format!("Bearer error=\"insufficient_scope\", scope=\"altr:destructive\", resource_metadata=\"{METADATA}\", error_description=\"delete_policy needs the scope altr:destructive\"")
    );
    let sent = s.api.received_requests().await.unwrap();
    assert!(sent.iter().all(|r| r.method.as_str() == "GET"), "{sent:?}");
    // The audit trail names the signed-in user.
    let trail = std::fs::read_to_string(&audit).unwrap();
    let line: Value = serde_json::from_str(trail.lines().last().unwrap()).unwrap();
    assert_eq!(line["tool"], "get_databases", "{line}");
    assert_eq!(line["caller"], "user-1");
    assert_eq!(line["user"], "ana@example.com");
    let _ = std::fs::remove_file(&audit);
    // So do the logs; never the token.
    let log = s.log();
    assert!(
        log.contains("user-1") && log.contains("ana@example.com"),
        "{log}"
    );
    assert!(!log.contains(&reader));
}

#[tokio::test]
async fn groups_map_to_scopes_on_toolsets() {
    let idp = Idp::start().await;
    let s = server(
        &idp,
        &[
            ("MCP_OAUTH_GROUPS_CLAIM", "groups"),
            ("MCP_OAUTH_GROUPS", "altr-admins=all, analysts=read@default"),
        ],
    )
    .await;
    let analyst = idp.token(json!({"groups": ["analysts"]}));
    let client = connect(&s, &analyst).await;
    let listed = names(&client).await;
    let default_reads: Vec<String> =
        altr_mcp::toolsets::select(&altr_mcp::registry::Selection::default())
            .unwrap()
            .tools()
            .iter()
            .filter(|t| t.effect == altr_mcp::registry::Effect::ReadOnly)
            .map(|t| t.name.to_string())
            .collect();
    let mut a = listed.clone();
    a.retain(|n| !n.starts_with("enable_") && !n.starts_with("list_toolsets"));
    for n in &a {
        assert!(default_reads.contains(n), "{n} is not a default read");
    }
    assert!(listed.iter().any(|n| n == "get_policies"));
    let admin = idp.token(json!({"groups": ["altr-admins"]}));
    let client = connect(&s, &admin).await;
    assert!(names(&client).await.iter().any(|n| n == "delete_policy"));
    // A token with neither a known scope nor a mapped group sees nothing it could call.
    let nobody = idp.token(json!({"groups": ["other"]}));
    let r = post(&s, Some(&nobody), call_body("get_databases", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(challenge(&r).contains("scope=\"altr:read\""));
}

#[tokio::test]
async fn a_scoped_static_token_is_refused_beyond_its_grant() {
    let s = Server::start(
        "streamable-http",
        &[
            ("MCP_AUTH_TOKENS", "ci/read:tok-ci, ops:tok-ops"),
            ("MCP_STATELESS", "true"),
        ],
    )
    .await;
    let r = post(
        &s,
        Some("tok-ci"),
        call_body("delete_policy", json!({"policy_id": "TAG#p"})),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("insufficient_scope") && text.contains("altr:destructive"),
        "{text}"
    );
    let r = post(&s, Some("tok-ci"), call_body("get_databases", json!({})))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("\"success\":true"));
    // An unscoped token keeps full access (nothing breaks on upgrade).
    let r = post(
        &s,
        Some("tok-ops"),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .send()
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("delete_policy"));
}

#[tokio::test]
async fn oauth_settings_are_checked_at_start() {
    let (status, err) = refused(
        "streamable-http",
        &[("MCP_OAUTH_ISSUER", "https://idp.example")],
    )
    .await;
    assert!(!status.success());
    assert!(err.contains("MCP_PUBLIC_URL"), "{err}");
    for (groups, says) in [
        ("admins=everything", "not a kind"),
        ("admins=all", "MCP_OAUTH_GROUPS_CLAIM"),
    ] {
        let (status, err) = refused(
            "streamable-http",
            &[
                ("MCP_OAUTH_ISSUER", "https://idp.example"),
                ("MCP_PUBLIC_URL", PUBLIC),
                ("MCP_OAUTH_GROUPS", groups),
            ],
        )
        .await;
        assert!(!status.success());
        assert!(err.contains(says), "{err}");
    }
    // A setting that only OAuth reads, without OAuth on.
    let (status, err) = refused("streamable-http", &[("MCP_OAUTH_AUDIENCE", "api://x")]).await;
    assert!(!status.success());
    assert!(err.contains("MCP_OAUTH_ISSUER"), "{err}");
}

#[tokio::test]
async fn an_unreachable_identity_provider_fails_closed_with_503() {
    let idp = Idp::start().await;
    let dead = "http://127.0.0.1:9";
    let s = Server::start(
        "streamable-http",
        &[
            ("MCP_OAUTH_ISSUER", dead),
            ("MCP_PUBLIC_URL", PUBLIC),
            ("MCP_STATELESS", "true"),
        ],
    )
    .await;
    let token = idp.token(json!({"iss": dead, "scope": "altr:read"}));
    let r = post(&s, Some(&token), call_body("get_databases", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "30");
    assert!(s.api.received_requests().await.unwrap().is_empty());
    // The log line is read from the server's stderr by another thread: give it a moment.
    let deadline = std::time::Instant::now() + WAIT;
    while !s.log().contains("identity provider cannot be reached")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        s.log().contains("identity provider cannot be reached"),
        "{}",
        s.log()
    );
    assert!(!s.log().contains(&token));
}

#[tokio::test]
async fn a_session_whose_permission_changes_is_told_its_tools_changed() {
    let idp = Idp::start().await;
    let s = with_sessions(&idp).await;
    let reader = idp.token(json!({"scope": "altr:read"}));
    let writer = idp.token(json!({"scope": "altr:read altr:write"}));
    let init = initialize();
    let r = post(&s, Some(&reader), init).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let _ = r.text().await;
    let in_session = |token: &str, body: Value| {
        post(&s, Some(token), body)
            .header("mcp-session-id", session.clone())
            .header("mcp-protocol-version", "2025-06-18")
    };
    let r = in_session(
        &reader,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .send()
    .await
    .unwrap();
    assert!(r.status().is_success());
    // The session's own stream, where the server's notifications arrive.
    let mut stream = http()
        .get(s.url("/mcp"))
        .bearer_auth(&reader)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session.clone())
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let call = call_body("get_databases", json!({}));
    let _ = in_session(&reader, call.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await;
    let _ = in_session(&writer, call).send().await.unwrap().text().await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !seen.contains("notifications/tools/list_changed") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("the notification in time")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // Only once, for the one change.
    assert_eq!(seen.matches("list_changed").count(), 1, "{seen}");
}

#[tokio::test]
async fn legacy_sse_asks_for_sign_in_the_same_way() {
    let idp = Idp::start().await;
    let s = Server::start(
        "sse",
        &[
            ("MCP_OAUTH_ISSUER", idp.issuer.as_str()),
            ("MCP_PUBLIC_URL", PUBLIC),
        ],
    )
    .await;
    let r = http().get(s.url("/sse")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        challenge(&r),
        format!("Bearer resource_metadata=\"{METADATA}\", scope=\"{FIRST_SCOPE}\"")
    );
    let token = idp.token(json!({"sub": "alice", "scope": "altr:read"}));
    let mut stream = http()
        .get(s.url("/sse"))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // The session is alice's: bob's valid token cannot post to it.
    let mut seen = String::new();
    while !seen.contains("sessionId=") || !seen.contains("\n\n") {
        let chunk = tokio::time::timeout(WAIT, stream.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let endpoint = seen
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .unwrap()
        .trim()
        .to_string();
    let bob = idp.token(json!({"sub": "bob", "scope": "altr:read"}));
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let send = |token: &str| {
        http()
            .post(s.url(&endpoint))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(ping.clone())
            .send()
    };
    assert_eq!(send(&bob).await.unwrap().status(), 404);
    assert!(send(&token).await.unwrap().status().is_success());
}

#[tokio::test]
async fn each_scope_lists_and_calls_exactly_its_kind_of_tool() {
    use altr_mcp::registry::Effect;
    let idp = Idp::start().await;
    let s = server(&idp, &[("ALTR_ALLOW_CLEARTEXT", "true")]).await;
    let all = altr_mcp::toolsets::everything();
    type OfKind = fn(Effect) -> bool;
    let kinds: [(&str, OfKind); 4] = [
        ("altr:read", |e| e == Effect::ReadOnly),
        ("altr:write", |e| {
            matches!(e, Effect::Additive | Effect::Idempotent)
        }),
        ("altr:destructive", |e| e == Effect::Destructive),
        ("altr:cleartext", |e| e == Effect::ClearText),
    ];
    for (scope, of_kind) in kinds {
        let token = idp.token(json!({"scope": scope}));
        let r = post(
            &s,
            Some(&token),
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        )
        .send()
        .await
        .unwrap();
        let text = r.text().await.unwrap();
        let body: Value = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .find_map(|d| serde_json::from_str(d.trim()).ok())
            .or_else(|| serde_json::from_str(&text).ok())
            .unwrap();
        let listed: Vec<&str> = body["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(!listed.is_empty(), "{scope}");
        for name in &listed {
            let def = all.get(name).unwrap_or_else(|| panic!("{name}"));
            assert!(of_kind(def.effect), "{scope} lists {name}");
        }
        // A call of another kind is refused with the scope it needs.
        let other = if scope == "altr:read" {
            "vault_detokenize"
        } else {
            "get_databases"
        };
        let needed = if scope == "altr:read" {
            "altr:cleartext"
        } else {
            "altr:read"
        };
        let r = post(
            &s,
            Some(&token),
            call_body(other, json!({"tokens": {"a": "vaultn_x"}})),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 403, "{scope} calling {other}");
        assert!(
            challenge(&r).contains(&format!("scope=\"{needed}\"")),
            "{}",
            challenge(&r)
        );
    }
    assert!(s.api.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_wrong_issuer_shows_in_the_log_at_start() {
    let idp = Idp::start().await;
    let slashed = format!("{}/", idp.issuer);
    let s = Server::start(
        "streamable-http",
        &[
            ("MCP_OAUTH_ISSUER", slashed.as_str()),
            ("MCP_PUBLIC_URL", PUBLIC),
        ],
    )
    .await;
    let deadline = std::time::Instant::now() + WAIT;
    while !s.log().contains("metadata could not be read") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(s.log().contains("another issuer"), "{}", s.log());
    // The right issuer loads the keys at start.
    let good = server(&idp, &[]).await;
    let deadline = std::time::Instant::now() + WAIT;
    while !good.log().contains("keys are loaded") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(good.log().contains("keys are loaded"), "{}", good.log());
}
