//! A job's findings, from database down to column, with lineage and flat leaves.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::*;
use crate::client::{Method, Service::Classification};
use crate::registry::params::{Limit, NonEmpty, PageToken};
use crate::registry::{Effect, ToolDef, Toolset};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Findings {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub page_token: Option<PageToken>,
    #[schemars(extend("x-doc" = "Only findings of these classifiers: one name or a list (sent as repeated query keys), names from get_classifiers. Omit for all."))]
    pub classifier_name: Option<ClassifierNames>,
    #[schemars(extend("x-doc" = "Only findings in this review state: approved, rejected or pending (not yet reviewed). Omit for all."))]
    pub confirmed_status: Option<StatusFilter>,
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
    #[schemars(extend("x-doc" = "Only findings in this review state: approved, rejected or pending (not yet reviewed). Omit for all."))]
    pub confirmed_status: Option<StatusFilter>,
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
    #[schemars(extend("x-doc" = "Only findings in this review state: approved, rejected or pending (not yet reviewed). Omit for all."))]
    pub confirmed_status: Option<StatusFilter>,
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
    #[schemars(extend("x-doc" = "Only findings in this review state: approved, rejected or pending (not yet reviewed). Omit for all."))]
    pub confirmed_status: Option<StatusFilter>,
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
    #[schemars(extend("x-doc" = "Only findings in this review state: approved, rejected or pending (not yet reviewed). Omit for all."))]
    pub confirmed_status: Option<StatusFilter>,
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

pub fn tools(set: &'static Toolset) -> Vec<ToolDef> {
    use Effect::ReadOnly;
    const GET: Method = Method::GET;
    vec![
        set.tool("get_job_findings", "Findings by database", ReadOnly)
        .in_default()
            .description("job_id's findings per database (then get_job_findings_schemas). Filters: classifier_name, confirmed_status; include_column_status_counts.")
            .request::<Findings>(GET, Classification, "/v1/jobs/{job_id}/findings"),
        set.tool("get_job_findings_schemas", "Findings by schema", ReadOnly)
            .description("Schemas with findings in job_id's database. Filters: classifier_name, confirmed_status.")
            .request::<FindingsSchemas>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas"),
        set.tool("get_job_findings_tables", "Findings by table", ReadOnly)
            .description("Tables with findings in job_id's database.schema. Filters: classifier_name, confirmed_status.")
            .request::<FindingsTables>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables"),
        set.tool("get_job_findings_columns", "Findings by column", ReadOnly)
            .description("Columns with findings and decisions in job_id's database.schema.table. Filters: classifier_name, confirmed_status.")
            .request::<FindingsColumns>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns"),
        set.tool("get_job_findings_classifiers", "Column matches", ReadOnly)
            .description("Classifiers matching job_id's database.schema.table.column: confidence, decision. Filter: confirmed_status.")
            .request::<FindingsClassifiers>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns/{column}/classifiers"),
        set.tool("get_job_findings_lineage", "Explain finding", ReadOnly)
            .description("Why classifier_name matched job_id's database.schema.table.column (rules, evidence).")
            .request::<FindingsLineage>(GET, Classification, "/v1/jobs/{job_id}/findings/databases/{database}/schemas/{schema}/tables/{table}/columns/{column}/classifiers/{classifier_name}/lineage"),
        set.tool("get_job_findings_leaves", "Flat findings", ReadOnly)
            .description("job_id's findings as flat column/classifier/confidence rows; filter by confidence.")
            .request::<FindingsLeaves>(GET, Classification, "/v1/jobs/{job_id}/findings/leaves"),
    ]
}
