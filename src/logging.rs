//! Logs go to stderr only (stdout carries the protocol on stdio), as console text or JSON lines.
//! A console line is one line whatever its fields hold: control characters (CR, LF, NUL ...) and
//! Unicode bidi controls are written as escapes, so argument or upstream text cannot forge a log
//! line or disguise one. JSON lines already escape control characters; bidi controls are escaped
//! there too. A leaf: it imports nothing of this crate, so any module may log and trace.

use std::io::{self, Write};

use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;

pub mod traces;

use std::borrow::Cow;

/// How log lines are written: one line of console text or one JSON object per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Console,
    Json,
}

/// Whether a character could forge or disguise a log line: C0/C1 controls, DEL, and the Unicode
/// bidirectional overrides, isolates and marks, and the line and paragraph separators.
pub fn is_unsafe_in_log(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{061c}'
        )
}

/// A log line with every unsafe character written as an escape (`\n`, `\r`, `\0`, `\u{202e}`),
/// so text from arguments or upstream cannot start a new line or reorder what a reader sees.
pub fn escape_log_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_in_log) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if is_unsafe_in_log(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Writes each formatted event to stderr with unsafe characters escaped; the event's own final
/// newline is kept.
#[derive(Debug, Clone, Copy)]
pub struct SafeStderr {
    json: bool,
}

impl SafeStderr {
    pub fn new(format: LogFormat) -> Self {
        Self {
            json: format == LogFormat::Json,
        }
    }
}

/// One event's text made safe: every unsafe character escaped except the final newline. In JSON
/// mode only the characters JSON leaves raw (bidi controls and separators) need it; their
/// `\uXXXX` form is valid JSON.
pub fn safe_line(text: &str, json: bool) -> String {
    let (body, newline) = match text.strip_suffix('\n') {
        Some(b) => (b, "\n"),
        None => (text, ""),
    };
    let body = if json {
        if body.chars().any(is_unsafe_in_log) {
            body.chars()
                .map(|c| {
                    if is_unsafe_in_log(c) && !c.is_ascii() {
                        format!("\\u{:04x}", c as u32)
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            body.to_string()
        }
    } else {
        escape_log_text(body).into_owned()
    };
    format!("{body}{newline}")
}

impl Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let safe = safe_line(&text, self.json);
        io::stderr().lock().write_all(safe.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for SafeStderr {
    type Writer = SafeStderr;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Install the global subscriber. Our own crate logs at `level`; dependencies only from WARN up,
/// so their request logs (which could carry URLs) stay out unless something is wrong. When the
/// environment asks for traces, their exporter is a second layer ([`traces`]); the log output
/// never shows trace spans.
pub fn init(level: tracing::Level, format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .parse_lossy(format!("altr_mcp={level},{}=off,rmcp=warn", traces::TARGET));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(SafeStderr::new(format))
        .with_target(false);
    let fmt = match format {
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
        LogFormat::Console => fmt.with_ansi(false).with_filter(filter).boxed(),
    };
    let (exporting, note) = traces::layer();
    let started = tracing_subscriber::registry()
        .with(fmt)
        .with(exporting)
        .try_init();
    if let (Ok(()), Some(note)) = (started, note) {
        tracing::warn!("{note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_stay_one_line() {
        assert_eq!(
            safe_line(
                "INFO tool call args={\"x\":\"a\nERROR forged\r\0\u{202e}\"}\n",
                false
            ),
            "INFO tool call args={\"x\":\"a\\nERROR forged\\r\\0\\u{202e}\"}\n"
        );
        assert_eq!(safe_line("plain\n", false), "plain\n");
    }

    #[test]
    fn json_lines_escape_bidi_and_stay_json() {
        let line = serde_json::json!({"args": "a\u{202e}b\nc"}).to_string() + "\n";
        let safe = safe_line(&line, true);
        assert!(!safe.contains('\u{202e}'));
        let back: serde_json::Value = serde_json::from_str(safe.trim_end()).unwrap();
        assert_eq!(back["args"], "a\u{202e}b\nc");
    }
}
