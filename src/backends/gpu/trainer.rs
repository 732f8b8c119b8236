//! The GPU trainer: plans the batch into chunks that fit the adapter's bindings and grid limits,
//! uploads the student once, records many steps per submission (the step counter and sample
//! cursor advance on the device), and reads back only losses, evaluation sums and, on request,
//! the student.
//!
//! One step, per chunk of rows: `gaussian_batch` → `teacher` → forward → residuals →
//! hidden_grad (fused update of V on the last chunk) → head_grads (fused update of b, a, c);
//! then advance. With fused sampling, forward, teacher and hidden_grad generate x in-kernel and
//! no batch is stored.

use std::time::{Duration, Instant};

use super::GpuContext;
use super::kernels::{
    self, BASE_FROM_DIMS, Dims, Dispatch, EVAL_LABELS, FIRST_CHUNK, GemmVariant, LAST_CHUNK, ROW_GROUP,
    ShaderOptimizer, Slot, Workspace, record,
};
use crate::backends::{
    DataSource, Directions, EvalSums, Evaluation, Optimizer, Phase, PhaseTiming, StudentParams, TrainConfig, Trainer,
    View,
};
use crate::error::Error;
use crate::math::philox::key_from_seed;
use crate::params::ParamError;
use crate::sampling::streams::{Role, Stream};

/// Steps recorded per submission.
const STEPS_PER_SUBMIT: u64 = 8;

/// GPU-specific choices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuOptions {
    /// Online data: generate x inside the product kernels instead of storing the batch.
    pub fused_sampling: bool,
    /// Cap on rows per chunk (rounded down to a multiple of 256 when it splits the batch).
    pub max_chunk_rows: Option<usize>,
    /// The products' tiling; `None`: the tuner's choice for this adapter and shape
    /// ([`super::tune`]).
    pub gemm: Option<GemmVariant>,
}

/// A contiguous range of the batch processed by one pass of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk {
    offset: u32,
    rows: u32,
}

/// A pair of timestamp queries around each submission, and where they resolve to.
struct Timestamps {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    period_ns: f64,
}

/// Trains one student on a wgpu device.
pub struct GpuTrainer<'a> {
    ctx: &'a GpuContext,
    config: TrainConfig,
    options: GpuOptions,
    work: Workspace,
    chunks: Vec<Chunk>,
    rows_cap: u32,
    train_groups: Vec<(wgpu::BindGroup, wgpu::Buffer)>,
    eval_group: (wgpu::BindGroup, wgpu::Buffer),
    _eval_labels: wgpu::Buffer,
    timestamps: Option<Timestamps>,
    steps: u64,
    base: Dims,
    gemm: GemmVariant,
}

fn too_large(name: &str, value: impl ToString, limit_bytes: u64) -> Error {
    Error::Param(ParamError {
        name: name.into(),
        value: value.to_string(),
        expected: format!("a size whose buffers fit this adapter's storage binding limit of {limit_bytes} bytes"),
    })
}

/// Fields shared by every dispatch of a trainer.
fn base_dims(c: &TrainConfig, rows_cap: u32, n_tiles: u32) -> Dims {
    let t = &c.teacher;
    let (optimizer, lr, beta1, beta2, eps) = match c.optimizer {
        Optimizer::Sgd { lr } => (ShaderOptimizer::Sgd, lr, 0.0, 0.0, 0.0),
        Optimizer::Adam { lr, beta1, beta2, eps } => (ShaderOptimizer::Adam, lr, beta1, beta2, eps),
    };
    let (x_rows, fixed_data, batch_mod_m) = match c.data {
        DataSource::Fixed { m } => (m as u32, 1, (c.batch as u64 % m) as u32),
        DataSource::Online => (rows_cap, 0, 0),
    };
    Dims {
        d: c.d as u32,
        width: c.width as u32,
        batch: c.batch as u32,
        x_rows,
        fixed_data,
        key: key_from_seed(t.seed),
        input_tag: Stream::new(t.seed, t.instance, Role::TrainInputs).tag(),
        scalar_tag: Stream::new(t.seed, t.instance, Role::TrainScalars).tag(),
        gamma_s: t.gamma_s,
        cap_m: t.cap_m as f32,
        sigma: t.sigma,
        noise: t.noise as u32,
        null_labels: u32::from(t.null),
        phase_noise: t.phase_noise,
        optimizer: optimizer as u32,
        lr,
        lr_decay_steps: c.schedule.decay_steps(),
        beta1,
        beta2,
        eps,
        n_tiles,
        batch_mod_m,
        ..Dims::default()
    }
}

