//! Writing what the suite publishes: atomic file output, markdown and CSV tables, SVG figures.

pub mod atomic;
pub mod criterion;
pub mod figures;
pub mod fit;
pub mod roofline;
pub mod summary;
pub mod table;
