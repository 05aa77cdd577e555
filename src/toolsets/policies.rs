//! Policies & Rules: masking policies on tags (Snowflake tag policies, pushdown policies) and the
//! rules that say which role sees which masking level; plus the roles rules can name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::client::{path, seg_decoded, ApiRequest, Service::AltrNet, Service::Api};
use crate::registry::args::{JsonOr, LenientInt, Level, NoParams, OneOrMany};
use crate::registry::paging::{collect_pages, collect_until, Collected, More, NextPage, Pages};
use crate::registry::request::{before_after, nothing_to_update};
use crate::registry::{Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::wire_enum;
use futures::StreamExt;
use matrix::{Change, Edit};
pub use matrix::{MATRIX_APP, MATRIX_META};

pub static SET: Toolset = Toolset {
    id: "policies",
    title: "Policies & Rules",
    description: "Masking policies on tags and the rules that say which role sees which masking level, plus the roles rules can name.",
    in_default: true,
    tools,
};

const POLICY_PATH: &str = "/v1/unified-policy/management/policy";

wire_enum! {
    /// The kind of a policy.
    pub enum PolicyKind {
        Tag = "TAG",
        Column = "COLUMN",
        Pushdown = "PUSHDOWN",
        Impersonation = "IMPERSONATION",
        Grant = "GRANT",
        Row = "ROW",
        Oltp = "OLTP",
    }
}

wire_enum! {
    /// The policy types supportedMaskingTypes knows.
    pub enum MaskPolicyType { Tag = "tag", TagPushdown = "tag_pushdown", Column = "column" }
}

wire_enum! {
    /// A database platform.
    pub enum DatabaseType { Snowflake = "snowflake", Databricks = "databricks" }
}

/// A DynamoDB-style listing: `data.last_evaluated_key` sent back as `exclusive_start_key`.
const LAST_EVALUATED_KEY: NextPage = NextPage::Cursor {
    at: &["/data/last_evaluated_key", "/last_evaluated_key"],
    param: "exclusive_start_key",
};
/// The masking levels by name, for the text of every tool that takes one: a tool's own text has
/// to say what a level means (some clients never show the instructions).
macro_rules! level_legend {
    () => {
        "Levels: 10000 clear,10001 all *,10002 email domain,10003 last 4,10004 constant,10005 NULL,10006 hash,10007 email hash,10008 hash+last 4,10009 12/31/9999"
    };
}

/// Masking levels a rule may use.
pub const LEVELS: std::ops::RangeInclusive<i64> = 10000..=10009;
/// The levels a tag policy accepts when the API cannot be asked.
pub const TAG_LEVELS: &[i64] = &[10000, 10001, 10002, 10003, 10004];
/// Rules sent per batch request.
pub const RULE_BATCH: usize = 99;

// Parameters without a `///` doc have no description in tools/list, where their tool's
// description names them; each carries a doc-only long form (`#[schemars(extend("x-doc" = ...))]`)
// that the reference, `docs/index.md`, shows. Parameters many tools share (`limit` and the page
// cursors) are documented once instead (`registry::args::SHARED_PARAMETERS`).
// Nested shapes are listed collapsed (`schemars(with)`), stated in the field's `///` doc or its
// long form; the field's own type still parses and validates them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyType {
    #[schemars(extend("x-doc" = "List only policies of this kind: TAG, COLUMN, PUSHDOWN, IMPERSONATION, GRANT, ROW or OLTP (any letter case). Omitted: every kind is listed, one listing per kind, merged."))]
    pub policy_type: Option<PolicyKind>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyId {
    #[schemars(extend("x-doc" = "The masking policy's id, as get_policies returns it (e.g. TAG#... or PUSHDOWN#...); TAG#x and its percent-encoded form TAG%23x are the same id."))]
    pub policy_id: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportedMasks {
    #[schemars(extend("x-doc" = "The policy type to ask about: tag, tag_pushdown or column. column also needs field_id."))]
    pub policy_type: MaskPolicyType,
    #[schemars(extend("x-doc" = "The platform to ask about: snowflake or databricks. Not sent when omitted."))]
    pub database_type: Option<DatabaseType>,
    #[schemars(extend("x-doc" = "The numeric id of the column (field) to ask about; required when policy_type is column, not sent when omitted."))]
    pub field_id: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicy {
    #[schemars(extend("x-doc" = "The tag the policy masks (sent as identifier): for TAG the Snowflake tag's upper-case name, for PUSHDOWN the raw Databricks tag name. One policy per tag."))]
    pub tag: String,
    #[schemars(extend("x-doc" = "The policy's kind, default TAG: TAG for a Snowflake tag, PUSHDOWN for a Databricks tag (with database_ids). The schema also lists COLUMN, IMPERSONATION, GRANT, ROW and OLTP."))]
    pub policy_type: Option<PolicyKind>,
    #[schemars(extend("x-doc" = "The numeric ids (from get_databases) of the Databricks workspaces a PUSHDOWN policy covers; at least one when given. Refused for TAG policies."))]
    pub database_ids: Option<Vec<i64>>,
}

/// One masking rule.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RuleInput {
    /// Masking level 10000-10009; tag policies accept 10000-10004.
    pub masking_policy: LenientInt<Level>,
    /// Role (user group) the rule applies to, from get_roles.
    pub role: String,
    /// Exact tag value the rule applies to (case-sensitive), from get_tag_values.
    pub tag_value: String,
    /// Further rule fields passed to ALTR as given (e.g. thresholds).
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRules {
    #[schemars(extend("x-doc" = "The masking policy's id, as get_policies or create_policy returns it (e.g. TAG#...); for a TAG# policy the levels are checked against those the API supports for tags."))]
    pub policy_id: String,
    /// [{masking_policy:10000-10009,role,tag_value}]; tag policies 10000-10004; tag_value exact (get_tag_values)
    #[schemars(with = "Vec<Map<String, Value>>")]
    pub rules: JsonOr<Vec<RuleInput>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRate {
    /// Unit of the rate, e.g. `MINUTE` or `HOUR`.
    pub access_rate_unit: String,
    /// Most accesses allowed per unit.
    pub access_rate_limit: i64,
    /// What happens past the limit, e.g. `BLOCK` or `ALERT`.
    pub action: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockTime {
    /// Hour, 0-23.
    pub hour: u8,
    /// Minute, 0-59.
    pub minute: u8,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// Days the window covers, e.g. `["MONDAY", "TUESDAY"]`.
    pub day: Vec<String>,
    /// Start of the window.
    pub start_time: ClockTime,
    /// End of the window.
    pub end_time: ClockTime,
    /// IANA time zone, e.g. `America/Chicago`.
    pub timezone: String,
    /// What happens outside the window, e.g. `BLOCK` or `ALERT`.
    pub action: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRule {
    #[schemars(extend("x-doc" = "The masking policy's id, as get_policies returns it (e.g. TAG#... or PUSHDOWN#...)."))]
    pub policy_id: String,
    #[schemars(extend("x-doc" = "The masking rule's id within the policy, as get_rules returns it."))]
    pub rule_id: String,
    #[schemars(description = concat!("Tag policies: 10000-10004. ", level_legend!()))]
    pub masking_policy: Option<LenientInt<Level>>,
    #[schemars(extend("x-doc" = "The role (user group) the rule applies to from now on, a name from get_roles; unchanged when omitted."))]
    pub role: Option<String>,
    #[schemars(extend("x-doc" = "The exact tag value (case-sensitive) the rule applies to from now on, from get_tag_values; unchanged when omitted."))]
    pub tag_value: Option<String>,
    /// [{access_rate_unit:MINUTE|HOUR..,access_rate_limit:int,action:BLOCK|ALERT..}]
    #[schemars(with = "Option<Vec<Map<String, Value>>>")]
    pub access_rate_thresholds: Option<OneOrMany<AccessRate>>,
    /// [{day:[MONDAY..],start_time:{hour,minute},end_time:same,timezone:IANA,action:BLOCK|ALERT..}]
    #[schemars(with = "Option<Vec<Map<String, Value>>>")]
    pub time_window_thresholds: Option<OneOrMany<TimeWindow>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleId {
    #[schemars(extend("x-doc" = "The masking policy's id, as get_policies returns it (e.g. TAG#... or PUSHDOWN#...)."))]
    pub policy_id: String,
    #[schemars(extend("x-doc" = "The id of the rule to delete, as get_rules returns it for this policy."))]
    pub rule_id: String,
}

/// A proposed change to one existing rule, in update_rule's shape.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleChange {
    /// Rule id from get_rules.
    pub rule_id: String,
    /// New masking level 10000-10009 (tag policies: 10000-10004).
    pub masking_policy: Option<LenientInt<Level>>,
    /// New role the rule applies to.
    pub role: Option<String>,
    /// New tag value the rule applies to.
    pub tag_value: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewMasking {
    #[schemars(extend("x-doc" = "The masking policy to preview, by its id from get_policies; its current rules are read, nothing is changed."))]
    pub policy_id: String,
    /// [{masking_policy:10000-10009,role,tag_value}]
    #[serde(default)]
    #[schemars(with = "Option<Vec<Map<String, Value>>>")]
    pub add: Option<JsonOr<Vec<RuleInput>>>,
    /// [{rule_id,masking_policy?:10000-10009,role?,tag_value?}]
    #[serde(default)]
    #[schemars(with = "Option<Vec<Map<String, Value>>>")]
    pub update: Option<Vec<RuleChange>>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "Ids of existing rules of the policy (from get_rules) to leave out of the \"after\" view; an id the policy does not have is refused."))]
    pub delete: Option<Vec<String>>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "More role names (e.g. from get_roles) to show even when no rule names them; such a role sees NULL (10005) unless a rule matches it. Roles are matched ignoring letter case."))]
    pub roles: Option<Vec<String>>,
}

/// Masking levels from the most permissive (shows the most) to the least: no mask; partial
/// reveals (last four, email domain); their hashed forms; full masks and constants; NULL.
const PERMISSIVE_FIRST: [i64; 10] = [
    10000, 10003, 10002, 10008, 10007, 10001, 10006, 10004, 10009, 10005,
];

/// What a masking level shows, as ALTR defines the selectable levels 10000 to 10009; any other
/// number (e.g. 10010, ALTR's "Policy Error at Runtime" outcome) is "unknown level".
fn level_meaning(level: i64) -> &'static str {
    match level {
        10000 => "no mask: raw value shown",
        10001 => "full mask: every character replaced by *",
        10002 => "email mask: only the domain visible",
        10003 => "show last four",
        10004 => "constant mask",
        10005 => "NULL",
        10006 => "full mask hash",
        10007 => "email hash: domain shown, local part hashed",
        10008 => "show last four hash",
        10009 => "constant date 12/31/9999",
        _ => "unknown level",
    }
}

