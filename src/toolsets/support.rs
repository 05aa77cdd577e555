//! Support mode's control tools: arm read-only troubleshooting for the session, unlock one call
//! of one write the operator authorized, and leave with the operator's typed phrase. They call
//! no ALTR API; they work on the session's [`SupportMode`], whose rules (and the gate that
//! applies them to every call) are in [`crate::safety::support`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::registry::args::NoParams;
use crate::registry::select::SUPPORT_TOOLSET;
use crate::registry::{Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::safety::support::{SupportMode, ENTER, EXIT, UNLOCK};

pub static SET: Toolset = Toolset {
    id: SUPPORT_TOOLSET,
    title: "Support mode",
    description: "Read-only troubleshooting for the session: arm it, unlock one authorized write, leave it with the operator's phrase.",
    in_default: true,
    tools,
};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unlock {
    #[schemars(extend("x-doc" = "The exact name of the one tool to let through, e.g. disconnect_sc_sidecar_binding."))]
    pub tool_name: String,
    #[schemars(extend("x-doc" = "What the operator authorized and why, in their words; kept in the session log."))]
    pub reason: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exit {
    #[schemars(extend("x-doc" = "The confirmation phrase exactly as the operator typed it."))]
    pub confirmation: String,
}

/// The session's support mode; none for a call outside an MCP session.
fn mode(ctx: &Ctx) -> Result<&SupportMode, ToolError> {
    ctx.session::<SupportMode>().ok_or_else(|| ToolError::Failed {
        code: "support_mode",
        message: "Support mode belongs to an MCP session and this call has none (`altr-mcp call` runs each call on its own). Start the server with SUPPORT_MODE=true for read-only troubleshooting instead.".into(),
        details: None,
    })
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool(ENTER, "Enter support mode", Effect::ReadOnly)
            .description("Call first when diagnosing a problem (not for a planned change): for this session, withholds every tool that changes ALTR or returns clear text, leaving the lookups. Leave only by exit_support_mode.")
            .handler(|ctx: Ctx, _: NoParams| async move { mode(&ctx)?.enter() }),
        SET.tool(UNLOCK, "Unlock one write", Effect::ReadOnly)
            .description("After the operator explicitly authorized one change: lets the next call of tool_name through, once, then support mode closes again; reason: what they authorized and why, in their words. Call right before that call. Detokenizing and deleting tokens are never unlocked.")
            .handler(|ctx: Ctx, p: Unlock| async move { mode(&ctx)?.unlock(&p.tool_name, &p.reason) }),
        SET.tool(EXIT, "Exit support mode", Effect::ReadOnly)
            .description("Only when the operator says troubleshooting is done: ask them to type the confirmation phrase and pass it as confirmation, exactly; never supply it yourself. Returns the session log for the ticket.")
            .handler(|ctx: Ctx, p: Exit| async move { mode(&ctx)?.exit(&p.confirmation) }),
    ]
}
