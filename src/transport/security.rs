//! The checks every MCP request over HTTP passes, on both HTTP transports: `Host` and `Origin`
//! against allow-lists (DNS-rebinding protection), the bearer token, the body size and JSON syntax.
//! The patterns themselves are parsed once, at start-up, in [`crate::config::patterns`].

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use rmcp::model::ClientJsonRpcMessage;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use super::inflight::Inflight;
use super::oauth::resource::ResourceServer;
use super::oauth::validate::TokenError;
use crate::config::patterns::{default_port, parse_origin_header, split_authority, Origin};
pub use crate::config::patterns::{
    is_loopback_bind, is_wildcard_bind, parse_host_pattern, parse_origin_pattern, HostPattern,
    OriginPattern, PortPattern, LOOPBACK_HOSTS,
};
use crate::config::{NamedToken, Secret};
use crate::registry::Registry;
use crate::safety::caller::Identity;
use crate::safety::permission::{Permission, ScopeNames};

/// The header naming a streamable-HTTP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// The largest request body accepted (4 MiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Why a request was turned away before it reached MCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    BadHost,
    BadOrigin,
    MissingToken,
    WrongToken,
}

/// What a request must satisfy.
#[derive(Debug, Clone)]
pub struct Policy {
    hosts: Vec<HostPattern>,
    origins: Vec<OriginPattern>,
    token: Option<Secret>,
    /// Named tokens (MCP_AUTH_TOKENS): the name is the caller in the audit trail; a grant
    /// limits what the token may do.
    named: Vec<(String, Secret, Option<Arc<Permission>>)>,
    /// OAuth sign-in (MCP_OAUTH_ISSUER): other bearer tokens are access tokens to check.
    oauth: Option<Arc<ResourceServer>>,
}

/// Who a request's credentials name, once Host and Origin passed.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// No token needed, none matched (MCP_AUTH_TOKEN alone names no one).
    Anonymous,
    /// A named static token.
    Known(Identity),
    /// A bearer token that is no static one, for the OAuth resource server to check.
    Bearer(String),
}

impl Policy {
    /// Loopback hosts and origins, plus the given extra patterns (parsed once, by settings) and
    /// the bind address when it names one specific host.
    pub fn new(
        extra_hosts: &[HostPattern],
        extra_origins: &[OriginPattern],
        bind_host: &str,
        token: Option<Secret>,
    ) -> Self {
        let mut hosts: Vec<HostPattern> = LOOPBACK_HOSTS
            .iter()
            .map(|h| HostPattern::Name {
                host: (*h).to_string(),
                port: None,
            })
            .collect();
        if !is_wildcard_bind(bind_host) {
            if let Ok(p) = parse_host_pattern(bind_host) {
                hosts.push(p);
            }
        }
        hosts.extend(extra_hosts.iter().cloned());
        let mut origins = Vec::new();
        for scheme in ["http", "https"] {
            for host in LOOPBACK_HOSTS {
                origins.push(OriginPattern::Tuple {
                    scheme: scheme.into(),
                    host: host.into(),
                    port: PortPattern::Any,
                });
            }
        }
        origins.extend(extra_origins.iter().cloned());
        Self {
            hosts,
            origins,
            token,
            named: Vec::new(),
            oauth: None,
        }
    }

    /// This policy, also accepting these named tokens (MCP_AUTH_TOKENS); a token's grant is
    /// named with these scope names when a call goes beyond it.
    pub fn with_named_tokens(mut self, named: &[NamedToken], names: &ScopeNames) -> Self {
        self.named = named
            .iter()
            .map(|t| {
                let permission = t.grant.clone().map(|g| {
                    Arc::new(Permission {
                        grants: vec![g],
                        names: names.clone(),
                    })
                });
                (t.name.clone(), t.token.clone(), permission)
            })
            .collect();
        self
    }

    /// This policy, taking OAuth access tokens too.
    pub fn with_oauth(mut self, oauth: Option<Arc<ResourceServer>>) -> Self {
        self.oauth = oauth;
        self
    }

