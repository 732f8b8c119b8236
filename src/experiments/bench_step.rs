//! `clwe-bench bench-step`: steps per second and GFLOP/s of one training-step configuration on
//! one backend, for quick comparisons with other frameworks (the numpy peer, PyTorch, JAX).
//! FLOPs are counted as SPEC §7 fixes: 4·B·d·k' per step. Several variants (fresh samples,
//! fixed data) are timed in alternation, so their ratio compares runs seconds apart.

use std::time::Instant;

use serde::Serialize;

use crate::backends::cpu::gemm::{Operand, sgemm};
use crate::backends::{
    BackendInfo, DataSource, Directions, Engine, LrSchedule, Optimizer, StudentParams, Teacher, TrainConfig,
};
use crate::error::Error;
use crate::math::target::WidthRule;
use crate::params::{NoiseModel, Problem};
use crate::sampling::secret_direction;

/// One timed repeat.
#[derive(Clone, Debug, Serialize)]
pub struct BenchStepRecord {
    /// What ran it.
    #[serde(flatten)]
    pub backend: BackendInfo,
    /// What each step read.
    pub variant: StepData,
    /// Input dimension.
    pub d: usize,
    /// Student width k'.
    pub k: usize,
    /// Batch size.
    pub batch: usize,
    /// Steps timed.
    pub steps: u64,
    /// Repeat number.
    pub rep: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Steps per second (wall clock).
    pub steps_per_s: f64,
    /// GFLOP/s on 4·B·d·k' per step (wall clock).
    pub gflops: f64,
    /// Device seconds from timestamp queries (wgpu, where supported).
    pub device_seconds: Option<f64>,
    /// GFLOP/s on device time.
    pub device_gflops: Option<f64>,
    /// Training loss after the last step (finite unless the run diverged).
    pub loss: f32,
}

impl std::fmt::Display for BenchStepRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} [{}] d={} k'={} B={}: {:.2} steps/s, {:.1} GFLOP/s",
            self.backend.backend,
            self.variant.name(),
            self.backend.adapter,
            self.d,
            self.k,
            self.batch,
            self.steps_per_s,
            self.gflops
        )?;
        if let Some(g) = self.device_gflops {
            write!(f, ", {g:.1} GFLOP/s on device time")?;
        }
        write!(f, ", loss {:.4}", self.loss)
    }
}

/// What a timed step reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum StepData {
    /// New samples every step, drawn into a stored batch.
    Fresh,
    /// New samples every step, generated inside the product kernels (wgpu only).
    FreshFused,
    /// One batch, drawn once and reused by every step.
    Fixed,
}

impl StepData {
    /// The name records and tables carry.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::FreshFused => "fresh-fused",
            Self::Fixed => "fixed",
        }
    }

    /// Whether the steps draw new samples.
    pub fn is_fresh(self) -> bool {
        self != Self::Fixed
    }
}

/// The training configuration `bench-step` times: planted labels at the default γ = 2√d and
/// σ = 1/d, SGD with lr = 0.01 (the numpy peer's rate), standard initialisation, seed 0.
pub fn bench_config(d: usize, k: usize, batch: usize, data: StepData) -> Result<TrainConfig, Error> {
    let problem = Problem::new(d, None, None, None, NoiseModel::Gaussian, 0)?;
    let cap = WidthRule::new(1e9, 0.01)?.cap(problem.gamma_s());
    Ok(TrainConfig {
        d,
        width: k,
        batch,
        data: if data.is_fresh() { DataSource::Online } else { DataSource::Fixed { m: batch as u64 } },
        optimizer: Optimizer::Sgd { lr: 0.01 },
        schedule: LrSchedule::default(),
        directions: Directions::Trained,
        teacher: Teacher {
            w: secret_direction(0, 0, d).iter().map(|&w| w as f32).collect(),
            gamma_s: problem.gamma_s() as f32,
            cap_m: cap,
            sigma: problem.sigma as f32,
            noise: NoiseModel::Gaussian,
            null: false,
            phase_noise: 0.0,
            seed: 0,
            instance: 0,
        },
    })
}

