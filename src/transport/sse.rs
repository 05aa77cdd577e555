//! Legacy HTTP+SSE (protocol revision 2024-11-05), which rmcp no longer ships.
//!
//! `GET /sse` opens an event stream whose first event is `endpoint`, carrying
//! `/messages?sessionId=<id>`; every later event is a `message` with one JSON-RPC message from the
//! server. `POST /messages?sessionId=<id>` takes one JSON-RPC message from the client and answers
//! 202; the reply goes out on the stream. The session ends when the stream closes, when the
//! client has been idle for `MCP_SESSION_IDLE_TIMEOUT` with nothing in flight, or at shutdown.
//! Each session runs the MCP server over a pair of channels, which rmcp accepts as a transport.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, RequestId, ServerJsonRpcMessage};
use rmcp::ServiceExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::http::SSE_KEEP_ALIVE;
use super::inflight::{Held, Inflight};
use super::options::HttpOptions;
use super::security::{check_message, text, MAX_BODY_BYTES};
use crate::server::AltrServer;

/// Messages buffered per direction before the sender waits.
const CHANNEL_CAPACITY: usize = 32;

/// One open SSE stream and the MCP session behind it.
struct Session {
    /// Messages from the client, to the MCP service.
    to_server: mpsc::Sender<ClientJsonRpcMessage>,
    /// Requests whose reply has not been sent yet, by id.
    pending: Mutex<HashMap<String, Held>>,
    /// When the client last sent a message.
    last_seen: Mutex<Instant>,
    /// Cancelled when the session ends, for any reason.
    closed: CancellationToken,
    /// The caller whose token opened the session (none without a token): only they may post to
    /// it.
    owner: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn id_key(id: &RequestId) -> String {
    serde_json::to_string(id).unwrap_or_default()
}

impl Session {
    fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    /// Note that the reply to a request is on its way out.
    fn answered(&self, message: &ServerJsonRpcMessage) {
        let id = match message {
            ServerJsonRpcMessage::Response(r) => Some(&r.id),
            ServerJsonRpcMessage::Error(e) => e.id.as_ref(),
            _ => None,
        };
        if let Some(id) = id {
            lock(&self.pending).remove(&id_key(id));
        }
    }
}

type Sessions = Arc<Mutex<HashMap<String, Arc<Session>>>>;

#[derive(Clone)]
struct SseState {
    server: AltrServer,
    sessions: Sessions,
    idle_timeout: Duration,
    max_sessions: usize,
    /// Cancelled at shutdown, once in-flight requests are done: closes every stream.
    stop: CancellationToken,
    inflight: Arc<Inflight>,
}

/// Removes the session when its stream is dropped (the client went away or the stream ended).
struct EndOnDrop {
    id: String,
    sessions: Sessions,
    closed: CancellationToken,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.closed.cancel();
        lock(&self.sessions).remove(&self.id);
        tracing::debug!(session = %self.id, "legacy SSE session ended");
    }
}

