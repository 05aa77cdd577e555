//! DAM alerting: database activity monitoring rules (match or threshold rules over audit events)
//! and the alerts they raise, with acknowledgement and comments.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::args::JsonOr;
use super::params::{ContiguousId, Limit, Name};
use super::request::Endpoint;
use super::{untrusted, Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::client::{Method, Service::DamAlerting};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "dam",
    title: "DAM alerting",
    description: "Database activity monitoring: alert rules over audit events (match or threshold), the alerts they raise, acknowledgement and comments.",
    in_default: false,
    tools,
};

wire_enum! {
    /// How serious an alert is.
    pub enum Severity { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

wire_enum! {
    /// How a rule fires: on each matching event, or when matches pass a threshold in a window.
    pub enum RuleType { Match = "match", Threshold = "threshold" }
}

wire_enum! {
    /// An alert's state.
    pub enum AlertState { New = "new", Acknowledged = "acknowledged" }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRules {
    /// Most rules in this page (default 25, at most 100).
    pub limit: Option<Limit<100>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
    /// Only enabled (true) or disabled (false) rules.
    pub enabled: Option<bool>,
    /// Only rules of this severity.
    pub severity: Option<Severity>,
    /// Only match or threshold rules.
    pub rule_type: Option<RuleType>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleId {
    /// DAM rule id (from list_dam_rules).
    pub rule_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRule {
    /// Rule name.
    pub name: Name,
    /// match (every matching event alerts) or threshold (threshold matches within window_type alert).
    pub rule_type: RuleType,
    /// low, medium, high or critical.
    pub severity: Severity,
    /// Which data sources the rule watches, e.g. `all`.
    pub data_source_scope: Name,
    /// The event filter as a tree of conditions (an object, or its JSON text).
    pub filter_tree: JsonOr<Map<String, Value>>,
    /// Whether the rule is active (default false).
    #[serde(default)]
    pub enabled: bool,
    /// What the rule watches for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who gets an email per alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_recipients: Option<Vec<Name>>,
    /// Threshold rules: the counting window, e.g. `rolling_1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_type: Option<Name>,
    /// Threshold rules: matches within the window that raise an alert (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<super::params::Id>,
    /// IANA time zone of the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Name>,
    /// Whether acknowledging an alert needs a comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_required: Option<bool>,
    /// Least seconds between two emails of this rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_rate_limit_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRule {
    /// DAM rule id (from list_dam_rules).
    pub rule_id: Name,
    /// New name.
    pub name: Option<Name>,
    /// New description.
    pub description: Option<String>,
    /// Turn the rule on (true) or off (false).
    pub enabled: Option<bool>,
    /// New severity.
    pub severity: Option<Severity>,
    /// New email recipients (an empty list removes them all).
    pub email_recipients: Option<Vec<Name>>,
    /// Whether acknowledging needs a comment.
    pub comment_required: Option<bool>,
    /// Least seconds between two emails of this rule.
    pub email_rate_limit_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAlerts {
    /// Most alerts in this page (default 25, at most 100).
    pub limit: Option<Limit<100>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
    /// Only alerts of this rule.
    pub rule_id: Option<Name>,
    /// Only new or acknowledged alerts.
    pub state: Option<AlertState>,
    /// Only alerts of this severity.
    pub severity: Option<Severity>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertId {
    /// DAM alert id (from list_dam_alerts).
    pub alert_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// DAM alert id (from list_dam_alerts).
    pub alert_id: Name,
    /// Why the alert is acknowledged (required by rules with comment_required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<Name>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListComments {
    /// DAM alert id (from list_dam_alerts).
    pub alert_id: Name,
    /// Most comments in this page (at most 100).
    pub limit: Option<Limit<100>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// DAM alert id (from list_dam_alerts).
    pub alert_id: Name,
    /// The comment.
    pub text: Name,
}

/// Check that the rule type and its threshold settings agree, then send the rule.
async fn create_rule(ctx: Ctx, p: CreateRule) -> Result<Value, ToolError> {
    match p.rule_type {
        RuleType::Threshold if p.threshold.is_none() => {
            return Err(ToolError::invalid(
                "threshold",
                "is required for a threshold rule",
            ))
        }
        RuleType::Threshold if p.window_type.is_none() => {
            return Err(ToolError::invalid(
                "window_type",
                "is required for a threshold rule",
            ))
        }
        RuleType::Match if p.threshold.is_some() => {
            return Err(ToolError::invalid(
                "threshold",
                "only applies to threshold rules; leave it out for a match rule",
            ))
        }
        RuleType::Match if p.window_type.is_some() => {
            return Err(ToolError::invalid(
                "window_type",
                "only applies to threshold rules; leave it out for a match rule",
            ))
        }
        _ => {}
    }
    if p.filter_tree.0.is_empty() {
        return Err(ToolError::invalid(
            "filter_tree",
            "must not be empty: give the conditions events must match",
        ));
    }
    let wire = serde_json::to_value(&p)
        .map_err(|e| ToolError::invalid("arguments", format!("cannot be sent: {e}")))?;
    let req = Endpoint::new(Method::POST, DamAlerting, "/rules").build(wire)?;
    ctx.send(req).await
}

/// The toolset's tools; their answers fence people's free text (see [`untrusted`]).
pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("list_dam_rules", "List DAM rules", Effect::ReadOnly)
            .description("List DAM alert rules, filtered by enabled, severity or rule type, one page at a time (pass the previous page's contiguous_id).")
            .request::<ListRules>(Method::GET, DamAlerting, "/rules"),
        SET.tool("get_dam_rule", "Get a DAM rule", Effect::ReadOnly)
            .description("Get one DAM alert rule with its filter tree, severity and notification settings.")
            .request::<RuleId>(Method::GET, DamAlerting, "/rules/{rule_id}"),
        SET.tool("create_dam_rule", "Create a DAM rule", Effect::Additive)
            .description("Create a DAM alert rule: a filter tree over audit events, a severity, and either match (every event alerts) or threshold (threshold events within window_type). Created disabled unless enabled is true.")
            .handler(create_rule),
        SET.tool("update_dam_rule", "Update a DAM rule", Effect::Idempotent)
            .description("Change a DAM rule's name, description, enabled state, severity or notification settings; only the fields given change, at least one is required. Returns {before, after}: the state read first, and the API's answer.")
            .require_change()
            .before("/rules/{rule_id}")
            .request::<UpdateRule>(Method::PATCH, DamAlerting, "/rules/{rule_id}"),
        SET.tool("delete_dam_rule", "Delete a DAM rule", Effect::Destructive)
            .description("Delete a DAM alert rule; it raises no more alerts. Returns {before, after}: the state read first, and the API's answer.")
            .before("/rules/{rule_id}")
            .request::<RuleId>(Method::DELETE, DamAlerting, "/rules/{rule_id}"),
        SET.tool("list_dam_alerts", "List DAM alerts", Effect::ReadOnly)
            .description("List DAM alerts, filtered by rule, state (new or acknowledged) or severity, one page at a time (pass the previous page's contiguous_id).")
            .request::<ListAlerts>(Method::GET, DamAlerting, "/alerts"),
        SET.tool("get_dam_alert", "Get a DAM alert", Effect::ReadOnly)
            .description("Get one DAM alert: the rule that raised it, the events, severity and state.")
            .request::<AlertId>(Method::GET, DamAlerting, "/alerts/{alert_id}"),
        SET.tool("acknowledge_dam_alert", "Acknowledge a DAM alert", Effect::Idempotent)
            .description("Mark a new DAM alert acknowledged, with an optional comment (required when its rule says comment_required).")
            .empty_object()
            .request::<Acknowledge>(Method::PATCH, DamAlerting, "/alerts/{alert_id}/acknowledge"),
        SET.tool("list_dam_alert_comments", "List DAM alert comments", Effect::ReadOnly)
            .description("List the comments on a DAM alert, one page at a time.")
            .request::<ListComments>(Method::GET, DamAlerting, "/alerts/{alert_id}/comments"),
        SET.tool("create_dam_alert_comment", "Comment on a DAM alert", Effect::Additive)
            .description("Add a comment to a DAM alert, e.g. what was found when investigating it.")
            .request::<NewComment>(Method::POST, DamAlerting, "/alerts/{alert_id}/comments"),
    ]
    .into_iter()
    .map(untrusted::fenced)
    .collect()
}
