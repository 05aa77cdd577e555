//! The test harness: the fake ALTR API, in-process MCP clients and servers, spawned binaries.

pub mod common;
pub mod http_common;
pub mod sandbox_common;
