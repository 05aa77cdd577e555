//! What the HTTP transports need from the settings.

use std::time::Duration;

use super::security::is_loopback_bind;
use crate::config::patterns::{HostPattern, OriginPattern};
use crate::config::{Secret, Settings, Transport};

/// How long a shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the HTTP transports need from the settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub transport: Transport,
    pub host: String,
    pub port: u16,
    pub auth_token: Option<Secret>,
    /// Named bearer tokens (MCP_AUTH_TOKENS).
    pub auth_tokens: Vec<(String, Secret)>,
    pub allow_unauthenticated: bool,
    pub allowed_hosts: Vec<HostPattern>,
    pub allowed_origins: Vec<OriginPattern>,
    pub stateless: bool,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Most sessions open at once (MCP_MAX_SESSIONS); a new one beyond gets 503.
    pub max_sessions: usize,
    /// Time allowed for a request's headers, and for an idle keep-alive connection.
    pub header_timeout: Duration,
    /// Time allowed for a request body.
    pub body_timeout: Duration,
}

impl HttpOptions {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            transport: s.transport,
            host: s.host.clone(),
            port: s.port,
            auth_token: s.auth_token.clone(),
            auth_tokens: s.auth_tokens.clone(),
            allow_unauthenticated: s.allow_unauthenticated,
            allowed_hosts: s.allowed_hosts.clone(),
            allowed_origins: s.allowed_origins.clone(),
            stateless: s.stateless,
            idle_timeout: s.session_idle_timeout,
            shutdown_grace: SHUTDOWN_GRACE,
            max_sessions: s.max_sessions,
            header_timeout: s.header_timeout,
            body_timeout: s.body_timeout,
        }
    }

    /// Refuse to expose an unauthenticated server beyond this machine unless told to.
    pub fn check_exposure(&self) -> Result<(), String> {
        if self.auth_token.is_some() || !self.auth_tokens.is_empty() || is_loopback_bind(&self.host)
        {
            return Ok(());
        }
        if self.allow_unauthenticated {
            tracing::warn!(
                host = %self.host,
                "serving without authentication on a non-loopback address (MCP_ALLOW_UNAUTHENTICATED=true): anyone who can reach it can use your ALTR credentials"
            );
            return Ok(());
        }
        Err(format!(
            "refusing to serve MCP over HTTP on {}:{} without authentication: anyone who could reach it would act with your ALTR credentials. Set MCP_AUTH_TOKEN to a long random secret (clients then send `Authorization: Bearer <token>`), or bind 127.0.0.1 (MCP_HOST), or set MCP_ALLOW_UNAUTHENTICATED=true if another layer already authenticates callers.",
            self.host, self.port
        ))
    }
}
