//! Learners (SPEC §7) behind one trait, and the success rule of SPEC §8.
//!
//! Every learner sees the same [`Instance`] (secret, parameters, the planted or null label
//! rule), draws training samples from the same train stream, and is judged on the same held-out
//! test samples (indices 0..n_test of the test stream) against the noise-free target, paired with
//! the trivial predictor whose constant is the mean of the first `train_samples` training labels.

pub mod baselines;
pub mod lll;
pub mod students;

use serde::Serialize;

use crate::backends::{Engine, EngineError, EvalSums, Evaluation, Teacher};
use crate::math::target::{CappedTriangle, WidthRule, dot};
use crate::params::{ParamError, Problem};
use crate::sampling::{Distribution, Sampler, Split, secret_direction};

/// z-value of a one-sided 99% bound.
pub const Z99: f64 = 2.326_347_874_040_841;

/// A failure inside a learner.
#[derive(Debug, thiserror::Error)]
pub enum LearnerError {
    /// A bad parameter.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Lattice reduction could not run (e.g. dependent input vectors).
    #[error("lattice reduction failed: {0}")]
    Lattice(String),
}

/// One problem instance: parameters, secret, and whether labels are planted or null.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Parameters (γ, β, σ, noise model, seed).
    pub problem: Problem,
    /// Instance number (fresh secret and data per instance).
    pub instance: u32,
    /// How labels are made: planted, planted-null, or clwe-derived.
    pub kind: Distribution,
    /// The teacher's cap (width 4M + 1).
    pub cap: CappedTriangle,
    /// The secret direction w.
    pub secret: Vec<f64>,
}

impl Instance {
    /// Instance `instance` of `problem` labelled by `kind` (planted, planted-null or
    /// clwe-derived); the cap follows the width rule.
    pub fn new(problem: &Problem, instance: u32, kind: Distribution, rule: WidthRule) -> Self {
        assert!(matches!(kind, Distribution::Planted | Distribution::PlantedNull | Distribution::ClweDerived));
        Self {
            problem: problem.clone(),
            instance,
            kind,
            cap: CappedTriangle::new(rule.cap(problem.gamma_s())),
            secret: secret_direction(problem.seed, instance, problem.d),
        }
    }

    /// Whether labels are independent of x (the planted null).
    pub fn is_null(&self) -> bool {
        self.kind == Distribution::PlantedNull
    }

    /// The planted (or null) sampler of `split`.
    pub fn sampler(&self, split: Split, rule: WidthRule) -> Sampler {
        Sampler::new(self.kind, &self.problem, self.instance, split, rule)
    }

    /// The teacher as the engines take it (f32).
    pub fn teacher(&self) -> Teacher {
        Teacher {
            w: self.secret.iter().map(|&w| w as f32).collect(),
            gamma_s: self.problem.gamma_s() as f32,
            cap_m: self.cap.cap(),
            sigma: self.problem.sigma as f32,
            noise: self.problem.noise,
            null: self.is_null(),
            phase_noise: if self.kind == Distribution::ClweDerived { self.problem.beta_s() as f32 } else { 0.0 },
            seed: self.problem.seed,
            instance: self.instance,
        }
    }
}

/// Budget and evaluation rules shared by every learner of a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Budget {
    /// Optimisation steps (students).
    pub steps: u64,
    /// Wall-clock limit in seconds; a learner still running then stops with `timeout`.
    pub seconds: Option<f64>,
    /// Training-set size m for fixed-data learners, and for the trivial predictor's mean.
    pub train_samples: u64,
    /// Held-out test samples.
    pub n_test: u64,
}

/// What every learner needs besides the instance.
pub struct RunContext<'a> {
    /// The compute engine for students.
    pub engine: &'a dyn Engine,
    /// Budget and evaluation sizes.
    pub budget: Budget,
    /// The trivial predictor's constant: the mean training label.
    pub trivial: f64,
    /// The width rule the instance's cap came from.
    pub rule: WidthRule,
}

impl RunContext<'_> {
    /// The mean of the first `train_samples` training labels of `inst`.
    pub fn trivial_constant(inst: &Instance, budget: &Budget, rule: WidthRule) -> f64 {
        let sampler = inst.sampler(Split::Train, rule);
        let mut row = vec![0.0; sampler.row_len()];
        let n = budget.train_samples.max(1);
        (0..n)
            .map(|i| {
                sampler.fill_row(i, &mut row);
                row[inst.problem.d]
            })
            .sum::<f64>()
            / n as f64
    }
}

/// What a learner produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Fit {
    /// Held-out evaluation.
    pub eval: Evaluation,
    /// Training samples used.
    pub samples: u64,
    /// Optimisation steps taken.
    pub steps: u64,
    /// Device seconds (timestamp queries), where measured.
    pub device_s: Option<f64>,
    /// |⟨ŵ, w⟩| for learners that estimate a direction.
    pub cosine: Option<f64>,
    /// Training diverged (NaN/∞).
    pub diverged: bool,
    /// The wall-clock budget ran out.
    pub timed_out: bool,
    /// Learner-specific facts (lattice dimension, precision, …).
    pub details: serde_json::Value,
}

/// A learner.
pub trait Learner {
    /// Its name on the command line and in results.
    fn name(&self) -> String;
    /// Learns from `inst`'s training samples and evaluates on its test samples.
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, LearnerError>;
}

