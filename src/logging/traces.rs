//! OpenTelemetry traces, off unless the standard variables ask for them (and built only with the
//! cargo feature `otel`, on by default). With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER=otlp`) set, every tool call is
//! a server span and every ALTR request attempt a client span inside it, exported over OTLP/HTTP
//! (protobuf) by a batch processor; the SDK reads the other `OTEL_*` variables itself (headers,
//! timeout, sampler, batch sizes, resource attributes). `OTEL_SDK_DISABLED=true` or
//! `OTEL_TRACES_EXPORTER=none` keeps traces off.
//!
//! A W3C `traceparent` (and `tracestate`) that an HTTP client sends, as a header or in the
//! request's `_meta`, becomes the call span's parent, so the call joins the client's trace.
//!
//! What spans carry is fixed here and nowhere else: tool name, toolset, effect and outcome on the
//! call; ALTR service, method, path template (`/api/policies/{}/rules`, never the ids or the
//! query string), host and status on a request. Never arguments, bodies, headers or credentials.
//! When traces are off the spans are not made at all ([`tracing::Span::none`]), so the log lines
//! are what they were.

use tracing::field::Empty;
use tracing::Span;

/// The `tracing` target of every span made here; the log output leaves it out.
pub const TARGET: &str = "altr_mcp::traces";

/// The W3C trace context a request came with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceHeaders {
    pub traceparent: String,
    pub tracestate: Option<String>,
}

impl TraceHeaders {
    /// From HTTP headers; `None` without a `traceparent`.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<TraceHeaders> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Some(TraceHeaders {
            traceparent: get("traceparent")?,
            tracestate: get("tracestate"),
        })
    }

    /// From a request's `_meta` (`traceparent`, `tracestate`); `None` without a `traceparent`.
    pub fn from_meta(meta: &serde_json::Map<String, serde_json::Value>) -> Option<TraceHeaders> {
        let get = |name: &str| meta.get(name).and_then(|v| v.as_str()).map(str::to_string);
        Some(TraceHeaders {
            traceparent: get("traceparent")?,
            tracestate: get("tracestate"),
        })
    }
}

/// Whether spans are exported (set once, at start-up).
pub fn enabled() -> bool {
    imp::enabled()
}

/// The span of one tool call of `tool` (a registry name; `None` for a name no tool has), a child
/// of `parent` when the client sent one (else of the current span, else a new trace). Its
/// toolset, effect and outcome are recorded by [`record_call`] once known.
pub fn call_span(tool: Option<&'static str>, parent: Option<&TraceHeaders>) -> Span {
    if !enabled() {
        return Span::none();
    }
    let name = match tool {
        Some(t) => format!("tools/call {t}"),
        None => "tools/call".to_string(),
    };
    let span = tracing::info_span!(
        target: TARGET,
        "tools/call",
        otel.name = name,
        otel.kind = "server",
        otel.status_code = Empty,
        mcp.method.name = "tools/call",
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = Empty,
        altr.toolset = Empty,
        altr.effect = Empty,
        altr.outcome = Empty,
        altr.dry_run = Empty,
        error.type = Empty,
    );
    if let Some(p) = parent {
        imp::set_parent(&span, p);
    }
    span
}

/// What the call turned out to be. `tool` is a registry name or `(unknown)`, never the name sent;
/// `error` is the error code when the call failed or was refused.
pub fn record_call(
    span: &Span,
    tool: &'static str,
    toolset: &'static str,
    effect: &'static str,
    outcome: &'static str,
    dry_run: bool,
    error: Option<&'static str>,
) {
    if span.is_none() {
        return;
    }
    span.record("gen_ai.tool.name", tool);
    span.record("altr.toolset", toolset);
    span.record("altr.effect", effect);
    span.record("altr.outcome", outcome);
    span.record("altr.dry_run", dry_run);
    if let Some(code) = error {
        span.record("otel.status_code", "error");
        span.record("error.type", code);
    }
}

/// The span of one attempt of an ALTR request to `url` (only its host is kept): `route` is the
/// path template (ids as `{}`), `resend` the number of attempts before this one.
pub fn request_span(
    service: &'static str,
    method: &'static str,
    url: &str,
    route: &str,
    resend: u32,
) -> Span {
    if !enabled() {
        return Span::none();
    }
    let host = host_of(url);
    let span = tracing::info_span!(
        target: TARGET,
        "altr request",
        otel.name = format!("{method} {route}"),
        otel.kind = "client",
        otel.status_code = Empty,
        altr.service = service,
        http.request.method = method,
        url.template = route,
        server.address = host,
        http.request.resend_count = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
    );
    if resend > 0 {
        span.record("http.request.resend_count", resend);
    }
    span
}

/// The host (and port) of a URL, without scheme, credentials, path or query.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit('@').next().unwrap_or_default()
}

/// How an attempt ended: the HTTP status, or why there was none (`timeout`, `connection`).
pub fn record_response(span: &Span, status: Option<u16>, no_answer: &'static str) {
    if span.is_none() {
        return;
    }
    match status {
        Some(s) => {
            span.record("http.response.status_code", s);
            if s >= 400 {
                span.record("otel.status_code", "error");
                span.record("error.type", s.to_string());
            }
        }
        None => {
            span.record("otel.status_code", "error");
            span.record("error.type", no_answer);
        }
    }
}

/// Start exporting when the environment asks for it: the layer to add to the subscriber.
pub use imp::layer;

/// Export what is still buffered and stop (at exit).
pub fn shutdown() {
    imp::shutdown();
}

