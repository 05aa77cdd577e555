//! Harness for the sandbox tests: the built-in ALTR sandbox on 127.0.0.1:0, the real server
//! pointed at it by the settings the sandbox gives out, and an in-process MCP client over a
//! duplex pipe. Also a plain HTTP client for the sandbox's own endpoints.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use altr_mcp::client::{AltrClient, ClientConfig};
use altr_mcp::sandbox::{LoggedRequest, Sandbox, Seed, MAPI_KEY, MAPI_SECRET};
use altr_mcp::server::AltrServer;
use altr_mcp::settings::{Purpose, Settings, Sources};
use altr_mcp::tools::{Registry, Selection};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

/// The longest any single test step may take.
pub const STEP: Duration = Duration::from_secs(15);

pub struct Sbx {
    pub sandbox: Sandbox,
    pub client: RunningService<RoleClient, ()>,
    http: reqwest::Client,
}

/// The outcome of one tool call.
#[derive(Debug)]
pub struct Call {
    pub is_error: bool,
    /// The `{success, data, error}` envelope.
    pub envelope: Value,
    pub text: String,
}

impl Call {
    /// Assert success and return the data.
    pub fn ok(&self) -> &Value {
        assert!(!self.is_error, "expected success, got {}", self.envelope);
        assert_eq!(self.envelope["success"], true);
        &self.envelope["data"]
    }
    pub fn error(&self) -> &Value {
        assert!(self.is_error, "expected an error, got {}", self.envelope);
        assert_eq!(self.envelope["success"], false);
        assert_eq!(self.envelope["data"], Value::Null);
        &self.envelope["error"]
    }
    /// Assert an upstream HTTP failure with this status and a hint; the error.
    pub fn upstream(&self, status: u16) -> &Value {
        let e = self.error();
        assert_eq!(e["status"], status, "{}", self.envelope);
        assert!(
            e["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{}",
            self.envelope
        );
        e
    }
    /// Assert a validation failure naming `parameter` (nothing sent).
    pub fn invalid(&self, parameter: &str) {
        let e = self.error();
        assert_eq!(e["code"], "invalid_argument", "{}", self.envelope);
        assert_eq!(e["parameter"], parameter, "{}", self.envelope);
    }
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
        for (k, v) in extra {
            pairs.retain(|(pk, _)| pk != k);
            pairs.push((k.to_string(), v.to_string()));
        }
        let settings = Settings::load(&Sources::from_pairs(pairs), Purpose::Serve)
            .expect("sandbox settings are valid");
        let registry = Registry::select(&Selection {
            toolsets: settings.toolsets.clone(),
            read_only: settings.read_only,
            restricted: settings.restricted_tools.clone(),
        })
        .expect("selection is valid");
        let client = Arc::new(AltrClient::new(ClientConfig::from_settings(&settings)));
        let server = AltrServer::new(Arc::new(registry), client);
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let client = ().serve(client_io).await.expect("client connects");
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
        let mut params = CallToolRequestParams::new(name.to_string());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        let result: CallToolResult = tokio::time::timeout(STEP, self.client.call_tool(params))
            .await
            .unwrap_or_else(|_| panic!("tools/call {name} took longer than {STEP:?}"))
            .unwrap_or_else(|e| panic!("tools/call {name} failed at protocol level: {e}"));
        let text = result
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let envelope = result.structured_content.clone().unwrap_or(Value::Null);
        Call {
            is_error: result.is_error.unwrap_or(false),
            envelope,
            text,
        }
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
