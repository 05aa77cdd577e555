//! Audits and audit reports: searches over sidecar query audits, Snowflake query audits and ALTR
//! system audits (started, then polled for results), and audit report definitions with their
//! generated instances, comments and sign-offs.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::client::{
    path, seg, ApiRequest, Method, Service, Service::AltrNet, Service::Api, Service::AuditReport,
    Service::ScControl,
};
use crate::registry::args::{JsonOr, OneOrMany};
use crate::registry::params::{
    check_window, resolved_window, Cursor, Limit, Name, PageToken, WaitSeconds, When,
};
use crate::registry::request::{Endpoint, Placement};
use crate::registry::{untrusted, Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "audits",
    title: "Audits and audit reports",
    description: "Search sidecar, Snowflake query and system audits, and manage audit report definitions, their generated reports, comments and sign-offs.",
    in_default: false,
    tools,
};

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

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchAudits {
    pub limit: Option<Limit<100000>>,
    #[schemars(extend("x-doc" = "How many matching results to skip, for paging through a search; not sent when omitted."))]
    pub offset: Option<u64>,
    #[schemars(extend("x-doc" = "Start of the period to search: RFC 3339 in UTC, e.g. 2024-05-01T00:00:00Z, or relative to now (-24h, -7d, -90m); not sent when omitted."))]
    pub from_date_time: Option<When>,
    #[schemars(extend("x-doc" = "End of the period to search: RFC 3339 in UTC, or relative to now (now, -1h); not sent when omitted."))]
    pub to_date_time: Option<When>,
    #[schemars(extend("x-doc" = "The database user(s) that ran the queries: one name or a list (sent as repeated query keys)."))]
    pub consuming_user: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The email address(es) of the consuming users: one or a list (sent as repeated query keys)."))]
    pub consuming_user_email: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The id(s) of particular queries: one or a list (sent as repeated query keys)."))]
    pub query_id: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The sidecar(s) that handled the queries, by id from list_sc_sidecars: one or a list."))]
    pub sidecar_id: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The sidecar instance(s) that handled the queries, by id from get_sidecar_instances: one or a list."))]
    pub sidecar_instance_id: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The table name(s) the queries touched: one or a list (sent as repeated query keys)."))]
    pub table_name: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The schema name(s) the queries touched: one or a list (sent as repeated query keys)."))]
    pub schema_name: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The database name(s) the queries touched: one or a list (sent as repeated query keys)."))]
    pub database_name: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The column name(s) the queries touched: one or a list (sent as repeated query keys)."))]
    pub column_name: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "The SQL statement type(s) to match: one or a list (sent as repeated query keys); the accepted values are not documented."))]
    pub statement_type: Option<OneOrMany<String>>,
    #[schemars(extend("x-doc" = "Text the SQL statement must contain; sent in the query string (and redacted from logs)."))]
    pub statement_text_contains: Option<String>,
    #[schemars(extend("x-doc" = "Result order: asc or desc. Not sent when omitted."))]
    pub order_by: Option<OrderBy>,
    #[schemars(extend("x-doc" = "What results are sorted by: event_time or rows_accessed. Not sent when omitted."))]
    pub sort_by: Option<SortBy>,
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the search to finish, polling get_audit_results and reporting progress; it then answers with the results, or with the search_uuid if the search is still running. Default 0: the search's first answer comes back at once. Not sent to ALTR."))]
    #[serde(default, skip_serializing)]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Results {
    #[schemars(extend("x-doc" = "The search's id: from search_audits for get_audit_results, from search_query_audits for get_query_audit_results; it stays valid for 30 days."))]
    pub search_uuid: Name,
    pub limit: Option<Limit<250>>,
    #[schemars(extend("x-doc" = "For the next page of results: the next_page_token the previous page returned. Omit for the first page."))]
    pub next_page_token: Option<PageToken>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchSystem {
    #[schemars(extend("x-doc" = "The audit category to search, one of: API Keys, Locks, Data, Administrators, Thresholds, Anomalies, Applications, User Groups, Data Sources, Row Access Policy, Unified Access Policy, Access Requests, Access Management Policy, Impersonation Policy."))]
    pub category: Category,
    pub limit: Option<Limit<100>>,
    #[schemars(extend("x-doc" = "How many matching entries to skip, for paging; not sent when omitted."))]
    pub offset: Option<u64>,
    #[schemars(extend("x-doc" = "How long ALTR itself waits for results before answering, in milliseconds, -1 to 1000; -1 answers at once with a token. Not sent when omitted (ALTR then waits 100 ms)."))]
    pub wait: Option<ApiWait>,
    #[serde(rename(serialize = "from"))]
    #[schemars(extend("x-doc" = "Start of the period: ISO 8601 in UTC, or relative to now (-24h, -7d) (sent as from). When the period is omitted ALTR searches the last 48 hours; a period spans at most one week."))]
    pub from_date_time: Option<When>,
    #[serde(rename(serialize = "to"))]
    #[schemars(extend("x-doc" = "End of the period: ISO 8601 in UTC, or relative to now (sent as to); at most one week after from_date_time."))]
    pub to_date_time: Option<When>,
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the search to finish, polling get_system_audit_results and reporting progress; it then answers with the results, or with the token if the search is still running. Default 0: the search's first answer comes back at once. Not sent to ALTR."))]
    #[serde(default, skip_serializing)]
    pub wait_seconds: WaitSeconds,
}

