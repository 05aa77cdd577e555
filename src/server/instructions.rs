//! What the server tells every client about itself: its name and its instructions, composed
//! from the settings in force (confirmation, read-only mode, toolsets, the clear-text gate), with
//! a block on support mode when it is on or can be armed.

use crate::safety::confirm::Mode;

/// The server instructions sent to clients on initialize and discover.
pub const INSTRUCTIONS: &str = include_str!("../../instructions.md");

/// Added when the operator set SUPPORT_MODE: every session is read-only for good.
pub const SUPPORT_ACTIVE: &str = include_str!("instructions/support_active.md");

/// Added with SUPPORT_PROMPTS (and no SUPPORT_MODE): how a session arms, unlocks and leaves
/// support mode. Instructions go out once, at initialize, so this must be there before the first
/// troubleshooting prompt.
pub const SUPPORT_AVAILABLE: &str = include_str!("instructions/support_available.md");

/// The MCP server name clients see.
pub const SERVER_NAME: &str = "altr";

/// What the instructions say of this server, from its settings: how destructive calls are
/// confirmed, what is served, and support mode.
#[derive(Debug, Clone, Default)]
pub struct Served {
    /// ALTR_CONFIRM.
    pub confirm: Mode,
    /// ALTR_READ_ONLY.
    pub read_only: bool,
    /// ALTR_ALLOW_CLEARTEXT.
    pub cleartext: bool,
    /// The toolsets with a tool served, when not every toolset is.
    pub toolsets: Option<Vec<&'static str>>,
    /// ALTR_DYNAMIC_TOOLSETS: more toolsets can be enabled.
    pub dynamic: bool,
    /// SUPPORT_MODE.
    pub support_mode: bool,
    /// SUPPORT_PROMPTS on a server whose sessions can arm support mode.
    pub support_prompts: bool,
}

/// The instructions for this server: [`INSTRUCTIONS`], what this server's settings mean for the
/// model, and at most one support-mode block (active with SUPPORT_MODE; how to arm it with the
/// troubleshooting prompts).
pub fn compose(served: &Served) -> String {
    let mut out = INSTRUCTIONS.trim_end().to_string();
    out.push_str("\n\n## This server\n");
    let confirm = match served.confirm {
        Mode::Elicit => "- Destructive calls: the server asks the user to confirm through your client before anything is sent. A client that cannot ask lets the call go ahead, so first say what will be removed and get the user's yes.",
        Mode::Required => "- Destructive calls need a human's yes (ALTR_CONFIRM=required): a client that can ask is asked; otherwise the call is refused with `confirmation_required` and its preview. Show the preview and, only if the user agrees, call again with `confirm: true`.",
        Mode::Never => "- Destructive calls are not confirmed by the server (ALTR_CONFIRM=never): say what will be removed and get the user's yes yourself before calling.",
    };
    out.push_str(confirm);
    out.push('\n');
    if served.read_only {
        out.push_str("- Read-only (ALTR_READ_ONLY): only tools that change nothing are served; name any change the user asks for instead of looking for a way to make it.\n");
    }
    if let Some(sets) = &served.toolsets {
        out.push_str(&format!("- Toolsets served: {}.", sets.join(", ")));
        if served.dynamic {
            out.push_str(" Others can be added with `enable_toolset` (see `list_toolsets`).");
        }
        out.push('\n');
    }
    out.push_str(if served.cleartext {
        "- The detokenize tools are served (ALTR_ALLOW_CLEARTEXT) and return real values: call them only when the user needs the value itself, and never repeat it beyond what they asked.\n"
    } else {
        "- Detokenizing is disabled on this server: tokens cannot be turned back into values here.\n"
    });
    let block = if served.support_mode {
        Some(SUPPORT_ACTIVE)
    } else if served.support_prompts {
        Some(SUPPORT_AVAILABLE)
    } else {
        None
    };
    if let Some(b) = block {
        out.push('\n');
        out.push_str(b);
    }
    out
}