/// (role, tag_value, level) of a rule object; None when a field is missing.
fn rule_triple(r: &Value) -> Option<(String, String, i64)> {
    let role = r.get("role")?.as_str()?.to_string();
    let tag_value = r.get("tag_value")?.as_str()?.to_string();
    let level = match r.get("masking_policy")? {
        Value::Number(n) => n.as_i64()?,
        Value::String(t) => t.trim().parse().ok()?,
        _ => return None,
    };
    Some((role, tag_value, level))
}

/// The level a role sees where no rule of the policy matches it: ALTR shows NULL (a new policy
/// shows NULL to everyone until rules are added).
pub const NO_RULE_LEVEL: i64 = 10005;

/// Which level each role sees for each tag value: the most permissive of the rules that match
/// (role case-insensitively, tag value exactly), else [`NO_RULE_LEVEL`]; and, per tag value, the
/// roles no rule matches.
fn masking_matrix(
    rules: &[(String, String, i64)],
    roles: &[String],
    tag_values: &[String],
) -> (Value, Value) {
    let mut out = Map::new();
    let mut no_rule = Map::new();
    for tv in tag_values {
        let mut row = Map::new();
        let mut unmatched = Vec::new();
        for role in roles {
            let best = rules
                .iter()
                .filter(|(r, t, _)| r.eq_ignore_ascii_case(role) && t == tv)
                .map(|(_, _, l)| *l)
                .min_by_key(|l| {
                    PERMISSIVE_FIRST
                        .iter()
                        .position(|p| p == l)
                        .unwrap_or(usize::MAX)
                });
            if best.is_none() {
                unmatched.push(json!(role));
            }
            row.insert(role.clone(), json!(best.unwrap_or(NO_RULE_LEVEL)));
        }
        out.insert(tv.clone(), Value::Object(row));
        if !unmatched.is_empty() {
            no_rule.insert(tv.clone(), Value::Array(unmatched));
        }
    }
    (Value::Object(out), Value::Object(no_rule))
}

/// The tag a policy masks (its `identifier`), read from the listing of the kind its id starts
/// with (`TAG#...`) up to the page that holds it. `None` when the id names no kind ALTR lists.
async fn policy_tag(ctx: &Ctx, policy_id: &str) -> Result<Option<String>, ToolError> {
    let id = percent_encoding::percent_decode_str(policy_id)
        .decode_utf8_lossy()
        .into_owned();
    let prefix = id
        .split('#')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let Some(kind) = PolicyKind::VALUES.iter().find(|v| **v == prefix).copied() else {
        return Ok(None);
    };
    let pages = Pages {
        items: &["/data/policies", "/policies"],
        next: LAST_EVALUATED_KEY,
    };
    let find = |items: &Value| {
        items
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p.get("policy_id").and_then(Value::as_str) == Some(id.as_str()))
            .and_then(|p| p.get("identifier").and_then(Value::as_str))
            .map(str::to_string)
    };
    let first = ApiRequest::get(Api, POLICY_PATH).query("policy_type", kind);
    let read = collect_until(ctx, first, pages, |page| find(page).is_some()).await?;
    match find(&read.items) {
        Some(tag) => Ok(Some(tag)),
        None => Err(ToolError::invalid(
            "policy_id",
            "no such policy (see get_policies)",
        )),
    }
}

