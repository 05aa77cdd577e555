//! `GET /readyz`: whether the server can serve now. It answers 200 `{"status": "ready"}` when
//! ALTR (or, with `--sandbox`, the sandbox: the configured base URL either way) answered one cheap
//! authenticated read, and 503 `{"status": "not_ready", "reason": "..."}` otherwise. The settings
//! need no check: the server would not have started with invalid ones.
//!
//! The read is `GET /api/userGroups?offset=0` on ALTRnet, the first page `get_roles` reads: small
//! (one page of role names), read-only, and served by the sandbox too. It goes out with the
//! server's own client settings (base URLs, credentials, TLS) but its own short limit
//! ([`PROBE_TIMEOUT`], or REQUEST_TIMEOUT when smaller) and one attempt, and it is no tool call:
//! nothing is audited or logged as a call.
//!
//! A check starts at most once per [`INTERVAL`], whatever the probe rate. Probes in between are
//! answered at once from the last result, also while the next check runs; only probes before the
//! first result wait for it, and they all share that one check. The check runs in its own task,
//! so a probe that gives up does not cancel it.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
use axum::Json;
use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::json;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::client::{AltrClient, ApiError, ApiRequest, Service};
use crate::server::AltrServer;

/// The least time between two checks of ALTR.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// The longest a check waits for ALTR (less when REQUEST_TIMEOUT is smaller).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a check found: ready, or why not (short, and never a secret).
pub type Outcome = Result<(), String>;

/// One check of whatever the server depends on.
pub type Check = Arc<dyn Fn() -> BoxFuture<'static, Outcome> + Send + Sync>;

/// The readiness of one server: the check, and what the last one found.
pub struct Readiness {
    check: Check,
    interval: Duration,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// When the last check started.
    started: Option<Instant>,
    /// What the last finished check found.
    latest: Option<Outcome>,
    /// The check under way, for the probes that have no result to be answered with yet.
    running: Option<Shared<BoxFuture<'static, Outcome>>>,
}

impl Readiness {
    /// Readiness decided by `check`, run at most once per `interval`.
    pub fn new(check: Check, interval: Duration) -> Self {
        Self {
            check,
            interval,
            state: Arc::default(),
        }
    }

    /// The readiness of `server`: the ALTR read of [`probe`] with the server's client settings,
    /// at most once per [`INTERVAL`].
    pub fn of(server: &AltrServer) -> Self {
        // The server's client settings, with the probe's own limit and a single attempt.
        let mut config = server.probe_ctx().client.config().clone();
        let timeout = config.timeout.min(PROBE_TIMEOUT);
        config.timeout = timeout;
        config.retry.max_attempts = 1;
        let client = AltrClient::try_new(config)
            .map(Arc::new)
            .map_err(|e| e.to_string());
        let check: Check = Arc::new(move || match &client {
            Ok(client) => probe(client.clone(), timeout).boxed(),
            Err(e) => futures::future::ready(Err(e.clone())).boxed(),
        });
        Self::new(check, INTERVAL)
    }

    /// Whether the server is ready: the last result, after starting a check when the last one
    /// started an interval ago or more (waiting for it only when there is no result yet).
    pub async fn status(&self) -> Outcome {
        let running = {
            let mut state = self.state.lock().await;
            if state.started.is_none_or(|at| at.elapsed() >= self.interval) {
                state.started = Some(Instant::now());
                state.running = Some(self.start_check());
            }
            match (&state.latest, &state.running) {
                (Some(latest), _) => return latest.clone(),
                (None, Some(running)) => running.clone(),
                (None, None) => return Err("the readiness check did not run".into()),
            }
        };
        running.await
    }

    /// Run the check in its own task, which records what it found.
    fn start_check(&self) -> Shared<BoxFuture<'static, Outcome>> {
        let check = self.check.clone();
        let state = self.state.clone();
        let task = tokio::spawn(async move {
            let outcome = check().await;
            let mut state = state.lock().await;
            if state.latest.as_ref() != Some(&outcome) {
                match &outcome {
                    Ok(()) => tracing::info!("ready: ALTR answered"),
                    Err(reason) => tracing::warn!(%reason, "not ready"),
                }
            }
            state.latest = Some(outcome.clone());
            state.running = None;
            outcome
        });
        async move {
            task.await
                .unwrap_or_else(|_| Err("the readiness check failed".into()))
        }
        .boxed()
        .shared()
    }
}

/// The read that tells whether ALTR can be used: one attempt of `GET /api/userGroups?offset=0`
/// on ALTRnet, within `timeout`.
pub async fn probe(client: Arc<AltrClient>, timeout: Duration) -> Outcome {
    let req = ApiRequest::get(Service::AltrNet, "/api/userGroups").query("offset", 0);
    // The client bounds the attempt already; this also bounds anything around it.
    let margin = Duration::from_millis(500);
    match tokio::time::timeout(timeout + margin, client.send(&req)).await {
        Err(_) => Err(no_answer(timeout)),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => reason(&e, timeout),
    }
}

fn no_answer(timeout: Duration) -> String {
    format!("ALTR did not answer within {} s", timeout.as_secs_f64())
}

