//! # clwe-bench
//!
//! Benchmarks for the hardness of learning one-hidden-layer ReLU networks from Gaussian inputs
//! (Li, Zadik, Zampetakis, ALT 2025): CLWE-derived instances generated from one counter-based
//! random stream, the capped triangle-wave network that makes them ReLU-learning problems
//! (verified exactly), learners on a multi-threaded CPU backend and on WGSL compute shaders, and
//! published tables of who learns what and how fast.
//!
//! Layers, in data-flow order: [`params`] (validated conventions) → [`math`] (Philox, normals,
//! the target) → [`sampling`] (the distributions and file export) → [`experiments`] →
//! [`reporting`]. The mathematical contract is `SPEC.md`; the README documents the CLI.

pub mod attack;
pub mod backends;
pub mod deadline;
pub mod error;
pub mod experiments;
pub mod learners;
pub mod math;
pub mod nan;
pub mod params;
pub mod reporting;
pub mod resources;
pub mod sampling;
