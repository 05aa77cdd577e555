//! What a tool handler works with: the ALTR client, the server's shared state, and the one
//! place every request of a tool call goes through ([`Ctx::send`]).
//!
//! The server builds a `Ctx` per call ([`Ctx::for_call`]) with the tool's [`Effect`] and the
//! call's cancellation token. `send` marks each request idempotent or not from the effect (unless
//! the request says so itself), so retries follow the operation rather than the HTTP method; the
//! client stops a cancelled or overdue call at the next request boundary with
//! [`ApiError::Cancelled`] or [`ApiError::Deadline`]. Handlers must not `tokio::spawn` requests:
//! the call's context does not follow a spawned task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio_util::sync::CancellationToken;

use super::dryrun::{self, Rehearsal};
use super::effect::Effect;
use super::error::ToolResult;
use crate::client::{AltrClient, ApiError, ApiRequest};

/// The most pages one tool call will fetch, over every listing it reads.
pub const MAX_PAGES: usize = 100;

/// What one tool call may still collect, shared by every paged read of the call (a clone of the
/// call's [`Ctx`] shares it): pages, and bytes of items (MAX_RESULT_BYTES). Whatever ALTR sends,
/// a call then holds about that many bytes of items plus the pages in flight.
#[derive(Debug)]
pub struct Budget {
    pages: AtomicUsize,
    bytes: AtomicUsize,
}

impl Budget {
    pub fn new(pages: usize, bytes: usize) -> Self {
        Self {
            pages: AtomicUsize::new(pages),
            bytes: AtomicUsize::new(bytes),
        }
    }

    /// Take one page, if any is left.
    pub(super) fn take_page(&self) -> bool {
        self.pages
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Count `n` bytes of items; whether any budget is left after them.
    pub(super) fn spend(&self, n: usize) -> bool {
        let before = self
            .bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(n))
            })
            .unwrap_or(0);
        before > n
    }
}

/// The default of MAX_RESULT_BYTES (512 KiB), the byte budget of a call.
pub const DEFAULT_RESULT_BYTES: usize = 512 << 10;

impl Default for Budget {
    /// [`MAX_PAGES`] and [`DEFAULT_RESULT_BYTES`].
    fn default() -> Self {
        Self::new(MAX_PAGES, DEFAULT_RESULT_BYTES)
    }
}

/// State shared by every tool call of a server.
#[derive(Debug, Default)]
pub struct Shared {
    /// Masking levels the API allows on tag policies, once a lookup has succeeded.
    pub tag_masking_levels: Mutex<Option<Vec<i64>>>,
}

/// What a handler gets: the ALTR client, the server's shared state, and what is known of the
/// call it serves.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub client: Arc<AltrClient>,
    pub shared: Arc<Shared>,
    /// The calling tool's effect (`None` outside a tool call): decides whether its requests may
    /// be repeated after a failure that may have been processed.
    pub effect: Option<Effect>,
    /// Cancelled when the client cancels the call or goes away.
    pub cancel: CancellationToken,
    /// Where this call reports progress, when the client asked for it.
    pub progress: Option<Progress>,
    /// Set on a dry run: writes are recorded here instead of sent ([`super::dryrun`]).
    pub dry_run: Option<Arc<Rehearsal>>,
    /// State of the MCP session the call belongs to, for tools that work on the server itself
    /// rather than on ALTR (support mode); none outside a session.
    pub session: Option<SessionState>,
    /// What the call may still read in pages and bytes, shared by its clones
    /// ([`super::paging`]).
    pub budget: Arc<Budget>,
    /// Whether the client renders the tool's MCP App ([`super::tool::ToolDef::app`]), so the
    /// handler should [`attach`](Ctx::attach) what the app draws.
    pub app: bool,
    /// What the handler attached for the app, returned in the result's `_meta` (never in the
    /// text the model reads); shared by the call's clones.
    pub attached: Arc<std::sync::Mutex<rmcp::model::JsonObject>>,
}

/// Per-session state handed to the tools that need it, of a type the registry does not know.
#[derive(Clone)]
pub struct SessionState(pub Arc<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionState").finish_non_exhaustive()
    }
}

/// The client of one tool call and the progress token it gave.
#[derive(Clone)]
pub struct Progress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