/// Whether the environment asks for traces: an OTLP endpoint or `OTEL_TRACES_EXPORTER=otlp`,
/// and neither `OTEL_SDK_DISABLED=true` nor an exporter other than otlp.
pub fn wanted(var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return false;
    }
    match var("OTEL_TRACES_EXPORTER").map(|v| v.trim().to_ascii_lowercase()) {
        Some(e) if e == "otlp" => true,
        Some(e) if !e.is_empty() => false,
        _ => set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    }
}

#[cfg(feature = "otel")]
mod imp {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Mutex, OnceLock};

    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::filter::{filter_fn, Filtered};
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;

    use crate::logging::traces::{TraceHeaders, TARGET};

    static ENABLED: AtomicBool = AtomicBool::new(false);
    static PROVIDER: OnceLock<Mutex<Option<SdkTracerProvider>>> = OnceLock::new();

    pub fn enabled() -> bool {
        ENABLED.load(Ordering::Relaxed)
    }

    pub fn set_parent(span: &tracing::Span, parent: &TraceHeaders) {
        let mut carrier = std::collections::HashMap::new();
        carrier.insert("traceparent".to_string(), parent.traceparent.clone());
        if let Some(state) = &parent.tracestate {
            carrier.insert("tracestate".to_string(), state.clone());
        }
        let cx = TraceContextPropagator::new().extract(&carrier);
        // A malformed traceparent extracts no span context: the call starts a trace of its own.
        if opentelemetry::trace::TraceContextExt::span(&cx)
            .span_context()
            .is_valid()
        {
            let _ = span.set_parent(cx);
        }
    }

    type Exporting<S> = Filtered<
        tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>,
        tracing_subscriber::filter::FilterFn,
        S,
    >;

    /// The OTLP exporter and its layer (only this module's spans, never log events), when the
    /// environment asks for traces; the reason they could not start is logged.
    pub fn layer<S>() -> (Option<Exporting<S>>, Option<String>)
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        if !crate::logging::traces::wanted(|n| std::env::var(n).ok()) {
            return (None, None);
        }
        // The exporter's HTTP client speaks TLS through the same provider as the ALTR client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let exporter = match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(e) => e,
            Err(e) => return (None, Some(format!("traces are off: {e}"))),
        };
        let mut resource = Resource::builder();
        let named = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.trim().is_empty())
            || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|v| v.contains("service.name="));
        if !named {
            resource = resource.with_service_name("altr-mcp");
        }
        let resource = resource
            .with_attribute(opentelemetry::KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION"),
            ))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("altr-mcp");
        let _ = PROVIDER.set(Mutex::new(Some(provider)));
        ENABLED.store(true, Ordering::Relaxed);
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_level(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(filter_fn(ours as fn(&tracing::Metadata<'_>) -> bool));
        (Some(layer), None)
    }

    /// Only this module's spans are exported, never log events.
    fn ours(m: &tracing::Metadata<'_>) -> bool {
        m.is_span() && m.target() == TARGET
    }

    pub fn shutdown() {
        let provider = PROVIDER
            .get()
            .and_then(|p| p.lock().ok().and_then(|mut p| p.take()));
        if let Some(p) = provider {
            ENABLED.store(false, Ordering::Relaxed);
            let _ = p.shutdown();
        }
    }
}

#[cfg(not(feature = "otel"))]
mod imp {
    use crate::logging::traces::TraceHeaders;

    pub fn enabled() -> bool {
        false
    }

    pub fn set_parent(_: &tracing::Span, _: &TraceHeaders) {}

    /// Without the `otel` feature there is no exporter; a request for traces is said once.
    pub fn layer() -> (Option<tracing_subscriber::layer::Identity>, Option<String>) {
        if crate::logging::traces::wanted(|n| std::env::var(n).ok()) {
            let note = "OTEL_EXPORTER_OTLP_ENDPOINT is set but this build has no traces (built without the `otel` feature)";
            return (None, Some(note.to_string()));
        }
        (None, None)
    }

    pub fn shutdown() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |n| map.get(n).cloned()
    }

    #[test]
    fn traces_are_wanted_only_when_the_environment_says_so() {
        assert!(!wanted(env(&[])));
        assert!(wanted(env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://c:4318"
        )])));
        assert!(wanted(env(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318/v1/traces"
        )])));
        assert!(wanted(env(&[("OTEL_TRACES_EXPORTER", "otlp")])));
        assert!(!wanted(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])));
        assert!(!wanted(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_SDK_DISABLED", "true")
        ])));
        assert!(!wanted(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_TRACES_EXPORTER", "none")
        ])));
    }

    #[test]
    fn trace_context_comes_from_headers_or_meta() {
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(TraceHeaders::from_headers(&headers), None);
        headers.insert("traceparent", "00-abc-def-01".parse().unwrap());
        headers.insert("tracestate", "k=v".parse().unwrap());
        let want = TraceHeaders {
            traceparent: "00-abc-def-01".into(),
            tracestate: Some("k=v".into()),
        };
        assert_eq!(TraceHeaders::from_headers(&headers), Some(want.clone()));
        let meta = serde_json::json!({"traceparent": "00-abc-def-01", "tracestate": "k=v"});
        assert_eq!(
            TraceHeaders::from_meta(meta.as_object().unwrap()),
            Some(want)
        );
    }

    #[test]
    fn only_the_host_of_a_url_is_kept() {
        assert_eq!(
            host_of("https://org.live.altr.com/api/x?y=1"),
            "org.live.altr.com"
        );
        assert_eq!(host_of("http://u:p@127.0.0.1:9/a"), "127.0.0.1:9");
        assert_eq!(host_of("https://h?q"), "h");
    }

    #[test]
    fn without_an_exporter_no_span_is_made() {
        assert!(!enabled());
        assert!(call_span(Some("get_tags"), None).is_none());
        assert!(request_span("api", "GET", "h", "/api/x", 0).is_none());
    }
}
