//! What the client needs (base URLs, credentials, limits), and the HTTP connection pool with TLS
//! built from it.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;

use super::retry::RetryPolicy;
use super::scrub::Scrubber;
use super::service::Service;

/// What the client needs, built by the command line from the settings (the client does not
/// know the settings).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_urls: BTreeMap<Service, String>,
    /// The full `Authorization` header value.
    pub authorization: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Largest success body read (MAX_RESPONSE_BYTES).
    pub max_response_bytes: usize,
    /// Our own credentials, removed from any upstream text before it is logged or returned.
    pub scrub: Scrubber,
}

impl ClientConfig {
    /// A configuration with Basic credentials and the defaults of every limit.
    pub fn new(base_urls: BTreeMap<Service, String>, key: &str, secret: &str) -> Self {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"));
        Self {
            base_urls,
            authorization: format!("Basic {basic}"),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy {
                max_attempts: 3,
                max_delay: Duration::from_secs(60),
            },
            max_response_bytes: 4 << 20,
            scrub: Scrubber::new([basic, secret.to_string()]),
        }
    }
}

/// The HTTP client could not be built (for example TLS could not be set up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot set up the HTTP client for the ALTR API (TLS): {0}")]
pub struct ClientBuildError(pub String);

pub(super) fn build_http(config: &ClientConfig) -> Result<reqwest::Client, ClientBuildError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("altr-mcp/", env!("CARGO_PKG_VERSION")))
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                detail.push_str(": ");
                detail.push_str(&s.to_string());
                source = s.source();
            }
            ClientBuildError(detail)
        })
}
