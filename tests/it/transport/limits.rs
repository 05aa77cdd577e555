//! Connections near the open-file limit: the built binary started with `ulimit -n 128` (so at
//! most 64 connections), held open by idle keep-alive clients or by requests in progress. A new
//! client is answered at once (served, or 503 with `Retry-After: 1`), never left waiting.

use std::process::Command;
use std::time::Duration;

use crate::http_common::{command_for, databases, Server, WAIT};
use altr_mcp::transport::conns::cap_for;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wiremock::{matchers, Mock, MockServer, ResponseTemplate};

/// The open-file limit the server runs under.
const NOFILE: u64 = 128;

/// How long a new client may wait for its answer.
const ANSWERED: Duration = Duration::from_secs(5);

/// The server, started under a low open-file limit, and the connection cap it derived.
struct Limited {
    server: Server,
    cap: usize,
}

impl Limited {
    async fn start(env: &[(&str, &str)]) -> Limited {
        let api = MockServer::start().await;
        Mock::given(matchers::method("GET"))
            .and(matchers::path("/altrnet/api/databases"))
            .respond_with(ResponseTemplate::new(200).set_body_json(databases()))
            .mount(&api)
            .await;
        let mut sh = Command::new("/bin/sh");
        sh.arg("-c")
            .arg(format!("ulimit -n {NOFILE} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_altr-mcp"));
        let cmd = command_for(sh, "streamable-http", &api.uri(), env);
        let server = Server::start_command(cmd, api).await;
        // The "listening on" line says the cap: max_connections=N.
        let cap = server
            .log()
            .split("max_connections=")
            .nth(1)
            .and_then(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no max_connections in:\n{}", server.log()));
        Limited { server, cap }
    }

    fn port(&self) -> u16 {
        self.server.port
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn log(&self) -> String {
        self.server.log()
    }

    async fn probe(&self) -> reqwest::Response {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        tokio::time::timeout(ANSWERED, client.get(self.url("/healthz")).send())
            .await
            .unwrap_or_else(|_| panic!("no answer within {ANSWERED:?}:\n{}", self.log()))
            .expect("an HTTP answer")
    }

    /// Probe until one is served (the server frees connections asynchronously).
    async fn wait_served(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let r = self.probe().await;
            if r.status() == 200 {
                assert_eq!(r.text().await.unwrap(), r#"{"status":"ok"}"#);
                return;
            }
            assert_eq!(r.status(), 503);
            assert!(
                tokio::time::Instant::now() < deadline,
                "still refused:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Warnings about shedding, once the first has been logged (the log is read as it comes).
    async fn shed_warnings(&self) -> usize {
        let count = || self.log().matches("at the connection limit").count();
        let deadline = tokio::time::Instant::now() + WAIT;
        while count() == 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        count()
    }
}

/// Read from `stream` until `needle` has arrived.
async fn read_until(stream: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        while !got.windows(needle.len()).any(|w| w == needle) {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(WAIT, read).await.expect("answered");
    got
}

/// A keep-alive connection that has made one request and now sits idle.
async fn idle_connection(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until(&mut s, br#"{"status":"ok"}"#).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    s
}

/// A connection whose request is in progress: the server is waiting for the rest of its body.
async fn busy_connection(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
Accept: application/json, text/event-stream\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n",
    )
    .await
    .unwrap();
    // The 100 Continue comes once the server reads the body: the request is being handled.
    read_until(&mut s, b"100 Continue\r\n\r\n").await;
    s.write_all(br#"{"jsonrpc":"2.0","#).await.unwrap();
    s
}

/// Whether the server has closed `stream` (end of stream or reset) within a while.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    matches!(
        tokio::time::timeout(WAIT, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn idle_keep_alive_connections_past_the_cap_do_not_hold_up_a_new_client() {
    let server = Limited::start(&[]).await;
    assert_eq!(
        server.cap,
        cap_for(NOFILE),
        "the cap follows the open-file limit"
    );
    // More idle keep-alive connections than the limit allows descriptors.
    let opened = NOFILE as usize + 20;
    let mut idle = Vec::new();
    for _ in 0..opened {
        idle.push(idle_connection(server.port()).await);
    }
    // A new client is served at once: the longest-idle connections made room.
    let r = server.probe().await;
    assert_eq!(r.status(), 200, "{}", server.log());
    assert_eq!(r.text().await.unwrap(), r#"{"status":"ok"}"#);
    // The oldest were closed by the server, the newest kept.
    let shed = opened - server.cap;
    for (n, s) in idle.iter_mut().take(shed / 2).enumerate() {
        assert!(closed_by_server(s).await, "idle connection {n} still open");
    }
    let newest = idle.last_mut().unwrap();
    newest
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    read_until(newest, br#"{"status":"ok"}"#).await;
    // Logged, but not once per connection.
    let warnings = server.shed_warnings().await;
    assert!(
        (1..=5).contains(&warnings),
        "{warnings} warnings:\n{}",
        server.log()
    );

    drop(idle);
    server.wait_served().await;
}

#[tokio::test]
async fn at_the_cap_with_every_connection_busy_a_new_client_gets_a_quick_503() {
    let server = Limited::start(&[("MCP_BODY_TIMEOUT", "120")]).await;
    let mut busy = Vec::new();
    for _ in 0..server.cap {
        busy.push(busy_connection(server.port()).await);
    }
    for _ in 0..3 {
        let r = server.probe().await;
        assert_eq!(r.status(), 503, "{}", server.log());
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("retry-after"), "1");
        assert_eq!(header("connection"), "close");
        assert!(header("content-type").starts_with("text/plain"));
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("too many open connections"));
    }
    // The same at the byte level.
    let mut raw = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    raw.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(ANSWERED, raw.read_to_end(&mut answer))
        .await
        .expect("answered and closed at once")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\r\nretry-after: 1\r\n"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    // No request in progress was cut off for it.
    let first = busy.first_mut().unwrap();
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), first.read(&mut buf))
            .await
            .is_err(),
        "a busy connection was closed"
    );
    let warnings = server.shed_warnings().await;
    assert!(
        (1..=5).contains(&warnings),
        "{warnings} warnings:\n{}",
        server.log()
    );

    // Once those requests end, the server serves normally again.
    drop(busy);
    server.wait_served().await;
}