/// Every value ALTR knows for a Snowflake tag (get_tag_values), each once, in ALTR's order.
async fn tag_values_of(ctx: &Ctx, tag: &str) -> Result<Vec<String>, ToolError> {
    let listed = super::tags::tag_values(ctx, tag).await?;
    let mut values: Vec<String> = Vec::new();
    for t in listed.items.as_array().into_iter().flatten() {
        let v = t
            .get("tagValue")
            .or_else(|| t.get("tag_value"))
            .and_then(Value::as_str);
        if let Some(v) = v {
            if !values.iter().any(|have| have == v) {
                values.push(v.to_string());
            }
        }
    }
    Ok(values)
}

/// A policy's rules, and its tag with the tag's values (when the policy names one), read side by
/// side.
async fn rules_and_tag(ctx: &Ctx, policy_id: &str) -> Result<(Vec<Value>, TagValues), ToolError> {
    let (current, tag) = futures::join!(rules_of(ctx, policy_id), async {
        match policy_tag(ctx, policy_id).await? {
            Some(tag) => {
                let values = tag_values_of(ctx, &tag).await?;
                Ok::<_, ToolError>(Some((tag, values)))
            }
            None => Ok(None),
        }
    });
    Ok((current?, tag?))
}

/// A policy's tag and that tag's values.
type TagValues = Option<(String, Vec<String>)>;

/// The masking matrix app's view of a write, read before it is sent, when the client shows the
/// app: the policy's rules now and after `change`. A failed read shows no picture and stops
/// nothing (the write reports its own errors).
async fn matrix_before_write(ctx: &Ctx, policy_id: &str, change: Change) -> Option<Value> {
    if !ctx.app {
        return None;
    }
    let (current, tag) = rules_and_tag(ctx, policy_id).await.ok()?;
    let title = if ctx.dry_run.is_some() {
        "Dry run: nothing was sent"
    } else {
        "Applied: before and after"
    };
    Some(matrix::view_of(
        policy_id,
        tag.as_ref(),
        &current,
        Some(&change),
        title,
    ))
}

/// Attach the app's view to a write's result, once the write has succeeded.
fn attach_matrix(ctx: &Ctx, view: Option<Value>) {
    if let Some(v) = view {
        ctx.attach(MATRIX_META, v);
    }
}

async fn preview_masking(ctx: Ctx, p: PreviewMasking) -> Result<Value, ToolError> {
    path(
        &format!("{POLICY_PATH}/{{}}/rules"),
        &[seg_decoded("policy_id", &p.policy_id)],
    )?;
    let adds = p.add.map(|a| a.0).unwrap_or_default();
    for (i, r) in adds.iter().enumerate() {
        for (field, value) in [("role", &r.role), ("tag_value", &r.tag_value)] {
            if value.trim().is_empty() {
                return Err(ToolError::invalid(
                    format!("add[{i}].{field}"),
                    "must not be empty",
                ));
            }
        }
    }
    let updates = p.update.unwrap_or_default();
    for (i, u) in updates.iter().enumerate() {
        if u.masking_policy.is_none() && u.role.is_none() && u.tag_value.is_none() {
            return Err(ToolError::invalid(
                format!("update[{i}]"),
                "nothing to change: give at least one of masking_policy, role, tag_value",
            ));
        }
    }
    let deletes = p.delete.unwrap_or_default();
    let (current, tag) = rules_and_tag(&ctx, &p.policy_id).await?;
    let id_of = |r: &Value| r.get("rule_id").and_then(Value::as_str).map(str::to_string);
    let known: Vec<String> = current.iter().filter_map(id_of).collect();
    for (i, u) in updates.iter().enumerate() {
        if !known.contains(&u.rule_id) {
            return Err(ToolError::invalid(
                format!("update[{i}].rule_id"),
                "no such rule in this policy (see get_rules)",
            ));
        }
    }
    for (i, d) in deletes.iter().enumerate() {
        if !known.contains(d) {
            return Err(ToolError::invalid(
                format!("delete[{i}]"),
                "no such rule in this policy (see get_rules)",
            ));
        }
    }
    let change = Change {
        adds: adds
            .into_iter()
            .map(|r| (r.role, r.tag_value, r.masking_policy.get()))
            .collect(),
        edits: updates
            .into_iter()
            .map(|u| Edit {
                rule_id: u.rule_id,
                level: u.masking_policy.map(|l| l.get()),
                role: u.role,
                tag_value: u.tag_value,
            })
            .collect(),
        deletes,
        drop_policy: false,
    };
    let now: Vec<(String, String, i64)> = current.iter().filter_map(rule_triple).collect();
    let after = matrix::after(&current, &change);
    let listed: &[String] = tag.as_ref().map_or(&[], |(_, values)| values.as_slice());
    let (roles, tag_values) = matrix::axes(
        &[now.as_slice(), after.as_slice()],
        listed,
        &p.roles.unwrap_or_default(),
    );
    let (before_m, no_rule_now) = masking_matrix(&now, &roles, &tag_values);
    let (after_m, no_rule_after) = masking_matrix(&after, &roles, &tag_values);
    if ctx.app {
        let view = matrix::app_view(
            &p.policy_id,
            tag.as_ref().map(|(t, _)| t.as_str()),
            "Preview: not applied",
            &roles,
            &tag_values,
            &(before_m.clone(), no_rule_now.clone()),
            Some(&(after_m.clone(), no_rule_after.clone())),
        );
        ctx.attach(MATRIX_META, view);
    }
    let mut changed = Vec::new();
    for tv in &tag_values {
        for role in &roles {
            let at = |m: &Value| {
                m.get(tv.as_str())
                    .and_then(|r| r.get(role.as_str()))
                    .cloned()
            };
            let (b, a) = (at(&before_m), at(&after_m));
            if b != a {
                changed.push(json!({"tag_value": tv, "role": role, "now": b, "after": a}));
            }
        }
    }
    let levels = levels_named(
        now.iter()
            .chain(after.iter())
            .map(|(_, _, l)| *l)
            .chain([NO_RULE_LEVEL]),
    );
    let values_from = match &tag {
        Some((_, values)) if !values.is_empty() => {
            "every value ALTR lists for the tag (get_tag_values), and those the rules name"
        }
        Some(_) => "the rules only: ALTR lists no values for this tag (a Databricks tag has none)",
        None => "the rules only: the policy id names no kind ALTR lists",
    };
    Ok(json!({
        "policy_id": p.policy_id,
        "tag": tag.as_ref().map(|(t, _)| t.clone()),
        "tag_values_from": values_from,
        "now": before_m,
        "after": after_m,
        "changed": changed,
        "no_rule": {"now": no_rule_now, "after": no_rule_after},
        "no_rule_level": NO_RULE_LEVEL,
        "levels": levels,
        "rules_now": now.len(),
        "rules_after": after.len(),
        "semantics": "For each tag value, the level each role sees: the most permissive of the rules matching that role and tag value; where no rule matches (listed under no_rule) the role sees 10005, NULL. Nothing was changed.",
    }))
}