/// Dims of one chunk of the training batch.
fn chunk_dims(base: &Dims, chunks: &[Chunk], chunk: &Chunk) -> Dims {
    let last = chunks.last().map_or(0, |c| c.offset);
    let flags = if chunk.offset == 0 { FIRST_CHUNK } else { 0 } | if chunk.offset == last { LAST_CHUNK } else { 0 };
    Dims { rows: chunk.rows, chunk_offset: chunk.offset, flags, ..*base }
}

/// Dims of evaluation rows `first .. first + rows` of the test stream.
fn eval_dims(base: &Dims, c: &TrainConfig, rows_cap: u32, first: u64, rows: u32, trivial: f32, view: View) -> Dims {
    let t = &c.teacher;
    Dims {
        rows,
        fixed_data: 0,
        x_rows: rows_cap,
        flags: BASE_FROM_DIMS | if view == View::Observed { EVAL_LABELS } else { 0 },
        base: [first as u32, (first >> 32) as u32],
        input_tag: Stream::new(t.seed, t.instance, Role::TestInputs).tag(),
        scalar_tag: Stream::new(t.seed, t.instance, Role::TestScalars).tag(),
        trivial,
        ..*base
    }
}

/// How a trainer lays the batch out on the adapter: rows per chunk (bounded by the binding
/// and grid limits), the chunks, and the rows of the stored inputs.
struct Plan {
    rows_cap: u32,
    chunks: Vec<Chunk>,
    /// Rows of x kept on the device: the training set, or one chunk of online samples.
    x_rows: u64,
    /// Whether online samples are drawn into a stored batch (not generated in-kernel).
    stores_batch: bool,
    n_tiles: u64,
}

/// The largest storage binding of an adapter of `limits`, in bytes.
fn binding_bytes(limits: &wgpu::Limits) -> u64 {
    limits.max_storage_buffer_binding_size.min(limits.max_buffer_size)
}

impl Plan {
    /// An error where the student (and Adam's moments) cannot fit one storage binding.
    fn check_student(limits: &wgpu::Limits, config: &TrainConfig) -> Result<(), Error> {
        let limit_bytes = binding_bytes(limits);
        let (d, k) = (config.d as u64, config.width as u64);
        let student_words = k * d + 2 * k + 1;
        let adam = matches!(config.optimizer, Optimizer::Adam { .. });
        if student_words > limit_bytes / 4 || (adam && 2 * student_words > limit_bytes / 4) {
            return Err(too_large("width k' × d", format!("{k} × {d}"), limit_bytes));
        }
        Ok(())
    }

