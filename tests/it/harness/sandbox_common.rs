//! Harness for the sandbox tests: the built-in ALTR sandbox on 127.0.0.1:0, the real server
//! pointed at it by the settings the sandbox gives out, and an in-process MCP client over a
//! duplex pipe. Also a plain HTTP client for the sandbox's own endpoints.

use altr_mcp::sandbox::{LoggedRequest, Sandbox, Seed, MAPI_KEY, MAPI_SECRET};
use rmcp::service::RunningService;
use rmcp::RoleClient;
use serde_json::{json, Value};

pub use crate::common::{Call, STEP};

pub struct Sbx {
    pub sandbox: Sandbox,
    pub client: RunningService<RoleClient, ()>,
    http: reqwest::Client,
}

impl Sbx {
    pub async fn start() -> Sbx {
        Self::with_env(&[]).await
    }

    /// A demo sandbox and a server with extra settings (e.g. `("REQUEST_TIMEOUT", "0.3")`).
    pub async fn with_env(extra: &[(&str, &str)]) -> Sbx {
        Self::build(Seed::Demo, extra).await
    }

    pub async fn build(seed: Seed, extra: &[(&str, &str)]) -> Sbx {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sandbox = Sandbox::start(0, seed).await.expect("sandbox starts");
        let mut pairs = sandbox.env();
        pairs.push(("MAX_RETRY_AFTER".into(), "0.05".into()));
        pairs.push(("REQUEST_TIMEOUT".into(), "5".into()));
        let pairs = crate::common::with_overrides(pairs, extra);
        let client = crate::common::connect(pairs).await;
        let http = reqwest::Client::builder()
            .timeout(STEP)
            .build()
            .expect("http client");
        Sbx {
            sandbox,
            client,
            http,
        }
    }

    /// Call a tool with JSON arguments (an object).
    pub async fn call(&self, name: &str, args: Value) -> Call {
        crate::common::call_tool(&self.client, name, args).await
    }

    /// The demo tag policy's id.
    pub async fn tag_policy(&self) -> String {
        let c = self
            .call("get_policies", json!({"policy_type": "TAG"}))
            .await;
        c.ok()["policies"][0]["policy_id"]
            .as_str()
            .expect("a seeded tag policy")
            .to_string()
    }

    /// A request straight to the sandbox (`path` includes the service prefix), with the sandbox
    /// credentials unless `auth` is false. The status and the JSON body (`null` if none).
    pub async fn raw(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sandbox.url()))
            .basic_auth(MAPI_KEY, Some(MAPI_SECRET));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("sandbox answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Arm a fault through the HTTP control endpoint.
    pub async fn fault(&self, spec: Value) {
        let resp = self
            .http
            .post(format!("{}/_sandbox/faults", self.sandbox.url()))
            .json(&spec)
            .send()
            .await
            .expect("control endpoint answers");
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        assert_eq!(status, 200, "fault {spec} refused: {body}");
    }

    /// The requests the sandbox received.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.sandbox.requests()
    }

    /// The logged requests for one method and exact path.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }
}

/// Names found under `key` in a list of objects.
pub fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.get(key).and_then(Value::as_str).map(str::to_string))
        .collect()
}
