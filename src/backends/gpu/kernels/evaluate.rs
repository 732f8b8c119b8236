//! `evaluate` (shaders/output.wgsl): the held-out sums of SPEC §8 (student, trivial and target
//! moments) over a chunk of test rows. CPU reference: `backends::cpu::step::evaluate`. Grid: one
//! invocation per row.

use super::{Dims, Dispatch, Kernel, max_per_dim, row_grid};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `evaluate` over the chunk `dims` describes, its parameters bound in `group`.
pub fn evaluate<'a>(ctx: &GpuContext, group: &'a wgpu::BindGroup, dims: &Dims) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::Evaluate, false, group, row_grid(u64::from(dims.rows), max_per_dim(ctx)))
}
