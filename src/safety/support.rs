//! Support mode: read-only troubleshooting. Two ways in:
//! - the operator starts the server with SUPPORT_MODE=true ("hard"): the tool selection keeps
//!   only the plain reads and `enter_support_mode` (see [`crate::registry::select::Hidden`]),
//!   and no tool call can leave it;
//! - a session arms it for itself with `enter_support_mode` ("soft"): from then on only the plain
//!   reads and the control tools run, until `exit_support_mode` with the operator's typed phrase.
//!   `request_write_unlock` lets exactly one call of one named tool through, then the mode closes
//!   again by itself.
//!
//! The state is per MCP session: over stdio that is the process, over HTTP each session has its
//! own, so one client arming it never restricts another. With stateless HTTP (MCP_STATELESS)
//! every request is its own session, so soft mode cannot be armed there. The pipeline's
//! support gate ([`crate::server::gates::support`]) applies [`SupportMode::admit`] to every call;
//! the control tools are [`crate::toolsets::support`]. Support mode only ever narrows what the
//! server's selection exposes: RESTRICTED_TOOLS, read-only mode and the clear-text gate stay in
//! force whatever is unlocked.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use crate::registry::select::{all_tools, is_support_read, Hidden, SUPPORT_TOOLSET};
use crate::registry::{Registry, ToolDef, ToolError, ToolResult};

pub use crate::registry::select::{
    ENTER_SUPPORT as ENTER, EXIT_SUPPORT as EXIT, UNLOCK_SUPPORT as UNLOCK,
};
/// What the operator types to leave support mode. Not a secret: it is in the documentation; it
/// only makes sure a human, not the model, decided to leave.
pub const EXIT_PHRASE: &str = "EXIT SUPPORT MODE";
/// Tools no unlock can ever reach: they return or destroy real customer values, and no
/// troubleshooting step needs them. Sorted.
pub const NEVER_UNLOCKABLE: [&str; 6] = [
    "critical_delete_tokens",
    "critical_detokenize",
    "critical_partial_detokenize",
    "vault_delete_tokens",
    "vault_detokenize",
    "vault_partial_detokenize",
];
/// Session-log entries kept until exit; later ones are counted, not kept.
const JOURNAL_LIMIT: usize = 256;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Every tool the server exposes runs.
    Off,
    /// Armed by `enter_support_mode`: reads and the control tools only.
    Soft,
    /// Set by the operator (SUPPORT_MODE=true): reads only, for good.
    Hard,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Off => "off",
            State::Soft => "soft",
            State::Hard => "hard",
        }
    }
}

/// What is the same for every session of a server.
#[derive(Debug)]
struct Rules {
    /// The tools the server exposes, and why it hides the others.
    registry: Arc<Registry>,
    /// SUPPORT_MODE=true.
    hard: bool,
    /// MCP_STATELESS=true: no session outlives its request, so soft mode cannot be armed.
    stateless: bool,
    /// The tools of the registry support mode withholds once on (not [`is_support_read`]), by
    /// name; the server's other tools (toolset discovery) are never withheld.
    writes: BTreeSet<&'static str>,
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// The one tool whose next call is let through.
    pending: Option<&'static str>,
    journal: Vec<Value>,
    dropped: usize,
    /// Bumped whenever what the session lists changes.
    version: u64,
}

/// The support mode of one session.
#[derive(Debug, Clone)]
pub struct SupportMode {
    rules: Arc<Rules>,
    inner: Arc<Mutex<Inner>>,
}

/// A session's support mode as it stood when a list was asked for.
pub struct Listing<'a> {
    rules: &'a Rules,
    state: State,
    pending: Option<&'static str>,
}

impl Listing<'_> {
    /// Whether the tool named `name` is listed. A control tool is listed only where it can do
    /// something: unlock and exit only while armed, enter unless it can only refuse.
    pub fn lists(&self, name: &str) -> bool {
        match name {
            UNLOCK | EXIT => self.state == State::Soft,
            ENTER => !(self.rules.stateless && self.state == State::Off),
            _ => {
                self.state == State::Off
                    || !self.rules.writes.contains(name)
                    || self.pending == Some(name)
            }
        }
    }
}

/// What the support gate made of a call it let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Nothing withheld: support mode is off, or the tool is a read or a control tool.
    Open,
    /// The call spent the session's one-call unlock of this tool.
    Unlocked,
}

fn refused(message: impl Into<String>) -> ToolError {
    ToolError::Failed {
        code: "support_mode",
        message: message.into(),
        details: None,
    }
}

fn stateless_refusal() -> ToolError {
    refused("Support mode cannot be armed on this server: it serves HTTP without sessions (MCP_STATELESS=true), so the mode would end with this request. The operator can start the server with SUPPORT_MODE=true instead.")
}

