//! Compute engines: one [`Engine`] trait with a multi-threaded CPU backend ([`cpu`]) and a WGSL
//! backend on wgpu ([`gpu`]). Learners talk to a [`Trainer`] and never touch wgpu.
//!
//! The student is h(x) = Σ_j a_j ReLU(⟨v_j, x⟩ + b_j) + c (V is k'×d, row-major, f32), trained
//! with the squared loss ½·mean (h(x) − ℓ)² on batches of B planted samples (SPEC §4, §7). Both
//! backends run the same algorithm on the same Philox stream, in the same order of operations
//! where it matters (labels, reductions), so their trajectories agree to float tolerance.

pub mod cpu;
pub mod gpu;
pub mod student;

use serde::{Deserialize, Serialize};

use crate::params::{NoiseModel, ParamError, ensure};
pub use student::StudentParams;

use crate::error::Error;

/// How the student is updated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Optimizer {
    /// θ ← θ − lr·∇.
    Sgd {
        /// Learning rate.
        lr: f32,
    },
    /// Adam (Kingma & Ba) with bias correction.
    Adam {
        /// Learning rate.
        lr: f32,
        /// First-moment decay.
        beta1: f32,
        /// Second-moment decay.
        beta2: f32,
        /// Denominator guard.
        eps: f32,
    },
}

impl Optimizer {
    /// Adam with the usual defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
    pub fn adam(lr: f32) -> Self {
        Self::Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }

    /// The same rule at learning rate `lr`.
    pub fn with_lr(self, lr: f32) -> Self {
        match self {
            Self::Sgd { .. } => Self::Sgd { lr },
            Self::Adam { beta1, beta2, eps, .. } => Self::Adam { lr, beta1, beta2, eps },
        }
    }

    /// The same rule with its learning rate multiplied by `factor`.
    pub fn scaled(self, factor: f32) -> Self {
        match self {
            Self::Sgd { lr } => Self::Sgd { lr: lr * factor },
            Self::Adam { lr, beta1, beta2, eps } => Self::Adam { lr: lr * factor, beta1, beta2, eps },
        }
    }
}

/// The learning-rate schedule: the rate of step t (0-based) is lr·factor(t).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// factor 1.
    #[default]
    Constant,
    /// Cosine decay to 0 over the run's step budget: factor ½(1 + cos(π·t/T)).
    Cosine,
}

impl Schedule {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine",
        }
    }

    /// Whether the rate is constant (the default, which records leave out).
    pub fn is_constant(&self) -> bool {
        *self == Self::Constant
    }
}

/// A schedule over a run of `steps` steps (what the kernels see: 0 means constant).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// The shape.
    pub kind: Schedule,
    /// The run's steps T.
    pub steps: u64,
}

impl LrSchedule {
    /// The rate multiplier of step `t` (0-based), in f32 as the shaders compute it.
    pub fn factor(self, t: u64) -> f32 {
        match self.kind {
            Schedule::Constant => 1.0,
            Schedule::Cosine if self.steps == 0 => 1.0,
            Schedule::Cosine => {
                let x = t.min(self.steps) as f32 / self.steps as f32;
                0.5 * (1.0 + (std::f32::consts::PI * x).cos())
            }
        }
    }

    /// T as the shaders read it: 0 for a constant rate.
    pub fn decay_steps(self) -> u32 {
        match self.kind {
            Schedule::Constant => 0,
            Schedule::Cosine => self.steps.min(u64::from(u32::MAX)) as u32,
        }
    }
}

/// Where training samples come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataSource {
    /// Fresh samples every step: step t uses train samples t·B .. t·B + B.
    Online,
    /// A fixed training set of the first `m` train samples; step t uses samples
    /// (t·B + i) mod m, i < B (cyclic passes, no reshuffling).
    Fixed {
        /// Training-set size.
        m: u64,
    },
}

