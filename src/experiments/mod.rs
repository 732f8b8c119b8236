//! The experiments the suite ships (SPEC §10), each one command writing under `results/`.

pub mod bench_step;
pub mod compute;
pub mod construction;
pub mod frontier;
pub mod judge;
pub mod runs;
pub mod scaling;
pub mod store;
pub mod sweep;
