//! Every setting of the server, read once from flags and environment variables and validated into
//! [`Settings`]: one section per part of the server (client, http, selection, safety, call, log),
//! each part receiving its own section. Each variable is declared once, in `sections!` below:
//! its name (also its flag: `MAX_RETRIES` is `--max-retries`), its help text (its doc comment),
//! how it is parsed and its default. That one declaration drives the section structs, the clap
//! flags, `--help`, and the README check that documents every variable. The base URL of each ALTR
//! service is one more variable, named by the service itself ([`Service::env_var`]).
//!
//! A flag wins over its environment variable; environment variable names are matched
//! case-insensitively (as the Python server does), so `org_id` works as well as `ORG_ID`.

pub mod patterns;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::client::Service;
use crate::safety::confirm::ConfirmPolicy;
use crate::safety::permission::{ClaimMapping, Grant, ScopeNames};
use patterns::{parse_host_pattern, parse_origin_pattern, HostPattern, OriginPattern};

/// A secret that never shows itself in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The clear value; use only where the secret is sent (auth headers, token comparison).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Stdio,
    Sse,
    StreamableHttp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Sse => "sse",
            Transport::StreamableHttp => "streamable-http",
        }
    }
}

/// How log lines are written (LOG_FORMAT); defined with the logging, which needs no settings.
pub use crate::logging::LogFormat;

/// Where raw setting values come from: flags first, then the environment.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Values given as command-line flags, keyed by variable name (upper case).
    pub flags: BTreeMap<String, String>,
    /// The environment, keyed by variable name as it was spelled.
    pub env: BTreeMap<String, String>,
}

impl Sources {
    /// The process environment and the given flags.
    pub fn from_process(flags: BTreeMap<String, String>) -> Self {
        Self {
            flags,
            env: std::env::vars().collect(),
        }
    }

    /// A source made of environment-like pairs only (used by tests and the sandbox).
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            flags: BTreeMap::new(),
            env: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The raw value of `name`: a flag, else an exact env match, else a case-insensitive one.
    pub fn get(&self, name: &str) -> Option<&str> {
        if let Some(v) = self.flags.get(name) {
            return Some(v);
        }
        if let Some(v) = self.env.get(name) {
            return Some(v);
        }
        self.env
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads raw values and collects every problem, so all of them are reported at once.
pub struct Reader<'a> {
    src: &'a Sources,
    problems: Vec<String>,
}

impl<'a> Reader<'a> {
    fn new(src: &'a Sources) -> Self {
        Self {
            src,
            problems: Vec::new(),
        }
    }

    fn raw(&self, name: &str) -> Option<String> {
        self.src.get(name).map(|v| v.trim().to_string())
    }

    /// The trimmed value, `None` when unset or empty.
    fn given(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }
}

type Parse<T> = fn(&mut Reader<'_>, &'static str) -> T;

// ---- How values are read. Each parser names the variable in its problems and never echoes the
// value. -----------------------------------------------------------------------------------

fn text_or(r: &Reader<'_>, name: &str, default: &str) -> String {
    r.given(name).unwrap_or_else(|| default.to_string())
}

fn boolean_or(r: &mut Reader<'_>, name: &'static str, default: bool) -> bool {
    let Some(v) = r.given(name) else {
        return default;
    };
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => true,
        "0" | "false" | "f" | "no" | "n" | "off" => false,
        _ => {
            r.problem(format!("{name}: not a boolean; use true or false"));
            default
        }
    }
}

fn off(r: &mut Reader<'_>, name: &'static str) -> bool {
    boolean_or(r, name, false)
}

fn seconds_or(r: &mut Reader<'_>, name: &'static str, default: f64) -> Duration {
    let Some(v) = r.given(name) else {
        return Duration::from_secs_f64(default);
    };
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x < 1.0e9 => Duration::from_secs_f64(x),
        _ => {
            r.problem(format!(
                "{name}: must be a finite number of seconds greater than 0 (default {default})"
            ));
            Duration::from_secs_f64(default)
        }
    }
}

fn whole_or(
    r: &mut Reader<'_>,
    name: &'static str,
    (default, min, max): (u64, u64, u64),
    what: &str,
) -> u64 {
    let Some(v) = r.given(name) else {
        return default;
    };
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            r.problem(format!(
                "{name}: must be a whole number of {what} from {min} to {max} (default {default})"
            ));
            default
        }
    }
}