fn is_tag_policy(policy_id: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(policy_id).decode_utf8_lossy();
    decoded.to_ascii_uppercase().starts_with("TAG#")
}

fn level_list(levels: &[i64]) -> String {
    levels
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The masking level of one supportedMaskingTypes entry (a number or numeric text).
fn level_of(entry: &Value) -> Option<i64> {
    match entry.get("masking_type")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The levels the API lists in a supportedMaskingTypes answer, without 10010.
fn listed_levels(body: &Value) -> Vec<i64> {
    body.get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(level_of)
        .filter(|l| *l != 10010)
        .collect()
}

/// The levels ALTR allows on tag policies: asked once, then remembered. When the API cannot be
/// asked, the documented set (10000-10004) is used for this call and the API is asked next time.
async fn tag_levels(ctx: &Ctx) -> Vec<i64> {
    if let Ok(cache) = ctx.shared.tag_masking_levels.lock() {
        if let Some(levels) = cache.as_ref() {
            return levels.clone();
        }
    }
    let req = ApiRequest::get(Api, format!("{POLICY_PATH}/rules/supportedMaskingTypes"))
        .query("policy_type", "tag");
    match ctx.send_raw(&ctx.prepare(req)).await.map(|(_, v)| v) {
        Ok(body) => {
            let levels = listed_levels(&body);
            if levels.is_empty() {
                tracing::warn!(
                    "supported masking levels for tag policies unreadable; using 10000-10004"
                );
                return TAG_LEVELS.to_vec();
            }
            if let Ok(mut cache) = ctx.shared.tag_masking_levels.lock() {
                *cache = Some(levels.clone());
            }
            levels
        }
        Err(e) => {
            tracing::warn!(
                status = e.status(),
                "supported masking levels lookup failed; using 10000-10004"
            );
            TAG_LEVELS.to_vec()
        }
    }
}

/// Check masking levels are 10000-10009, without asking ALTR.
fn check_range(levels: &[(String, i64)]) -> Result<(), ToolError> {
    for (param, level) in levels {
        if !LEVELS.contains(level) {
            return Err(ToolError::invalid(
                param,
                "must be a masking level from 10000 to 10009 (10010 is an error outcome, not a level)",
            ));
        }
    }
    Ok(())
}

/// Check masking levels: 10000-10009 everywhere, and what ALTR supports on tag policies.
async fn check_levels(
    ctx: &Ctx,
    policy_id: &str,
    levels: &[(String, i64)],
) -> Result<(), ToolError> {
    check_range(levels)?;
    if levels.is_empty() || !is_tag_policy(policy_id) {
        return Ok(());
    }
    let allowed = tag_levels(ctx).await;
    let refused: Vec<&(String, i64)> = levels
        .iter()
        .filter(|(_, l)| !allowed.contains(l))
        .collect();
    if let Some((param, _)) = refused.first() {
        let values: Vec<i64> = refused.iter().map(|(_, l)| *l).collect();
        return Err(ToolError::invalid(
            param.clone(),
            format!(
                "masking level {} is not supported on a tag policy; use one of {}",
                level_list(&values),
                level_list(&allowed)
            ),
        ));
    }
    Ok(())
}

/// Independent reads of one call run at most this many at a time.
const PARALLEL_READS: usize = 8;

async fn get_policies(ctx: Ctx, p: PolicyType) -> Result<Value, ToolError> {
    let kinds: Vec<&str> = match p.policy_type {
        Some(kind) => vec![kind.as_str()],
        None => PolicyKind::VALUES.to_vec(),
    };
    let pages = Pages {
        items: &["/data/policies", "/policies"],
        next: LAST_EVALUATED_KEY,
    };
    // One listing per kind, independent of each other: read side by side (each pages on its
    // own cursor), merged in the kinds' order; the first failure fails the call.
    let reads: Vec<_> = kinds
        .into_iter()
        .map(|kind| {
            let first = ApiRequest::get(Api, POLICY_PATH).query("policy_type", kind);
            Box::pin(collect_pages(&ctx, first, pages))
        })
        .collect();
    let listings: Vec<_> = futures::stream::iter(reads)
        .buffered(PARALLEL_READS)
        .collect()
        .await;
    let mut all = Collected::new();
    for listing in listings {
        all.extend(listing?);
    }
    if all.items.is_null() {
        all.items = Value::Array(Vec::new());
    }
    Ok(all.result("policies"))
}

/// How a policy's rules page: groups of rules under `items`, keyed by the API.
const RULE_PAGES: Pages = Pages {
    items: &["/data/items", "/items"],
    next: LAST_EVALUATED_KEY,
};

/// The first request of a policy's rules.
fn rules_request(policy_id: &str) -> Result<ApiRequest, ToolError> {
    let path = path(
        &format!("{POLICY_PATH}/{{}}/rules"),
        &[seg_decoded("policy_id", policy_id)],
    )?;
    Ok(ApiRequest::get(Api, path))
}

/// A policy's rules as one flat list (each rule keeps its own ids) and their count; ALTR groups
/// them under keys of its own, which mean nothing to a reader.
async fn get_rules(ctx: Ctx, p: PolicyId) -> Result<Value, ToolError> {
    let read = collect_pages(&ctx, rules_request(&p.policy_id)?, RULE_PAGES).await?;
    let cut = read.cut;
    let rules = rules_in(&read.items);
    let legend = levels_named(rules.iter().filter_map(rule_triple).map(|(_, _, l)| l));
    let listed = Collected {
        items: Value::Array(rules),
        pages: read.pages,
        cut,
    };
    if ctx.app {
        // The tag's values too, so the picture shows every value (a failed read: no picture).
        let tag = match policy_tag(&ctx, &p.policy_id).await {
            Ok(Some(tag)) => tag_values_of(&ctx, &tag).await.ok().map(|v| (tag, v)),
            _ => None,
        };
        if let Some(items) = listed.items.as_array() {
            let title = "Current rules";
            let view = matrix::view_of(&p.policy_id, tag.as_ref(), items, None, title);
            ctx.attach(MATRIX_META, view);
        }
    }
    let mut out = listed.result("rules");
    if let (Some(o), false) = (
        out.as_object_mut(),
        legend.as_object().is_some_and(Map::is_empty),
    ) {
        o.insert("levels".into(), legend);
    }
    Ok(out)
}

/// The meaning of each level given, once each, by number.
fn levels_named(levels: impl Iterator<Item = i64>) -> Value {
    let mut used: Vec<i64> = levels.collect();
    used.sort_unstable();
    used.dedup();
    Value::Object(
        used.into_iter()
            .map(|l| (l.to_string(), json!(level_meaning(l))))
            .collect(),
    )
}

async fn add_rules(ctx: Ctx, p: AddRules) -> Result<Value, ToolError> {
    let rules = p.rules.0;
    if rules.is_empty() {
        return Err(ToolError::invalid(
            "rules",
            "give at least one rule {masking_policy, role, tag_value}",
        ));
    }
    for (i, r) in rules.iter().enumerate() {
        for (field, value) in [("role", &r.role), ("tag_value", &r.tag_value)] {
            if value.trim().is_empty() {
                return Err(ToolError::invalid(
                    format!("rules[{i}].{field}"),
                    "must not be empty",
                ));
            }
        }
    }
    let levels: Vec<(String, i64)> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("rules[{i}].masking_policy"), r.masking_policy.get()))
        .collect();
    check_levels(&ctx, &p.policy_id, &levels).await?;
    let change = Change {
        adds: rules
            .iter()
            .map(|r| (r.role.clone(), r.tag_value.clone(), r.masking_policy.get()))
            .collect(),
        ..Change::default()
    };
    let view = matrix_before_write(&ctx, &p.policy_id, change).await;
    let path = path(
        &format!("{POLICY_PATH}/{{}}/rules/batch"),
        &[seg_decoded("policy_id", &p.policy_id)],
    )?;
    let total = rules.len();
    let batches: Vec<Vec<Value>> = rules
        .chunks(RULE_BATCH)
        .map(|chunk| {
            chunk
                .iter()
                .map(|r| {
                    let mut rule = r.extra.clone();
                    rule.insert("masking_policy".into(), json!(r.masking_policy.get()));
                    rule.insert("role".into(), json!(r.role));
                    rule.insert("tag_value".into(), json!(r.tag_value));
                    json!({"action": "PUT", "rule": rule})
                })
                .collect()
        })
        .collect();
    let count = batches.len();
    let mut responses = Vec::with_capacity(count);
    let mut added = 0usize;
    for (i, batch) in batches.into_iter().enumerate() {
        let size = batch.len();
        let req = ApiRequest::patch(Api, path.clone()).json(json!({"rules": batch}));
        match ctx.send_raw(&ctx.prepare(req)).await.map(|(_, v)| v) {
            Ok(body) => {
                responses.push(body);
                added += size;
            }
            Err(e) if i == 0 => return Err(e.into()),
            Err(e) => {
                return Err(ToolError::Failed {
                    code: "partially_applied",
                    message: format!(
                        "Batch {} of {count} failed ({e}); the first {added} of {total} rules were added and the rest were not. Call add_rules again with rules {added} onward.",
                        i + 1
                    ),
                    details: Some(json!({"rules_added": added, "rules_total": total, "error": e.to_json()})),
                })
            }
        }
    }
    attach_matrix(&ctx, view);
    Ok(json!({"rules_added": added, "batches": responses}))
}

