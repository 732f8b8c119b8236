//! Writing what the suite publishes: atomic file output and markdown tables.

pub mod atomic;
pub mod table;
