//! Classification: classifiers and the collections that group them, classification jobs run on
//! connected databases, their findings (database down to column, lineage and leaves), the review
//! decisions taken on them, and the job report.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::args::{object_without_nulls, JsonOr, NoParams};
use super::paging::{collect_pages, NextPage, Pages};
use super::params::{ContiguousId, Id, Limit, Name, NonEmpty, PageToken};
use super::{Ctx, Effect, Endpoint, ToolDef, ToolError, ToolResult, Toolset};
use crate::client::{path, seg, ApiRequest, Method, Service::Classification};
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
        let n = match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
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
    /// Classifier name (from get_classifiers).
    pub classifier_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClassifier {
    /// Name of the new classifier.
    pub classifier_name: Name,
    /// What the classifier matches: the compound ruleset object (or its JSON text), e.g. column-name and data patterns combined.
    pub compound_ruleset: JsonOr<Map<String, Value>>,
    /// What the classifier finds.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClassifier {
    /// Classifier name (from get_classifiers).
    pub classifier_name: String,
    /// New description.
    pub description: Option<String>,
    /// New compound ruleset (object or its JSON text); replaces the rules and clears any legacy pattern.
    pub compound_ruleset: Option<JsonOr<Map<String, Value>>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionName {
    /// Collection name (from get_collections).
    pub collection_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    /// Name of the new collection.
    pub collection_name: Name,
    /// What the collection is for (default empty).
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    /// Collection name (from get_collections).
    pub collection_name: String,
    /// The new description.
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPage {
    /// Collection name (from get_collections).
    pub collection_name: String,
    /// Most classifiers to return (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionMembers {
    /// Collection name (from get_collections).
    pub collection_name: String,
    /// Classifier name(s) (from get_classifiers): one name or a list, at least one.
    pub classifier_names: ClassifierNames,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagedPage {
    /// Most classifiers to return (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetJobs {
    /// Jobs per page (1-1000). Giving limit or contiguous_id returns that one page; omit both for every job.
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The contiguous_id the previous page returned (returns that one page).
    pub contiguous_id: Option<ContiguousId>,
    /// Only jobs with this status.
    pub status: Option<JobStatus>,
    /// Only FULL or INCREMENTAL jobs.
    pub job_type: Option<JobType>,
    /// Only jobs on this database (id from get_databases).
    pub database_id: Option<Id>,
    /// Only jobs run by this OLTP agent.
    pub agent_id: Option<Name>,
    /// Only jobs of this classification type (1-6).
    pub classification_type: Option<ClassificationType>,
    /// Sort by creation time: asc or desc.
    pub order: Option<Order>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveJobs {
    /// Most jobs to return (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// Only jobs on this database (id from get_databases).
    pub database_id: Option<Id>,
    /// The previous page's contiguous_id.
    pub contiguous_id: Option<ContiguousId>,
    /// Only jobs run by this OLTP agent.
    pub agent_id: Option<Name>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobId {
    /// Job id (from get_jobs or a create_*_job answer).
    pub job_id: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    /// FULL scans everything; INCREMENTAL only what changed since the last job.
    pub job_type: JobType,
    /// Snowflake database id (from get_databases).
    pub database_id: Id,
    /// Collection to run (from get_collections).
    pub collection_name: Name,
    /// Condition types; omit for all.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub condition_types: Vec<String>,
    /// Findings need review decisions before the report is final.
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    pub wait_seconds: JobWait,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGdlpJob {
    /// Snowflake database id (from get_databases).
    pub database_id: Id,
    /// Collection to run (from get_collections).
    pub collection_name: Option<Name>,
    /// Condition types; omit for all.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub condition_types: Vec<String>,
    /// How much to sample: rows, or a percentage when sample_type is PERCENT.
    pub sample_size: Option<u32>,
    /// ROWS or PERCENT.
    pub sample_type: Option<SampleType>,
    /// Findings need review decisions before the report is final.
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    pub wait_seconds: JobWait,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatabricksJob {
    /// Databricks database id (from get_databases).
    pub database_id: Id,
    /// Collection to run (from get_collections).
    pub collection_name: Option<Name>,
    /// Condition types; omit for all.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub condition_types: Vec<String>,
    /// Findings need review decisions before the report is final.
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    pub wait_seconds: JobWait,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateJobStatus {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// PAUSED, CANCELLED, or RUNNING (resume).
    pub status: JobStatusChange,
}

/// Longest a create_*_job call waits for its job, in seconds.
const MAX_JOB_WAIT: u64 = 60;

/// How long a create_*_job call waits for the job to finish (0-60 seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, JsonSchema)]
#[schemars(
    description = "Seconds (0-60) to wait for the job to finish, reporting progress; default 0."
)]
pub struct JobWait(#[schemars(range(min = 0, max = 60))] pub u64);

impl<'de> Deserialize<'de> for JobWait {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n <= MAX_JOB_WAIT => Ok(JobWait(n)),
            _ => Err(serde::de::Error::custom(format!(
                "must be a whole number of seconds from 0 to {MAX_JOB_WAIT}"
            ))),
        }
    }
}

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
    /// OLTP sidecar agent id that runs the job.
    pub agent_id: Name,
    /// Repository (database) name on the agent.
    pub repo_name: Name,
    /// Service user the agent connects as.
    pub service_user_name: Name,
    /// Collection to run (from get_collections).
    pub collection_name: Name,
    /// Classification type, 1-6 (default 5).
    #[serde(default = "default_oltp_type")]
    pub classification_type: ClassificationType,
    /// ROWS (sample data, default) or METADATA (names only; no sample_size/sample_type).
    pub sample_strategy: Option<SampleStrategy>,
    /// Sample size: rows (default 1000), or 1-100 when sample_type is PERCENT (then required).
    pub sample_size: Option<u32>,
    /// ROWS (default) or PERCENT.
    pub sample_type: Option<SampleType>,
    /// Condition types; omit for all.
    #[serde(default)]
    pub condition_types: Vec<String>,
    /// Oracle SID, where the repository needs one.
    pub sid: Option<String>,
    /// Service name, where the repository needs one.
    pub service_name: Option<String>,
    /// Agent task id to run the job under.
    pub task_id: Option<String>,
    /// Findings need review decisions before the report is final.
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    pub wait_seconds: JobWait,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Findings {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Most items per page (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's next_page_token.
    pub page_token: Option<PageToken>,
    /// Only findings of these classifiers.
    pub classifier_name: Option<ClassifierNames>,
    /// Only findings with this decision.
    pub confirmed_status: Option<ConfirmedStatus>,
    /// Add per-column counts of decision statuses.
    pub include_column_status_counts: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsSchemas {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Database name (from get_job_findings).
    pub database: String,
    /// Most items per page (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's next_page_token.
    pub page_token: Option<PageToken>,
    /// Only findings of these classifiers.
    pub classifier_name: Option<ClassifierNames>,
    /// Only findings with this decision.
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsTables {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Database name (from get_job_findings).
    pub database: String,
    /// Schema name (from get_job_findings_schemas).
    pub schema: String,
    /// Most items per page (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's next_page_token.
    pub page_token: Option<PageToken>,
    /// Only findings of these classifiers.
    pub classifier_name: Option<ClassifierNames>,
    /// Only findings with this decision.
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsColumns {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Database name (from get_job_findings).
    pub database: String,
    /// Schema name (from get_job_findings_schemas).
    pub schema: String,
    /// Table name (from get_job_findings_tables).
    pub table: String,
    /// Most items per page (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's next_page_token.
    pub page_token: Option<PageToken>,
    /// Only findings of these classifiers.
    pub classifier_name: Option<ClassifierNames>,
    /// Only findings with this decision.
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsClassifiers {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Database name (from get_job_findings).
    pub database: String,
    /// Schema name (from get_job_findings_schemas).
    pub schema: String,
    /// Table name (from get_job_findings_tables).
    pub table: String,
    /// Column name (from get_job_findings_columns).
    pub column: String,
    /// Most items per page (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's next_page_token.
    pub page_token: Option<PageToken>,
    /// Only findings with this decision.
    pub confirmed_status: Option<ConfirmedStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsLineage {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Database name (from get_job_findings).
    pub database: String,
    /// Schema name (from get_job_findings_schemas).
    pub schema: String,
    /// Table name (from get_job_findings_tables).
    pub table: String,
    /// Column name (from get_job_findings_columns).
    pub column: String,
    /// Classifier name (from get_job_findings_classifiers).
    pub classifier_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsLeaves {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Most leaves per page (1-1000, API default 100).
    pub limit: Option<Limit<1000>>,
    /// The previous page's next_page_token.
    pub page_token: Option<PageToken>,
    /// Only leaves of these confidences (HIGH, MEDIUM, LOW), at least one.
    pub confidence: Option<NonEmpty<Confidence>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDecision {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// approved or rejected.
    pub confirmed_status: ConfirmedStatus,
    /// Database of the finding(s).
    pub database: Option<Name>,
    /// Schema of the finding(s); needs database.
    pub schema: Option<Name>,
    /// Table of the finding(s); needs schema.
    pub table: Option<Name>,
    /// Column of the finding; needs table.
    pub column: Option<Name>,
    /// Classifier whose finding is decided.
    pub classifier_name: Option<Name>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetDecisions {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Only decisions in this database.
    pub database: Option<Name>,
    /// Only decisions in this schema.
    pub schema: Option<Name>,
    /// Only decisions in this table.
    pub table: Option<Name>,
    /// Only decisions on this column.
    pub column: Option<Name>,
    /// Most decisions per page (1-1000).
    pub limit: Option<Limit<MAX_PAGE>>,
    /// The previous page's next_page_token.
    pub page_token: Option<PageToken>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeDecisions {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Only decisions in this database.
    pub database: Option<Name>,
    /// Only decisions in this schema.
    pub schema: Option<Name>,
    /// Only decisions in this table.
    pub table: Option<Name>,
    /// Only decisions on this column.
    pub column: Option<Name>,
    /// Only decisions on this classifier's findings.
    pub classifier_name: Option<Name>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecision {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// approved or rejected.
    pub confirmed_status: ConfirmedStatus,
    /// Classifiers whose findings are decided, at least one.
    pub classifier_names: ClassifierNames,
    /// Only findings of these confidences (HIGH, MEDIUM, LOW).
    pub confidence: Option<NonEmpty<Confidence>>,
    /// Only findings in this database.
    pub database: Option<Name>,
    /// Only findings in this schema; needs database.
    pub schema: Option<Name>,
    /// Only findings in this table; needs schema.
    pub table: Option<Name>,
    /// Count what would change without changing anything (default false).
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecisionId {
    /// Job id (from get_jobs).
    pub job_id: String,
    /// Bulk decision id (from record_bulk_job_decision).
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
            .description("List every classifier (custom and imported ALTR-managed), fetching all pages. Use a name with get_classifier or add_classifiers_to_collection.")
            .handler(|ctx: Ctx, _: NoParams| list_all(ctx, "/v1/classifiers", "classifiers")),
        SET.tool("get_classifier", "Get a classifier", ReadOnly)
            .description("Read one classifier: its description and compound ruleset.")
            .request::<ClassifierName>(GET, Classification, "/v1/classifiers/{classifier_name}"),
        SET.tool("create_classifier", "Create a classifier", Additive)
            .description("Create a custom classifier from a compound ruleset; then add it to a collection with add_classifiers_to_collection.")
            .request::<CreateClassifier>(POST, Classification, "/v1/classifiers"),
        SET.tool("update_classifier", "Update a classifier", Idempotent)
            .description("Change a classifier's description and/or compound ruleset (a new ruleset clears any legacy pattern). At least one is required.")
            .handler(update_classifier),
        SET.tool("delete_classifier", "Delete a classifier", Destructive)
            .description("Delete a custom classifier; it is removed from the collections that hold it.")
            .request::<ClassifierName>(DELETE, Classification, "/v1/classifiers/{classifier_name}"),
        SET.tool("get_collections", "List collections", ReadOnly)
            .description("List every classifier collection, fetching all pages. A job runs one collection's classifiers.")
            .handler(|ctx: Ctx, _: NoParams| list_all(ctx, "/v1/collections", "collections")),
        SET.tool("get_collection", "Get a collection", ReadOnly)
            .description("Read one collection: its description and classifier count.")
            .request::<CollectionName>(GET, Classification, "/v1/collections/{collection_name}"),
        SET.tool("create_collection", "Create a collection", Additive)
            .description("Create an empty classifier collection; then add_classifiers_to_collection and start a job with it.")
            .request::<CreateCollection>(POST, Classification, "/v1/collections"),
        SET.tool("update_collection", "Update a collection", Idempotent)
            .description("Replace a collection's description (its classifiers are unchanged).")
            .request::<UpdateCollection>(PATCH, Classification, "/v1/collections/{collection_name}"),
        SET.tool("delete_collection", "Delete a collection", Destructive)
            .description("Delete a collection (its classifiers remain).")
            .request::<CollectionName>(DELETE, Classification, "/v1/collections/{collection_name}"),
        SET.tool("get_collection_classifiers", "List a collection's classifiers", ReadOnly)
            .description("List one page of the classifiers in a collection; pass the returned contiguous_id for the next page.")
            .request::<CollectionPage>(GET, Classification, "/v1/collections/{collection_name}/classifiers"),
        SET.tool("add_classifiers_to_collection", "Add classifiers to a collection", Idempotent)
            .description("Add one or more classifiers (names from get_classifiers) to a collection.")
            .request::<CollectionMembers>(PATCH, Classification, "/v1/collections/{collection_name}/classifiers/append"),
        SET.tool("remove_classifiers_from_collection", "Remove classifiers from a collection", Idempotent)
            .description("Remove one or more classifiers from a collection (the classifiers remain).")
            .request::<CollectionMembers>(PATCH, Classification, "/v1/collections/{collection_name}/classifiers/remove"),
        SET.tool("import_altr_managed_classifiers", "Import ALTR-managed classifiers", Idempotent)
            .description("Import (or refresh) ALTR's managed classifiers and their collection into this org; see list_altr_managed_classifiers.")
            .empty_object()
            .request::<NoParams>(POST, Classification, "/v1/collections/altr-managed/import"),
        SET.tool("get_altr_managed_timestamp", "When ALTR-managed classifiers were imported", ReadOnly)
            .description("When the ALTR-managed classifiers were last imported into this org.")
            .request::<NoParams>(GET, Classification, "/v1/collections/altr-managed/timestamp"),
        SET.tool("list_altr_managed_classifiers", "List ALTR-managed classifiers", ReadOnly)
            .description("List one page of ALTR's managed classifiers; pass the returned contiguous_id for the next page.")
            .request::<ManagedPage>(GET, Classification, "/v1/collections/altr-managed/classifiers"),
        SET.tool("get_jobs", "List classification jobs", ReadOnly)
            .description("List classification jobs, filtered by status, type, database, agent or classification type. With limit or contiguous_id returns that page; otherwise every page.")
            .handler(get_jobs),
        SET.tool("get_active_jobs", "List active classification jobs", ReadOnly)
            .description("List one page of the jobs still running or paused.")
            .request::<ActiveJobs>(GET, Classification, "/v1/jobs/active"),
        SET.tool("get_job", "Get a classification job", ReadOnly)
            .description("Read one job: status, type, database, collection, progress. Poll it after starting a job until COMPLETED.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}"),
        SET.tool("get_job_summary", "Get a job's summary", ReadOnly)
            .description("Summarize a job's results: columns scanned and findings per classifier and confidence.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}/summary"),
        SET.tool("create_job", "Start a Snowflake classification job", Additive)
            .description("Start an ALTR-native classification job on a Snowflake database with a collection's classifiers; poll get_job (or pass wait_seconds), then browse get_job_findings.")
            .handler(create_job),
        SET.tool("create_gdlp_job", "Start a Google DLP classification job", Additive)
            .description("Start a Google DLP classification job on a Snowflake database, optionally sampled; poll get_job (or pass wait_seconds), then browse get_job_findings.")
            .handler(create_gdlp_job),
        SET.tool("update_job_status", "Pause, resume or cancel a job", Idempotent)
            .description("Pause (PAUSED), resume (RUNNING) or cancel (CANCELLED) a classification job.")
            .request::<UpdateJobStatus>(PATCH, Classification, "/v1/jobs/{job_id}"),
        SET.tool("create_databricks_job", "Start a Databricks classification job", Additive)
            .description("Start a classification job on a Databricks database; poll get_job (or pass wait_seconds), then browse get_job_findings.")
            .handler(create_databricks_job),
        SET.tool("create_oltp_job", "Start an OLTP classification job", Additive)
            .description("Start a classification job on an OLTP repository through a sidecar agent. Samples 1000 rows by default; PERCENT needs sample_size 1-100; METADATA samples no data.")
            .handler(create_oltp_job),
        SET.tool("get_job_findings", "List a job's findings by database", ReadOnly)
            .description("Top of a job's findings tree: databases with finding counts. Drill down with get_job_findings_schemas, _tables, _columns, _classifiers.")
            .request::<Findings>(GET, Classification, "/v1/jobs/{job_id}/findings"),
        SET.tool("get_job_findings_schemas", "List a job's findings by schema", ReadOnly)
            .description("Schemas of one database with findings, and their counts.")
            .request::<FindingsSchemas>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas"),
        SET.tool("get_job_findings_tables", "List a job's findings by table", ReadOnly)
            .description("Tables of one schema with findings, and their counts.")
            .request::<FindingsTables>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables"),
        SET.tool("get_job_findings_columns", "List a job's findings by column", ReadOnly)
            .description("Columns of one table with findings, and their counts and decisions.")
            .request::<FindingsColumns>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns"),
        SET.tool("get_job_findings_classifiers", "List a column's matching classifiers", ReadOnly)
            .description("Classifiers that matched one column, with confidence and decision; see get_job_findings_lineage for why.")
            .request::<FindingsClassifiers>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns/{column}/classifiers"),
        SET.tool("get_job_findings_lineage", "Explain a finding", ReadOnly)
            .description("Why a classifier matched a column: the rules that fired and their evidence.")
            .request::<FindingsLineage>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns/{column}/classifiers/{classifier_name}/lineage"),
        SET.tool("get_job_findings_leaves", "List a job's findings flat", ReadOnly)
            .description("Every finding of a job as a flat page of (column, classifier, confidence) leaves, optionally by confidence.")
            .request::<FindingsLeaves>(GET, Classification, "/v1/jobs/{job_id}/findings/leaves"),
        SET.tool("record_job_decision", "Approve or reject findings", Idempotent)
            .description("Approve or reject the findings in a scope (database > schema > table > column, optionally one classifier) of a job under review.")
            .handler(record_job_decision),
        SET.tool("get_job_decisions", "List a job's decisions", ReadOnly)
            .description("List one page of the review decisions recorded on a job, optionally within a scope.")
            .request::<GetDecisions>(GET, Classification, "/v1/jobs/{job_id}/decisions"),
        SET.tool("revoke_job_decisions", "Revoke decisions", Destructive)
            .description("Revoke the review decisions within a scope of a job (all of them when no scope is given); the findings return to undecided.")
            .request::<RevokeDecisions>(DELETE, Classification, "/v1/jobs/{job_id}/decisions"),
        SET.tool("record_bulk_job_decision", "Approve or reject findings in bulk", Additive)
            .description("Approve or reject every finding of the named classifiers (optionally by confidence and scope). Its own dry_run is sent to ALTR, which counts what would change (the server's dry run does not apply to this tool).")
            .handler(record_bulk_job_decision),
        SET.tool("revoke_bulk_job_decision", "Revoke a bulk decision", Destructive)
            .description("Undo one bulk decision (id from record_bulk_job_decision).")
            .request::<BulkDecisionId>(DELETE, Classification, "/v1/jobs/{job_id}/decisions/bulk/{bulk_decision_id}"),
        SET.tool("get_job_review_status", "Get a job's review status", ReadOnly)
            .description("How far review of a job's findings has got: decided and undecided counts.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}/review-status"),
        SET.tool("confirm_job_report", "Confirm a job's report", Idempotent)
            .description("Confirm the reviewed findings of a job as its final report.")
            .request::<JobId>(POST, Classification, "/v1/jobs/{job_id}/report/confirm"),
        SET.tool("cancel_job_report", "Cancel a job's report", Idempotent)
            .description("Cancel a job's pending report confirmation, so its findings can be reviewed again.")
            .request::<JobId>(POST, Classification, "/v1/jobs/{job_id}/report/cancel"),
        SET.tool("get_classification_report", "Download a job's report", ReadOnly)
            .description("Download a job's classification report (JSON) through a short-lived presigned link. A failure names the step that failed.")
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
