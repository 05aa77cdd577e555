//! Fitting the tool list to the client: the tools of the `default` keyword beyond its whole
//! toolsets (the daily work of a masking and access administrator, at most 60 tools).

/// Tools of toolsets outside `default` that `default` includes one by one: starting, reading and
/// browsing classification jobs; the usual audit searches; DAM alert triage. With the whole
/// databases, tags, policies and access toolsets this makes the default set.
pub static DAILY_TOOLS: &[&str] = &[
    "get_collections",
    "get_jobs",
    "get_job",
    "get_job_summary",
    "create_job",
    "get_job_findings",
    "get_classification_report",
    "search_audits",
    "get_audit_results",
    "search_query_audits",
    "get_query_audit_results",
    "list_dam_alerts",
    "get_dam_alert",
    "acknowledge_dam_alert",
    "list_dam_rules",
];
