//! Audits and audit reports: searches over sidecar query audits, Snowflake query audits and ALTR
//! system audits (started, then polled for results), and audit report definitions with their
//! generated instances, comments and sign-offs.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use super::args::{JsonOr, OneOrMany};
use super::params::{Cursor, Limit, Name, PageToken};
use super::request::{Endpoint, Placement};
use super::{untrusted, Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::client::{
    path, seg, ApiRequest, Method, Service, Service::AltrNet, Service::Api, Service::AuditReport,
    Service::ScControl,
};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "audits",
    title: "Audits and audit reports",
    description: "Search sidecar, Snowflake query and system audits, and manage audit report definitions, their generated reports, comments and sign-offs.",
    in_default: false,
    tools,
};

/// The longest a search waits for its results.
pub const MAX_WAIT_SECONDS: u64 = 60;

wire_enum! {
    /// Result order.
    pub enum OrderBy { Asc = "asc", Desc = "desc" }
}

wire_enum! {
    /// What results are sorted by.
    pub enum SortBy { EventTime = "event_time", RowsAccessed = "rows_accessed" }
}

wire_enum! {
    /// A system audit category.
    pub enum Category {
        ApiKeys = "API Keys",
        Locks = "Locks",
        Data = "Data",
        Administrators = "Administrators",
        Thresholds = "Thresholds",
        Anomalies = "Anomalies",
        Applications = "Applications",
        UserGroups = "User Groups",
        DataSources = "Data Sources",
        RowAccessPolicy = "Row Access Policy",
        UnifiedAccessPolicy = "Unified Access Policy",
        AccessRequests = "Access Requests",
        AccessManagementPolicy = "Access Management Policy",
        ImpersonationPolicy = "Impersonation Policy",
    }
}

wire_enum! {
    /// The data source type of a report.
    pub enum IntegrationType { Oltp = "oltp", Snowflake = "snowflake" }
}

wire_enum! {
    /// A report file format.
    pub enum Format { Pdf = "pdf", Csv = "csv" }
}

wire_enum! {
    /// A sign-off decision.
    pub enum SignOffAction { Approve = "approve" }
}

