//! Helpers for the HTTP transport tests: the built binary on 127.0.0.1 and an ephemeral port,
//! in front of a wiremock fake ALTR API (one path prefix per service), plus a small client for
//! the legacy SSE transport.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::prefix;
use altr_mcp::client::Service;
use altr_mcp::registry::Selection;
use serde_json::{json, Value};
use wiremock::{matchers, Mock, MockServer, ResponseTemplate};

/// The bearer token of the tests that need one.
pub const TOKEN: &str = "test-token-3f9a1c";

/// How long any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// What the fake API answers for `GET /altrnet/api/databases`.
pub fn databases() -> Value {
    json!({"success": true, "data": {"databases": [{"id": 1, "friendlyDatabaseName": "Sales"}]}})
}

/// The tool names the default configuration exposes (what stdio serves).
pub fn expected_tools() -> Vec<String> {
    let registry = altr_mcp::toolsets::select(&Selection::default()).expect("default selection");
    let mut names: Vec<String> = registry
        .tools()
        .iter()
        .filter(|t| crate::common::listed_when_off(t))
        .map(|t| t.to_tool().name.to_string())
        .collect();
    names.sort();
    names
}

/// The instructions a server with default settings sends: the guide, then what this server's
/// settings mean.
pub fn assert_instructions(text: Option<&str>) {
    let text = text.expect("instructions");
    assert!(
        text.starts_with(altr_mcp::server::INSTRUCTIONS.trim_end()),
        "{text}"
    );
    assert!(text.contains("## This server"), "{text}");
}

/// An HTTP client for raw requests (rustls needs its crypto provider chosen first).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("reqwest client")
}

