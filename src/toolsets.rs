//! The toolsets: one file per ALTR domain, each declaring its tools on the shared mechanism of
//! [`crate::registry`] ([`classification`] is split further, one file per sub-resource). A new
//! domain is a file here, its `pub mod` line and its line in [`TOOLSETS`].

pub mod access;
pub mod audits;
pub mod classification;
pub mod dam;
pub mod databases;
pub mod keys;
pub mod policies;
pub mod sidecars;
pub mod support;
pub mod tags;
pub mod telemetry;
pub mod tokenization;

use crate::registry::select::{self, Catalogue};
use crate::registry::{Registry, Selection, SelectionError, ToolDef, Toolset};

/// Every toolset, in listing order. A new domain adds its line here and its `SET` in its file.
pub static TOOLSETS: Catalogue = &[
    &databases::SET,
    &tags::SET,
    &policies::SET,
    &classification::SET,
    &access::SET,
    &audits::SET,
    &dam::SET,
    &telemetry::SET,
    &sidecars::SET,
    &tokenization::SET,
    &keys::SET,
    &support::SET,
];

/// The toolset with this id (any case).
pub fn toolset(id: &str) -> Option<&'static Toolset> {
    select::toolset(TOOLSETS, id)
}

/// Every tool of every domain, in listing order.
pub fn all_tools() -> Vec<ToolDef> {
    select::all_tools(TOOLSETS)
}

/// The tools this selection exposes.
pub fn select(sel: &Selection) -> Result<Registry, SelectionError> {
    Registry::select(TOOLSETS, sel)
}

/// Every tool, unfiltered.
pub fn everything() -> Registry {
    Registry::everything(TOOLSETS)
}
