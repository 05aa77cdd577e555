//! Classification jobs: listing, starting (Snowflake, Google DLP, Databricks, OLTP) with an
//! optional wait, and status changes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::common::*;
use crate::client::{path, seg, ApiRequest, Method, Service::Classification};
use crate::registry::args::object_without_nulls;
use crate::registry::paging::{collect_pages, Pages};
use crate::registry::params::{ContiguousId, Id, Limit, Name, WaitSeconds};
use crate::registry::{Ctx, Effect, Endpoint, ToolDef, ToolError, ToolResult, Toolset};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetJobs {
    // ALTR pages jobs 50 at a time at most.
    pub limit: Option<Limit<50>>,
    pub contiguous_id: Option<ContiguousId>,
    #[schemars(extend("x-doc" = "Only jobs in this status: RUNNING, PAUSED, COMPLETED, CANCELLED, FAILED or AWAITING_REVIEW (a review-gated job whose findings await decisions). Omit for all."))]
    pub status: Option<JobStatus>,
    #[schemars(extend("x-doc" = "Only jobs of this type: FULL or INCREMENTAL. Omit for both."))]
    pub job_type: Option<JobType>,
    #[schemars(extend("x-doc" = "Only jobs on this database, by its numeric id from get_databases."))]
    pub database_id: Option<Id>,
    #[schemars(extend("x-doc" = "Only jobs run by this agent, by its id from list_sc_agents."))]
    pub agent_id: Option<Name>,
    #[schemars(extend("x-doc" = "Only jobs of this classification type: 1 Google DLP, 2 Snowflake native, 3 Snowflake tag import, 4 Snowflake native and tag import, 5 ALTR native, 6 Google DLP with your own key (GDLP BYOK)."))]
    pub classification_type: Option<ClassificationType>,
    #[schemars(extend("x-doc" = "Order by start time: asc (oldest first) or desc (newest first, ALTR's default). Not sent when omitted."))]
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
pub struct CreateJob {
    #[schemars(extend("x-doc" = "FULL scans everything; INCREMENTAL scans only what changed since the last job."))]
    pub job_type: JobType,
    #[schemars(extend("x-doc" = "The Snowflake database to scan, by its numeric id from get_databases."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The collection of classifiers the job runs, by its name from get_collections."))]
    pub collection_name: Name,
    #[serde(default, skip_serializing_if = "is_empty")]
    #[schemars(extend("x-doc" = "The condition targets the job evaluates. A list replaces ALTR's default set rather than adding to it, so list every target the collection's classifiers use: an unlisted target is not evaluated, and its conditions count as passing within an AND. Accepted: ROW_DATA, METADATA, COLUMN_LOCATION, SNOWFLAKE_NATIVE, CONTENT_TYPE, DATA_LENGTH, COLUMN_SIZE, ENTROPY (GDLP and AMAZON_COMPREHEND need create_gdlp_job). Not sent when omitted or empty."))]
    pub condition_types: Vec<String>,
    /// true: report held for review until confirm_job_report
    #[schemars(extend("x-doc" = "true holds the report for review: the job waits at AWAITING_REVIEW until every finding is decided (record_job_decision, record_bulk_job_decision) and confirm_job_report runs. ALTR's default is false; not sent when omitted."))]
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
    #[schemars(extend("x-doc" = "The collection whose classifiers scope the scan, by its name from get_collections: every classifier in it is evaluated, not only Google DLP ones. When omitted (not sent), all default Google DLP info-types are used. The scan is always FULL."))]
    pub collection_name: Option<Name>,
    #[serde(default, skip_serializing_if = "is_empty")]
    #[schemars(extend("x-doc" = "The condition targets the job evaluates. A list replaces ALTR's default (GDLP, METADATA, COLUMN_LOCATION, CONTENT_TYPE) rather than adding to it, so list every target the classifiers use, GDLP among them. Accepted: GDLP, SNOWFLAKE_NATIVE, ROW_DATA, METADATA, COLUMN_LOCATION, CONTENT_TYPE, DATA_LENGTH, COLUMN_SIZE, AMAZON_COMPREHEND, ENTROPY. Not sent when omitted or empty."))]
    pub condition_types: Vec<String>,
    #[schemars(extend("x-doc" = "How much data to sample per column: a number of rows, or a percentage when sample_type is PERCENT; not sent when omitted (ALTR's default 100)."))]
    pub sample_size: Option<u32>,
    #[schemars(extend("x-doc" = "How sample_size counts: ROWS (a number of rows, ALTR's default) or PERCENT (a percentage, 1-100); not sent when omitted."))]
    pub sample_type: Option<SampleType>,
    /// true: report held for review until confirm_job_report
    #[schemars(extend("x-doc" = "true holds the report for review: the job waits at AWAITING_REVIEW until every finding is decided (record_job_decision, record_bulk_job_decision) and confirm_job_report runs. ALTR's default is false; not sent when omitted."))]
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the new job to finish, polling get_job and reporting progress; it then answers with the job as it stands. Default 0: the start answer comes back at once. Not sent to ALTR."))]
    pub wait_seconds: WaitSeconds,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatabricksJob {
    #[schemars(extend("x-doc" = "The Databricks connection to scan with Google DLP, by its numeric id from get_databases: every catalog and table it can reach is scanned."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The collection whose classifiers scope the scan, by its name from get_collections: every classifier in it is evaluated. When omitted (not sent), all default Google DLP info-types are used."))]
    pub collection_name: Option<Name>,
    #[serde(default, skip_serializing_if = "is_empty")]
    #[schemars(extend("x-doc" = "The condition targets the job evaluates. A list replaces ALTR's default (GDLP, METADATA, COLUMN_LOCATION, CONTENT_TYPE; not ROW_DATA, as Databricks Google DLP does not match classifier regexes against samples by default) rather than adding to it, so include GDLP to keep it. Accepted: ROW_DATA, METADATA, COLUMN_LOCATION, GDLP, SNOWFLAKE_NATIVE, CONTENT_TYPE, DATA_LENGTH, COLUMN_SIZE, AMAZON_COMPREHEND, ENTROPY. Not sent when omitted or empty."))]
    pub condition_types: Vec<String>,
    /// true: report held for review until confirm_job_report
    #[schemars(extend("x-doc" = "true holds the report for review: the job waits at AWAITING_REVIEW until every finding is decided (record_job_decision, record_bulk_job_decision) and confirm_job_report runs. ALTR's default is false; not sent when omitted."))]
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
    #[schemars(extend("x-doc" = "The CLASSIFIER agent that runs the job, by its id from list_sc_agents (agent_type CLASSIFIER)."))]
    pub agent_id: Name,
    #[schemars(extend("x-doc" = "The OLTP repository to classify, by its name from list_sc_repos."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The repository service user the agent connects as (list_sc_service_users)."))]
    pub service_user_name: Name,
    #[schemars(extend("x-doc" = "The collection of classifiers the job runs, by its name from get_collections."))]
    pub collection_name: Name,
    #[serde(default = "default_oltp_type")]
    #[schemars(extend("x-doc" = "ALTR documents 5 (ALTR native, the default) and 6 (Google DLP with your own key, GDLP BYOK, which samples with sample_strategy ROWS only) for OLTP jobs; any type 1 to 6 is passed on, and ALTR answers for the others."))]
    pub classification_type: ClassificationType,
    #[schemars(extend("x-doc" = "ROWS (the default) samples rows of data; COMBINED samples rows and reads column names; METADATA reads column names only, no data, and takes no sample_size or sample_type. Another value is passed on to ALTR."))]
    pub sample_strategy: Option<SampleStrategy>,
    #[schemars(extend("x-doc" = "How much to sample with sample_strategy ROWS: a number of rows (default 1000), or 1 to 100 percent when sample_type is PERCENT (then required). Refused with METADATA."))]
    pub sample_size: Option<u32>,
    #[schemars(extend("x-doc" = "How sample_size counts with sample_strategy ROWS: ROWS (the default) or PERCENT. Refused with METADATA."))]
    pub sample_type: Option<SampleType>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "The condition targets the job evaluates. When omitted (or empty, then not sent) ALTR derives them from sample_strategy and classification_type; a list replaces that default rather than adding to it. AMAZON_COMPREHEND runs only when listed; GDLP is in the default only for classification_type 6. Accepted: ROW_DATA, METADATA, COLUMN_LOCATION, CONTENT_TYPE, DATA_LENGTH, COLUMN_SIZE, AMAZON_COMPREHEND, GDLP, ENTROPY, e.g. [\"ROW_DATA\", \"METADATA\"]."))]
    pub condition_types: Vec<String>,
    #[schemars(extend("x-doc" = "The Oracle SID to connect to; not sent when omitted."))]
    pub sid: Option<String>,
    #[schemars(extend("x-doc" = "The Oracle service name or another connection identifier; not sent when omitted."))]
    pub service_name: Option<String>,
    #[schemars(extend("x-doc" = "Links this one-off run to an existing scheduled agent task, by its id from list_sc_agent_tasks; the run itself creates no task. Not sent when omitted."))]
    pub task_id: Option<String>,
    /// true: report held for review until confirm_job_report
    #[schemars(extend("x-doc" = "true holds the report for review: the job waits at AWAITING_REVIEW until every finding is decided (record_job_decision, record_bulk_job_decision) and confirm_job_report runs. ALTR's default is false; not sent when omitted."))]
    pub requires_review: Option<bool>,
    #[serde(default, skip_serializing)]
    #[schemars(extend("x-doc" = "How many seconds (0 to 60) this call waits for the new job to finish, polling get_job and reporting progress; it then answers with the job as it stands. Default 0: the start answer comes back at once. Not sent to ALTR."))]
    pub wait_seconds: WaitSeconds,
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
    let strategy = p.sample_strategy.clone().unwrap_or(SampleStrategy::Rows);
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
        // A strategy ALTR may add samples like ROWS as far as this server knows.
        SampleStrategy::Rows | SampleStrategy::Combined | SampleStrategy::Other(_) => {
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

pub fn tools(set: &'static Toolset) -> Vec<ToolDef> {
    use Effect::{Additive, Idempotent, ReadOnly};
    const GET: Method = Method::GET;
    const PATCH: Method = Method::PATCH;
    vec![
        set.tool("get_jobs", "List jobs", ReadOnly)
        .in_default()
            .description("Jobs by status, job_type, database_id, agent_id, classification_type; order by start. All pages unless limit/contiguous_id.")
            .handler(get_jobs),
        set.tool("get_active_jobs", "List active jobs", ReadOnly)
            .description("Running or paused jobs (a page), by database_id or agent_id.")
            .request::<ActiveJobs>(GET, Classification, "/v1/jobs/active"),
        set.tool("get_job", "Get job", ReadOnly)
        .in_default()
            .description("job_id's status, progress; poll after create_*_job until COMPLETED.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}"),
        set.tool("get_job_summary", "Job summary", ReadOnly)
            .description("job_id's scanned columns, findings per classifier and confidence.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}/summary"),
        set.tool("create_job", "Start Snowflake job", Additive)
        .in_default()
            .description("ALTR-native scan of Snowflake database_id with collection_name, job_type; also condition_types, requires_review, wait_seconds.")
            .handler(create_job),
        set.tool("create_gdlp_job", "Start DLP job", Additive)
            .description("Full Google DLP scan of Snowflake database_id; also collection_name, condition_types, sample_size (rows, or % if sample_type PERCENT), requires_review, wait_seconds.")
            .handler(create_gdlp_job),
        set.tool("update_job_status", "Set job status", Idempotent)
            .description("Pause, resume (RUNNING) or cancel job_id via status.")
            .request::<UpdateJobStatus>(PATCH, Classification, "/v1/jobs/{job_id}"),
        set.tool("create_databricks_job", "Start Databricks job", Additive)
            .description("Google DLP scan of Databricks database_id; also collection_name, condition_types, requires_review, wait_seconds.")
            .handler(create_databricks_job),
        set.tool("create_oltp_job", "Start OLTP job", Additive)
            .description("Classify OLTP repo_name via CLASSIFIER agent_id (list_sc_agents) as service_user_name with collection_name. sample_strategy ROWS, COMBINED or METADATA (reads no data, no sample_*); sample_size rows (default 1000), or 1-100 if sample_type PERCENT. classification_type 5 ALTR native, 6 GDLP BYOK (ROWS only). Also condition_types, sid (Oracle), service_name, task_id, requires_review, wait_seconds.")
            .handler(create_oltp_job),
    ]
}
