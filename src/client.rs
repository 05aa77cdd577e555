//! The ALTR HTTP client: the ten services and their base URLs, HTTP Basic auth on every attempt,
//! a per-attempt timeout, the retry policy of [`retry`], percent-encoded paths and auto-paging.
//! It knows nothing of MCP: it takes an [`ApiRequest`] and gives back JSON or an [`ApiError`].
//!
//! This file holds [`AltrClient`] and its send loop; [`service`] the services and their base
//! URLs, [`path`] path encoding, [`request`] the request builder, [`call`] the per-call context
//! (counts, retry rule, cancellation, deadline) carried by a task-local, [`config`] the client's
//! configuration and TLS, [`retry`] the retry policy, [`error`] the failures, [`scrub`] the
//! removal of our credentials from upstream text.

pub mod call;
pub mod config;
pub mod error;
pub mod path;
pub mod request;
pub mod retry;
pub mod scrub;
pub mod service;

use std::time::{Duration, Instant, SystemTime};

pub use reqwest::Method;
use serde_json::Value;
use tracing::Instrument;

use crate::logging::traces;
use call::{current_call, record};
pub use call::{CallContext, CallStats, CALL};
use config::build_http;
pub use config::{ClientBuildError, ClientConfig};
pub use error::ApiError;
pub use path::{path, seg, seg_decoded, PathError, Seg};
pub use request::ApiRequest;
use retry::{Decision, Outcome};
pub use service::Service;

/// The largest error body read from ALTR; only its first few hundred characters are kept.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The shared, retrying ALTR client, with its HTTP connection pool built once, at creation.
pub struct AltrClient {
    config: ClientConfig,
    http: Result<reqwest::Client, ClientBuildError>,
}

impl std::fmt::Debug for AltrClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AltrClient")
            .field("base_urls", &self.config.base_urls)
            .finish_non_exhaustive()
    }
}

/// What one attempt gave.
enum Attempt {
    Response {
        status: u16,
        retry_after: Option<String>,
        body: Vec<u8>,
    },
    /// A success body larger than MAX_RESPONSE_BYTES (not read further).
    TooLarge {
        status: u16,
    },
    Timeout,
    Connection(String),
}

impl AltrClient {
    /// Build the client. Should the HTTP stack fail to build, every request fails with that
    /// error; use [`AltrClient::try_new`] to fail at start instead.
    pub fn new(config: ClientConfig) -> Self {
        let http = build_http(&config);
        Self { config, http }
    }