impl SupportMode {
    /// Support mode for the sessions of a server exposing `registry`: hard when the operator set
    /// SUPPORT_MODE, otherwise off until a session arms it.
    pub fn new(registry: Arc<Registry>, hard: bool, stateless: bool) -> Self {
        let writes = registry
            .tools()
            .iter()
            .filter(|t| !is_support_read(t))
            .map(|t| t.name)
            .collect();
        let rules = Arc::new(Rules {
            registry,
            hard,
            stateless,
            writes,
        });
        Self::start(rules)
    }

    fn start(rules: Arc<Rules>) -> Self {
        let state = if rules.hard { State::Hard } else { State::Off };
        Self {
            rules,
            inner: Arc::new(Mutex::new(Inner {
                state,
                pending: None,
                journal: Vec::new(),
                dropped: 0,
                version: 0,
            })),
        }
    }

    /// The same settings for a server exposing `registry` instead.
    pub fn with_registry(&self, registry: Arc<Registry>) -> Self {
        Self::new(registry, self.rules.hard, self.rules.stateless)
    }

    /// The same rules for a new session, which starts off (or hard).
    pub fn fresh(&self) -> Self {
        Self::start(self.rules.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state is plain data, consistent after every step: a panic elsewhere leaves it usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self) -> State {
        self.lock().state
    }

    /// Changes whenever what this session lists changes (to tell the client).
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// What the session lists now: one look at the state for a whole tools/list.
    pub fn listing(&self) -> Listing<'_> {
        let i = self.lock();
        Listing {
            rules: &self.rules,
            state: i.state,
            pending: i.pending,
        }
    }

    /// Whether the call may run. Checking and spending the unlock are one step under the lock,
    /// so two concurrent calls cannot both use one unlock. A dry run of the unlocked tool runs
    /// without spending it (it sends nothing).
    pub fn admit(&self, def: &ToolDef, dry_run: bool) -> Result<Admission, ToolError> {
        let mut i = self.lock();
        if i.state == State::Off || is_support_read(def) {
            return Ok(Admission::Open);
        }
        if i.pending == Some(def.name) {
            if dry_run {
                return Ok(Admission::Open);
            }
            i.pending = None;
            i.version += 1;
            record(&mut i, "write_executed", Some(def.name), None);
            tracing::warn!(
                tool = def.name,
                "support mode: the one-call unlock was spent"
            );
            return Ok(Admission::Unlocked);
        }
        // Under SUPPORT_MODE the selection serves no other tool, so this is a session's own arming.
        Err(refused(format!("Tool '{name}' is withheld: support mode is on for this session, so only lookups run. If the operator has authorized this change, call {UNLOCK} with tool_name {name} and their reason, then call {name} once.", name = def.name)))
    }

    /// `enter_support_mode`: arm soft mode (nothing changes when it is already on).
    pub fn enter(&self) -> ToolResult {
        let mut i = self.lock();
        if i.state == State::Hard {
            return Ok(json!({
                "state": "hard",
                "changed": false,
                "note": "The operator started this server in support mode (SUPPORT_MODE=true): lookups only, and no tool call can unlock or leave it. Go on read-only.",
            }));
        }
        if self.rules.stateless {
            return Err(stateless_refusal());
        }
        let changed = i.state == State::Off;
        if changed {
            i.state = State::Soft;
            i.version += 1;
            record(&mut i, "entered", None, Some("armed by a tool call"));
            tracing::info!("support mode: armed for the session");
        }
        let reads = self
            .rules
            .registry
            .tools()
            .iter()
            .filter(|t| is_support_read(t) && t.toolset.id != SUPPORT_TOOLSET)
            .count();
        Ok(json!({
            "state": "soft",
            "changed": changed,
            "read_tools_available": reads,
            "next": format!("No restart needed. For one change the operator has authorized, call {UNLOCK}; to leave, call {EXIT} with the phrase the operator types."),
        }))
    }

