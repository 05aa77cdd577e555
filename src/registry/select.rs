//! Which tools a server exposes: toolsets (with the `default` set), read-only mode,
//! RESTRICTED_TOOLS and the clear-text gate, applied to the catalogue of every tool.

use std::collections::BTreeMap;

use super::effect::Effect;
use super::tool::{ToolDef, Toolset};

/// Every toolset a server can offer, in listing order ([`crate::toolsets::TOOLSETS`]).
pub type Catalogue = &'static [&'static Toolset];

/// Every tool of a catalogue, in listing order.
pub fn all_tools(catalogue: Catalogue) -> Vec<ToolDef> {
    catalogue.iter().flat_map(|ts| (ts.tools)()).collect()
}

/// The current name of a tool of the catalogue called by `name`: `name` itself, or the tool
/// whose earlier name it is. `None` for a name no tool has ever had.
pub fn current_name(tools: &[ToolDef], name: &str) -> Option<&'static str> {
    tools
        .iter()
        .find(|t| t.name == name || t.formerly.contains(&name))
        .map(|t| t.name)
}

/// The toolset of a catalogue with this id (any case).
pub fn toolset(catalogue: Catalogue, id: &str) -> Option<&'static Toolset> {
    catalogue
        .iter()
        .copied()
        .find(|t| t.id.eq_ignore_ascii_case(id))
}

/// Why a tool selection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("ALTR_TOOLSETS: unknown toolset(s) {unknown}; use {allowed}")]
    UnknownToolset { unknown: String, allowed: String },
    #[error("RESTRICTED_TOOLS: unknown tool name(s) {0}; run `altr-mcp tools` to see every name")]
    UnknownTool(String),
}

/// The selection settings.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub toolsets: Vec<String>,
    pub read_only: bool,
    pub restricted: Vec<String>,
    /// Expose the tools that return protected data in clear text (ALTR_ALLOW_CLEARTEXT).
    pub allow_cleartext: bool,
    /// Support mode set by the operator (SUPPORT_MODE): only the plain reads and
    /// `enter_support_mode` stay (see [`is_support_read`]); unlocking and leaving are for a
    /// session that armed the mode itself.
    pub support_mode: bool,
}

/// Why a tool of the catalogue is not exposed, the first that applies in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Named in RESTRICTED_TOOLS.
    Restricted,
    /// Returns clear text and ALTR_ALLOW_CLEARTEXT is off.
    ClearText,
    /// Not a read, and SUPPORT_MODE is on.
    SupportMode,
    /// Changes ALTR, and ALTR_READ_ONLY is on.
    ReadOnly,
    /// In a toolset ALTR_TOOLSETS does not select.
    Toolset,
}

/// The toolset of the support-mode control tools ([`crate::toolsets::support`]).
pub const SUPPORT_TOOLSET: &str = "support";
/// The tool that arms support mode for the session.
pub const ENTER_SUPPORT: &str = "enter_support_mode";
/// The tool that lets one call of one write tool through (while armed).
pub const UNLOCK_SUPPORT: &str = "request_write_unlock";
/// The tool that leaves support mode (while armed).
pub const EXIT_SUPPORT: &str = "exit_support_mode";

/// Whether support mode lets the tool run: a plain read (never a clear-text one, which returns
/// protected values), or a tool of the support toolset itself.
pub fn is_support_read(t: &ToolDef) -> bool {
    t.effect == Effect::ReadOnly
}

/// The tools a server exposes, and those it knows but hides.
#[derive(Debug, Clone)]
pub struct Registry {
    catalogue: Catalogue,
    /// Earlier names of every tool of the catalogue, with the current name.
    aliases: std::collections::BTreeMap<&'static str, &'static str>,
    tools: Vec<ToolDef>,
    /// The tools of the catalogue this registry does not expose, with why.
    hidden: BTreeMap<&'static str, Hidden>,
}

fn aliases_of(tools: &[ToolDef]) -> std::collections::BTreeMap<&'static str, &'static str> {
    tools
        .iter()
        .flat_map(|t| t.formerly.iter().map(move |a| (*a, t.name)))
        .collect()
}