/// How long to wait for a search's results (0-60 seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, JsonSchema)]
#[schemars(
    description = "Seconds to wait for the search to finish (0-60, default 0: return the id at once). When it finishes in time the results are returned; otherwise the id, with status RUNNING."
)]
pub struct WaitSeconds(#[schemars(range(min = 0, max = 60))] pub u64);

impl<'de> Deserialize<'de> for WaitSeconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n <= MAX_WAIT_SECONDS => Ok(WaitSeconds(n)),
            _ => Err(serde::de::Error::custom(format!(
                "must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}"
            ))),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchAudits {
    /// Most results (default 10000, at most 100000).
    pub limit: Option<Limit<100000>>,
    /// Results to skip.
    pub offset: Option<u64>,
    /// RFC3339 UTC start time, e.g. 2025-01-01T00:00:00Z.
    pub from_date_time: Option<Name>,
    /// RFC3339 UTC end time.
    pub to_date_time: Option<Name>,
    /// Consuming user names (case-insensitive).
    pub consuming_user: Option<OneOrMany<String>>,
    /// Consuming user emails.
    pub consuming_user_email: Option<OneOrMany<String>>,
    /// Query ids.
    pub query_id: Option<OneOrMany<String>>,
    /// Sidecar ids.
    pub sidecar_id: Option<OneOrMany<String>>,
    /// Sidecar instance ids.
    pub sidecar_instance_id: Option<OneOrMany<String>>,
    /// Table names.
    pub table_name: Option<OneOrMany<String>>,
    /// Schema names.
    pub schema_name: Option<OneOrMany<String>>,
    /// Database names.
    pub database_name: Option<OneOrMany<String>>,
    /// Column names.
    pub column_name: Option<OneOrMany<String>>,
    /// Statement types, e.g. SELECT.
    pub statement_type: Option<OneOrMany<String>>,
    /// Case-insensitive text the SQL statement contains.
    pub statement_text_contains: Option<String>,
    /// asc or desc (default desc).
    pub order_by: Option<OrderBy>,
    /// event_time (default) or rows_accessed.
    pub sort_by: Option<SortBy>,
    /// Seconds to wait for the results (0-60, default 0).
    #[serde(default, skip_serializing)]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// The search_uuid the search returned.
    pub search_uuid: Name,
    /// Most results in this page (at most 250).
    pub limit: Option<Limit<250>>,
    /// The previous page's next_page_token.
    pub next_page_token: Option<PageToken>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchSystem {
    /// The audit category.
    pub category: Category,
    /// Most results (1-100, default 50).
    pub limit: Option<Limit<100>>,
    /// Results to skip.
    pub offset: Option<u64>,
    /// Milliseconds the API itself waits for results (-1 to 1000; -1 returns a token at once).
    pub wait: Option<ApiWait>,
    /// ISO 8601 UTC start time (default 48 h ago; at most a week before `to`).
    #[serde(rename(serialize = "from"))]
    pub from_date_time: Option<Name>,
    /// ISO 8601 UTC end time (default now).
    #[serde(rename(serialize = "to"))]
    pub to_date_time: Option<Name>,
    /// Seconds to wait for the results (0-60, default 0).
    #[serde(default, skip_serializing)]
    pub wait_seconds: WaitSeconds,
}

/// The API-side wait of a system audit search: -1 to 1000 milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(description = "Milliseconds the API waits for results, -1 to 1000.")]
pub struct ApiWait(#[schemars(range(min = -1, max = 1000))] pub i64);

impl<'de> Deserialize<'de> for ApiWait {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = match Value::deserialize(d)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (-1..=1000).contains(&n) => Ok(ApiWait(n)),
            _ => Err(serde::de::Error::custom(
                "must be a whole number from -1 to 1000",
            )),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemToken {
    /// Token from search_system_audits or the previous page.
    pub token: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQueries {
    /// Most results (default 10000, at most 100000).
    pub limit: Option<Limit<100000>>,
    /// Results to skip.
    pub offset: Option<u64>,
    /// RFC3339 UTC start time.
    pub from_date_time: Option<Name>,
    /// RFC3339 UTC end time.
    pub to_date_time: Option<Name>,
    /// Role that ran the query (case-insensitive).
    pub executing_role: Option<Name>,
    /// User that ran the query (case-insensitive).
    pub executing_user: Option<Name>,
    /// Query id.
    pub query_id: Option<Name>,
    /// Policy tag name.
    pub policy_tag_name: Option<Name>,
    /// Policy tag value.
    pub policy_tag_value: Option<Name>,
    /// Database of the masked column.
    pub policy_column_database_name: Option<Name>,
    /// Schema of the masked column.
    pub policy_column_schema_name: Option<Name>,
    /// Table of the masked column.
    pub policy_column_table_name: Option<Name>,
    /// Name of the masked column.
    pub policy_column_name: Option<Name>,
    /// asc or desc (default desc).
    pub order_by: Option<OrderBy>,
    /// event_time (default) or rows_accessed.
    pub sort_by: Option<SortBy>,
    /// Seconds to wait for the results (0-60, default 0).
    #[serde(default, skip_serializing)]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDefinitions {
    /// Most definitions in this page.
    pub limit: Option<Limit<1000>>,
    /// The previous page's cursor.
    pub cursor: Option<Cursor>,
    /// true: only archived definitions; false or omitted: only active ones.
    pub archived: Option<bool>,
}

/// The fields of a report definition (create_report_definition and update_report_definition).
macro_rules! definition {
    ($(#[$m:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($extra)*

            /// Unique display name.
            pub name: Name,
            /// oltp or snowflake.
            pub integration_type: IntegrationType,
            /// What the report is for.
            pub description: Option<String>,
            /// Complete calendar days each report covers (not counting the trigger day).
            pub lookback_days: Option<u32>,
            /// IANA time zone of the report window, e.g. America/New_York.
            pub timezone: Option<Name>,
            /// 6-field AWS cron expression for scheduled reports, e.g. `0 9 ? * MON *`.
            pub schedule_cron: Option<Name>,
            /// Whether the schedule is active.
            pub schedule_enabled: Option<bool>,
            /// IANA time zone the schedule runs in.
            pub schedule_timezone: Option<Name>,
            /// Delivery {"channels": [{"type": "email", "enabled": true, "recipients": [...]}]}, or its JSON text.
            pub delivery: Option<JsonOr<Map<String, Value>>>,
            /// Filters {"filter_groups": [{"filters": [{"field", "pattern": {"match_type", "value"}}]}]}, or its JSON text.
            pub filters: Option<JsonOr<Map<String, Value>>>,
        }
    };
}

definition! {
    /// A new report definition.
    pub struct Definition {}
}

definition! {
    /// A report definition's replacement.
    pub struct UpdateDefinition {
        /// Report definition id.
        pub definition_id: Name,
        /// Allow the update to remove the existing delivery, filters or schedule it leaves out (default false: refused, listing them).
        #[serde(default)]
        pub replace_all: bool,
    }
}

impl UpdateDefinition {
    fn definition(self) -> Definition {
        Definition {
            name: self.name,
            integration_type: self.integration_type,
            description: self.description,
            lookback_days: self.lookback_days,
            timezone: self.timezone,
            schedule_cron: self.schedule_cron,
            schedule_enabled: self.schedule_enabled,
            schedule_timezone: self.schedule_timezone,
            delivery: self.delivery,
            filters: self.filters,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionId {
    /// Report definition id (from list_report_definitions).
    pub definition_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInstances {
    /// Report definition id.
    pub definition_id: Name,
    /// Most items in this page.
    pub limit: Option<Limit<1000>>,
    /// The previous page's cursor.
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceId {
    /// Report definition id.
    pub definition_id: Name,
    /// Report instance id (from list_report_instances).
    pub instance_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Download {
    /// Report definition id.
    pub definition_id: Name,
    /// Report instance id (from list_report_instances).
    pub instance_id: Name,
    /// pdf (default) or csv.
    #[serde(default = "pdf")]
    pub format: Format,
}

fn pdf() -> Format {
    Format::Pdf
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListOfInstance {
    /// Report definition id.
    pub definition_id: Name,
    /// Report instance id.
    pub instance_id: Name,
    /// Most items in this page.
    pub limit: Option<Limit<1000>>,
    /// The previous page's cursor.
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Report definition id.
    pub definition_id: Name,
    /// Report instance id.
    pub instance_id: Name,
    /// The comment.
    pub text: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentId {
    /// Report definition id.
    pub definition_id: Name,
    /// Report instance id.
    pub instance_id: Name,
    /// Comment id (from list_report_comments).
    pub comment_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    /// Report definition id.
    pub definition_id: Name,
    /// Report instance id.
    pub instance_id: Name,
    /// approve (default).
    #[serde(default = "approve")]
    pub action: SignOffAction,
    /// Attest that the report is accurate (default true).
    #[serde(default = "yes")]
    pub attestation: bool,
    /// Comments recorded with the sign-off.
    pub comments: Option<String>,
}

fn approve() -> SignOffAction {
    SignOffAction::Approve
}

fn yes() -> bool {
    true
}

/// Where a search's answer keeps the id to poll with.
const SEARCH_ID: &[&str] = &[
    "/search_uuid",
    "/data/search_uuid",
    "/searchUuid",
    "/data/searchUuid",
];
const SYSTEM_TOKEN: &[&str] = &["/token", "/data/token"];

fn text_at(body: &Value, pointers: &[&str]) -> Option<String> {
    pointers
        .iter()
        .find_map(|p| body.pointer(p))
        .and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// Whether a results answer says the search is still going (HTTP 202, or a RUNNING-like status).
fn still_running(status: u16, body: &Value) -> bool {
    if status == 202 {
        return true;
    }
    let state = ["/status", "/data/status", "/state", "/data/state"]
        .iter()
        .find_map(|p| body.pointer(p).and_then(Value::as_str))
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        state.as_str(),
        "RUNNING" | "PENDING" | "QUEUED" | "IN_PROGRESS" | "STARTED" | "SUBMITTED"
    )
}

/// Poll `results` until the search is done or `wait` has passed. Sleeps briefly at first
/// (a quarter second, then doubling up to one second), never past the deadline.
async fn poll(
    ctx: &Ctx,
    id_name: &str,
    id: String,
    results: ApiRequest,
    wait: u64,
    then: &str,
) -> Result<Value, ToolError> {
    let total = wait as f64;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(wait);
    let mut pause = Duration::from_millis(250);
    let mut polls = 0u32;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause.min(deadline - now)) => {}
            _ = ctx.cancel.cancelled() => break,
        }
        pause = (pause * 2).min(Duration::from_secs(1));
        polls += 1;
        let (status, body) = ctx
            .client
            .send_with_status(&ctx.prepare(results.clone()))
            .await?;
        if !still_running(status, &body) {
            ctx.progress(total, Some(total), "search finished").await;
            return Ok(json!({id_name: id, "status": "COMPLETED", "results": body}));
        }
        let waited = started.elapsed().as_secs_f64().min(total);
        ctx.progress(
            waited,
            Some(total),
            &format!("search still running after {polls} poll(s)"),
        )
        .await;
    }
    Ok(json!({
        id_name: id,
        "status": "RUNNING",
        "message": format!("The search is still running after {wait} s; call {then} with this {id_name} later."),
    }))
}

/// Build the start request of a search from its parameters (everything in the query).
fn start_request<P: Serialize>(
    p: &P,
    service: Service,
    template: &'static str,
) -> Result<ApiRequest, ToolError> {
    let endpoint = Endpoint {
        placement: Placement::Query,
        ..Endpoint::new(Method::POST, service, template)
    };
    let wire = serde_json::to_value(p)
        .map_err(|e| ToolError::invalid("arguments", format!("cannot be sent: {e}")))?;
    endpoint.build(wire)
}

async fn search_audits(ctx: Ctx, p: SearchAudits) -> Result<Value, ToolError> {
    let wait = p.wait_seconds.0;
    let started = ctx
        .send(start_request(&p, ScControl, "/v1/audits")?)
        .await?;
    let Some(id) = text_at(&started, SEARCH_ID).filter(|_| wait > 0) else {
        return Ok(started);
    };
    let results = ApiRequest::get(
        ScControl,
        path("/v1/audits/{}", &[seg("search_uuid", &id)])?,
    );
    poll(&ctx, "search_uuid", id, results, wait, "get_audit_results").await
}

async fn search_query_audits(ctx: Ctx, p: SearchQueries) -> Result<Value, ToolError> {
    let wait = p.wait_seconds.0;
    let started = ctx
        .send(start_request(&p, Api, "/v1/query-audits/search")?)
        .await?;
    let Some(id) = text_at(&started, SEARCH_ID).filter(|_| wait > 0) else {
        return Ok(started);
    };
    let results = ApiRequest::get(
        Api,
        path("/v1/query-audits/results/{}", &[seg("search_uuid", &id)])?,
    );
    poll(
        &ctx,
        "search_uuid",
        id,
        results,
        wait,
        "get_query_audit_results",
    )
    .await
}

async fn search_system_audits(ctx: Ctx, p: SearchSystem) -> Result<Value, ToolError> {
    let wait = p.wait_seconds.0;
    let req = start_request(&p, AltrNet, "/api/systemaudits/query/start")?;
    let (status, started) = ctx.send_raw(&ctx.prepare(req)).await?;
    if wait == 0 || !still_running(status, &started) {
        return Ok(started);
    }
    let Some(token) = text_at(&started, SYSTEM_TOKEN) else {
        return Ok(started);
    };
    let results = ApiRequest::get(
        AltrNet,
        path("/api/systemaudits/query/result/{}", &[seg("token", &token)])?,
    );
    poll(
        &ctx,
        "token",
        token,
        results,
        wait,
        "get_system_audit_results",
    )
    .await
}

/// Check a 6-field AWS cron expression's shape.
fn check_cron(cron: &str) -> Result<(), ToolError> {
    let fields = cron.split_whitespace().count();
    if fields != 6 {
        return Err(ToolError::invalid(
            "schedule_cron",
            format!("must be a 6-field AWS cron expression (minutes hours day-of-month month day-of-week year), e.g. `0 9 ? * MON *`; got {fields} field(s)"),
        ));
    }
    Ok(())
}

/// The request body of a report definition.
fn definition_body(d: Definition) -> Result<Map<String, Value>, ToolError> {
    let mut body = Map::new();
    body.insert("name".into(), json!(d.name));
    body.insert("integration_type".into(), json!(d.integration_type));
    if let Some(desc) = d.description {
        body.insert("description".into(), json!(desc));
    }
    if d.lookback_days.is_some() || d.timezone.is_some() {
        let mut window = Map::new();
        if let Some(days) = d.lookback_days {
            window.insert("lookback_days".into(), json!(days));
        }
        if let Some(tz) = d.timezone {
            window.insert("timezone".into(), json!(tz));
        }
        body.insert("report_window".into(), Value::Object(window));
    }
    if d.schedule_cron.is_some() || d.schedule_enabled.is_some() || d.schedule_timezone.is_some() {
        let mut schedule = Map::new();
        if let Some(cron) = d.schedule_cron {
            check_cron(cron.as_str())?;
            schedule.insert("cron".into(), json!(cron));
        }
        if let Some(enabled) = d.schedule_enabled {
            schedule.insert("enabled".into(), json!(enabled));
        }
        if let Some(tz) = d.schedule_timezone {
            schedule.insert("timezone".into(), json!(tz));
        }
        body.insert("schedule".into(), Value::Object(schedule));
    }
    if let Some(delivery) = d.delivery {
        body.insert("delivery".into(), Value::Object(delivery.0));
    }
    if let Some(filters) = d.filters {
        body.insert("filters".into(), Value::Object(filters.0));
    }
    Ok(body)
}

const DEFINITIONS: &str = "/audit-reports/definitions/";

async fn create_definition(ctx: Ctx, d: Definition) -> Result<Value, ToolError> {
    let body = definition_body(d)?;
    ctx.send(ApiRequest::post(AuditReport, DEFINITIONS).json(Value::Object(body)))
        .await
}

/// Whether a definition member holds something (not absent, null, {} or []).
fn is_set(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

async fn update_definition(ctx: Ctx, p: UpdateDefinition) -> Result<Value, ToolError> {
    let at = path(
        "/audit-reports/definitions/{}",
        &[seg("definition_id", &p.definition_id)],
    )?;
    let replace_all = p.replace_all;
    let body = definition_body(p.definition())?;
    if !replace_all {
        let current = ctx.send(ApiRequest::get(AuditReport, at.clone())).await?;
        let current = current
            .get("data")
            .filter(|d| d.is_object())
            .unwrap_or(&current);
        let mut removed = Map::new();
        for field in ["delivery", "filters", "schedule"] {
            if is_set(current.get(field)) && !is_set(body.get(field)) {
                if let Some(v) = current.get(field) {
                    removed.insert(field.into(), v.clone());
                }
            }
        }
        if !removed.is_empty() {
            let names: Vec<&str> = removed.keys().map(String::as_str).collect();
            return Err(ToolError::Failed {
                code: "would_remove_settings",
                message: format!(
                    "This update replaces the whole definition and would remove its existing {}; nothing was changed. Give them again, or pass replace_all: true to remove them.",
                    names.join(", ")
                ),
                details: Some(json!({"removed": removed})),
            });
        }
    }
    ctx.send(ApiRequest::put(AuditReport, at).json(Value::Object(body)))
        .await
}

const INSTANCE: &str = "/audit-reports/definitions/{definition_id}/instances/{instance_id}";

/// The toolset's tools; their answers fence people's free text (see [`untrusted`]).
pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("search_audits", "Search sidecar audits", Effect::Additive)
            .description("Start a search of sidecar query audits (all filters ANDed); returns a search_uuid for get_audit_results, or with wait_seconds waits for the results. Use search_query_audits for Snowflake masking audits.")
            .handler(search_audits),
        SET.tool("get_audit_results", "Get sidecar audit results", Effect::ReadOnly)
            .description("Get a page of results of a search_audits search; a 202 answer means it is still running. Pass next_page_token for the next page.")
            .request::<Results>(Method::GET, ScControl, "/v1/audits/{search_uuid}"),
        SET.tool("search_system_audits", "Search system audits", Effect::Additive)
            .description("Search ALTR platform audit logs of one category (at most one week); returns results or a token for get_system_audit_results. wait_seconds waits for the results.")
            .handler(search_system_audits),
        SET.tool("get_system_audit_results", "Get system audit results", Effect::ReadOnly)
            .description("Get results of a search_system_audits search by token; while moreData is true, call again with the new token.")
            .request::<SystemToken>(Method::GET, AltrNet, "/api/systemaudits/query/result/{token}"),
        SET.tool("search_query_audits", "Search Snowflake query audits", Effect::Additive)
            .description("Start a search of Snowflake query audits (tag and column masking; all filters ANDed); returns a search_uuid for get_query_audit_results, or with wait_seconds waits for the results.")
            .handler(search_query_audits),
        SET.tool("get_query_audit_results", "Get Snowflake query audit results", Effect::ReadOnly)
            .description("Get a page of results of a search_query_audits search; a 202 answer means it is still running. Pass next_page_token for the next page.")
            .request::<Results>(Method::GET, Api, "/v1/query-audits/results/{search_uuid}"),
        SET.tool("list_report_definitions", "List audit report definitions", Effect::ReadOnly)
            .description("List audit report definitions, newest first, active or archived, one page at a time (pass the previous page's cursor).")
            .request::<ListDefinitions>(Method::GET, AuditReport, "/audit-reports/definitions/"),
        SET.tool("create_report_definition", "Create an audit report definition", Effect::Additive)
            .description("Define an audit report: data source type, window, filters, schedule (6-field AWS cron) and delivery. Then trigger_report_definition runs it on demand.")
            .handler(create_definition),
        SET.tool("get_report_definition", "Get an audit report definition", Effect::ReadOnly)
            .description("Get one audit report definition with its window, filters, schedule and delivery.")
            .request::<DefinitionId>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}"),
        SET.tool("update_report_definition", "Replace an audit report definition", Effect::Idempotent)
            .description("Replace an audit report definition entirely (full replacement). Reads it first and refuses to drop its existing delivery, filters or schedule unless replace_all is true.")
            .handler(update_definition),
        SET.tool("archive_report_definition", "Archive an audit report definition", Effect::Destructive)
            .description("Archive (soft-delete) an audit report definition: it stops running and leaves normal listings; restore_report_definition brings it back.")
            .request::<DefinitionId>(Method::DELETE, AuditReport, "/audit-reports/definitions/{definition_id}"),
        SET.tool("restore_report_definition", "Restore an audit report definition", Effect::Idempotent)
            .description("Restore an archived audit report definition.")
            .request::<DefinitionId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/restore"),
        SET.tool("trigger_report_definition", "Run an audit report now", Effect::Additive)
            .description("Generate a report instance of a definition now, outside its schedule (at most once per 5 minutes). Then list_report_instances.")
            .request::<DefinitionId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/trigger"),
        SET.tool("list_report_instances", "List generated reports", Effect::ReadOnly)
            .description("List the generated reports (instances) of a definition, newest first, one page at a time.")
            .request::<ListInstances>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/"),
        SET.tool("get_report_instance", "Get a generated report", Effect::ReadOnly)
            .description("Get one generated report (instance): its window, status and sign-off state.")
            .request::<InstanceId>(Method::GET, AuditReport, INSTANCE),
        SET.tool("get_report_instance_download_url", "Get a report download URL", Effect::ReadOnly)
            .description("Get a pre-signed URL to download a generated report as pdf (default) or csv.")
            .request::<Download>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/download"),
        SET.tool("list_report_comments", "List report comments", Effect::ReadOnly)
            .description("List the comments on a generated report, pinned first, one page at a time.")
            .request::<ListOfInstance>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/"),
        SET.tool("create_report_comment", "Comment on a report", Effect::Additive)
            .description("Add a comment to a generated report (instance), e.g. a finding to review.")
            .request::<NewComment>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/"),
        SET.tool("pin_report_comment", "Pin a report comment", Effect::Idempotent)
            .description("Pin a comment on a generated report (one pinned comment per report).")
            .request::<CommentId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/{comment_id}/pin"),
        SET.tool("unpin_report_comment", "Unpin a report comment", Effect::Idempotent)
            .description("Unpin the pinned comment of a generated report.")
            .request::<CommentId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/{comment_id}/unpin"),
        SET.tool("get_report_sign_off", "Get my report sign-off", Effect::ReadOnly)
            .description("Get the current user's sign-off on a generated report (empty if not signed off yet).")
            .request::<InstanceId>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/sign_off"),
        SET.tool("create_report_sign_off", "Sign off a report", Effect::Additive)
            .description("Record the current user's sign-off (approve, with attestation) on a generated report, with optional comments.")
            .request::<SignOff>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/sign_off"),
        SET.tool("list_report_sign_offs", "List report sign-offs", Effect::ReadOnly)
            .description("List every user's sign-offs on a generated report, one page at a time.")
            .request::<ListOfInstance>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/sign_offs"),
    ]
    .into_iter()
    .map(untrusted::fenced)
    .collect()
}
