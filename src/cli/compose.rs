//! Composing the server from the settings: the client's configuration, the tool selection, the
//! safety settings and toolset discovery, every problem of settings and selection reported at once.

use std::sync::Arc;

use crate::client::retry::RetryPolicy;
use crate::client::scrub::Scrubber;
use crate::client::{AltrClient, ClientConfig};
use crate::config::{selection_lists, Purpose, Settings, SettingsError, Sources, Transport};
use crate::registry::select::{current_name, SUPPORT_TOOLSET};
use crate::registry::{Registry, Selection, SelectionError};
use crate::server::instructions::Served;
use crate::server::{AltrServer, ServerOptions};

impl ClientConfig {
    /// The client's configuration from the settings (the client itself does not know them).
    pub fn from_settings(settings: &Settings) -> Self {
        let s = &settings.client;
        let mut c = ClientConfig::new(
            settings.base_urls.clone(),
            s.mapi_key.expose(),
            s.mapi_secret.expose(),
        );
        c.timeout = s.request_timeout;
        c.retry = RetryPolicy {
            max_attempts: s.max_retries.max(1),
            max_delay: s.max_retry_after,
        };
        c.max_response_bytes = s.max_response_bytes;
        let basic = c
            .authorization
            .strip_prefix("Basic ")
            .unwrap_or_default()
            .to_string();
        let mut secrets = vec![basic, s.mapi_secret.expose().to_string()];
        // The callers' bearer tokens are secrets too: upstream text never carries them back.
        let http = &settings.http;
        if let Some(t) = &http.auth_token {
            secrets.push(t.expose().to_string());
        }
        secrets.extend(
            http.auth_tokens
                .iter()
                .map(|t| t.token.expose().to_string()),
        );
        secrets.extend(
            http.oauth_client_secret
                .iter()
                .map(|t| t.expose().to_string()),
        );
        secrets.extend(
            settings
                .safety
                .state_keys
                .iter()
                .map(|(_, k)| k.expose().to_string()),
        );
        c.scrub = Scrubber::new(secrets);
        c
    }
}

/// The server's per-call limits: the settings' call section.
pub fn server_options(s: &Settings) -> ServerOptions {
    s.call.clone()
}

/// The MCP server for these settings and tools; fails when the HTTP client cannot be set up.
pub fn build_server(settings: &Settings, registry: Arc<Registry>) -> Result<AltrServer, String> {
    let client =
        AltrClient::try_new(ClientConfig::from_settings(settings)).map_err(|e| e.to_string())?;
    let audit = match &settings.safety.audit_log {
        Some(target) => Some(crate::safety::audit::AuditLog::open(target)?),
        None => None,
    };
    let safety = &settings.safety;
    // Only streamable HTTP can serve without sessions.
    let stateless = settings.http.stateless && settings.http.transport == Transport::StreamableHttp;
    let served = served(settings, &registry, stateless);
    Ok(AltrServer::new(registry, Arc::new(client))
        .with_options(server_options(settings))
        .with_safety(settings.confirm.clone(), audit)
        .with_support(safety.support_mode, safety.support_prompts, stateless)
        .with_apps(settings.http.apps, stateless)
        .with_instructions(crate::server::instructions::compose(&served)))
}

/// What the instructions say of a server with these settings and tools.
fn served(settings: &Settings, registry: &Registry, stateless: bool) -> Served {
    let (selection, safety) = (&settings.selection, &settings.safety);
    let sets: Vec<&'static str> = registry
        .toolsets()
        .iter()
        .filter(|ts| registry.of_toolset(ts).next().is_some())
        .map(|ts| ts.id)
        .collect();
    let all = sets.len() == registry.toolsets().len();
    Served {
        confirm: settings.confirm.mode,
        read_only: selection.read_only,
        cleartext: selection.allow_cleartext,
        toolsets: (!all || selection.dynamic_toolsets).then_some(sets),
        dynamic: selection.dynamic_toolsets,
        support_mode: safety.support_mode,
        support_prompts: safety.support_prompts && !stateless,
    }
}