async fn update_rule(ctx: Ctx, p: UpdateRule) -> Result<Value, ToolError> {
    if let Some(windows) = &p.time_window_thresholds {
        let windows: Vec<&TimeWindow> = match windows {
            OneOrMany::One(w) => vec![w],
            OneOrMany::Many(ws) => ws.iter().collect(),
        };
        for (i, w) in windows.iter().enumerate() {
            for (which, t) in [("start_time", &w.start_time), ("end_time", &w.end_time)] {
                if t.hour > 23 || t.minute > 59 {
                    return Err(ToolError::invalid(
                        format!("time_window_thresholds[{i}].{which}"),
                        "hour must be 0-23 and minute 0-59",
                    ));
                }
            }
        }
    }
    // The path first: a refused id must not cost a masking-level lookup.
    let path = path(
        &format!("{POLICY_PATH}/{{}}/rules/{{}}"),
        &[
            seg_decoded("policy_id", &p.policy_id),
            seg_decoded("rule_id", &p.rule_id),
        ],
    )?;
    let mut body = Map::new();
    if let Some(l) = p.masking_policy {
        body.insert("masking_policy".into(), json!(l.get()));
    }
    if let Some(r) = p.role {
        body.insert("role".into(), json!(r));
    }
    if let Some(v) = p.tag_value {
        body.insert("tag_value".into(), json!(v));
    }
    if let Some(t) = p.access_rate_thresholds {
        body.insert("access_rate_thresholds".into(), json!(t.into_vec()));
    }
    if let Some(t) = p.time_window_thresholds {
        body.insert("time_window_thresholds".into(), json!(t.into_vec()));
    }
    if body.is_empty() {
        return Err(nothing_to_update(&[
            "masking_policy",
            "role",
            "tag_value",
            "access_rate_thresholds",
            "time_window_thresholds",
        ]));
    }
    // The level check and the before-read do not depend on each other: side by side.
    let levels: Vec<(String, i64)> = p
        .masking_policy
        .iter()
        .map(|l| ("masking_policy".to_string(), l.get()))
        .collect();
    // What needs no request is refused before any is sent.
    check_range(&levels)?;
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_string);
    let change = Change {
        edits: vec![Edit {
            rule_id: p.rule_id.clone(),
            level: body.get("masking_policy").and_then(Value::as_i64),
            role: text("role"),
            tag_value: text("tag_value"),
        }],
        ..Change::default()
    };
    let view = matrix_before_write(&ctx, &p.policy_id, change).await;
    let (checked, before) = futures::join!(
        check_levels(&ctx, &p.policy_id, &levels),
        rule_before(&ctx, &p.policy_id, &p.rule_id)
    );
    checked?;
    let after = ctx
        .send(ApiRequest::patch(Api, path).json(Value::Object(body)))
        .await?;
    attach_matrix(&ctx, view);
    Ok(before_after(before, after))
}