fn list(r: &mut Reader<'_>, name: &'static str) -> Vec<String> {
    r.raw(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn trimmed_text(r: &mut Reader<'_>, name: &'static str) -> String {
    r.raw(name).unwrap_or_default()
}

/// A secret as given, untrimmed (a key secret may end in a space).
fn exact_secret(r: &mut Reader<'_>, name: &'static str) -> Secret {
    Secret::new(r.src.get(name).unwrap_or_default())
}

fn trimmed_secret(r: &mut Reader<'_>, name: &'static str) -> Secret {
    Secret::new(trimmed_text(r, name))
}

fn optional_secret(r: &mut Reader<'_>, name: &'static str) -> Option<Secret> {
    r.given(name).map(Secret::new)
}

fn transport(r: &mut Reader<'_>, name: &'static str) -> Transport {
    match text_or(r, name, "stdio").to_ascii_lowercase().as_str() {
        "stdio" => Transport::Stdio,
        "sse" => Transport::Sse,
        "streamable-http" => Transport::StreamableHttp,
        _ => {
            r.problem(format!(
                "{name}: must be one of stdio, sse, streamable-http"
            ));
            Transport::Stdio
        }
    }
}

fn port(r: &mut Reader<'_>, name: &'static str) -> u16 {
    match r.given(name) {
        None => 8000,
        Some(v) => v.parse::<u16>().unwrap_or_else(|_| {
            r.problem(format!("{name}: must be a whole number from 0 to 65535"));
            8000
        }),
    }
}

/// A comma-separated list of patterns, each parsed by `parse`; `shape` says what is expected
/// when one is not (the value itself is never shown).
fn patterns<T, E>(
    r: &mut Reader<'_>,
    name: &'static str,
    parse: fn(&str) -> Result<T, E>,
    shape: &str,
) -> Vec<T> {
    let items = list(r, name);
    let parsed: Vec<T> = items.iter().filter_map(|i| parse(i).ok()).collect();
    if parsed.len() != items.len() {
        r.problem(format!("{name}: {shape}, separated by commas"));
    }
    parsed
}

fn hosts(r: &mut Reader<'_>, name: &'static str) -> Vec<HostPattern> {
    patterns(
        r,
        name,
        parse_host_pattern,
        "list host names or host:port (no scheme or path), or *",
    )
}

fn origins(r: &mut Reader<'_>, name: &'static str) -> Vec<OriginPattern> {
    let shape =
        "list origins as scheme://host, scheme://host:port or scheme://host:* (or * or null)";
    patterns(r, name, parse_origin_pattern, shape)
}

fn tokens(r: &mut Reader<'_>, name: &'static str) -> Vec<NamedToken> {
    let items = list(r, name);
    named_tokens(&items, &mut r.problems)
}

/// `host:port` with an IP host (`localhost` for loopback), or a port alone for 127.0.0.1.
fn metrics_addr(r: &mut Reader<'_>, name: &'static str) -> Option<std::net::SocketAddr> {
    let text = r.given(name)?;
    let loopback = |port: &str| port.parse::<u16>().ok().map(|p| ([127, 0, 0, 1], p).into());
    let parsed = match text.strip_prefix("localhost:") {
        Some(port) => loopback(port),
        None => text.parse().ok().or_else(|| loopback(&text)),
    };
    if parsed.is_none() {
        r.problem(format!(
            "{name}: must be an address and port (e.g. 127.0.0.1:9464 or 0.0.0.0:9464) or a port alone (loopback)"
        ));
    }
    parsed
}

fn optional_text(r: &mut Reader<'_>, name: &'static str) -> Option<String> {
    r.given(name)
}

fn state_keys(r: &mut Reader<'_>, name: &'static str) -> Vec<(String, Secret)> {
    let text = r.src.get(name).unwrap_or_default().to_string();
    key_entries(name, &text, &mut r.problems)
}

/// `id:key` entries (MCP_STATE_KEYS, or the file MCP_STATE_KEYS_FILE names), separated by commas
/// or new lines: ids unique, keys at least 32 bytes. Problems never show a key.
pub fn key_entries(name: &str, text: &str, problems: &mut Vec<String>) -> Vec<(String, Secret)> {
    let mut out: Vec<(String, Secret)> = Vec::new();
    for (i, entry) in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let Some((id, key)) = entry.split_once(':') else {
            problems.push(format!("{name}: entry {} must be id:key", i + 1));
            continue;
        };
        let id = id.trim();
        if id.is_empty() || id.len() > 64 || out.iter().any(|(have, _)| have == id) {
            problems.push(format!(
                "{name}: entry {} needs an id of its own (1 to 64 characters)",
                i + 1
            ));
            continue;
        }
        if key.trim().len() < 32 {
            problems.push(format!("{name}: the key of {id} is shorter than 32 bytes; use a long random value (e.g. openssl rand -hex 32)"));
            continue;
        }
        out.push((id.to_string(), Secret::new(key.trim())));
    }
    out
}

fn log_level(r: &mut Reader<'_>, name: &'static str) -> tracing::Level {
    match text_or(r, name, "info").to_ascii_lowercase().as_str() {
        "error" | "critical" => tracing::Level::ERROR,
        "warn" | "warning" => tracing::Level::WARN,
        "info" => tracing::Level::INFO,
        "debug" => tracing::Level::DEBUG,
        "trace" => tracing::Level::TRACE,
        _ => {
            r.problem(format!(
                "{name}: must be one of error, warn, info, debug, trace"
            ));
            tracing::Level::INFO
        }
    }
}

fn log_format(r: &mut Reader<'_>, name: &'static str) -> LogFormat {
    match text_or(r, name, "console").to_ascii_lowercase().as_str() {
        "console" | "text" => LogFormat::Console,
        "json" => LogFormat::Json,
        _ => {
            r.problem(format!("{name}: must be console or json"));
            LogFormat::Console
        }
    }
}

fn attempts(r: &mut Reader<'_>, name: &'static str) -> u32 {
    match r.given(name) {
        None => 3,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=20).contains(&n) => n,
            _ => {
                r.problem(format!(
                    "{name}: must be a whole number from 1 to 20 (total attempts per request)"
                ));
                3
            }
        },
    }
}

fn audit_target(r: &mut Reader<'_>, name: &'static str) -> Option<String> {
    let target = r.given(name)?;
    if target != "-" {
        let p = std::path::Path::new(&target);
        let dir_ok = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.is_dir(),
            _ => true,
        };
        if !dir_ok || p.is_dir() {
            r.problem(format!(
                "{name}: must be - (stderr) or a file in an existing directory"
            ));
        }
    }
    Some(target)
}

