//! The simulated ALTR org: its command, its faults, and the usual workflows against it.

pub mod cli;
pub mod faults;
pub mod workflows;