/// `GET /sse`, `POST /messages` (and `/messages/`, the path the Python server announced).
pub fn router(
    server: AltrServer,
    opts: &HttpOptions,
    stop: CancellationToken,
    inflight: Arc<Inflight>,
) -> Router {
    let state = SseState {
        server,
        sessions: Arc::default(),
        idle_timeout: opts.session_idle_timeout,
        max_sessions: opts.max_sessions,
        stop,
        inflight,
    };
    Router::new()
        .route("/sse", get(open_stream))
        .route("/messages", post(post_message))
        .route("/messages/", post(post_message))
        // The guard in front has already capped the body at the same size.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn new_session_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

async fn open_stream(
    State(st): State<SseState>,
    caller: Option<axum::Extension<crate::safety::caller::Identity>>,
) -> Response {
    if st.stop.is_cancelled() {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: the server is shutting down",
        );
    }
    if lock(&st.sessions).len() >= st.max_sessions {
        tracing::warn!(
            max = st.max_sessions,
            "refused a new session: MCP_MAX_SESSIONS reached"
        );
        return super::http::too_many_sessions();
    }
    let id = new_session_id();
    let (to_server, from_client) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_CAPACITY);
    let (to_client, from_server) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_CAPACITY);
    let closed = st.stop.child_token();
    let session = Arc::new(Session {
        to_server,
        pending: Mutex::default(),
        last_seen: Mutex::new(Instant::now()),
        closed: closed.clone(),
        owner: caller.map(|axum::Extension(i)| i.name),
    });
    lock(&st.sessions).insert(id.clone(), session.clone());
    tracing::debug!(session = %id, "legacy SSE session opened");

    // The MCP service for this session, over the channel pair.
    let server = st.server.session_on("sse");
    let service_ct = closed.clone();
    tokio::spawn(async move {
        match server
            .serve_with_ct((to_client, from_client), service_ct.clone())
            .await
        {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => tracing::debug!(error = %e, "legacy SSE session did not initialize"),
        }
        service_ct.cancel();
    });

    // Close the session once the client has been silent for the idle timeout with nothing
    // in flight.
    tokio::spawn({
        let session = session.clone();
        let idle = st.idle_timeout;
        async move {
            loop {
                let due = *lock(&session.last_seen) + idle;
                tokio::select! {
                    _ = session.closed.cancelled() => return,
                    _ = tokio::time::sleep_until(due) => {}
                }
                if lock(&session.last_seen).elapsed() < idle {
                    continue;
                }
                if lock(&session.pending).is_empty() {
                    tracing::info!(
                        "closing a legacy SSE session idle for {} s",
                        idle.as_secs_f64()
                    );
                    session.closed.cancel();
                    return;
                }
                // A request is still running: look again shortly.
                tokio::select! {
                    _ = session.closed.cancelled() => return,
                    _ = tokio::time::sleep(idle.min(Duration::from_secs(1))) => {}
                }
            }
        }
    });

    let end = EndOnDrop {
        id: id.clone(),
        sessions: st.sessions.clone(),
        closed: closed.clone(),
    };
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/messages?sessionId={id}"));
    let messages = from_server.map(move |message| {
        let _ = &end;
        session.answered(&message);
        let event = match serde_json::to_string(&message) {
            Ok(json) => Event::default().event("message").data(json),
            Err(e) => {
                tracing::error!(error = %e, "could not serialize a message for the SSE stream");
                Event::default().comment("unserializable message dropped")
            }
        };
        Ok::<Event, Infallible>(event)
    });
    let stream = futures::stream::once(async move { Ok::<Event, Infallible>(endpoint) })
        .chain(messages)
        .take_until(closed.cancelled_owned());
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE))
        .into_response()
}

async fn post_message(
    State(st): State<SseState>,
    Query(query): Query<HashMap<String, String>>,
    caller: Option<axum::Extension<crate::safety::caller::Identity>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let Some(id) = query.get("sessionId").or_else(|| query.get("session_id")) else {
        return text(
            StatusCode::BAD_REQUEST,
            "Bad Request: sessionId query parameter is required",
        );
    };
    let session = lock(&st.sessions).get(id).cloned();
    // A session opened with a token is its caller's alone: to anyone else it does not exist.
    let caller_name = caller.as_ref().map(|axum::Extension(i)| i.name.clone());
    let session = session.filter(|s| s.owner.is_none() || s.owner == caller_name);
    let Some(session) = session.filter(|s| !s.closed.is_cancelled()) else {
        return text(
            StatusCode::NOT_FOUND,
            "Not Found: no such session; open a new one with GET /sse",
        );
    };
    let mut message = match check_message(&body) {
        Ok(m) => m,
        Err(bad) => return bad.into_response(),
    };
    // Who this request's token names, and what it allows; the trace it belongs to.
    if let ClientJsonRpcMessage::Request(r) = &mut message {
        let extensions = rmcp::model::GetExtensions::extensions_mut(&mut r.request);
        if let Some(axum::Extension(name)) = caller {
            extensions.insert(name);
        }
        if let Some(trace) = crate::logging::traces::TraceHeaders::from_headers(&headers) {
            extensions.insert(trace);
        }
    }
    session.touch();
    let request_key = match &message {
        ClientJsonRpcMessage::Request(r) => {
            let key = id_key(&r.id);
            lock(&session.pending).insert(key.clone(), st.inflight.enter());
            Some(key)
        }
        _ => None,
    };
    let mut sender = session.to_server.clone();
    let sent = tokio::select! {
        r = sender.send(message) => r.is_ok(),
        _ = session.closed.cancelled() => false,
    };
    if !sent {
        if let Some(key) = request_key {
            lock(&session.pending).remove(&key);
        }
        return text(
            StatusCode::NOT_FOUND,
            "Not Found: the session has ended; open a new one with GET /sse",
        );
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}
