//! Evaluation: Cedar entities, evidence coverage, the facts pass and the narrow evaluator
//! interface the rules pass runs through.

pub mod coverage;
pub mod entities;
pub mod evaluator;
pub mod facts;
