//! The transports, against the built binary: stdio, streamable HTTP, legacy SSE.

pub mod limits;
pub mod metrics;
pub mod oauth;
pub mod ready;
pub mod revision;
pub mod sse;
pub mod stdio;
pub mod streamable;
pub mod support;
#[cfg(feature = "otel")]
pub mod traces;
