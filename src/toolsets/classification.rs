//! Classification: classifiers and the collections that group them, classification jobs run on
//! connected databases, their findings (database down to column, lineage and leaves), the review
//! decisions taken on them, and the job report.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::client::{path, seg, ApiRequest, Method, Service::Classification};
use crate::registry::args::{object_without_nulls, JsonOr, NoParams};
use crate::registry::paging::{collect_pages, NextPage, Pages};
use crate::registry::params::{ContiguousId, Id, Limit, Name, NonEmpty, PageToken, WaitSeconds};
use crate::registry::{Ctx, Effect, Endpoint, ToolDef, ToolError, ToolResult, Toolset};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "classification",
    title: "Classification",
    description: "Classifiers and collections, classification jobs on connected databases, their findings, review decisions and reports.",
    in_default: false,
    tools,
};

/// Page size cap where the API documents none.
const MAX_PAGE: u32 = 1000;

wire_enum! {
    /// A classification job's status.
    pub enum JobStatus {
        Running = "RUNNING",
        Paused = "PAUSED",
        Completed = "COMPLETED",
        Cancelled = "CANCELLED",
        Failed = "FAILED",
    }
}

wire_enum! {
    /// A status a job can be moved to.
    pub enum JobStatusChange { Paused = "PAUSED", Cancelled = "CANCELLED", Running = "RUNNING" }
}

wire_enum! {
    /// Whether a job scans everything or only what changed since the last job.
    pub enum JobType { Full = "FULL", Incremental = "INCREMENTAL" }
}

wire_enum! {
    /// Sort order by creation time.
    pub enum Order { Asc = "asc", Desc = "desc" }
}

wire_enum! {
    /// A review decision on a finding.
    pub enum ConfirmedStatus { Approved = "approved", Rejected = "rejected" }
}

wire_enum! {
    /// How confident a classifier's match is.
    pub enum Confidence { High = "HIGH", Medium = "MEDIUM", Low = "LOW" }
}

wire_enum! {
    /// How an OLTP job samples: rows of data, or metadata only.
    pub enum SampleStrategy { Rows = "ROWS", Metadata = "METADATA" }
}

wire_enum! {
    /// How sample_size counts: a number of rows, or a percentage (1-100).
    pub enum SampleType { Rows = "ROWS", Percent = "PERCENT" }
}

/// A classification type, 1 to 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassificationType(pub u8);

impl std::fmt::Display for ClassificationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ClassificationType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match crate::registry::params::lenient_int(d)? {
            Some(n @ 1..=6) => Ok(ClassificationType(n as u8)),
            _ => Err(serde::de::Error::custom("must be one of 1, 2, 3, 4, 5, 6")),
        }
    }
}

impl Serialize for ClassificationType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

impl JsonSchema for ClassificationType {
    fn schema_name() -> Cow<'static, str> {
        "ClassificationType".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "enum": [1, 2, 3, 4, 5, 6]})
    }
}

/// One classifier name or a list of them; at least one, none empty. Sent as a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierNames(pub Vec<Name>);

impl<'de> Deserialize<'de> for ClassifierNames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wrong = || serde::de::Error::custom("must be a classifier name or a list of them");
        let empty = || serde::de::Error::custom("must name at least one classifier");
        let items = match Value::deserialize(d)? {
            Value::String(s) => vec![Value::String(s)],
            Value::Array(items) => items,
            _ => return Err(wrong()),
        };
        if items.is_empty() {
            return Err(empty());
        }
        items
            .into_iter()
            .map(|v| match v {
                Value::String(s) if s.trim().is_empty() => Err(serde::de::Error::custom(
                    "classifier names must not be empty",
                )),
                Value::String(s) => Ok(Name(s)),
                _ => Err(wrong()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ClassifierNames)
    }
}

impl Serialize for ClassifierNames {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl JsonSchema for ClassifierNames {
    fn schema_name() -> Cow<'static, str> {
        "ClassifierNames".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1})
    }
}

