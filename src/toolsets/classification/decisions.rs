//! Review decisions on a job's findings, one at a time or in bulk.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::*;
use crate::client::{ApiRequest, Method, Service::Classification};
use crate::registry::args::object_without_nulls;
use crate::registry::params::{Limit, Name, NonEmpty, PageToken};
use crate::registry::{Ctx, Effect, ToolDef, ToolResult, Toolset};

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
    #[schemars(extend("x-doc" = "Decide only the findings of this classifier on the column (from get_job_findings_classifiers); needs column. All classifiers in the scope when omitted."))]
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

async fn record_job_decision(ctx: Ctx, p: RecordDecision) -> ToolResult {
    check_scope(&[
        ("database", p.database.is_some()),
        ("schema", p.schema.is_some()),
        ("table", p.table.is_some()),
        ("column", p.column.is_some()),
        ("classifier_name", p.classifier_name.is_some()),
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

pub fn tools(set: &'static Toolset) -> Vec<ToolDef> {
    use Effect::{Additive, Destructive, Idempotent, ReadOnly};
    const GET: Method = Method::GET;
    const DELETE: Method = Method::DELETE;
    vec![
        set.tool("record_job_decision", "Approve/reject findings", Idempotent)
            .description("Set confirmed_status of job_id's findings, optionally in database/schema/table/column/classifier_name (each needs its parent).")
            .handler(record_job_decision),
        set.tool("get_job_decisions", "List decisions", ReadOnly)
            .description("job_id's review decisions (a page), optionally in database/schema/table/column.")
            .request::<GetDecisions>(GET, Classification, "/v1/jobs/{job_id}/decisions"),
        set.tool("revoke_job_decisions", "Revoke decisions", Destructive)
            .description("Revoke job_id's decisions in database/schema/table/column, optionally one classifier_name's (no scope: all); findings become undecided.")
            .request::<RevokeDecisions>(DELETE, Classification, "/v1/jobs/{job_id}/decisions"),
        set.tool("record_bulk_job_decision", "Bulk approve/reject", Additive)
            .description("Set confirmed_status on undecided findings of classifier_names in job_id, optionally by confidence, database/schema/table. Its own dry_run: ALTR only counts (not the server's dry run).")
            .handler(record_bulk_job_decision),
        set.tool("revoke_bulk_job_decision", "Undo bulk decision", Destructive)
            .description("Undo bulk_decision_id (record_bulk_job_decision) of job_id; findings decided singly since keep theirs.")
            .request::<BulkDecisionId>(DELETE, Classification, "/v1/jobs/{job_id}/decisions/bulk/{bulk_decision_id}"),
    ]
}
