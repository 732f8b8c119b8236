//! `residuals` (shaders/output.wgsl): the predictions from the tiles' partial sums, the residuals g
//! and the loss. CPU reference: `backends::cpu::step::residuals`. Grid: one invocation per row.

use super::{Dims, Dispatch, Kernel, max_per_dim, row_grid};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `residuals` over the chunk `dims` describes, its parameters bound in `group`.
pub fn residuals<'a>(ctx: &GpuContext, group: &'a wgpu::BindGroup, dims: &Dims) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::Residuals, false, group, row_grid(u64::from(dims.rows), max_per_dim(ctx)))
}
