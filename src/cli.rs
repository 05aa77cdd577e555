//! The command line: flags for every setting, `altr-mcp` to serve, `altr-mcp tools` to list the
//! selected tools without credentials, `altr-mcp --sandbox` to serve against a built-in simulated
//! ALTR org, and `altr-mcp sandbox` to run that simulated ALTR API alone.

pub mod call;
pub mod compose;

pub use compose::{build_server, load, selection_of, server_options};

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Arg, ArgAction, ArgMatches, Command};
use rmcp::ServiceExt;

use crate::config::{variables, Purpose, Settings, Sources, Transport};
use crate::registry::{docs, Registry};

/// The flag for a variable: `MAX_RETRIES` -> `max-retries`.
pub fn flag_name(var: &str) -> String {
    var.to_ascii_lowercase().replace('_', "-")
}

pub fn command() -> Command {
    let mut cmd = Command::new("altr-mcp")
        .version(env!("CARGO_PKG_VERSION"))
        .about("MCP server for the ALTR data security platform")
        .after_help("Every flag can also be set by its environment variable (shown in brackets); a flag wins over the variable.");
    for (var, help) in variables() {
        cmd = cmd.arg(
            Arg::new(var)
                .long(flag_name(var))
                .value_name("VALUE")
                .help(format!("{help} [env: {var}]"))
                .global(true),
        );
    }
    cmd = cmd.arg(
        Arg::new("sandbox")
            .long("sandbox")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Serve against a built-in simulated ALTR org on a loopback port (demo data, no credentials; no real ALTR org is touched) [env: ALTR_SANDBOX]"),
    );
    cmd.subcommand(sandbox_command())
        .subcommand(call_command())
        .subcommand(
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
    variables()
        .into_iter()
        .filter_map(|(var, _)| {
            m.get_one::<String>(var)
                .map(|v| (var.to_string(), v.clone()))
        })
        .collect()
}

/// The async runtime: two workers are plenty for an MCP server and keep start-up cheap.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
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
    let mut flags = flags_of(&matches);
    if matches!(matches.try_get_one::<bool>("sandbox"), Ok(Some(true))) {
        flags.insert("ALTR_SANDBOX".into(), "true".into());
    }
    let sources = Sources::from_process(flags);
    if let Some(("sandbox", sub)) = matches.subcommand() {
        return run_sandbox(&sources, sub);
    }
    if let Some(("tools", sub)) = matches.subcommand() {
        let (_, registry) = match load(&sources, Purpose::ListTools) {
            Ok(loaded) => loaded,
            Err(e) => return fail(e),
        };
        let out = match sub.get_one::<String>("format").map(String::as_str) {
            Some("json") => docs::json(&registry).to_string(),
            _ => docs::markdown(&registry),
        };
        println!("{out}");
        return ExitCode::SUCCESS;
    }
    let (settings, registry) = match load(&sources, Purpose::Serve) {
        Ok(loaded) => loaded,
        Err(e) => return fail(e),
    };
    crate::logging::init(settings.log.log_level, settings.log.log_format);
    for note in compose::alias_notes(&settings) {
        tracing::warn!("{note}");
    }
    if let Some(("call", sub)) = matches.subcommand() {
        return run_call(&sources, settings, &registry, sub);
    }
    if settings.http.transport == Transport::Stdio
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        eprintln!("{}", crate::cli::call::STDIO_HINT);
    }
    let registry = Arc::new(registry);
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let (settings, _sandbox) = match start_sandbox(&runtime, &sources, settings) {
        Ok(started) => started,
        Err(e) => return fail(e),
    };
    let served = runtime.block_on(serve(settings, registry));
    // Spans still buffered are exported before the process ends.
    crate::logging::traces::shutdown();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Serve MCP on the configured transport until the client goes away or a signal arrives.
pub async fn serve(settings: Settings, registry: Arc<Registry>) -> Result<(), String> {
    if let Some(addr) = settings.log.metrics_addr {
        crate::metrics::serve(addr).await?;
    }
    let state_keys = settings.safety.state_keys.iter();
    crate::safety::confirm::use_state_keys(
        state_keys
            .map(|(id, key)| (id.clone(), key.expose().as_bytes().to_vec()))
            .collect(),
    )?;
    let server = build_server(&settings, registry.clone())?;
    let server = compose::with_dynamic_toolsets(server, &settings).map_err(|e| e.to_string())?;
    tracing::info!(
        transport = settings.http.transport.as_str(),
        tools = registry.tools().len(),
        read_only = settings.selection.read_only,
        "altr-mcp {} starting",
        env!("CARGO_PKG_VERSION")
    );
    match settings.http.transport {
        Transport::Stdio => {
            let (sink, stream, writer) =
                crate::transport::stdio::transport(tokio::io::stdin(), tokio::io::stdout());
            let running = server
                .session_on("stdio")
                .serve((sink, stream))
                .await
                .map_err(|e| format!("stdio session failed to start: {e}"))?;
            let ended = running.waiting().await;
            // Let the last replies reach stdout.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writer).await;
            ended.map_err(|e| format!("stdio session ended with an error: {e}"))?;
            Ok(())
        }
        Transport::Sse | Transport::StreamableHttp => {
            crate::transport::serve(server, settings.http.clone(), settings.oauth.clone()).await
        }
    }
}

