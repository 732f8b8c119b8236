//! The WGSL kernels: their sources (`shaders/*.wgsl`, each prefixed with the shared Philox and
//! layout files, since WGSL has no `#include`), the one bind-group layout they share, pipelines
//! created once on first use inside an error scope, and the [`Workspace`] of buffers they bind.
//! Each kernel has a file of its own, named like its entry point and its CPU reference, whose
//! launcher (a function of the same name) puts its pipeline, bindings and grid together: a
//! kernel is its `.wgsl`, its launcher, its reference and its test (tests/gpu_kernels.rs).

mod advance;
mod evaluate;
mod forward;
mod gaussian_batch;
mod head_grads;
mod hidden_grad;
mod philox_words;
mod residuals;
mod teacher;

pub use advance::advance;
pub use evaluate::evaluate;
pub use forward::forward;
pub use gaussian_batch::gaussian_batch;
pub use head_grads::head_grads;
pub use hidden_grad::hidden_grad;
pub use philox_words::philox_words;
pub use residuals::residuals;
pub use teacher::teacher;

use std::collections::HashMap;
use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};
use wgpu::util::DeviceExt;

use super::GpuContext;
use crate::error::Error;

macro_rules! shader {
    ($($file:literal),+) => {
        concat!(include_str!("../../../../shaders/philox.wgsl"), include_str!("../../../../shaders/common.wgsl"),
                $(include_str!(concat!("../../../../shaders/", $file))),+)
    };
}

/// A shader module: one `.wgsl` file (plus the shared prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Module {
    /// `generate.wgsl`.
    Generate,
    /// `teacher.wgsl`.
    Teacher,
    /// `gemm_tile.wgsl` + `gemm_shared.wgsl` + `forward.wgsl`.
    Forward,
    /// `gemm_tile.wgsl` + `gemm_shared.wgsl` + `backward.wgsl`.
    Backward,
    /// `gemm_tile.wgsl` + `gemm_subgroup.wgsl` + `forward.wgsl` (needs subgroups).
    ForwardSubgroup,
    /// `gemm_tile.wgsl` + `gemm_subgroup.wgsl` + `backward.wgsl` (needs subgroups).
    BackwardSubgroup,
    /// `output.wgsl`.
    Output,
}

impl Module {
    /// The full WGSL source.
    pub fn source(self) -> &'static str {
        match self {
            Self::Generate => shader!("generate.wgsl"),
            Self::Teacher => shader!("teacher.wgsl"),
            Self::Forward => shader!("gemm_tile.wgsl", "gemm_shared.wgsl", "forward.wgsl"),
            Self::Backward => shader!("gemm_tile.wgsl", "gemm_shared.wgsl", "backward.wgsl"),
            Self::ForwardSubgroup => shader!("gemm_tile.wgsl", "gemm_subgroup.wgsl", "forward.wgsl"),
            Self::BackwardSubgroup => shader!("gemm_tile.wgsl", "gemm_subgroup.wgsl", "backward.wgsl"),
            Self::Output => shader!("output.wgsl"),
        }
    }

    /// Whether it holds the two products (gemm_tile.wgsl), specialised by a [`GemmVariant`].
    pub fn has_gemm_variants(self) -> bool {
        matches!(self, Self::Forward | Self::Backward | Self::ForwardSubgroup | Self::BackwardSubgroup)
    }

    /// Whether it uses subgroup operations (devices without them cannot compile it).
    pub fn needs_subgroups(self) -> bool {
        matches!(self, Self::ForwardSubgroup | Self::BackwardSubgroup)
    }

    /// Every module.
    pub const ALL: [Module; 7] = [
        Self::Generate,
        Self::Teacher,
        Self::Forward,
        Self::Backward,
        Self::ForwardSubgroup,
        Self::BackwardSubgroup,
        Self::Output,
    ];
}

/// An entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// (a) Gaussian batch into x.
    GaussianBatch,
    /// Raw Philox words (bit-exactness test).
    PhiloxWords,
    /// (b) Targets and labels.
    Teacher,
    /// (c) Z = X·Vᵀ + b with the fused output-layer epilogue.
    Forward,
    /// Residuals and g.
    Residuals,
    /// (d)+(e) dV = Dᵀ·X with the fused update of V.
    HiddenGrad,
    /// (d)+(e) db, da, dc with the fused update of b, a, c.
    HeadGrads,
    /// (f) Evaluation sums.
    Evaluate,
    /// Advances the step counter and sample cursor.
    Advance,
}

