//! OpenTelemetry traces (issue 22): the built binary exporting over OTLP/HTTP to a collector
//! stub. Each tool call is a server span continuing the client's W3C trace (a `traceparent`
//! header over HTTP, `_meta.traceparent` over stdio), with a client span per ALTR request
//! attempt: method, path template, status, resend count; never ids, query strings or secrets.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::http_common::*;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const RULES: &str = "/api/v1/unified-policy/management/policy/TAG%23secret-policy-77/rules";

/// A collector that accepts every export.
async fn collector() -> MockServer {
    let c = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&c)
        .await;
    c
}

/// Every span the collector has received, with the resource attributes they came with.
async fn spans(c: &MockServer) -> (Vec<Span>, Vec<KeyValue>) {
    let mut spans = Vec::new();
    let mut resource = Vec::new();
    for r in c.received_requests().await.unwrap_or_default() {
        let export = ExportTraceServiceRequest::decode(r.body.as_slice()).expect("OTLP protobuf");
        for rs in export.resource_spans {
            resource.extend(rs.resource.map(|r| r.attributes).unwrap_or_default());
            for ss in rs.scope_spans {
                spans.extend(ss.spans);
            }
        }
    }
    (spans, resource)
}

/// Wait until the collector holds spans named `name` (the batch processor exports every 100 ms).
async fn wait_for(c: &MockServer, name: &str) -> (Vec<Span>, Vec<KeyValue>) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let got = spans(c).await;
        if got.0.iter().any(|s| s.name == name) {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no span {name}: {:?}",
            got.0.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn attr(s: &Span, key: &str) -> Option<String> {
    s.attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| text(&kv.value))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// ALTR answers a policy's rules after one 503 (so one retry).
async fn altr() -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/api/v1/unified-policy/management/policy/.*/rules$",
        ))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/api/v1/unified-policy/management/policy/.*/rules$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"rules": []}})))
        .mount(&api)
        .await;
    api
}

fn otel_env(c: &MockServer) -> [(&'static str, String); 2] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", c.uri()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_string()),
    ]
}

/// The call span and its request spans: one tree, continuing the client's trace, with nothing a
/// caller sent and no credential in any attribute.
fn assert_tree(spans: &[Span], resource: &[KeyValue], api: &str) {
    let call = spans
        .iter()
        .find(|s| s.name == "tools/call get_rules")
        .expect("the call span");
    assert_eq!(
        hex(&call.trace_id),
        TRACE_ID,
        "the client's trace continues"
    );
    assert_eq!(hex(&call.parent_span_id), PARENT_ID);
    assert_eq!(call.kind, 2, "server span");
    assert_eq!(attr(call, "gen_ai.tool.name").as_deref(), Some("get_rules"));
    assert_eq!(attr(call, "altr.toolset").as_deref(), Some("policies"));
    assert_eq!(attr(call, "altr.effect").as_deref(), Some("read_only"));
    assert_eq!(attr(call, "altr.outcome").as_deref(), Some("ok"));
    assert_eq!(attr(call, "mcp.method.name").as_deref(), Some("tools/call"));

    let mut requests: Vec<&Span> = spans
        .iter()
        .filter(|s| s.parent_span_id == call.span_id)
        .collect();
    requests.sort_by_key(|s| s.start_time_unix_nano);
    assert_eq!(requests.len(), 2, "one span per attempt: {requests:?}");
    let route = "/v1/unified-policy/management/policy/{}/rules";
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(r.name, format!("GET {route}"));
        assert_eq!(r.kind, 3, "client span");
        assert_eq!(r.trace_id, call.trace_id);
        assert_eq!(attr(r, "http.request.method").as_deref(), Some("GET"));
        assert_eq!(attr(r, "url.template").as_deref(), Some(route));
        assert_eq!(attr(r, "altr.service").as_deref(), Some("api"));
        let host = api.trim_start_matches("http://");
        assert_eq!(attr(r, "server.address").as_deref(), Some(host));
        let status = if i == 0 { "503" } else { "200" };
        assert_eq!(
            attr(r, "http.response.status_code").as_deref(),
            Some(status)
        );
    }
    assert_eq!(attr(requests[0], "error.type").as_deref(), Some("503"));
    assert_eq!(attr(requests[0], "http.request.resend_count"), None);
    assert_eq!(
        attr(requests[1], "http.request.resend_count").as_deref(),
        Some("1")
    );
    assert_eq!(attr(requests[1], "error.type"), None);

    let service = resource.iter().find(|kv| kv.key == "service.name");
    assert_eq!(
        service.map(|kv| text(&kv.value)).as_deref(),
        Some("altr-mcp")
    );
    // Nothing the caller sent, no query string and no credential, anywhere.
    for s in spans {
        let all = s
            .attributes
            .iter()
            .map(|kv| format!("{}={}", kv.key, text(&kv.value)))
            .chain([s.name.clone()])
            .chain(resource.iter().map(|kv| text(&kv.value)));
        for a in all {
            for bad in ["secret-policy-77", "test-secret", "test-key", "?", "limit="] {
                assert!(!a.contains(bad), "{bad} in {a}");
            }
        }
    }
}

