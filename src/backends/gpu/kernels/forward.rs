//! `forward` (shaders/gemm_tile.wgsl + shaders/forward.wgsl): Z = X·Vᵀ + b in the tiles of a
//! [`GemmVariant`] with the fused output-layer epilogue (partial predictions per tile); with
//! FRESH the X tile is generated in place. CPU reference: `backends::cpu::step::forward`. Grid:
//! one workgroup per output tile (row tiles × neuron tiles).

use super::{Dims, Dispatch, GemmVariant, Kernel};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `forward` over the chunk `dims` describes, its parameters bound in `group`.
/// `fresh` selects the `FRESH` variant (inputs generated in-kernel), `gemm` the tiling.
pub fn forward<'a>(
    ctx: &GpuContext,
    group: &'a wgpu::BindGroup,
    dims: &Dims,
    fresh: bool,
    gemm: GemmVariant,
) -> Result<Dispatch<'a>, Error> {
    Dispatch::specialised(ctx, Kernel::Forward, fresh, gemm, group, (dims.rows.div_ceil(gemm.tile()), dims.n_tiles))
}