    /// The OAuth resource server, when OAuth is on.
    pub fn oauth(&self) -> Option<&Arc<ResourceServer>> {
        self.oauth.as_ref()
    }

    /// Whether a bearer token is required.
    pub fn requires_token(&self) -> bool {
        self.token.is_some() || !self.named.is_empty() || self.oauth.is_some()
    }

    /// The response to a refused request: with OAuth on, a missing or wrong token gets the
    /// challenge that sends a client to sign in.
    pub fn reject(&self, r: Rejection) -> Response {
        crate::metrics::auth_refused(match r {
            Rejection::BadHost => "bad_host",
            Rejection::BadOrigin => "bad_origin",
            Rejection::MissingToken => "missing_token",
            Rejection::WrongToken => "wrong_token",
        });
        match (&self.oauth, &r) {
            (Some(oauth), Rejection::MissingToken) => oauth.unauthorized(None),
            _ => r.into_response(),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let Some((host, port)) = split_authority(host) else {
            return false;
        };
        self.hosts.iter().any(|p| match p {
            HostPattern::Any => true,
            HostPattern::Name { host: h, port: hp } => {
                *h == host && hp.is_none_or(|hp| Some(hp) == port)
            }
        })
    }

    fn origin_allowed(&self, origin: &Origin) -> bool {
        self.origins.iter().any(|p| match (p, origin) {
            (OriginPattern::Any, _) => true,
            (OriginPattern::Null, Origin::Null) => true,
            (
                OriginPattern::Tuple { scheme, host, port },
                Origin::Tuple {
                    scheme: s,
                    host: h,
                    port: op,
                },
            ) => {
                scheme == s
                    && host == h
                    && match port {
                        PortPattern::Any => true,
                        PortPattern::Exact(p) => op.or_else(|| default_port(s)) == Some(*p),
                    }
            }
            _ => false,
        })
    }

    /// Check Host, Origin and the bearer token, in that order.
    pub fn check(&self, headers: &HeaderMap, uri_authority: Option<&str>) -> Result<(), Rejection> {
        self.check_caller(headers, uri_authority).map(|_| ())
    }

    /// [`Policy::check`], with who the credentials name.
    pub fn check_caller(
        &self,
        headers: &HeaderMap,
        uri_authority: Option<&str>,
    ) -> Result<Auth, Rejection> {
        let host = match headers.get(header::HOST) {
            Some(v) => v.to_str().ok(),
            None => uri_authority,
        };
        if !host.is_some_and(|h| self.host_allowed(h)) {
            tracing::warn!(host = %shorten(host.unwrap_or("")), "rejected a request: Host is not allowed (set MCP_ALLOWED_HOSTS to accept it)");
            return Err(Rejection::BadHost);
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin_text = origin.to_str().unwrap_or("");
            let ok = parse_origin_header(origin_text).is_some_and(|o| self.origin_allowed(&o));
            if !ok {
                tracing::warn!(origin = %shorten(origin_text), "rejected a request: Origin is not allowed (set MCP_ALLOWED_ORIGINS to accept it)");
                return Err(Rejection::BadOrigin);
            }
        }
        if self.requires_token() {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let (scheme, token) = v.trim().split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
                });
            match given {
                None => {
                    tracing::warn!("rejected a request without a bearer token");
                    return Err(Rejection::MissingToken);
                }
                Some(t) => {
                    let matches =
                        |s: &Secret| bool::from(t.as_bytes().ct_eq(s.expose().as_bytes()));
                    // Every token is compared, so the time taken does not tell which matched.
                    let single = self.token.as_ref().is_some_and(matches);
                    let mut known = None;
                    for (n, s, permission) in &self.named {
                        if matches(s) {
                            known = Some(Identity {
                                name: n.clone(),
                                user: None,
                                permission: permission.clone(),
                            });
                        }
                    }
                    if let Some(identity) = known {
                        return Ok(Auth::Known(identity));
                    }
                    if !single {
                        if self.oauth.is_some() {
                            return Ok(Auth::Bearer(t.to_string()));
                        }
                        tracing::warn!("rejected a request with a wrong bearer token");
                        return Err(Rejection::WrongToken);
                    }
                }
            }
        }
        Ok(Auth::Anonymous)
    }
}

