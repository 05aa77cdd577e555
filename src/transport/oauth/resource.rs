//! This server as an OAuth 2.1 resource server (the MCP authorization specification): its
//! protected-resource metadata (RFC 9728), the `WWW-Authenticate` challenges of a refused request
//! (RFC 6750), and a valid access token turned into the caller's identity and permission.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::validate::{Introspection, TokenError, Validator, ValidatorConfig};
use crate::config::OAuthSettings;
use crate::safety::caller::Identity;
use crate::safety::permission::{ClaimMapping, Kind};

/// The well-known path of protected-resource metadata.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The resource server: what it publishes and how it checks a token.
pub struct ResourceServer {
    /// MCP_PUBLIC_URL.
    resource: String,
    issuer: String,
    /// Where clients find the metadata (the path-suffixed form for the MCP endpoint's path).
    metadata_url: String,
    mapping: ClaimMapping,
    /// The kinds of tool this server serves (read-only mode serves no writes, clear text only
    /// with ALTR_ALLOW_CLEARTEXT): the scopes worth asking for.
    served: Vec<Kind>,
    validator: Validator,
    /// Tokens already checked, so a client sending the same token on every request pays the
    /// signature check once a minute, not every time.
    checked: TokenCache,
}

impl std::fmt::Debug for ResourceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServer")
            .field("resource", &self.resource)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl ResourceServer {
    /// The resource server for these settings, serving tools of these kinds.
    pub fn new(settings: &OAuthSettings, served: impl IntoIterator<Item = Kind>) -> ResourceServer {
        let mut served: Vec<Kind> = served.into_iter().collect();
        served.sort();
        served.dedup();
        let mut config = ValidatorConfig::new(settings.issuer.clone(), settings.audiences.clone());
        config.jwks_url = settings.jwks_url.clone();
        config.introspection =
            settings
                .introspection
                .as_ref()
                .map(|(url, client_id, client_secret)| Introspection {
                    url: url.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                });
        ResourceServer {
            resource: settings.public_url.clone(),
            issuer: settings.issuer.clone(),
            metadata_url: metadata_url(&settings.public_url),
            mapping: settings.mapping.clone(),
            served,
            validator: Validator::new(config),
            checked: TokenCache::default(),
        }
    }

    /// The paths the metadata is served at: the well-known path, and it suffixed with the MCP
    /// endpoint's path (`/.well-known/oauth-protected-resource/mcp`).
    pub fn metadata_paths(&self) -> Vec<String> {
        let mut paths = vec![METADATA_PATH.to_string()];
        let suffix = resource_path(&self.resource);
        if !suffix.is_empty() {
            paths.push(format!("{METADATA_PATH}{suffix}"));
        }
        paths
    }

    /// The protected-resource metadata document (RFC 9728).
    pub fn metadata(&self) -> Value {
        json!({
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "scopes_supported": self.served.iter().map(|k| self.mapping.scopes.name(*k)).collect::<Vec<_>>(),
            "bearer_methods_supported": ["header"],
            "resource_name": "altr-mcp",
        })
    }

    /// The scope a client should ask for first: least privilege, the read scope (a call that
    /// needs more is answered 403 with the scope it needs, and the client can step up).
    fn scope_list(&self) -> String {
        let first = if self.served.contains(&Kind::Read) {
            Kind::Read
        } else {
            self.served.first().copied().unwrap_or(Kind::Read)
        };
        self.mapping.scopes.name(first).to_string()
    }

    /// 401 for a request without a valid access token: the challenge names the metadata and the
    /// scopes, and (when a token was sent) why it was refused. Nothing of the token is shown.
    pub fn unauthorized(&self, error: Option<TokenError>) -> Response {
        let mut challenge = format!(
            "Bearer resource_metadata=\"{}\", scope=\"{}\"",
            self.metadata_url,
            self.scope_list()
        );
        let body = match error {
            None => "Unauthorized: sign in; this server takes OAuth access tokens (see WWW-Authenticate: resource_metadata)".to_string(),
            Some(e) => {
                challenge.push_str(&format!(
                    ", error=\"invalid_token\", error_description=\"{}\"",
                    e.description()
                ));
                format!("Unauthorized: invalid access token ({})", e.description())
            }
        };
        challenge_response(StatusCode::UNAUTHORIZED, challenge, body)
    }

    /// 403 for a call beyond the caller's permission: the scope it needs, so the client can ask
    /// for more (step-up).
    pub fn insufficient_scope(&self, scope: &str, tool: &str) -> Response {
        let challenge = format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\", resource_metadata=\"{}\", error_description=\"{tool} needs the scope {scope}\"",
            self.metadata_url
        );
        challenge_response(
            StatusCode::FORBIDDEN,
            challenge,
            format!(
                "Forbidden: {tool} needs the scope {scope}, which this access token does not carry"
            ),
        )
    }

    /// Load the identity provider's keys now, logging the outcome (see [`Validator::warm_up`]).
    pub async fn warm_up(&self) {
        if self.validator.warm_up().await {
            tracing::info!(issuer = %self.issuer, "OAuth: the identity provider's keys are loaded");
        }
    }

    /// The caller a valid access token names, and what it may do.
    pub async fn identify(&self, token: &str) -> Result<Identity, TokenError> {
        let now = Instant::now();
        if let Some(known) = self.checked.get(token, now) {
            return Ok(known);
        }
        let claims = self.validator.validate(token).await?;
        let found = identity(&claims, &self.mapping).ok_or(TokenError::Malformed)?;
        let left = claims
            .get("exp")
            .and_then(Value::as_f64)
            .map(|exp| exp - crate::clock::now_secs() as f64)
            .unwrap_or(0.0);
        if left > 0.0 {
            let until = now + CACHE_TIME.min(Duration::from_secs_f64(left));
            self.checked.put(token, found.clone(), until, now);
        }
        Ok(found)
    }
}