impl Kernel {
    /// The module holding it; the two products come from the subgroup modules in a subgroup
    /// variant.
    fn module(self, gemm: GemmVariant) -> Module {
        match self {
            Self::GaussianBatch | Self::PhiloxWords => Module::Generate,
            Self::Teacher => Module::Teacher,
            Self::Forward if gemm.subgroup => Module::ForwardSubgroup,
            Self::Forward => Module::Forward,
            Self::HiddenGrad if gemm.subgroup => Module::BackwardSubgroup,
            Self::HiddenGrad | Self::HeadGrads => Module::Backward,
            Self::Residuals | Self::Evaluate | Self::Advance => Module::Output,
        }
    }

    /// Whether it is one of the two tiled products, specialised by a [`GemmVariant`].
    fn is_gemm(self) -> bool {
        matches!(self, Self::Forward | Self::HiddenGrad)
    }

    fn entry(self) -> &'static str {
        match self {
            Self::GaussianBatch => "gaussian_batch",
            Self::PhiloxWords => "philox_words",
            Self::Teacher => "teacher",
            Self::Forward => "forward",
            Self::Residuals => "residuals",
            Self::HiddenGrad => "hidden_grad",
            Self::HeadGrads => "head_grads",
            Self::Evaluate => "evaluate",
            Self::Advance => "advance",
        }
    }
}

/// The per-chunk parameters (`struct Dims` in shaders/common.wgsl, same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
#[allow(missing_docs)]
pub struct Dims {
    pub d: u32,
    pub width: u32,
    pub batch: u32,
    pub rows: u32,
    pub chunk_offset: u32,
    pub x_rows: u32,
    pub fixed_data: u32,
    pub flags: u32,
    pub key: [u32; 2],
    pub input_tag: u32,
    pub scalar_tag: u32,
    pub base: [u32; 2],
    pub gamma_s: f32,
    pub cap_m: f32,
    pub sigma: f32,
    pub noise: u32,
    pub null_labels: u32,
    pub optimizer: u32,
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub trivial: f32,
    pub n_tiles: u32,
    pub batch_mod_m: u32,
    pub phase_noise: f32,
    pub lr_decay_steps: u32,
    pub pad: [u32; 3],
}

/// The optimiser code shaders read in `Dims::optimizer` (`OPTIMIZER_*` in shaders/common.wgsl,
/// checked by a test).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ShaderOptimizer {
    /// Plain SGD.
    Sgd = 0,
    /// Adam.
    Adam = 1,
}

/// `Dims::flags`: first chunk of a step.
pub const FIRST_CHUNK: u32 = 1;
/// `Dims::flags`: last chunk of a step.
pub const LAST_CHUNK: u32 = 2;
/// `Dims::flags`: take the sample base from `Dims::base`, not the step state.
pub const BASE_FROM_DIMS: u32 = 4;
/// `Dims::flags`: evaluation scores against the observed labels, not the noise-free targets.
pub const EVAL_LABELS: u32 = 8;
/// Depth of the operand tiles the two products stage (`DEPTH` in gemm_tile.wgsl).
pub const GEMM_DEPTH: u32 = 16;

/// A variant of the two tiled products, `forward` and `hidden_grad` (the `LANES` and `BLOCK`
/// overrides of shaders/gemm_tile.wgsl, specialised when the pipeline is created):
/// `lanes`×`lanes` invocations compute a tile of `lanes·block` rows and columns, each a
/// `block`×`block` register block, its A operand read from workgroup memory or, with `subgroup`,
/// passed between lanes by subgroup shuffles (shaders/gemm_subgroup.wgsl). The tuner
/// ([`super::tune`]) picks one per adapter and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GemmVariant {
    /// Invocations per side of the workgroup.
    pub lanes: u32,
    /// Edge of each invocation's register block (4 or 8).
    pub block: u32,
    /// A shared through subgroup shuffles instead of workgroup memory.
    pub subgroup: bool,
}

