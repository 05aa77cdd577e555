//! Progress for long work: the create_*_job tools' optional `wait_seconds` polls get_job until
//! the job leaves RUNNING, with progress notifications to a client that asked, and stops waiting
//! when the call is cancelled.

use std::sync::{Arc, Mutex};

use altr_mcp::client::{AltrClient, ClientConfig};
use altr_mcp::config::{Purpose, Settings, Sources};
use altr_mcp::registry::Selection;
use altr_mcp::sandbox::{Sandbox, Seed};
use altr_mcp::server::AltrServer;
use rmcp::model::{
    CallToolRequestParams, NumberOrString, ProgressNotificationParam, ProgressToken,
    RequestParamsMeta,
};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use wiremock::{matchers, Mock, ResponseTemplate};

use crate::common::{api_settings, args, connect_with, Harness, STEP};

/// A client that records the progress notifications it receives.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<ProgressNotificationParam>>>);

impl Recorder {
    /// The notifications received, once there are `n` (they may land just after the result) or
    /// after a second.
    pub async fn wait_for(&self, n: usize) -> Vec<ProgressNotificationParam> {
        for _ in 0..50 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.0.lock().unwrap().clone()
    }
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.0.lock().unwrap().push(params);
    }
}

#[tokio::test]
async fn a_waiting_job_start_reports_progress_until_the_job_completes() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sandbox = Sandbox::start(0, Seed::Demo).await.unwrap();
    let recorder = Recorder::default();
    let client = connect_with(sandbox.env(), recorder.clone()).await;
    let mut params = CallToolRequestParams::new("create_job".to_string()).with_arguments(args(
        json!({"job_type": "FULL", "database_id": 1, "collection_name": "PII", "wait_seconds": 30}),
    ));
    params.set_progress_token(ProgressToken(NumberOrString::String("job-1".into())));
    let result = tokio::time::timeout(STEP, client.call_tool(params))
        .await
        .unwrap()
        .unwrap();
    let envelope: Value = result.structured_content.unwrap();
    assert_eq!(envelope["success"], true, "{envelope}");
    // The sandbox's job is half done at the first read and complete at the second.
    let job = &envelope["data"]["job"];
    assert_eq!(job["status"], "COMPLETED", "{envelope}");
    let id = envelope["data"]["job_id"].as_str().unwrap();
    assert_eq!(job["id"], id);
    let seen = recorder.wait_for(2).await;
    assert_eq!(seen.len(), 2, "one per poll: {seen:?}");
    assert!(
        seen[0].message.as_deref().unwrap().contains("50% done"),
        "{seen:?}"
    );
    assert_eq!(seen[1].message.as_deref(), Some("job finished"));
    assert_eq!(seen[1].total, Some(30.0));
    assert_eq!(seen[1].progress, 30.0);
    // The findings are there to browse.
    let mut findings = CallToolRequestParams::new("get_job_findings".to_string());
    findings = findings.with_arguments(args(json!({"job_id": id})));
    let r = client.call_tool(findings).await.unwrap();
    assert_ne!(r.is_error, Some(true));
}

#[tokio::test]
async fn without_wait_seconds_the_job_is_returned_at_once() {
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/classification/v1/jobs/databricks",
        200,
        json!({"data": {"id": "j-9", "status": "RUNNING"}}),
    )
    .await;
    let c = h
        .call("create_databricks_job", json!({"database_id": 3}))
        .await;
    assert_eq!(c.ok()["data"]["id"], "j-9");
    let requests = h.requests().await;
    assert_eq!(requests.len(), 1, "no get_job poll");
    // wait_seconds is not sent to ALTR.
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body, json!({"database_id": 3}));
}

#[tokio::test]
async fn wait_seconds_is_bounded() {
    let h = Harness::start().await;
    for (tool, args) in [
        (
            "create_job",
            json!({"job_type": "FULL", "database_id": 1, "collection_name": "PII"}),
        ),
        ("create_gdlp_job", json!({"database_id": 1})),
        ("create_databricks_job", json!({"database_id": 1})),
        (
            "create_oltp_job",
            json!({"agent_id": "a", "repo_name": "r", "service_user_name": "s", "collection_name": "PII"}),
        ),
    ] {
        let c = h
            .call(
                tool,
                crate::common::with_args(&args, json!({"wait_seconds": 61})),
            )
            .await;
        c.invalid("wait_seconds");
    }
    h.assert_no_requests().await;
}

#[tokio::test]
async fn a_job_still_running_when_the_wait_ends_or_the_call_is_cancelled_is_returned_as_it_stands()
{
    let h = Harness::start().await;
    h.mock(
        "POST",
        "/classification/v1/jobs/snowflake",
        200,
        json!({"data": {"id": "j-1", "status": "RUNNING"}}),
    )
    .await;
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/classification/v1/jobs/j-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"id": "j-1", "status": "RUNNING", "progress": 10}})),
        )
        .mount(&h.api)
        .await;
    // The wait ends.
    let c = h
        .call(
            "create_gdlp_job",
            json!({"database_id": 1, "wait_seconds": 1}),
        )
        .await;
    let data = c.ok();
    assert_eq!(data["job"]["data"]["status"], "RUNNING");
    assert!(data["message"].as_str().unwrap().contains("get_job"));

    // The call is cancelled while waiting: it stops polling and answers.
    let pairs = api_settings(&h.api);
    let settings = Settings::load(&Sources::from_pairs(pairs), Purpose::Serve).unwrap();
    let server = AltrServer::new(
        Arc::new(altr_mcp::toolsets::select(&Selection::default()).unwrap()),
        Arc::new(AltrClient::new(ClientConfig::from_settings(&settings))),
    );
    let cancel = CancellationToken::new();
    let call = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            server
                .run(
                    "create_job",
                    Some(args(json!({"job_type": "FULL", "database_id": 1,
                        "collection_name": "PII", "wait_seconds": 60}))),
                    cancel,
                )
                .await
        })
    };
    let polled = |n: usize| {
        let api = &h.api;
        async move {
            api.received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .filter(|r| r.method.as_str() == "GET")
                .count()
                >= n
        }
    };
    let before = h
        .requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count();
    let mut seen = false;
    for _ in 0..500 {
        if polled(before + 1).await {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "the job was polled");
    cancel.cancel();
    let (result, _) = tokio::time::timeout(STEP, call)
        .await
        .expect("a cancelled wait ends")
        .unwrap()
        .unwrap();
    let envelope = result.structured_content.unwrap();
    assert_eq!(
        envelope["data"]["job"]["data"]["status"], "RUNNING",
        "{envelope}"
    );
}
