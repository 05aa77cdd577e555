//! Prometheus metrics (MCP_METRICS_ADDR, issue 22): a scripted set of calls against the built
//! binary, then a scrape: exact counts for what the script did, labels only from closed sets
//! whatever names and arguments the client sends, and an exposition that parses.

use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::json;

use crate::http_common::*;

/// The metrics port the server logged.
async fn metrics_url(s: &Server) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(rest) = s.log().split("metrics on http://127.0.0.1:").nth(1) {
            let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
            return format!("http://127.0.0.1:{port}/metrics");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no metrics line: {}",
            s.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[tokio::test]
async fn a_scripted_session_moves_the_counters_it_should() {
    // ALTR answers the databases, and fails the tags with 503 every time.
    let api = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/altrnet/api/databases"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(databases()))
        .mount(&api)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/api/v1/tag/masking"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .mount(&api)
        .await;
    let s = Server::start_with_api(
        "streamable-http",
        &[
            ("MCP_METRICS_ADDR", "127.0.0.1:0"),
            ("MCP_AUTH_TOKEN", TOKEN),
            ("MAX_RETRIES", "3"),
        ],
        api,
    )
    .await;
    let url = metrics_url(&s).await;
    let _ = http();
    let config = StreamableHttpClientTransportConfig::with_uri(s.url("/mcp")).auth_header(TOKEN);
    let client = ClientConfig::default()
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .unwrap();
    for _ in 0..3 {
        let r = client
            .call_tool(CallToolRequestParams::new("get_databases"))
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(false));
    }
    // Three attempts at the tags, two of them retries.
    let failed = client
        .call_tool(CallToolRequestParams::new("get_tags"))
        .await
        .unwrap();
    assert_eq!(failed.is_error, Some(true));
    // Refused before anything is sent: a wrong argument.
    let bad = CallToolRequestParams::new("get_database_id")
        .with_arguments(json!({"database_name": 7}).as_object().unwrap().clone());
    let _ = client.call_tool(bad).await;
    // Names and arguments no closed set holds.
    for fuzz in [
        "../../etc/passwd",
        "get_databases\"} 1\nx{",
        "DROP TABLE users",
        "user@example.com",
    ] {
        let odd = CallToolRequestParams::new(fuzz.to_string())
            .with_arguments(json!({"q": fuzz}).as_object().unwrap().clone());
        let _ = client.call_tool(odd).await;
    }
    // One request without the token.
    let r = http().post(s.url("/mcp")).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 401);

    let text = http().get(&url).send().await.unwrap().text().await.unwrap();
    let ok = "altr_mcp_tool_calls_total{tool=\"get_databases\",toolset=\"databases\",effect=\"read_only\",outcome=\"ok\"}";
    assert_eq!(sample(&text, ok), Some(3.0), "{text}");
    let refused = "altr_mcp_tool_calls_total{tool=\"get_database_id\",toolset=\"databases\",effect=\"read_only\",outcome=\"refused\"}";
    assert_eq!(sample(&text, refused), Some(1.0), "{text}");
    let requests =
        "altr_mcp_altr_requests_total{service=\"altrnet\",method=\"GET\",status_class=\"2xx\"}";
    assert_eq!(sample(&text, requests), Some(3.0), "{text}");
    let retries = "altr_mcp_altr_retries_total{service=\"api\",reason=\"5xx\"}";
    assert_eq!(sample(&text, retries), Some(2.0), "{text}");
    let failures =
        "altr_mcp_altr_requests_total{service=\"api\",method=\"GET\",status_class=\"5xx\"}";
    assert_eq!(sample(&text, failures), Some(3.0), "{text}");
    let tags = "altr_mcp_tool_calls_total{tool=\"get_tags\",toolset=\"tags\",effect=\"read_only\",outcome=\"upstream_http_error\"}";
    assert_eq!(sample(&text, tags), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            "altr_mcp_tool_call_duration_seconds_count{toolset=\"databases\"}"
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "altr_mcp_sessions_open{transport=\"streamable-http\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "altr_mcp_auth_refusals_total{reason=\"missing_token\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("altr_mcp_build_info{version=\""), "{text}");
    // Nothing a caller sent is a label value.
    for fuzz in ["passwd", "DROP", "example.com", "x{"] {
        assert!(!text.contains(fuzz), "{fuzz} leaked into {text}");
    }
    // Every label value is one the code names.
    let allowed_chars = |v: &str| {
        v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.()+:".contains(c))
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(labels) = line.split('{').nth(1).and_then(|l| l.split('}').next()) {
            for pair in labels.split(',') {
                let value = pair.split('=').nth(1).unwrap_or("").trim_matches('"');
                assert!(allowed_chars(value), "label value {value:?} in {line}");
            }
        }
    }
    assert!(
        !text.contains("# EOF"),
        "classic format unless OpenMetrics is asked for"
    );
    let open = http()
        .get(&url)
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .unwrap();
    assert!(open.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(open.text().await.unwrap().ends_with("# EOF\n"));
    // The exposition parses, as Prometheus' own checker reads it (where it is installed: Debian's
    // `prometheus` package ships promtool).
    if let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The metrics listener serves /metrics only, never MCP.
    let mcp = http()
        .post(url.replace("/metrics", "/mcp"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(mcp.status(), 404);
    let _ = client.cancel().await;
}

#[tokio::test]
async fn a_bad_metrics_address_is_refused_at_start() {
    let (status, err) = refused("streamable-http", &[("MCP_METRICS_ADDR", "not-an-address")]).await;
    assert!(!status.success());
    assert!(err.contains("MCP_METRICS_ADDR"), "{err}");
}

/// Over stdio too: the metrics listener runs beside the stdio session.
#[tokio::test]
async fn stdio_sessions_are_measured_too() {
    use rmcp::transport::TokioChildProcess;
    let api = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/altrnet/api/databases"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(databases()))
        .mount(&api)
        .await;
    // A free port for the listener (stdio leaves no log line this test reads).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_altr-mcp"));
    cmd.env_clear()
        .env("ORG_ID", "test-org")
        .env("MAPI_KEY", "test-key")
        .env("MAPI_SECRET", "test-secret")
        .env("ALTR_ALTRNET_BASE_URL", format!("{}/altrnet", api.uri()))
        .env("MCP_METRICS_ADDR", format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::null());
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
    for _ in 0..2 {
        client
            .call_tool(CallToolRequestParams::new("get_databases"))
            .await
            .unwrap();
    }
    let url = format!("http://127.0.0.1:{port}/metrics");
    let text = http().get(&url).send().await.unwrap().text().await.unwrap();
    let ok = "altr_mcp_tool_calls_total{tool=\"get_databases\",toolset=\"databases\",effect=\"read_only\",outcome=\"ok\"}";
    assert_eq!(sample(&text, ok), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, "altr_mcp_sessions_open{transport=\"stdio\"}"),
        Some(1.0),
        "{text}"
    );
    let _ = client.cancel().await;
}
