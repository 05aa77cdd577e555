//! Every way a tool is called goes through the one pipeline: a gate added to the server sees the
//! plain call, the dry run, the confirmation preview, `altr-mcp call`'s path, a prompt's
//! completion and a resource read.

use std::sync::{Arc, Mutex};

use altr_mcp::config::{Purpose as Needed, Settings, Sources};
use altr_mcp::sandbox::{Sandbox, Seed};
use altr_mcp::server::pipeline::{Call, Gate, GateFuture, Pipeline, Purpose};
use altr_mcp::server::{prompts, resources, AltrServer};
use serde_json::json;

/// A gate that only records what passes it.
#[derive(Default)]
struct Observer(Mutex<Vec<(String, Purpose, bool)>>);

impl Gate for Observer {
    fn before<'a>(&'a self, call: &'a mut Call, _pipeline: &'a Pipeline) -> GateFuture<'a> {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((call.name.clone(), call.purpose, call.flags.dry_run));
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Observer {
    fn take(&self) -> Vec<(String, Purpose, bool)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn server(observer: Arc<Observer>) -> (AltrServer, Sandbox) {
    let sandbox = Sandbox::start(0, Seed::Demo).await.unwrap();
    let mut pairs = sandbox.env();
    pairs.push(("ALTR_CONFIRM".into(), "required".into()));
    let settings = Settings::load(&Sources::from_pairs(pairs), Needed::Serve).unwrap();
    let registry = Arc::new(altr_mcp::toolsets::everything());
    let server = altr_mcp::cli::build_server(&settings, registry)
        .unwrap()
        .with_gate(observer);
    (server, sandbox)
}

#[tokio::test]
async fn every_way_of_calling_a_tool_passes_the_same_gates() {
    let observer = Arc::new(Observer::default());
    let (server, _sandbox) = server(observer.clone()).await;
    let own = |name: &str, purpose, dry| (name.to_string(), purpose, dry);

    // A plain call (what `altr-mcp call` and tools/call run).
    let r = server.call("get_databases", None).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(
        observer.take(),
        [own("get_databases", Purpose::Call, false)]
    );

    // A dry run.
    let args = json!({"policy_id": "TAG#1", "dry_run": true});
    let r = server
        .call("delete_policy", args.as_object().cloned())
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{:?}", r.structured_content);
    assert_eq!(observer.take(), [own("delete_policy", Purpose::Call, true)]);

    // The confirmation preview: the same pipeline with dry-run on, run from inside the
    // confirmation gate; the call itself stops at that gate, before the added one.
    let args = json!({"policy_id": "TAG#1"});
    let r = server
        .call("delete_policy", args.as_object().cloned())
        .await
        .unwrap();
    let envelope = r.structured_content.unwrap();
    assert_eq!(
        envelope["error"]["code"], "confirmation_required",
        "{envelope}"
    );
    assert!(
        envelope["error"]["details"]["would_send"].is_array(),
        "{envelope}"
    );
    assert_eq!(
        observer.take(),
        [own("delete_policy", Purpose::Preview, true)]
    );

    // A prompt argument completed from the org, and a resource read.
    let completion = prompts::complete(server.pipeline(), "database_name", "").await;
    assert!(!completion.completion.values.is_empty());
    assert_eq!(
        observer.take(),
        [own("get_databases", Purpose::Call, false)]
    );
    resources::read(server.pipeline(), resources::DATABASES)
        .await
        .unwrap();
    assert_eq!(
        observer.take(),
        [own("get_databases", Purpose::Call, false)]
    );
}
