//! What happens around the calls: the pipeline, the masking matrix app, safe changes, discovery, progress, prompts, resources, `altr-mcp call`, hardening, the server and the client.

pub mod aliases;
pub mod apps;
pub mod bounds;
pub mod call;
pub mod client;
pub mod discovery;
pub mod hardening;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod prompts;
pub mod resources;
pub mod safe;
pub mod server;
pub mod support;