/// Why a failed read means not ready, in a few words (never a credential: the client's errors
/// carry none). An answer too large to read still shows ALTR up and the credentials taken.
fn reason(e: &ApiError, timeout: Duration) -> Outcome {
    Err(match e {
        ApiError::TooLarge { .. } => return Ok(()),
        ApiError::Http {
            status: status @ (401 | 403),
            ..
        } => format!("ALTR refused the credentials (HTTP {status})"),
        ApiError::Http { status, .. } => format!("ALTR answered HTTP {status}"),
        ApiError::Timeout { .. } => no_answer(timeout),
        ApiError::Connection { detail, .. } => {
            // The innermost cause ("Connection refused", "failed to lookup address ...").
            let cause = detail.rsplit(": ").next().unwrap_or(detail);
            format!(
                "ALTR could not be reached ({})",
                crate::client::error::truncate(cause, 100)
            )
        }
        ApiError::Unsuccessful { status, .. } => {
            format!("ALTR answered HTTP {status} but said the read did not succeed")
        }
        ApiError::InvalidResponse { .. } => "ALTR answered with something that is not a result \
             (check any ALTR_*_BASE_URL override)"
            .to_string(),
        _ => "the ALTR check did not complete".to_string(),
    })
}

/// The answer of `GET /readyz` for an outcome.
pub fn response(outcome: Outcome) -> impl IntoResponse {
    let (status, body) = match outcome {
        Ok(()) => (StatusCode::OK, json!({"status": "ready"})),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not_ready", "reason": reason}),
        ),
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body))
}

/// The `GET /readyz` route for `server` (public, like `/healthz`).
pub fn route(server: &AltrServer) -> MethodRouter {
    let readiness = Arc::new(Readiness::of(server));
    get(move || async move { response(readiness.status().await) })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A check that counts its runs, takes `takes`, and answers what `answer` holds then.
    fn counted(
        takes: Duration,
        answer: Arc<std::sync::Mutex<Outcome>>,
    ) -> (Check, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let check: Check = Arc::new({
            let runs = runs.clone();
            move || {
                let runs = runs.clone();
                let answer = answer.clone();
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(takes).await;
                    answer.lock().unwrap().clone()
                }
                .boxed()
            }
        });
        (check, runs)
    }

    fn answer(outcome: Outcome) -> Arc<std::sync::Mutex<Outcome>> {
        Arc::new(std::sync::Mutex::new(outcome))
    }

    /// Let spawned tasks run.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_check_per_interval_whatever_the_probe_rate() {
        let (check, runs) = counted(Duration::from_millis(100), answer(Ok(())));
        let r = Readiness::new(check, INTERVAL);
        for _ in 0..20 {
            assert_eq!(r.status().await, Ok(()));
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(r.status().await, Ok(()));
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "a new check after 30 s");
    }

    #[tokio::test(start_paused = true)]
    async fn probes_before_the_first_result_share_one_check() {
        let (check, runs) = counted(Duration::from_secs(2), answer(Err("down".into())));
        let r = Arc::new(Readiness::new(check, INTERVAL));
        let probes: Vec<_> = (0..10)
            .map(|_| {
                let r = r.clone();
                tokio::spawn(async move { r.status().await })
            })
            .collect();
        for p in probes {
            assert_eq!(p.await.unwrap(), Err("down".to_string()));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_is_cached_too_and_the_next_check_replaces_it() {
        let now = answer(Err("ALTR answered HTTP 503".into()));
        let (check, runs) = counted(Duration::from_millis(100), now.clone());
        let r = Readiness::new(check, INTERVAL);
        assert_eq!(r.status().await, Err("ALTR answered HTTP 503".into()));
        *now.lock().unwrap() = Ok(());
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(
            r.status().await.is_err(),
            "cached until the interval is over"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        // This probe starts the next check and is answered from the last result meanwhile.
        assert!(r.status().await.is_err());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(r.status().await, Ok(()));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_gives_up_does_not_cancel_the_check() {
        let (check, runs) = counted(Duration::from_secs(3), answer(Ok(())));
        let r = Readiness::new(check, INTERVAL);
        let gave_up = tokio::time::timeout(Duration::from_secs(1), r.status()).await;
        assert!(gave_up.is_err());
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(r.status().await, Ok(()));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn reasons_are_short_and_name_what_failed() {
        let five = Duration::from_secs(5);
        let http = |status| ApiError::Http {
            method: "GET".into(),
            path: "/api/userGroups".into(),
            status,
            message: "nope".into(),
            attempts: 1,
        };
        assert_eq!(
            reason(&http(401), five),
            Err("ALTR refused the credentials (HTTP 401)".into())
        );
        assert_eq!(
            reason(&http(403), five),
            Err("ALTR refused the credentials (HTTP 403)".into())
        );
        assert_eq!(
            reason(&http(503), five),
            Err("ALTR answered HTTP 503".into())
        );
        let timeout = ApiError::Timeout {
            method: "GET".into(),
            path: "/api/userGroups".into(),
            timeout_secs: 5.0,
            attempts: 1,
        };
        assert_eq!(
            reason(&timeout, five),
            Err("ALTR did not answer within 5 s".into())
        );
        assert_eq!(
            no_answer(Duration::from_millis(500)),
            "ALTR did not answer within 0.5 s"
        );
        let refused = ApiError::Connection {
            method: "GET".into(),
            path: "/api/userGroups".into(),
            detail: "error sending request: client error (Connect): tcp connect error: \
                     Connection refused (os error 111)"
                .into(),
            attempts: 1,
        };
        assert_eq!(
            reason(&refused, five),
            Err("ALTR could not be reached (Connection refused (os error 111))".into())
        );
        let large = ApiError::TooLarge {
            method: "GET".into(),
            path: "/api/userGroups".into(),
            limit: 1,
        };
        assert_eq!(reason(&large, five), Ok(()));
    }
}
