//! Classification: classifiers and the collections that group them, classification jobs run on
//! connected databases, their findings (database down to column, lineage and leaves), the review
//! decisions taken on them, and the job report.
//!
//! One file per sub-resource of the API, in listing order: [`classifiers`], [`collections`],
//! [`jobs`], [`findings`], [`decisions`] and [`report`]; what they share is in [`common`].

pub mod classifiers;
pub mod collections;
pub mod common;
pub mod decisions;
pub mod findings;
pub mod jobs;
pub mod report;

use crate::registry::{ToolDef, Toolset};

pub static SET: Toolset = Toolset {
    id: "classification",
    title: "Classification",
    description: "Classifiers and collections, classification jobs on connected databases, their findings, review decisions and reports.",
    in_default: false,
    tools,
};

/// Every classification tool, in listing order: the API's sub-resources one after another.
pub fn tools() -> Vec<ToolDef> {
    [
        classifiers::tools,
        collections::tools,
        jobs::tools,
        findings::tools,
        decisions::tools,
        report::tools,
    ]
    .iter()
    .flat_map(|tools| tools(&SET))
    .collect()
}
