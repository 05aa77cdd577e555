//! The registry as a whole: tools, generated rows, the tools/list budget, the source layout.

pub mod budget;
pub mod docs;
pub mod generated;
pub mod layout;
pub mod tools;