impl GemmVariant {
    /// 16×16 invocations, 4×4 blocks, 64×64 tiles: the variant every adapter runs.
    pub const DEFAULT: Self = Self { lanes: 16, block: 4, subgroup: false };

    /// Every variant: the default; 8×8 blocks on 16×16 invocations (128×128 tiles, half the
    /// workgroup-memory loads per FMA); 8×8 blocks on 8×8 invocations (64×64 tiles, a quarter of
    /// the invocations, for adapters with small workgroups or narrow shapes); the default's
    /// tiling with A passed by subgroup shuffles (adapters with subgroups).
    pub const ALL: [Self; 4] = [
        Self::DEFAULT,
        Self { lanes: 16, block: 8, subgroup: false },
        Self { lanes: 8, block: 8, subgroup: false },
        Self { lanes: 16, block: 4, subgroup: true },
    ];

    /// Output tile edge: rows and columns of the product per workgroup.
    pub fn tile(self) -> u32 {
        self.lanes * self.block
    }

    /// `lanes x lanes / block x block`, e.g. `16x16/4x4`, `+sg` for the subgroup variant.
    pub fn short(self) -> String {
        let (l, b) = (self.lanes, self.block);
        format!("{l}x{l}/{b}x{b}{}", if self.subgroup { "+sg" } else { "" })
    }

    /// Workgroup memory of the two staged operand tiles, bytes.
    pub fn workgroup_bytes(self) -> u32 {
        2 * self.tile() * GEMM_DEPTH * 4
    }

    /// Whether the device of `ctx` runs it: its workgroup limits, and for the subgroup variant
    /// subgroup operations with a [`subgroup_group`] size.
    pub fn runs_on(self, ctx: &GpuContext) -> bool {
        let limits = ctx.device.limits();
        self.workgroup_bytes() <= limits.max_compute_workgroup_storage_size
            && self.lanes * self.lanes <= limits.max_compute_invocations_per_workgroup
            && self.lanes <= limits.max_compute_workgroup_size_x.min(limits.max_compute_workgroup_size_y)
            && (!self.subgroup || subgroup_group(ctx).is_some())
    }

    /// The pipeline constants that select it on `ctx`.
    fn constants(self, ctx: &GpuContext) -> Vec<(&'static str, f64)> {
        let mut constants = vec![("LANES", f64::from(self.lanes)), ("BLOCK", f64::from(self.block))];
        if let Some(group) = subgroup_group(ctx).filter(|_| self.subgroup) {
            constants.push(("GROUP", f64::from(group)));
        }
        constants
    }
}

/// `GROUP` of shaders/gemm_subgroup.wgsl: the lanes of a 16-wide workgroup row that share a
/// subgroup, min(16, subgroup size) — where the device has subgroup operations and every
/// subgroup it may use gives the same number (its sizes all at least 16, or one fixed size of
/// 4 or 8).
pub fn subgroup_group(ctx: &GpuContext) -> Option<u32> {
    if !ctx.device.features().contains(wgpu::Features::SUBGROUP) {
        return None;
    }
    let (min, max) = (ctx.info.subgroup_min_size, ctx.info.subgroup_max_size);
    match min {
        16.. => Some(16),
        4 | 8 if min == max => Some(min),
        _ => None,
    }
}

impl std::fmt::Display for GemmVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (l, b, t) = (self.lanes, self.block, self.tile());
        let a = if self.subgroup { ", A by subgroup shuffles" } else { "" };
        write!(f, "{l}x{l} lanes, {b}x{b} blocks, {t}x{t} tiles{a}")
    }
}

/// Invocations per workgroup of the row-wise kernels.
pub const ROW_GROUP: u32 = 256;

/// The storage bindings of the shared layout (binding number = discriminant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum Slot {
    State = 1,
    X = 2,
    TargetsLabels = 3,
    V = 4,
    Head = 5,
    Z = 6,
    PartialOut = 7,
    G = 8,
    Grads = 9,
    Moments = 10,
    Sums = 11,
    Secret = 12,
}

impl Slot {
    /// The smallest size the shaders accept, in words (`StepState` is 16 bytes).
    pub fn min_words(self) -> u64 {
        if self == Self::State { 4 } else { 1 }
    }

