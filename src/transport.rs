//! The HTTP transports: streamable HTTP at `/mcp` ([`http`]) and legacy HTTP+SSE at `/sse` and
//! `/messages` ([`sse`]), both behind the same checks ([`security`]), plus `GET /healthz`
//! (liveness), `GET /readyz` (readiness: ALTR answers, [`ready`]) and, with OAuth sign-in on, the
//! protected-resource metadata ([`oauth`]).
//! (stdio is served directly by [`crate::cli::serve`].)
//!
//! Shutdown on SIGINT or SIGTERM: stop accepting connections and requests, let the requests in
//! flight finish (at most [`SHUTDOWN_GRACE`]), then close every stream and session.

pub mod conns;
pub mod http;
pub mod inflight;
pub mod oauth;
pub mod options;
pub mod owners;
pub mod ready;
pub mod security;
pub mod sse;
pub mod stdio;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use self::options::{HttpOptions, SHUTDOWN_GRACE};

use self::conns::{Admit, Conns, Tracked};
use self::inflight::Inflight;
use self::security::{GuardState, Policy};
use crate::config::{OAuthSettings, Transport};
use crate::server::AltrServer;

/// How long a shutdown waits for connections to close once the streams have ended.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

async fn healthz() -> (StatusCode, Json<serde_json::Value>) {
    (StatusCode::OK, Json(json!({"status": "ok"})))
}

/// The whole application: the transport's routes behind [`security::guard`], `/healthz`,
/// `/readyz`, and with OAuth on the protected-resource metadata (public, like the health check).
pub fn app(
    server: AltrServer,
    opts: &HttpOptions,
    oauth: Option<&OAuthSettings>,
    draining: CancellationToken,
    stop: CancellationToken,
    inflight: Arc<Inflight>,
) -> Router {
    let served = server.registry();
    let kinds = served
        .tools()
        .iter()
        .map(|t| crate::safety::permission::Kind::of(t.effect))
        .collect::<Vec<_>>();
    let resource = oauth.map(|o| Arc::new(oauth::resource::ResourceServer::new(o, kinds)));
    let names = oauth.map(|o| o.mapping.scopes.clone()).unwrap_or_default();
    let policy = Policy::new(
        &opts.allowed_hosts,
        &opts.allowed_origins,
        &opts.host,
        opts.auth_token.clone(),
    )
    .with_named_tokens(&opts.auth_tokens, &names)
    .with_oauth(resource.clone());
    let guard = GuardState {
        policy: Arc::new(policy),
        draining,
        inflight: inflight.clone(),
        body_timeout: opts.body_timeout,
        tools: server.registry(),
        owners: Arc::new(owners::Owners::new(opts.session_idle_timeout)),
    };
    let readyz = ready::route(&server);
    let mcp = match opts.transport {
        Transport::Sse => sse::router(server, opts, stop, inflight),
        _ => http::router(server, opts, stop),
    };
    let mut app = mcp
        .layer(axum::middleware::from_fn_with_state(guard, security::guard))
        .route("/healthz", get(healthz))
        .route("/readyz", readyz);
    if let Some(resource) = resource {
        // Read the identity provider's metadata and keys now: a wrong issuer shows in the log
        // at start-up rather than as the first client's 503.
        tokio::spawn({
            let resource = resource.clone();
            async move { resource.warm_up().await }
        });
        let document = Json(resource.metadata());
        for path in resource.metadata_paths() {
            let document = document.clone();
            app = app.route(&path, get(move || async move { document }));
        }
    }
    app
}

/// Waits for SIGINT or SIGTERM; the handlers are installed when this is created.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let int = signal(SignalKind::interrupt())
                .map_err(|e| format!("cannot handle SIGINT: {e}"))?;
            let term = signal(SignalKind::terminate())
                .map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
            Ok(Self { int, term })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

fn display_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// Whether an accept error means the process is out of file descriptors (EMFILE, ENFILE).
fn out_of_descriptors(e: &std::io::Error) -> bool {
    cfg!(unix) && matches!(e.raw_os_error(), Some(23 | 24))
}

/// Accept connections until `draining`, then wait for the open ones to finish. Every connection
/// gets TCP_NODELAY (a keep-alive request must not wait for a delayed ACK), a header-read timeout
/// that also closes idle keep-alive connections, and a graceful close when draining. At most
/// [`Conns::cap`] connections are open ([`conns`]): at the cap the longest-idle one is closed, or,
/// when none is idle, the new one is answered 503 at once.
async fn accept_loop(
    listener: TcpListener,
    app: Router,
    opts: &HttpOptions,
    draining: CancellationToken,
    conns: Arc<Conns>,
) -> Result<(), String> {
    let connections = Inflight::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout)
        .keep_alive(true);
    loop {
        let accepted = tokio::select! {
            _ = draining.cancelled() => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors (outside the cap's reserve) or a connection reset
                // before accept: free a descriptor held by an idle connection if there is one,
                // wait a little rather than spin, and keep serving.
                let freed = out_of_descriptors(&e) && conns.shed_idle();
                tracing::warn!(error = %e, closed_an_idle_connection = freed, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(if freed { 5 } else { 50 })).await;
                continue;
            }
        };
        let entry = match conns.admit() {
            Admit::Serve(entry) => Arc::new(entry),
            Admit::Refuse(refusing) => {
                let held = connections.enter();
                tokio::spawn(async move {
                    let _held = held;
                    conns::refuse(stream, refusing).await;
                });
                continue;
            }
            Admit::Drop => continue,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let held = connections.enter();
        let service = Tracked::new(TowerToHyperService::new(app.clone()), entry.clone());
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let draining = draining.clone();
        tokio::spawn(async move {
            let _held = held;
            let close = entry.state.close_requested().clone();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = draining.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
                _ = close.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(entry);
        });
    }
    drop(listener);
    // Connections close as their responses end; streams end when the server stops.
    while !connections.wait_idle(Duration::from_secs(3600)).await {}
    Ok(())
}