/// How long a checked token is taken on trust (never past its `exp`).
const CACHE_TIME: Duration = Duration::from_secs(60);
/// Most tokens remembered; beyond, the expired ones go, then all.
const CACHE_ENTRIES: usize = 1024;

/// Identities of tokens already checked, keyed by the token's SHA-256 (the token itself is not
/// kept), each until a moment no later than the token's expiry.
#[derive(Default)]
struct TokenCache(Mutex<HashMap<[u8; 32], (Identity, Instant)>>);

impl TokenCache {
    fn key(token: &str) -> [u8; 32] {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        key
    }

    fn get(&self, token: &str, now: Instant) -> Option<Identity> {
        let seen = self.0.lock().ok()?;
        let (identity, until) = seen.get(&Self::key(token))?;
        (now < *until).then(|| identity.clone())
    }

    fn put(&self, token: &str, identity: Identity, until: Instant, now: Instant) {
        if let Ok(mut seen) = self.0.lock() {
            if seen.len() >= CACHE_ENTRIES {
                seen.retain(|_, (_, u)| now < *u);
                if seen.len() >= CACHE_ENTRIES {
                    seen.clear();
                }
            }
            seen.insert(Self::key(token), (identity, until));
        }
    }
}

/// The identity of a token's claims: `sub` (required), the user's email or preferred_username,
/// and the permission its scopes and groups carry.
fn identity(claims: &Map<String, Value>, mapping: &ClaimMapping) -> Option<Identity> {
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    let user = ["email", "preferred_username", "upn"]
        .iter()
        .find_map(|c| claims.get(*c).and_then(Value::as_str))
        .map(str::to_string);
    Some(Identity {
        name: sub.chars().take(200).collect(),
        user,
        permission: Some(Arc::new(mapping.permission(claims))),
    })
}

/// A plain-text response with a `WWW-Authenticate` challenge.
fn challenge_response(status: StatusCode, challenge: String, body: String) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The path of the resource URL, without a trailing slash (`/mcp`), or empty.
fn resource_path(resource: &str) -> String {
    reqwest::Url::parse(resource)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// The metadata URL for a resource URL: the well-known path inserted between the origin and the
/// resource's path (RFC 9728, section 3.1).
fn metadata_url(resource: &str) -> String {
    match reqwest::Url::parse(resource) {
        Ok(u) => format!(
            "{}{METADATA_PATH}{}",
            u.origin().ascii_serialization(),
            resource_path(resource)
        ),
        Err(_) => format!("{}{METADATA_PATH}", resource.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_sits_between_origin_and_path() {
        assert_eq!(
            metadata_url("https://altr.example.com/mcp"),
            "https://altr.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://altr.example.com:8443/"),
            "https://altr.example.com:8443/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn checked_tokens_are_remembered_until_their_moment_only() {
        let cache = TokenCache::default();
        let who = |name: &str| Identity {
            name: name.into(),
            user: None,
            permission: None,
        };
        let now = Instant::now();
        cache.put("token-a", who("a"), now + Duration::from_secs(5), now);
        assert_eq!(cache.get("token-a", now).map(|i| i.name), Some("a".into()));
        assert!(
            cache.get("token-b", now).is_none(),
            "another token is not known"
        );
        assert!(
            cache.get("token-a", now + Duration::from_secs(5)).is_none(),
            "expired"
        );
        // Full: expired entries go first, then everything.
        for i in 0..CACHE_ENTRIES {
            cache.put(
                &format!("t{i}"),
                who("x"),
                now + Duration::from_secs(60),
                now,
            );
        }
        cache.put("one-more", who("y"), now + Duration::from_secs(60), now);
        assert!(cache.get("one-more", now).is_some());
        assert!(cache.0.lock().unwrap().len() <= CACHE_ENTRIES);
    }

    #[test]
    fn identity_names_the_subject_and_the_user() {
        let claims = json!({"sub": "u-1", "email": "ana@example.com", "scope": "altr:read"});
        let id = identity(claims.as_object().unwrap(), &ClaimMapping::default()).unwrap();
        assert_eq!(id.name, "u-1");
        assert_eq!(id.user.as_deref(), Some("ana@example.com"));
        assert_eq!(id.permission.unwrap().grants.len(), 1);
        assert!(identity(
            json!({"scope": "x"}).as_object().unwrap(),
            &ClaimMapping::default()
        )
        .is_none());
    }
}
