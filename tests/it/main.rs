//! The integration tests, as one test binary (one link for every test): the real server driven
//! through MCP against a local fake ALTR API (wiremock) or the built-in sandbox, plus the few
//! tests that spawn the built binary (stdio, HTTP transports, the sandbox command).
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// Grouped as the source is: the harness (fake API, clients, servers), the registry and the
// layout, each toolset's requests, the features around the calls, the transports, the sandbox.
mod features;
mod harness;
mod registry;
mod sandbox;
mod toolsets;
mod transport;

// The paths the test modules use for each other.
use features::progress;
use harness::{common, http_common, sandbox_common};
use registry::generated;
use toolsets::{
    access, audits, classification, dam, databases, keys, policies, sidecars, tags, telemetry,
};