async fn delete_rule(ctx: Ctx, p: RuleId) -> Result<Value, ToolError> {
    let path = path(
        &format!("{POLICY_PATH}/{{}}/rules/{{}}"),
        &[
            seg_decoded("policy_id", &p.policy_id),
            seg_decoded("rule_id", &p.rule_id),
        ],
    )?;
    let change = Change {
        deletes: vec![p.rule_id.clone()],
        ..Change::default()
    };
    let view = matrix_before_write(&ctx, &p.policy_id, change).await;
    let before = rule_before(&ctx, &p.policy_id, &p.rule_id).await;
    let after = ctx.send(ApiRequest::delete(Api, path)).await?;
    attach_matrix(&ctx, view);
    Ok(before_after(before, after))
}

async fn delete_policy(ctx: Ctx, p: PolicyId) -> Result<Value, ToolError> {
    let path = path(
        &format!("{POLICY_PATH}/{{}}"),
        &[seg_decoded("policy_id", &p.policy_id)],
    )?;
    let change = Change {
        drop_policy: true,
        ..Change::default()
    };
    let view = matrix_before_write(&ctx, &p.policy_id, change).await;
    let before = rules_of(&ctx, &p.policy_id)
        .await
        .map(|rules| json!({"policy_id": p.policy_id, "rule_count": rules.len(), "rules": rules}));
    let after = ctx.send(ApiRequest::delete(Api, path)).await?;
    attach_matrix(&ctx, view);
    Ok(before_after(before, after))
}

/// Every rule of a policy (get_rules), as one list.
pub(crate) async fn rules_of(ctx: &Ctx, policy_id: &str) -> Result<Vec<Value>, ToolError> {
    // A read for another tool draws no picture of its own.
    let mut quiet = ctx.clone();
    quiet.app = false;
    let listed = get_rules(
        quiet,
        PolicyId {
            policy_id: policy_id.to_string(),
        },
    )
    .await?;
    Ok(listed
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// The rules of a listing's `items`: ALTR's groups (an object of lists) concatenated in order,
/// or the list itself.
fn rules_in(items: &Value) -> Vec<Value> {
    match items {
        Value::Object(groups) => groups
            .values()
            .flat_map(|g| match g {
                Value::Array(rules) => rules.clone(),
                other => vec![other.clone()],
            })
            .collect(),
        Value::Array(rules) => rules.clone(),
        _ => Vec::new(),
    }
}

/// The rule as it is now (`null` when the policy lists no such rule): the policy's rules are
/// read up to the page that holds it, no further.
async fn rule_before(ctx: &Ctx, policy_id: &str, rule_id: &str) -> Result<Value, ToolError> {
    let wanted = percent_encoding::percent_decode_str(rule_id).decode_utf8_lossy();
    let is_it = |r: &Value| {
        let id = r.get("rule_id").and_then(Value::as_str);
        id == Some(&*wanted) || id == Some(rule_id)
    };
    let find = |items: &Value| rules_in(items).into_iter().find(|r| is_it(r));
    let read = collect_until(ctx, rules_request(policy_id)?, RULE_PAGES, |page| {
        find(page).is_some()
    })
    .await?;
    Ok(find(&read.items).unwrap_or(Value::Null))
}

async fn get_roles(ctx: Ctx) -> Result<Value, ToolError> {
    let pages = Pages {
        items: &["/data/userGroups", "/userGroups"],
        next: NextPage::Offset {
            param: "offset",
            more: More::Total(&["/data/count", "/count"]),
        },
    };
    let first = ApiRequest::get(AltrNet, "/api/userGroups").query("offset", 0);
    let mut groups = collect_pages(&ctx, first, pages).await?;
    let names: Vec<Value> = std::mem::take(&mut groups.items)
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("userGroupName").cloned())
        .collect();
    groups.items = Value::Array(names);
    Ok(groups.result("roles"))
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("get_policies", "List masking policies", Effect::ReadOnly)
            .description("Masking policies (policy_id, tag, rule count), of policy_type or all.")
            .handler(get_policies),
        SET.tool("get_rules", "List policy rules", Effect::ReadOnly)
            .app(MATRIX_APP)
            .description("Rules of policy_id: rule_id, role, tag value, level, thresholds.")
            .handler(get_rules),
        SET.tool("get_supported_masking_types", "List masking levels", Effect::ReadOnly)
            .description("Levels ALTR supports for policy_type on database_type; column needs field_id.")
            .handler(|ctx: Ctx, p: SupportedMasks| async move {
                if p.policy_type == MaskPolicyType::Column && p.field_id.is_none() {
                    return Err(ToolError::invalid("field_id", "is required when policy_type is column"));
                }
                let req = ApiRequest::get(Api, format!("{POLICY_PATH}/rules/supportedMaskingTypes"))
                    .query("policy_type", p.policy_type)
                    .query_opt("database_type", p.database_type)
                    .query_opt("field_id", p.field_id);
                let mut body = ctx.send(req).await?;
                if let Some(Value::Array(entries)) = body.get_mut("data") {
                    entries.retain(|e| level_of(e) != Some(10010));
                }
                Ok(body)
            }),
        SET.tool("create_policy", "Create masking policy", Effect::Additive)
            .description("Create the empty masking policy of tag (one per tag); add_rules next, else all reads NULL. policy_type TAG (default): Snowflake upper-case tag name, connected (connect_tag); PUSHDOWN: raw Databricks tag, database_ids.")
            .handler(|ctx: Ctx, p: CreatePolicy| async move {
                let policy_type = p.policy_type.unwrap_or(PolicyKind::Tag);
                if p.tag.trim().is_empty() {
                    return Err(ToolError::invalid("tag", "must not be empty"));
                }
                let mut body = Map::new();
                body.insert("identifier".into(), json!(p.tag));
                body.insert("type".into(), json!(policy_type));
                if let Some(ids) = p.database_ids {
                    if policy_type == PolicyKind::Tag {
                        return Err(ToolError::invalid("database_ids", "not allowed for TAG policies (Snowflake); use policy_type PUSHDOWN for Databricks"));
                    }
                    if ids.is_empty() {
                        return Err(ToolError::invalid("database_ids", "must list at least one database id, or be left out"));
                    }
                    body.insert("database_ids".into(), json!(ids));
                }
                let response = ctx.send(ApiRequest::post(Api, POLICY_PATH).json(Value::Object(body))).await?;
                Ok(response.get("data").filter(|d| d.get("policy_id").is_some()).cloned().unwrap_or(response))
            }),
        SET.tool("add_rules", "Add masking rules", Effect::Idempotent)
            .app(MATRIX_APP)
            .description(concat!("Add masking rules to policy_id, any number, 99 per request; a later batch failing reports rules_added. Most permissive matching rule wins; none: NULL. ", level_legend!()))
            .handler(add_rules),
        SET.tool("delete_policy", "Delete masking policy", Effect::Destructive)
            .app(MATRIX_APP)
            .description("Delete policy_id and its rules; its tag goes unmasked. Returns {before (its rules), after}.")
            .handler(delete_policy),
        SET.tool("update_rule", "Update masking rule", Effect::Idempotent)
            .app(MATRIX_APP)
            .description("Change rule_id of policy_id: masking_policy, role, tag_value, access_rate_thresholds, time_window_thresholds; refuses empty updates. Returns {before, after}.")
            .handler(update_rule),
        SET.tool("delete_rule", "Delete masking rule", Effect::Destructive)
            .app(MATRIX_APP)
            .description("Delete rule_id from policy_id; its roles fall back to remaining rules. Returns {before, after}.")
            .handler(delete_rule),
        SET.tool("preview_masking", "Preview masking", Effect::ReadOnly)
            .app(MATRIX_APP)
            .description("Levels each role sees for every value of policy_id's tag, now and after proposed add, update, delete (rule ids), levels named; roles: more to show. Read-only; use before rule edits.")
            .handler(preview_masking),
        SET.tool("get_roles", "List roles", Effect::ReadOnly)
            .description("Role (user group) names for masking rules.")
            .handler(|ctx: Ctx, _: NoParams| get_roles(ctx)),
    ]
}

