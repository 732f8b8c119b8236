//! `hidden_grad` (shaders/gemm_tile.wgsl + shaders/backward.wgsl): dV = Dᵀ·X (D = g·aᵀ ⊙ 1[Z > 0])
//! with the optimiser's update of V fused into the epilogue. CPU reference:
//! `backends::cpu::step::hidden_grad`. Grid: one workgroup per tile of dV (neuron tiles ×
//! coordinate tiles).

use super::{Dims, Dispatch, GemmVariant, Kernel};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `hidden_grad` over the chunk `dims` describes, its parameters bound in `group`.
/// `fresh` selects the `FRESH` variant (inputs generated in-kernel), `gemm` the tiling.
pub fn hidden_grad<'a>(
    ctx: &GpuContext,
    group: &'a wgpu::BindGroup,
    dims: &Dims,
    fresh: bool,
    gemm: GemmVariant,
) -> Result<Dispatch<'a>, Error> {
    Dispatch::specialised(
        ctx,
        Kernel::HiddenGrad,
        fresh,
        gemm,
        group,
        (dims.width.div_ceil(gemm.tile()), dims.d.div_ceil(gemm.tile())),
    )
}
