//! `teacher` (shaders/teacher.wgsl): targets and labels of the rows: ℓ = g_M(γ_s⟨w,x⟩) + ξ (or the
//! null); with FRESH it draws x itself. CPU reference: `backends::cpu::teacher::teacher`, given
//! ⟨w, x⟩ from `generate::gaussian_rows`. Grid: one invocation per row.

use super::{Dims, Dispatch, Kernel, max_per_dim, row_grid};
use crate::backends::gpu::GpuContext;
use crate::error::Error;

/// The launch of `teacher` over the chunk `dims` describes, its parameters bound in `group`.
/// `fresh` selects the `FRESH` variant (inputs generated in-kernel).
pub fn teacher<'a>(
    ctx: &GpuContext,
    group: &'a wgpu::BindGroup,
    dims: &Dims,
    fresh: bool,
) -> Result<Dispatch<'a>, Error> {
    Dispatch::new(ctx, Kernel::Teacher, fresh, group, row_grid(u64::from(dims.rows), max_per_dim(ctx)))
}