/// A stateless tools/call of get_rules on `policy_id`, with `headers`.
async fn call_rules(s: &Server, policy_id: &str, headers: &[(&str, String)]) -> reqwest::Response {
    let mut r = http()
        .post(s.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.body(
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "get_rules", "arguments": {"policy_id": policy_id}}})
        .to_string(),
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn an_http_call_continues_the_callers_trace() {
    let c = collector().await;
    let api = altr().await;
    let api_uri = api.uri();
    let env = otel_env(&c);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut env = env;
    env.push(("MCP_STATELESS", "true"));
    let s = Server::start_with_api("streamable-http", &env, api).await;
    let parent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let traced = [
        ("traceparent", parent),
        ("tracestate", "vendor=1".to_string()),
    ];
    let r = call_rules(&s, "TAG#secret-policy-77", &traced).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("\\\"success\\\":true") || body.contains("\"success\":true"),
        "{body}"
    );
    let (spans, resource) = wait_for(&c, "tools/call get_rules").await;
    assert_tree(&spans, &resource, &api_uri);
    let received = s.api.received_requests().await.unwrap();
    assert!(received.iter().all(|r| r.url.path() == RULES));
}

#[tokio::test]
async fn a_stdio_call_continues_the_trace_in_its_meta() {
    let c = collector().await;
    let api = altr().await;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_altr-mcp"));
    cmd.env_clear()
        .env("ORG_ID", "test-org")
        .env("MAPI_KEY", "test-key")
        .env("MAPI_SECRET", "test-secret")
        .env("MAX_RETRY_AFTER", "0.01")
        .env("ALTR_API_BASE_URL", format!("{}/api", api.uri()));
    for (k, v) in otel_env(&c) {
        cmd.env(k, v);
    }
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
    let mut params = CallToolRequestParams::new("get_rules").with_arguments(
        json!({"policy_id": "TAG#secret-policy-77"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let meta: Value = json!({"traceparent": format!("00-{TRACE_ID}-{PARENT_ID}-01")});
    params.meta = Some(serde_json::from_value(meta).unwrap());
    let r = client.call_tool(params).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    // The session ends; what is buffered is exported before the process exits.
    client.cancel().await.unwrap();
    let (spans, resource) = wait_for(&c, "tools/call get_rules").await;
    assert_tree(&spans, &resource, &api.uri());
}

#[tokio::test]
async fn traces_stay_off_when_the_sdk_is_disabled() {
    let c = collector().await;
    let api = altr().await;
    let mut env: Vec<(&str, String)> = otel_env(&c).into_iter().collect();
    env.push(("OTEL_SDK_DISABLED", "true".into()));
    env.push(("MCP_STATELESS", "true".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut s = Server::start_with_api("streamable-http", &env, api).await;
    let r = call_rules(&s, "TAG#p", &[]).await;
    assert_eq!(r.status(), 200);
    s.sigterm();
    s.wait_exit(WAIT).await;
    assert!(c.received_requests().await.unwrap().is_empty());
}