/// Declares the sections: for each field its variable, help text (its doc comment), parser and
/// type. Generates the section structs, their reading and their defaults, and [`DECLARED`].
macro_rules! sections {
    ($(
        $(#[doc = $sdoc:literal])*
        $Section:ident {
            $(
                $(#[doc = $doc:literal])+
                $field:ident: $ty:ty = $var:literal, $parse:expr;
            )*
        }
    )*) => {
        $(
            $(#[doc = $sdoc])*
            #[derive(Debug, Clone, PartialEq)]
            pub struct $Section {
                $( $(#[doc = $doc])+ pub $field: $ty, )*
            }

            impl $Section {
                fn read(r: &mut Reader<'_>) -> Self {
                    Self { $( $field: { let parse: Parse<$ty> = $parse; parse(r, $var) }, )* }
                }
            }

            /// Every variable unset.
            impl Default for $Section {
                fn default() -> Self {
                    Self::read(&mut Reader::new(&Sources::default()))
                }
            }
        )*

        /// Every declared variable and its help text, in declaration order (the services' base
        /// URLs are added by [`variables`]).
        pub const DECLARED: &[(&str, &str)] = &[ $( $( ($var, concat!($($doc),+)), )* )* ];
    };
}

sections! {
    /// The ALTR API client: credentials, retries and limits.
    ClientSettings {
        /// ALTR organization id; forms the org-scoped service hostnames (required to serve)
        org_id: String = "ORG_ID", trimmed_text;
        /// ALTR management API key name, the HTTP Basic user (required to serve)
        mapi_key: Secret = "MAPI_KEY", trimmed_secret;
        /// ALTR management API key secret, the HTTP Basic password (required to serve)
        mapi_secret: Secret = "MAPI_SECRET", exact_secret;
        /// true to serve a built-in simulated ALTR org instead of a real one; no credentials needed (same as --sandbox)
        sandbox: bool = "ALTR_SANDBOX", off;
        /// total attempts per ALTR request, at least 1 (default 3)
        max_retries: u32 = "MAX_RETRIES", attempts;
        /// true to make exactly one attempt per request (default false)
        disable_retry: bool = "DISABLE_RETRY", off;
        /// seconds allowed for each attempt (default 30)
        request_timeout: Duration = "REQUEST_TIMEOUT", |r, n| seconds_or(r, n, 30.0);
        /// largest ALTR response body read, in bytes; a larger one is an error (default 4194304, 4 MiB)
        max_response_bytes: usize = "MAX_RESPONSE_BYTES", |r, n| whole_or(r, n, (4 << 20, 1024, 1 << 30), "bytes") as usize;
        /// longest wait in seconds between attempts, for Retry-After and backoff (default 60)
        max_retry_after: Duration = "MAX_RETRY_AFTER", |r, n| seconds_or(r, n, 60.0);
    }

    /// The MCP transports and the HTTP listener.
    HttpSettings {
        /// stdio (default), sse or streamable-http
        transport: Transport = "MCP_TRANSPORT", transport;
        /// address the HTTP transports bind (default 127.0.0.1)
        host: String = "MCP_HOST", |r, n| text_or(r, n, "127.0.0.1");
        /// port the HTTP transports bind (default 8000)
        port: u16 = "MCP_PORT", port;
        /// bearer token HTTP clients must send as `Authorization: Bearer <token>` (required to bind a non-loopback address)
        auth_token: Option<Secret> = "MCP_AUTH_TOKEN", optional_secret;
        /// true to serve HTTP on a non-loopback address without MCP_AUTH_TOKEN (default false)
        allow_unauthenticated: bool = "MCP_ALLOW_UNAUTHENTICATED", off;
        /// comma-separated extra Host values accepted over HTTP: name, name:port or * (loopback names always)
        allowed_hosts: Vec<HostPattern> = "MCP_ALLOWED_HOSTS", hosts;
        /// comma-separated extra browser Origins accepted over HTTP: scheme://host[:port|:*] or * (loopback always)
        allowed_origins: Vec<OriginPattern> = "MCP_ALLOWED_ORIGINS", origins;
        /// true to serve streamable HTTP without sessions, for replicas behind a load balancer (default false)
        stateless: bool = "MCP_STATELESS", off;
        /// false to offer no MCP App (the masking matrix) even to clients that render apps (default true)
        apps: bool = "MCP_APPS", |r, n| boolean_or(r, n, true);
        /// seconds an HTTP session may stay idle before it is closed (default 300)
        session_idle_timeout: Duration = "MCP_SESSION_IDLE_TIMEOUT", |r, n| seconds_or(r, n, 300.0);
        /// most HTTP sessions open at once; a new session beyond it gets 503 (default 1000)
        max_sessions: usize = "MCP_MAX_SESSIONS", |r, n| whole_or(r, n, (1000, 1, 1_000_000), "sessions") as usize;
        /// seconds a client has to send a request's headers; also how long an idle keep-alive connection stays open (default 10)
        header_timeout: Duration = "MCP_HEADER_TIMEOUT", |r, n| seconds_or(r, n, 10.0);
        /// seconds a client has to send a request body (default 30)
        body_timeout: Duration = "MCP_BODY_TIMEOUT", |r, n| seconds_or(r, n, 30.0);
        /// comma-separated name:token pairs; HTTP clients may send any of these bearer tokens, and the audit log names the caller by the token's name. name/grant:token limits that token (grant as in MCP_OAUTH_GROUPS, e.g. ci/read@default:secret)
        auth_tokens: Vec<NamedToken> = "MCP_AUTH_TOKENS", tokens;
        /// the public URL of the MCP endpoint as clients reach it, e.g. https://altr-mcp.example.com/mcp: the OAuth resource, and the audience access tokens must carry (required with MCP_OAUTH_ISSUER)
        public_url: Option<String> = "MCP_PUBLIC_URL", optional_text;
        /// the OAuth authorization server's issuer URL; setting it turns on OAuth sign-in over HTTP (access tokens checked against its published keys)
        oauth_issuer: Option<String> = "MCP_OAUTH_ISSUER", optional_text;
        /// another audience access tokens may carry instead of MCP_PUBLIC_URL (e.g. Entra ID's api://<application id>)
        oauth_audience: Option<String> = "MCP_OAUTH_AUDIENCE", optional_text;
        /// the issuer's JWKS URL, when its metadata (RFC 8414 or OpenID discovery) does not give it
        oauth_jwks_url: Option<String> = "MCP_OAUTH_JWKS_URL", optional_text;
        /// token introspection endpoint (RFC 7662), to accept opaque (non-JWT) access tokens
        oauth_introspection_url: Option<String> = "MCP_OAUTH_INTROSPECTION_URL", optional_text;
        /// client id this server introspects tokens with (HTTP Basic, with MCP_OAUTH_CLIENT_SECRET)
        oauth_client_id: Option<String> = "MCP_OAUTH_CLIENT_ID", optional_text;
        /// client secret this server introspects tokens with
        oauth_client_secret: Option<Secret> = "MCP_OAUTH_CLIENT_SECRET", optional_secret;
        /// comma-separated kind=scope entries renaming the scopes altr:read, altr:write, altr:destructive, altr:cleartext (e.g. read=api://altr/read)
        oauth_scopes: Vec<String> = "MCP_OAUTH_SCOPES", list;
        /// the access-token claim listing the user's groups or roles (e.g. groups, roles), read with MCP_OAUTH_GROUPS
        oauth_groups_claim: Option<String> = "MCP_OAUTH_GROUPS_CLAIM", optional_text;
        /// comma-separated group=grant entries: kinds read, write, destructive, cleartext or all joined by +, optionally @ and toolsets joined by + (e.g. altr-admins=all, analysts=read@default)
        oauth_groups: Vec<String> = "MCP_OAUTH_GROUPS", list;
    }

    /// Which tools the server exposes.
    SelectionSettings {
        /// comma-separated tool names to hide and refuse
        restricted_tools: Vec<String> = "RESTRICTED_TOOLS", list;
        /// comma-separated toolsets to expose: domain names, `default` or `all` (default all)
        toolsets: Vec<String> = "ALTR_TOOLSETS", list;
        /// true to expose only read-only tools (default false)
        read_only: bool = "ALTR_READ_ONLY", off;
        /// true to expose the detokenize tools, which return protected values in clear text (default false, read-only mode or not)
        allow_cleartext: bool = "ALTR_ALLOW_CLEARTEXT", off;
        /// true to start each session with the ALTR_TOOLSETS selection (`default` when unset) plus list_toolsets and enable_toolset, which add toolsets on demand (default false)
        dynamic_toolsets: bool = "ALTR_DYNAMIC_TOOLSETS", off;
    }

    /// Confirmation and the audit trail.
    SafetySettings {
        /// confirmation of destructive calls: elicit (default; ask clients that support elicitation), required (clients that cannot be asked must send confirm: true) or never
        confirm: String = "ALTR_CONFIRM", |r, n| text_or(r, n, "elicit");
        /// comma-separated per-tool confirmation overrides: +tool to confirm a non-destructive tool, -tool to skip a destructive one
        confirm_tools: Vec<String> = "ALTR_CONFIRM_TOOLS", list;
        /// file to append one JSON line per tool call and refusal to, or - for stderr; a failed write fails the call (default none)
        audit_log: Option<String> = "ALTR_AUDIT_LOG", audit_target;
        /// true to serve every session in support mode, read-only troubleshooting no tool call can leave: only the lookups and enter_support_mode (default false)
        support_mode: bool = "SUPPORT_MODE", off;
        /// true to publish the eight altr_* troubleshooting prompts and tell the model how support mode works (default false)
        support_prompts: bool = "SUPPORT_PROMPTS", off;
        /// comma-separated id:key entries that seal confirmation state, the same on every replica so any one opens what another sealed; the first seals, every one opens (rotate by putting a new key first); keys of at least 32 bytes (default: a random key per process)
        state_keys: Vec<(String, Secret)> = "MCP_STATE_KEYS", state_keys;
        /// a file holding the MCP_STATE_KEYS entries (comma- or newline-separated) instead of the environment
        state_keys_file: Option<String> = "MCP_STATE_KEYS_FILE", optional_text;
    }

    /// The bounds of one tool call.
    CallSettings {
        /// seconds one tool call may take in all, every request and retry included (default 120)
        call_timeout: Duration = "CALL_TIMEOUT", |r, n| seconds_or(r, n, 120.0);
        /// largest tool result returned, in bytes of JSON; a larger one is cut and marked truncated (default 524288, 512 KiB)
        max_result_bytes: usize = "MAX_RESULT_BYTES", |r, n| whole_or(r, n, (crate::registry::ctx::DEFAULT_RESULT_BYTES as u64, 1024, 1 << 30), "bytes") as usize;
    }

    /// Logs (always on stderr).
    LogSettings {
        /// error, warn (or warning), info (default), debug or trace; critical is accepted as error
        log_level: tracing::Level = "LOG_LEVEL", log_level;
        /// console (default; text is the same) or json; logs always go to stderr
        log_format: LogFormat = "LOG_FORMAT", log_format;
        /// address of a separate listener serving Prometheus metrics at /metrics (never MCP), e.g. 127.0.0.1:9464, or a port for loopback; for every transport, stdio included (default none)
        metrics_addr: Option<std::net::SocketAddr> = "MCP_METRICS_ADDR", metrics_addr;
    }
}

/// What each service's base URL variable configures.
fn service_name(service: Service) -> &'static str {
    match service {
        Service::Api => "the ALTR API service",
        Service::AltrNet => "the ALTRnet service",
        Service::Classification => "classification",
        Service::ScControl => "sidecar control",
        Service::ServiceUser => "service users",
        Service::AuditReport => "audit reports",
        Service::Vault => "vault tokenization",
        Service::Critical => "critical tokenization",
        Service::Kma => "key management",
        Service::DamAlerting => "DAM alerting",
    }
}

/// Every variable this server reads with its help text: the declared ones, then each service's
/// base URL. The name is also the flag (lower case, `_` turned into `-`).
pub fn variables() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = DECLARED
        .iter()
        .map(|(name, help)| (*name, help.trim().to_string()))
        .collect();
    for service in Service::ALL {
        out.push((
            service.env_var(),
            format!(
                "base URL of {} (default {})",
                service_name(service),
                service.default_base_url("{ORG_ID}")
            ),
        ));
    }
    out
}

/// The raw `ALTR_TOOLSETS` and `RESTRICTED_TOOLS` lists, for checking them against the registry
/// even when other settings are invalid (so every problem is reported at once).
pub fn selection_lists(src: &Sources) -> (Vec<String>, Vec<String>) {
    let s = SelectionSettings::read(&mut Reader::new(src));
    (s.toolsets, s.restricted_tools)
}

/// The validated settings of one server process, one section per part of the server.
#[derive(Debug, Clone)]
pub struct Settings {
    pub client: ClientSettings,
    /// Base URL per service, without a trailing slash (the `ALTR_*_BASE_URL` variables, or the
    /// production URL for ORG_ID).
    pub base_urls: BTreeMap<Service, String>,
    pub http: HttpSettings,
    pub selection: SelectionSettings,
    pub safety: SafetySettings,
    /// Which calls need a human's yes, from ALTR_CONFIRM and ALTR_CONFIRM_TOOLS.
    pub confirm: ConfirmPolicy,
    /// OAuth sign-in over HTTP, when MCP_OAUTH_ISSUER is set.
    pub oauth: Option<OAuthSettings>,
    pub call: CallSettings,
    pub log: LogSettings,
}

/// Everything wrong with the configuration, reported at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsError {
    /// Required variables that are not set (or empty), in a fixed order.
    pub missing: Vec<&'static str>,
    /// One message per invalid value: `NAME: problem`.
    pub problems: Vec<String>,
}

impl SettingsError {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.problems.is_empty()
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.missing.is_empty() {
            write!(
                f,
                "Missing required environment variables: {}. Set them (or the matching --flags) to your ALTR org id and management API key, or run `altr-mcp --sandbox` to try the server without an ALTR account.",
                self.missing.join(", ")
            )?;
            if !self.problems.is_empty() {
                writeln!(f)?;
            }
        }
        if !self.problems.is_empty() {
            write!(f, "Configuration validation failed:")?;
            for p in &self.problems {
                write!(f, "\n  - {p}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

/// What the settings are needed for: serving needs credentials, listing tools does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Serve,
    ListTools,
}

fn check_url(name: &str, url: &str, problems: &mut Vec<String>) {
    match reqwest::Url::parse(url) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {
            if u.query().is_some() || u.fragment().is_some() {
                problems.push(format!("{name}: the URL cannot carry a query or fragment"));
            }
        }
        _ => problems.push(format!(
            "{name}: not an http(s) URL with a host, e.g. https://host.example.com/path"
        )),
    }
}

impl Settings {
    /// Read and validate every setting. For [`Purpose::ListTools`] the credentials may be absent.
    pub fn load(src: &Sources, purpose: Purpose) -> Result<Settings, SettingsError> {
        let mut r = Reader::new(src);
        let mut client = ClientSettings::read(&mut r);
        let http = HttpSettings::read(&mut r);
        let selection = SelectionSettings::read(&mut r);
        let safety = SafetySettings::read(&mut r);
        let call = CallSettings::read(&mut r);
        let log = LogSettings::read(&mut r);

        let mut missing = Vec::new();
        if purpose == Purpose::Serve && !client.sandbox {
            for (name, empty) in [
                ("ORG_ID", client.org_id.is_empty()),
                ("MAPI_KEY", client.mapi_key.expose().is_empty()),
                ("MAPI_SECRET", client.mapi_secret.expose().is_empty()),
            ] {
                if empty {
                    missing.push(name);
                }
            }
        }
        let org_id = client.org_id.clone();
        if !org_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            r.problem(
                "ORG_ID: use only letters, digits, '-' and '_' (it becomes part of a hostname)",
            );
        }
        if client.disable_retry {
            client.max_retries = 1;
        }
        let mut base_urls = BTreeMap::new();
        let org_for_urls = if org_id.is_empty() { "org" } else { &org_id };
        for service in Service::ALL {
            let name = service.env_var();
            let url = match r.given(name) {
                Some(v) => {
                    check_url(name, &v, &mut r.problems);
                    v
                }
                None => service.default_base_url(org_for_urls),
            };
            base_urls.insert(service, url.trim_end_matches('/').to_string());
        }
        let catalogue = crate::toolsets::all_tools();
        let confirm = match ConfirmPolicy::parse(&safety.confirm, &safety.confirm_tools, &catalogue)
        {
            Ok(p) => p,
            Err(problems) => {
                r.problems.extend(problems);
                ConfirmPolicy::default()
            }
        };
        let oauth = OAuthSettings::from_http(&http, &mut r.problems);
        let mut safety = safety;
        if let Some(file) = &safety.state_keys_file {
            if !safety.state_keys.is_empty() {
                r.problem("MCP_STATE_KEYS_FILE: set it or MCP_STATE_KEYS, not both");
            }
            match std::fs::read_to_string(file) {
                Ok(text) => {
                    safety.state_keys = key_entries("MCP_STATE_KEYS_FILE", &text, &mut r.problems);
                    if safety.state_keys.is_empty() {
                        r.problem("MCP_STATE_KEYS_FILE: the file holds no id:key entry");
                    }
                }
                Err(e) => r.problem(format!(
                    "MCP_STATE_KEYS_FILE: cannot read the file ({})",
                    e.kind()
                )),
            }
        }
        if let Some(single) = &http.auth_token {
            if let Some(NamedToken { name, .. }) = http
                .auth_tokens
                .iter()
                .find(|t| t.token.expose() == single.expose())
            {
                r.problem(format!("MCP_AUTH_TOKENS: the token of {name} is also given to another name or as MCP_AUTH_TOKEN; give every caller its own token"));
            }
        }

        if !missing.is_empty() || !r.problems.is_empty() {
            return Err(SettingsError {
                missing,
                problems: r.problems,
            });
        }
        Ok(Settings {
            client,
            base_urls,
            http,
            selection,
            safety,
            confirm,
            oauth,
            call,
            log,
        })
    }
}

/// A bearer token of MCP_AUTH_TOKENS: the caller's name, the token, and what it allows (`None`:
/// everything the server exposes).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedToken {
    pub name: String,
    pub token: Secret,
    pub grant: Option<Grant>,
}

/// `name:token` or `name/grant:token` entries (MCP_AUTH_TOKENS): names of letters, digits, `-`,
/// `_`, `.` and `@`, unique; grants as in MCP_OAUTH_GROUPS; tokens non-empty and unique (and not
/// MCP_AUTH_TOKEN: checked by [`Settings::load`]). Problems never show a token.
fn named_tokens(items: &[String], problems: &mut Vec<String>) -> Vec<NamedToken> {
    let mut out: Vec<NamedToken> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some((label, token)) = item.split_once(':') else {
            problems.push(format!(
                "MCP_AUTH_TOKENS: entry {} must be name:token (or name/grant:token)",
                i + 1
            ));
            continue;
        };
        let (label, token) = (label.trim(), token.trim());
        let (name, grant) = match label.split_once('/') {
            Some((n, g)) => (n.trim(), Some(g.trim())),
            None => (label, None),
        };
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
        if !name_ok {
            problems.push(format!(
                "MCP_AUTH_TOKENS: entry {} needs a name of letters, digits, - _ . @ (at most 64)",
                i + 1
            ));
            continue;
        }
        let grant = match grant.map(|g| Grant::parse(g, crate::toolsets::TOOLSETS)) {
            None => None,
            Some(Ok(g)) => Some(g),
            Some(Err(why)) => {
                problems.push(format!("MCP_AUTH_TOKENS: the grant of {name}: {why}"));
                continue;
            }
        };
        if token.is_empty() {
            problems.push(format!("MCP_AUTH_TOKENS: {name} has an empty token"));
            continue;
        }
        if out.iter().any(|t| t.name == name) {
            problems.push(format!("MCP_AUTH_TOKENS: the name {name} is given twice"));
            continue;
        }
        let reused = out.iter().any(|t| t.token.expose() == token);
        if reused {
            problems.push(format!("MCP_AUTH_TOKENS: the token of {name} is also given to another name or as MCP_AUTH_TOKEN; give every caller its own token"));
            continue;
        }
        out.push(NamedToken {
            name: name.to_string(),
            token: Secret::new(token),
            grant,
        });
    }
    out
}

/// OAuth sign-in over HTTP, as the settings describe it (MCP_OAUTH_ISSUER turns it on).
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// MCP_PUBLIC_URL: the resource, and the audience tokens must carry.
    pub public_url: String,
    pub issuer: String,
    /// Accepted `aud` values: the public URL, and MCP_OAUTH_AUDIENCE when set.
    pub audiences: Vec<String>,
    pub jwks_url: Option<String>,
    /// Introspection endpoint, client id and secret (all three, or none).
    pub introspection: Option<(String, String, Secret)>,
    /// How claims become a permission.
    pub mapping: ClaimMapping,
}

