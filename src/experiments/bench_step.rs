//! `clwe-bench bench-step`: steps per second and GFLOP/s of one training-step configuration on
//! one backend, for quick comparisons with other frameworks (the numpy peer, PyTorch, JAX).
//! FLOPs are counted as SPEC §7 fixes: 4·B·d·k' per step.

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
    /// `fresh` (new samples each step), `fresh-fused` (generated inside the product kernels,
    /// wgpu), or `fixed` (one batch reused).
    pub variant: &'static str,
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
            self.variant,
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

/// The training configuration `bench-step` times: planted labels at the default γ = 2√d and
/// σ = 1/d, SGD with lr = 0.01 (the numpy peer's rate), standard initialisation, seed 0.
pub fn bench_config(d: usize, k: usize, batch: usize, fixed: bool) -> Result<TrainConfig, Error> {
    let problem = Problem::new(d, None, None, None, NoiseModel::Gaussian, 0)?;
    let cap = WidthRule::new(1e9, 0.01)?.cap(problem.gamma_s());
    Ok(TrainConfig {
        d,
        width: k,
        batch,
        data: if fixed { DataSource::Fixed { m: batch as u64 } } else { DataSource::Online },
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

/// Runs `warmup` untimed steps, then `repeats` timed runs of `steps` steps each; `fused` marks
/// an engine that generates samples inside its product kernels.
pub fn bench_step(
    engine: &dyn Engine,
    fused: bool,
    config: &TrainConfig,
    warmup: u64,
    steps: u64,
    repeats: usize,
    mut report: impl FnMut(&BenchStepRecord),
) -> Result<Vec<BenchStepRecord>, Error> {
    let init = StudentParams::standard_init(config.d, config.width, 0, 0);
    let mut trainer = engine.trainer(config, &init)?;
    trainer.steps(warmup)?;
    let flops = config.step_flops() * steps as f64;
    let backend = engine.info();
    let mut records = Vec::with_capacity(repeats);
    for rep in 0..repeats {
        let timing = trainer.timed_steps(steps)?;
        let seconds = timing.wall.as_secs_f64();
        let device_seconds = timing.device.map(|d| d.as_secs_f64());
        let record = BenchStepRecord {
            backend: backend.clone(),
            variant: match (config.data, fused) {
                (DataSource::Fixed { .. }, _) => "fixed",
                (DataSource::Online, false) => "fresh",
                (DataSource::Online, true) => "fresh-fused",
            },
            d: config.d,
            k: config.width,
            batch: config.batch,
            steps,
            rep,
            seconds,
            steps_per_s: steps as f64 / seconds,
            gflops: flops / seconds / 1e9,
            device_seconds,
            device_gflops: device_seconds.map(|s| flops / s / 1e9),
            loss: timing.loss,
        };
        report(&record);
        records.push(record);
    }
    Ok(records)
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
