//! A job's review status and its report: confirmation, cancellation and download.

use serde_json::{json, Value};

use super::common::*;
use crate::client::{ApiRequest, Method, Service::Classification};
use crate::registry::{Ctx, Effect, ToolDef, ToolError, ToolResult, Toolset};

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

pub fn tools(set: &'static Toolset) -> Vec<ToolDef> {
    use Effect::{Idempotent, ReadOnly};
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    vec![
        set.tool("get_job_review_status", "Job review status", ReadOnly)
            .description("Decided and undecided finding counts of job_id.")
            .request::<JobId>(GET, Classification, "/v1/jobs/{job_id}/review-status"),
        set.tool("confirm_job_report", "Confirm job report", Idempotent)
            .description("Confirm review-gated job_id's report once every finding is decided; decisions lock, the report builds (poll get_job for COMPLETED).")
            .request::<JobId>(POST, Classification, "/v1/jobs/{job_id}/report/confirm"),
        set.tool("cancel_job_report", "Cancel job report", Idempotent)
            .description("Cancel review-gated job_id before confirm: job CANCELLED, review data discarded.")
            .request::<JobId>(POST, Classification, "/v1/jobs/{job_id}/report/cancel"),
        set.tool("get_classification_report", "Download job report", ReadOnly)
            .in_default()
            .description("Download COMPLETED job_id's classification report (JSON).")
            .handler(get_classification_report),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
