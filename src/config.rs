//! Every setting of the server, read once from flags and environment variables and validated into a
//! [`Settings`] value. A flag wins over its environment variable; environment variable names are
//! matched case-insensitively (as the Python server does), so `org_id` works as well as `ORG_ID`.

pub mod patterns;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::client::Service;
use crate::config::patterns::{
    parse_host_pattern, parse_origin_pattern, HostPattern, OriginPattern,
};

/// A secret that never shows itself in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Console,
    Json,
}

/// The variables this server reads, with their help text. The first column is also the flag name
/// (lower-case, `_` turned into `-`), so `MAX_RETRIES` is `--max-retries`.
pub const VARIABLES: &[(&str, &str)] = &[
    ("ORG_ID", "ALTR organization id; forms the org-scoped service hostnames (required to serve)"),
    ("MAPI_KEY", "ALTR management API key name, the HTTP Basic user (required to serve)"),
    ("MAPI_SECRET", "ALTR management API key secret, the HTTP Basic password (required to serve)"),
    ("MCP_TRANSPORT", "stdio (default), sse or streamable-http"),
    ("MCP_HOST", "address the HTTP transports bind (default 127.0.0.1)"),
    ("MCP_PORT", "port the HTTP transports bind (default 8000)"),
    ("MCP_AUTH_TOKEN", "bearer token HTTP clients must send as `Authorization: Bearer <token>` (required to bind a non-loopback address)"),
    ("MCP_ALLOW_UNAUTHENTICATED", "true to serve HTTP on a non-loopback address without MCP_AUTH_TOKEN (default false)"),
    ("MCP_ALLOWED_HOSTS", "comma-separated extra Host values accepted over HTTP: name, name:port or * (loopback names always)"),
    ("MCP_ALLOWED_ORIGINS", "comma-separated extra browser Origins accepted over HTTP: scheme://host[:port|:*] or * (loopback always)"),
    ("MCP_STATELESS", "true to serve streamable HTTP without sessions, for replicas behind a load balancer (default false)"),
    ("MCP_SESSION_IDLE_TIMEOUT", "seconds an HTTP session may stay idle before it is closed (default 300)"),
    ("MCP_MAX_SESSIONS", "most HTTP sessions open at once; a new session beyond it gets 503 (default 1000)"),
    ("MCP_HEADER_TIMEOUT", "seconds a client has to send a request's headers; also how long an idle keep-alive connection stays open (default 10)"),
    ("MCP_BODY_TIMEOUT", "seconds a client has to send a request body (default 30)"),
    ("RESTRICTED_TOOLS", "comma-separated tool names to hide and refuse"),
    ("ALTR_TOOLSETS", "comma-separated toolsets to expose: domain names, `default` or `all` (default all)"),
    ("ALTR_READ_ONLY", "true to expose only read-only tools (default false)"),
    ("ALTR_ALLOW_CLEARTEXT", "true to expose the detokenize tools, which return protected values in clear text (default false, read-only mode or not)"),
    ("ALTR_SANDBOX", "true to serve a built-in simulated ALTR org instead of a real one; no credentials needed (same as --sandbox)"),
    ("LOG_LEVEL", "error, warn (or warning), info (default), debug or trace; critical is accepted as error"),
    ("LOG_FORMAT", "console (default; text is the same) or json; logs always go to stderr"),
    ("MAX_RETRIES", "total attempts per ALTR request, at least 1 (default 3)"),
    ("DISABLE_RETRY", "true to make exactly one attempt per request (default false)"),
    ("REQUEST_TIMEOUT", "seconds allowed for each attempt (default 30)"),
    ("CALL_TIMEOUT", "seconds one tool call may take in all, every request and retry included (default 120)"),
    ("MAX_RESPONSE_BYTES", "largest ALTR response body read, in bytes; a larger one is an error (default 4194304, 4 MiB)"),
    ("MAX_RESULT_BYTES", "largest tool result returned, in bytes of JSON; a larger one is cut and marked truncated (default 524288, 512 KiB)"),
    ("MAX_RETRY_AFTER", "longest wait in seconds between attempts, for Retry-After and backoff (default 60)"),
    ("ALTR_API_BASE_URL", "base URL of the ALTR API service (default https://api.live.altr.com)"),
    ("ALTR_ALTRNET_BASE_URL", "base URL of the ALTRnet service (default https://altrnet.live.altr.com)"),
    ("ALTR_CLASSIFICATION_BASE_URL", "base URL of classification (default https://{ORG_ID}.classification.live.altr.com)"),
    ("ALTR_SC_CONTROL_BASE_URL", "base URL of sidecar control (default https://{ORG_ID}.sc-control.live.altr.com)"),
    ("ALTR_SERVICE_USER_BASE_URL", "base URL of service users (default https://{ORG_ID}.service-user.live.altr.com)"),
    ("ALTR_AUDIT_REPORT_BASE_URL", "base URL of audit reports (default https://{ORG_ID}.audit-report.live.altr.com/v1)"),
    ("ALTR_VAULT_BASE_URL", "base URL of vault tokenization (default https://{ORG_ID}.vault.live.altr.com/api/v2)"),
    ("ALTR_CRITICAL_BASE_URL", "base URL of critical tokenization (default https://{ORG_ID}.critical.live.altr.com/v2)"),
    ("ALTR_KMA_BASE_URL", "base URL of key management (default https://{ORG_ID}.kma.live.altr.com/v1)"),
    ("ALTR_DAM_ALERTING_BASE_URL", "base URL of DAM alerting (default https://{ORG_ID}.dam-alerting.live.altr.com/v1/dam-alerting)"),
    ("ALTR_CONFIRM", "confirmation of destructive calls: elicit (default; ask clients that support elicitation), required (clients that cannot be asked must send confirm: true) or never"),
    ("ALTR_CONFIRM_TOOLS", "comma-separated per-tool confirmation overrides: +tool to confirm a non-destructive tool, -tool to skip a destructive one"),
    ("ALTR_AUDIT_LOG", "file to append one JSON line per tool call and refusal to, or - for stderr; a failed write fails the call (default none)"),
    ("MCP_AUTH_TOKENS", "comma-separated name:token pairs; HTTP clients may send any of these bearer tokens, and the audit log names the caller by the token's name"),
    ("ALTR_DYNAMIC_TOOLSETS", "true to start each session with the ALTR_TOOLSETS selection (`default` when unset) plus list_toolsets and enable_toolset, which add toolsets on demand (default false)"),
];

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