/// Settings and tool selection together, every problem of both reported at once.
pub fn load(sources: &Sources, purpose: Purpose) -> Result<(Settings, Registry), SettingsError> {
    let settings = Settings::load(sources, purpose);
    let (toolsets, restricted) = selection_lists(sources);
    let mut problems = Vec::new();
    // Checked separately, so an unknown toolset does not hide an unknown tool name.
    for sel in [
        Selection {
            toolsets: toolsets.clone(),
            ..Selection::default()
        },
        Selection {
            restricted: restricted.clone(),
            ..Selection::default()
        },
    ] {
        if let Err(e) = crate::toolsets::select(&sel) {
            problems.push(e.to_string());
        }
    }
    match settings {
        Ok(s) if problems.is_empty() => match crate::toolsets::select(&selection_of(&s)) {
            Ok(r) => Ok((s, r)),
            Err(e) => Err(SettingsError {
                missing: Vec::new(),
                problems: vec![e.to_string()],
            }),
        },
        Ok(_) => Err(SettingsError {
            missing: Vec::new(),
            problems,
        }),
        Err(mut e) => {
            e.problems.extend(problems);
            Err(e)
        }
    }
}

/// One start-up line for each earlier tool name the settings use, naming the current name.
pub fn alias_notes(settings: &Settings) -> Vec<String> {
    let tools = crate::toolsets::all_tools();
    let confirm = settings
        .safety
        .confirm_tools
        .iter()
        .map(|n| n.trim_start_matches(['+', '-']).trim().to_string());
    let lists = [
        (
            "RESTRICTED_TOOLS",
            settings.selection.restricted_tools.clone(),
        ),
        ("ALTR_CONFIRM_TOOLS", confirm.collect()),
    ];
    let mut notes = Vec::new();
    for (var, names) in lists {
        for name in names {
            if let Some(current) = current_name(&tools, &name).filter(|c| *c != name) {
                notes.push(format!(
                    "{var} names {name}, the earlier name of {current}; it applies to {current} (use the current name to silence this line)"
                ));
            }
        }
    }
    notes
}

/// The registry's selection from the settings' selection section, and SUPPORT_MODE. With
/// support mode or its prompts on, the support toolset is served whatever ALTR_TOOLSETS names.
pub fn selection_of(settings: &Settings) -> Selection {
    let (s, safety) = (&settings.selection, &settings.safety);
    let mut toolsets = s.toolsets.clone();
    if !toolsets.is_empty() && (safety.support_mode || safety.support_prompts) {
        toolsets.push(SUPPORT_TOOLSET.to_string());
    }
    Selection {
        toolsets,
        read_only: s.read_only,
        restricted: s.restricted_tools.clone(),
        allow_cleartext: s.allow_cleartext,
        support_mode: safety.support_mode,
    }
}

/// With ALTR_DYNAMIC_TOOLSETS: serve every tool the settings allow, starting each session with
/// the configured selection (`default` when ALTR_TOOLSETS is unset). Otherwise `server` as is.
pub fn with_dynamic_toolsets(
    server: AltrServer,
    settings: &Settings,
) -> Result<AltrServer, SelectionError> {
    if !settings.selection.dynamic_toolsets {
        return Ok(server);
    }
    let base = Selection {
        toolsets: vec!["all".into()],
        ..selection_of(settings)
    };
    let bound = crate::toolsets::select(&base)?;
    let toolsets = if settings.selection.toolsets.is_empty() {
        vec!["default".to_string()]
    } else {
        selection_of(settings).toolsets
    };
    let initial = crate::toolsets::select(&Selection { toolsets, ..base })?;
    Ok(server.with_discovery(
        Arc::new(bound),
        crate::server::discovery::Discovery::new(&initial),
    ))
}
