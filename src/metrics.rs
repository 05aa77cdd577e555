//! Prometheus metrics, served on their own listener (MCP_METRICS_ADDR) at `/metrics` for every
//! transport, stdio included. Recorded where things happen: tool calls where the pipeline
//! records the audit, ALTR requests and retries in the client, sessions in the transports,
//! confirmations in the confirmation gate, refusals in the HTTP guard.
//!
//! Every label value is a `&'static str` from a closed set the code itself names (tool and
//! toolset names, effects, error codes, services, methods, reasons), never a user, token, id or
//! argument, so the number of series stays bounded whatever callers send.

use std::net::SocketAddr;
use std::sync::OnceLock;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The rmcp release line this build uses (Cargo.toml pins `~3.11`; a test checks Cargo.lock).
pub const RMCP_VERSION: &str = "3.11";

type Labels = Vec<(&'static str, &'static str)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Duration buckets in seconds, from a fast local call to a slow paged listing.
fn seconds() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
    ])
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    tool_calls: Family<Labels, Counter>,
    call_seconds: Histograms,
    requests: Family<Labels, Counter>,
    retries: Family<Labels, Counter>,
    request_seconds: Histograms,
    sessions: Family<Labels, Gauge>,
    confirmations: Family<Labels, Counter>,
    auth_refusals: Family<Labels, Counter>,
    truncated: Family<Labels, Counter>,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("altr_mcp");
        let m = Metrics {
            tool_calls: Family::default(),
            call_seconds: Family::new_with_constructor(seconds),
            requests: Family::default(),
            retries: Family::default(),
            request_seconds: Family::new_with_constructor(seconds),
            sessions: Family::default(),
            confirmations: Family::default(),
            auth_refusals: Family::default(),
            truncated: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "tool_calls",
            "Tool calls by tool, toolset, effect and outcome (ok, dry_run, declined, refused, or the error code)",
            m.tool_calls.clone(),
        );
        registry.register(
            "tool_call_duration_seconds",
            "Wall time of a tool call, by toolset",
            m.call_seconds.clone(),
        );
        registry.register(
            "altr_requests",
            "Requests to ALTR by service, method and status class (2xx, 3xx, 4xx, 5xx, or timeout and connection when no answer came)",
            m.requests.clone(),
        );
        registry.register(
            "altr_retries",
            "Retried ALTR requests by service and reason (timeout, connection, 429, 5xx)",
            m.retries.clone(),
        );
        registry.register(
            "altr_request_duration_seconds",
            "Time of one ALTR request attempt, by service",
            m.request_seconds.clone(),
        );
        registry.register(
            "sessions_open",
            "MCP sessions open, by transport",
            m.sessions.clone(),
        );
        registry.register(
            "confirmations",
            "Confirmations of destructive calls: asked, accepted, declined",
            m.confirmations.clone(),
        );
        registry.register(
            "auth_refusals",
            "HTTP requests refused by authentication or permission, by reason",
            m.auth_refusals.clone(),
        );
        registry.register(
            "results_truncated",
            "Tool results cut to MAX_RESULT_BYTES, by tool",
            m.truncated.clone(),
        );
        let build: Family<Labels, Gauge> = Family::default();
        build
            .get_or_create(&vec![
                ("version", env!("CARGO_PKG_VERSION")),
                ("rmcp_version", RMCP_VERSION),
            ])
            .set(1);
        registry.register("build_info", "The build: altr-mcp and rmcp versions", build);
        Metrics { registry, ..m }
    }
}

/// The metrics of this process.
fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// One finished tool call.
pub fn tool_call(
    tool: &'static str,
    toolset: &'static str,
    effect: &'static str,
    outcome: &'static str,
    seconds: f64,
) {
    let m = get();
    m.tool_calls
        .get_or_create(&vec![
            ("tool", tool),
            ("toolset", toolset),
            ("effect", effect),
            ("outcome", outcome),
        ])
        .inc();
    m.call_seconds
        .get_or_create(&vec![("toolset", toolset)])
        .observe(seconds);
}

/// One ALTR request attempt: its answer's status, or none when none came (`no_answer` says why).
pub fn altr_request(
    service: &'static str,
    method: &'static str,
    status: Option<u16>,
    no_answer: &'static str,
    seconds: f64,
) {
    let class = match status {
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => no_answer,
    };
    let m = get();
    m.requests
        .get_or_create(&vec![
            ("service", service),
            ("method", method),
            ("status_class", class),
        ])
        .inc();
    m.request_seconds
        .get_or_create(&vec![("service", service)])
        .observe(seconds);
}