/// The raw `ALTR_TOOLSETS` and `RESTRICTED_TOOLS` lists, for checking them against the registry
/// even when other settings are invalid (so every problem is reported at once).
pub fn selection_lists(src: &Sources) -> (Vec<String>, Vec<String>) {
    let r = Reader {
        src,
        missing: Vec::new(),
        problems: Vec::new(),
    };
    (r.list("ALTR_TOOLSETS"), r.list("RESTRICTED_TOOLS"))
}

/// The validated settings of one server process.
#[derive(Debug, Clone)]
pub struct Settings {
    pub org_id: String,
    pub mapi_key: Secret,
    pub mapi_secret: Secret,
    pub transport: Transport,
    pub host: String,
    pub port: u16,
    pub restricted_tools: Vec<String>,
    pub toolsets: Vec<String>,
    pub read_only: bool,
    /// Expose the tools that return protected data in clear text (`ALTR_ALLOW_CLEARTEXT`).
    pub allow_cleartext: bool,
    /// Serve against the built-in simulated ALTR org (`ALTR_SANDBOX` / `--sandbox`).
    pub sandbox: bool,
    /// Toolset discovery: start small, enable toolsets per session (`ALTR_DYNAMIC_TOOLSETS`).
    pub dynamic_toolsets: bool,
    pub log_level: tracing::Level,
    pub log_format: LogFormat,
    pub max_retries: u32,
    pub disable_retry: bool,
    pub request_timeout: Duration,
    pub max_retry_after: Duration,
    /// Bearer token HTTP clients must present (`MCP_AUTH_TOKEN`).
    pub auth_token: Option<Secret>,
    /// Serve HTTP on a non-loopback address without a token (`MCP_ALLOW_UNAUTHENTICATED`).
    pub allow_unauthenticated: bool,
    /// Extra accepted `Host` values (`MCP_ALLOWED_HOSTS`), parsed.
    pub allowed_hosts: Vec<HostPattern>,
    /// Extra accepted `Origin` values (`MCP_ALLOWED_ORIGINS`), parsed.
    pub allowed_origins: Vec<OriginPattern>,
    /// Streamable HTTP without sessions (`MCP_STATELESS`).
    pub stateless: bool,
    /// Idle time after which an HTTP session is closed (`MCP_SESSION_IDLE_TIMEOUT`).
    pub session_idle_timeout: Duration,
    /// Most HTTP sessions open at once (`MCP_MAX_SESSIONS`).
    pub max_sessions: usize,
    /// Time allowed for a request's headers, and for an idle keep-alive connection (`MCP_HEADER_TIMEOUT`).
    pub header_timeout: Duration,
    /// Time allowed for a request body (`MCP_BODY_TIMEOUT`).
    pub body_timeout: Duration,
    /// The whole of one tool call (`CALL_TIMEOUT`).
    pub call_timeout: Duration,
    /// Largest ALTR response body read (`MAX_RESPONSE_BYTES`).
    pub max_response_bytes: usize,
    /// Largest tool result returned (`MAX_RESULT_BYTES`).
    pub max_result_bytes: usize,
    /// Base URL per service, without a trailing slash.
    pub base_urls: BTreeMap<Service, String>,
    /// Which calls need a human's yes (`ALTR_CONFIRM`, `ALTR_CONFIRM_TOOLS`).
    pub confirm: crate::safety::confirm::ConfirmPolicy,
    /// Where the audit trail goes (`ALTR_AUDIT_LOG`): a path or `-` for stderr.
    pub audit_log: Option<String>,
    /// Named bearer tokens (`MCP_AUTH_TOKENS`): (name, token).
    pub auth_tokens: Vec<(String, Secret)>,
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

struct Reader<'a> {
    src: &'a Sources,
    missing: Vec<&'static str>,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn raw(&self, name: &str) -> Option<String> {
        self.src.get(name).map(|v| v.trim().to_string())
    }

    fn string(&self, name: &str, default: &str) -> String {
        match self.raw(name) {
            Some(v) if !v.is_empty() => v,
            _ => default.to_string(),
        }
    }

    fn bool(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name) {
            None => default,
            Some(v) if v.is_empty() => default,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "t" | "yes" | "y" | "on" => true,
                "0" | "false" | "f" | "no" | "n" | "off" => false,
                _ => {
                    self.problems
                        .push(format!("{name}: not a boolean; use true or false"));
                    default
                }
            },
        }
    }

    fn positive_seconds(&mut self, name: &str, default: f64) -> Duration {
        let Some(v) = self.raw(name).filter(|v| !v.is_empty()) else {
            return Duration::from_secs_f64(default);
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 && x < 1.0e9 => Duration::from_secs_f64(x),
            _ => {
                self.problems.push(format!(
                    "{name}: must be a finite number of seconds greater than 0 (default {default})"
                ));
                Duration::from_secs_f64(default)
            }
        }
    }

    fn whole(&mut self, name: &str, default: u64, min: u64, max: u64, what: &str) -> u64 {
        let Some(v) = self.raw(name).filter(|v| !v.is_empty()) else {
            return default;
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                self.problems.push(format!(
                    "{name}: must be a whole number of {what} from {min} to {max} (default {default})"
                ));
                default
            }
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.raw(name)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

fn check_url(name: &str, url: &str, problems: &mut Vec<String>) {
    match reqwest::Url::parse(url) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {
            if u.query().is_some() || u.fragment().is_some() {
                problems.push(format!(
                    "{name}: a base URL cannot carry a query or fragment"
                ));
            }
        }
        _ => problems.push(format!(
            "{name}: not an http(s) URL with a host, e.g. https://api.live.altr.com"
        )),
    }
}

