//! What the client knows of the tool call a request belongs to: its counts, retry rule,
//! cancellation and deadline, carried by a task-local.

use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::error::ApiError;
use super::request::ApiRequest;

/// Counts kept for the tool call a request belongs to (for the one-line call log).
#[derive(Debug, Default)]
pub struct CallStats {
    pub requests: AtomicU32,
    pub last_status: AtomicU16,
    /// The HTTP status of every answer received, retries included, in order (for the audit trail).
    pub statuses: std::sync::Mutex<Vec<u16>>,
}

/// What the client knows of the tool call a request belongs to: its counts, whether its
/// operation may be repeated, the client's cancellation, and the call's deadline. The server
/// sets it around each tool call ([`CALL`]); every request of the call checks it first, so a
/// cancelled or overdue call stops at the next request boundary.
#[derive(Debug, Default)]
pub struct CallContext {
    pub stats: CallStats,
    /// Whether the calling tool's operation is idempotent; used for requests without their own
    /// [`ApiRequest::idempotent`] override.
    pub idempotent: Option<bool>,
    /// Cancelled when the client cancels the call or goes away.
    pub cancel: CancellationToken,
    /// When the whole call must be over, and the limit it came from (CALL_TIMEOUT).
    pub deadline: Option<(tokio::time::Instant, Duration)>,
}

impl CallContext {
    pub fn new(
        idempotent: Option<bool>,
        cancel: CancellationToken,
        limit: Option<Duration>,
    ) -> Self {
        Self {
            stats: CallStats::default(),
            idempotent,
            cancel,
            deadline: limit.map(|l| (tokio::time::Instant::now() + l, l)),
        }
    }

    /// Requests of this call that got an answer or failed so far.
    pub fn completed(&self) -> u32 {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// Time left before the deadline, if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|(at, _)| at.saturating_duration_since(tokio::time::Instant::now()))
    }

    /// The error for stopping before (or, `in_flight`, during) `req`, if the call must stop.
    pub(super) fn stop_reason(&self, req: &ApiRequest, in_flight: bool) -> Option<ApiError> {
        if self.cancel.is_cancelled() {
            return Some(ApiError::Cancelled {
                method: req.method.to_string(),
                path: req.path.clone(),
                completed: self.completed(),
                in_flight,
            });
        }
        match self.deadline {
            Some((at, limit)) if tokio::time::Instant::now() >= at => Some(ApiError::Deadline {
                method: req.method.to_string(),
                path: req.path.clone(),
                limit_secs: limit.as_secs_f64(),
                completed: self.completed(),
                in_flight,
            }),
            _ => None,
        }
    }

    /// Wait until the call is cancelled or its deadline passes (forever when neither can happen).
    pub(super) async fn stopped(&self) {
        match self.deadline {
            Some((at, _)) => {
                tokio::select! {
                    _ = self.cancel.cancelled() => {}
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
            None => self.cancel.cancelled().await,
        }
    }
}

tokio::task_local! {
    /// Set by the server around each tool call.
    pub static CALL: Arc<CallContext>;
}

pub(super) fn current_call() -> Option<Arc<CallContext>> {
    CALL.try_with(Arc::clone).ok()
}

pub(super) fn record(call: Option<&CallContext>, status: Option<u16>) {
    if let Some(c) = call {
        c.stats.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(st) = status {
            c.stats.last_status.store(st, Ordering::Relaxed);
            if let Ok(mut all) = c.stats.statuses.lock() {
                all.push(st);
            }
        }
    }
}