fn is_empty<T>(v: &[T]) -> bool {
    v.is_empty()
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifierName {
    #[schemars(extend("x-doc" = "The classifier's name, as get_classifiers returns it; sent as one percent-encoded path segment, so it may contain /."))]
    pub classifier_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClassifier {
    #[schemars(extend("x-doc" = "The new classifier's name."))]
    pub classifier_name: Name,
    #[schemars(extend("x-doc" = "The classifier's rules (column-name and data patterns), as a JSON object or its JSON text."))]
    pub compound_ruleset: JsonOr<Map<String, Value>>,
    #[schemars(extend("x-doc" = "What the classifier finds; not sent when omitted."))]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClassifier {
    #[schemars(extend("x-doc" = "The name of the classifier to change, as get_classifiers returns it."))]
    pub classifier_name: String,
    #[schemars(extend("x-doc" = "The classifier's new description; unchanged when omitted. Give it, compound_ruleset, or both."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "New rules replacing the classifier's current ones, as a JSON object or its JSON text; the legacy pattern is cleared too. Unchanged when omitted."))]
    pub compound_ruleset: Option<JsonOr<Map<String, Value>>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionName {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    #[schemars(extend("x-doc" = "The new collection's name; it starts with no classifiers."))]
    pub collection_name: Name,
    #[serde(default)]
    #[schemars(extend("x-doc" = "What the collection is for; default empty text, always sent."))]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
    #[schemars(extend("x-doc" = "The new description, replacing the old one; required."))]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPage {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionMembers {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
    #[schemars(extend("x-doc" = "The classifiers to add to or remove from the collection: one name or a list of at least one, names from get_classifiers. Always sent as a list."))]
    pub classifier_names: ClassifierNames,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagedPage {
    pub limit: Option<Limit<MAX_PAGE>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetJobs {
    pub limit: Option<Limit<MAX_PAGE>>,
    pub contiguous_id: Option<ContiguousId>,
    #[schemars(extend("x-doc" = "Only jobs in this status: RUNNING, PAUSED, COMPLETED, CANCELLED or FAILED. Omit for all."))]
    pub status: Option<JobStatus>,
    #[schemars(extend("x-doc" = "Only jobs of this type: FULL or INCREMENTAL. Omit for both."))]
    pub job_type: Option<JobType>,
    #[schemars(extend("x-doc" = "Only jobs on this database, by its numeric id from get_databases."))]
    pub database_id: Option<Id>,
    #[schemars(extend("x-doc" = "Only jobs run by this agent, by its id from list_sc_agents."))]
    pub agent_id: Option<Name>,
    #[schemars(extend("x-doc" = "Only jobs of this classification type, a number from 1 to 6."))]
    pub classification_type: Option<ClassificationType>,
    #[schemars(extend("x-doc" = "Order by creation time: asc (oldest first) or desc (newest first). Not sent when omitted."))]
    pub order: Option<Order>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveJobs {
    pub limit: Option<Limit<MAX_PAGE>>,
    #[schemars(extend("x-doc" = "Only active jobs on this database, by its numeric id from get_databases."))]
    pub database_id: Option<Id>,
    pub contiguous_id: Option<ContiguousId>,
    #[schemars(extend("x-doc" = "Only active jobs run by this agent, by its id from list_sc_agents."))]
    pub agent_id: Option<Name>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobId {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    #[schemars(extend("x-doc" = "FULL scans everything; INCREMENTAL scans only what changed since the last job."))]
    pub job_type: JobType,
    #[schemars(extend("x-doc" = "The Snowflake database to scan, by its numeric id from get_databases."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The collection of classifiers the job runs, by its name from get_collections."))]
    pub collection_name: Name,
    #[serde(default, skip_serializing_if = "is_empty")]
    #[schemars(extend("x-doc" = "The job's condition types, as a list of names (the accepted values are not documented); not sent when omitted or empty."))]
    pub condition_types: Vec<String>,
    #[schemars(extend("x-doc" = "Whether the job's findings require review; not sent when omitted, so the API's default applies."))]
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the new job to finish, polling get_job and reporting progress; it then answers with the job as it stands. Default 0: the start answer comes back at once. Not sent to ALTR."))]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGdlpJob {
    #[schemars(extend("x-doc" = "The Snowflake database to scan with Google DLP, by its numeric id from get_databases."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The collection of classifiers to use, by its name from get_collections; not sent when omitted."))]
    pub collection_name: Option<Name>,
    #[serde(default, skip_serializing_if = "is_empty")]
    #[schemars(extend("x-doc" = "The job's condition types, as a list of names (the accepted values are not documented); not sent when omitted or empty."))]
    pub condition_types: Vec<String>,
    #[schemars(extend("x-doc" = "How much data to sample: a number of rows, or a percentage when sample_type is PERCENT; not sent when omitted."))]
    pub sample_size: Option<u32>,
    #[schemars(extend("x-doc" = "How sample_size counts: ROWS (a number of rows) or PERCENT (a percentage, 1-100); not sent when omitted."))]
    pub sample_type: Option<SampleType>,
    #[schemars(extend("x-doc" = "Whether the job's findings require review; not sent when omitted, so the API's default applies."))]
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the new job to finish, polling get_job and reporting progress; it then answers with the job as it stands. Default 0: the start answer comes back at once. Not sent to ALTR."))]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatabricksJob {
    #[schemars(extend("x-doc" = "The Databricks database to classify, by its numeric id from get_databases."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The collection of classifiers to use, by its name from get_collections; not sent when omitted."))]
    pub collection_name: Option<Name>,
    #[serde(default, skip_serializing_if = "is_empty")]
    #[schemars(extend("x-doc" = "The job's condition types, as a list of names (the accepted values are not documented); not sent when omitted or empty."))]
    pub condition_types: Vec<String>,
    #[schemars(extend("x-doc" = "Whether the job's findings require review; not sent when omitted, so the API's default applies."))]
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the new job to finish, polling get_job and reporting progress; it then answers with the job as it stands. Default 0: the start answer comes back at once. Not sent to ALTR."))]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateJobStatus {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The status to move the job to: PAUSED (pause), RUNNING (resume) or CANCELLED (cancel)."))]
    pub status: JobStatusChange,
}

/// Longest a create_*_job call waits for its job, in seconds.
/// Whether a job in this status is still working.
fn job_running(job: &Value) -> bool {
    let status = ["/status", "/data/status", "/job/status"]
        .iter()
        .find_map(|p| job.pointer(p).and_then(Value::as_str))
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        status.as_str(),
        "RUNNING" | "PENDING" | "QUEUED" | "IN_PROGRESS" | "STARTED" | "SUBMITTED"
    )
}

/// Start a job with `req`; with `wait` seconds, poll get_job until the job stops running (or the
/// time is up, or the client cancels), reporting progress, and return the job as it stands.
async fn start_job(ctx: &Ctx, req: ApiRequest, wait: u64) -> ToolResult {
    let started = ctx.send(req).await?;
    if wait == 0 {
        return Ok(started);
    }
    let Some(id) = ["/data/id", "/id", "/data/job_id", "/job_id", "/job/id"]
        .iter()
        .find_map(|p| match started.pointer(p) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    else {
        return Ok(started);
    };
    let get = ApiRequest::get(Classification, path("/v1/jobs/{}", &[seg("job_id", &id)])?);
    let total = wait as f64;
    let begun = std::time::Instant::now();
    let deadline = begun + std::time::Duration::from_secs(wait);
    let mut pause = std::time::Duration::from_millis(250);
    let mut job = started;
    loop {
        let now = std::time::Instant::now();
        if now >= deadline || ctx.is_cancelled() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause.min(deadline - now)) => {}
            _ = ctx.cancel.cancelled() => break,
        }
        pause = (pause * 2).min(std::time::Duration::from_secs(2));
        job = ctx.send(get.clone()).await?;
        if !job_running(&job) {
            ctx.progress(total, Some(total), "job finished").await;
            return Ok(json!({"job_id": id, "waited": true, "job": job}));
        }
        let percent = ["/progress", "/data/progress"]
            .iter()
            .find_map(|p| job.pointer(p).and_then(Value::as_f64));
        let message = match percent {
            Some(p) => format!("job {id} running, {p}% done"),
            None => format!("job {id} running"),
        };
        let waited = begun.elapsed().as_secs_f64().min(total);
        ctx.progress(waited, Some(total), &message).await;
    }
    Ok(json!({
        "job_id": id,
        "waited": true,
        "job": job,
        "message": format!("The job is still running after the wait; poll get_job with job_id {id} later."),
    }))
}

/// The start request of a declarative-shaped job tool: every parameter in the JSON body, plus
/// the fixed fields.
fn job_request<P: Serialize>(
    p: &P,
    template: &'static str,
    fixed: &'static [(&'static str, &'static str)],
) -> Result<ApiRequest, ToolError> {
    let endpoint = Endpoint {
        fixed,
        ..Endpoint::new(Method::POST, Classification, template)
    };
    let wire = serde_json::to_value(p)
        .map_err(|e| ToolError::invalid("arguments", format!("cannot be sent: {e}")))?;
    endpoint.build(wire)
}

async fn create_job(ctx: Ctx, p: CreateJob) -> ToolResult {
    let req = job_request(
        &p,
        "/v1/jobs/snowflake",
        &[("classification_type", "altr_native")],
    )?;
    start_job(&ctx, req, p.wait_seconds.0).await
}

async fn create_gdlp_job(ctx: Ctx, p: CreateGdlpJob) -> ToolResult {
    let req = job_request(&p, "/v1/jobs/snowflake", &[("classification_type", "gdlp")])?;
    start_job(&ctx, req, p.wait_seconds.0).await
}

async fn create_databricks_job(ctx: Ctx, p: CreateDatabricksJob) -> ToolResult {
    let req = job_request(&p, "/v1/jobs/databricks", &[])?;
    start_job(&ctx, req, p.wait_seconds.0).await
}

fn default_oltp_type() -> ClassificationType {
    ClassificationType(5)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOltpJob {
    #[schemars(extend("x-doc" = "The agent that runs the job, by its id from list_sc_agents."))]
    pub agent_id: Name,
    #[schemars(extend("x-doc" = "The OLTP repository to classify, by its name from list_sc_repos."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The repository service user the agent connects as (list_sc_service_users)."))]
    pub service_user_name: Name,
    #[schemars(extend("x-doc" = "The collection of classifiers the job runs, by its name from get_collections."))]
    pub collection_name: Name,
    #[serde(default = "default_oltp_type")]
    #[schemars(extend("x-doc" = "The job's classification type, a number from 1 to 6; default 5."))]
    pub classification_type: ClassificationType,
    #[schemars(extend("x-doc" = "ROWS (the default) samples rows of data; METADATA reads no data and takes no sample_size or sample_type."))]
    pub sample_strategy: Option<SampleStrategy>,
    #[schemars(extend("x-doc" = "How much to sample with sample_strategy ROWS: a number of rows (default 1000), or 1 to 100 percent when sample_type is PERCENT (then required). Refused with METADATA."))]
    pub sample_size: Option<u32>,
    #[schemars(extend("x-doc" = "How sample_size counts with sample_strategy ROWS: ROWS (the default) or PERCENT. Refused with METADATA."))]
    pub sample_type: Option<SampleType>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "The job's condition types, as a list of names (the accepted values are not documented); not sent when omitted or empty."))]
    pub condition_types: Vec<String>,
    #[schemars(extend("x-doc" = "The Oracle SID to connect to; not sent when omitted."))]
    pub sid: Option<String>,
    #[schemars(extend("x-doc" = "The database service name to connect to; not sent when omitted."))]
    pub service_name: Option<String>,
    #[schemars(extend("x-doc" = "An agent task's id (list_sc_agent_tasks) to send with the job; not sent when omitted."))]
    pub task_id: Option<String>,
    #[schemars(extend("x-doc" = "Whether the job's findings require review; not sent when omitted, so the API's default applies."))]
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the new job to finish, polling get_job and reporting progress; it then answers with the job as it stands. Default 0: the start answer comes back at once. Not sent to ALTR."))]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Findings {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub page_token: Option<PageToken>,
    #[schemars(extend("x-doc" = "Only findings of these classifiers: one name or a list (sent as repeated query keys), names from get_classifiers. Omit for all."))]
    pub classifier_name: Option<ClassifierNames>,
    #[schemars(extend("x-doc" = "Only findings with this review decision: approved or rejected. Omit for all."))]
    pub confirmed_status: Option<ConfirmedStatus>,
    #[schemars(extend("x-doc" = "true asks for column status counts in the answer; sent whenever given, false included."))]
    pub include_column_status_counts: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsSchemas {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The database's name as the job's findings show it (get_job_findings)."))]
    pub database: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub page_token: Option<PageToken>,
    #[schemars(extend("x-doc" = "Only findings of these classifiers: one name or a list (sent as repeated query keys), names from get_classifiers. Omit for all."))]
    pub classifier_name: Option<ClassifierNames>,
    #[schemars(extend("x-doc" = "Only findings with this review decision: approved or rejected. Omit for all."))]
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsTables {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The database's name as the job's findings show it (get_job_findings)."))]
    pub database: String,
    #[schemars(extend("x-doc" = "The schema's name as the job's findings show it (get_job_findings_schemas)."))]
    pub schema: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub page_token: Option<PageToken>,
    #[schemars(extend("x-doc" = "Only findings of these classifiers: one name or a list (sent as repeated query keys), names from get_classifiers. Omit for all."))]
    pub classifier_name: Option<ClassifierNames>,
    #[schemars(extend("x-doc" = "Only findings with this review decision: approved or rejected. Omit for all."))]
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsColumns {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The database's name as the job's findings show it (get_job_findings)."))]
    pub database: String,
    #[schemars(extend("x-doc" = "The schema's name as the job's findings show it (get_job_findings_schemas)."))]
    pub schema: String,
    #[schemars(extend("x-doc" = "The table's name as the job's findings show it (get_job_findings_tables)."))]
    pub table: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub page_token: Option<PageToken>,
    #[schemars(extend("x-doc" = "Only findings of these classifiers: one name or a list (sent as repeated query keys), names from get_classifiers. Omit for all."))]
    pub classifier_name: Option<ClassifierNames>,
    #[schemars(extend("x-doc" = "Only findings with this review decision: approved or rejected. Omit for all."))]
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsClassifiers {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The database's name as the job's findings show it (get_job_findings)."))]
    pub database: String,
    #[schemars(extend("x-doc" = "The schema's name as the job's findings show it (get_job_findings_schemas)."))]
    pub schema: String,
    #[schemars(extend("x-doc" = "The table's name as the job's findings show it (get_job_findings_tables)."))]
    pub table: String,
    #[schemars(extend("x-doc" = "The column's name as the job's findings show it (get_job_findings_columns)."))]
    pub column: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub page_token: Option<PageToken>,
    #[schemars(extend("x-doc" = "Only findings with this review decision: approved or rejected. Omit for all."))]
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsLineage {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The database's name as the job's findings show it (get_job_findings)."))]
    pub database: String,
    #[schemars(extend("x-doc" = "The schema's name as the job's findings show it (get_job_findings_schemas)."))]
    pub schema: String,
    #[schemars(extend("x-doc" = "The table's name as the job's findings show it (get_job_findings_tables)."))]
    pub table: String,
    #[schemars(extend("x-doc" = "The column's name as the job's findings show it (get_job_findings_columns)."))]
    pub column: String,
    #[schemars(extend("x-doc" = "The classifier whose match to explain, as get_job_findings_classifiers lists it for the column."))]
    pub classifier_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsLeaves {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    pub limit: Option<Limit<1000>>,
    pub page_token: Option<PageToken>,
    #[schemars(extend("x-doc" = "Only findings of these confidence levels: a list of at least one of HIGH, MEDIUM, LOW (sent as repeated query keys). Omit for all."))]
    pub confidence: Option<NonEmpty<Confidence>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDecision {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The decision to record: approved or rejected."))]
    pub confirmed_status: ConfirmedStatus,
    #[schemars(extend("x-doc" = "Limit the decision to this database of the job's findings (get_job_findings); needed when schema is given."))]
    pub database: Option<Name>,
    #[schemars(extend("x-doc" = "Limit the decision to this schema; needs database, and is needed when table is given."))]
    pub schema: Option<Name>,
    #[schemars(extend("x-doc" = "Limit the decision to this table; needs database and schema, and is needed when column is given."))]
    pub table: Option<Name>,
    #[schemars(extend("x-doc" = "Limit the decision to this column; needs database, schema and table."))]
    pub column: Option<Name>,
    #[schemars(extend("x-doc" = "Decide only the findings of this classifier (from get_job_findings_classifiers); all classifiers in the scope when omitted."))]
    pub classifier_name: Option<Name>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetDecisions {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "Only decisions in this database of the job's findings. Omit for all."))]
    pub database: Option<Name>,
    #[schemars(extend("x-doc" = "Only decisions in this schema. Omit for all."))]
    pub schema: Option<Name>,
    #[schemars(extend("x-doc" = "Only decisions in this table. Omit for all."))]
    pub table: Option<Name>,
    #[schemars(extend("x-doc" = "Only decisions on this column. Omit for all."))]
    pub column: Option<Name>,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub page_token: Option<PageToken>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeDecisions {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "Revoke only decisions in this database (sent in the query). With no scope at all, every decision of the job is revoked."))]
    pub database: Option<Name>,
    #[schemars(extend("x-doc" = "Revoke only decisions in this schema (sent in the query)."))]
    pub schema: Option<Name>,
    #[schemars(extend("x-doc" = "Revoke only decisions in this table (sent in the query)."))]
    pub table: Option<Name>,
    #[schemars(extend("x-doc" = "Revoke only decisions on this column (sent in the query)."))]
    pub column: Option<Name>,
    #[schemars(extend("x-doc" = "Revoke only the decisions on this classifier's findings (sent in the query)."))]
    pub classifier_name: Option<Name>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecision {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The decision to set on every matching finding: approved or rejected."))]
    pub confirmed_status: ConfirmedStatus,
    #[schemars(extend("x-doc" = "The classifiers whose findings get the decision: one name or a list of at least one, names from get_classifiers (sent in predicate)."))]
    pub classifier_names: ClassifierNames,
    #[schemars(extend("x-doc" = "Only findings of these confidence levels: a list of at least one of HIGH, MEDIUM, LOW (sent in predicate). Omit for all."))]
    pub confidence: Option<NonEmpty<Confidence>>,
    #[schemars(extend("x-doc" = "Only findings in this database of the job's findings (sent in predicate); needed when schema is given."))]
    pub database: Option<Name>,
    #[schemars(extend("x-doc" = "Only findings in this schema (sent in predicate); needs database, and is needed when table is given."))]
    pub schema: Option<Name>,
    #[schemars(extend("x-doc" = "Only findings in this table (sent in predicate); needs database and schema."))]
    pub table: Option<Name>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "This tool's own dry run, sent to ALTR (always, default false): true asks ALTR to count the findings the decision would change without changing them. Not the server's dry run: the request is sent either way."))]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecisionId {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    #[schemars(extend("x-doc" = "The bulk decision's id, as record_bulk_job_decision returned it."))]
    pub bulk_decision_id: String,
}

/// Refuse a narrower scope level given without the broader ones above it.
fn check_scope(levels: &[(&str, bool)]) -> Result<(), ToolError> {
    let mut missing: Option<&str> = None;
    for (name, given) in levels {
        match (given, missing) {
            (true, Some(m)) => {
                return Err(ToolError::invalid(
                    m,
                    format!("is required when `{name}` is given"),
                ))
            }
            (false, None) => missing = Some(name),
            _ => {}
        }
    }
    Ok(())
}

fn job_path(job_id: &str, rest: &str) -> Result<String, ToolError> {
    Ok(path(
        &format!("/v1/jobs/{{}}{rest}"),
        &[seg("job_id", job_id)],
    )?)
}

const CONTIGUOUS: NextPage = NextPage::Cursor {
    at: &["/contiguous_id", "/data/contiguous_id"],
    param: "contiguous_id",
};

async fn list_all(ctx: Ctx, path: &'static str, key: &'static str) -> ToolResult {
    let items: &'static [&'static str] = match key {
        "classifiers" => &["/classifiers", "/data/classifiers"],
        "collections" => &["/collections", "/data/collections"],
        _ => &["/jobs", "/data/jobs"],
    };
    let pages = Pages {
        items,
        next: CONTIGUOUS,
    };
    let all = collect_pages(&ctx, ApiRequest::get(Classification, path), pages).await?;
    Ok(all.result(key))
}

async fn update_classifier(ctx: Ctx, p: UpdateClassifier) -> ToolResult {
    let path = path(
        "/v1/classifiers/{}",
        &[seg("classifier_name", &p.classifier_name)],
    )?;
    let mut body = Map::new();
    if let Some(d) = p.description {
        body.insert("description".into(), Value::String(d));
    }
    if let Some(rules) = p.compound_ruleset {
        body.insert("compound_ruleset".into(), Value::Object(rules.0));
        body.insert("pattern".into(), Value::Null);
    }
    if body.is_empty() {
        return Err(ToolError::invalid(
            "description,compound_ruleset",
            "nothing to update: give description or compound_ruleset",
        ));
    }
    ctx.send(ApiRequest::patch(Classification, path).json(Value::Object(body)))
        .await
}

async fn get_jobs(ctx: Ctx, p: GetJobs) -> ToolResult {
    let one_page = p.limit.is_some() || p.contiguous_id.is_some();
    let req = ApiRequest::get(Classification, "/v1/jobs")
        .query_opt("limit", p.limit.map(Limit::get))
        .query_opt("database_id", p.database_id)
        .query_opt("classification_type", p.classification_type)
        .query_opt("contiguous_id", p.contiguous_id)
        .query_opt("status", p.status)
        .query_opt("job_type", p.job_type)
        .query_opt("agent_id", p.agent_id)
        .query_opt("order", p.order);
    if one_page {
        return ctx.send(req).await;
    }
    let pages = Pages {
        items: &["/jobs", "/data/jobs"],
        next: CONTIGUOUS,
    };
    Ok(collect_pages(&ctx, req, pages).await?.result("jobs"))
}

async fn create_oltp_job(ctx: Ctx, p: CreateOltpJob) -> ToolResult {
    let strategy = p.sample_strategy.unwrap_or(SampleStrategy::Rows);
    let (size, kind) = match strategy {
        SampleStrategy::Metadata => {
            if p.sample_size.is_some() {
                return Err(ToolError::invalid(
                    "sample_size",
                    "is not used when sample_strategy is METADATA; leave it out",
                ));
            }
            if p.sample_type.is_some() {
                return Err(ToolError::invalid(
                    "sample_type",
                    "is not used when sample_strategy is METADATA; leave it out",
                ));
            }
            (None, None)
        }
        SampleStrategy::Rows => {
            let kind = p.sample_type.unwrap_or(SampleType::Rows);
            let size = match (kind, p.sample_size) {
                (SampleType::Percent, None) => {
                    return Err(ToolError::invalid(
                        "sample_size",
                        "is required (1-100) when sample_type is PERCENT",
                    ))
                }
                (SampleType::Percent, Some(n)) if !(1..=100).contains(&n) => {
                    return Err(ToolError::invalid(
                        "sample_size",
                        "must be from 1 to 100 when sample_type is PERCENT",
                    ))
                }
                (SampleType::Rows, Some(0)) => {
                    return Err(ToolError::invalid("sample_size", "must be at least 1"))
                }
                (_, Some(n)) => n,
                (SampleType::Rows, None) => 1000,
            };
            (Some(size), Some(kind))
        }
    };
    let conditions = if p.condition_types.is_empty() {
        Value::Null
    } else {
        json!(p.condition_types)
    };
    let body = object_without_nulls([
        ("agent_id", json!(p.agent_id)),
        ("repo_name", json!(p.repo_name)),
        ("service_user_name", json!(p.service_user_name)),
        ("collection_name", json!(p.collection_name)),
        ("classification_type", json!(p.classification_type)),
        ("sample_strategy", json!(strategy)),
        ("sample_size", json!(size)),
        ("sample_type", json!(kind)),
        ("condition_types", conditions),
        ("sid", json!(p.sid)),
        ("service_name", json!(p.service_name)),
        ("task_id", json!(p.task_id)),
        ("requires_review", json!(p.requires_review)),
    ]);
    let req = ApiRequest::post(Classification, "/v1/jobs/oltp").json(body);
    start_job(&ctx, req, p.wait_seconds.0).await
}

async fn record_job_decision(ctx: Ctx, p: RecordDecision) -> ToolResult {
    check_scope(&[
        ("database", p.database.is_some()),
        ("schema", p.schema.is_some()),
        ("table", p.table.is_some()),
        ("column", p.column.is_some()),
    ])?;
    let body = object_without_nulls([
        ("confirmed_status", json!(p.confirmed_status)),
        ("database", json!(p.database)),
        ("schema", json!(p.schema)),
        ("table", json!(p.table)),
        ("column", json!(p.column)),
        ("classifier_name", json!(p.classifier_name)),
    ]);
    let path = job_path(&p.job_id, "/decisions")?;
    ctx.send(ApiRequest::post(Classification, path).json(body))
        .await
}

async fn record_bulk_job_decision(ctx: Ctx, p: BulkDecision) -> ToolResult {
    check_scope(&[
        ("database", p.database.is_some()),
        ("schema", p.schema.is_some()),
        ("table", p.table.is_some()),
    ])?;
    let predicate = object_without_nulls([
        ("classifier_names", json!(p.classifier_names)),
        ("confidence", json!(p.confidence)),
        ("database", json!(p.database)),
        ("schema", json!(p.schema)),
        ("table", json!(p.table)),
    ]);
    let body = json!({
        "confirmed_status": p.confirmed_status,
        "predicate": predicate,
        "dry_run": p.dry_run,
    });
    let path = job_path(&p.job_id, "/decisions/bulk")?;
    ctx.send(ApiRequest::post(Classification, path).json(body))
        .await
}

/// A failure of one step of the report download, named so the caller knows which one.
fn report_step(
    code: &'static str,
    step: &str,
    detail: String,
    details: Option<Value>,
) -> ToolError {
    ToolError::Failed {
        code,
        message: format!("Classification report: {step} failed: {detail}"),
        details,
    }
}

/// Whether `url` is an absolute http(s) URL with a host.
fn is_web_url(url: &str) -> bool {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        }
        Err(_) => false,
    }
}