// The API-side wait of a system audit search: -1 to 1000 milliseconds (documented on its field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
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
    #[schemars(extend("x-doc" = "The token from search_system_audits, or the new token the previous get_system_audit_results answer returned while moreData was true."))]
    pub token: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQueries {
    pub limit: Option<Limit<10000>>,
    #[schemars(extend("x-doc" = "How many matching results to skip, for paging through a search; not sent when omitted."))]
    pub offset: Option<u64>,
    #[schemars(extend("x-doc" = "Start of the period to search: RFC 3339 in UTC, e.g. 2024-05-01T00:00:00Z, or relative to now (-24h, -7d, -90m); not sent when omitted."))]
    pub from_date_time: Option<When>,
    #[schemars(extend("x-doc" = "End of the period to search: RFC 3339 in UTC, or relative to now (now, -1h); must not be in the future. Not sent when omitted."))]
    pub to_date_time: Option<When>,
    #[schemars(extend("x-doc" = "Only queries run under this Snowflake role."))]
    pub executing_role: Option<Name>,
    #[schemars(extend("x-doc" = "Only queries run by this Snowflake user."))]
    pub executing_user: Option<Name>,
    #[schemars(extend("x-doc" = "Only the query with this Snowflake query id."))]
    pub query_id: Option<Name>,
    #[schemars(extend("x-doc" = "Only queries a tag policy applied to, by the tag's name."))]
    pub policy_tag_name: Option<Name>,
    #[schemars(extend("x-doc" = "Only queries a tag policy applied to, by the tag value."))]
    pub policy_tag_value: Option<Name>,
    #[schemars(extend("x-doc" = "Only queries where a policy applied to a column in this database."))]
    pub policy_column_database_name: Option<Name>,
    #[schemars(extend("x-doc" = "Only queries where a policy applied to a column in this schema."))]
    pub policy_column_schema_name: Option<Name>,
    #[schemars(extend("x-doc" = "Only queries where a policy applied to a column in this table."))]
    pub policy_column_table_name: Option<Name>,
    #[schemars(extend("x-doc" = "Only queries where a policy applied to a column of this name."))]
    pub policy_column_name: Option<Name>,
    #[schemars(extend("x-doc" = "Result order: asc or desc. Not sent when omitted."))]
    pub order_by: Option<OrderBy>,
    #[schemars(extend("x-doc" = "What results are sorted by: event_time or rows_accessed. Not sent when omitted."))]
    pub sort_by: Option<SortBy>,
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the search to finish, polling get_query_audit_results and reporting progress; it then answers with the results, or with the search_uuid if the search is still running. Default 0: the search's first answer comes back at once. Not sent to ALTR."))]
    #[serde(default, skip_serializing)]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDefinitions {
    pub limit: Option<Limit<100>>,
    pub cursor: Option<Cursor>,
    #[schemars(extend("x-doc" = "true lists archived definitions instead of active ones; not sent when omitted."))]
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

            #[schemars(extend("x-doc" = "The report definition's name."))]
            pub name: Name,
            #[schemars(extend("x-doc" = "The kind of data source the report covers: oltp or snowflake."))]
            pub integration_type: IntegrationType,
            #[schemars(extend("x-doc" = "Free text describing the report; left out of the definition when omitted."))]
            pub description: Option<String>,
            #[schemars(extend("x-doc" = "How many full days before the day the report runs it covers, a whole number of 0 or more; sent in report_window. Left out when omitted."))]
            pub lookback_days: Option<u32>,
            #[schemars(extend("x-doc" = "The IANA time zone (e.g. America/Chicago) the report window's days are counted in; ALTR requires it. Sent in report_window; left out when omitted."))]
            pub timezone: Option<Name>,
            #[schemars(extend("x-doc" = "When the report runs, as a 6-field AWS cron expression (minutes hours day-of-month month day-of-week year), with ? in day-of-month or day-of-week (not both) when the other is given, e.g. 0 9 ? * MON * (Mondays 9:00), 30 8 ? * MON-FRI * (weekdays 8:30), 0 0 1 * ? * (the 1st at midnight), 0 * * * ? * (hourly); read in schedule_timezone; sent in schedule. Another field count is refused."))]
            pub schedule_cron: Option<Name>,
            #[schemars(extend("x-doc" = "true runs the report on its schedule, false keeps the schedule without running it; sent in schedule."))]
            pub schedule_enabled: Option<bool>,
            #[schemars(extend("x-doc" = "The IANA time zone schedule_cron is read in, e.g. America/Chicago; sent in schedule."))]
            pub schedule_timezone: Option<Name>,
            #[schemars(extend("x-doc" = "Where finished reports go, e.g. {\"channels\": [{\"type\": \"email\", \"enabled\": true, \"recipients\": [...]}]}; an object or its JSON text. Omitted: no delivery (update_report_definition refuses to drop an existing one unless replace_all)."))]
            pub delivery: Option<JsonOr<Map<String, Value>>>,
            #[schemars(extend("x-doc" = "Which audit events the report includes: {\"filter_groups\": [{\"filters\": [{\"field\": \"repo_name\", \"mode\": \"include\", \"patterns\": [{\"match_type\": \"exact\", \"value\": \"mydb\"}]}]}]}; an object or its JSON text. mode (include or exclude) is required on each filter; match_type is exact, prefix, suffix or contains. Fields for oltp: database_name, table_name, schema_name, column_name, statement_type, consuming_user, event_source, event_name, repo_user, repo_host, repo_name, repo_type, application_name, client_host, connection_id, statement_text, policy_blocked, execution_success, row_count; for snowflake: username, current_role, ip_address, client, query_type, warehouse, warehouse_size. Omitted: no filters (update_report_definition refuses to drop existing ones unless replace_all)."))]
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
        #[schemars(extend("x-doc" = "The id of the report definition to replace, as list_report_definitions returns it."))]
        pub definition_id: Name,
        #[serde(default)]
        #[schemars(extend("x-doc" = "Default false: the definition is read first and the update is refused if it would remove an existing delivery, filters or schedule not given again. true replaces without that check."))]
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
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it (archived ones with archived=true)."))]
    pub definition_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInstances {
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it."))]
    pub definition_id: Name,
    pub limit: Option<Limit<100>>,
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceId {
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it."))]
    pub definition_id: Name,
    #[schemars(extend("x-doc" = "The generated report's id, as list_report_instances returns it for that definition."))]
    pub instance_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Download {
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it."))]
    pub definition_id: Name,
    #[schemars(extend("x-doc" = "The generated report's id, as list_report_instances returns it for that definition."))]
    pub instance_id: Name,
    #[serde(default = "pdf")]
    #[schemars(extend("x-doc" = "The file format of the download: pdf (the default) or csv. Always sent."))]
    pub format: Format,
}

fn pdf() -> Format {
    Format::Pdf
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListOfInstance {
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it."))]
    pub definition_id: Name,
    #[schemars(extend("x-doc" = "The generated report's id, as list_report_instances returns it for that definition."))]
    pub instance_id: Name,
    pub limit: Option<Limit<100>>,
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it."))]
    pub definition_id: Name,
    #[schemars(extend("x-doc" = "The generated report's id, as list_report_instances returns it for that definition."))]
    pub instance_id: Name,
    #[schemars(extend("x-doc" = "The comment's text, e.g. a finding; must not be empty."))]
    pub text: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentId {
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it."))]
    pub definition_id: Name,
    #[schemars(extend("x-doc" = "The generated report's id, as list_report_instances returns it for that definition."))]
    pub instance_id: Name,
    #[schemars(extend("x-doc" = "The comment's id, as list_report_comments returns it for that report."))]
    pub comment_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    #[schemars(extend("x-doc" = "The report definition's id, as list_report_definitions returns it."))]
    pub definition_id: Name,
    #[schemars(extend("x-doc" = "The generated report's id, as list_report_instances returns it for that definition."))]
    pub instance_id: Name,
    #[serde(default = "approve")]
    #[schemars(extend("x-doc" = "The sign-off decision: approve, the only value and the default."))]
    pub action: SignOffAction,
    #[serde(default = "yes")]
    #[schemars(extend("x-doc" = "Whether the signer attests that the report is accurate; default true."))]
    pub attestation: bool,
    #[schemars(extend("x-doc" = "Optional remarks kept with the sign-off; not sent when omitted."))]
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
    let (from, to) = (p.from_date_time.clone(), p.to_date_time.clone());
    check_window(from.as_ref(), to.as_ref(), crate::clock::now_secs())?;
    let result = search_audits_run(ctx, p).await?;
    Ok(with_window(result, from.as_ref(), to.as_ref()))
}

async fn search_audits_run(ctx: Ctx, p: SearchAudits) -> Result<Value, ToolError> {
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
    let (from, to) = (p.from_date_time.clone(), p.to_date_time.clone());
    check_window(from.as_ref(), to.as_ref(), crate::clock::now_secs())?;
    let result = search_query_audits_run(ctx, p).await?;
    Ok(with_window(result, from.as_ref(), to.as_ref()))
}

async fn search_query_audits_run(ctx: Ctx, p: SearchQueries) -> Result<Value, ToolError> {
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
    let (from, to) = (p.from_date_time.clone(), p.to_date_time.clone());
    check_window(from.as_ref(), to.as_ref(), crate::clock::now_secs())?;
    let result = search_system_audits_run(ctx, p).await?;
    Ok(with_window(result, from.as_ref(), to.as_ref()))
}

async fn search_system_audits_run(ctx: Ctx, p: SearchSystem) -> Result<Value, ToolError> {
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

/// A search's answer, with the absolute window it used when either end was relative to now.
fn with_window(mut result: Value, from: Option<&When>, to: Option<&When>) -> Value {
    if let (Some(window), Some(o)) = (resolved_window(from, to), result.as_object_mut()) {
        o.insert("window".into(), window);
    }
    result
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
        SET.tool("search_audits", "Search sidecar audits", Effect::ReadOnly)
        .in_default()
            .description("Start a sidecar audit search. ANDed filters: from_date_time, to_date_time (RFC3339 UTC), consuming_user, consuming_user_email, query_id, sidecar_id, sidecar_instance_id, database_name, schema_name, table_name, column_name, statement_type, statement_text_contains; offset, sort_by, order_by. wait_seconds waits; else poll get_audit_results.")
            .handler(search_audits),
        SET.tool("get_audit_results", "Sidecar audit results", Effect::ReadOnly)
        .in_default()
            .description("Page of search_audits results by search_uuid (202: still running); next_page_token for more.")
            .request::<Results>(Method::GET, ScControl, "/v1/audits/{search_uuid}"),
        SET.tool("search_system_audits", "Search system audits", Effect::ReadOnly)
            .description("Search ALTR platform audit logs of one category; from_date_time, to_date_time ISO 8601 UTC (default last 48 h, span <= 1 week); offset; wait: API-side ms (-1: token at once). wait_seconds waits; else poll get_system_audit_results.")
            .handler(search_system_audits),
        SET.tool("get_system_audit_results", "System audit results", Effect::ReadOnly)
            .description("search_system_audits results by token; while moreData is true, call again with the new token.")
            .request::<SystemToken>(Method::GET, AltrNet, "/api/systemaudits/query/result/{token}"),
        SET.tool("search_query_audits", "Search Snowflake audits", Effect::ReadOnly)
        .in_default()
            .description("Start a Snowflake masking audit search. ANDed filters: from_date_time, to_date_time (RFC3339 UTC, not future), executing_role, executing_user, query_id, policy_tag_name, policy_tag_value, policy_column_database_name, policy_column_schema_name, policy_column_table_name, policy_column_name; offset, sort_by, order_by. wait_seconds waits; else poll get_query_audit_results.")
            .handler(search_query_audits),
        SET.tool("get_query_audit_results", "Snowflake audit results", Effect::ReadOnly)
        .in_default()
            .description("Page of search_query_audits results by search_uuid (202: still running); next_page_token for more.")
            .request::<Results>(Method::GET, Api, "/v1/query-audits/results/{search_uuid}"),
        SET.tool("list_report_definitions", "List report definitions", Effect::ReadOnly)
            .description("Audit report definitions, newest first; archived=true: archived ones instead.")
            .request::<ListDefinitions>(Method::GET, AuditReport, "/audit-reports/definitions/"),
        SET.tool("create_report_definition", "Create report definition", Effect::Additive)
            .description("Define an audit report: name, integration_type, description; lookback_days (full days before trigger day) in timezone (required); schedule_cron (6-field AWS cron, ? in day-of-month or day-of-week, e.g. `0 9 ? * MON *`), schedule_enabled, schedule_timezone (IANA zones); delivery {channels:[{type:email,enabled,recipients}]}; filters {filter_groups:[{filters:[{field,mode:include|exclude,patterns:[{match_type:exact|prefix|suffix|contains,value}]}]}]}.")
            .handler(create_definition),
        SET.tool("get_report_definition", "Get report definition", Effect::ReadOnly)
            .description("definition_id (from list_report_definitions): window, filters, schedule, delivery.")
            .request::<DefinitionId>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}"),
        SET.tool("update_report_definition", "Replace report definition", Effect::Idempotent)
            .description("Replace definition_id whole; fields as create_report_definition (name, integration_type, description, lookback_days, timezone, schedule_cron, schedule_enabled, schedule_timezone). Refuses to drop existing delivery, filters or schedule unless replace_all.")
            .handler(update_definition),
        SET.tool("archive_report_definition", "Archive report definition", Effect::Destructive)
            .description("Soft-delete definition_id: no more runs, hidden from listings; restore_report_definition undoes.")
            .request::<DefinitionId>(Method::DELETE, AuditReport, "/audit-reports/definitions/{definition_id}"),
        SET.tool("restore_report_definition", "Restore report definition", Effect::Idempotent)
            .description("Restore archived definition_id (list_report_definitions archived=true).")
            .request::<DefinitionId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/restore"),
        SET.tool("trigger_report_definition", "Run report now", Effect::Additive)
            .description("Generate a report of definition_id now (at most once per 5 min); see list_report_instances.")
            .request::<DefinitionId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/trigger"),
        SET.tool("list_report_instances", "List generated reports", Effect::ReadOnly)
            .description("Generated reports (instance_id) of definition_id, newest first.")
            .request::<ListInstances>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/"),
        SET.tool("get_report_instance", "Get generated report", Effect::ReadOnly)
            .description("Window, status and sign-off state of report (definition_id, instance_id).")
            .request::<InstanceId>(Method::GET, AuditReport, INSTANCE),
        SET.tool("get_report_instance_download_url", "Report download URL", Effect::ReadOnly)
            .description("Pre-signed URL of report (definition_id, instance_id) as format.")
            .request::<Download>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/download"),
        SET.tool("list_report_comments", "List report comments", Effect::ReadOnly)
            .description("Comments on report (definition_id, instance_id), pinned first.")
            .request::<ListOfInstance>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/"),
        SET.tool("create_report_comment", "Comment on report", Effect::Additive)
            .description("Add comment text to report (definition_id, instance_id), e.g. a finding.")
            .request::<NewComment>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/"),
        SET.tool("pin_report_comment", "Pin report comment", Effect::Idempotent)
            .description("Pin comment_id (list_report_comments) on report (definition_id, instance_id); one pin per report.")
            .request::<CommentId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/{comment_id}/pin"),
        SET.tool("unpin_report_comment", "Unpin report comment", Effect::Idempotent)
            .description("Unpin comment_id of report (definition_id, instance_id).")
            .request::<CommentId>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/comments/{comment_id}/unpin"),
        SET.tool("get_report_sign_off", "Get my sign-off", Effect::ReadOnly)
            .description("Current user's sign-off on report (definition_id, instance_id); empty if none.")
            .request::<InstanceId>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/sign_off"),
        SET.tool("create_report_sign_off", "Sign off report", Effect::Additive)
            .description("Sign off report (definition_id, instance_id) as current user: action, attestation (accurate), optional comments.")
            .request::<SignOff>(Method::POST, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/sign_off"),
        SET.tool("list_report_sign_offs", "List report sign-offs", Effect::ReadOnly)
            .description("All users' sign-offs on report (definition_id, instance_id).")
            .request::<ListOfInstance>(Method::GET, AuditReport, "/audit-reports/definitions/{definition_id}/instances/{instance_id}/sign_offs"),
    ]
    .into_iter()
    .map(untrusted::fenced)
    .collect()
}