/// Who sees what under one masking policy: the rules now and after a change, the roles and tag
/// values to show, and the view the masking matrix app draws (`ui://altr/masking-matrix`). The
/// grid itself is [`super::masking_matrix`], the one computation preview_masking's JSON and the
/// app's picture both come from, so the two cannot disagree.
mod matrix {

    use serde_json::{json, Map, Value};

    use crate::toolsets::policies::{
        level_meaning, masking_matrix, rule_triple, NO_RULE_LEVEL, PERMISSIVE_FIRST,
    };

    /// The masking matrix app.
    pub const MATRIX_APP: &str = "ui://altr/masking-matrix";
    /// The key of the result `_meta` entry the app draws.
    pub const MATRIX_META: &str = "io.altr/masking-matrix";

    /// One rule as the matrix reads it: role, tag value, level.
    pub type Rule = (String, String, i64);

    /// A change to one existing rule.
    #[derive(Debug, Clone, Default)]
    pub struct Edit {
        pub rule_id: String,
        pub level: Option<i64>,
        pub role: Option<String>,
        pub tag_value: Option<String>,
    }

    /// A proposed change to a policy's rules: preview_masking's, or what one write does.
    #[derive(Debug, Clone, Default)]
    pub struct Change {
        pub adds: Vec<Rule>,
        pub edits: Vec<Edit>,
        pub deletes: Vec<String>,
        /// The policy itself goes (delete_policy): ALTR masks nothing of the tag any more.
        pub drop_policy: bool,
    }

    /// The rules after `change`, from the policy's current rule objects.
    pub fn after(current: &[Value], change: &Change) -> Vec<Rule> {
        if change.drop_policy {
            return Vec::new();
        }
        let mut out = Vec::new();
        for r in current {
            let Some(id) = r.get("rule_id").and_then(Value::as_str) else {
                continue;
            };
            if change.deletes.iter().any(|d| d == id) {
                continue;
            }
            let Some((mut role, mut tag_value, mut level)) = rule_triple(r) else {
                continue;
            };
            for e in change.edits.iter().filter(|e| e.rule_id == id) {
                if let Some(l) = e.level {
                    level = l;
                }
                if let Some(x) = &e.role {
                    role = x.clone();
                }
                if let Some(x) = &e.tag_value {
                    tag_value = x.clone();
                }
            }
            out.push((role, tag_value, level));
        }
        out.extend(change.adds.iter().cloned());
        out
    }

