//! Streamable HTTP at `/mcp`: rmcp's [`StreamableHttpService`] (POST, GET for the server stream,
//! DELETE to end a session). Clients of the 2026-07-28 revision (`server/discover`, no initialize)
//! are served statelessly by rmcp whatever the mode; older clients get sessions unless
//! `MCP_STATELESS` is set. In front of it: at most `MCP_MAX_SESSIONS` sessions (503 beyond), 404
//! for a DELETE of a session that does not exist, and 404 with JSON-RPC -32601 for a method the
//! client's revision removed ([`removed_methods`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::options::HttpOptions;
use super::security::{text, MessageInfo, MAX_BODY_BYTES};
use crate::server::protocol::{is_stateless_revision, REMOVED_METHODS, STATELESS_REVISION};
use crate::server::AltrServer;

/// How often an idle SSE stream carries a keep-alive comment.
pub const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The session header of streamable HTTP.
const SESSION_HEADER: &str = "mcp-session-id";

/// The header naming the client's protocol revision, and the one naming the request's method.
const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
const METHOD_HEADER: &str = "mcp-method";

/// The answer to a removed method: HTTP 404 and JSON-RPC -32601 with the request's id.
pub fn removed_method(id: &rmcp::model::RequestId, method: &str) -> Response {
    let hint = if method == "initialize" {
        "; clients of this revision call server/discover instead"
    } else {
        ""
    };
    let message = format!(
        "Method not found: {method} is not part of protocol revision {STATELESS_REVISION} and later{hint}"
    );
    (
        StatusCode::NOT_FOUND,
        Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": message}})),
    )
        .into_response()
}

/// Requests from clients of the 2026-07-28 revision or later (by their `MCP-Protocol-Version`
/// header) for a method that revision removed are answered 404 with JSON-RPC -32601 and not
/// passed on (rmcp would run `initialize` or `logging/setLevel`, or answer malformed params with
/// -32602).
/// The body was read and bounded by the guard, which left what this needs in [`MessageInfo`].
/// A request whose `Mcp-Method` header names another method is left to rmcp, which refuses the
/// mismatch. Older revisions are not affected.
async fn removed_methods(req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let newest = req
        .headers()
        .get(PROTOCOL_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| is_stateless_revision(v.trim()));
    if !newest {
        return next.run(req).await;
    }
    let removed = req
        .extensions()
        .get::<MessageInfo>()
        .and_then(|m| m.request.as_ref())
        .filter(|(_, method)| REMOVED_METHODS.contains(&method.as_str()));
    if let Some((id, method)) = removed {
        let named = req.headers().get(METHOD_HEADER).map(|v| v.as_bytes());
        if named.is_none_or(|n| n == method.as_bytes()) {
            return removed_method(id, method);
        }
    }
    next.run(req).await
}

#[derive(Clone)]
struct Limits {
    sessions: Arc<LocalSessionManager>,
    max_sessions: usize,
}

/// A 503 that says why and when to try again.
pub fn too_many_sessions() -> Response {
    let mut r = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable: too many open sessions (MCP_MAX_SESSIONS); close one or try again later",
    );
    r.headers_mut()
        .insert("retry-after", HeaderValue::from_static("5"));
    r
}

async fn limits(State(st): State<Limits>, req: Request, next: Next) -> Response {
    let session = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_delete = req.method() == Method::DELETE;
    match (req.method(), session) {
        (&Method::DELETE, Some(id)) => {
            let known = st.sessions.sessions.read().await.contains_key(id.as_str());
            if !known {
                return text(
                    StatusCode::NOT_FOUND,
                    "Not Found: no such session (it has ended or never existed)",
                );
            }
        }
        (&Method::POST, None) => {
            let opens_session = req
                .extensions()
                .get::<MessageInfo>()
                .is_some_and(|m| m.initialize);
            if opens_session && st.sessions.sessions.read().await.len() >= st.max_sessions {
                tracing::warn!(
                    max = st.max_sessions,
                    "refused a new session: MCP_MAX_SESSIONS reached"
                );
                return too_many_sessions();
            }
        }
        _ => {}
    }
    let mut response = next.run(req).await;
    // ALTR's ended session has nothing to say: 204, which every client reads as success (rmcp
    // answers 202, which some clients log as a failed termination).
    if is_delete && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// The `/mcp` route. `stop` ends every session and stream when cancelled.
pub fn router(server: AltrServer, opts: &HttpOptions, stop: CancellationToken) -> Router {
    let config = StreamableHttpServerConfig::default()
        .with_sse_keep_alive(Some(SSE_KEEP_ALIVE))
        .with_legacy_session_mode(!opts.stateless)
        // Without sessions there is no server stream to wait on: answer plain JSON when the
        // handler sends nothing but the result (rmcp falls back to SSE otherwise).
        .with_json_response(opts.stateless)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(stop)
        // Host and Origin are checked by our own layer in front of both transports.
        .disable_allowed_hosts()
        .disable_allowed_origins();
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(opts.session_idle_timeout);
    let sessions = Arc::new(sessions);
    let service = StreamableHttpService::new(
        move || Ok(server.session_on("streamable-http")),
        sessions.clone(),
        config,
    );
    let limits_state = Limits {
        sessions,
        max_sessions: opts.max_sessions,
    };
    Router::new()
        .route_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(limits_state, limits))
        .layer(axum::middleware::from_fn(removed_methods))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_removed_method_answer_echoes_the_id() {
        let r = removed_method(&rmcp::model::RequestId::Number(42), "logging/setLevel");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["id"], 42);
        assert_eq!(v["error"]["code"], -32601);
    }
}