async fn get_classification_report(ctx: Ctx, p: JobId) -> ToolResult {
    const CREATE: &str = "step 1 of 2 (create the report link, POST /v1/jobs/{job_id}/report)";
    const DOWNLOAD: &str = "step 2 of 2 (download the report from its presigned link)";
    let path = job_path(&p.job_id, "/report")?;
    let created = ctx
        .send(ApiRequest::post(Classification, path).json(json!({})))
        .await
        .map_err(|e| match e {
            ToolError::Api(api) => report_step(
                "report_create_failed",
                CREATE,
                api.to_string(),
                Some(api.to_json()),
            ),
            other => other,
        })?;
    let url = created
        .get("url")
        .or_else(|| created.pointer("/data/url"))
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty());
    let Some(url) = url else {
        return Err(report_step(
            "report_create_failed",
            CREATE,
            "the API answered without a download url".into(),
            Some(created.clone()),
        ));
    };
    if !is_web_url(url) {
        return Err(report_step(
            "report_create_failed",
            CREATE,
            "the download link is not an http(s) URL; it was not fetched".into(),
            None,
        ));
    }
    // A presigned link carries its own authorization: no ALTR credentials go to that host.
    let (status, body) = ctx.client.get_unauthenticated(url).await.map_err(|e| {
        report_step(
            "report_download_failed",
            DOWNLOAD,
            e.to_string(),
            Some(e.to_json()),
        )
    })?;
    match body {
        Value::Object(_) | Value::Array(_) => Ok(body),
        Value::Null => Err(report_step(
            "report_download_failed",
            DOWNLOAD,
            format!("HTTP {status} with an empty body"),
            None,
        )),
        _ => Err(report_step(
            "report_download_failed",
            DOWNLOAD,
            format!("HTTP {status} with a body that is not JSON"),
            None,
        )),
    }
}