impl Registry {
    /// Apply a selection to every tool of the catalogue. Unknown names in any list are an error:
    /// a typo must not silently leave a tool exposed.
    pub fn select(catalogue: Catalogue, sel: &Selection) -> Result<Registry, SelectionError> {
        let all = all_tools(catalogue);
        let mut wanted: Vec<&'static str> = Vec::new();
        // `default` also takes the tools declared `in_default` in other toolsets.
        let mut daily = false;
        let mut unknown = Vec::new();
        let every = || catalogue.iter().map(|t| t.id);
        if sel.toolsets.is_empty() {
            wanted.extend(every());
        }
        for name in &sel.toolsets {
            match name.to_ascii_lowercase().as_str() {
                "all" => wanted.extend(every()),
                "default" => {
                    wanted.extend(catalogue.iter().filter(|t| t.in_default).map(|t| t.id));
                    daily = true;
                }
                other => match toolset(catalogue, other) {
                    Some(t) => wanted.push(t.id),
                    None => unknown.push(name.clone()),
                },
            }
        }
        if !unknown.is_empty() {
            let mut allowed: Vec<&str> = every().collect();
            allowed.extend(["default", "all"]);
            return Err(SelectionError::UnknownToolset {
                unknown: unknown.join(", "),
                allowed: allowed.join(", "),
            });
        }
        let unknown_tools: Vec<&str> = sel
            .restricted
            .iter()
            .map(String::as_str)
            .filter(|n| current_name(&all, n).is_none())
            .collect();
        if !unknown_tools.is_empty() {
            return Err(SelectionError::UnknownTool(unknown_tools.join(", ")));
        }
        // An earlier name restricts the tool it stands for.
        let restricted: Vec<&str> = sel
            .restricted
            .iter()
            .filter_map(|n| current_name(&all, n))
            .collect();
        let aliases = aliases_of(&all);
        let mut tools = Vec::new();
        let mut hidden = BTreeMap::new();
        for t in all {
            let selected = wanted.contains(&t.toolset.id) || (daily && t.in_default);
            let why = if restricted.contains(&t.name) {
                Some(Hidden::Restricted)
            } else if t.effect == Effect::ClearText && !sel.allow_cleartext {
                Some(Hidden::ClearText)
            } else if sel.support_mode
                && (!is_support_read(&t) || [UNLOCK_SUPPORT, EXIT_SUPPORT].contains(&t.name))
            {
                Some(Hidden::SupportMode)
            } else if sel.read_only && !t.effect.is_read_only() {
                Some(Hidden::ReadOnly)
            } else if !selected {
                Some(Hidden::Toolset)
            } else {
                None
            };
            match why {
                Some(why) => {
                    hidden.insert(t.name, why);
                }
                None => tools.push(t),
            }
        }
        Ok(Registry {
            catalogue,
            aliases,
            tools,
            hidden,
        })
    }

    /// Every tool of the catalogue, unfiltered.
    pub fn everything(catalogue: Catalogue) -> Registry {
        let tools = all_tools(catalogue);
        Registry {
            catalogue,
            aliases: aliases_of(&tools),
            tools,
            hidden: BTreeMap::new(),
        }
    }

    /// Every toolset this registry was selected from, in listing order.
    pub fn toolsets(&self) -> Catalogue {
        self.catalogue
    }

    /// The toolset with this id (any case).
    pub fn toolset(&self, id: &str) -> Option<&'static Toolset> {
        toolset(self.catalogue, id)
    }

    pub fn tools(&self) -> &[ToolDef] {
        &self.tools
    }

    /// The exposed tools of one toolset, in listing order.
    pub fn of_toolset<'a>(&'a self, ts: &'a Toolset) -> impl Iterator<Item = &'a ToolDef> + 'a {
        self.tools.iter().filter(move |t| t.toolset == ts)
    }

    pub fn get(&self, name: &str) -> Option<&ToolDef> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// The current name of the tool `name` is an earlier name of, if it is one.
    pub fn alias(&self, name: &str) -> Option<&'static str> {
        self.aliases.get(name).copied()
    }

    /// Every earlier name and the tool it stands for, by earlier name.
    pub fn aliases(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.aliases.iter().map(|(a, n)| (*a, *n))
    }

    /// Whether the tool exists but this server does not expose it.
    pub fn is_hidden(&self, name: &str) -> bool {
        self.hidden.contains_key(name)
    }

    /// Why the tool exists but this server does not expose it.
    pub fn hidden_by(&self, name: &str) -> Option<Hidden> {
        self.hidden.get(name).copied()
    }

    /// Whether the tool is hidden because it returns clear text and ALTR_ALLOW_CLEARTEXT is off.
    pub fn is_gated(&self, name: &str) -> bool {
        self.hidden_by(name) == Some(Hidden::ClearText)
    }

    /// Why a tool this server knows is not exposed, as told to whoever asked for it; `None`
    /// when the tool is exposed or unknown.
    pub fn unavailable(&self, name: &str) -> Option<String> {
        let toolset = || {
            all_tools(self.catalogue)
                .into_iter()
                .find(|t| t.name == name)
                .map_or("", |t| t.toolset.id)
        };
        Some(match self.hidden_by(name)? {
            Hidden::Restricted => format!("Tool '{name}' is not available on this server: RESTRICTED_TOOLS excludes it."),
            Hidden::ClearText => format!("Tool '{name}' returns protected data in clear text and is disabled on this server; set ALTR_ALLOW_CLEARTEXT=true to enable it."),
            Hidden::SupportMode => format!("Tool '{name}' is not available: the operator started this server in support mode (SUPPORT_MODE=true), which serves lookups only; no tool call can lift it, only restarting the server without SUPPORT_MODE. Report the change that would be needed instead."),
            Hidden::ReadOnly => format!("Tool '{name}' changes ALTR and this server is read-only (ALTR_READ_ONLY=true)."),
            Hidden::Toolset => format!("Tool '{name}' is in the `{}` toolset, which ALTR_TOOLSETS does not select on this server.", toolset()),
        })
    }
}