    /// The plan for `config` on an adapter of `limits` with the tiling `gemm`; an error where a
    /// chunk or the training set cannot fit the adapter's storage bindings.
    fn new(
        limits: &wgpu::Limits,
        config: &TrainConfig,
        options: &GpuOptions,
        gemm: GemmVariant,
    ) -> Result<Self, Error> {
        let limit_bytes = binding_bytes(limits);
        let limit_words = limit_bytes / 4;
        let (d, k, batch) = (config.d as u64, config.width as u64, config.batch as u64);
        let tile = u64::from(gemm.tile());
        let n_tiles = k.div_ceil(tile);
        let stores_batch = config.data == DataSource::Online && !options.fused_sampling;
        let mut cap = batch
            .min(limit_words / k)
            .min(limit_words / n_tiles)
            .min(u64::from(limits.max_compute_workgroups_per_dimension) * tile);
        if stores_batch {
            cap = cap.min(limit_words / d);
        }
        if let Some(m) = options.max_chunk_rows {
            cap = cap.min(m as u64);
        }
        if cap < batch {
            cap = cap / u64::from(ROW_GROUP) * u64::from(ROW_GROUP);
            if cap == 0 {
                return Err(too_large("width k'", k, limit_bytes));
            }
        }
        let chunks = (0..batch)
            .step_by(cap as usize)
            .map(|offset| Chunk { offset: offset as u32, rows: (batch - offset).min(cap) as u32 })
            .collect();
        let x_rows = match config.data {
            DataSource::Fixed { m } if m > 1 << 31 || m * d > limit_words || 2 * m > limit_words => {
                return Err(too_large("training set m", m, limit_bytes));
            }
            DataSource::Fixed { m } => m,
            DataSource::Online => cap,
        };
        Ok(Self { rows_cap: cap as u32, chunks, x_rows, stores_batch, n_tiles })
    }

    /// The trainer's buffers, each slot sized for this plan (4 bytes for a slot it never reads).
    fn workspace(&self, ctx: &GpuContext, config: &TrainConfig) -> Workspace {
        let (d, k, batch) = (config.d as u64, config.width as u64, config.batch as u64);
        let (rows_cap, head_words) = (u64::from(self.rows_cap), 2 * k + 1);
        let adam = matches!(config.optimizer, Optimizer::Adam { .. });
        let groups = |rows: u64| rows.div_ceil(u64::from(ROW_GROUP));
        Workspace::new(ctx, |slot| match slot {
            Slot::State => 4,
            Slot::X if config.data == DataSource::Online && !self.stores_batch => 4,
            Slot::X => self.x_rows * d,
            Slot::TargetsLabels => 2 * self.x_rows,
            Slot::V => k * d,
            Slot::Head => head_words,
            Slot::Z => rows_cap * k,
            Slot::PartialOut => self.n_tiles * rows_cap,
            Slot::G => rows_cap,
            Slot::Grads => k * d + head_words,
            Slot::Moments if adam => 2 * (k * d + head_words),
            Slot::Moments => 4,
            Slot::Sums => (groups(batch) + 1).max(5 * groups(rows_cap)),
            Slot::Secret => d,
        })
    }
}

impl Timestamps {
    /// A query pair and its resolve buffer, where the adapter has timestamp queries.
    fn new(ctx: &GpuContext) -> Option<Self> {
        ctx.has_timestamps().then(|| Self {
            queries: ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: None,
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamps"),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            period_ns: f64::from(ctx.queue.get_timestamp_period()),
        })
    }
}

/// The products' tiling: the one asked for, if this adapter runs it, else the tuner's choice.
fn gemm_variant(ctx: &GpuContext, config: &TrainConfig, options: &GpuOptions) -> Result<GemmVariant, Error> {
    match options.gemm {
        Some(v) if !v.runs_on(ctx) => Err(Error::Param(ParamError {
            name: "GEMM variant".into(),
            value: v.to_string(),
            expected: "a variant this adapter runs (its workgroup limits; subgroups for a subgroup variant)".into(),
        })),
        Some(v) => Ok(v),
        None => Ok(super::tune::choice(ctx, config, options)?.variant),
    }
}