impl Settings {
    /// Read and validate every setting. For [`Purpose::ListTools`] the credentials may be absent.
    pub fn load(src: &Sources, purpose: Purpose) -> Result<Settings, SettingsError> {
        let mut r = Reader {
            src,
            missing: Vec::new(),
            problems: Vec::new(),
        };
        let org_id = r.raw("ORG_ID").unwrap_or_default();
        let mapi_key = r.raw("MAPI_KEY").unwrap_or_default();
        let mapi_secret = src.get("MAPI_SECRET").unwrap_or_default().to_string();
        let sandbox = r.bool("ALTR_SANDBOX", false);
        if purpose == Purpose::Serve && !sandbox {
            let missing: Vec<&'static str> = [
                ("ORG_ID", org_id.is_empty()),
                ("MAPI_KEY", mapi_key.is_empty()),
                ("MAPI_SECRET", mapi_secret.is_empty()),
            ]
            .into_iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| n)
            .collect();
            r.missing = missing;
        }
        if !org_id.is_empty()
            && !org_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            r.problems.push(
                "ORG_ID: use only letters, digits, '-' and '_' (it becomes part of a hostname)"
                    .into(),
            );
        }

        let transport = match r
            .string("MCP_TRANSPORT", "stdio")
            .to_ascii_lowercase()
            .as_str()
        {
            "stdio" => Transport::Stdio,
            "sse" => Transport::Sse,
            "streamable-http" => Transport::StreamableHttp,
            _ => {
                r.problems
                    .push("MCP_TRANSPORT: must be one of stdio, sse, streamable-http".into());
                Transport::Stdio
            }
        };
        let host = r.string("MCP_HOST", "127.0.0.1");
        let port = match r.raw("MCP_PORT").filter(|v| !v.is_empty()) {
            None => 8000,
            Some(v) => match v.parse::<u16>() {
                Ok(p) => p,
                Err(_) => {
                    r.problems
                        .push("MCP_PORT: must be a whole number from 0 to 65535".into());
                    8000
                }
            },
        };
        let restricted_tools = r.list("RESTRICTED_TOOLS");
        let toolsets = r.list("ALTR_TOOLSETS");
        let read_only = r.bool("ALTR_READ_ONLY", false);
        let allow_cleartext = r.bool("ALTR_ALLOW_CLEARTEXT", false);
        let dynamic_toolsets = r.bool("ALTR_DYNAMIC_TOOLSETS", false);
        let log_level = match r.string("LOG_LEVEL", "info").to_ascii_lowercase().as_str() {
            "error" | "critical" => tracing::Level::ERROR,
            "warn" | "warning" => tracing::Level::WARN,
            "info" => tracing::Level::INFO,
            "debug" => tracing::Level::DEBUG,
            "trace" => tracing::Level::TRACE,
            _ => {
                r.problems
                    .push("LOG_LEVEL: must be one of error, warn, info, debug, trace".into());
                tracing::Level::INFO
            }
        };
        let log_format = match r
            .string("LOG_FORMAT", "console")
            .to_ascii_lowercase()
            .as_str()
        {
            "console" | "text" => LogFormat::Console,
            "json" => LogFormat::Json,
            _ => {
                r.problems
                    .push("LOG_FORMAT: must be console or json".into());
                LogFormat::Console
            }
        };
        let max_retries = match r.raw("MAX_RETRIES").filter(|v| !v.is_empty()) {
            None => 3,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=20).contains(&n) => n,
                _ => {
                    r.problems.push(
                        "MAX_RETRIES: must be a whole number from 1 to 20 (total attempts per request)"
                            .into(),
                    );
                    3
                }
            },
        };
        let disable_retry = r.bool("DISABLE_RETRY", false);
        let request_timeout = r.positive_seconds("REQUEST_TIMEOUT", 30.0);
        let max_retry_after = r.positive_seconds("MAX_RETRY_AFTER", 60.0);
        let auth_token = src
            .get("MCP_AUTH_TOKEN")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        let allow_unauthenticated = r.bool("MCP_ALLOW_UNAUTHENTICATED", false);
        let allowed_hosts: Vec<HostPattern> = r
            .list("MCP_ALLOWED_HOSTS")
            .iter()
            .filter_map(|h| parse_host_pattern(h).ok())
            .collect();
        if allowed_hosts.len() != r.list("MCP_ALLOWED_HOSTS").len() {
            r.problems.push(
                "MCP_ALLOWED_HOSTS: list host names or host:port (no scheme or path), or *, separated by commas"
                    .into(),
            );
        }
        let allowed_origins: Vec<OriginPattern> = r
            .list("MCP_ALLOWED_ORIGINS")
            .iter()
            .filter_map(|o| parse_origin_pattern(o).ok())
            .collect();
        if allowed_origins.len() != r.list("MCP_ALLOWED_ORIGINS").len() {
            r.problems.push(
                "MCP_ALLOWED_ORIGINS: list origins as scheme://host, scheme://host:port or scheme://host:* (or * or null), separated by commas"
                    .into(),
            );
        }
        let stateless = r.bool("MCP_STATELESS", false);
        let session_idle_timeout = r.positive_seconds("MCP_SESSION_IDLE_TIMEOUT", 300.0);
        let max_sessions = r.whole("MCP_MAX_SESSIONS", 1000, 1, 1_000_000, "sessions") as usize;
        let header_timeout = r.positive_seconds("MCP_HEADER_TIMEOUT", 10.0);
        let body_timeout = r.positive_seconds("MCP_BODY_TIMEOUT", 30.0);
        let call_timeout = r.positive_seconds("CALL_TIMEOUT", 120.0);
        let max_response_bytes =
            r.whole("MAX_RESPONSE_BYTES", 4 << 20, 1024, 1 << 30, "bytes") as usize;
        let max_result_bytes =
            r.whole("MAX_RESULT_BYTES", 512 << 10, 1024, 1 << 30, "bytes") as usize;

        let mut base_urls = BTreeMap::new();
        let org_for_urls = if org_id.is_empty() { "org" } else { &org_id };
        for service in Service::ALL {
            let name = service.env_var();
            let url = match r.raw(name).filter(|v| !v.is_empty()) {
                Some(v) => {
                    check_url(name, &v, &mut r.problems);
                    v
                }
                None => service.default_base_url(org_for_urls),
            };
            base_urls.insert(service, url.trim_end_matches('/').to_string());
        }

        let confirm = match crate::safety::confirm::ConfirmPolicy::parse(
            &r.string("ALTR_CONFIRM", "elicit"),
            &r.list("ALTR_CONFIRM_TOOLS"),
            &crate::toolsets::all_tools(),
        ) {
            Ok(p) => p,
            Err(problems) => {
                r.problems.extend(problems);
                crate::safety::confirm::ConfirmPolicy::default()
            }
        };
        let audit_log = r
            .raw("ALTR_AUDIT_LOG")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(path) = audit_log.as_deref().filter(|p| *p != "-") {
            let p = std::path::Path::new(path);
            let dir_ok = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.is_dir(),
                _ => true,
            };
            if !dir_ok || p.is_dir() {
                r.problems.push(
                    "ALTR_AUDIT_LOG: must be - (stderr) or a file in an existing directory".into(),
                );
            }
        }
        let auth_tokens = named_tokens(
            &r.list("MCP_AUTH_TOKENS"),
            auth_token.as_ref(),
            &mut r.problems,
        );

        if !r.missing.is_empty() || !r.problems.is_empty() {
            return Err(SettingsError {
                missing: r.missing,
                problems: r.problems,
            });
        }
        Ok(Settings {
            org_id,
            mapi_key: Secret::new(mapi_key),
            mapi_secret: Secret::new(mapi_secret),
            transport,
            host,
            port,
            restricted_tools,
            toolsets,
            read_only,
            allow_cleartext,
            sandbox,
            dynamic_toolsets,
            log_level,
            log_format,
            max_retries: if disable_retry { 1 } else { max_retries },
            disable_retry,
            request_timeout,
            max_retry_after,
            auth_token,
            allow_unauthenticated,
            allowed_hosts,
            allowed_origins,
            stateless,
            session_idle_timeout,
            max_sessions,
            header_timeout,
            body_timeout,
            call_timeout,
            max_response_bytes,
            max_result_bytes,
            base_urls,
            confirm,
            audit_log,
            auth_tokens,
        })
    }
}

