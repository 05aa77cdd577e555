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
use crate::{open_enum, wire_enum};

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

open_enum! {
    /// Whose audit events a rule evaluates: sidecar (OLTP) or Snowflake ones (the values ALTR's
    /// tool text names; altr-api.md pins none, so another value is passed on).
    pub enum Scope { Oltp = "oltp", Snowflake = "snowflake" }
}

open_enum! {
    /// The tumbling window a threshold rule counts matches in (known values; others passed on).
    pub enum Window { Hourly = "hourly", Daily = "daily", Weekly = "weekly", Monthly = "monthly" }
}

wire_enum! {
    /// An alert's state.
    pub enum AlertState { New = "new", Acknowledged = "acknowledged" }
}

// Seconds between a rule's notification emails: 0 (the platform default, 300) or 60 to 86400
// (documented on its fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RateLimit(#[schemars(range(min = 0))] pub u64);

impl<'de> Deserialize<'de> for RateLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n == 0 || (60..=86_400).contains(&n) => Ok(RateLimit(n)),
            _ => Err(serde::de::Error::custom(
                "must be 0 (the platform default, 300 s) or a whole number of seconds from 60 to 86400",
            )),
        }
    }
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
    #[schemars(extend("x-doc" = "The new rule's name, at most 255 characters."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "How the rule fires: match (every matching event raises an alert) or threshold (an alert when matching events reach threshold within window_type)."))]
    pub rule_type: RuleType,
    #[schemars(extend("x-doc" = "The severity of the alerts the rule raises: low, medium, high or critical."))]
    pub severity: Severity,
    #[schemars(extend("x-doc" = "Whose audit events the rule evaluates: oltp (sidecar query audits) or snowflake. Fixed once created."))]
    pub data_source_scope: Scope,
    /// {op:and|or,children:[..]} or {op,dimension,V}: eq|neq|contains|regex|cidr|key_exists string_value; in list_value; gt|gte|lt|lte number_value; range {min,max}; between {start,end} HH:MM; key_eq {key,value}; exists. dimension: user,database,schema,table,column,statement_type,statement_text,time_of_day,...
    #[schemars(extend("x-doc" = "The conditions an audit event must meet, as a JSON object (or its JSON text); fixed once created. A node is a junction {\"op\": \"and\"|\"or\", \"children\": [nodes]} or a leaf {\"op\", \"dimension\", <value field>}. Leaf ops and their value field: eq, neq, contains, regex, cidr take string_value; in takes list_value (strings); gt, gte, lt, lte take number_value; range takes range {min, max}; between takes between {start, end} as HH:MM (time_of_day only); key_exists takes string_value (the key); key_eq takes key_eq {key, value}; exists takes none. String ops apply to string dimensions, number ops to numeric ones, key ops to maps (attributes, snowflake_query_tag). Dimensions of both scopes: user, database, schema, table, column, statement_type, statement_text, event_name, time_of_day. oltp only: query_status, repo_user, client_ip, client_app, client_port (number), repo_type, repo_host, sidecar_id, connection_authorized (bool; exists only), authorization_type, oltp_row_count (number), bytes_returned (number), policy_applied, policy_type, user_email, user_group, execution_role, execution_database, execution_schema, execution_warehouse, native_statement_type, oltp_duration_ms, oltp_rows_inserted, oltp_rows_updated, oltp_rows_deleted, oltp_rows_produced, oltp_rows_unloaded (numbers), attributes (map). snowflake only: snowflake_role, snowflake_roles, snowflake_warehouse, snowflake_warehouse_size, snowflake_ip_address, snowflake_client, snowflake_session_id, snowflake_query_tag (map), snowflake_row_count (number), snowflake_account, snowflake_account_region, snowflake_masking_policy, snowflake_column_policy, snowflake_execution_duration (number), snowflake_tag_name, snowflake_tag_value. At most 16 levels deep and 256 nodes. Example: {\"op\": \"and\", \"children\": [{\"op\": \"eq\", \"dimension\": \"database\", \"string_value\": \"PROD\"}, {\"op\": \"in\", \"dimension\": \"statement_type\", \"list_value\": [\"DELETE\", \"DROP\"]}]}."))]
    pub filter_tree: JsonOr<Map<String, Value>>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "true makes the rule active at once; default false (created disabled)."))]
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "Free text explaining what the rule watches for, at most 2000 characters; not sent when omitted."))]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "Email addresses notified when the rule raises an alert, at most 100, in domains the organization allows; not sent when omitted."))]
    pub email_recipients: Option<Vec<Name>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "The tumbling window a threshold rule counts matches in: hourly, daily, weekly or monthly, aligned to timezone. Required when rule_type is threshold, refused for match. Fixed once created."))]
    pub window_type: Option<Window>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "How many matching events within one window_type window raise its alert (once per window), a whole number of at least 1. Required when rule_type is threshold, refused for match. Fixed once created."))]
    pub threshold: Option<crate::registry::params::Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "The IANA time zone (e.g. America/New_York) that aligns a threshold rule's windows, required there; a match rule takes it only when filter_tree has a time_of_day leaf (and then needs it). Fixed once created; not sent when omitted."))]
    pub timezone: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "true requires a comment to acknowledge the rule's alerts (acknowledge_dam_alert); not sent when omitted."))]
    pub comment_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-doc" = "The least number of seconds between two notification emails for this rule: 0 (the platform default, 300) or 60 to 86400; not sent when omitted."))]
    pub email_rate_limit_seconds: Option<RateLimit>,
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
    #[schemars(extend("x-doc" = "The new least number of seconds between two notification emails: 0 (back to the platform default, 300) or 60 to 86400; unchanged when omitted."))]
    pub email_rate_limit_seconds: Option<RateLimit>,
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

