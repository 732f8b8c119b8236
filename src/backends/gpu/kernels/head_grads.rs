//! `head_grads` (shaders/backward.wgsl): db, da and dc, with the update of b, a and c fused. CPU
//! reference: `backends::cpu::step::head_grads`. Grid: one invocation per hidden unit.

use super::{Dims, Dispatch, Kernel, ROW_GROUP};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `head_grads` over the chunk `dims` describes, its parameters bound in `group`.
pub fn head_grads<'a>(ctx: &GpuContext, group: &'a wgpu::BindGroup, dims: &Dims) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::HeadGrads, false, group, (dims.width.div_ceil(ROW_GROUP), 1))
}
