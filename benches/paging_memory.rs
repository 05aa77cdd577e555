//! Memory of one paged read whatever ALTR sends: `get_tags` against a fake API whose every page
//! is about 1 MB and says there is more, 100 pages on offer. The server stops collecting at
//! MAX_RESULT_BYTES (and at 100 pages in any case), so its peak stays a small multiple of that
//! setting instead of holding every page.
//!
//! Run with `cargo bench --bench paging_memory`. Target: peak resident memory under 64 MiB with
//! the default MAX_RESULT_BYTES (512 KiB).

// A benchmark harness, like a test: failing loudly is what it should do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use wiremock::{matchers, Mock, MockServer, Request, Respond, ResponseTemplate};

// Each benchmark uses part of the shared process helpers.
#[allow(dead_code)]
#[path = "support/proc.rs"]
mod proc;

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");
const PAGES: usize = 100;

/// Pages of about 1 MB, each different, always offering another, up to [`PAGES`].
struct MegabytePages(Arc<AtomicUsize>);

impl Respond for MegabytePages {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let page = self.0.fetch_add(1, Ordering::SeqCst);
        let items: Vec<Value> = (0..1000)
            .map(|i| json!({"tag_name": format!("T{page}-{i}"), "padding": "x".repeat(1000)}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"items": items, "has_more": page + 1 < PAGES}))
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let api = runtime.block_on(async {
        let api = MockServer::start().await;
        Mock::given(matchers::method("GET"))
            .and(matchers::path("/api/v1/tag/masking"))
            .respond_with(MegabytePages(served.clone()))
            .mount(&api)
            .await;
        api
    });
    let mut child = proc::stdio_server(BIN, &[("ALTR_API_BASE_URL", format!("{}/api", api.uri()))]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for message in [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_tags","arguments":{}}}"#,
    ] {
        writeln!(stdin, "{message}").unwrap();
        if message.contains("\"id\"") {
            line.clear();
            stdout.read_line(&mut line).unwrap();
        }
    }
    let answer: Value = serde_json::from_str(&line).unwrap();
    let data = &answer["result"]["structuredContent"]["data"];
    let peak = proc::peak_rss_kib(child.id());
    drop(stdin);
    let _ = child.wait();
    println!(
        "get_tags over {PAGES} pages of ~1 MB on offer: {} pages read, {} items kept, truncated {}",
        served.load(Ordering::SeqCst),
        data["count"],
        data["truncated"]
    );
    if let Some(kib) = peak {
        println!(
            "peak resident memory: {:.1} MiB (target < 64 MiB)",
            kib as f64 / 1024.0
        );
    }
}