/// The depth and node count of a filter tree (junctions list their nodes in `children`).
fn tree_size(node: &Value) -> (usize, usize) {
    let children = node.get("children").and_then(Value::as_array);
    children
        .into_iter()
        .flatten()
        .fold((1, 1), |(depth, nodes), c| {
            let (d, n) = tree_size(c);
            (depth.max(d + 1), nodes + n)
        })
}

/// Whether a filter tree has a leaf on the time_of_day dimension.
fn has_time_of_day(node: &Value) -> bool {
    node.get("dimension").and_then(Value::as_str) == Some("time_of_day")
        || node
            .get("children")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(has_time_of_day))
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
    let tree = Value::Object(p.filter_tree.0.clone());
    let (depth, nodes) = tree_size(&tree);
    if depth > 16 || nodes > 256 {
        return Err(ToolError::invalid(
            "filter_tree",
            format!("may be at most 16 levels deep with at most 256 nodes; it has {depth} levels and {nodes} nodes"),
        ));
    }
    match (p.rule_type, p.timezone.is_some(), has_time_of_day(&tree)) {
        (RuleType::Threshold, false, _) => {
            return Err(ToolError::invalid(
                "timezone",
                "is required for a threshold rule (it aligns the windows), e.g. UTC",
            ))
        }
        (RuleType::Match, false, true) => {
            return Err(ToolError::invalid(
                "timezone",
                "is required when filter_tree has a time_of_day leaf, e.g. UTC",
            ))
        }
        (RuleType::Match, true, false) => return Err(ToolError::invalid(
            "timezone",
            "only applies to a match rule whose filter_tree has a time_of_day leaf; leave it out",
        )),
        _ => {}
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
            .description("Alert rule on data_source_scope (oltp|snowflake) audit events matching filter_tree. rule_type match: an alert per event; threshold: one per window_type (hourly|daily|weekly|monthly) window reaching threshold events, timezone required. Disabled unless enabled. name, description, severity; email_recipients, email_rate_limit_seconds; comment_required to acknowledge.")
            .handler(create_rule),
        SET.tool("update_dam_rule", "Update DAM rule", Effect::Idempotent)
            .description("Change only the given (>=1) of rule_id's name, description, enabled, severity, email_recipients ([] clears), comment_required, email_rate_limit_seconds. Other settings are fixed: recreate the rule. Returns {before, after}.")
            .require_change()
            .before("/rules/{rule_id}")
            .request::<UpdateRule>(Method::PATCH, DamAlerting, "/rules/{rule_id}"),
        SET.tool("delete_dam_rule", "Delete DAM rule", Effect::Destructive)
            .description("Delete rule_id; it raises no more alerts, its past alerts stay. Returns {before, after}.")
            .before("/rules/{rule_id}")
            .request::<RuleId>(Method::DELETE, DamAlerting, "/rules/{rule_id}"),
        SET.tool("list_dam_alerts", "List DAM alerts", Effect::ReadOnly)
        .in_default()
            .description("Alerts, filtered by rule_id, state, severity.")
            .request::<ListAlerts>(Method::GET, DamAlerting, "/alerts"),
        SET.tool("get_dam_alert", "Get DAM alert", Effect::ReadOnly)
        .in_default()
            .description("alert_id (from list_dam_alerts): rule, severity, state, matched_event or threshold_context (count, window).")
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
            .description("Add comment text to alert_id, e.g. findings; append-only (no edit or delete).")
            .request::<NewComment>(Method::POST, DamAlerting, "/alerts/{alert_id}/comments"),
    ]
    .into_iter()
    .map(untrusted::fenced)
    .collect()
}
