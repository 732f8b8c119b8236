//! `gaussian_batch` (shaders/generate.wgsl): the Gaussian batch x (SPEC §3: Box–Muller on Philox
//! words), 4 coordinates per invocation. CPU reference: `backends::cpu::generate::gaussian_batch`.
//! Grid: one invocation per (row, block of 4 coordinates).

use super::{Dims, Dispatch, Kernel, max_per_dim, row_grid};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `gaussian_batch` over the chunk `dims` describes, its parameters bound in `group`.
pub fn gaussian_batch<'a>(ctx: &GpuContext, group: &'a wgpu::BindGroup, dims: &Dims) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(
        ctx,
        Kernel::GaussianBatch,
        false,
        group,
        row_grid(u64::from(dims.rows) * u64::from(dims.d.div_ceil(4)), max_per_dim(ctx)),
    )
}