/// One variant to time: the engine that runs it (for [`StepData::FreshFused`], one that
/// generates samples in its product kernels) and what its steps read.
pub struct Variant<'a> {
    /// The engine.
    pub engine: &'a dyn Engine,
    /// What each step reads.
    pub data: StepData,
}

/// Times `variants` at (d, k', B): `warmup` untimed steps of each, then `repeats` rounds of
/// one timed run of `steps` steps per variant, in order on even rounds and in reverse on odd
/// ones (A B, B A, …), so a drift of the machine's speed falls on every variant alike.
pub fn bench_step(
    variants: &[Variant],
    (d, k, batch): (usize, usize, usize),
    warmup: u64,
    steps: u64,
    repeats: usize,
    mut report: impl FnMut(&BenchStepRecord),
) -> Result<Vec<BenchStepRecord>, Error> {
    let init = StudentParams::standard_init(d, k, 0, 0);
    let mut trainers = Vec::with_capacity(variants.len());
    for v in variants {
        let config = bench_config(d, k, batch, v.data)?;
        let mut trainer = v.engine.trainer(&config, &init)?;
        trainer.steps(warmup)?;
        trainers.push((trainer, v.engine.info(), v.data, config.step_flops() * steps as f64));
    }
    let mut records = Vec::with_capacity(repeats * variants.len());
    for rep in 0..repeats {
        for i in 0..trainers.len() {
            let (trainer, backend, data, flops) = &mut trainers[if rep % 2 == 0 { i } else { variants.len() - 1 - i }];
            let timing = trainer.timed_steps(steps)?;
            let seconds = timing.wall.as_secs_f64();
            let device_seconds = timing.device.map(|d| d.as_secs_f64());
            let record = BenchStepRecord {
                backend: backend.clone(),
                variant: *data,
                d,
                k,
                batch,
                steps,
                rep,
                seconds,
                steps_per_s: steps as f64 / seconds,
                gflops: *flops / seconds / 1e9,
                device_seconds,
                device_gflops: device_seconds.map(|s| *flops / s / 1e9),
                loss: timing.loss,
            };
            report(&record);
            records.push(record);
        }
    }
    Ok(records)
}

/// Steps/s of `a` over steps/s of `b`, repeat by repeat (the runs of one round of
/// [`bench_step`], seconds apart).
pub fn paired_ratios(records: &[BenchStepRecord], a: StepData, b: StepData) -> Vec<f64> {
    let of = |data: StepData| records.iter().filter(move |r| r.variant == data);
    of(a).zip(of(b)).map(|(a, b)| a.steps_per_s / b.steps_per_s).collect()
}

/// The median of a non-empty list (the mean of the middle two for an even length).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] }
}

/// GFLOP/s of an n³ sgemm through the CPU backend's product (the `calibration` benchmark's
/// product), timed for at least `min_seconds` after one untimed call. Run between a step's
/// repeats it gives a same-minute peak, which a machine whose speed drifts needs for "% of peak".
pub fn square_sgemm_gflops(n: usize, min_seconds: f64) -> f64 {
    let (a, b) = (vec![1.0f32; n * n], vec![0.5f32; n * n]);
    let mut c = vec![0.0f32; n * n];
    let (a, b) = (Operand::row_major(&a, n), Operand::row_major(&b, n));
    let mut product = || sgemm(n, n, n, a, b, &mut c);
    product();
    let start = Instant::now();
    let mut calls = 0u32;
    while calls == 0 || start.elapsed().as_secs_f64() < min_seconds {
        product();
        calls += 1;
    }
    2.0 * (n as f64).powi(3) * f64::from(calls) / start.elapsed().as_secs_f64() / 1e9
}