impl<'a> GpuTrainer<'a> {
    /// A trainer for `config` from `init` on `ctx`.
    pub fn new(
        ctx: &'a GpuContext,
        config: &TrainConfig,
        init: &StudentParams,
        options: GpuOptions,
    ) -> Result<Self, Error> {
        config.validate()?;
        let limits = ctx.device.limits();
        Plan::check_student(&limits, config)?;
        let gemm = gemm_variant(ctx, config, &options)?;
        let plan = Plan::new(&limits, config, &options, gemm)?;
        let work = plan.workspace(ctx, config);
        let eval_labels = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("eval targets/labels"),
            size: 8 * u64::from(plan.rows_cap),
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let Plan { rows_cap, chunks, n_tiles, .. } = plan;
        let base = base_dims(config, rows_cap, n_tiles as u32);
        let train_groups = chunks.iter().map(|c| work.bind_group(ctx, &chunk_dims(&base, &chunks, c), &[])).collect();
        let eval_group = work.bind_group(
            ctx,
            &eval_dims(&base, config, rows_cap, 0, 0, 0.0, View::Learning),
            &[(Slot::TargetsLabels, &eval_labels)],
        );
        let mut trainer = Self {
            ctx,
            config: config.clone(),
            options,
            work,
            chunks,
            rows_cap,
            train_groups,
            eval_group,
            _eval_labels: eval_labels,
            timestamps: Timestamps::new(ctx),
            steps: 0,
            base,
            gemm,
        };
        trainer.upload(init)?;
        Ok(trainer)
    }

    /// The products' tiling this trainer runs.
    pub fn gemm_variant(&self) -> GemmVariant {
        self.gemm
    }

    /// Uploads the student and the secret; generates and labels a fixed training set.
    fn upload(&mut self, init: &StudentParams) -> Result<(), Error> {
        let ctx = self.ctx;
        if init.d != self.config.d || init.width() != self.config.width {
            return Err(Error::Param(ParamError {
                name: "initial student".into(),
                value: format!("{} × {}", init.width(), init.d),
                expected: format!("{} × {} (width × d)", self.config.width, self.config.d),
            }));
        }
        self.work.write(ctx, Slot::V, &init.v);
        let mut head = [init.b.as_slice(), init.a.as_slice()].concat();
        head.push(init.c);
        self.work.write(ctx, Slot::Head, &head);
        self.work.write(ctx, Slot::Secret, &self.config.teacher.w);
        if let DataSource::Fixed { m } = self.config.data {
            let dims = Dims { rows: m as u32, flags: BASE_FROM_DIMS, ..self.base };
            let (group, _uniform) = self.work.bind_group(ctx, &dims, &[]);
            let dispatches =
                [kernels::gaussian_batch(ctx, &group, &dims)?, kernels::teacher(ctx, &group, &dims, false)?];
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            record(&mut encoder, &dispatches, None);
            ctx.submit_and_wait(encoder)?;
        }
        ctx.queue.submit([]);
        ctx.check()
    }

