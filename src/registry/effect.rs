//! What a tool does to the ALTR org: the one fact that sets its annotations, its retries, and
//! which modes (read-only, confirmation, dry run) apply to it.

use rmcp::model::ToolAnnotations;

/// What a tool does to the ALTR org; this sets its MCP annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    ReadOnly,
    /// Creates something or starts work; repeating it repeats the effect.
    Additive,
    /// Sets state; repeating it with the same arguments changes nothing more.
    Idempotent,
    /// Deletes or disconnects something.
    Destructive,
    /// Changes nothing but returns protected data in clear text (detokenize): hidden unless
    /// ALTR_ALLOW_CLEARTEXT is set, whatever the other settings say.
    ClearText,
}

impl Effect {
    /// Whether the tool changes nothing in ALTR.
    pub fn is_read_only(self) -> bool {
        matches!(self, Effect::ReadOnly | Effect::ClearText)
    }

    /// Whether sending the same request twice has the effect of sending it once.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Effect::Additive)
    }

    /// The MCP annotations: only the hints that differ from the protocol defaults
    /// (readOnlyHint false, destructiveHint true, idempotentHint false, openWorldHint true), and
    /// for read-only tools only readOnlyHint (the others are meaningful only for writes). The
    /// title is the tool's own `title`, not repeated here. Every tools/list pays for these bytes.
    pub fn annotations(self) -> ToolAnnotations {
        let a = ToolAnnotations::new();
        match self {
            Effect::ReadOnly | Effect::ClearText => a.read_only(true),
            Effect::Additive => a.destructive(false),
            Effect::Idempotent => a.destructive(false).idempotent(true),
            Effect::Destructive => a.idempotent(true),
        }
    }
}
