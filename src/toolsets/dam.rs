//! DAM alerting: database activity monitoring rules (match or threshold rules over audit events)
//! and the alerts they raise, with acknowledgement and comments.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Method, Service::DamAlerting};
use crate::registry::args::JsonOr;
use crate::registry::params::{ContiguousId, Limit, Name};
use crate::registry::request::Endpoint;
use crate::registry::{untrusted, Ctx, Effect, ToolDef, ToolError, Toolset};
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
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
    #[schemars(extend("x-doc" = "true lists only enabled rules, false only disabled ones; omit for both."))]
    pub enabled: Option<bool>,
    #[schemars(extend("x-doc" = "List only rules of this severity: low, medium, high or critical. Omit for all."))]
    pub severity: Option<Severity>,
    #[schemars(extend("x-doc" = "List only rules of this type: match or threshold. Omit for both."))]
    pub rule_type: Option<RuleType>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleId {
    #[schemars(extend("x-doc" = "The DAM rule's id, as list_dam_rules returns it."))]
    pub rule_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRule {
    #[schemars(extend("x-doc" = "The new rule's name."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "How the rule fires: match (every matching event raises an alert) or threshold (an alert when matching events reach threshold within window_type)."))]
    pub rule_type: RuleType,
    #[schemars(extend("x-doc" = "The severity of the alerts the rule raises: low, medium, high or critical."))]
    pub severity: Severity,
    #[schemars(extend("x-doc" = "Which data sources' audit events the rule watches, e.g. all."))]
    pub data_source_scope: Name,
    #[schemars(extend("x-doc" = "The conditions an audit event must meet to match, as a JSON object (or its JSON text); it must not be empty."))]
    pub filter_tree: JsonOr<Map<String, Value>>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "true makes the rule active at once; default false (created disabled)."))]
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "Free text explaining what the rule watches for; not sent when omitted."))]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "Email addresses notified when the rule raises an alert; not sent when omitted."))]
    pub email_recipients: Option<Vec<Name>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "The time window a threshold rule counts matches in, e.g. rolling_1h. Required when rule_type is threshold, refused for match."))]
    pub window_type: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "How many matching events within window_type raise an alert, a whole number of at least 1. Required when rule_type is threshold, refused for match."))]
    pub threshold: Option<crate::registry::params::Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "The time zone in which a threshold rule's window_type is counted; not sent when omitted."))]
    pub timezone: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "true requires a comment to acknowledge the rule's alerts (acknowledge_dam_alert); not sent when omitted."))]
    pub comment_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "The least number of seconds between two notification emails for this rule, a whole number of 0 or more; not sent when omitted."))]
    pub email_rate_limit_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRule {
    #[schemars(extend("x-doc" = "The DAM rule's id, as list_dam_rules returns it."))]
    pub rule_id: Name,
    #[schemars(extend("x-doc" = "The rule's new name; unchanged when omitted."))]
    pub name: Option<Name>,
    #[schemars(extend("x-doc" = "The rule's new description; unchanged when omitted."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "true enables the rule, false disables it (it then raises no alerts); unchanged when omitted."))]
    pub enabled: Option<bool>,
    #[schemars(extend("x-doc" = "The new severity of the rule's alerts: low, medium, high or critical; unchanged when omitted."))]
    pub severity: Option<Severity>,
    #[schemars(extend("x-doc" = "The new list of notified email addresses, replacing the old one; [] removes all recipients. Unchanged when omitted."))]
    pub email_recipients: Option<Vec<Name>>,
    #[schemars(extend("x-doc" = "true requires a comment to acknowledge the rule's alerts, false does not; unchanged when omitted."))]
    pub comment_required: Option<bool>,
    #[schemars(extend("x-doc" = "The new least number of seconds between two notification emails, 0 or more; unchanged when omitted."))]
    pub email_rate_limit_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAlerts {
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
    #[schemars(extend("x-doc" = "List only alerts raised by this DAM rule (its id from list_dam_rules). Omit for all rules."))]
    pub rule_id: Option<Name>,
    #[schemars(extend("x-doc" = "List only alerts in this state: new or acknowledged. Omit for both."))]
    pub state: Option<AlertState>,
    #[schemars(extend("x-doc" = "List only alerts of this severity: low, medium, high or critical. Omit for all."))]
    pub severity: Option<Severity>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertId {
    #[schemars(extend("x-doc" = "The DAM alert's id, as list_dam_alerts returns it."))]
    pub alert_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    #[schemars(extend("x-doc" = "The id of the alert to acknowledge (state new), as list_dam_alerts returns it."))]
    pub alert_id: Name,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "A note kept with the acknowledgement; required when the alert's rule has comment_required. Omitted: an empty object is sent."))]
    pub comment: Option<Name>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListComments {
    #[schemars(extend("x-doc" = "The DAM alert's id, as list_dam_alerts returns it."))]
    pub alert_id: Name,
    pub limit: Option<Limit<100>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schemars(extend("x-doc" = "The DAM alert's id, as list_dam_alerts returns it."))]
    pub alert_id: Name,
    #[schemars(extend("x-doc" = "The comment's text, e.g. what an investigation found; must not be empty."))]
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
        .in_default()
            .description("Alert rules, filtered by enabled, severity, rule_type.")
            .request::<ListRules>(Method::GET, DamAlerting, "/rules"),
        SET.tool("get_dam_rule", "Get DAM rule", Effect::ReadOnly)
            .description("rule_id (from list_dam_rules): filter tree, severity, notifications.")
            .request::<RuleId>(Method::GET, DamAlerting, "/rules/{rule_id}"),
        SET.tool("create_dam_rule", "Create DAM rule", Effect::Additive)
            .description("Alert rule over audit events: name, description, severity, data_source_scope (e.g. `all`), filter_tree, rule_type match (each event alerts) or threshold (threshold events per window_type, e.g. `rolling_1h`, in timezone). Disabled unless enabled. Notify: email_recipients, email_rate_limit_seconds. comment_required to acknowledge.")
            .handler(create_rule),
        SET.tool("update_dam_rule", "Update DAM rule", Effect::Idempotent)
            .description("Change rule_id's name, description, enabled, severity, email_recipients ([] clears), comment_required, email_rate_limit_seconds; only those given, at least one. Returns {before, after}.")
            .require_change()
            .before("/rules/{rule_id}")
            .request::<UpdateRule>(Method::PATCH, DamAlerting, "/rules/{rule_id}"),
        SET.tool("delete_dam_rule", "Delete DAM rule", Effect::Destructive)
            .description("Delete rule_id; it raises no more alerts. Returns {before, after}.")
            .before("/rules/{rule_id}")
            .request::<RuleId>(Method::DELETE, DamAlerting, "/rules/{rule_id}"),
        SET.tool("list_dam_alerts", "List DAM alerts", Effect::ReadOnly)
        .in_default()
            .description("Alerts, filtered by rule_id, state, severity.")
            .request::<ListAlerts>(Method::GET, DamAlerting, "/alerts"),
        SET.tool("get_dam_alert", "Get DAM alert", Effect::ReadOnly)
        .in_default()
            .description("alert_id (from list_dam_alerts): raising rule, events, severity, state.")
            .request::<AlertId>(Method::GET, DamAlerting, "/alerts/{alert_id}"),
        SET.tool("acknowledge_dam_alert", "Acknowledge DAM alert", Effect::Idempotent)
        .in_default()
            .description("Acknowledge new alert_id; comment required if its rule has comment_required.")
            .empty_object()
            .request::<Acknowledge>(Method::PATCH, DamAlerting, "/alerts/{alert_id}/acknowledge"),
        SET.tool("list_dam_alert_comments", "List DAM alert comments", Effect::ReadOnly)
            .description("Comments on alert_id (from list_dam_alerts).")
            .request::<ListComments>(Method::GET, DamAlerting, "/alerts/{alert_id}/comments"),
        SET.tool("create_dam_alert_comment", "Comment on DAM alert", Effect::Additive)
            .description("Add comment text to alert_id, e.g. findings.")
            .request::<NewComment>(Method::POST, DamAlerting, "/alerts/{alert_id}/comments"),
    ]
    .into_iter()
    .map(untrusted::fenced)
    .collect()
}
