//! `conform-engine`: the pure core of conform.
//!
//! Evidence snapshots are read ([`fs`], the one module that touches the disk), turned into
//! Cedar entities, evaluated against a policy pack (facts pass, then rules pass, in parallel)
//! and reported as an [`assessment::Assessment`] of graded, traceable findings.

pub mod assessment;
pub mod bundle;
pub mod catalog;
pub mod evaluate;
pub mod explain;
pub mod finding;
pub mod fs;
pub mod gate;
pub mod model;
pub mod pack;
pub mod pack_diff;
mod permute;
pub mod policy_test;
pub mod printer;
pub mod requirement_coverage;
pub mod schema;
pub mod snapshot;
pub mod soa;
pub mod time;
