//! The command line: flags for every setting, `altr-mcp` to serve, `altr-mcp tools` to list the
//! selected tools without credentials.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Arg, ArgAction, ArgMatches, Command};
use rmcp::ServiceExt;

use crate::client::{AltrClient, ClientConfig};
use crate::server::AltrServer;
use crate::settings::{Purpose, Settings, SettingsError, Sources, Transport, VARIABLES};
use crate::tools::{docs, Registry, Selection};

/// The flag for a variable: `MAX_RETRIES` -> `max-retries`.
pub fn flag_name(var: &str) -> String {
    var.to_ascii_lowercase().replace('_', "-")
}

pub fn command() -> Command {
    let mut cmd = Command::new("altr-mcp")
        .version(env!("CARGO_PKG_VERSION"))
        .about("MCP server for the ALTR data security platform")
        .after_help("Every flag can also be set by its environment variable (shown in brackets); a flag wins over the variable.");
    for (var, help) in VARIABLES {
        cmd = cmd.arg(
            Arg::new(*var)
                .long(flag_name(var))
                .value_name("VALUE")
                .help(format!("{help} [env: {var}]"))
                .global(true),
        );
    }
    cmd.subcommand(
        Command::new("tools")
            .about("Print the tools this configuration exposes (no credentials needed)")
            .arg(
                Arg::new("format")
                    .long("format")
                    .value_parser(["markdown", "json"])
                    .default_value("markdown")
                    .action(ArgAction::Set)
                    .help("Output format"),
            ),
    )
}

/// The flag values given, keyed by variable name.
pub fn flags_of(m: &ArgMatches) -> BTreeMap<String, String> {
    VARIABLES
        .iter()
        .filter_map(|(var, _)| {
            m.get_one::<String>(var)
                .map(|v| (var.to_string(), v.clone()))
        })
        .collect()
}

pub fn selection_of(s: &Settings) -> Selection {
    Selection {
        toolsets: s.toolsets.clone(),
        read_only: s.read_only,
        restricted: s.restricted_tools.clone(),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("ERROR: {message}");
    ExitCode::from(1)
}

pub fn main() -> ExitCode {
    let matches = match command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let sources = Sources::from_process(flags_of(&matches));
    if let Some(("tools", sub)) = matches.subcommand() {
        let settings = match Settings::load(&sources, Purpose::ListTools) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let registry = match Registry::select(&selection_of(&settings)) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let out = match sub.get_one::<String>("format").map(String::as_str) {
            Some("json") => docs::json(&registry).to_string(),
            _ => docs::markdown(&registry),
        };
        println!("{out}");
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load(&sources, Purpose::Serve) {
        Ok(s) => s,
        Err(e @ SettingsError::Missing(_)) | Err(e @ SettingsError::Invalid(_)) => return fail(e),
    };
    crate::logging::init(settings.log_level, settings.log_format);
    let registry = match Registry::select(&selection_of(&settings)) {
        Ok(r) => Arc::new(r),
        Err(e) => return fail(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(serve(settings, registry)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Serve MCP on the configured transport until the client goes away or a signal arrives.
pub async fn serve(settings: Settings, registry: Arc<Registry>) -> Result<(), String> {
    let client = Arc::new(AltrClient::new(ClientConfig::from_settings(&settings)));
    let server = AltrServer::new(registry.clone(), client);
    tracing::info!(
        transport = settings.transport.as_str(),
        tools = registry.tools().len(),
        read_only = settings.read_only,
        "altr-mcp {} starting",
        env!("CARGO_PKG_VERSION")
    );
    match settings.transport {
        Transport::Stdio => {
            let running = server
                .serve(rmcp::transport::stdio())
                .await
                .map_err(|e| format!("stdio session failed to start: {e}"))?;
            running
                .waiting()
                .await
                .map_err(|e| format!("stdio session ended with an error: {e}"))?;
            Ok(())
        }
        Transport::Sse | Transport::StreamableHttp => Err(format!(
            "MCP_TRANSPORT={} is not available in this build; use stdio",
            settings.transport.as_str()
        )),
    }
}