/// A header value cut to a loggable length.
fn shorten(s: &str) -> String {
    s.chars().take(100).filter(|c| !c.is_control()).collect()
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::BadHost => text(
                StatusCode::FORBIDDEN,
                "Forbidden: Host header is not allowed",
            ),
            Rejection::BadOrigin => text(
                StatusCode::FORBIDDEN,
                "Forbidden: Origin header is not allowed",
            ),
            Rejection::MissingToken => {
                let mut r = text(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: send the header Authorization: Bearer <MCP_AUTH_TOKEN>",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"altr-mcp\""),
                );
                r
            }
            Rejection::WrongToken => {
                let mut r = text(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: invalid bearer token",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"altr-mcp\", error=\"invalid_token\""),
                );
                r
            }
        }
    }
}

/// A plain-text response.
pub fn text(status: StatusCode, message: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

/// A JSON-RPC error response with HTTP 400.
fn jsonrpc_error(id: Value, code: i64, message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
        ),
    )
        .into_response()
}

/// The state of [`guard`].
#[derive(Clone)]
pub struct GuardState {
    pub policy: Arc<Policy>,
    /// Cancelled when the server stops taking new requests.
    pub draining: CancellationToken,
    pub inflight: Arc<Inflight>,
    /// Time allowed to receive a request body (MCP_BODY_TIMEOUT).
    pub body_timeout: std::time::Duration,
    /// The tools served, to tell which scope a tools/call needs.
    pub tools: Arc<Registry>,
    /// Which caller each session belongs to.
    pub owners: Arc<super::owners::Owners>,
}

/// What the guard learnt of a POSTed message, for the routes behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// The message is an `initialize` request (it would open a session).
    pub initialize: bool,
    /// The id and method of a request (none for a notification or a response).
    pub request: Option<(rmcp::model::RequestId, String)>,
}

/// How much of a too-large body is read and discarded before answering 413, so the client gets
/// the answer instead of a broken connection; beyond this (or [`DRAIN_TIME`]) it is cut off.
const DRAIN_LIMIT: u64 = 4 * MAX_BODY_BYTES as u64;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

fn too_large() -> Response {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Payload Too Large: a request body may be at most 4 MiB",
    )
}

/// Read a body of at most [`MAX_BODY_BYTES`].
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut seen: u64 = 0;
    if declared.is_none_or(|n| n <= MAX_BODY_BYTES as u64) {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| {
                text(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: the body could not be read",
                )
            })?;
            seen += chunk.len() as u64;
            if buf.len() + chunk.len() > MAX_BODY_BYTES {
                break;
            }
            buf.extend_from_slice(&chunk);
        }
        if seen <= MAX_BODY_BYTES as u64 {
            return Ok(Bytes::from(buf));
        }
    }
    let drain = async {
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.len() as u64;
            if seen > DRAIN_LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    Err(too_large())
}

/// A body that is not one JSON-RPC message: answered with HTTP 400 and a JSON-RPC error.
#[derive(Debug, Clone, PartialEq)]
pub struct BadMessage {
    pub id: Value,
    pub code: i64,
    pub message: String,
}

impl IntoResponse for BadMessage {
    fn into_response(self) -> Response {
        jsonrpc_error(self.id, self.code, self.message)
    }
}

/// Parse one JSON-RPC message, or say why the body is not one (-32700 for a JSON syntax error,
/// -32600 for JSON that is not a message this server understands).
pub fn check_message(body: &[u8]) -> Result<ClientJsonRpcMessage, BadMessage> {
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Err(BadMessage {
            id: Value::Null,
            code: -32700,
            message: format!("Parse error: the request body is not valid JSON ({e})"),
        });
    }
    serde_json::from_slice::<ClientJsonRpcMessage>(body).map_err(|_| {
        let id = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| {
                v.get("id")
                    .filter(|id| id.is_string() || id.is_number())
                    .cloned()
            })
            .unwrap_or(Value::Null);
        BadMessage {
            id,
            code: -32600,
            message: "Invalid Request: the body must be one JSON-RPC 2.0 request, notification or response with a known method and valid params".into(),
        }
    })
}

