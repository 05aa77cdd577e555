//! altr-mcp: an MCP server for the ALTR data security platform.
//!
//! Data flows one way: [`transport`] -> [`server`] (the call pipeline and its gates) ->
//! [`registry`] (the tool mechanism) -> [`toolsets`] (the tools) -> [`client`] -> ALTR. [`cli`]
//! composes the server from [`config`]; [`safety`] holds the caller, confirmation, the audit
//! trail and redaction; [`sandbox`] simulates an ALTR org. The library is public so the
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
pub mod registry;
pub mod safety;
pub mod sandbox;
pub mod server;
pub mod toolsets;
pub mod transport;