/// The connection table for this process's open-file limit.
fn connection_table() -> Arc<Conns> {
    let limit = conns::fd_limit();
    if limit.is_none() {
        tracing::debug!(
            assumed = conns::FALLBACK_FD_LIMIT,
            "could not read the open-file limit; assuming the default"
        );
    }
    Conns::new(limit.unwrap_or(conns::FALLBACK_FD_LIMIT))
}

/// Serve MCP over the configured HTTP transport until SIGINT or SIGTERM.
pub async fn serve(
    server: AltrServer,
    opts: HttpOptions,
    oauth: Option<OAuthSettings>,
) -> Result<(), String> {
    opts.check_exposure()?;
    let mut signals = Signals::install()?;
    let bind_host = opts.host.trim_start_matches('[').trim_end_matches(']');
    let listener = TcpListener::bind((bind_host, opts.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", opts.host, opts.port))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;

    if security::is_wildcard_bind(&opts.host) && opts.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening on every interface, but only loopback Host headers are accepted; set MCP_ALLOWED_HOSTS to the names clients use to reach this server"
        );
    }

    let draining = CancellationToken::new();
    let stop = CancellationToken::new();
    let inflight = Inflight::new();
    let app = app(
        server,
        &opts,
        oauth.as_ref(),
        draining.clone(),
        stop.clone(),
        inflight.clone(),
    );
    let conns = connection_table();
    let path = match opts.transport {
        Transport::Sse => "/sse",
        _ => "/mcp",
    };
    tracing::info!(
        transport = opts.transport.as_str(),
        auth = if oauth.is_some() {
            "oauth"
        } else if opts.auth_token.is_some() || !opts.auth_tokens.is_empty() {
            "bearer"
        } else {
            "none"
        },
        stateless = opts.stateless,
        max_connections = conns.cap(),
        "listening on {}, MCP endpoint {}{path}",
        display_url(addr),
        display_url(addr)
    );

    let serving = accept_loop(listener, app, &opts, draining.clone(), conns);
    let mut serving = std::pin::pin!(serving);
    let signal = tokio::select! {
        r = &mut serving => {
            return r.map_err(|e| format!("the HTTP server stopped: {e}"));
        }
        s = signals.recv() => s,
    };
    tracing::info!(
        in_flight = inflight.count(),
        "{signal} received: no longer accepting connections; waiting up to {} s for requests in flight",
        SHUTDOWN_GRACE.as_secs()
    );
    draining.cancel();
    let finished = tokio::select! {
        _ = &mut serving => true,
        idle = inflight.wait_idle(SHUTDOWN_GRACE) => {
            if !idle {
                tracing::warn!(in_flight = inflight.count(), "requests still running after {} s; stopping anyway", SHUTDOWN_GRACE.as_secs());
            }
            false
        }
        s = signals.recv() => {
            tracing::warn!(in_flight = inflight.count(), "{s} received again; stopping now");
            false
        }
    };
    stop.cancel();
    if !finished
        && tokio::time::timeout(CLOSE_GRACE, &mut serving)
            .await
            .is_err()
    {
        tracing::warn!("some connections did not close in time");
    }
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, Settings};

    fn opts(host: &str, token: Option<&str>, allow: bool) -> HttpOptions {
        HttpOptions {
            transport: Transport::StreamableHttp,
            host: host.into(),
            auth_token: token.map(Secret::new),
            allow_unauthenticated: allow,
            ..HttpOptions::default()
        }
    }

    #[test]
    fn a_public_bind_needs_a_token_or_an_explicit_opt_out() {
        for host in ["127.0.0.1", "localhost", "::1"] {
            assert_eq!(opts(host, None, false).check_exposure(), Ok(()), "{host}");
        }
        let err = opts("0.0.0.0", None, false).check_exposure().unwrap_err();
        assert!(err.contains("MCP_AUTH_TOKEN"), "{err}");
        assert!(err.contains("MCP_ALLOW_UNAUTHENTICATED=true"), "{err}");
        assert!(opts("10.0.0.5", None, false).check_exposure().is_err());
        assert_eq!(opts("0.0.0.0", Some("t"), false).check_exposure(), Ok(()));
        assert_eq!(opts("0.0.0.0", None, true).check_exposure(), Ok(()));
        // OAuth sign-in authenticates every caller: no shared token needed.
        let mut oauth = opts("0.0.0.0", None, false);
        oauth.oauth_issuer = Some("https://idp.example".into());
        assert_eq!(oauth.check_exposure(), Ok(()));
        assert!(err.contains("MCP_OAUTH_ISSUER"), "{err}");
    }

    #[test]
    fn options_come_from_settings_without_showing_the_token() {
        let s = Settings::load(
            &crate::config::Sources::from_pairs([
                ("ORG_ID", "o"),
                ("MAPI_KEY", "k"),
                ("MAPI_SECRET", "s"),
                ("MCP_TRANSPORT", "sse"),
                ("MCP_AUTH_TOKEN", "hunter2-token"),
                ("MCP_SESSION_IDLE_TIMEOUT", "42"),
            ]),
            crate::config::Purpose::Serve,
        )
        .unwrap();
        let o = &s.http;
        assert_eq!(o.transport, Transport::Sse);
        assert_eq!(o.session_idle_timeout, Duration::from_secs(42));
        assert_eq!(
            o.auth_token.as_ref().map(Secret::expose),
            Some("hunter2-token")
        );
        assert!(!format!("{o:?}").contains("hunter2"));
    }
}
