//! What one call may cost, through MCP against a fake ALTR API: independent reads go out side by
//! side, a before-read stops at the page that holds what it needs, paging ends at one page budget
//! and one byte budget (MAX_RESULT_BYTES) per call however many listings the call reads, and
//! every page is checked like a single read. Request counts and order are checked, never time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::{matchers, Mock, Request, Respond, ResponseTemplate};

use crate::common::{query_of, Harness};

const POLICY: &str = "/api/v1/unified-policy/management/policy";
const TAGS: &str = "/api/v1/tag/masking";
const RULES: &str = "/api/v1/unified-policy/management/policy/TAG%23p1/rules";

/// Wait (bounded) until the fake API has received `n` requests; how many it had.
async fn received(h: &Harness, n: usize) -> usize {
    for _ in 0..300 {
        let got = h.api.received_requests().await.unwrap_or_default().len();
        if got >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.api.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn get_policies_asks_for_every_type_before_any_answer_comes_back() {
    let h = Harness::start().await;
    // Every answer is held back: one type after another, only one request would be in.
    Mock::given(matchers::method("GET"))
        .and(matchers::path(POLICY))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"policies": []}}))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&h.api)
        .await;
    let client = h.client.peer().clone();
    let call =
        tokio::spawn(
            async move { crate::common::call_tool(&client, "get_policies", json!({})).await },
        );
    assert_eq!(received(&h, 7).await, 7, "all seven types asked at once");
    let c = call.await.unwrap();
    assert_eq!(c.ok()["count"], 0);
}

/// Answers each page with a new cursor, for ever.
struct Endless(Arc<AtomicUsize>);

impl Respond for Endless {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(json!({
            "data": {"policies": [{"policy_id": format!("p{n}")}], "last_evaluated_key": format!("k{n}")}
        }))
    }
}

#[tokio::test]
async fn endless_paging_ends_at_one_page_budget_for_the_whole_call() {
    let h = Harness::start().await;
    let served = Arc::new(AtomicUsize::new(0));
    Mock::given(matchers::method("GET"))
        .and(matchers::path(POLICY))
        .respond_with(Endless(served.clone()))
        .mount(&h.api)
        .await;
    let c = h.call("get_policies", json!({})).await;
    let data = c.ok();
    assert_eq!(data["truncated"], true, "{data}");
    assert!(data["note"].as_str().unwrap().contains("100"), "{data}");
    // Seven listings share the call's 100 pages: not 100 each.
    assert_eq!(served.load(Ordering::SeqCst), 100);
    assert_eq!(data["count"], 100);
}

#[tokio::test]
async fn a_listing_stops_collecting_at_max_result_bytes() {
    let h = Harness::with_env(&[("MAX_RESULT_BYTES", "200000")]).await;
    let served = Arc::new(AtomicUsize::new(0));
    struct Big(Arc<AtomicUsize>);
    impl Respond for Big {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let page = self.0.fetch_add(1, Ordering::SeqCst);
            let items: Vec<Value> = (0..1000)
                .map(|i| json!({"tag_name": format!("T{page}-{i:04}"), "padding": "x".repeat(100)}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"items": items, "has_more": true}))
        }
    }
    Mock::given(matchers::method("GET"))
        .and(matchers::path(TAGS))
        .respond_with(Big(served.clone()))
        .mount(&h.api)
        .await;
    let c = h.call("get_tags", json!({})).await;
    let data = c.ok();
    assert_eq!(data["truncated"], true);
    assert!(
        data["note"].as_str().unwrap().contains("MAX_RESULT_BYTES"),
        "{}",
        data["note"]
    );
    // Each page is about 130 kB: the second crosses 200 kB, and no third is asked for.
    assert_eq!(served.load(Ordering::SeqCst), 2);
    assert_eq!(data["count"], 2000);
}

#[tokio::test]
async fn an_unsuccessful_page_fails_the_listing() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        TAGS,
        200,
        json!({"success": false, "message": "tag service unavailable"}),
    )
    .await;
    let c = h.call("get_tags", json!({})).await;
    assert_eq!(c.error()["code"], "upstream_unsuccessful", "{}", c.envelope);
    assert!(c.text.contains("tag service unavailable"));
}

#[tokio::test]
async fn update_rule_reads_the_rules_only_up_to_the_page_that_holds_the_rule() {
    let h = Harness::with_env(&[("ALTR_CONFIRM", "never")]).await;
    // Page one holds the rule and offers a second page, which must not be read.
    Mock::given(matchers::method("GET"))
        .and(matchers::path(RULES))
        .and(matchers::query_param_is_missing("exclusive_start_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"items": {"h1": [{"rule_id": "r1", "masking_policy": 10000}]}, "last_evaluated_key": "page2"}
        })))
        .mount(&h.api)
        .await;
    h.mock(
        "GET",
        &format!("{POLICY}/rules/supportedMaskingTypes"),
        200,
        json!({"data": {"maskingTypes": [{"id": 10000}, {"id": 10001}]}}),
    )
    .await;
    h.mock(
        "PATCH",
        &format!("{RULES}/r1"),
        200,
        json!({"data": {"rule_id": "r1", "masking_policy": 10001}}),
    )
    .await;
    let c = h
        .call(
            "update_rule",
            json!({"policy_id": "TAG#p1", "rule_id": "r1", "masking_policy": 10001}),
        )
        .await;
    let data = c.ok();
    assert_eq!(data["before"]["masking_policy"], 10000, "{data}");
    let r = h.requests().await;
    // The level lookup, the first page of rules, the PATCH: nothing more.
    assert_eq!(
        r.len(),
        3,
        "{:?}",
        r.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
    );
    assert!(r
        .iter()
        .all(|r| !query_of(r).iter().any(|(k, _)| k == "exclusive_start_key")));
    assert_eq!(r[2].method.as_str(), "PATCH", "the write comes last");
}