    /// Every storage slot, in binding order.
    pub const ALL: [Slot; 12] = [
        Self::State,
        Self::X,
        Self::TargetsLabels,
        Self::V,
        Self::Head,
        Self::Z,
        Self::PartialOut,
        Self::G,
        Self::Grads,
        Self::Moments,
        Self::Sums,
        Self::Secret,
    ];
}

/// Pipelines of one device, compiled on first use (software adapters compile slowly).
pub struct Kernels {
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    modules: Mutex<HashMap<Module, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<(Kernel, bool, GemmVariant), wgpu::ComputePipeline>>,
}

impl Kernels {
    /// The shared layout for `device`; nothing is compiled yet.
    pub fn new(device: &wgpu::Device) -> Self {
        let storage = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: false },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }];
        entries.extend(Slot::ALL.iter().map(|s| storage(*s as u32)));
        let layout = device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("shared"), entries: &entries });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("shared"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        Self { layout, pipeline_layout, modules: Mutex::default(), pipelines: Mutex::default() }
    }

    /// The shared bind-group layout.
    pub fn layout(&self) -> &wgpu::BindGroupLayout {
        &self.layout
    }

    /// Validates and compiles a module, reporting naga's diagnostic on failure.
    pub fn module(&self, device: &wgpu::Device, module: Module) -> Result<wgpu::ShaderModule, Error> {
        if let Some(m) = self.modules.lock().unwrap().get(&module) {
            return Ok(m.clone());
        }
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let descriptor = wgpu::ShaderModuleDescriptor {
            label: Some(&format!("{module:?}")),
            source: wgpu::ShaderSource::Wgsl(module.source().into()),
        };
        // Every kernel guards its own indices; drop the runtime checks that cost GEMM speed.
        let checks = wgpu::ShaderRuntimeChecks {
            bounds_checks: false,
            force_loop_bounding: false,
            ..wgpu::ShaderRuntimeChecks::checked()
        };
        // SAFETY: the kernels bound every buffer access explicitly (tested on software adapters
        // against the CPU reference, including sizes that are not tile multiples).
        let shader = unsafe { device.create_shader_module_trusted(descriptor, checks) };
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Device(format!("shader {module:?} failed validation: {e}")));
        }
        self.modules.lock().unwrap().insert(module, shader.clone());
        Ok(shader)
    }

    /// The pipeline of `kernel`, with `FRESH` (in-kernel input generation) as given and, for the
    /// two products, the GEMM variant `gemm` (ignored by the other kernels).
    pub fn pipeline(
        &self,
        ctx: &GpuContext,
        kernel: Kernel,
        fresh: bool,
        gemm: GemmVariant,
    ) -> Result<wgpu::ComputePipeline, Error> {
        let device = &ctx.device;
        let gemm = if kernel.is_gemm() { gemm } else { GemmVariant::DEFAULT };
        if let Some(p) = self.pipelines.lock().unwrap().get(&(kernel, fresh, gemm)) {
            return Ok(p.clone());
        }
        let module = self.module(device, kernel.module(gemm))?;
        let mut constants = vec![("FRESH", if fresh { 1.0 } else { 0.0 })];
        if kernel.is_gemm() {
            constants.extend(gemm.constants(ctx));
        }
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry()),
            layout: Some(&self.pipeline_layout),
            module: &module,
            entry_point: Some(kernel.entry()),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            let variant = if kernel.is_gemm() { format!(" ({gemm})") } else { String::new() };
            return Err(Error::Device(format!("pipeline {}{variant} failed: {e}", kernel.entry())));
        }
        self.pipelines.lock().unwrap().insert((kernel, fresh, gemm), pipeline.clone());
        Ok(pipeline)
    }
}

/// The storage buffers of the shared layout, sized in 32-bit words.
pub struct Workspace {
    buffers: Vec<wgpu::Buffer>,
}

