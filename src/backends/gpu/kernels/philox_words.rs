//! `philox_words` (shaders/generate.wgsl): raw Philox4x32-10 words, one counter per row (the bit-
//! exactness test of the stream). CPU reference: `math::philox::philox4x32_10`. Grid: one
//! invocation per row.

use super::{Dims, Dispatch, Kernel, max_per_dim, row_grid};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `philox_words` over the chunk `dims` describes, its parameters bound in `group`.
pub fn philox_words<'a>(ctx: &GpuContext, group: &'a wgpu::BindGroup, dims: &Dims) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::PhiloxWords, false, group, row_grid(u64::from(dims.rows), max_per_dim(ctx)))
}
