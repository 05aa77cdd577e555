//! Access-token validation for the OAuth 2.1 resource server.
//!
//! A [`Validator`] checks bearer access tokens issued by one authorization server (the IdP):
//!
//! - JWTs signed with RS256, ES256 or EdDSA (Ed25519). `none`, every HMAC algorithm and anything
//!   else is refused. The header's `kid` selects a key of the IdP's JWKS, and that key must fit the
//!   header's algorithm (key type, curve and, when the JWK names one, its `alg`), so a key is never
//!   used with another algorithm than its own. A token without `kid` is refused
//!   ([`TokenError::UnknownKey`]): every common IdP sets it, and guessing a key is not worth it.
//! - Then the claims: `iss` equal to the issuer, `aud` (a string or an array) naming one of the
//!   accepted audiences (RFC 8707: a token minted for another resource is refused), `exp` required
//!   and `nbf` when present, both with [`ValidatorConfig::leeway`].
//! - Opaque tokens (anything that is not three base64url parts) go to RFC 7662 introspection when
//!   it is configured, and are refused as malformed otherwise.
//!
//! The JWKS comes from [`ValidatorConfig::jwks_url`], or else from the issuer's metadata (RFC 8414,
//! then OpenID Connect discovery). It is cached: a `kid` that is not in the cache fetches it again,
//! at most once per [`ValidatorConfig::min_refresh_interval`] (validations that arrive meanwhile
//! share that one fetch), so a flood of tokens with made-up key ids cannot hammer the IdP. Keys
//! from the last good fetch stay in use while a refresh fails. Every request to the IdP has
//! [`ValidatorConfig::fetch_timeout`] and a [`MAX_IDP_RESPONSE_BYTES`] cap on its response.
//!
//! Failures of the IdP fail closed ([`TokenError::IdpUnavailable`]) and log one warning naming the
//! URL and the reason. No part of a token is ever logged or returned in an error.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize as _;
use serde_json::{Map, Value};

use crate::config::Secret;

/// Tokens longer than this (in bytes) are refused unread ([`TokenError::Oversized`]).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The largest response accepted from the IdP (metadata, JWKS, introspection); a larger one is
/// a failed request, and is never read further than this.
pub const MAX_IDP_RESPONSE_BYTES: usize = 256 * 1024;

/// What a [`Validator`] accepts, and how it talks to the IdP.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// The authorization server's issuer URL; a token's `iss` must equal it exactly.
    pub issuer: String,
    /// The accepted `aud` values (the resource URL, plus an optional override); a token must name
    /// at least one of them. Compared exactly (no trailing-slash folding).
    pub audiences: Vec<String>,
    /// The JWKS URL; when `None` it is discovered from the issuer's metadata.
    pub jwks_url: Option<String>,
    /// Clock skew allowed for `exp` and `nbf` (60 s by default).
    pub leeway: Duration,
    /// The time limit of each request to the IdP, response body included (5 s by default).
    pub fetch_timeout: Duration,
    /// An unknown `kid` fetches the JWKS again at most once per this (30 s by default). It also
    /// paces retries after a failed fetch.
    pub min_refresh_interval: Duration,
    /// RFC 7662 introspection for opaque (non-JWT) tokens.
    pub introspection: Option<Introspection>,
}

impl ValidatorConfig {
    /// A configuration with the defaults: discovery, 60 s leeway, 5 s fetch timeout, 30 s
    /// between JWKS refreshes, no introspection.
    pub fn new(issuer: String, audiences: Vec<String>) -> Self {
        Self {
            issuer,
            audiences,
            jwks_url: None,
            leeway: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(5),
            min_refresh_interval: Duration::from_secs(30),
            introspection: None,
        }
    }
}

