//! Streamable HTTP at `/mcp`: rmcp's [`StreamableHttpService`] (POST, GET for the server stream,
//! DELETE to end a session). Clients of the 2026-07-28 revision (`server/discover`, no initialize)
//! are served statelessly by rmcp whatever the mode; older clients get sessions unless
//! `MCP_STATELESS` is set.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::security::MAX_BODY_BYTES;
use super::HttpOptions;
use crate::server::AltrServer;

/// How often an idle SSE stream carries a keep-alive comment.
pub const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

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
    sessions.session_config.keep_alive = Some(opts.idle_timeout);
    let service =
        StreamableHttpService::new(move || Ok(server.clone()), Arc::new(sessions), config);
    Router::new().route_service("/mcp", service)
}