/// The SPEC §8 outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The lower 99% bound of Δ exceeds ε.
    Learned,
    /// It does not.
    NotLearned,
    /// Training produced NaN or ∞.
    Diverged,
    /// The wall-clock budget ran out first.
    Timeout,
}

/// Δ, its bound, ε and the verdict of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Judgement {
    /// Δ = MSE(trivial) − MSE(h).
    pub delta: f64,
    /// Lower one-sided 99% confidence bound of Δ.
    pub delta_lower99: f64,
    /// The weak-learning margin ε = max(0.01·Var f, 4·SE).
    pub epsilon: f64,
    /// r = Δ / Var f.
    pub r: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Applies the success rule (SPEC §8) to a fit.
pub fn judge(fit: &Fit) -> Judgement {
    let e = &fit.eval;
    let delta = e.delta();
    let delta_lower99 = delta - Z99 * e.delta_se;
    let epsilon = (0.01 * e.var_target).max(4.0 * e.delta_se);
    let verdict = if fit.diverged || !delta.is_finite() {
        Verdict::Diverged
    } else if fit.timed_out {
        Verdict::Timeout
    } else if delta_lower99 > epsilon {
        Verdict::Learned
    } else {
        Verdict::NotLearned
    };
    Judgement { delta, delta_lower99, epsilon, r: delta / e.var_target, verdict }
}

/// Evaluates an f64 predictor on test samples 0..n_test of `inst` (noise-free target), paired
/// with the trivial constant.
pub fn evaluate_predictor(inst: &Instance, ctx: &RunContext<'_>, predict: impl Fn(&[f64]) -> f64 + Sync) -> Evaluation {
    use rayon::prelude::*;
    let (d, n_test, trivial) = (inst.problem.d, ctx.budget.n_test, ctx.trivial);
    let test = inst.sampler(Split::Test, ctx.rule);
    let chunks = n_test.div_ceil(4096);
    let parts: Vec<EvalSums> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut row = vec![0.0; test.row_len()];
            let mut sums = EvalSums::default();
            for i in c * 4096..((c + 1) * 4096).min(n_test) {
                test.fill_row(i, &mut row);
                let x = &row[..d];
                let f = if inst.is_null() {
                    test.null_phase_label(i)
                } else {
                    test.cap().eval_closed_form(inst.problem.gamma_s() * dot(&inst.secret, x))
                };
                let (es, et) = ((predict(x) - f).powi(2), (trivial - f).powi(2));
                sums.add(&EvalSums {
                    n: 1,
                    student_sq: es,
                    trivial_sq: et,
                    diff_sq: (et - es).powi(2),
                    target: f,
                    target_sq: f * f,
                });
            }
            sums
        })
        .collect();
    parts
        .iter()
        .fold(EvalSums::default(), |mut acc, p| {
            acc.add(p);
            acc
        })
        .finish()
}

/// Hyper-parameters of every learner (each uses the ones that apply to it).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LearnerOptions {
    /// Student width k'.
    pub width: usize,
    /// Student batch size B.
    pub batch: usize,
    /// Learning rate (SGD); Adam uses `adam_lr`.
    pub lr: f32,
    /// Adam's learning rate.
    pub adam_lr: f32,
    /// Students train on a fixed set of `train_samples` samples instead of fresh ones.
    pub fixed_data: bool,
    /// Random features of `rf-ridge`.
    pub features: usize,
    /// Ridge penalty λ.
    pub lambda: f64,
    /// Precision N of `lll` (bits); none = automatic.
    pub precision_bits: Option<u32>,
}

impl Default for LearnerOptions {
    fn default() -> Self {
        Self {
            width: 256,
            batch: 1024,
            lr: 0.05,
            adam_lr: 1e-3,
            fixed_data: false,
            features: 512,
            lambda: 1e-3,
            precision_bits: None,
        }
    }
}

/// Names of the learners `by_name` knows.
pub const LEARNERS: [&str; 8] = ["trivial", "oracle", "sgd", "adam", "sgd-warm", "ridge", "rf-ridge", "lll"];

/// The learner called `name`.
pub fn by_name(name: &str, o: &LearnerOptions) -> Result<Box<dyn Learner>, ParamError> {
    let student = |optimizer, warm_start| students::Student {
        width: o.width,
        batch: o.batch,
        optimizer,
        fixed_data: o.fixed_data,
        warm_start,
    };
    Ok(match name {
        "trivial" => Box::new(baselines::Trivial),
        "oracle" => Box::new(baselines::Oracle),
        "sgd" => Box::new(student(crate::backends::Optimizer::Sgd { lr: o.lr }, false)),
        "adam" => Box::new(student(crate::backends::Optimizer::adam(o.adam_lr), false)),
        "sgd-warm" => Box::new(student(crate::backends::Optimizer::Sgd { lr: o.lr }, true)),
        "ridge" => Box::new(baselines::Ridge { lambda: o.lambda }),
        "rf-ridge" => Box::new(baselines::RandomFeatures { features: o.features, lambda: o.lambda }),
        "lll" => Box::new(lll::Lll { precision_bits: o.precision_bits }),
        _ => {
            return Err(ParamError {
                name: "--learner".into(),
                value: name.into(),
                expected: format!("one of {}", LEARNERS.join(", ")),
            });
        }
    })
}
