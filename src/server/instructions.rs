//! What the server tells every client about itself: its name and its instructions, with a
//! block on support mode when it is on or can be armed.

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

/// The instructions for a server with support mode on (`hard`), or able to be armed by a
/// session with the prompts published (`prompts`); at most one block is added.
pub fn compose(hard: bool, prompts: bool) -> String {
    let block = if hard {
        Some(SUPPORT_ACTIVE)
    } else if prompts {
        Some(SUPPORT_AVAILABLE)
    } else {
        None
    };
    match block {
        Some(b) => format!("{}\n\n{b}", INSTRUCTIONS.trim_end()),
        None => INSTRUCTIONS.to_string(),
    }
}