/// The `call` subcommand.
fn call_command() -> Command {
    Command::new("call")
        .about("Call one tool with these settings and print its {success, data, error} envelope (exit 0 success, 2 tool failure, 1 usage)")
        .arg(Arg::new("tool").required(true).value_name("TOOL").help("Tool name (see `altr-mcp tools`)"))
        .arg(
            Arg::new("arg")
                .long("arg")
                .value_name("NAME=VALUE")
                .action(ArgAction::Append)
                .help("One argument; VALUE is JSON (number, true, list, object) unless the parameter is a string or VALUE is not JSON"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("OBJECT")
                .help("Every argument as one JSON object (--arg values win)"),
        )
}

/// `altr-mcp call`: one tool call against the configured org (or the sandbox).
fn run_call(
    sources: &Sources,
    settings: Settings,
    registry: &Registry,
    sub: &ArgMatches,
) -> ExitCode {
    let tool = sub.get_one::<String>("tool").cloned().unwrap_or_default();
    let pairs: Vec<String> = sub
        .get_many::<String>("arg")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let args = crate::cli::call::schema_of(registry, &tool).and_then(|schema| {
        crate::cli::call::arguments(
            &schema,
            sub.get_one::<String>("json").map(String::as_str),
            &pairs,
        )
    });
    let args = match args {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let (settings, _sandbox) = match start_sandbox(&runtime, sources, settings) {
        Ok(started) => started,
        Err(e) => return fail(e),
    };
    let server = match build_server(&settings, Arc::new(registry.clone())) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    runtime.block_on(crate::cli::call::run(&server, &tool, args))
}

/// How to use the sandbox, shown by `altr-mcp sandbox --help`.
const SANDBOX_RECIPE: &str = "\
Sandbox state lives as long as the process that holds it. Two ways to use it:

  1. One server with the sandbox built in (simplest): state lasts while that server runs.
       altr-mcp --sandbox                                  # stdio, for a client to start
       MCP_TRANSPORT=streamable-http altr-mcp --sandbox    # one HTTP server, many client calls
     then point clients at http://127.0.0.1:8000/mcp; every call sees the same simulated org.

  2. The simulated API alone (this command), for this or another ALTR MCP server:
       altr-mcp sandbox --port 9000 > sandbox.env &
       set -a; . ./sandbox.env; set +a       # or: export $(cat sandbox.env)
       MCP_TRANSPORT=streamable-http altr-mcp
     The printed lines are ordinary settings (ALTR_*_BASE_URL, ORG_ID, MAPI_KEY, MAPI_SECRET).

Faults: POST /_sandbox/faults on the sandbox URL (see the README).";

/// The `sandbox` subcommand.
fn sandbox_command() -> Command {
    Command::new("sandbox")
        .about("Run the simulated ALTR API alone on 127.0.0.1 and print the settings that point a server at it; runs until Ctrl-C")
        .after_help(SANDBOX_RECIPE)
        .arg(
            Arg::new("port")
                .long("port")
                .value_name("N")
                .value_parser(clap::value_parser!(u16))
                .default_value("0")
                .help("Port to listen on (0 picks a free one)"),
        )
        .arg(
            Arg::new("seed")
                .long("seed")
                .value_parser(["demo", "empty"])
                .default_value("demo")
                .help("Start with the demo org or an empty one"),
        )
}

/// With `ALTR_SANDBOX` / `--sandbox`: start the simulated ALTR API and point the settings at it.
fn start_sandbox(
    runtime: &tokio::runtime::Runtime,
    sources: &Sources,
    settings: Settings,
) -> Result<(Settings, Option<crate::sandbox::Sandbox>), String> {
    if !settings.client.sandbox {
        return Ok((settings, None));
    }
    let sandbox = runtime
        .block_on(crate::sandbox::Sandbox::start(
            0,
            crate::sandbox::Seed::Demo,
        ))
        .map_err(|e| format!("cannot start the ALTR sandbox: {e}"))?;
    let mut sources = sources.clone();
    // The sandbox's URLs and credentials win over any given, so nothing reaches a real org.
    sources.flags.extend(sandbox.env());
    let settings = Settings::load(&sources, Purpose::Serve).map_err(|e| e.to_string())?;
    eprintln!(
        "altr-mcp: SANDBOX MODE: serving a simulated ALTR org (demo data, in memory) at {}; no real ALTR org is touched and no credentials are used.",
        sandbox.url()
    );
    Ok((settings, Some(sandbox)))
}

/// `altr-mcp sandbox`: serve the simulated API, print its env lines, wait for Ctrl-C.
fn run_sandbox(sources: &Sources, sub: &ArgMatches) -> ExitCode {
    let port = sub
        .try_get_one::<u16>("port")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(0);
    let seed = match sub
        .try_get_one::<String>("seed")
        .ok()
        .flatten()
        .map(|s| s.parse::<crate::sandbox::Seed>())
    {
        Some(Ok(seed)) => seed,
        Some(Err(e)) => return fail(e),
        None => crate::sandbox::Seed::Demo,
    };
    if let Ok(settings) = Settings::load(sources, Purpose::ListTools) {
        crate::logging::init(settings.log.log_level, settings.log.log_format);
    }
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let result = runtime.block_on(async move {
        let sandbox = crate::sandbox::Sandbox::start(port, seed)
            .await
            .map_err(|e| format!("cannot start the ALTR sandbox on 127.0.0.1:{port}: {e}"))?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(sandbox.env_lines().as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write the settings to stdout: {e}"))?;
        }
        eprintln!(
            "altr-mcp sandbox: a simulated ALTR org ({seed} data) is listening at {}; no real ALTR org is touched. The lines above point a server at it. Faults: POST {}/_sandbox/faults. Ctrl-C to stop.",
            sandbox.url(),
            sandbox.url()
        );
        shutdown_signal().await;
        Ok::<(), String>(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
