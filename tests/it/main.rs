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

mod common;
mod http_common;
mod sandbox_common;

mod access;
mod audits;
mod budget;
mod call;
mod classification;
mod client;
mod dam;
mod databases;
mod discovery;
mod generated;
mod hardening;
mod http_sse;
mod http_streamable;
mod keys;
mod layout;
mod pipeline;
mod policies;
mod progress;
mod prompts;
mod registry;
mod resources;
mod safe;
mod sandbox_cli;
mod sandbox_faults;
mod sandbox_workflows;
mod server;
mod sidecars;
mod stdio;
mod tags;
mod telemetry;
mod tokenization;
