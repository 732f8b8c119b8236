//! `advance` (shaders/output.wgsl): the step counter and sample cursor, once per step. No CPU
//! reference: the CPU trainer keeps its count on the host. Grid: a single invocation.

use super::{Dispatch, Kernel};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `advance` once per step, its parameters bound in `group`.
pub fn advance<'a>(ctx: &GpuContext, group: &'a wgpu::BindGroup) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::Advance, false, group, (1, 1))
}