impl Workspace {
    /// Buffers of `words(slot)` 32-bit words each (at least [`Slot::min_words`]), zero-filled.
    pub fn new(ctx: &GpuContext, words: impl Fn(Slot) -> u64) -> Self {
        let buffers = Slot::ALL
            .iter()
            .map(|&slot| {
                ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("{slot:?}")),
                    size: 4 * words(slot).max(slot.min_words()),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                })
            })
            .collect();
        Self { buffers }
    }

    /// The buffer of `slot`.
    pub fn buffer(&self, slot: Slot) -> &wgpu::Buffer {
        &self.buffers[slot as usize - 1]
    }

    /// Uploads `data` to the start of `slot`.
    pub fn write<T: Pod>(&self, ctx: &GpuContext, slot: Slot, data: &[T]) {
        ctx.queue.write_buffer(self.buffer(slot), 0, bytemuck::cast_slice(data));
    }

    /// Reads `count` words of `slot` from word `offset`.
    pub fn read<T: Pod>(&self, ctx: &GpuContext, slot: Slot, offset: u64, count: usize) -> Result<Vec<T>, Error> {
        ctx.read_words(self.buffer(slot), offset, count)
    }

    /// A bind group of these buffers with `dims`, `replace` substituting other buffers for slots.
    pub fn bind_group(
        &self,
        ctx: &GpuContext,
        dims: &Dims,
        replace: &[(Slot, &wgpu::Buffer)],
    ) -> (wgpu::BindGroup, wgpu::Buffer) {
        let uniform = ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dims"),
            contents: bytemuck::bytes_of(dims),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
        for &slot in &Slot::ALL {
            let buffer = replace.iter().find(|(s, _)| *s == slot).map_or(self.buffer(slot), |(_, b)| *b);
            entries.push(wgpu::BindGroupEntry { binding: slot as u32, resource: buffer.as_entire_binding() });
        }
        let group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: ctx.kernels.layout(),
            entries: &entries,
        });
        (group, uniform)
    }
}

/// A dispatch: kernel, variant, bind group, grid.
pub struct Dispatch<'a> {
    /// The pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// Its bind group.
    pub group: &'a wgpu::BindGroup,
    /// Workgroups (x, y).
    pub grid: (u32, u32),
}

impl<'a> Dispatch<'a> {
    /// The launch of `kernel` (with `FRESH` as given) over `grid` workgroups, its parameters
    /// bound in `group`, the pipeline from the cache (the kernels' launchers call this).
    fn new(
        ctx: &GpuContext,
        kernel: Kernel,
        fresh: bool,
        group: &'a wgpu::BindGroup,
        grid: (u32, u32),
    ) -> Result<Self, Error> {
        Self::specialised(ctx, kernel, fresh, GemmVariant::DEFAULT, group, grid)
    }

    /// [`Dispatch::new`] of one of the two products in GEMM variant `gemm`.
    fn specialised(
        ctx: &GpuContext,
        kernel: Kernel,
        fresh: bool,
        gemm: GemmVariant,
        group: &'a wgpu::BindGroup,
        grid: (u32, u32),
    ) -> Result<Self, Error> {
        Ok(Self { pipeline: ctx.kernels.pipeline(ctx, kernel, fresh, gemm)?, group, grid })
    }
}

/// The adapter's limit on workgroups per grid dimension.
fn max_per_dim(ctx: &GpuContext) -> u32 {
    ctx.device.limits().max_compute_workgroups_per_dimension
}

/// Workgroups for `threads` invocations of a 256-wide row kernel, folded into two dimensions
/// when more than `max_per_dim` are needed (the kernels rebuild the flat id).
pub fn row_grid(threads: u64, max_per_dim: u32) -> (u32, u32) {
    let groups = threads.div_ceil(u64::from(ROW_GROUP)).max(1);
    let x = groups.min(u64::from(max_per_dim));
    (x as u32, groups.div_ceil(x) as u32)
}

/// Records `dispatches` into one compute pass of `encoder`, optionally with timestamps at its
/// beginning and end (queries 0 and 1 of `timestamps`).
pub fn record(encoder: &mut wgpu::CommandEncoder, dispatches: &[Dispatch<'_>], timestamps: Option<&wgpu::QuerySet>) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: None,
        timestamp_writes: timestamps.map(|query_set| wgpu::ComputePassTimestampWrites {
            query_set,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }),
    });
    for d in dispatches {
        pass.set_pipeline(&d.pipeline);
        pass.set_bind_group(0, d.group, &[]);
        pass.dispatch_workgroups(d.grid.0, d.grid.1, 1);
    }
}
