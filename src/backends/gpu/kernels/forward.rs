//! `forward` (shaders/gemm_tile.wgsl + shaders/forward.wgsl): Z = X·Vᵀ + b in 64×64 tiles with the
//! fused output-layer epilogue (partial predictions per tile); with FRESH the X tile is generated
//! in place. CPU reference: `backends::cpu::step::forward`. Grid: one workgroup per 64×64 output
//! tile (row tiles × neuron tiles).

use super::{Dims, Dispatch, Kernel, TILE};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `forward` over the chunk `dims` describes, its parameters bound in `group`.
/// `fresh` selects the `FRESH` variant (inputs generated in-kernel).
pub fn forward<'a>(
    ctx: &GpuContext,
    group: &'a wgpu::BindGroup,
    dims: &Dims,
    fresh: bool,
) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::Forward, fresh, group, (dims.rows.div_ceil(TILE), dims.n_tiles))
}