    /// The dispatches of `phase` for one step.
    fn phase_dispatches(&self, phase: Phase) -> Result<Vec<Dispatch<'_>>, Error> {
        let online = self.config.data == DataSource::Online;
        let fresh = online && self.options.fused_sampling;
        let sampling = matches!(phase, Phase::Generate | Phase::Step);
        let (forward, backward) =
            (matches!(phase, Phase::Forward | Phase::Step), matches!(phase, Phase::Backward | Phase::Step));
        let ctx = self.ctx;
        let mut out = Vec::new();
        for (chunk, (group, _)) in self.chunks.iter().zip(&self.train_groups) {
            let dims = Dims { rows: chunk.rows, ..self.base };
            if sampling && online && !fresh {
                out.push(kernels::gaussian_batch(ctx, group, &dims)?);
            }
            if sampling && online {
                out.push(kernels::teacher(ctx, group, &dims, fresh)?);
            }
            if forward {
                out.push(kernels::forward(ctx, group, &dims, fresh, self.gemm)?);
                out.push(kernels::residuals(ctx, group, &dims)?);
            }
            // hidden_grad updates V in its epilogue: frozen directions skip it.
            if backward && self.config.directions == Directions::Trained {
                out.push(kernels::hidden_grad(ctx, group, &dims, fresh, self.gemm)?);
            }
            if backward {
                out.push(kernels::head_grads(ctx, group, &dims)?);
            }
        }
        if phase == Phase::Step {
            out.push(kernels::advance(ctx, &self.train_groups[0].0)?);
        }
        Ok(out)
    }

    /// Runs `phase` `iters` times, in submissions of up to 8, waiting for each; returns the
    /// wall time and, where the device has timestamps, the summed device time of the passes.
    fn timed_phase(&mut self, phase: Phase, iters: u64) -> Result<PhaseTiming, Error> {
        let ctx = self.ctx;
        let once = self.phase_dispatches(phase)?;
        let mut device_ns = 0.0;
        let start = Instant::now();
        let mut done = 0;
        while done < iters {
            let n = (iters - done).min(STEPS_PER_SUBMIT);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            let repeated: Vec<Dispatch<'_>> = (0..n)
                .flat_map(|_| {
                    once.iter().map(|d| Dispatch { pipeline: d.pipeline.clone(), group: d.group, grid: d.grid })
                })
                .collect();
            record(&mut encoder, &repeated, self.timestamps.as_ref().map(|t| &t.queries));
            if let Some(t) = &self.timestamps {
                encoder.resolve_query_set(&t.queries, 0..2, &t.resolve, 0);
            }
            ctx.submit_and_wait(encoder)?;
            if let Some(t) = &self.timestamps {
                let ticks: Vec<u64> = ctx
                    .read_words::<u32>(&t.resolve, 0, 4)?
                    .chunks(2)
                    .map(|w| u64::from(w[0]) | u64::from(w[1]) << 32)
                    .collect();
                device_ns += ticks[1].wrapping_sub(ticks[0]) as f64 * t.period_ns;
            }
            done += n;
        }
        if phase == Phase::Step {
            self.steps += iters;
        }
        let device = self.timestamps.as_ref().map(|_| Duration::from_nanos(device_ns as u64));
        Ok(PhaseTiming { wall: start.elapsed(), device })
    }

    /// The training loss ½·mean r² of the last step run.
    fn loss_of_last_step(&self) -> Result<f32, Error> {
        let groups = (self.config.batch as u64).div_ceil(u64::from(ROW_GROUP)) as usize;
        let sums: Vec<f32> = self.work.read(self.ctx, Slot::Sums, 0, groups)?;
        let total: f64 = sums.iter().map(|&s| f64::from(s)).sum();
        Ok((0.5 * total / self.config.batch as f64) as f32)
    }

    /// The buffers (for kernel tests).
    pub fn workspace(&self) -> &Workspace {
        &self.work
    }
}