/// The middleware in front of every MCP route: security checks, drain state, body checks, and
/// in-flight accounting for POSTs (held until the response body has been sent).
pub async fn guard(State(st): State<GuardState>, req: Request, next: Next) -> Response {
    if req.headers().get_all(header::HOST).iter().nth(1).is_some() {
        tracing::warn!("rejected a request with more than one Host header");
        return text(
            StatusCode::BAD_REQUEST,
            "Bad Request: more than one Host header",
        );
    }
    let authority = req.uri().authority().map(|a| a.as_str().to_string());
    let mut req = req;
    let identity = match st.policy.check_caller(req.headers(), authority.as_deref()) {
        Err(r) => return st.policy.reject(r),
        Ok(Auth::Anonymous) => None,
        Ok(Auth::Known(identity)) => Some(identity),
        Ok(Auth::Bearer(token)) => {
            let Some(oauth) = st.policy.oauth() else {
                return Rejection::WrongToken.into_response();
            };
            match oauth.identify(&token).await {
                Ok(identity) => Some(identity),
                // The identity provider cannot be asked: fail closed, but as a pause (503), not
                // as a bad token, so the client retries instead of signing in again.
                Err(TokenError::IdpUnavailable) => {
                    crate::metrics::auth_refused("idp_unavailable");
                    tracing::warn!("refused a request: the identity provider cannot be reached to check its access token");
                    let mut r = text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Service Unavailable: the identity provider cannot be reached to check the access token; try again shortly",
                    );
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                    return r;
                }
                Err(e) => {
                    crate::metrics::auth_refused("invalid_token");
                    tracing::warn!(
                        reason = e.description(),
                        "rejected a request with an invalid access token"
                    );
                    return oauth.unauthorized(Some(e));
                }
            }
        }
    };
    if let Some(identity) = &identity {
        req.extensions_mut().insert(identity.clone());
    }
    // A session opened by a signed-in caller is theirs alone (404 to anyone else, as for a
    // session that does not exist).
    let session = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let caller = identity.as_ref().map(|i| i.name.clone());
    if let Some(id) = &session {
        if !st.owners.admits(id, caller.as_deref()) {
            crate::metrics::auth_refused("foreign_session");
            tracing::warn!(
                caller = caller.as_deref().unwrap_or("-"),
                "refused a request for a session another caller opened"
            );
            return text(
                StatusCode::NOT_FOUND,
                "Not Found: no such session; open a new one with initialize",
            );
        }
        if req.method() == Method::DELETE {
            st.owners.forget(id);
        }
    }
    if st.draining.is_cancelled() {
        let mut r = text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: the server is shutting down",
        );
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let held = st.inflight.enter();
    let (mut parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(st.body_timeout, read_body(&parts.headers, body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(r)) => return r,
        Err(_) => {
            tracing::warn!(
                "closed a connection whose request body did not arrive in time (MCP_BODY_TIMEOUT)"
            );
            let mut r = text(
                StatusCode::REQUEST_TIMEOUT,
                "Request Timeout: the request body did not arrive in time",
            );
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    let message = match check_message(&bytes) {
        Ok(m) => m,
        Err(bad) => return bad.into_response(),
    };
    // A tools/call beyond an OAuth caller's permission is refused here with 403 and the scope it
    // needs, so the client can ask for it (step-up); the pipeline's authorization gate refuses
    // the same call for every other caller with a permission.
    if let (Some(oauth), Some(permission)) = (
        st.policy.oauth(),
        identity.as_ref().and_then(|i| i.permission.as_ref()),
    ) {
        if let Some(def) = called_tool(&message, &st.tools) {
            if permission.refusal(def).is_some() {
                crate::metrics::auth_refused("insufficient_scope");
                tracing::warn!(
                    tool = def.name,
                    caller = identity.as_ref().map(|i| i.name.as_str()),
                    "refused a call beyond the caller's scopes"
                );
                return oauth.insufficient_scope(permission.scope_for(def), def.name);
            }
        }
    }
    parts.extensions.insert(MessageInfo {
        initialize: matches!(
            &message,
            ClientJsonRpcMessage::Request(r)
                if matches!(r.request, rmcp::model::ClientRequest::InitializeRequest(_))
        ),
        request: match &message {
            ClientJsonRpcMessage::Request(r) => {
                Some((r.id.clone(), r.request.method().to_string()))
            }
            _ => None,
        },
    });
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // The session an initialize opened belongs to the caller who opened it.
    if let Some(caller) = &caller {
        if let Some(id) = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            if session.is_none() {
                st.owners.bind(id, caller);
            }
        }
    }
    let (parts, body) = response.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _ = &held;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// The served tool a tools/call names (by its name or an earlier one).
fn called_tool<'a>(
    message: &ClientJsonRpcMessage,
    tools: &'a Registry,
) -> Option<&'a crate::registry::ToolDef> {
    let ClientJsonRpcMessage::Request(r) = message else {
        return None;
    };
    let rmcp::model::ClientRequest::CallToolRequest(call) = &r.request else {
        return None;
    };
    let name = call.params.name.as_ref();
    tools.get(tools.alias(name).unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_is_allowed_by_default_and_others_are_not() {
        let p = Policy::new(&[], &[], "127.0.0.1", None);
        for ok in [
            "localhost",
            "localhost:8000",
            "127.0.0.1:1",
            "[::1]:9",
            "LOCALHOST",
        ] {
            assert_eq!(p.check(&headers(&[("host", ok)]), None), Ok(()), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8000",
            "127.0.0.1.evil.example",
            "",
            "[::2]",
        ] {
            assert_eq!(
                p.check(&headers(&[("host", bad)]), None),
                Err(Rejection::BadHost),
                "{bad}"
            );
        }
        assert_eq!(p.check(&HeaderMap::new(), None), Err(Rejection::BadHost));
        let ok_origin = headers(&[("host", "localhost"), ("origin", "http://localhost:3000")]);
        assert_eq!(p.check(&ok_origin, None), Ok(()));
        for bad in [
            "https://evil.example",
            "null",
            "garbage",
            "http://localhost.evil.example",
        ] {
            let h = headers(&[("host", "localhost"), ("origin", bad)]);
            assert_eq!(p.check(&h, None), Err(Rejection::BadOrigin), "{bad}");
        }
    }

    #[test]
    fn extra_hosts_and_origins_extend_the_defaults() {
        let p = Policy::new(
            &[
                parse_host_pattern("mcp.example.com").unwrap(),
                parse_host_pattern("api.example.com:443").unwrap(),
            ],
            &[parse_origin_pattern("https://app.example.com").unwrap()],
            "0.0.0.0",
            None,
        );
        let ok = |h: &[(&'static str, &str)]| p.check(&headers(h), None);
        assert_eq!(ok(&[("host", "mcp.example.com:8000")]), Ok(()));
        assert_eq!(ok(&[("host", "api.example.com:443")]), Ok(()));
        assert_eq!(
            ok(&[("host", "api.example.com:80")]),
            Err(Rejection::BadHost)
        );
        assert_eq!(ok(&[("host", "0.0.0.0:8000")]), Err(Rejection::BadHost));
        assert_eq!(
            ok(&[("host", "localhost"), ("origin", "https://app.example.com")]),
            Ok(())
        );
        assert_eq!(
            ok(&[
                ("host", "localhost"),
                ("origin", "https://app.example.com:443")
            ]),
            Ok(())
        );
        assert_eq!(
            ok(&[
                ("host", "localhost"),
                ("origin", "https://app.example.com:8443")
            ]),
            Err(Rejection::BadOrigin)
        );
        assert_eq!(
            ok(&[("host", "localhost"), ("origin", "http://app.example.com")]),
            Err(Rejection::BadOrigin)
        );
        // A specific bind address is accepted as a Host.
        let p = Policy::new(&[], &[], "10.1.2.3", None);
        assert_eq!(
            p.check(&headers(&[("host", "10.1.2.3:8000")]), None),
            Ok(())
        );
        let any = Policy::new(&[HostPattern::Any], &[OriginPattern::Any], "0.0.0.0", None);
        assert_eq!(
            any.check(
                &headers(&[("host", "x.example"), ("origin", "https://y.example")]),
                None
            ),
            Ok(())
        );
    }

    #[test]
    fn bearer_token_is_required_and_compared() {
        let p = Policy::new(&[], &[], "127.0.0.1", Some(Secret::new("s3cret-token")));
        let h = |auth: Option<&str>| {
            let mut v = vec![("host", "localhost")];
            if let Some(a) = auth {
                v.push(("authorization", a));
            }
            p.check(&headers(&v), None)
        };
        assert_eq!(h(None), Err(Rejection::MissingToken));
        assert_eq!(h(Some("Basic czNjcmV0")), Err(Rejection::MissingToken));
        assert_eq!(h(Some("Bearer wrong")), Err(Rejection::WrongToken));
        assert_eq!(
            h(Some("Bearer s3cret-token-longer")),
            Err(Rejection::WrongToken)
        );
        assert_eq!(h(Some("Bearer s3cret-token")), Ok(()));
        assert_eq!(h(Some("bearer  s3cret-token ")), Ok(()));
        let r = Rejection::MissingToken.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
    }

    #[test]
    fn named_tokens_are_accepted_and_name_their_caller() {
        let token = |name: &str, grant: Option<&str>| NamedToken {
            name: name.to_string(),
            token: Secret::new(format!("tok-{name}")),
            grant: grant.map(|g| {
                crate::safety::permission::Grant::parse(g, crate::toolsets::TOOLSETS).unwrap()
            }),
        };
        let named = vec![token("alice", None), token("bob", Some("read"))];
        let names = ScopeNames::default();
        let only_named = Policy::new(&[], &[], "127.0.0.1", None).with_named_tokens(&named, &names);
        assert!(only_named.requires_token());
        let both = Policy::new(&[], &[], "127.0.0.1", Some(Secret::new("single")))
            .with_named_tokens(&named, &names);
        for p in [&only_named, &both] {
            let h = |auth: &str| {
                p.check_caller(
                    &headers(&[("host", "localhost"), ("authorization", auth)]),
                    None,
                )
            };
            let Ok(Auth::Known(bob)) = h("Bearer tok-bob") else {
                panic!("bob is known")
            };
            assert_eq!(bob.name, "bob");
            assert!(bob.permission.is_some(), "a grant limits bob");
            let Ok(Auth::Known(alice)) = h("Bearer tok-alice") else {
                panic!("alice is known")
            };
            assert_eq!((alice.name.as_str(), alice.permission), ("alice", None));
            assert_eq!(h("Bearer tok-carol"), Err(Rejection::WrongToken));
        }
        let h = |auth: &str| {
            both.check_caller(
                &headers(&[("host", "localhost"), ("authorization", auth)]),
                None,
            )
        };
        assert_eq!(h("Bearer single"), Ok(Auth::Anonymous));
        assert_eq!(
            only_named.check_caller(&headers(&[("host", "localhost")]), None),
            Err(Rejection::MissingToken)
        );
    }

    #[test]
    fn malformed_bodies_get_jsonrpc_errors() {
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).is_ok());
        let bad = check_message(b"{not json").unwrap_err();
        assert_eq!((bad.id.clone(), bad.code), (Value::Null, -32700));
        assert_eq!(bad.into_response().status(), StatusCode::BAD_REQUEST);
        let bad = check_message(br#"{"jsonrpc":"2.0","id":7,"nomethod":true}"#).unwrap_err();
        assert_eq!((bad.id.clone(), bad.code), (json!(7), -32600));
        assert_eq!(bad.into_response().status(), StatusCode::BAD_REQUEST);
    }
}