/// The RFC 7662 introspection endpoint and this server's client credentials for it (sent with
/// HTTP Basic authentication).
#[derive(Debug, Clone)]
pub struct Introspection {
    pub url: String,
    pub client_id: String,
    pub client_secret: Secret,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this server accepts: bad syntax, bad encoding, a required claim missing or of
    /// the wrong type, or an opaque token without introspection configured.
    Malformed,
    /// Larger than [`MAX_TOKEN_BYTES`].
    Oversized,
    /// Signed with an algorithm other than RS256, ES256 or EdDSA (`none` and HMAC included).
    UnsupportedAlgorithm,
    /// No `kid`, or no key of the JWKS has this `kid` and fits the token's algorithm.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// Past `exp` (plus the leeway).
    Expired,
    /// Before `nbf` (minus the leeway).
    NotYetValid,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` names none of the accepted audiences.
    WrongAudience,
    /// Introspection says the token is not active.
    Inactive,
    /// The IdP could not be reached or answered badly, and no cached key could decide.
    IdpUnavailable,
}

impl TokenError {
    /// Short text for the RFC 6750 error_description and logs; never contains any part of the token.
    pub fn description(self) -> &'static str {
        match self {
            TokenError::Malformed => "the access token is malformed",
            TokenError::Oversized => "the access token is too large",
            TokenError::UnsupportedAlgorithm => {
                "the access token's signing algorithm is not accepted"
            }
            TokenError::UnknownKey => "the access token is signed with an unknown key",
            TokenError::BadSignature => "the access token's signature is invalid",
            TokenError::Expired => "the access token has expired",
            TokenError::NotYetValid => "the access token is not valid yet",
            TokenError::WrongIssuer => {
                "the access token was issued by another authorization server"
            }
            TokenError::WrongAudience => "the access token is not meant for this resource",
            TokenError::Inactive => "the access token is not active",
            TokenError::IdpUnavailable => {
                "the authorization server could not be reached to check the access token"
            }
        }
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for TokenError {}

/// The signing algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Es256,
    EdDsa,
}

impl Alg {
    /// The algorithm of a JWT header's `alg`; `None` for anything not accepted.
    fn from_header(alg: &str) -> Option<Alg> {
        match alg {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            "EdDSA" => Some(Alg::EdDsa),
            _ => None,
        }
    }

    fn algorithm(self) -> Algorithm {
        match self {
            Alg::Rs256 => Algorithm::RS256,
            Alg::Es256 => Algorithm::ES256,
            Alg::EdDsa => Algorithm::EdDSA,
        }
    }

    fn key_algorithm(self) -> KeyAlgorithm {
        match self {
            Alg::Rs256 => KeyAlgorithm::RS256,
            Alg::Es256 => KeyAlgorithm::ES256,
            Alg::EdDsa => KeyAlgorithm::EdDSA,
        }
    }
}

/// A usable key of the JWKS: its id, the one algorithm it verifies, the key.
struct VerifyKey {
    kid: String,
    alg: Alg,
    key: DecodingKey,
}

/// The state of JWKS refreshes, behind an async lock held during a refresh so that concurrent
/// validations share one fetch.
#[derive(Default)]
struct Refresh {
    /// The JWKS URL: the configured one, or the one discovered (forgotten when a fetch from it
    /// fails, so the next refresh discovers again).
    jwks_uri: Option<String>,
    /// When the last refresh started.
    last_attempt: Option<Instant>,
    /// Whether the last refresh succeeded.
    last_ok: bool,
}

/// Checks access tokens for this resource; see the [module documentation](self).
///
/// Build one at startup; it is `Send + Sync`, and clones share the same key cache.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    config: ValidatorConfig,
    /// The client for the IdP; an error text when it could not be built (TLS set-up).
    http: Result<reqwest::Client, String>,
    /// The keys of the last good JWKS fetch.
    keys: RwLock<Vec<VerifyKey>>,
    refresh: Arc<tokio::sync::Mutex<Refresh>>,
}

impl Validator {
    /// A validator with an empty key cache: the JWKS is fetched when the first JWT arrives.
    pub fn new(config: ValidatorConfig) -> Validator {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("altr-mcp/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.fetch_timeout)
            .build()
            .map_err(error_chain);
        let refresh = Refresh {
            jwks_uri: config.jwks_url.clone(),
            ..Refresh::default()
        };
        let inner = Inner {
            config,
            http,
            keys: RwLock::new(Vec::new()),
            refresh: Arc::new(tokio::sync::Mutex::new(refresh)),
        };
        Validator {
            inner: Arc::new(inner),
        }
    }

    /// Read the issuer's metadata and keys now (at start-up), so a wrong issuer or an unreachable
    /// identity provider is in the log before the first client meets it; true when keys loaded.
    pub async fn warm_up(&self) -> bool {
        let mut refresh = Arc::clone(&self.inner.refresh).lock_owned().await;
        refresh.last_attempt = Some(Instant::now());
        refresh.last_ok = self.inner.refresh_keys(&mut refresh).await;
        refresh.last_ok
    }

    /// The token's claims when it is valid for this resource.
    pub async fn validate(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Oversized);
        }
        if !is_b64token(token) {
            return Err(TokenError::Malformed);
        }
        match jwt_parts(token) {
            Some((header, payload)) => self.validate_jwt(token, header, payload).await,
            None => match &self.inner.config.introspection {
                Some(introspection) => self.inner.introspect(introspection, token).await,
                None => Err(TokenError::Malformed),
            },
        }
    }

    /// A JWT: its header and payload (still base64url) are `header` and `payload`.
    async fn validate_jwt(
        &self,
        token: &str,
        header: &str,
        payload: &str,
    ) -> Result<Map<String, Value>, TokenError> {
        let header = decode_object(header).ok_or(TokenError::Malformed)?;
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => {
                Alg::from_header(alg).ok_or(TokenError::UnsupportedAlgorithm)?
            }
            _ => return Err(TokenError::Malformed),
        };
        // RFC 7515 4.1.11: critical extensions must be understood, and none is.
        if header.contains_key("crit") {
            return Err(TokenError::Malformed);
        }
        let claims = decode_object(payload).ok_or(TokenError::Malformed)?;
        let kid = match header.get("kid") {
            Some(Value::String(kid)) => kid,
            Some(_) => return Err(TokenError::Malformed),
            None => return Err(TokenError::UnknownKey),
        };
        let key = self.key(kid, alg).await?;
        verify_signature(token, &key, alg)?;
        self.inner.check_claims(&claims, true)?;
        Ok(claims)
    }

    /// The cached key with this id that fits `alg`, refreshing the JWKS when there is none (at
    /// most once per `min_refresh_interval`, whatever the number of validations waiting).
    async fn key(&self, kid: &str, alg: Alg) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.inner.cached_key(kid, alg) {
            return Ok(key);
        }
        let mut refresh = Arc::clone(&self.inner.refresh).lock_owned().await;
        // Another validation may have refreshed the keys while this one waited.
        if let Some(key) = self.inner.cached_key(kid, alg) {
            return Ok(key);
        }
        let due = refresh
            .last_attempt
            .is_none_or(|t| t.elapsed() >= self.inner.config.min_refresh_interval);
        let ok = if due {
            refresh.last_attempt = Some(Instant::now());
            // In a task of its own, with the lock: a validation given up (its client gone) must
            // not cancel the fetch that the others wait for.
            let inner = Arc::clone(&self.inner);
            let task = tokio::spawn(async move {
                refresh.last_ok = inner.refresh_keys(&mut refresh).await;
                refresh.last_ok
            });
            task.await.unwrap_or(false)
        } else {
            refresh.last_ok
        };
        match self.inner.cached_key(kid, alg) {
            Some(key) => Ok(key),
            None if ok => Err(TokenError::UnknownKey),
            None => Err(TokenError::IdpUnavailable),
        }
    }
}

impl Inner {
    fn cached_key(&self, kid: &str, alg: Alg) -> Option<DecodingKey> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .find(|k| k.kid == kid && k.alg == alg)
            .map(|k| k.key.clone())
    }

    /// Fetches the JWKS (discovering its URL first if needed) and replaces the cached keys;
    /// false, with one warning, when that fails (the cached keys are then kept).
    async fn refresh_keys(&self, refresh: &mut Refresh) -> bool {
        let http = match &self.http {
            Ok(http) => http,
            Err(reason) => {
                tracing::warn!(issuer = %self.config.issuer, reason = %reason, "OAuth: no HTTP client for the authorization server; access tokens cannot be checked");
                return false;
            }
        };
        let uri = match &refresh.jwks_uri {
            Some(uri) => uri.clone(),
            None => match self.discover(http).await {
                Ok(uri) => {
                    refresh.jwks_uri = Some(uri.clone());
                    uri
                }
                Err(reason) => {
                    tracing::warn!(issuer = %self.config.issuer, reason = %reason, "OAuth: the authorization server's metadata could not be read; access tokens cannot be checked");
                    return false;
                }
            },
        };
        match self.fetch_json(http.get(&uri)).await.and_then(parse_jwks) {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
                true
            }
            Err(reason) => {
                tracing::warn!(url = %uri, reason = %reason, "OAuth: the JWKS could not be fetched; tokens signed with keys not already cached are refused");
                if self.config.jwks_url.is_none() {
                    refresh.jwks_uri = None;
                }
                false
            }
        }
    }

    /// The `jwks_uri` of the issuer's metadata: RFC 8414 first, then OpenID Connect discovery.
    /// The error says, for each URL tried, why it did not do.
    async fn discover(&self, http: &reqwest::Client) -> Result<String, String> {
        let mut reasons = Vec::new();
        for url in metadata_urls(&self.config.issuer)? {
            let found = self
                .fetch_json(http.get(&url))
                .await
                .and_then(|doc| jwks_uri_of(&doc, &self.config.issuer));
            match found {
                Ok(uri) => return Ok(uri),
                Err(reason) => reasons.push(format!("{url}: {reason}")),
            }
        }
        Err(reasons.join("; "))
    }

    /// RFC 7662: asks the introspection endpoint about an opaque token.
    async fn introspect(
        &self,
        introspection: &Introspection,
        token: &str,
    ) -> Result<Map<String, Value>, TokenError> {
        let fail = |reason: &str| {
            tracing::warn!(url = %introspection.url, reason = %reason, "OAuth: token introspection failed; the token is refused");
            TokenError::IdpUnavailable
        };
        let http = self.http.as_ref().map_err(|reason| fail(reason))?;
        // RFC 6749 2.3.1: the client id and secret are form-encoded before Basic encoding.
        let request = http
            .post(&introspection.url)
            .basic_auth(
                form_encode(&introspection.client_id),
                Some(form_encode(introspection.client_secret.expose())),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(format!(
                "token={}&token_type_hint=access_token",
                form_encode(token)
            ));
        let claims = match self.fetch_json(request).await {
            Ok(Value::Object(claims)) => claims,
            Ok(_) => return Err(fail("the response is not a JSON object")),
            Err(reason) => return Err(fail(&reason)),
        };
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(TokenError::Inactive);
        }
        self.check_claims(&claims, false)?;
        Ok(claims)
    }

    /// Checks `iss`, `aud`, `exp` and `nbf`. With `required` (JWTs) `iss`, `aud` and `exp` must
    /// be present; otherwise (introspection) each is checked only when present.
    fn check_claims(&self, claims: &Map<String, Value>, required: bool) -> Result<(), TokenError> {
        match claims.get("iss") {
            Some(Value::String(iss)) if *iss == self.config.issuer => {}
            None if !required => {}
            _ => return Err(TokenError::WrongIssuer),
        }
        match claims.get("aud") {
            Some(aud) => {
                let names = audiences(aud).ok_or(TokenError::Malformed)?;
                if !names
                    .iter()
                    .any(|a| self.config.audiences.iter().any(|ok| ok == a))
                {
                    return Err(TokenError::WrongAudience);
                }
            }
            None if !required => {}
            None => return Err(TokenError::WrongAudience),
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let leeway = self.config.leeway.as_secs_f64();
        match claims.get("exp") {
            Some(exp) => {
                let exp = exp.as_f64().ok_or(TokenError::Malformed)?;
                if now >= exp + leeway {
                    return Err(TokenError::Expired);
                }
            }
            None if !required => {}
            None => return Err(TokenError::Malformed),
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = nbf.as_f64().ok_or(TokenError::Malformed)?;
            if now + leeway < nbf {
                return Err(TokenError::NotYetValid);
            }
        }
        Ok(())
    }

    /// Sends a request to the IdP and reads its JSON answer: a 2xx status, at most
    /// [`MAX_IDP_RESPONSE_BYTES`], all within `fetch_timeout`. The error is a reason for the log.
    async fn fetch_json(&self, request: reqwest::RequestBuilder) -> Result<Value, String> {
        let cap = MAX_IDP_RESPONSE_BYTES;
        let too_large = || format!("the response is larger than {} KiB", cap / 1024);
        let exchange = async {
            let mut response = request.send().await.map_err(error_chain)?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("HTTP status {status}"));
            }
            if response.content_length().is_some_and(|n| n > cap as u64) {
                return Err(too_large());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(error_chain)? {
                if body.len() + chunk.len() > cap {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            serde_json::from_slice(&body).map_err(|_| "the response is not valid JSON".to_string())
        };
        let timeout = self.config.fetch_timeout;
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
    }
}

/// RFC 6750's b64token: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// The header and payload of a token shaped like a JWT (three base64url parts, the first two
/// not empty; the signature is empty with `alg: none`); `None` for an opaque token.
fn jwt_parts(token: &str) -> Option<(&str, &str)> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let base64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let shaped = parts.next().is_none()
        && !header.is_empty()
        && !payload.is_empty()
        && [header, payload, signature].into_iter().all(base64url);
    shaped.then_some((header, payload))
}

/// A base64url (unpadded) JSON object.
fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `aud` as a list: a string or an array of strings.
fn audiences(aud: &Value) -> Option<Vec<&str>> {
    match aud {
        Value::String(one) => Some(vec![one.as_str()]),
        Value::Array(many) => many.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// Checks the signature (jsonwebtoken also checks that the header's `alg` is `alg` and that the
/// key is of its family). The header and payload were decoded already, so a base64 error is the
/// signature's.
fn verify_signature(token: &str, key: &DecodingKey, alg: Alg) -> Result<(), TokenError> {
    let mut validation = Validation::new(alg.algorithm());
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<serde::de::IgnoredAny>(token, key, &validation) {
        Ok(_) => Ok(()),
        Err(e) => Err(match e.kind() {
            ErrorKind::InvalidToken | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                TokenError::Malformed
            }
            _ => TokenError::BadSignature,
        }),
    }
}

/// The usable keys of a JWKS document; an error when it has none.
fn parse_jwks(doc: Value) -> Result<Vec<VerifyKey>, String> {
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the response has no \"keys\" array")?;
    let usable: Vec<VerifyKey> = keys.iter().filter_map(usable_key).collect();
    if usable.is_empty() {
        return Err("the JWKS has no usable key (RS256, ES256 or EdDSA, with a kid)".to_string());
    }
    Ok(usable)
}

/// A JWK as a [`VerifyKey`]: it needs a `kid`, a signature use (when `use` or `key_ops` says),
/// an RSA, P-256 or Ed25519 public key, and an `alg`, when present, that fits that key. Anything
/// else (HMAC secrets, other curves, encryption keys, unreadable entries) is skipped.
fn usable_key(value: &Value) -> Option<VerifyKey> {
    let jwk = Jwk::deserialize(value).ok()?;
    let kid = jwk.common.key_id.clone()?;
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if jwk
        .common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Alg::Rs256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Alg::Es256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => Alg::EdDsa,
        _ => return None,
    };
    if jwk
        .common
        .key_algorithm
        .is_some_and(|a| a != alg.key_algorithm())
    {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(VerifyKey { kid, alg, key })
}

/// The metadata URLs of an issuer, in the order tried: RFC 8414 (the well-known segment between
/// the host and the issuer's path), then OpenID Connect (appended to the issuer).
fn metadata_urls(issuer: &str) -> Result<[String; 2], String> {
    let mut rfc8414 =
        reqwest::Url::parse(issuer).map_err(|e| format!("the issuer is not a URL ({e})"))?;
    let path = rfc8414.path().trim_end_matches('/').to_string();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    rfc8414.set_query(None);
    rfc8414.set_fragment(None);
    let openid = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    Ok([rfc8414.to_string(), openid])
}

/// The `jwks_uri` of a metadata document, which must name `issuer` as its issuer.
fn jwks_uri_of(doc: &Value, issuer: &str) -> Result<String, String> {
    match doc.get("issuer").and_then(Value::as_str) {
        Some(named) if named == issuer => {}
        Some(named) => return Err(format!("the metadata names another issuer ({named})")),
        None => return Err("the metadata has no issuer".to_string()),
    }
    let uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("the metadata has no jwks_uri")?;
    match reqwest::Url::parse(uri) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(uri.to_string()),
        _ => Err("the metadata's jwks_uri is not an http(s) URL".to_string()),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// An error with its sources, for the log (reqwest's own text leaves out the cause; the URL is
/// left out as the log line names it).
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use axum::body::{Body, Bytes};
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::Json;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::rand::SystemRandom;
    use ring::signature::{
        EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    };
    use serde_json::json;

    use super::*;

    const RESOURCE: &str = "https://mcp.example.com/mcp";
    const CLIENT_ID: &str = "mcp server";
    const CLIENT_SECRET: &str = "s3cr:et+/";

    /// A 2048-bit test key (PKCS#1), made once with `openssl genrsa -traditional 2048`.
    const RSA_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA1CajDt2uEBKgIS9qJiq7HY2GjwH4Ze15UTo/Kc6Uo/PA1q6w
6t6QWaqtoGvjyIL/GsIYl4wBux2R6bhZ5pq48i/VTgkte/0dISJBsU53W0Mm8wy7
6NiqD/IqwaMmuppXqDoTSbXFcbLz0BGGzjCxD2V+zLg+f3ahwCOFGlYfPDBgzPDh
dWxx35rXM6aU+rYRF7ZOb7p4I64wEx5Bhwjdz0f8M95bAC4LM0TIT2yD5+WW5Mos
O6cyxSUT5Pjt6+uWC8U+NqVQWbV6+aoCMJ5IXKQz7jLuXH97uNDH4huLmYI5IpWs
Q1IJhV1PmUCOwqgI3CxSCNarMFBXsuZCdEBMOwIDAQABAoIBAC0Ewec+rVgly6sf
F6RfvvMnfB1OqrpeaTcOaCbj+nDMIeisi0hb0D/m0w9Otbhv69huxa8q+5cMUFFL
WHBx9rsV4Wq80dUUwiCs10nbv8Iy/snmst1XVMcreV071NUWOXGuWTd0BiD5e3l0
rqmEdZ4xyHWCx2he8TYHk5AiJGCt9HJya2v/MYsaBl2TAvbXfOsaYK1i2R31UCy5
LZgoakUmSnmzKU9xYgIMeWQzkm/Csh4N1LxzGB52pWuc0UzfjhAO5SFdboKS15ws
+v04mE2zjbf03dz00zFLZA6PvxM5cG1OPEvMgi9xn9c+u1hE/OkADbZu39O9HhFT
v4u2TkkCgYEA8gWcFmtQ8qi4hPDkdgAM9fIraNbQsgfXcdDoCLDak4wdyjUwX+67
jxZorpO7IiUJpWpeMVrO8rsuyUeBRrjVBlXIf+21oZBXjBDeFIH0I95NIUHc3/FO
nBcNTfzpWTEDVQl0LhIuvdmO+AjSuTThOxwo5Hh18RrKqJN0hMRzZ1UCgYEA4Gdf
b3O4nh2xBCBPWwwQ8zC/YdGeWNeqhlWgMOWIbRkqdbyHKHg0z0pftaelsxArmM++
ajRm2K+oIhzdYJeZND+pVUygPHRVewfbwZwd9LzbN1nW0tXVjHsT4DUzayRlIFC/
YroBQm5hzaKt4hbyY/pZV+g/LseMBR3mw0+jxU8CgYEA7gp8ckSNMo6mJgN1AWad
WM4eyhf23hP+YHCzt9CSu2ql5juYX9LEYUEOJx8ggL3jFfJfwLVrNKzMoKYWzcN/
qqJ2+PSJn+YDZb01YQBMa3b7b8mDADQsODQoHtuxe8tMVrhcr++sT4iLKQQsloMf
QG86/TRJ9KGAUHvvr6I1S50CgYEAgOZAJpf1SzXI8ZLRon3q2pZ8yGaNK4EuXZ2f
t5aRaAGVpy2VAYUS6KNTGNhk0NeQA2YJfZ3+GafEz1t/OjW6dg2/adTrEe7NDy+z
ZqITfvpgfYnoYREdamVkRFyq3Xd5czeOx9oKUStwmJtCgGUn9I/gdCNe77MF1gaY
AEalzvcCgYBX5Wz5Nd3hwWjPGGkMvS6qfMmgituSO9yvlZf6tgAxTh77J4Xw+x/q
4Fna4Lma1mZg1rAez0bF3WTN8f9COCjHu+4LveEtlSz+Ugjv6N3rzCxe+Ot1gnMF
9NASkgmcwlFIl+oL35n4fwkAEbbiJI4CcBtX5zKY+SgMFuWZ2CVEWg==
-----END RSA PRIVATE KEY-----";

    // ---- keys and tokens ----

    /// A signing key of the test IdP and its public JWK.
    struct TestKey {
        kid: String,
        alg: Algorithm,
        signing: EncodingKey,
        jwk: Value,
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn ed25519(kid: &str) -> TestKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        TestKey {
            kid: kid.into(),
            alg: Algorithm::EdDSA,
            signing: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig",
                        "x": b64(pair.public_key().as_ref())}),
        }
    }

    fn es256(kid: &str) -> TestKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        // The uncompressed point: 0x04, then x and y (32 bytes each).
        let point = pair.public_key().as_ref();
        TestKey {
            kid: kid.into(),
            alg: Algorithm::ES256,
            signing: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
                        "x": b64(&point[1..33]), "y": b64(&point[33..65])}),
        }
    }

    fn rs256(kid: &str) -> TestKey {
        let body: String = RSA_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let pair = RsaKeyPair::from_der(&der).unwrap();
        let public: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
        TestKey {
            kid: kid.into(),
            alg: Algorithm::RS256,
            signing: EncodingKey::from_rsa_der(&der),
            jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                        "n": b64(&public.n), "e": b64(&public.e)}),
        }
    }

    fn now() -> i64 {
        crate::clock::now_secs()
    }

    /// Claims valid for [`RESOURCE`] from `issuer` for ten minutes.
    fn claims(issuer: &str) -> Value {
        json!({"iss": issuer, "aud": RESOURCE, "sub": "alice", "iat": now(), "exp": now() + 600})
    }

    fn sign(key: &TestKey, claims: &Value) -> String {
        let mut header = Header::new(key.alg);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.signing).unwrap()
    }

    /// A token with this header and payload, and `signature` as its third part.
    fn raw_token(header: &Value, payload: &Value, signature: &str) -> String {
        format!(
            "{}.{}.{signature}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        )
    }

    // ---- the test IdP ----

    /// What the IdP answers on a path.
    #[derive(Clone)]
    enum Reply {
        Json(Value),
        Text(&'static str),
        Status(u16),
        /// Answers this JSON after this long.
        Slow(Duration, Value),
        /// A body that never ends (no Content-Length).
        Endless,
        /// RFC 7662: the answer for each token (anything else is inactive); checks the client's
        /// credentials.
        Introspect(HashMap<String, Value>),
    }

    #[derive(Default)]
    struct Routes {
        replies: HashMap<String, Reply>,
        hits: HashMap<String, usize>,
    }

    /// An IdP on 127.0.0.1 answering whatever [`Idp::set`] says, and counting requests per path.
    struct Idp {
        base: String,
        routes: Arc<Mutex<Routes>>,
    }

    impl Idp {
        async fn start() -> Idp {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let routes = Arc::new(Mutex::new(Routes::default()));
            let app = axum::Router::new()
                .fallback(answer)
                .with_state(routes.clone());
            tokio::spawn(async move { axum::serve(listener, app).await });
            Idp { base, routes }
        }

        fn url(&self, path: &str) -> String {
            format!("{}{path}", self.base)
        }

        fn set(&self, path: &str, reply: Reply) {
            let mut routes = self.routes.lock().unwrap();
            routes.replies.insert(path.to_string(), reply);
        }

        fn jwks(&self, keys: &[&TestKey]) {
            let keys: Vec<Value> = keys.iter().map(|k| k.jwk.clone()).collect();
            self.set("/jwks", Reply::Json(json!({"keys": keys})));
        }

        fn hits(&self, path: &str) -> usize {
            let routes = self.routes.lock().unwrap();
            routes.hits.get(path).copied().unwrap_or(0)
        }

        /// A validator for this IdP as issuer, with /jwks, short timeouts and a 300 ms interval.
        fn validator(&self) -> Validator {
            Validator::new(self.config())
        }

        fn config(&self) -> ValidatorConfig {
            let mut config = ValidatorConfig::new(self.base.clone(), vec![RESOURCE.to_string()]);
            config.jwks_url = Some(self.url("/jwks"));
            config.fetch_timeout = Duration::from_millis(300);
            config.min_refresh_interval = Duration::from_millis(300);
            config
        }
    }

    async fn answer(State(routes): State<Arc<Mutex<Routes>>>, request: Request) -> Response {
        let path = request.uri().path().to_string();
        let reply = {
            let mut routes = routes.lock().unwrap();
            *routes.hits.entry(path.clone()).or_default() += 1;
            routes.replies.get(&path).cloned()
        };
        match reply {
            None => StatusCode::NOT_FOUND.into_response(),
            Some(Reply::Json(value)) => Json(value).into_response(),
            Some(Reply::Text(text)) => text.into_response(),
            Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
            Some(Reply::Slow(delay, value)) => {
                tokio::time::sleep(delay).await;
                Json(value).into_response()
            }
            Some(Reply::Endless) => {
                let chunk = Bytes::from(vec![b' '; 16 * 1024]);
                let stream = futures::stream::repeat_with(move || {
                    Ok::<_, std::convert::Infallible>(chunk.clone())
                });
                Body::from_stream(stream).into_response()
            }
            Some(Reply::Introspect(answers)) => introspect(request, &answers).await,
        }
    }

    async fn introspect(request: Request, answers: &HashMap<String, Value>) -> Response {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                form_encode(CLIENT_ID),
                form_encode(CLIENT_SECRET)
            ))
        );
        let authorized = request
            .headers()
            .get("authorization")
            .is_some_and(|v| v.as_bytes() == expected.as_bytes());
        if !authorized {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let body = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .unwrap();
        let form: HashMap<String, String> = String::from_utf8(body.to_vec())
            .unwrap()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| {
                let v = percent_encoding::percent_decode_str(v)
                    .decode_utf8()
                    .unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        let token = form.get("token").cloned().unwrap_or_default();
        let answer = answers
            .get(&token)
            .cloned()
            .unwrap_or(json!({"active": false}));
        Json(answer).into_response()
    }

    // ---- good tokens ----

    #[tokio::test]
    async fn accepts_es256_eddsa_and_rs256() {
        let idp = Idp::start().await;
        let (ec, ed, rsa) = (es256("ec"), ed25519("ed"), rs256("rsa"));
        idp.jwks(&[&ec, &ed, &rsa]);
        let v = idp.validator();
        for key in [&ec, &ed, &rsa] {
            let claims = v.validate(&sign(key, &claims(&idp.base))).await.unwrap();
            assert_eq!(claims["sub"], "alice", "{}", key.kid);
        }
        // aud may be an array naming this resource among others.
        let mut many = claims(&idp.base);
        many["aud"] = json!(["https://other.example.com", RESOURCE]);
        assert!(v.validate(&sign(&ed, &many)).await.is_ok());
        // One fetch for all of them.
        assert_eq!(idp.hits("/jwks"), 1);
    }

    #[tokio::test]
    async fn accepts_any_configured_audience() {
        let idp = Idp::start().await;
        let ec = es256("ec");
        idp.jwks(&[&ec]);
        let mut config = idp.config();
        config.audiences.push("api://altr-mcp".to_string());
        let v = Validator::new(config);
        let mut c = claims(&idp.base);
        c["aud"] = json!("api://altr-mcp");
        assert!(v.validate(&sign(&ec, &c)).await.is_ok());
    }

    // ---- algorithms and keys ----

    #[tokio::test]
    async fn refuses_none_hmac_and_other_algorithms() {
        let idp = Idp::start().await;
        let ec = es256("ec");
        idp.jwks(&[&ec]);
        let v = idp.validator();
        let payload = claims(&idp.base);

        let none = raw_token(&json!({"alg": "none", "kid": "ec"}), &payload, "");
        assert_eq!(
            v.validate(&none).await,
            Err(TokenError::UnsupportedAlgorithm)
        );

        // HMAC confusion: HS256 keyed with the public key (its JWK text and its raw point).
        for secret in [
            ec.jwk.to_string().into_bytes(),
            URL_SAFE_NO_PAD
                .decode(ec.jwk["x"].as_str().unwrap())
                .unwrap(),
        ] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("ec".into());
            let hmac = jsonwebtoken::encode(&header, &payload, &EncodingKey::from_secret(&secret))
                .unwrap();
            assert_eq!(
                v.validate(&hmac).await,
                Err(TokenError::UnsupportedAlgorithm)
            );
        }

        for alg in [
            "HS384", "HS512", "RS384", "PS256", "ES384", "ES512", "none", "NONE", "rs256",
        ] {
            let token = raw_token(&json!({"alg": alg, "kid": "ec"}), &payload, "c2ln");
            assert_eq!(
                v.validate(&token).await,
                Err(TokenError::UnsupportedAlgorithm),
                "{alg}"
            );
        }
        // None of that needed a key.
        assert_eq!(idp.hits("/jwks"), 0);
    }

    #[tokio::test]
    async fn a_key_is_used_only_with_its_own_algorithm() {
        let idp = Idp::start().await;
        let (ec, rsa) = (es256("ec"), rs256("rsa"));
        // A P-256 key that declares ES384, an encryption key, and an HMAC secret are unusable.
        let mut ec384 = es256("ec384");
        ec384.jwk["alg"] = json!("ES384");
        let mut enc = es256("enc");
        enc.jwk["use"] = json!("enc");
        let oct = json!({"kty": "oct", "kid": "oct", "k": b64(b"secret")});
        let mut keys: Vec<Value> = [&ec, &rsa, &ec384, &enc]
            .iter()
            .map(|k| k.jwk.clone())
            .collect();
        keys.push(oct);
        idp.set("/jwks", Reply::Json(json!({"keys": keys})));
        let v = idp.validator();
        let c = claims(&idp.base);

        // An RSA signature naming the EC key's kid (and the reverse).
        let mut rsa_as_ec = rs256("ec");
        rsa_as_ec.jwk = Value::Null;
        assert_eq!(
            v.validate(&sign(&rsa_as_ec, &c)).await,
            Err(TokenError::UnknownKey)
        );
        let mut ec_as_rsa = es256("rsa");
        ec_as_rsa.kid = "rsa".into();
        assert_eq!(
            v.validate(&sign(&ec_as_rsa, &c)).await,
            Err(TokenError::UnknownKey)
        );

        assert_eq!(
            v.validate(&sign(&ec384, &c)).await,
            Err(TokenError::UnknownKey)
        );
        assert_eq!(
            v.validate(&sign(&enc, &c)).await,
            Err(TokenError::UnknownKey)
        );
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("oct".into());
        let hmac = jsonwebtoken::encode(&header, &c, &EncodingKey::from_secret(b"secret")).unwrap();
        assert_eq!(
            v.validate(&hmac).await,
            Err(TokenError::UnsupportedAlgorithm)
        );

        // The usable ones still work.
        assert!(v.validate(&sign(&ec, &c)).await.is_ok());
        assert!(v.validate(&sign(&rsa, &c)).await.is_ok());
    }

    #[tokio::test]
    async fn ignores_keys_carried_in_the_header() {
        let idp = Idp::start().await;
        let ec = es256("ec");
        idp.jwks(&[&ec]);
        let v = idp.validator();
        // The attacker's own key in `jwk`, and its URL in `jku`: neither is used.
        let attacker = es256("ec");
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("ec".into());
        header.jwk = Some(Jwk::deserialize(&attacker.jwk).unwrap());
        header.jku = Some(idp.url("/attacker-jwks"));
        let token = jsonwebtoken::encode(&header, &claims(&idp.base), &attacker.signing).unwrap();
        assert_eq!(v.validate(&token).await, Err(TokenError::BadSignature));
        assert_eq!(idp.hits("/attacker-jwks"), 0);
    }

    #[tokio::test]
    async fn refuses_a_token_without_kid() {
        let idp = Idp::start().await;
        let ec = es256("ec");
        idp.jwks(&[&ec]);
        let v = idp.validator();
        let header = Header::new(Algorithm::ES256);
        let token = jsonwebtoken::encode(&header, &claims(&idp.base), &ec.signing).unwrap();
        assert_eq!(v.validate(&token).await, Err(TokenError::UnknownKey));
        assert_eq!(idp.hits("/jwks"), 0);
    }

    #[tokio::test]
    async fn refuses_a_bad_signature() {
        let idp = Idp::start().await;
        let ec = es256("ec");
        idp.jwks(&[&ec]);
        let v = idp.validator();
        // Signed by another key under the published kid.
        let impostor = es256("ec");
        let c = claims(&idp.base);
        assert_eq!(
            v.validate(&sign(&impostor, &c)).await,
            Err(TokenError::BadSignature)
        );
        // A genuine signature over other claims.
        let genuine = sign(&ec, &c);
        let mut admin = c.clone();
        admin["sub"] = json!("admin");
        let forged = sign(&impostor, &admin);
        let (head, rest) = genuine.split_once('.').unwrap();
        let signature = rest.rsplit_once('.').unwrap().1;
        let payload = forged.split('.').nth(1).unwrap();
        let spliced = format!("{head}.{payload}.{signature}");
        assert_eq!(v.validate(&spliced).await, Err(TokenError::BadSignature));
        // An empty or truncated signature.
        let cut = &genuine[..genuine.len() - 4];
        assert_eq!(v.validate(cut).await, Err(TokenError::BadSignature));
        let (unsigned, _) = genuine.rsplit_once('.').unwrap();
        assert_eq!(
            v.validate(&format!("{unsigned}.")).await,
            Err(TokenError::BadSignature)
        );
    }

    // ---- claims ----

    #[tokio::test]
    async fn checks_issuer_and_audience() {
        let idp = Idp::start().await;
        let ed = ed25519("ed");
        idp.jwks(&[&ed]);
        let v = idp.validator();
        let base = claims(&idp.base);
        let with = |field: &str, value: Value| {
            let mut c = base.clone();
            c[field] = value;
            sign(&ed, &c)
        };
        let without = |field: &str| {
            let mut c = base.clone();
            c.as_object_mut().unwrap().remove(field);
            sign(&ed, &c)
        };
        let wrong_iss = [
            with("iss", json!("https://evil.example.com")),
            with("iss", json!(format!("{}/", idp.base))),
            with("iss", json!(1)),
            without("iss"),
        ];
        for token in wrong_iss {
            assert_eq!(v.validate(&token).await, Err(TokenError::WrongIssuer));
        }
        let wrong_aud = [
            with("aud", json!("https://other.example.com/mcp")),
            with("aud", json!(format!("{RESOURCE}/"))),
            with("aud", json!(["https://other.example.com"])),
            with("aud", json!([])),
            without("aud"),
        ];
        for token in wrong_aud {
            assert_eq!(v.validate(&token).await, Err(TokenError::WrongAudience));
        }
        assert_eq!(
            v.validate(&with("aud", json!(7))).await,
            Err(TokenError::Malformed)
        );
        assert_eq!(
            v.validate(&with("aud", json!([RESOURCE, 7]))).await,
            Err(TokenError::Malformed)
        );
    }

    #[tokio::test]
    async fn checks_exp_and_nbf_with_leeway() {
        let idp = Idp::start().await;
        let ed = ed25519("ed");
        idp.jwks(&[&ed]);
        let v = idp.validator();
        let token = |changes: Value| {
            let mut c = claims(&idp.base);
            for (k, value) in changes.as_object().unwrap() {
                if value.is_null() {
                    c.as_object_mut().unwrap().remove(k);
                } else {
                    c[k] = value.clone();
                }
            }
            sign(&ed, &c)
        };
        // exp: beyond the 60 s leeway, within it, missing, not a number.
        assert_eq!(
            v.validate(&token(json!({"exp": now() - 120}))).await,
            Err(TokenError::Expired)
        );
        assert!(v.validate(&token(json!({"exp": now() - 30}))).await.is_ok());
        assert_eq!(
            v.validate(&token(json!({"exp": null}))).await,
            Err(TokenError::Malformed)
        );
        assert_eq!(
            v.validate(&token(json!({"exp": "soon"}))).await,
            Err(TokenError::Malformed)
        );
        // nbf: beyond the leeway, within it, past.
        assert_eq!(
            v.validate(&token(json!({"nbf": now() + 120}))).await,
            Err(TokenError::NotYetValid)
        );
        assert!(v.validate(&token(json!({"nbf": now() + 30}))).await.is_ok());
        assert!(v.validate(&token(json!({"nbf": now() - 30}))).await.is_ok());
        // A fractional NumericDate is fine.
        assert!(v
            .validate(&token(json!({"exp": now() as f64 + 600.5})))
            .await
            .is_ok());

        // Without leeway, 30 s late or early is too much.
        let mut strict = idp.config();
        strict.leeway = Duration::ZERO;
        let strict = Validator::new(strict);
        assert_eq!(
            strict.validate(&token(json!({"exp": now() - 30}))).await,
            Err(TokenError::Expired)
        );
        assert_eq!(
            strict.validate(&token(json!({"nbf": now() + 30}))).await,
            Err(TokenError::NotYetValid)
        );
    }

    // ---- shape ----

    #[tokio::test]
    async fn refuses_malformed_and_oversized_tokens() {
        let idp = Idp::start().await;
        let ed = ed25519("ed");
        idp.jwks(&[&ed]);
        let v = idp.validator();
        let c = claims(&idp.base);
        let header = json!({"alg": "EdDSA", "kid": "ed"});
        let garbage = [
            String::new(),
            "=".into(),
            "not a token".into(),
            "abc".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            "..".into(),
            "a.b.c".into(),
            "tok\u{e9}n".into(),
            // Not JSON, not an object, not base64url (padded) in the header or the payload.
            format!("{}.{}.c2ln", b64(b"{nope"), b64(c.to_string().as_bytes())),
            format!("{}.{}.c2ln", b64(b"[1]"), b64(c.to_string().as_bytes())),
            format!(
                "{}.{}.c2ln",
                b64(header.to_string().as_bytes()),
                b64(b"{nope")
            ),
            format!(
                "{}.{}.c2ln",
                b64(header.to_string().as_bytes()),
                b64(b"\"text\"")
            ),
            raw_token(&json!({"kid": "ed"}), &c, "c2ln"),
            raw_token(&json!({"alg": 1, "kid": "ed"}), &c, "c2ln"),
            raw_token(&json!({"alg": "EdDSA", "kid": 1}), &c, "c2ln"),
            raw_token(
                &json!({"alg": "EdDSA", "kid": "ed", "crit": ["exp"]}),
                &c,
                "c2ln",
            ),
        ];
        for token in &garbage {
            assert_eq!(
                v.validate(token).await,
                Err(TokenError::Malformed),
                "{token:?}"
            );
        }
        assert_eq!(idp.hits("/jwks"), 0, "garbage must not reach the IdP");

        assert_eq!(
            v.validate(&"a".repeat(MAX_TOKEN_BYTES + 1)).await,
            Err(TokenError::Oversized)
        );
        let mut big = c.clone();
        big["pad"] = json!("x".repeat(MAX_TOKEN_BYTES));
        assert_eq!(
            v.validate(&sign(&ed, &big)).await,
            Err(TokenError::Oversized)
        );
        // Just under the limit is fine.
        let mut fits = c.clone();
        fits["pad"] = json!("");
        let room = MAX_TOKEN_BYTES - sign(&ed, &fits).len();
        fits["pad"] = json!("x".repeat(room * 3 / 4));
        let token = sign(&ed, &fits);
        assert!(token.len() <= MAX_TOKEN_BYTES);
        assert!(v.validate(&token).await.is_ok());
    }

    // ---- the JWKS cache ----

    #[tokio::test]
    async fn unknown_kid_refetches_at_most_once_per_interval() {
        let idp = Idp::start().await;
        let (old, new) = (es256("old"), es256("new"));
        idp.jwks(&[&old]);
        let mut config = idp.config();
        config.min_refresh_interval = Duration::from_millis(500);
        let v = Validator::new(config);
        let c = claims(&idp.base);
        assert!(v.validate(&sign(&old, &c)).await.is_ok());
        assert_eq!(idp.hits("/jwks"), 1);

        // Within the interval an unknown kid is refused without fetching.
        let stranger = sign(&es256("stranger"), &c);
        assert_eq!(v.validate(&stranger).await, Err(TokenError::UnknownKey));
        assert_eq!(idp.hits("/jwks"), 1);

        // After it, a flood of 50 unknown kids at once fetches once, together.
        tokio::time::sleep(Duration::from_millis(550)).await;
        let flood: Vec<String> = (0..50)
            .map(|i| sign(&es256(&format!("bad{i}")), &c))
            .collect();
        let results = futures::future::join_all(flood.iter().map(|t| v.validate(t))).await;
        assert!(results.iter().all(|r| *r == Err(TokenError::UnknownKey)));
        assert_eq!(idp.hits("/jwks"), 2);

        // The IdP rotates: the new key is refused until the interval has passed, then accepted.
        idp.jwks(&[&old, &new]);
        let rotated = sign(&new, &c);
        assert_eq!(v.validate(&rotated).await, Err(TokenError::UnknownKey));
        assert_eq!(idp.hits("/jwks"), 2);
        tokio::time::sleep(Duration::from_millis(550)).await;
        assert!(v.validate(&rotated).await.is_ok());
        assert!(v.validate(&sign(&old, &c)).await.is_ok());
        assert_eq!(idp.hits("/jwks"), 3);
    }

    #[tokio::test]
    async fn cached_keys_survive_a_failed_refresh() {
        let idp = Idp::start().await;
        let (ec, new) = (es256("ec"), es256("new"));
        idp.jwks(&[&ec]);
        let v = idp.validator();
        let c = claims(&idp.base);
        assert!(v.validate(&sign(&ec, &c)).await.is_ok());

        idp.set("/jwks", Reply::Status(503));
        tokio::time::sleep(Duration::from_millis(350)).await;
        // The refresh fails: a new kid cannot be checked, the cached key still works.
        assert_eq!(
            v.validate(&sign(&new, &c)).await,
            Err(TokenError::IdpUnavailable)
        );
        assert!(v.validate(&sign(&ec, &c)).await.is_ok());
        assert_eq!(idp.hits("/jwks"), 2);

        // A JWKS without usable keys does not wipe the cache either.
        idp.set(
            "/jwks",
            Reply::Json(json!({"keys": [{"kty": "oct", "kid": "x", "k": "AA"}]})),
        );
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            v.validate(&sign(&new, &c)).await,
            Err(TokenError::IdpUnavailable)
        );
        assert!(v.validate(&sign(&ec, &c)).await.is_ok());

        // Once the IdP is back (and the interval over), the new key is fetched.
        idp.jwks(&[&ec, &new]);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(v.validate(&sign(&new, &c)).await.is_ok());
    }

    // ---- discovery ----

    /// Metadata for `issuer` pointing at the IdP's /keys.
    fn metadata(idp: &Idp, issuer: &str) -> Reply {
        Reply::Json(json!({"issuer": issuer, "jwks_uri": idp.url("/keys"),
                           "token_endpoint": idp.url("/token")}))
    }

    fn discovering(idp: &Idp, issuer: &str) -> Validator {
        let mut config = idp.config();
        config.issuer = issuer.to_string();
        config.jwks_url = None;
        Validator::new(config)
    }

    #[tokio::test]
    async fn discovers_the_jwks_with_rfc8414() {
        let idp = Idp::start().await;
        let ed = ed25519("ed");
        let issuer = idp.url("/tenant");
        idp.set(
            "/.well-known/oauth-authorization-server/tenant",
            metadata(&idp, &issuer),
        );
        idp.set("/keys", Reply::Json(json!({"keys": [ed.jwk.clone()]})));
        let v = discovering(&idp, &issuer);
        let c = claims(&issuer);
        assert!(v.validate(&sign(&ed, &c)).await.is_ok());
        assert_eq!(idp.hits("/keys"), 1);
        assert_eq!(idp.hits("/tenant/.well-known/openid-configuration"), 0);

        // The jwks_uri is cached: a later refresh fetches only the JWKS.
        tokio::time::sleep(Duration::from_millis(350)).await;
        let _ = v.validate(&sign(&ed25519("other"), &c)).await;
        assert_eq!(idp.hits("/keys"), 2);
        assert_eq!(
            idp.hits("/.well-known/oauth-authorization-server/tenant"),
            1
        );
    }

    #[tokio::test]
    async fn discovery_falls_back_to_openid_configuration() {
        let idp = Idp::start().await;
        let ed = ed25519("ed");
        let issuer = idp.url("/tenant");
        idp.set(
            "/tenant/.well-known/openid-configuration",
            metadata(&idp, &issuer),
        );
        idp.set("/keys", Reply::Json(json!({"keys": [ed.jwk.clone()]})));
        let v = discovering(&idp, &issuer);
        assert!(v.validate(&sign(&ed, &claims(&issuer))).await.is_ok());
        assert_eq!(
            idp.hits("/.well-known/oauth-authorization-server/tenant"),
            1
        );
        assert_eq!(idp.hits("/tenant/.well-known/openid-configuration"), 1);

        // An issuer without a path.
        let idp = Idp::start().await;
        idp.set(
            "/.well-known/openid-configuration",
            metadata(&idp, &idp.base),
        );
        idp.set("/keys", Reply::Json(json!({"keys": [ed.jwk.clone()]})));
        let v = discovering(&idp, &idp.base);
        assert!(v.validate(&sign(&ed, &claims(&idp.base))).await.is_ok());
        assert_eq!(idp.hits("/.well-known/oauth-authorization-server"), 1);
    }

    #[tokio::test]
    async fn discovery_refuses_metadata_of_another_issuer() {
        let idp = Idp::start().await;
        let ed = ed25519("ed");
        let issuer = idp.url("/tenant");
        let evil = "https://evil.example.com";
        idp.set(
            "/.well-known/oauth-authorization-server/tenant",
            metadata(&idp, evil),
        );
        idp.set(
            "/tenant/.well-known/openid-configuration",
            metadata(&idp, evil),
        );
        idp.set("/keys", Reply::Json(json!({"keys": [ed.jwk.clone()]})));
        let v = discovering(&idp, &issuer);
        let token = sign(&ed, &claims(&issuer));
        assert_eq!(v.validate(&token).await, Err(TokenError::IdpUnavailable));
        assert_eq!(idp.hits("/keys"), 0);
    }

    #[test]
    fn metadata_urls_put_the_well_known_segment_before_the_path() {
        let urls = |issuer: &str| metadata_urls(issuer).unwrap();
        assert_eq!(
            urls("https://h/tenant"),
            [
                "https://h/.well-known/oauth-authorization-server/tenant",
                "https://h/tenant/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            urls("https://h/"),
            [
                "https://h/.well-known/oauth-authorization-server",
                "https://h/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            urls("https://h:8443/a/b/")[0],
            "https://h:8443/.well-known/oauth-authorization-server/a/b"
        );
        assert!(metadata_urls("not a url").is_err());
    }

    // ---- IdP failures ----

    /// Validating `token` fails with IdpUnavailable, within `limit`.
    async fn unavailable(v: &Validator, token: &str, limit: Duration) {
        let start = Instant::now();
        assert_eq!(v.validate(token).await, Err(TokenError::IdpUnavailable));
        assert!(start.elapsed() < limit, "took {:?}", start.elapsed());
    }

    #[tokio::test]
    async fn a_slow_jwks_times_out() {
        let idp = Idp::start().await;
        idp.set(
            "/jwks",
            Reply::Slow(Duration::from_secs(5), json!({"keys": []})),
        );
        let v = idp.validator();
        let token = sign(&es256("ec"), &claims(&idp.base));
        unavailable(&v, &token, Duration::from_millis(1000)).await;
    }

    #[tokio::test]
    async fn a_validation_given_up_does_not_cancel_the_fetch() {
        let idp = Idp::start().await;
        let ec = es256("ec");
        let jwks = json!({"keys": [ec.jwk.clone()]});
        idp.set("/jwks", Reply::Slow(Duration::from_millis(150), jwks));
        let mut config = idp.config();
        config.min_refresh_interval = Duration::from_secs(60);
        let v = Validator::new(config);
        let token = sign(&ec, &claims(&idp.base));
        // The first caller leaves during the fetch; the fetch completes for the next one.
        let gone = tokio::time::timeout(Duration::from_millis(50), v.validate(&token)).await;
        assert!(gone.is_err());
        assert!(v.validate(&token).await.is_ok());
        assert_eq!(idp.hits("/jwks"), 1);
    }

    #[tokio::test]
    async fn a_down_or_failing_jwks_fails_closed() {
        // Nothing listens on the port any more.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let idp = Idp::start().await;
        let mut config = idp.config();
        config.jwks_url = Some(format!("http://127.0.0.1:{port}/jwks"));
        let token = sign(&es256("ec"), &claims(&idp.base));
        unavailable(&Validator::new(config), &token, Duration::from_secs(1)).await;

        for status in [404, 500, 503] {
            idp.set("/jwks", Reply::Status(status));
            unavailable(&idp.validator(), &token, Duration::from_secs(1)).await;
        }
        // A redirect is not followed.
        idp.set("/jwks", Reply::Status(302));
        unavailable(&idp.validator(), &token, Duration::from_secs(1)).await;
    }

    #[tokio::test]
    async fn a_huge_jwks_is_cut_off() {
        let idp = Idp::start().await;
        let token = sign(&es256("ec"), &claims(&idp.base));
        let mut config = idp.config();
        config.fetch_timeout = Duration::from_secs(5);
        // An endless body fails at the cap, long before the timeout.
        idp.set("/jwks", Reply::Endless);
        unavailable(
            &Validator::new(config.clone()),
            &token,
            Duration::from_secs(2),
        )
        .await;
        // So does a declared length over the cap.
        let pad = "x".repeat(MAX_IDP_RESPONSE_BYTES);
        idp.set("/jwks", Reply::Json(json!({"keys": [], "pad": pad})));
        unavailable(&Validator::new(config), &token, Duration::from_secs(2)).await;
    }

    #[tokio::test]
    async fn a_garbage_jwks_fails_closed() {
        let idp = Idp::start().await;
        let token = sign(&es256("ec"), &claims(&idp.base));
        let garbage = [
            Reply::Text("<html>hello</html>"),
            Reply::Text(""),
            Reply::Json(json!([1, 2])),
            Reply::Json(json!({"keys": "none"})),
            Reply::Json(json!({"keys": []})),
            Reply::Json(json!({"keys": [{"kty": "RSA", "kid": "ec", "n": 1}]})),
        ];
        for reply in garbage {
            idp.set("/jwks", reply);
            unavailable(&idp.validator(), &token, Duration::from_secs(1)).await;
        }
    }

    // ---- introspection ----

    fn introspecting(idp: &Idp) -> Validator {
        let mut config = idp.config();
        config.introspection = Some(Introspection {
            url: idp.url("/introspect"),
            client_id: CLIENT_ID.to_string(),
            client_secret: Secret::new(CLIENT_SECRET),
        });
        Validator::new(config)
    }

    #[tokio::test]
    async fn introspects_opaque_tokens() {
        let idp = Idp::start().await;
        let active = |extra: Value| {
            let mut answer = json!({"active": true, "sub": "bob", "scope": "altr:read",
                                    "iss": idp.base, "aud": RESOURCE, "exp": now() + 600});
            for (k, v) in extra.as_object().unwrap() {
                answer[k] = v.clone();
            }
            answer
        };
        let answers = HashMap::from([
            ("good-token/+=".to_string(), active(json!({}))),
            (
                "minimal".to_string(),
                json!({"active": true, "sub": "carol"}),
            ),
            ("expired".to_string(), active(json!({"exp": now() - 120}))),
            ("early".to_string(), active(json!({"nbf": now() + 120}))),
            (
                "elsewhere".to_string(),
                active(json!({"aud": ["https://other.example.com"]})),
            ),
            (
                "foreign".to_string(),
                active(json!({"iss": "https://evil.example.com"})),
            ),
            ("half".to_string(), active(json!({"active": "true"}))),
        ]);
        idp.set("/introspect", Reply::Introspect(answers));
        let v = introspecting(&idp);

        let answer = v.validate("good-token/+=").await.unwrap();
        assert_eq!(answer["sub"], "bob");
        assert_eq!(answer["scope"], "altr:read");
        assert_eq!(v.validate("minimal").await.unwrap()["sub"], "carol");
        assert_eq!(v.validate("revoked").await, Err(TokenError::Inactive));
        assert_eq!(v.validate("half").await, Err(TokenError::Inactive));
        assert_eq!(v.validate("expired").await, Err(TokenError::Expired));
        assert_eq!(v.validate("early").await, Err(TokenError::NotYetValid));
        assert_eq!(
            v.validate("elsewhere").await,
            Err(TokenError::WrongAudience)
        );
        assert_eq!(v.validate("foreign").await, Err(TokenError::WrongIssuer));
        // Still checked before any request: syntax and size.
        assert_eq!(v.validate("two words").await, Err(TokenError::Malformed));
        assert_eq!(
            v.validate(&"a".repeat(MAX_TOKEN_BYTES + 1)).await,
            Err(TokenError::Oversized)
        );
        assert_eq!(idp.hits("/introspect"), 8);
        // JWTs are still checked locally.
        assert_eq!(
            v.validate(&sign(&es256("ec"), &claims(&idp.base))).await,
            Err(TokenError::IdpUnavailable)
        );
        assert_eq!(idp.hits("/introspect"), 8);
    }

    #[tokio::test]
    async fn introspection_failures_fail_closed() {
        let idp = Idp::start().await;
        let v = introspecting(&idp);
        for reply in [
            Reply::Status(401),
            Reply::Status(500),
            Reply::Text("nope"),
            Reply::Json(json!([true])),
            Reply::Slow(Duration::from_secs(5), json!({"active": true})),
        ] {
            idp.set("/introspect", reply);
            unavailable(&v, "opaque", Duration::from_secs(1)).await;
        }
        // Wrong client credentials are answered with 401 by the IdP.
        let mut config = idp.config();
        config.introspection = Some(Introspection {
            url: idp.url("/introspect"),
            client_id: CLIENT_ID.to_string(),
            client_secret: Secret::new("wrong"),
        });
        idp.set(
            "/introspect",
            Reply::Introspect(HashMap::from([(
                "opaque".to_string(),
                json!({"active": true}),
            )])),
        );
        unavailable(&Validator::new(config), "opaque", Duration::from_secs(1)).await;
        assert!(v.validate("opaque").await.is_ok());
    }

    #[tokio::test]
    async fn opaque_tokens_without_introspection_are_malformed() {
        let idp = Idp::start().await;
        let v = idp.validator();
        assert_eq!(v.validate("opaque-token").await, Err(TokenError::Malformed));
        assert_eq!(v.validate("a.b").await, Err(TokenError::Malformed));
    }

    #[test]
    fn descriptions_are_distinct_and_the_validator_is_shareable() {
        use TokenError::*;
        let all = [
            Malformed,
            Oversized,
            UnsupportedAlgorithm,
            UnknownKey,
            BadSignature,
            Expired,
            NotYetValid,
            WrongIssuer,
            WrongAudience,
            Inactive,
            IdpUnavailable,
        ];
        let texts: std::collections::HashSet<&str> = all.iter().map(|e| e.description()).collect();
        assert_eq!(texts.len(), all.len());
        assert_eq!(Expired.to_string(), Expired.description());
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Validator>();
    }
}