/// The teacher that labels samples: ℓ = g_M(γ_s⟨w,x⟩) + ξ, or for the null ℓ = φ(U) + ξ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Teacher {
    /// Secret direction w (unit vector, length d), rounded to f32.
    pub w: Vec<f32>,
    /// γ_s = γ/√(2π).
    pub gamma_s: f32,
    /// The cap M of the capped triangle network.
    pub cap_m: u32,
    /// Label-noise standard deviation.
    pub sigma: f32,
    /// Label-noise model.
    pub noise: NoiseModel,
    /// Labels independent of x (the planted null).
    pub null: bool,
    /// Standard deviation β_s of the CLWE error inside φ for CLWE-derived labels
    /// (ℓ = φ(γ_s⟨w,x⟩ + e) + ξ, uncapped); 0 for the planted problem.
    pub phase_noise: f32,
    /// Run seed (Philox key).
    pub seed: u64,
    /// Instance number (counter word 3).
    pub instance: u32,
}

/// Everything a trainer needs besides the initial student.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainConfig {
    /// Input dimension d.
    pub d: usize,
    /// Student width k'.
    pub width: usize,
    /// Batch size B.
    pub batch: usize,
    /// Online or fixed data.
    pub data: DataSource,
    /// The update rule.
    pub optimizer: Optimizer,
    /// Its learning-rate schedule.
    pub schedule: LrSchedule,
    /// Whether the hidden weights V are trained or stay at their initial values.
    pub directions: Directions,
    /// The labelling teacher.
    pub teacher: Teacher,
}

/// Whether a student's hidden weights V (its neurons' directions) are trained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Directions {
    /// Every parameter is trained.
    #[default]
    Trained,
    /// V keeps its initial value; b, a and c are trained (the direction-known control starts
    /// every neuron at the secret w).
    Frozen,
}

impl TrainConfig {
    /// Checks sizes: d, k', B ≥ 1, the teacher's w has length d, m ≥ 1.
    pub fn validate(&self) -> Result<(), ParamError> {
        ensure(self.d >= 1, "dimension d", self.d, "an integer >= 1")?;
        ensure(self.width >= 1, "width k'", self.width, "an integer >= 1")?;
        ensure(self.batch >= 1, "batch B", self.batch, "an integer >= 1")?;
        ensure(self.teacher.w.len() == self.d, "teacher.w length", self.teacher.w.len(), "d")?;
        if let DataSource::Fixed { m } = self.data {
            ensure(m >= 1, "training set m", m, "an integer >= 1")?;
        }
        Ok(())
    }

    /// The host memory a trainer of this configuration needs, about.
    pub fn memory_bytes(&self) -> u64 {
        let m = match self.data {
            DataSource::Fixed { m } => m,
            DataSource::Online => 0,
        };
        student_memory_bytes(self.d, self.width, self.batch, m)
    }

    /// FLOPs of one step counted as SPEC §7 fixes: 4·B·d·k' (two B×d×k' products).
    pub fn step_flops(&self) -> f64 {
        4.0 * self.batch as f64 * self.d as f64 * self.width as f64
    }
}

/// The host memory of a student trainer at dimension d, width k', batch B and a fixed training
/// set of m samples (0 for fresh samples), about: f32 parameters, gradients and two Adam
/// moments; the batch (inputs, ⟨w, x⟩, targets, labels); pre-activations and their gradients
/// (at least an evaluation chunk's).
pub fn student_memory_bytes(d: usize, k: usize, batch: usize, m: u64) -> u64 {
    let (d, k, b) = (d as u64, k as u64, batch as u64);
    4 * (4 * k * (d + 2) + b * (d + 3) + 2 * b.max(4096) * k + m * (d + 3))
}

/// What held-out predictions are scored against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// The noise-free target f (SPEC §8): the benchmark's view, which knows f.
    Learning,
    /// The observed labels ℓ only (SPEC §6): all a distinguisher, or the judge of an outside
    /// learner, may read.
    Observed,
}

/// Held-out evaluation of a student and the trivial predictor on the same inputs, against the
/// reference values of one [`View`] (f, or the observed labels ℓ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Test samples used.
    pub n: u64,
    /// Mean squared error of the student against the reference.
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub mse_student: f64,
    /// Mean squared error of the trivial (constant) predictor against the reference.
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub mse_trivial: f64,
    /// Sample variance of the reference on the test inputs (Var f, or Var ℓ).
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub var_target: f64,
    /// Standard error of Δ = mse_trivial − mse_student (paired per sample).
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub delta_se: f64,
}

impl Evaluation {
    /// Δ = MSE(trivial) − MSE(student).
    pub fn delta(&self) -> f64 {
        self.mse_trivial - self.mse_student
    }
}

