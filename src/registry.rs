//! The tool mechanism: how a tool is declared ([`tool`]), what it does ([`effect`]), how it
//! fails ([`error`]), its parameters ([`args`], [`params`]), the one request a declarative tool
//! sends ([`request`]), what a handler works with ([`ctx`]), paging ([`paging`]), dry runs
//! ([`dryrun`]), the server's own arguments ([`flags`]), which tools a server exposes
//! ([`select`]), fenced text ([`untrusted`]) and the generated reference ([`docs`]).
//!
//! The tools themselves are declared in [`crate::toolsets`]. Files here import each other by
//! their own paths, never through the names this file re-exports for the toolsets.

pub mod args;
pub mod ctx;
pub mod docs;
pub mod dryrun;
pub mod effect;
pub mod error;
pub mod flags;
pub mod paging;
pub mod params;
pub mod request;
pub mod select;
pub mod tool;
pub mod untrusted;

pub use ctx::{Ctx, Shared};
pub use effect::Effect;
pub use error::{ToolError, ToolResult};
pub use request::{Endpoint, Placement};
pub use select::{Registry, Selection, SelectionError};
pub use tool::{ToolBuilder, ToolDef, Toolset};
