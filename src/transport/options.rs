//! What the HTTP transports need from the settings.

use std::time::Duration;

use super::security::is_loopback_bind;
use crate::config::HttpSettings;

/// How long a shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the HTTP transports need: the settings' HTTP section.
pub type HttpOptions = HttpSettings;

impl HttpOptions {
    /// Refuse to expose an unauthenticated server beyond this machine unless told to.
    pub fn check_exposure(&self) -> Result<(), String> {
        let authenticated = self.auth_token.is_some()
            || !self.auth_tokens.is_empty()
            || self.oauth_issuer.is_some();
        if authenticated || is_loopback_bind(&self.host) {
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
            "refusing to serve MCP over HTTP on {}:{} without authentication: anyone who could reach it would act with your ALTR credentials. Set MCP_AUTH_TOKEN to a long random secret (clients then send `Authorization: Bearer <token>`), or turn on OAuth sign-in (MCP_OAUTH_ISSUER and MCP_PUBLIC_URL), or bind 127.0.0.1 (MCP_HOST), or set MCP_ALLOW_UNAUTHENTICATED=true if another layer already authenticates callers.",
            self.host, self.port
        ))
    }
}
