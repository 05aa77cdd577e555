//! Each toolset: the exact request every tool sends, its results and failures.

pub mod access;
pub mod audits;
pub mod classification;
pub mod dam;
pub mod databases;
pub mod keys;
pub mod policies;
pub mod sidecars;
pub mod tags;
pub mod telemetry;
pub mod tokenization;
