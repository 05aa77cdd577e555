//! What the server tells every client about itself: its name and its instructions.

/// The server instructions sent to clients on initialize and discover.
pub const INSTRUCTIONS: &str = include_str!("../../instructions.md");

/// The MCP server name clients see.
pub const SERVER_NAME: &str = "altr";