impl Trainer for GpuTrainer<'_> {
    fn run_phase(&mut self, phase: Phase, iters: u64) -> Result<PhaseTiming, Error> {
        self.timed_phase(phase, iters)
    }

    fn last_loss(&mut self) -> Result<f32, Error> {
        self.loss_of_last_step()
    }

    fn steps_done(&self) -> u64 {
        self.steps
    }

    fn evaluate(&mut self, n_test: u64, trivial: f32, view: View) -> Result<Evaluation, Error> {
        let ctx = self.ctx;
        let group = &self.eval_group.0;
        let mut sums = EvalSums::default();
        for first in (0..n_test).step_by(self.rows_cap as usize) {
            let rows = (n_test - first).min(u64::from(self.rows_cap)) as u32;
            let dims = eval_dims(&self.base, &self.config, self.rows_cap, first, rows, trivial, view);
            ctx.queue.write_buffer(&self.eval_group.1, 0, bytemuck::bytes_of(&dims));
            let n_groups = u64::from(rows).div_ceil(u64::from(ROW_GROUP));
            let dispatches = [
                kernels::teacher(ctx, group, &dims, true)?,
                kernels::forward(ctx, group, &dims, true, self.gemm)?,
                kernels::evaluate(ctx, group, &dims)?,
            ];
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            record(&mut encoder, &dispatches, None);
            ctx.submit_and_wait(encoder)?;
            let partial: Vec<f32> = self.work.read(ctx, Slot::Sums, 0, 5 * n_groups as usize)?;
            for (g, s) in partial.chunks(5).enumerate() {
                let rows_here = (u64::from(rows) - g as u64 * u64::from(ROW_GROUP)).min(u64::from(ROW_GROUP));
                sums.add(&EvalSums {
                    n: rows_here,
                    student_sq: f64::from(s[0]),
                    trivial_sq: f64::from(s[1]),
                    diff_sq: f64::from(s[2]),
                    target: f64::from(s[3]),
                    target_sq: f64::from(s[4]),
                });
            }
        }
        Ok(sums.finish())
    }

    fn student(&mut self) -> Result<StudentParams, Error> {
        let (d, k) = (self.config.d, self.config.width);
        let v = self.work.read(self.ctx, Slot::V, 0, k * d)?;
        let head: Vec<f32> = self.work.read(self.ctx, Slot::Head, 0, 2 * k + 1)?;
        Ok(StudentParams { d, v, b: head[..k].to_vec(), a: head[k..2 * k].to_vec(), c: head[2 * k] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::bench_step::{StepData, bench_config};

    /// Limits whose storage bindings hold `words` floats, otherwise wgpu's defaults.
    fn limits(words: u64) -> wgpu::Limits {
        wgpu::Limits { max_storage_buffer_binding_size: 4 * words, max_buffer_size: 4 * words, ..Default::default() }
    }

    fn rejected_flag(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::Param(e)) => e.name,
            other => panic!("expected a parameter error, got {other:?}"),
        }
    }

    #[test]
    fn chunks_cover_the_batch_in_whole_row_groups_whose_buffers_fit_a_binding() {
        let (d, k, batch) = (8, 64, 5000);
        for (data, fused) in [(StepData::Fresh, false), (StepData::Fresh, true), (StepData::Fixed, false)] {
            let config = bench_config(d, k, batch, data).unwrap();
            let options = GpuOptions { fused_sampling: fused, ..GpuOptions::default() };
            let words = 1000 * k as u64; // Z of 1000 rows: the batch must split
            let plan = Plan::new(&limits(words), &config, &options, GemmVariant::DEFAULT).unwrap();
            assert!(plan.rows_cap > 0 && plan.rows_cap.is_multiple_of(ROW_GROUP), "cap {}", plan.rows_cap);
            assert!(u64::from(plan.rows_cap) * k as u64 <= words, "a chunk's Z fits a binding");
            let mut next = 0;
            for c in &plan.chunks {
                assert_eq!(c.offset, next, "chunks are contiguous");
                assert!(c.rows > 0 && c.rows <= plan.rows_cap);
                next += c.rows;
            }
            assert_eq!(next as usize, batch, "the chunks cover the batch");
            // A batch that fits is one chunk, of any size.
            let whole = Plan::new(&limits(1 << 24), &config, &options, GemmVariant::DEFAULT).unwrap();
            assert_eq!(whole.chunks, [Chunk { offset: 0, rows: batch as u32 }]);
        }
    }

    #[test]
    fn students_and_training_sets_too_large_for_a_binding_are_named() {
        let config = bench_config(64, 256, 512, StepData::Fixed).unwrap();
        assert_eq!(rejected_flag(Plan::check_student(&limits(64 * 256), &config)), "width k' × d");
        assert!(Plan::check_student(&limits(64 * 256 + 2 * 256 + 1), &config).is_ok(), "V, b, a and c fit exactly");
        let set = TrainConfig { data: DataSource::Fixed { m: 1 << 20 }, ..config };
        let plan = Plan::new(&limits(1 << 22), &set, &GpuOptions::default(), GemmVariant::DEFAULT);
        assert_eq!(rejected_flag(plan.map(|p| p.x_rows)), "training set m");
    }
}
