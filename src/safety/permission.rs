//! What one caller may do over HTTP: scopes by what a tool does (the registry's effects) and,
//! optionally, which toolsets. A caller's permission comes from an OAuth access token (its scope
//! claim, and grants mapped from a group claim) or from a scoped static token (MCP_AUTH_TOKENS).
//! It only narrows what the server exposes: read-only mode, RESTRICTED_TOOLS, toolsets and the
//! clear-text gate still bound everything.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::registry::select::Catalogue;
use crate::registry::{Effect, ToolDef};

/// What a tool does, as a permission sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Tools that change nothing.
    Read,
    /// Additive and idempotent changes.
    Write,
    /// Deletes, revokes, disconnects.
    Destructive,
    /// The detokenize tools (protected values in clear text).
    ClearText,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Read, Kind::Write, Kind::Destructive, Kind::ClearText];

    /// The kind a tool of this effect needs.
    pub fn of(effect: Effect) -> Kind {
        match effect {
            Effect::ReadOnly => Kind::Read,
            Effect::Additive | Effect::Idempotent => Kind::Write,
            Effect::Destructive => Kind::Destructive,
            Effect::ClearText => Kind::ClearText,
        }
    }

    /// The word used in grant specs (`read`, `write`, `destructive`, `cleartext`).
    pub fn word(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Write => "write",
            Kind::Destructive => "destructive",
            Kind::ClearText => "cleartext",
        }
    }
}

/// The OAuth scope name of each kind (MCP_OAUTH_SCOPES), default `altr:read`, `altr:write`,
/// `altr:destructive`, `altr:cleartext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeNames {
    read: String,
    write: String,
    destructive: String,
    cleartext: String,
}

impl Default for ScopeNames {
    fn default() -> Self {
        ScopeNames {
            read: "altr:read".into(),
            write: "altr:write".into(),
            destructive: "altr:destructive".into(),
            cleartext: "altr:cleartext".into(),
        }
    }
}

impl ScopeNames {
    /// The scope name of a kind.
    pub fn name(&self, kind: Kind) -> &str {
        match kind {
            Kind::Read => &self.read,
            Kind::Write => &self.write,
            Kind::Destructive => &self.destructive,
            Kind::ClearText => &self.cleartext,
        }
    }

    fn set(&mut self, kind: Kind, name: &str) {
        let slot = match kind {
            Kind::Read => &mut self.read,
            Kind::Write => &mut self.write,
            Kind::Destructive => &mut self.destructive,
            Kind::ClearText => &mut self.cleartext,
        };
        *slot = name.to_string();
    }

    /// Every scope name, in kind order.
    pub fn all(&self) -> Vec<&str> {
        Kind::ALL.iter().map(|k| self.name(*k)).collect()
    }

    /// The kind a scope name stands for.
    pub fn kind(&self, scope: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| self.name(*k) == scope)
    }

    /// `kind=name` entries overriding the defaults (e.g. `read=mcp.read`).
    pub fn parse(items: &[String], problems: &mut Vec<String>) -> ScopeNames {
        let mut names = ScopeNames::default();
        for item in items {
            let parsed = item
                .split_once('=')
                .and_then(|(k, n)| Some((kind_word(k.trim())?, n.trim())));
            match parsed {
                Some((kind, name)) if valid_scope(name) => names.set(kind, name),
                _ => problems.push(format!(
                    "MCP_OAUTH_SCOPES: entry {item:?} must be kind=scope, kind one of read, write, destructive, cleartext, scope without spaces or quotes"
                )),
            }
        }
        let mut seen = BTreeSet::new();
        for name in names.all() {
            if !seen.insert(name.to_string()) {
                problems.push(format!(
                    "MCP_OAUTH_SCOPES: scope {name} is given to two kinds"
                ));
            }
        }
        names
    }
}

fn kind_word(word: &str) -> Option<Kind> {
    Kind::ALL
        .into_iter()
        .find(|k| k.word().eq_ignore_ascii_case(word))
}

/// A scope token as RFC 6749 allows it, also safe inside a quoted header parameter.
fn valid_scope(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

/// Some kinds, on some toolsets (`None`: every toolset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub kinds: BTreeSet<Kind>,
    pub toolsets: Option<BTreeSet<String>>,
}

impl Grant {
    /// Every kind, every toolset.
    pub fn everything() -> Grant {
        Grant {
            kinds: Kind::ALL.into_iter().collect(),
            toolsets: None,
        }
    }