    /// Build the client, or say why the HTTP stack (TLS) could not be set up.
    pub fn try_new(config: ClientConfig) -> Result<Self, ClientBuildError> {
        let http = build_http(&config)?;
        Ok(Self {
            config,
            http: Ok(http),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The full URL of a request (without its query string).
    pub fn url_of(&self, req: &ApiRequest) -> String {
        let base = self
            .config
            .base_urls
            .get(&req.service)
            .map(String::as_str)
            .unwrap_or_default();
        format!("{base}{}", req.path)
    }

    /// Send a request with retries; the parsed JSON body on success (`null` when a write is
    /// answered with no body). A body that is not JSON, `null`, or `{"success": false}` is an
    /// error, never a success.
    pub async fn send(&self, req: &ApiRequest) -> Result<Value, ApiError> {
        self.send_with_status(req).await.map(|(_, v)| v)
    }

    /// As [`send`](Self::send), with the final HTTP status.
    pub async fn send_with_status(&self, req: &ApiRequest) -> Result<(u16, Value), ApiError> {
        let call = current_call();
        let call = call.as_deref();
        let url = self.url_of(req);
        let idempotent = req
            .idempotent
            .or(call.and_then(|c| c.idempotent))
            .unwrap_or_else(|| retry::is_idempotent(&req.method));
        // What an earlier attempt of this request did, when it may have been applied.
        let mut earlier: Option<&'static str> = None;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(stop) = call.and_then(|c| c.stop_reason(req, false)) {
                return Err(stop);
            }
            let timeout = match call.and_then(CallContext::remaining) {
                Some(left) => self.config.timeout.min(left.max(Duration::from_millis(1))),
                None => self.config.timeout,
            };
            let started = Instant::now();
            let span = traces::request_span(
                req.service.id(),
                method_label(&req.method),
                &url,
                &req.route,
                attempt - 1,
            );
            let result = match call {
                // A read (or any idempotent operation) in flight is abandoned at once; a write
                // that may not be repeated is let finish (within its timeout) so its outcome is
                // known, and the call stops before the next request.
                Some(c) if idempotent => {
                    tokio::select! {
                        r = self.attempt(req, &url, timeout).instrument(span.clone()) => r,
                        _ = c.stopped() => {
                            record(call, None);
                            return Err(c.stop_reason(req, true).unwrap_or(ApiError::Cancelled {
                                method: req.method.to_string(),
                                path: req.path.clone(),
                                completed: c.completed(),
                                in_flight: true,
                            }));
                        }
                    }
                }
                _ => {
                    self.attempt(req, &url, timeout)
                        .instrument(span.clone())
                        .await
                }
            };
            // An attempt cut short by the call's deadline (or cancelled) ends the call.
            if matches!(result, Attempt::Timeout | Attempt::Connection(_)) {
                if let Some(stop) = call.and_then(|c| c.stop_reason(req, true)) {
                    record(call, None);
                    return Err(stop);
                }
            }
            let outcome = match &result {
                Attempt::Response {
                    status,
                    retry_after,
                    ..
                } => Outcome::Status(*status, retry_after.as_deref()),
                Attempt::TooLarge { status } => Outcome::Status(*status, None),
                Attempt::Timeout => Outcome::Timeout,
                Attempt::Connection(_) => Outcome::Connection,
            };
            let status = match &result {
                Attempt::Response { status, .. } | Attempt::TooLarge { status } => Some(*status),
                _ => None,
            };
            tracing::debug!(
                method = %req.method,
                path = %req.path,
                status,
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "upstream request"
            );
            record(call, status);
            let no_answer = match outcome {
                Outcome::Timeout => "timeout",
                _ => "connection",
            };
            traces::record_response(&span, status, no_answer);
            crate::metrics::altr_request(
                req.service.id(),
                method_label(&req.method),
                status,
                no_answer,
                started.elapsed().as_secs_f64(),
            );
            let decision = retry::decide(
                idempotent,
                outcome,
                attempt,
                self.config.retry,
                SystemTime::now(),
                rand::random::<f64>(),
            );
            match decision {
                Decision::RetryAfter(wait) => {
                    let reason = match outcome {
                        Outcome::Timeout => "timeout",
                        Outcome::Connection => "connection",
                        Outcome::Status(429, _) => "429",
                        Outcome::Status(500..=599, _) => "5xx",
                        Outcome::Status(..) => "other",
                    };
                    crate::metrics::altr_retry(req.service.id(), reason);
                    earlier = match outcome {
                        Outcome::Timeout => Some("timed out"),
                        Outcome::Connection => Some("lost its connection"),
                        Outcome::Status(500 | 502 | 504, _) => Some("failed with a server error"),
                        _ => earlier,
                    };
                    tracing::debug!(method = %req.method, path = %req.path, attempt, wait_ms = wait.as_millis() as u64, "retrying upstream request");
                    if let Some(c) = call {
                        // A wait that outlasts the call's deadline ends the call now.
                        if c.remaining().is_some_and(|left| left < wait) {
                            return self.finish(req, result, attempt, true, earlier);
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = c.stopped() => {}
                        }
                    } else {
                        tokio::time::sleep(wait).await;
                    }
                }
                Decision::Stop | Decision::Exhausted => {
                    return self.finish(req, result, attempt, true, earlier);
                }
            }
        }
    }

    fn finish(
        &self,
        req: &ApiRequest,
        result: Attempt,
        attempts: u32,
        strict: bool,
        earlier: Option<&'static str>,
    ) -> Result<(u16, Value), ApiError> {
        let method = req.method.to_string();
        let path = req.path.clone();
        let scrub = &self.config.scrub;
        match result {
            Attempt::Response { status, body, .. } if (200..300).contains(&status) => {
                let text = String::from_utf8_lossy(&body);
                let invalid = |detail: String| ApiError::InvalidResponse {
                    method: method.clone(),
                    path: path.clone(),
                    detail,
                };
                if text.trim().is_empty() {
                    // A write answered with no body is fine; a read that returns nothing is not.
                    if strict && status != 204 && (req.method == Method::GET) {
                        return Err(invalid(format!(
                            "HTTP {status} with an empty body where data was expected"
                        )));
                    }
                    return Ok((status, Value::Null));
                }
                let mut value = match serde_json::from_str::<Value>(&text) {
                    Ok(v) => v,
                    Err(_) if !strict => Value::String(scrub.text(&text).into_owned()),
                    Err(e) => {
                        return Err(invalid(format!(
                            "HTTP {status} with a body that is not JSON ({}; it starts with {:?})",
                            if e.is_eof() { "cut short" } else { "not JSON" },
                            error::truncate(
                                &scrub
                                    .text(text.trim())
                                    .split_whitespace()
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                60
                            )
                        )))
                    }
                };
                if strict && value.is_null() {
                    return Err(invalid(format!("HTTP {status} with the body `null`")));
                }
                if strict
                    && !req.keep_unsuccessful
                    && value.get("success") == Some(&Value::Bool(false))
                {
                    return Err(ApiError::Unsuccessful {
                        method,
                        path,
                        status,
                        message: error::upstream_message(&scrub.text(&text)),
                    });
                }
                scrub.value(&mut value);
                Ok((status, value))
            }
            Attempt::Response { status, .. }
                if status == 404 && earlier.is_some() && req.method == Method::DELETE =>
            {
                Err(ApiError::ProbablyApplied {
                    method,
                    path,
                    attempts,
                    earlier: earlier.unwrap_or("failed").to_string(),
                })
            }
            Attempt::Response { status, body, .. } => Err(ApiError::Http {
                method,
                path,
                status,
                message: error::upstream_message(&scrub.text(&String::from_utf8_lossy(&body))),
                attempts,
            }),
            Attempt::TooLarge { .. } => Err(ApiError::TooLarge {
                method,
                path,
                limit: self.config.max_response_bytes,
            }),
            Attempt::Timeout => Err(ApiError::Timeout {
                method,
                path,
                timeout_secs: self.config.timeout.as_secs_f64(),
                attempts,
            }),
            Attempt::Connection(detail) => Err(ApiError::Connection {
                method,
                path,
                detail: scrub.text(&detail).into_owned(),
                attempts,
            }),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, Attempt> {
        self.http
            .as_ref()
            .map_err(|e| Attempt::Connection(e.to_string()))
    }

    async fn attempt(&self, req: &ApiRequest, url: &str, timeout: Duration) -> Attempt {
        let http = match self.http() {
            Ok(h) => h,
            Err(a) => return a,
        };
        let mut builder = http
            .request(req.method.clone(), url)
            .timeout(timeout)
            .header(reqwest::header::AUTHORIZATION, &self.config.authorization)
            .header(reqwest::header::ACCEPT, "application/json");
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        match builder.send().await {
            Ok(r) => self.read(r).await,
            Err(e) => classify(e),
        }
    }

    /// Read a response body, bounded: a success body beyond MAX_RESPONSE_BYTES is refused
    /// without reading the rest; an error body is cut at [`MAX_ERROR_BODY_BYTES`].
    async fn read(&self, mut response: reqwest::Response) -> Attempt {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let success = (200..300).contains(&status);
        let limit = if success {
            self.config.max_response_bytes
        } else {
            MAX_ERROR_BODY_BYTES
        };
        if success && response.content_length().is_some_and(|n| n > limit as u64) {
            return Attempt::TooLarge { status };
        }
        let mut body: Vec<u8> = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        if success {
                            return Attempt::TooLarge { status };
                        }
                        let room = limit.saturating_sub(body.len());
                        body.extend(chunk.iter().take(room));
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return classify(e),
            }
        }
        Attempt::Response {
            status,
            retry_after,
            body,
        }
    }

    /// Fetch an absolute URL without credentials (a presigned download link), one attempt; the
    /// body is returned as JSON when it is JSON and as text otherwise, bounded like any other.
    pub async fn get_unauthenticated(&self, url: &str) -> Result<(u16, Value), ApiError> {
        let shown = url.split('?').next().unwrap_or_default().to_string();
        let req = ApiRequest::get(Service::Api, shown);
        if let Some(stop) = current_call().and_then(|c| c.stop_reason(&req, false)) {
            return Err(stop);
        }
        let result = match self.http() {
            Err(a) => a,
            Ok(http) => match http.get(url).send().await {
                Ok(r) => self.read(r).await,
                Err(e) => classify(e),
            },
        };
        self.finish(&req, result, 1, false, None)
    }
}

/// Turn a reqwest error into an attempt outcome, keeping URLs (and their query strings) out.
fn classify(e: reqwest::Error) -> Attempt {
    if e.is_timeout() {
        return Attempt::Timeout;
    }
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    Attempt::Connection(error::truncate(&detail, 300))
}

/// An HTTP method as a metrics label (a closed set).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {}