/// `name:token` pairs (MCP_AUTH_TOKENS): names of letters, digits, `-`, `_`, `.` and `@`, unique;
/// tokens non-empty, unique, and not MCP_AUTH_TOKEN. Problems never show a token.
fn named_tokens(
    items: &[String],
    single: Option<&Secret>,
    problems: &mut Vec<String>,
) -> Vec<(String, Secret)> {
    let mut out: Vec<(String, Secret)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some((name, token)) = item.split_once(':') else {
            problems.push(format!(
                "MCP_AUTH_TOKENS: entry {} must be name:token",
                i + 1
            ));
            continue;
        };
        let (name, token) = (name.trim(), token.trim());
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
        if token.is_empty() {
            problems.push(format!("MCP_AUTH_TOKENS: {name} has an empty token"));
            continue;
        }
        if out.iter().any(|(n, _)| n == name) {
            problems.push(format!("MCP_AUTH_TOKENS: the name {name} is given twice"));
            continue;
        }
        let reused = out.iter().any(|(_, t)| t.expose() == token)
            || single.is_some_and(|s| s.expose() == token);
        if reused {
            problems.push(format!("MCP_AUTH_TOKENS: the token of {name} is also given to another name or as MCP_AUTH_TOKEN; give every caller its own token"));
            continue;
        }
        out.push((name.to_string(), Secret::new(token)));
    }
    out
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
    fn defaults() {
        let s = load(&[]).unwrap();
        assert_eq!(s.transport, Transport::Stdio);
        assert_eq!(s.host, "127.0.0.1");
        assert_eq!(s.port, 8000);
        assert_eq!(s.max_retries, 3);
        assert_eq!(s.request_timeout, Duration::from_secs(30));
        assert_eq!(s.max_retry_after, Duration::from_secs(60));
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
        assert_eq!(s.org_id, "lower");
        assert_eq!(s.port, 9100);
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
        assert_eq!(s.max_retries, 1);
        assert_eq!(s.restricted_tools, vec!["get_tags", "delete_policy"]);
    }

    #[test]
    fn http_settings_have_safe_defaults_and_are_validated() {
        let s = load(&[]).unwrap();
        assert_eq!(s.auth_token, None);
        assert!(!s.allow_unauthenticated && !s.stateless);
        assert!(s.allowed_hosts.is_empty() && s.allowed_origins.is_empty());
        assert_eq!(s.session_idle_timeout, Duration::from_secs(300));

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
        assert_eq!(s.auth_token.as_ref().map(Secret::expose), Some("tok-123"));
        assert!(s.allow_unauthenticated && s.stateless);
        assert_eq!(
            s.allowed_hosts,
            [
                parse_host_pattern("mcp.example.com").unwrap(),
                parse_host_pattern("mcp.example.com:8443").unwrap()
            ]
        );
        assert_eq!(
            s.allowed_origins,
            [
                parse_origin_pattern("https://app.example.com").unwrap(),
                parse_origin_pattern("http://localhost:*").unwrap()
            ]
        );
        assert_eq!(s.session_idle_timeout, Duration::from_secs(60));
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
        assert!(s.sandbox);
        assert!(!load(&[]).unwrap().sandbox);
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
            load(&[("LOG_FORMAT", "text")]).unwrap().log_format,
            LogFormat::Console
        );
        assert!(load(&[("ALTR_READ_ONLY", "yes")]).unwrap().read_only);
        assert_eq!(
            load(&[("LOG_LEVEL", "warning")]).unwrap().log_level,
            tracing::Level::WARN
        );
    }

    #[test]
    fn limits_and_timeouts_have_defaults_and_are_validated() {
        let s = load(&[]).unwrap();
        assert_eq!(s.call_timeout, Duration::from_secs(120));
        assert_eq!(s.max_response_bytes, 4 << 20);
        assert_eq!(s.max_result_bytes, 512 << 10);
        assert_eq!(s.max_sessions, 1000);
        assert_eq!(s.header_timeout, Duration::from_secs(10));
        assert_eq!(s.body_timeout, Duration::from_secs(30));
        let s = load(&[
            ("CALL_TIMEOUT", "5"),
            ("MAX_RESPONSE_BYTES", "2048"),
            ("MAX_RESULT_BYTES", "4096"),
            ("MCP_MAX_SESSIONS", "3"),
            ("MCP_HEADER_TIMEOUT", "2.5"),
            ("MCP_BODY_TIMEOUT", "7"),
        ])
        .unwrap();
        assert_eq!(s.call_timeout, Duration::from_secs(5));
        assert_eq!((s.max_response_bytes, s.max_result_bytes), (2048, 4096));
        assert_eq!(s.max_sessions, 3);
        assert_eq!(s.header_timeout, Duration::from_millis(2500));
        assert_eq!(s.body_timeout, Duration::from_secs(7));
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
