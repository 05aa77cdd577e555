//! Which tools a server exposes: toolsets (with the `default` set), read-only mode,
//! RESTRICTED_TOOLS and the clear-text gate, applied to the catalogue of every tool.

use std::collections::BTreeSet;

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
}

/// The tools a server exposes, and those it knows but hides.
#[derive(Debug, Clone)]
pub struct Registry {
    catalogue: Catalogue,
    /// Earlier names of every tool of the catalogue, with the current name.
    aliases: std::collections::BTreeMap<&'static str, &'static str>,
    tools: Vec<ToolDef>,
    hidden: BTreeSet<&'static str>,
    /// The hidden tools that the closed clear-text gate (ALTR_ALLOW_CLEARTEXT) hides.
    gated: BTreeSet<&'static str>,
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
        let mut hidden = BTreeSet::new();
        let mut gated = BTreeSet::new();
        for t in all {
            let allowed_by_mode = t.effect.is_read_only() || !sel.read_only;
            let allowed_clear_text = t.effect != Effect::ClearText || sel.allow_cleartext;
            let in_daily = daily && t.in_default;
            let keep = (wanted.contains(&t.toolset.id) || in_daily)
                && allowed_by_mode
                && allowed_clear_text
                && !restricted.contains(&t.name);
            if keep {
                tools.push(t);
            } else {
                if !allowed_clear_text {
                    gated.insert(t.name);
                }
                hidden.insert(t.name);
            }
        }
        Ok(Registry {
            catalogue,
            aliases,
            tools,
            hidden,
            gated,
        })
    }

    /// Every tool of the catalogue, unfiltered.
    pub fn everything(catalogue: Catalogue) -> Registry {
        let tools = all_tools(catalogue);
        Registry {
            catalogue,
            aliases: aliases_of(&tools),
            tools,
            hidden: BTreeSet::new(),
            gated: BTreeSet::new(),
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
        self.hidden.contains(name)
    }

    /// Whether the tool is hidden because it returns clear text and ALTR_ALLOW_CLEARTEXT is off.
    pub fn is_gated(&self, name: &str) -> bool {
        self.gated.contains(name)
    }
}