    /// A grant spec: kinds joined by `+` (`read+write`, or `all`), optionally `@` and toolset ids
    /// joined by `+` (`read@default+tags`; `default` stands for the default toolsets), toolsets
    /// from `catalogue`.
    pub fn parse(spec: &str, catalogue: Catalogue) -> Result<Grant, String> {
        let (kinds, toolsets) = match spec.split_once('@') {
            Some((k, t)) => (k, Some(t)),
            None => (spec, None),
        };
        let mut set = BTreeSet::new();
        for word in kinds.split('+').map(str::trim) {
            if word.eq_ignore_ascii_case("all") {
                set.extend(Kind::ALL);
            } else {
                set.insert(kind_word(word).ok_or_else(|| {
                    format!(
                        "{word:?} is not a kind: use read, write, destructive, cleartext or all"
                    )
                })?);
            }
        }
        let toolsets = match toolsets {
            None => None,
            Some(t) => {
                let mut ids = BTreeSet::new();
                for id in t.split('+').map(str::trim) {
                    if id.eq_ignore_ascii_case("all") {
                        return Ok(Grant {
                            kinds: set,
                            toolsets: None,
                        });
                    }
                    if id.eq_ignore_ascii_case("default") {
                        ids.extend(
                            catalogue
                                .iter()
                                .filter(|s| s.in_default)
                                .map(|s| s.id.to_string()),
                        );
                        ids.insert("default".into());
                        continue;
                    }
                    if !catalogue.iter().any(|s| s.id == id) {
                        return Err(format!("{id:?} is not a toolset (see `altr-mcp tools`)"));
                    }
                    ids.insert(id.to_string());
                }
                Some(ids)
            }
        };
        Ok(Grant {
            kinds: set,
            toolsets,
        })
    }

    fn allows(&self, def: &ToolDef) -> bool {
        self.kinds.contains(&Kind::of(def.effect)) && self.covers(def)
    }

    fn covers(&self, def: &ToolDef) -> bool {
        match &self.toolsets {
            None => true,
            // A tool in the default set (declared on the tool) counts as in `default`.
            Some(ids) => {
                ids.contains(def.toolset.id) || (def.in_default && ids.contains("default"))
            }
        }
    }
}

/// What one caller may do: the union of their grants; `names` says what each kind's scope is
/// called, to name the one a refused call needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub grants: Vec<Grant>,
    pub names: ScopeNames,
}

impl Permission {
    /// The scope a call of this tool needs.
    pub fn scope_for(&self, def: &ToolDef) -> &str {
        self.names.name(Kind::of(def.effect))
    }

    /// Whether the caller may call this tool.
    pub fn allows(&self, def: &ToolDef) -> bool {
        self.grants.iter().any(|g| g.allows(def))
    }

    /// Why a call is beyond this permission: the kind it needs, and whether the toolset (rather
    /// than the kind) is what is missing. `None` when allowed.
    pub fn refusal(&self, def: &ToolDef) -> Option<Refusal> {
        if self.allows(def) {
            return None;
        }
        let kind = Kind::of(def.effect);
        let has_kind = self.grants.iter().any(|g| g.kinds.contains(&kind));
        Some(Refusal {
            kind,
            toolset: has_kind,
        })
    }
}

/// A call beyond the caller's permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The kind the tool needs.
    pub kind: Kind,
    /// true when the caller has that kind, but not on this tool's toolset.
    pub toolset: bool,
}

/// How an access token's claims become a permission (the OAuth settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimMapping {
    pub scopes: ScopeNames,
    /// The claim holding group or role names (MCP_OAUTH_GROUPS_CLAIM), e.g. `groups` or `roles`.
    pub groups_claim: Option<String>,
    /// Group name -> grant (MCP_OAUTH_GROUPS).
    pub groups: Vec<(String, Grant)>,
}

impl ClaimMapping {
    /// `group=grant` entries (MCP_OAUTH_GROUPS), e.g. `altr-admins=all`, `analysts=read@default`.
    pub fn parse_groups(
        items: &[String],
        catalogue: Catalogue,
        problems: &mut Vec<String>,
    ) -> Vec<(String, Grant)> {
        let mut out = Vec::new();
        for item in items {
            let Some((group, spec)) = item.split_once('=') else {
                problems.push(format!("MCP_OAUTH_GROUPS: entry {item:?} must be group=grant, e.g. analysts=read@default"));
                continue;
            };
            match Grant::parse(spec.trim(), catalogue) {
                Ok(g) => out.push((group.trim().to_string(), g)),
                Err(why) => problems.push(format!(
                    "MCP_OAUTH_GROUPS: entry for {}: {why}",
                    group.trim()
                )),
            }
        }
        out
    }

