//! `hidden_grad` (shaders/gemm_tile.wgsl + shaders/backward.wgsl): dV = Dᵀ·X (D = g·aᵀ ⊙ 1[Z > 0])
//! with the optimiser's update of V fused into the epilogue. CPU reference:
//! `backends::cpu::step::hidden_grad`. Grid: one workgroup per 64×64 tile of dV (neuron tiles ×
//! coordinate tiles).

use super::{Dims, Dispatch, Kernel, TILE};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `hidden_grad` over the chunk `dims` describes, its parameters bound in `group`.
/// `fresh` selects the `FRESH` variant (inputs generated in-kernel).
pub fn hidden_grad<'a>(
    ctx: &GpuContext,
    group: &'a wgpu::BindGroup,
    dims: &Dims,
    fresh: bool,
) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::HiddenGrad, fresh, group, (dims.width.div_ceil(TILE), dims.d.div_ceil(TILE)))
}