impl Ctx {
    pub fn new(client: Arc<AltrClient>) -> Self {
        Self {
            client,
            shared: Arc::new(Shared::default()),
            effect: None,
            cancel: CancellationToken::new(),
            progress: None,
            dry_run: None,
            session: None,
            budget: Arc::default(),
            app: false,
            attached: Arc::default(),
        }
    }

    /// The context of one call of a tool with this effect, sharing the client and state.
    pub fn for_call(&self, effect: Effect, cancel: CancellationToken) -> Self {
        Self {
            client: self.client.clone(),
            shared: self.shared.clone(),
            effect: Some(effect),
            cancel,
            progress: None,
            dry_run: None,
            session: None,
            budget: Arc::default(),
            app: false,
            attached: Arc::default(),
        }
    }

    /// Attach `value` under `key` to the result's `_meta`, for the client's MCP App.
    pub fn attach(&self, key: &str, value: serde_json::Value) {
        if let Ok(mut a) = self.attached.lock() {
            a.insert(key.to_string(), value);
        }
    }

    /// This context, reporting progress to `peer` under `token`.
    pub fn with_progress(mut self, peer: Peer<RoleServer>, token: ProgressToken) -> Self {
        self.progress = Some(Progress { peer, token });
        self
    }

    /// Tell the client how far a long call has got (nothing when it gave no progress token).
    pub async fn progress(&self, done: f64, total: Option<f64>, message: &str) {
        let Some(p) = &self.progress else { return };
        let mut param = ProgressNotificationParam::new(p.token.clone(), done);
        param.total = total;
        param.message = Some(message.to_string());
        if let Err(e) = p.peer.notify_progress(param).await {
            tracing::debug!(error = %e, "progress notification not sent");
        }
    }

    /// The session's state of type `T`, when the call belongs to a session that has one.
    pub fn session<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.session.as_ref().and_then(|s| s.0.downcast_ref::<T>())
    }

    /// Whether the client has cancelled this call.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The request as this call sends it: marked idempotent or not from the tool's effect, unless
    /// it already says.
    pub fn prepare(&self, req: ApiRequest) -> ApiRequest {
        match (req.idempotent, self.effect) {
            (None, Some(effect)) => req.idempotent(effect.is_idempotent()),
            _ => req,
        }
    }

    /// Send one request and return its JSON payload. A 2xx body saying `"success": false` is
    /// returned as it is, for the tool to report; if the tool returns it as its result, the
    /// server reports it as a failure (`upstream_unsuccessful`). Every other invalid answer (not
    /// JSON, empty where data was expected, `null`) is an error here.
    pub async fn send(&self, req: ApiRequest) -> ToolResult {
        let req = self.prepare(req).keep_unsuccessful();
        Ok(self.send_raw(&req).await?.1)
    }

    /// Send one request as it is, with its final HTTP status: the way past [`Ctx::send`] for
    /// tools that read the status or want the client's own checks, still subject to a dry run
    /// (a write is recorded and answered with [`dryrun::placeholder`], a read is sent).
    pub async fn send_raw(&self, req: &ApiRequest) -> Result<(u16, serde_json::Value), ApiError> {
        if let Some(rehearsal) = &self.dry_run {
            if !dryrun::is_read(req) {
                rehearsal.record(req);
                return Ok((200, dryrun::placeholder()));
            }
        }
        self.client.send_with_status(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientConfig, Service};

    #[test]
    fn the_effect_marks_requests_unless_they_say_themselves() {
        let client = Arc::new(AltrClient::new(ClientConfig::new(
            Default::default(),
            "k",
            "s",
        )));
        let ctx = Ctx::new(client);
        let put = || ApiRequest::put(Service::Api, "/x");
        assert_eq!(ctx.prepare(put()).idempotent, None);
        let additive = ctx.for_call(Effect::Additive, CancellationToken::new());
        assert_eq!(additive.prepare(put()).idempotent, Some(false));
        assert_eq!(
            additive.prepare(put().idempotent(true)).idempotent,
            Some(true)
        );
        for e in [Effect::ReadOnly, Effect::Idempotent, Effect::Destructive] {
            let c = ctx.for_call(e, CancellationToken::new());
            assert_eq!(c.prepare(put()).idempotent, Some(true), "{e:?}");
        }
    }
}