/// One retry of an ALTR request.
pub fn altr_retry(service: &'static str, reason: &'static str) {
    get()
        .retries
        .get_or_create(&vec![("service", service), ("reason", reason)])
        .inc();
}

/// One confirmation event: `asked`, `accepted` or `declined`.
pub fn confirmation(event: &'static str) {
    get()
        .confirmations
        .get_or_create(&vec![("event", event)])
        .inc();
}

/// One HTTP request refused by authentication or permission.
pub fn auth_refused(reason: &'static str) {
    get()
        .auth_refusals
        .get_or_create(&vec![("reason", reason)])
        .inc();
}

/// One result cut to MAX_RESULT_BYTES.
pub fn truncated(tool: &'static str) {
    get().truncated.get_or_create(&vec![("tool", tool)]).inc();
}

/// An open session, counted until dropped.
#[derive(Debug)]
pub struct Session(&'static str);

/// Count a session of this transport as open until the returned guard is dropped.
pub fn session_opened(transport: &'static str) -> Session {
    get()
        .sessions
        .get_or_create(&vec![("transport", transport)])
        .inc();
    Session(transport)
}

impl Drop for Session {
    fn drop(&mut self) {
        get()
            .sessions
            .get_or_create(&vec![("transport", self.0)])
            .dec();
    }
}

/// The metrics in the OpenMetrics text format.
pub fn render() -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &get().registry);
    out
}

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of [`render_classic`]'s text.
pub const CLASSIC_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics in Prometheus' classic text format, for scrapers and tools that do not speak
/// OpenMetrics (e.g. `promtool check metrics`): the same samples; a counter's `# HELP` and
/// `# TYPE` name its `_total` samples, and there is no `# EOF`.
pub fn render_classic() -> String {
    let open = render();
    let counters: Vec<&str> = open
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open.len() + 16 * counters.len());
    for line in open.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Serve `/metrics` (and nothing else) on `addr` until the process ends.
pub async fn serve(addr: SocketAddr) -> Result<(), String> {
    use axum::routing::get as route;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("MCP_METRICS_ADDR: cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!("metrics on http://{bound}/metrics");
    // OpenMetrics for scrapers that ask for it (Prometheus does), the classic format otherwise.
    let app = axum::Router::new().route(
        "/metrics",
        route(|headers: axum::http::HeaderMap| async move {
            let open = headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/openmetrics-text"));
            let (kind, text) = if open {
                (CONTENT_TYPE, render())
            } else {
                (CLASSIC_CONTENT_TYPE, render_classic())
            };
            ([(axum::http::header::CONTENT_TYPE, kind)], text)
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rmcp_version_is_the_locked_one() {
        let lock = include_str!("../Cargo.lock");
        let at = lock.find("name = \"rmcp\"\nversion = \"").unwrap();
        let version = &lock[at + "name = \"rmcp\"\nversion = \"".len()..];
        assert!(
            version.starts_with(&format!("{RMCP_VERSION}.")),
            "{}",
            &version[..10]
        );
    }

    #[test]
    fn what_is_recorded_is_rendered() {
        tool_call("get_tags", "tags", "read_only", "ok", 0.01);
        altr_request("api", "GET", Some(503), "timeout", 0.2);
        altr_retry("api", "5xx");
        let _open = session_opened("stdio");
        let text = render();
        assert!(text.contains(
            "altr_mcp_tool_calls_total{tool=\"get_tags\",toolset=\"tags\",effect=\"read_only\",outcome=\"ok\"}"
        ), "{text}");
        assert!(text.contains(
            "altr_mcp_altr_requests_total{service=\"api\",method=\"GET\",status_class=\"5xx\"}"
        ));
        assert!(text.contains("altr_mcp_sessions_open{transport=\"stdio\"}"));
        assert!(text.contains("altr_mcp_build_info{version=\""));
        assert!(text.ends_with("# EOF\n"));
        let classic = render_classic();
        assert!(
            classic.contains("# TYPE altr_mcp_tool_calls_total counter"),
            "{classic}"
        );
        assert!(classic.contains("# TYPE altr_mcp_sessions_open gauge"));
        assert!(!classic.contains("# EOF"));
    }
}