    /// The permission these claims carry: each known scope in `scope` (space-separated) or `scp`
    /// (Entra ID: a string or a list) grants its kind on every toolset; each group named in the
    /// groups claim grants what MCP_OAUTH_GROUPS maps it to. Unknown scopes and groups grant
    /// nothing.
    pub fn permission(&self, claims: &Map<String, Value>) -> Permission {
        let mut kinds = BTreeSet::new();
        for claim in ["scope", "scp"] {
            for scope in words(claims.get(claim)) {
                if let Some(k) = self.scopes.kind(&scope) {
                    kinds.insert(k);
                }
            }
        }
        let mut grants = Vec::new();
        if !kinds.is_empty() {
            grants.push(Grant {
                kinds,
                toolsets: None,
            });
        }
        if let Some(claim) = &self.groups_claim {
            let member_of = words(claims.get(claim));
            for (group, grant) in &self.groups {
                if member_of.iter().any(|g| g == group) {
                    grants.push(grant.clone());
                }
            }
        }
        Permission {
            grants,
            names: self.scopes.clone(),
        }
    }
}

/// The words of a claim: a space-separated string, or a list of strings.
fn words(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> ToolDef {
        crate::toolsets::all_tools()
            .into_iter()
            .find(|t| t.name == name)
            .unwrap()
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn scopes_map_to_what_a_tool_does() {
        let m = ClaimMapping::default();
        let p = m.permission(&claims(json!({"scope": "openid altr:read altr:write"})));
        assert!(p.allows(&tool("get_policies")));
        assert!(p.allows(&tool("add_rules")));
        assert!(!p.allows(&tool("delete_policy")));
        assert!(!p.allows(&tool("vault_detokenize")));
        assert_eq!(
            p.refusal(&tool("delete_policy")),
            Some(Refusal {
                kind: Kind::Destructive,
                toolset: false
            })
        );
        // Entra ID's scp, as a list or a string.
        let p = m.permission(&claims(json!({"scp": ["altr:destructive"]})));
        assert!(p.allows(&tool("delete_policy")) && !p.allows(&tool("get_policies")));
        // No known scope: nothing.
        assert!(!m
            .permission(&claims(json!({"scope": "email"})))
            .allows(&tool("get_policies")));
    }

    #[test]
    fn groups_map_to_kinds_on_toolsets() {
        let mut problems = Vec::new();
        let m = ClaimMapping {
            scopes: ScopeNames::default(),
            groups_claim: Some("groups".into()),
            groups: ClaimMapping::parse_groups(
                &[
                    "altr-admins=all".into(),
                    "analysts=read@default".into(),
                    "tok=write@tokenization".into(),
                ],
                crate::toolsets::TOOLSETS,
                &mut problems,
            ),
        };
        assert!(problems.is_empty(), "{problems:?}");
        let admin = m.permission(&claims(json!({"groups": ["altr-admins"]})));
        assert!(admin.allows(&tool("vault_detokenize")) && admin.allows(&tool("delete_policy")));
        let analyst = m.permission(&claims(json!({"groups": ["analysts", "other"]})));
        assert!(analyst.allows(&tool("get_policies")));
        assert!(!analyst.allows(&tool("add_rules")));
        // A read outside the default set is refused for its toolset, not its kind.
        let outside = tool("list_sc_agents");
        assert!(!outside.in_default);
        assert_eq!(
            analyst.refusal(&outside),
            Some(Refusal {
                kind: Kind::Read,
                toolset: true
            })
        );
        let both = m.permission(&claims(json!({"groups": ["analysts", "tok"]})));
        assert!(both.allows(&tool("vault_tokenize")) && !both.allows(&tool("add_rules")));
    }

    #[test]
    fn bad_specs_say_what_to_write() {
        let mut problems = Vec::new();
        ClaimMapping::parse_groups(
            &["x".into(), "a=reed".into(), "b=read@nope".into()],
            crate::toolsets::TOOLSETS,
            &mut problems,
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[1].contains("read, write, destructive, cleartext or all"));
        let mut problems = Vec::new();
        let names = ScopeNames::parse(
            &[
                "read=mcp.read".into(),
                "write=mcp.read".into(),
                "bogus".into(),
            ],
            &mut problems,
        );
        assert_eq!(names.name(Kind::Read), "mcp.read");
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