/// Running sums from which an [`Evaluation`] is formed (f64, summed in a fixed order).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EvalSums {
    /// Samples.
    pub n: u64,
    /// Σ (h − f)².
    pub student_sq: f64,
    /// Σ (trivial − f)².
    pub trivial_sq: f64,
    /// Σ δ², δ = (trivial − f)² − (h − f)².
    pub diff_sq: f64,
    /// Σ f.
    pub target: f64,
    /// Σ f².
    pub target_sq: f64,
}

impl EvalSums {
    /// The sums of one sample: prediction `h`, the trivial constant `t`, reference value `f`.
    pub fn of(h: f64, t: f64, f: f64) -> Self {
        let (es, et) = ((h - f).powi(2), (t - f).powi(2));
        Self { n: 1, student_sq: es, trivial_sq: et, diff_sq: (et - es).powi(2), target: f, target_sq: f * f }
    }

    /// Adds another partial sum.
    pub fn add(&mut self, o: &EvalSums) {
        self.n += o.n;
        self.student_sq += o.student_sq;
        self.trivial_sq += o.trivial_sq;
        self.diff_sq += o.diff_sq;
        self.target += o.target;
        self.target_sq += o.target_sq;
    }

    /// The evaluation these sums describe.
    pub fn finish(&self) -> Evaluation {
        let n = self.n as f64;
        let (mse_student, mse_trivial) = (self.student_sq / n, self.trivial_sq / n);
        let mean_diff = mse_trivial - mse_student;
        let var_diff = (self.diff_sq / n - mean_diff * mean_diff).max(0.0);
        let mean_f = self.target / n;
        Evaluation {
            n: self.n,
            mse_student,
            mse_trivial,
            var_target: (self.target_sq / n - mean_f * mean_f).max(0.0),
            delta_se: (var_diff / n).sqrt(),
        }
    }
}

/// What ran the work: recorded with every result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// `cpu` or `wgpu`.
    pub backend: String,
    /// The adapter (wgpu) or CPU model and thread count.
    pub adapter: String,
    /// wgpu's backend API (vulkan, gl, metal, dx12) or `native`.
    pub api: String,
    /// wgpu's device type (DiscreteGpu, Cpu, …) or `Cpu`.
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// The matrix products: the CPU's sgemm, or the GEMM variant the tuner chose per shape class
    /// (empty in rows written before it was recorded).
    #[serde(default)]
    pub gemm: String,
}

impl BackendInfo {
    /// `backend (adapter, api)`, with the products it used where recorded.
    pub fn describe(&self) -> String {
        let products = if self.gemm.is_empty() { String::new() } else { format!("; products: {}", self.gemm) };
        format!("{} ({}, {}{products})", self.backend, self.adapter, self.api)
    }
}

/// A part of the training step, timed on its own by the benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Sampling: a Gaussian batch and its teacher labels.
    Generate,
    /// The forward product with its fused epilogue, and the residuals.
    Forward,
    /// The backward products with the fused update.
    Backward,
    /// A whole step (sampling when online, forward, backward, update).
    Step,
}

impl Phase {
    /// Every phase.
    pub const ALL: [Phase; 4] = [Self::Generate, Self::Forward, Self::Backward, Self::Step];

    /// The name used in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Generate => "generate",
            Self::Forward => "forward",
            Self::Backward => "backward",
            Self::Step => "step",
        }
    }

    /// Floating-point operations of one run of this phase, counted as SPEC §7 fixes: a
    /// B×d×k' product is 2·B·d·k' (the O(B·k') elementwise work is not counted). For
    /// `Generate` the count is of normals drawn (B·d), not FLOPs.
    pub fn work(self, c: &TrainConfig) -> f64 {
        let (b, d, k) = (c.batch as f64, c.d as f64, c.width as f64);
        match self {
            Self::Generate => b * d,
            Self::Forward | Self::Backward => 2.0 * b * d * k,
            Self::Step => 4.0 * b * d * k,
        }
    }

    /// Bytes a phase must move at least once (f32): operands read and results written.
    pub fn bytes(self, c: &TrainConfig) -> f64 {
        let (b, d, k) = (c.batch as f64, c.d as f64, c.width as f64);
        4.0 * match self {
            Self::Generate => b * d + 2.0 * b,
            Self::Forward => b * d + k * d + b * k + b,
            Self::Backward => b * k + b * d + 2.0 * k * d + b,
            Self::Step => 2.0 * b * d + 3.0 * k * d + 2.0 * b * k + 3.0 * b,
        }
    }
}