    /// `request_write_unlock`: let the next call of `tool` through, once. The first check that
    /// fails answers.
    pub fn unlock(&self, tool: &str, reason: &str) -> ToolResult {
        let registry = &self.rules.registry;
        // An earlier name unlocks the tool it stands for, like everywhere else a tool is named.
        let tool = registry.alias(tool).unwrap_or(tool);
        let Some(def) = all_tools(registry.toolsets())
            .into_iter()
            .find(|t| t.name == tool)
        else {
            let shown = crate::client::error::truncate(tool, 80);
            return Err(ToolError::invalid("tool_name", format!("no tool named '{shown}' exists on this server; check the exact name (it is case-sensitive) before asking for an unlock")));
        };
        let name = def.name;
        if NEVER_UNLOCKABLE.contains(&name) {
            return Err(refused(format!("{name} can never be unlocked: it returns or destroys real customer values, and no troubleshooting step needs it.")));
        }
        match registry.hidden_by(name) {
            None | Some(Hidden::SupportMode) => {}
            Some(_) => {
                let why = registry.unavailable(name).unwrap_or_default();
                return Err(refused(format!("{why} An unlock cannot widen what the operator configured; only they can change it, and restart the server.")));
            }
        }
        let mut i = self.lock();
        match i.state {
            State::Off if self.rules.stateless => return Err(stateless_refusal()),
            State::Off => return Err(refused("Support mode is not on for this session, so no unlock is needed.")),
            State::Hard => return Err(refused("The operator started this server in support mode (SUPPORT_MODE=true): writes are unavailable and no tool call can unlock them.")),
            State::Soft => {}
        }
        if is_support_read(&def) {
            return Err(refused(format!(
                "{name} is already available; no unlock is needed."
            )));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ToolError::invalid(
                "reason",
                "must say what the operator authorized and why, in their words",
            ));
        }
        let replaced = i.pending.replace(name).filter(|p| *p != name);
        i.version += 1;
        record(&mut i, "unlock_granted", Some(name), Some(reason));
        tracing::info!(
            tool = name,
            replaced,
            "support mode: one-call unlock granted"
        );
        Ok(json!({
            "unlocked": name,
            "scope": "the next call of this tool only, whatever its outcome; then support mode closes again",
            "reason": reason,
            // The unlock this one replaced, which can no longer be spent.
            "replaced": replaced,
            "never_unlockable": NEVER_UNLOCKABLE,
        }))
    }

    /// `exit_support_mode`: leave soft mode with the operator's typed phrase; returns the
    /// session's log, for the support ticket.
    pub fn exit(&self, confirmation: &str) -> ToolResult {
        let mut i = self.lock();
        match i.state {
            State::Off => return Err(refused("Support mode is not on for this session.")),
            State::Hard => return Err(refused("The operator started this server in support mode (SUPPORT_MODE=true); no tool call can leave it. Leaving it means restarting the server without SUPPORT_MODE.")),
            State::Soft => {}
        }
        // Exact: no trimming, no case folding. The refusal never shows the phrase.
        if confirmation != EXIT_PHRASE {
            return Err(ToolError::invalid("confirmation", "must be the confirmation phrase exactly as the operator typed it; ask the operator for it (it is in the server's documentation) and do not guess or supply it yourself"));
        }
        record(
            &mut i,
            "exited",
            None,
            Some("confirmed by the typed phrase"),
        );
        let log = std::mem::take(&mut i.journal);
        let dropped = std::mem::take(&mut i.dropped);
        i.state = State::Off;
        i.pending = None;
        i.version += 1;
        tracing::info!("support mode: left for the session");
        let writes: Vec<&Value> = log
            .iter()
            .filter(|e| e["action"] == "write_executed")
            .map(|e| &e["tool"])
            .collect();
        Ok(json!({
            "state": "off",
            "writes_executed": writes,
            "session_log": log,
            // Entries past the log's bound, counted but not kept.
            "entries_not_kept": dropped,
            "note": "Every tool is available again. Call enter_support_mode before any further troubleshooting.",
        }))
    }
}

fn record(i: &mut Inner, action: &str, tool: Option<&str>, detail: Option<&str>) {
    if i.journal.len() >= JOURNAL_LIMIT {
        i.dropped += 1;
        return;
    }
    i.journal.push(json!({
        "action": action,
        "tool": tool,
        "detail": detail,
        "at": crate::clock::rfc3339_millis(std::time::SystemTime::now()),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode() -> SupportMode {
        SupportMode::new(Arc::new(crate::toolsets::everything()), false, false)
    }

    #[test]
    fn the_session_log_is_bounded_and_counts_what_it_did_not_keep() {
        let m = mode();
        assert!(m.enter().is_ok());
        for _ in 0..300 {
            assert!(m.unlock("create_tweak", "again").is_ok());
        }
        let out = m.exit(EXIT_PHRASE).unwrap_or_default();
        assert_eq!(
            out["session_log"].as_array().map(Vec::len),
            Some(JOURNAL_LIMIT)
        );
        // 1 entered + 300 grants + 1 exited.
        assert_eq!(out["entries_not_kept"], 302 - JOURNAL_LIMIT);
        assert_eq!(m.state(), State::Off);
    }

    #[test]
    fn a_new_session_starts_off_and_shares_nothing() {
        let m = mode();
        assert!(m.enter().is_ok());
        let other = m.fresh();
        assert_eq!(other.state(), State::Off);
        assert_eq!(m.state(), State::Soft);
        let hard = SupportMode::new(Arc::new(crate::toolsets::everything()), true, false);
        assert_eq!(hard.fresh().state(), State::Hard);
    }
}