    /// The roles (rows) and tag values (columns) to show, each sorted: every role the rules name
    /// (letter case ignored) and every `extra` role; every `listed` tag value and every one the rules
    /// name.
    pub fn axes(
        rules: &[&[Rule]],
        listed: &[String],
        extra: &[String],
    ) -> (Vec<String>, Vec<String>) {
        let mut roles: Vec<String> = Vec::new();
        let mut values: Vec<String> = listed.to_vec();
        for (role, tv, _) in rules.iter().flat_map(|r| r.iter()) {
            if !roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
                roles.push(role.clone());
            }
            if !values.contains(tv) {
                values.push(tv.clone());
            }
        }
        for role in extra {
            if !role.trim().is_empty() && !roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
                roles.push(role.clone());
            }
        }
        roles.sort();
        values.sort();
        values.dedup();
        (roles, values)
    }

    /// A level in a few words, as the app's cells show it.
    pub fn level_word(level: i64) -> &'static str {
        match level {
            10000 => "clear",
            10001 => "full mask",
            10002 => "email domain",
            10003 => "last four",
            10004 => "constant",
            10005 => "NULL",
            10006 => "full mask hash",
            10007 => "email hash",
            10008 => "last four (hashed)",
            10009 => "constant date",
            _ => "unknown level",
        }
    }

    /// How much a level shows: 0 the most (clear); `None` for a level ALTR does not define.
    fn rank(level: i64) -> Option<usize> {
        PERMISSIVE_FIRST.iter().position(|l| *l == level)
    }

    /// The grid of `rules` over the axes: (tag value -> role -> level, tag value -> roles no rule
    /// matched). Without a policy every role sees every value in clear.
    pub fn grid(rules: Option<&[Rule]>, roles: &[String], values: &[String]) -> (Value, Value) {
        match rules {
            Some(r) => masking_matrix(r, roles, values),
            None => {
                let clear: Vec<Rule> = values
                    .iter()
                    .flat_map(|v| roles.iter().map(move |r| (r.clone(), v.clone(), 10000)))
                    .collect();
                masking_matrix(&clear, roles, values)
            }
        }
    }

    /// What the masking matrix app draws: rows are roles, columns tag values, each cell the level
    /// seen now (and after, in diff mode), which side fell to NULL for want of a rule, every level
    /// from most to least permissive, and how many role/value pairs gain or lose visibility.
    #[allow(clippy::too_many_arguments)]
    pub fn app_view(
        policy_id: &str,
        tag: Option<&str>,
        title: &str,
        roles: &[String],
        values: &[String],
        now: &(Value, Value),
        after: Option<&(Value, Value)>,
    ) -> Value {
        let level_at = |m: &Value, tv: &str, role: &str| {
            m.get(tv)
                .and_then(|r| r.get(role))
                .and_then(Value::as_i64)
                .unwrap_or(NO_RULE_LEVEL)
        };
        let unmatched = |n: &Value, tv: &str, role: &str| {
            n.get(tv)
                .and_then(Value::as_array)
                .is_some_and(|rs| rs.iter().any(|r| r.as_str() == Some(role)))
        };
        let (mut changed, mut gain, mut lose) = (0usize, 0usize, 0usize);
        let cells: Vec<Value> = roles
            .iter()
            .map(|role| {
                let row: Vec<Value> = values
                    .iter()
                    .map(|tv| {
                        let mut cell = Map::new();
                        let before = level_at(&now.0, tv, role);
                        cell.insert("now".into(), json!(before));
                        let mut no_rule = Vec::new();
                        if unmatched(&now.1, tv, role) {
                            no_rule.push("now");
                        }
                        if let Some(a) = after {
                            let later = level_at(&a.0, tv, role);
                            cell.insert("after".into(), json!(later));
                            if unmatched(&a.1, tv, role) {
                                no_rule.push("after");
                            }
                            if later != before {
                                changed += 1;
                                match (rank(before), rank(later)) {
                                    (Some(b), Some(l)) if l < b => gain += 1,
                                    (Some(b), Some(l)) if l > b => lose += 1,
                                    _ => {}
                                }
                            }
                        }
                        if !no_rule.is_empty() {
                            cell.insert("no_rule".into(), json!(no_rule));
                        }
                        Value::Object(cell)
                    })
                    .collect();
                Value::Array(row)
            })
            .collect();
        let levels: Vec<Value> = PERMISSIVE_FIRST
            .iter()
            .map(|l| json!({"level": l, "name": level_word(*l), "meaning": level_meaning(*l)}))
            .collect();
        json!({
            "policy_id": policy_id,
            "tag": tag,
            "mode": if after.is_some() { "diff" } else { "current" },
            "title": title,
            "roles": roles,
            "tag_values": values,
            "cells": cells,
            "levels": levels,
            "summary": {"pairs": roles.len() * values.len(), "changed": changed, "gain": gain, "lose": lose},
        })
    }

    /// The view of `current` rules (rule objects) and, for a change, the rules after it.
    pub fn view_of(
        policy_id: &str,
        tag: Option<&(String, Vec<String>)>,
        current: &[Value],
        change: Option<&Change>,
        title: &str,
    ) -> Value {
        let now: Vec<Rule> = current.iter().filter_map(rule_triple).collect();
        let later = change.map(|c| after(current, c));
        let listed: &[String] = tag.map_or(&[], |(_, v)| v.as_slice());
        let sides: Vec<&[Rule]> = [Some(now.as_slice()), later.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let (roles, values) = axes(&sides, listed, &[]);
        let before = grid(Some(&now), &roles, &values);
        let after_grid = change.map(|c| {
            let rules = (!c.drop_policy).then_some(later.as_deref().unwrap_or_default());
            grid(rules, &roles, &values)
        });
        app_view(
            policy_id,
            tag.map(|(t, _)| t.as_str()),
            title,
            &roles,
            &values,
            &before,
            after_grid.as_ref(),
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn rule(id: &str, role: &str, tv: &str, level: i64) -> Value {
            json!({"rule_id": id, "role": role, "tag_value": tv, "masking_policy": level})
        }

        fn cell<'a>(view: &'a Value, role: &str, tv: &str) -> &'a Value {
            let r = view["roles"]
                .as_array()
                .unwrap()
                .iter()
                .position(|x| x == role)
                .unwrap();
            let v = view["tag_values"]
                .as_array()
                .unwrap()
                .iter()
                .position(|x| x == tv)
                .unwrap();
            &view["cells"][r][v]
        }

        #[test]
        fn the_most_permissive_matching_rule_wins() {
            let current = [
                rule("1", "ANALYST", "EMAIL", 10001),
                rule("2", "analyst", "EMAIL", 10003),
                rule("3", "ANALYST", "EMAIL", 10005),
            ];
            let v = view_of("TAG#p", None, &current, None, "Current rules");
            assert_eq!(v["mode"], "current");
            assert_eq!(v["roles"], json!(["ANALYST"]), "roles match ignoring case");
            assert_eq!(cell(&v, "ANALYST", "EMAIL"), &json!({"now": 10003}));
        }

        #[test]
        fn a_role_or_value_without_a_rule_sees_null() {
            let current = [
                rule("1", "ANALYST", "EMAIL", 10000),
                rule("2", "HR", "SSN", 10003),
            ];
            let tag = ("PII".to_string(), vec!["PHONE".to_string()]);
            let v = view_of("TAG#p", Some(&tag), &current, None, "Current rules");
            assert_eq!(v["tag_values"], json!(["EMAIL", "PHONE", "SSN"]));
            // A role no rule names for a value; a value no rule names at all.
            assert_eq!(
                cell(&v, "HR", "EMAIL"),
                &json!({"now": 10005, "no_rule": ["now"]})
            );
            assert_eq!(
                cell(&v, "ANALYST", "PHONE"),
                &json!({"now": 10005, "no_rule": ["now"]})
            );
            assert_eq!(
                v["summary"],
                json!({"pairs": 6, "changed": 0, "gain": 0, "lose": 0})
            );
            assert_eq!(v["levels"][0]["level"], 10000);
            assert_eq!(
                v["levels"][9],
                json!({"level": 10005, "name": "NULL", "meaning": "NULL"})
            );
        }

        #[test]
        fn a_change_that_loses_and_one_that_gains_visibility() {
            let current = [
                rule("1", "ANALYST", "EMAIL", 10003),
                rule("2", "HR", "EMAIL", 10001),
            ];
            let change = Change {
                edits: vec![Edit {
                    rule_id: "2".into(),
                    level: Some(10000),
                    ..Edit::default()
                }],
                deletes: vec!["1".into()],
                adds: vec![("AUDITOR".into(), "EMAIL".into(), 10002)],
                ..Change::default()
            };
            let v = view_of("TAG#p", None, &current, Some(&change), "Preview");
            assert_eq!(v["mode"], "diff");
            // ANALYST loses its rule: last four -> NULL.
            assert_eq!(
                cell(&v, "ANALYST", "EMAIL"),
                &json!({"now": 10003, "after": 10005, "no_rule": ["after"]})
            );
            // HR: full mask -> clear; AUDITOR: NULL (no rule) -> email domain.
            assert_eq!(
                cell(&v, "HR", "EMAIL"),
                &json!({"now": 10001, "after": 10000})
            );
            assert_eq!(
                cell(&v, "AUDITOR", "EMAIL"),
                &json!({"now": 10005, "after": 10002, "no_rule": ["now"]})
            );
            assert_eq!(
                v["summary"],
                json!({"pairs": 3, "changed": 3, "gain": 2, "lose": 1})
            );
        }

        #[test]
        fn without_the_policy_nothing_is_masked() {
            let current = [rule("1", "ANALYST", "EMAIL", 10005)];
            let change = Change {
                drop_policy: true,
                ..Change::default()
            };
            let v = view_of("TAG#p", None, &current, Some(&change), "Delete");
            assert_eq!(
                cell(&v, "ANALYST", "EMAIL"),
                &json!({"now": 10005, "after": 10000})
            );
            assert_eq!(v["summary"]["gain"], 1);
        }
    }
}
