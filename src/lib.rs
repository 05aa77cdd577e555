//! altr-mcp: an MCP server for the ALTR data security platform.
//!
//! Data flows one way: [`transport`] (stdio, streamable HTTP, HTTP+SSE) -> [`server`] (the call
//! pipeline and its gates) -> the tool's handler, declared in [`toolsets`] on the mechanism of
//! [`registry`] -> [`client`] -> ALTR. Around it: [`cli`] (the command line), [`config`] (every
//! setting), [`safety`] (caller, confirmation, audit trail, redaction), [`logging`],
//! [`metrics`], [`clock`],
//! and [`sandbox`], a simulated ALTR org to serve and test against. The library is public so the
//! integration tests drive the real code.

// Outside tests, unwrap/expect/panic/indexing are denied (Cargo.toml [lints]); tests may fail loudly.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod logging;
pub mod metrics;
pub mod registry;
pub mod safety;
pub mod sandbox;
pub mod server;
pub mod toolsets;
pub mod transport;
