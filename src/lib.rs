//! altr-mcp: an MCP server for the ALTR data security platform.
//!
//! Data flows one way: transport -> [`server`] -> [`tools`] registry -> tool handler ->
//! [`client`] -> ALTR. The library is public so the integration tests drive the real code.

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

pub mod audit;
pub mod call;
pub mod cli;
pub mod client;
pub mod clock;
pub mod confirm;
pub mod discovery;
pub mod logging;
pub mod patterns;
pub mod prompts;
pub mod redact;
pub mod resources;
pub mod sandbox;
pub mod server;
pub mod settings;
pub mod tools;
pub mod transport;