/// A running `altr-mcp` process.
pub struct Server {
    child: Child,
    pub port: u16,
    pub api: MockServer,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(transport: &str, api: &str, env: &[(&str, &str)]) -> Command {
    command_for(
        Command::new(env!("CARGO_BIN_EXE_altr-mcp")),
        transport,
        api,
        env,
    )
}

/// `cmd` (the binary, or a wrapper that execs it) set up as [`Server`] runs it: a clean
/// environment pointed at the fake API `api`, for `transport`, with extra settings.
pub fn command_for(mut cmd: Command, transport: &str, api: &str, env: &[(&str, &str)]) -> Command {
    cmd.env_clear()
        .env("ORG_ID", "test-org")
        .env("MAPI_KEY", "test-key")
        .env("MAPI_SECRET", "test-secret")
        .env("MCP_TRANSPORT", transport)
        .env("MCP_HOST", "127.0.0.1")
        .env("MCP_PORT", "0")
        .env("REQUEST_TIMEOUT", "5")
        .env("MAX_RETRY_AFTER", "0.01")
        .env("LOG_LEVEL", "info");
    for s in Service::ALL {
        cmd.env(s.env_var(), format!("{api}{}", prefix(s)));
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

impl Server {
    /// Start the server for `transport` ("streamable-http" or "sse") with extra settings, and
    /// wait until it listens. The fake API answers `get_databases`.
    pub async fn start(transport: &str, env: &[(&str, &str)]) -> Server {
        Self::start_answering_after(transport, env, Duration::ZERO).await
    }

    /// Start with a fake API that answers `GET /altrnet/api/databases` after `delay`.
    pub async fn start_answering_after(
        transport: &str,
        env: &[(&str, &str)],
        delay: Duration,
    ) -> Server {
        let api = MockServer::start().await;
        Mock::given(matchers::method("GET"))
            .and(matchers::path("/altrnet/api/databases"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(databases())
                    .set_delay(delay),
            )
            .mount(&api)
            .await;
        Self::start_with_api(transport, env, api).await
    }

    /// Start with a fake API the caller has set up.
    pub async fn start_with_api(transport: &str, env: &[(&str, &str)], api: MockServer) -> Server {
        Self::start_command(command(transport, &api.uri(), env), api).await
    }

    /// Start `cmd` (from [`command_for`]) and wait until it listens.
    pub async fn start_command(mut cmd: Command, api: MockServer) -> Server {
        let mut child = cmd.spawn().expect("spawn altr-mcp");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u16>();
        std::thread::spawn({
            let log = log.clone();
            move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    // Logged before the port is told, so the log holds the listening line.
                    log.lock().unwrap().push_str(&line);
                    log.lock().unwrap().push('\n');
                    if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                        let digits: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        if let Ok(port) = digits.parse() {
                            let _ = tx.send(port);
                        }
                    }
                }
            }
        });
        let port = match tokio::time::timeout(WAIT, rx.recv()).await {
            Ok(Some(port)) => port,
            _ => {
                let _ = child.kill();
                panic!("server did not start listening:\n{}", log.lock().unwrap());
            }
        };
        Server {
            child,
            port,
            api,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Send SIGTERM.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Wait for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server did not exit in {limit:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The number of requests the fake API has received.
    pub async fn api_requests(&self) -> usize {
        self.api.received_requests().await.map_or(0, |r| r.len())
    }

    /// Wait until the fake API has received `n` requests.
    pub async fn wait_api_requests(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.api_requests().await < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the fake API saw no request"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Run the server with settings it must refuse; return its exit status and stderr.
pub async fn refused(transport: &str, env: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut cmd = command(transport, "http://127.0.0.1:9", env);
    let run = tokio::task::spawn_blocking(move || cmd.output());
    let out = tokio::time::timeout(WAIT, run)
        .await
        .expect("the server exits promptly")
        .expect("join")
        .expect("run altr-mcp");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Assert a 401 that asks for a bearer token.
pub fn assert_unauthorized(r: &reqwest::Response) {
    assert_eq!(r.status(), 401);
    let challenge = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate: {challenge:?}"
    );
}

/// The `{success, data, error}` envelope of a `tools/call` result on the wire.
pub fn envelope_of(result: &Value) -> Value {
    let structured = result["structuredContent"].clone();
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<Value>(text).ok(),
        Some(structured.clone()),
        "text content mirrors structuredContent"
    );
    structured
}

/// A legacy HTTP+SSE client: one open event stream and the message endpoint it announced.
pub struct SseClient {
    pub base: String,
    pub endpoint: String,
    stream: reqwest::Response,
    buf: String,
    http: reqwest::Client,
    token: Option<String>,
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: String,
    pub data: String,
}

impl SseClient {
    /// `GET /sse` and read the `endpoint` event.
    pub async fn connect(base: &str, token: Option<&str>) -> SseClient {
        let http = http();
        let mut req = reqwest::Client::builder()
            .build()
            .expect("client")
            .get(format!("{base}/sse"))
            .header("accept", "text/event-stream");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let stream = tokio::time::timeout(WAIT, req.send())
            .await
            .expect("GET /sse answers")
            .expect("GET /sse");
        assert_eq!(stream.status(), 200);
        assert!(stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let mut c = SseClient {
            base: base.to_string(),
            endpoint: String::new(),
            stream,
            buf: String::new(),
            http,
            token: token.map(str::to_string),
        };
        let first = c.next_event().await.expect("an endpoint event");
        assert_eq!(first.event, "endpoint", "first event: {first:?}");
        c.endpoint = first.data;
        c
    }

    /// The next event, or `None` when the stream ended. Fails after [`WAIT`].
    pub async fn next_event(&mut self) -> Option<Event> {
        tokio::time::timeout(WAIT, self.read_event())
            .await
            .expect("an SSE event in time")
    }

    async fn read_event(&mut self) -> Option<Event> {
        loop {
            let normalized = self.buf.replace("\r\n", "\n");
            if let Some(end) = normalized.find("\n\n") {
                let block = normalized[..end].to_string();
                self.buf = normalized[end + 2..].to_string();
                let mut event = String::from("message");
                let mut data: Vec<&str> = Vec::new();
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim_start().to_string();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    }
                }
                if any {
                    return Some(Event {
                        event,
                        data: data.join("\n"),
                    });
                }
                continue; // a keep-alive comment
            }
            match self.stream.chunk().await {
                Ok(Some(bytes)) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// POST one raw body to the announced endpoint.
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}{}", self.base, self.endpoint))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("POST /messages")
    }

    /// POST one JSON-RPC message; assert 202.
    pub async fn post(&self, message: Value) {
        let text = message.to_string();
        let r = self.post_raw(text.clone()).await;
        let shown: String = text.chars().take(200).collect();
        assert_eq!(r.status(), 202, "POST {shown}");
    }

    /// Send a request and wait for its reply on the stream (skipping other messages).
    pub async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let e = self
                .next_event()
                .await
                .expect("the reply before the stream ends");
            assert_eq!(e.event, "message");
            let m: Value = serde_json::from_str(&e.data).expect("JSON message");
            if m["id"] == json!(id) {
                return m;
            }
        }
    }

    /// initialize + notifications/initialized; returns the initialize result.
    pub async fn initialize(&mut self) -> Value {
        let r = self
            .request(
                0,
                "initialize",
                json!({"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "sse-test", "version": "1"}}),
            )
            .await;
        self.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        r["result"].clone()
    }
}
