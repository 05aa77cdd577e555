//! Logs go to stderr only (stdout carries the protocol on stdio), as console text or JSON lines.

use tracing_subscriber::filter::{EnvFilter, LevelFilter};

use crate::settings::LogFormat;

/// Install the global subscriber. Our own crate logs at `level`; dependencies only from WARN up,
/// so their request logs (which could carry URLs) stay out unless something is wrong.
pub fn init(level: tracing::Level, format: LogFormat) {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .parse_lossy(format!("altr_mcp={level},rmcp=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Console => builder.with_ansi(false).try_init(),
    };
}