pub fn tools() -> Vec<ToolDef> {
    use Effect::{Additive, Destructive, Idempotent, ReadOnly};
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const PATCH: Method = Method::PATCH;
    const DELETE: Method = Method::DELETE;
    vec![
        SET.tool("get_classifiers", "List classifiers", ReadOnly)
            .description("Every classifier: custom and imported ALTR-managed.")
            .handler(|ctx: Ctx, _: NoParams| list_all(ctx, "/v1/classifiers", "classifiers")),
        SET.tool("get_classifier", "Get classifier", ReadOnly)
            .description("Description and compound ruleset of classifier_name.")
            .request::<ClassifierName>(GET, Classification, "/v1/classifiers/{classifier_name}"),
        SET.tool("create_classifier", "Create classifier", Additive)
            .description("New classifier_name with description and compound_ruleset (object or JSON text: column-name/data patterns).")
            .request::<CreateClassifier>(POST, Classification, "/v1/classifiers"),
        SET.tool("update_classifier", "Update classifier", Idempotent)
            .description("Set description and/or compound_ruleset (replaces rules, clears legacy pattern) of classifier_name; refuses empty updates.")
            .handler(update_classifier),
        SET.tool("delete_classifier", "Delete classifier", Destructive)
            .description("Delete classifier_name, also from its collections.")
            .request::<ClassifierName>(DELETE, Classification, "/v1/classifiers/{classifier_name}"),
        SET.tool("get_collections", "List collections", ReadOnly)
        .in_default()
            .description("Every classifier collection (a job runs one).")
            .handler(|ctx: Ctx, _: NoParams| list_all(ctx, "/v1/collections", "collections")),
        SET.tool("get_collection", "Get collection", ReadOnly)
            .description("Description and classifier count of collection_name.")
            .request::<CollectionName>(GET, Classification, "/v1/collections/{collection_name}"),
        SET.tool("create_collection", "Create collection", Additive)
            .description("Empty classifier collection collection_name with description.")
            .request::<CreateCollection>(POST, Classification, "/v1/collections"),
        SET.tool("update_collection", "Update collection", Idempotent)
            .description("Replace collection_name's description; classifiers unchanged.")
            .request::<UpdateCollection>(PATCH, Classification, "/v1/collections/{collection_name}"),
        SET.tool("delete_collection", "Delete collection", Destructive)
            .description("Delete collection_name; its classifiers remain.")
            .request::<CollectionName>(DELETE, Classification, "/v1/collections/{collection_name}"),
        SET.tool("get_collection_classifiers", "Collection members", ReadOnly)
            .description("Classifiers in collection_name, one page.")
            .request::<CollectionPage>(GET, Classification, "/v1/collections/{collection_name}/classifiers"),
        SET.tool("add_classifiers_to_collection", "Add to collection", Idempotent)
            .description("Add existing classifier_names to collection_name.")
            .request::<CollectionMembers>(PATCH, Classification, "/v1/collections/{collection_name}/classifiers/append"),
        SET.tool("remove_classifiers_from_collection", "Remove from collection", Idempotent)
            .description("Remove classifier_names from collection_name; classifiers remain.")
            .request::<CollectionMembers>(PATCH, Classification, "/v1/collections/{collection_name}/classifiers/remove"),
        SET.tool("import_altr_managed_classifiers", "Import ALTR classifiers", Idempotent)
            .description("Import or refresh ALTR-managed classifiers and collection.")
            .empty_object()
            .request::<NoParams>(POST, Classification, "/v1/collections/altr-managed/import"),
        SET.tool("get_altr_managed_timestamp", "ALTR import time", ReadOnly)
            .description("When ALTR-managed classifiers were last imported.")
            .request::<NoParams>(GET, Classification, "/v1/collections/altr-managed/timestamp"),
        SET.tool("list_altr_managed_classifiers", "List ALTR classifiers", ReadOnly)
            .description("One page of the classifiers ALTR manages.")
            .request::<ManagedPage>(GET, Classification, "/v1/collections/altr-managed/classifiers"),
        SET.tool("get_jobs", "List jobs", ReadOnly)
        .in_default()
            .description("Jobs by status, job_type, database_id, agent_id, classification_type; order by creation. All pages unless limit/contiguous_id.")
            .handler(get_jobs),
        SET.tool("get_active_jobs", "List active jobs", ReadOnly)
            .description("Running or paused jobs (a page), by database_id or agent_id.")
            .request::<ActiveJobs>(GET, Classification, "/v1/jobs/active"),
        SET.tool("get_job", "Get job", ReadOnly)
        .in_default()
            .description("job_id's status, progress; poll after create_*_job until COMPLETED.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}"),
        SET.tool("get_job_summary", "Job summary", ReadOnly)
            .description("job_id's scanned columns, findings per classifier and confidence.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}/summary"),
        SET.tool("create_job", "Start Snowflake job", Additive)
        .in_default()
            .description("ALTR-native scan of Snowflake database_id with collection_name, job_type; also condition_types, requires_review, wait_seconds.")
            .handler(create_job),
        SET.tool("create_gdlp_job", "Start DLP job", Additive)
            .description("Google DLP scan of Snowflake database_id; also collection_name, condition_types, sample_size (rows, or % if sample_type PERCENT), requires_review, wait_seconds.")
            .handler(create_gdlp_job),
        SET.tool("update_job_status", "Set job status", Idempotent)
            .description("Pause, resume (RUNNING) or cancel job_id via status.")
            .request::<UpdateJobStatus>(PATCH, Classification, "/v1/jobs/{job_id}"),
        SET.tool("create_databricks_job", "Start Databricks job", Additive)
            .description("Classify Databricks database_id; also collection_name, condition_types, requires_review, wait_seconds.")
            .handler(create_databricks_job),
        SET.tool("create_oltp_job", "Start OLTP job", Additive)
            .description("Classify repo_name via agent_id (list_sc_agents) as service_user_name with collection_name. sample_strategy METADATA reads no data (no sample_*); else sample_size rows (default 1000), or 1-100 if sample_type PERCENT. Also classification_type, condition_types, sid (Oracle), service_name, task_id, requires_review, wait_seconds.")
            .handler(create_oltp_job),
        SET.tool("get_job_findings", "Findings by database", ReadOnly)
        .in_default()
            .description("job_id's findings per database (then get_job_findings_schemas). Filters: classifier_name, confirmed_status; include_column_status_counts.")
            .request::<Findings>(GET, Classification, "/v1/jobs/{job_id}/findings"),
        SET.tool("get_job_findings_schemas", "Findings by schema", ReadOnly)
            .description("Schemas with findings in job_id's database. Filters: classifier_name, confirmed_status.")
            .request::<FindingsSchemas>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas"),
        SET.tool("get_job_findings_tables", "Findings by table", ReadOnly)
            .description("Tables with findings in job_id's database.schema. Filters: classifier_name, confirmed_status.")
            .request::<FindingsTables>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables"),
        SET.tool("get_job_findings_columns", "Findings by column", ReadOnly)
            .description("Columns with findings and decisions in job_id's database.schema.table. Filters: classifier_name, confirmed_status.")
            .request::<FindingsColumns>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns"),
        SET.tool("get_job_findings_classifiers", "Column matches", ReadOnly)
            .description("Classifiers matching job_id's database.schema.table.column: confidence, decision. Filter: confirmed_status.")
            .request::<FindingsClassifiers>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns/{column}/classifiers"),
        SET.tool("get_job_findings_lineage", "Explain finding", ReadOnly)
            .description("Why classifier_name matched job_id's database.schema.table.column (rules, evidence).")
            .request::<FindingsLineage>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns/{column}/classifiers/{classifier_name}/lineage"),
        SET.tool("get_job_findings_leaves", "Flat findings", ReadOnly)
            .description("job_id's findings as flat column/classifier/confidence rows; filter by confidence.")
            .request::<FindingsLeaves>(GET, Classification, "/v1/jobs/{job_id}/findings/leaves"),
        SET.tool("record_job_decision", "Approve/reject findings", Idempotent)
            .description("Set confirmed_status of job_id's findings in database/schema/table/column (each needs its parent), optionally one classifier_name.")
            .handler(record_job_decision),
        SET.tool("get_job_decisions", "List decisions", ReadOnly)
            .description("job_id's review decisions (a page), optionally in database/schema/table/column.")
            .request::<GetDecisions>(GET, Classification, "/v1/jobs/{job_id}/decisions"),
        SET.tool("revoke_job_decisions", "Revoke decisions", Destructive)
            .description("Revoke job_id's decisions in database/schema/table/column, optionally one classifier_name's (no scope: all); findings become undecided.")
            .request::<RevokeDecisions>(DELETE, Classification, "/v1/jobs/{job_id}/decisions"),
        SET.tool("record_bulk_job_decision", "Bulk approve/reject", Additive)
            .description("Set confirmed_status on all findings of classifier_names in job_id, optionally by confidence, database/schema/table. Its own dry_run: ALTR counts what would change (not the server's dry run).")
            .handler(record_bulk_job_decision),
        SET.tool("revoke_bulk_job_decision", "Undo bulk decision", Destructive)
            .description("Undo bulk_decision_id (record_bulk_job_decision) of job_id.")
            .request::<BulkDecisionId>(DELETE, Classification, "/v1/jobs/{job_id}/decisions/bulk/{bulk_decision_id}"),
        SET.tool("get_job_review_status", "Job review status", ReadOnly)
            .description("Decided and undecided finding counts of job_id.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}/review-status"),
        SET.tool("confirm_job_report", "Confirm job report", Idempotent)
            .description("Confirm job_id's reviewed findings as its final report.")
            .request::<JobId>(POST, Classification, "/v1/jobs/{job_id}/report/confirm"),
        SET.tool("cancel_job_report", "Cancel job report", Idempotent)
            .description("Cancel job_id's pending report confirmation, reopening review.")
            .request::<JobId>(POST, Classification, "/v1/jobs/{job_id}/report/cancel"),
        SET.tool("get_classification_report", "Download job report", ReadOnly)
        .in_default()
            .description("Download job_id's classification report (JSON).")
            .handler(get_classification_report),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_needs_its_broader_levels() {
        let ok = check_scope(&[("database", true), ("schema", true), ("table", false)]);
        assert!(ok.is_ok());
        let e = check_scope(&[("database", false), ("schema", true)]).unwrap_err();
        assert!(matches!(e, ToolError::Invalid { ref parameter, .. } if parameter == "database"));
        let e = check_scope(&[("database", true), ("schema", false), ("table", true)]).unwrap_err();
        assert!(matches!(e, ToolError::Invalid { ref parameter, .. } if parameter == "schema"));
        assert!(check_scope(&[("database", false), ("schema", false)]).is_ok());
    }

    #[test]
    fn report_links_must_be_web_urls() {
        assert!(is_web_url(
            "https://bucket.s3.amazonaws.com/r.json?X-Amz-Signature=x"
        ));
        assert!(is_web_url("http://127.0.0.1:9/r"));
        for bad in [
            "file:///etc/passwd",
            "ftp://h/x",
            "/relative",
            "https://",
            "javascript:x",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn classification_types_and_names() {
        assert_eq!(
            serde_json::from_value::<ClassificationType>(json!("3")).unwrap(),
            ClassificationType(3)
        );
        for bad in [json!(0), json!(7), json!("x"), json!(2.5)] {
            assert!(serde_json::from_value::<ClassificationType>(bad).is_err());
        }
        let n: ClassifierNames = serde_json::from_value(json!("EMAIL")).unwrap();
        assert_eq!(serde_json::to_value(&n).unwrap(), json!(["EMAIL"]));
        assert!(serde_json::from_value::<ClassifierNames>(json!([])).is_err());
        assert!(serde_json::from_value::<ClassifierNames>(json!([""])).is_err());
    }
}
