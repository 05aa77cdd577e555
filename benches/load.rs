//! Load benchmark of the built binary against its built-in sandbox (`--sandbox`) as the ALTR API:
//! sequential tool calls per second over stdio; calls per second and p50/p99 latency over
//! streamable HTTP with 64 concurrent sessions; resident memory with 1,000 open sessions.
//!
//! Run with `cargo bench` (this and the start-up benchmark) or `cargo bench --bench load`.
//! Targets: at least 5,000 calls/s over HTTP at 64 sessions on 2 cores with p99 under 10 ms;
//! 1,000 sessions under 100 MiB. Each call is `get_databases`, one request to the sandbox.

// A benchmark harness, like a test: failing loudly is what it should do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");
const SESSIONS: usize = 64;
const HTTP_SECONDS: u64 = 5;
const STDIO_CALLS: usize = 2000;
const IDLE_SESSIONS: usize = 1000;

fn rss_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn server(transport: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--sandbox")
        .env_clear()
        .env("MCP_TRANSPORT", transport)
        .env("MCP_PORT", "0")
        .env("MCP_MAX_SESSIONS", "5000")
        .env("LOG_LEVEL", "warn");
    cmd
}

fn call_line(id: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "get_databases", "arguments": {}}}).to_string()
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
}

fn stdio_bench() {
    let mut child = server("stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    writeln!(stdin, "{}", initialize()).unwrap();
    stdout.read_line(&mut line).unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    for id in 1..=50 {
        writeln!(stdin, "{}", call_line(id)).unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
    }
    assert!(line.contains("\"success\":true"), "{line}");
    let started = Instant::now();
    for id in 0..STDIO_CALLS as u64 {
        writeln!(stdin, "{}", call_line(1000 + id)).unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "stdio: {STDIO_CALLS} sequential get_databases calls in {elapsed:.2?}: {:.0} calls/s; peak RSS {}",
        STDIO_CALLS as f64 / elapsed.as_secs_f64(),
        mib(rss_kib(child.id(), "VmHWM:"))
    );
    drop(stdin);
    let _ = child.wait();
}

// Each benchmark uses part of the shared process helpers.
#[allow(dead_code)]
#[path = "support/proc.rs"]
mod proc;
use proc::HttpServer;

fn http_server() -> HttpServer {
    let mut cmd = server("streamable-http");
    cmd.env("LOG_LEVEL", "info");
    proc::http_server(cmd)
}

async fn open_session(http: &reqwest::Client, url: &str) -> String {
    let r = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let _ = r.bytes().await.unwrap();
    let r = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    id
}

async fn call(http: &reqwest::Client, url: &str, session: &str, id: u64) {
    let r = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-06-18")
        .body(call_line(id))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    assert!(
        body.windows(14).any(|w| w == b"\"success\":true"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn http_bench() {
    let server = http_server();
    let url = Arc::new(server.url.clone());
    let mut latencies: Vec<Duration> = Vec::new();
    let mut tasks = Vec::new();
    let stop_at = Instant::now() + Duration::from_secs(1) + Duration::from_secs(HTTP_SECONDS);
    let measure_from = Instant::now() + Duration::from_secs(1);
    for _ in 0..SESSIONS {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            // One keep-alive connection per session, as an MCP client has.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let session = open_session(&http, &url).await;
            let mut mine = Vec::new();
            let mut id = 1u64;
            while Instant::now() < stop_at {
                let t = Instant::now();
                call(&http, &url, &session, id).await;
                if t >= measure_from {
                    mine.push(t.elapsed());
                }
                id += 1;
            }
            mine
        }));
    }
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    latencies.sort();
    println!(
        "streamable HTTP, {SESSIONS} sessions for {HTTP_SECONDS} s: {:.0} calls/s, p50 {:.2?}, p99 {:.2?}; peak RSS {}",
        latencies.len() as f64 / HTTP_SECONDS as f64,
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        mib(rss_kib(server.child.id(), "VmHWM:"))
    );
}

async fn sessions_bench() {
    let server = http_server();
    let http = reqwest::Client::new();
    let idle = rss_kib(server.child.id(), "VmRSS:");
    for _ in 0..IDLE_SESSIONS {
        open_session(&http, &server.url).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "streamable HTTP: resident memory {} idle, {} with {IDLE_SESSIONS} open sessions",
        mib(idle),
        mib(rss_kib(server.child.id(), "VmRSS:"))
    );
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    stdio_bench();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(http_bench());
    rt.block_on(sessions_bench());
}
