//! Evaluation: Cedar entities, evidence coverage, the facts pass and the narrow evaluator
//! interface the rules pass runs through.

pub mod attributes;
mod compiled;
pub mod coverage;
#[cfg(test)]
mod differential_tests;
pub mod entities;
pub mod evaluator;
pub mod facts;
pub mod id_search;
mod native;
mod plan;