impl OAuthSettings {
    /// The OAuth settings from the HTTP section, or `None` when MCP_OAUTH_ISSUER is not set;
    /// every problem is pushed, naming the variable and what to set.
    fn from_http(http: &HttpSettings, problems: &mut Vec<String>) -> Option<OAuthSettings> {
        let issuer = match &http.oauth_issuer {
            // As given: `iss` must equal it exactly (Auth0 issuers end in a slash).
            Some(issuer) => issuer.clone(),
            None => {
                let oauth_only = [
                    ("MCP_OAUTH_AUDIENCE", http.oauth_audience.is_some()),
                    ("MCP_OAUTH_JWKS_URL", http.oauth_jwks_url.is_some()),
                    (
                        "MCP_OAUTH_INTROSPECTION_URL",
                        http.oauth_introspection_url.is_some(),
                    ),
                    ("MCP_OAUTH_GROUPS", !http.oauth_groups.is_empty()),
                ];
                for (name, set) in oauth_only {
                    if set {
                        problems.push(format!("{name}: only used with OAuth; set MCP_OAUTH_ISSUER (and MCP_PUBLIC_URL) to turn it on, or unset {name}"));
                    }
                }
                return None;
            }
        };
        check_url("MCP_OAUTH_ISSUER", &issuer, problems);
        let Some(public_url) = &http.public_url else {
            problems.push("MCP_PUBLIC_URL: required with MCP_OAUTH_ISSUER: the URL clients reach the MCP endpoint at, e.g. https://altr-mcp.example.com/mcp (access tokens must be issued for it)".into());
            return None;
        };
        check_url("MCP_PUBLIC_URL", public_url, problems);
        for (name, url) in [
            ("MCP_OAUTH_JWKS_URL", &http.oauth_jwks_url),
            ("MCP_OAUTH_INTROSPECTION_URL", &http.oauth_introspection_url),
        ] {
            if let Some(url) = url {
                check_url(name, url, problems);
            }
        }
        let introspection = match (
            &http.oauth_introspection_url,
            &http.oauth_client_id,
            &http.oauth_client_secret,
        ) {
            (None, None, None) => None,
            (Some(url), Some(id), Some(secret)) => Some((url.clone(), id.clone(), secret.clone())),
            _ => {
                problems.push("MCP_OAUTH_INTROSPECTION_URL: needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET with it (set all three, or none)".into());
                None
            }
        };
        let mut audiences = vec![public_url.clone()];
        audiences.extend(http.oauth_audience.clone());
        let mapping = ClaimMapping {
            scopes: ScopeNames::parse(&http.oauth_scopes, problems),
            groups_claim: http.oauth_groups_claim.clone(),
            groups: ClaimMapping::parse_groups(
                &http.oauth_groups,
                crate::toolsets::TOOLSETS,
                problems,
            ),
        };
        if !mapping.groups.is_empty() && mapping.groups_claim.is_none() {
            problems.push("MCP_OAUTH_GROUPS: needs MCP_OAUTH_GROUPS_CLAIM, the claim that lists a user's groups (e.g. groups or roles)".into());
        }
        Some(OAuthSettings {
            public_url: public_url.clone(),
            issuer,
            audiences,
            jwks_url: http.oauth_jwks_url.clone(),
            introspection,
            mapping,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Vec<(&'static str, &'static str)> {
        vec![
            ("ORG_ID", "acme"),
            ("MAPI_KEY", "k"),
            ("MAPI_SECRET", "s3cr3t"),
        ]
    }

    fn load(extra: &[(&'static str, &'static str)]) -> Result<Settings, SettingsError> {
        let mut pairs = creds();
        pairs.extend_from_slice(extra);
        Settings::load(&Sources::from_pairs(pairs), Purpose::Serve)
    }

    #[test]
    fn every_variable_is_declared_once_with_its_help_and_becomes_a_flag() {
        let vars = variables();
        let names: std::collections::BTreeSet<&str> = vars.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), vars.len(), "a variable is declared twice");
        assert_eq!(vars.len(), 60);
        for (name, help) in &vars {
            assert!(
                help.len() > 10 && !help.starts_with(' '),
                "{name}: {help:?}"
            );
        }
        let cmd = crate::cli::command();
        for (name, _) in &vars {
            let flag = crate::cli::flag_name(name);
            assert!(
                cmd.get_arguments()
                    .any(|a| a.get_long() == Some(flag.as_str())),
                "no --{flag}"
            );
        }
        // Every section's default is what an empty environment reads.
        assert_eq!(
            CallSettings::default().call_timeout,
            Duration::from_secs(120)
        );
        assert_eq!(HttpSettings::default().port, 8000);
    }

    #[test]
    fn defaults() {
        let s = load(&[]).unwrap();
        assert_eq!(s.http.transport, Transport::Stdio);
        assert_eq!(s.http.host, "127.0.0.1");
        assert_eq!(s.http.port, 8000);
        assert_eq!(s.client.max_retries, 3);
        assert_eq!(s.client.request_timeout, Duration::from_secs(30));
        assert_eq!(s.client.max_retry_after, Duration::from_secs(60));
        assert_eq!(s.base_urls[&Service::Api], "https://api.live.altr.com");
        assert_eq!(
            s.base_urls[&Service::AltrNet],
            "https://altrnet.live.altr.com"
        );
        assert_eq!(
            s.base_urls[&Service::Classification],
            "https://acme.classification.live.altr.com"
        );
        assert_eq!(
            s.base_urls[&Service::DamAlerting],
            "https://acme.dam-alerting.live.altr.com/v1/dam-alerting"
        );
        assert_eq!(s.base_urls.len(), 10);
    }

    #[test]
    fn missing_credentials_are_named_together() {
        let err =
            Settings::load(&Sources::from_pairs([("MAPI_KEY", "k")]), Purpose::Serve).unwrap_err();
        assert_eq!(err.missing, vec!["ORG_ID", "MAPI_SECRET"]);
        assert!(err.problems.is_empty());
        assert!(err.to_string().contains("ORG_ID, MAPI_SECRET"));
        // Listing tools needs no credentials.
        assert!(Settings::load(&Sources::default(), Purpose::ListTools).is_ok());
    }

    #[test]
    fn every_invalid_value_is_reported_without_echoing_it() {
        let err = load(&[
            ("MCP_TRANSPORT", "carrier-pigeon"),
            ("MCP_PORT", "70000"),
            ("MAX_RETRIES", "0"),
            ("REQUEST_TIMEOUT", "inf"),
            ("MAX_RETRY_AFTER", "-1"),
            ("DISABLE_RETRY", "maybe"),
            ("ALTR_READ_ONLY", "perhaps"),
            ("LOG_LEVEL", "loud"),
            ("LOG_FORMAT", "xml"),
            ("ALTR_API_BASE_URL", "ftp://nope"),
        ])
        .unwrap_err();
        let problems = &err.problems;
        assert_eq!(problems.len(), 10, "{problems:#?}");
        let text = err.to_string();
        for name in [
            "MCP_TRANSPORT",
            "MCP_PORT",
            "MAX_RETRIES",
            "REQUEST_TIMEOUT",
            "MAX_RETRY_AFTER",
            "DISABLE_RETRY",
            "ALTR_READ_ONLY",
            "LOG_LEVEL",
            "LOG_FORMAT",
            "ALTR_API_BASE_URL",
        ] {
            assert!(text.contains(name), "{name} not named in {text}");
        }
        for value in ["carrier-pigeon", "70000", "maybe", "loud", "ftp://nope"] {
            assert!(!text.contains(value), "value {value} echoed in {text}");
        }
    }

    #[test]
    fn env_names_are_case_insensitive_and_flags_win() {
        let mut src = Sources::from_pairs([
            ("org_id", "lower"),
            ("mapi_key", "k"),
            ("MAPI_SECRET", "s"),
            ("MCP_PORT", "9000"),
        ]);
        src.flags.insert("MCP_PORT".into(), "9100".into());
        let s = Settings::load(&src, Purpose::Serve).unwrap();
        assert_eq!(s.client.org_id, "lower");
        assert_eq!(s.http.port, 9100);
    }

    #[test]
    fn overrides_replace_base_and_drop_trailing_slash() {
        let s = load(&[
            ("ALTR_KMA_BASE_URL", "http://127.0.0.1:9/kma/"),
            ("DISABLE_RETRY", "yes"),
            ("RESTRICTED_TOOLS", " get_tags, ,delete_policy "),
        ])
        .unwrap();
        assert_eq!(s.base_urls[&Service::Kma], "http://127.0.0.1:9/kma");
        assert_eq!(s.client.max_retries, 1);
        assert_eq!(
            s.selection.restricted_tools,
            vec!["get_tags", "delete_policy"]
        );
    }

    #[test]
    fn http_settings_have_safe_defaults_and_are_validated() {
        let s = load(&[]).unwrap();
        assert_eq!(s.http.auth_token, None);
        assert!(!s.http.allow_unauthenticated && !s.http.stateless);
        assert!(s.http.allowed_hosts.is_empty() && s.http.allowed_origins.is_empty());
        assert_eq!(s.http.session_idle_timeout, Duration::from_secs(300));

        let s = load(&[
            ("MCP_AUTH_TOKEN", " tok-123 "),
            ("MCP_ALLOW_UNAUTHENTICATED", "true"),
            (
                "MCP_ALLOWED_HOSTS",
                "mcp.example.com, mcp.example.com:8443,",
            ),
            (
                "MCP_ALLOWED_ORIGINS",
                "https://app.example.com,http://localhost:*",
            ),
            ("MCP_STATELESS", "yes"),
            ("MCP_SESSION_IDLE_TIMEOUT", "60"),
        ])
        .unwrap();
        assert_eq!(
            s.http.auth_token.as_ref().map(Secret::expose),
            Some("tok-123")
        );
        assert!(s.http.allow_unauthenticated && s.http.stateless);
        assert_eq!(
            s.http.allowed_hosts,
            [
                parse_host_pattern("mcp.example.com").unwrap(),
                parse_host_pattern("mcp.example.com:8443").unwrap()
            ]
        );
        assert_eq!(
            s.http.allowed_origins,
            [
                parse_origin_pattern("https://app.example.com").unwrap(),
                parse_origin_pattern("http://localhost:*").unwrap()
            ]
        );
        assert_eq!(s.http.session_idle_timeout, Duration::from_secs(60));
        assert!(
            !format!("{s:?}").contains("tok-123"),
            "token in Debug output"
        );

        let err = load(&[
            ("MCP_ALLOWED_HOSTS", "https://mcp.example.com/x"),
            ("MCP_ALLOWED_ORIGINS", "app.example.com"),
            ("MCP_STATELESS", "sometimes"),
            ("MCP_SESSION_IDLE_TIMEOUT", "0"),
            ("MCP_ALLOW_UNAUTHENTICATED", "maybe"),
        ])
        .unwrap_err();
        let problems = &err.problems;
        assert_eq!(problems.len(), 5, "{problems:#?}");
        for name in [
            "MCP_ALLOWED_HOSTS",
            "MCP_ALLOWED_ORIGINS",
            "MCP_STATELESS",
            "MCP_SESSION_IDLE_TIMEOUT",
            "MCP_ALLOW_UNAUTHENTICATED",
        ] {
            assert!(err.to_string().contains(name), "{name} not named in {err}");
        }
    }

    #[test]
    fn sandbox_needs_no_credentials() {
        let s = Settings::load(
            &Sources::from_pairs([("altr_sandbox", "true")]),
            Purpose::Serve,
        )
        .unwrap();
        assert!(s.client.sandbox);
        assert!(!load(&[]).unwrap().client.sandbox);
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = load(&[]).unwrap();
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }

    #[test]
    fn missing_and_invalid_are_reported_together() {
        let err = Settings::load(
            &Sources::from_pairs([("MAPI_KEY", "k"), ("LOG_LEVEL", "loud"), ("MCP_PORT", "x")]),
            Purpose::Serve,
        )
        .unwrap_err();
        assert_eq!(err.missing, vec!["ORG_ID", "MAPI_SECRET"]);
        assert_eq!(err.problems.len(), 2, "{err}");
        let text = err.to_string();
        for name in ["ORG_ID", "MAPI_SECRET", "LOG_LEVEL", "MCP_PORT"] {
            assert!(text.contains(name), "{name} not named in {text}");
        }
    }

    #[test]
    fn undocumented_spellings_are_refused_and_documented_aliases_kept() {
        for bad in ["http", "streamable_http"] {
            let err = load(&[("MCP_TRANSPORT", bad)]).unwrap_err();
            assert!(err.to_string().contains("MCP_TRANSPORT"), "{bad}");
        }
        assert_eq!(
            load(&[("LOG_FORMAT", "text")]).unwrap().log.log_format,
            LogFormat::Console
        );
        assert!(
            load(&[("ALTR_READ_ONLY", "yes")])
                .unwrap()
                .selection
                .read_only
        );
        assert_eq!(
            load(&[("LOG_LEVEL", "warning")]).unwrap().log.log_level,
            tracing::Level::WARN
        );
    }

    #[test]
    fn limits_and_timeouts_have_defaults_and_are_validated() {
        let s = load(&[]).unwrap();
        assert_eq!(s.call.call_timeout, Duration::from_secs(120));
        assert_eq!(s.client.max_response_bytes, 4 << 20);
        assert_eq!(s.call.max_result_bytes, 512 << 10);
        assert_eq!(s.http.max_sessions, 1000);
        assert_eq!(s.http.header_timeout, Duration::from_secs(10));
        assert_eq!(s.http.body_timeout, Duration::from_secs(30));
        let s = load(&[
            ("CALL_TIMEOUT", "5"),
            ("MAX_RESPONSE_BYTES", "2048"),
            ("MAX_RESULT_BYTES", "4096"),
            ("MCP_MAX_SESSIONS", "3"),
            ("MCP_HEADER_TIMEOUT", "2.5"),
            ("MCP_BODY_TIMEOUT", "7"),
        ])
        .unwrap();
        assert_eq!(s.call.call_timeout, Duration::from_secs(5));
        assert_eq!(
            (s.client.max_response_bytes, s.call.max_result_bytes),
            (2048, 4096)
        );
        assert_eq!(s.http.max_sessions, 3);
        assert_eq!(s.http.header_timeout, Duration::from_millis(2500));
        assert_eq!(s.http.body_timeout, Duration::from_secs(7));
        let err = load(&[
            ("CALL_TIMEOUT", "0"),
            ("MAX_RESPONSE_BYTES", "12"),
            ("MAX_RESULT_BYTES", "lots"),
            ("MCP_MAX_SESSIONS", "0"),
            ("MCP_HEADER_TIMEOUT", "-1"),
            ("MCP_BODY_TIMEOUT", "nan"),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 6, "{err}");
    }
}