/// Wall-clock and (where measured) device time of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseTiming {
    /// Wall-clock time, start to completion.
    pub wall: std::time::Duration,
    /// Device time from timestamp queries, where the device has them.
    pub device: Option<std::time::Duration>,
}

/// The outcome of a timed run of steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Training loss of the last step.
    pub loss: f32,
    /// Wall-clock time, submission to completion.
    pub wall: std::time::Duration,
    /// Device time from timestamp queries, where the device has them.
    pub device: Option<std::time::Duration>,
}

/// A compute engine: makes trainers.
pub trait Engine {
    /// What this engine runs on.
    fn info(&self) -> BackendInfo;
    /// A trainer for `config`, starting from `init`.
    fn trainer(&self, config: &TrainConfig, init: &StudentParams) -> Result<Box<dyn Trainer + '_>, Error>;
    /// The engine as `Any`, for backend-specific tools (benchmark calibration).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Trains one student. All randomness comes from the teacher's seed and the step counter, so a
/// trainer's results depend only on its configuration and initial student.
pub trait Trainer {
    /// Runs `phase` `iters` times (a `Step` advances training; the other phases repeat one
    /// part of the current step, for benchmarks) and times it.
    fn run_phase(&mut self, phase: Phase, iters: u64) -> Result<PhaseTiming, Error>;
    /// The training loss ½·mean r² of the last step run (NaN or ∞ when training diverged).
    fn last_loss(&mut self) -> Result<f32, Error>;
    /// Runs `steps` steps; returns the training loss of the last.
    fn steps(&mut self, steps: u64) -> Result<f32, Error> {
        self.run_phase(Phase::Step, steps)?;
        self.last_loss()
    }
    /// [`Self::steps`], timed: wall clock always, device time where the backend measures it.
    fn timed_steps(&mut self, steps: u64) -> Result<Timing, Error> {
        let t = self.run_phase(Phase::Step, steps)?;
        Ok(Timing { loss: self.last_loss()?, wall: t.wall, device: t.device })
    }
    /// Steps run so far.
    fn steps_done(&self) -> u64;
    /// Evaluates on test samples 0..n_test of the test stream in `view` (against the noise-free
    /// target, or the observed labels); the trivial predictor outputs `trivial`.
    fn evaluate(&mut self, n_test: u64, trivial: f32, view: View) -> Result<Evaluation, Error>;
    /// The current student.
    fn student(&mut self) -> Result<StudentParams, Error>;
}

/// Which engine to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A hardware GPU through wgpu if one exists, else the CPU backend.
    Auto,
    /// The native multi-threaded CPU backend.
    Cpu,
    /// wgpu on the adapter it selects (software adapters included).
    Wgpu,
}

/// The engine for `choice`.
pub fn select_engine(choice: BackendChoice) -> Result<Box<dyn Engine>, Error> {
    match choice {
        BackendChoice::Cpu => Ok(Box::new(cpu::CpuEngine::new())),
        BackendChoice::Wgpu => Ok(Box::new(gpu::GpuEngine::new()?)),
        BackendChoice::Auto => match gpu::GpuEngine::new() {
            Ok(engine) if engine.is_hardware() => Ok(Box::new(engine)),
            _ => Ok(Box::new(cpu::CpuEngine::new())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_name_the_products_a_backend_used_and_old_rows_without_them_still_read() {
        let json =
            r#"{"backend":"cpu","adapter":"AMD EPYC (2 threads)","api":"native","device_type":"Cpu","driver":"x"}"#;
        let old: BackendInfo = serde_json::from_str(json).unwrap();
        assert_eq!(old.describe(), "cpu (AMD EPYC (2 threads), native)");
        let new = BackendInfo { gemm: "matrixmultiply 0.3".into(), ..old };
        assert_eq!(new.describe(), "cpu (AMD EPYC (2 threads), native; products: matrixmultiply 0.3)");
    }
}
