//! Learners (SPEC §7) behind one trait, and the success rule of SPEC §8.
//!
//! Every learner sees the same [`Instance`] (secret, parameters, the planted or null label
//! rule), draws training samples from the same train stream, and is judged on the same held-out
//! test samples (indices 0..n_test of the test stream) against the noise-free target, paired with
//! the trivial predictor whose constant is the mean of the first `train_samples` training labels.

pub mod baselines;
pub mod lll;
pub mod students;

use serde::{Deserialize, Serialize};

use crate::backends::{Engine, EvalSums, Evaluation, Teacher};
use crate::backends::{Optimizer, Schedule};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::math::target::{CappedTriangle, WidthRule, dot};
use crate::params::{ParamError, Problem, ensure};
use crate::sampling::{DataKind, Sampler, Split, secret_direction};
use students::{OutputBias, StudentInit};

/// z-value of a one-sided 99% bound.
pub const Z99: f64 = 2.326_347_874_040_841;

/// One problem instance: parameters, secret, and whether labels are planted or null.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Parameters (γ, β, σ, noise model, seed).
    pub problem: Problem,
    /// Instance number (fresh secret and data per instance).
    pub instance: u32,
    /// How labels are made: planted, null, or clwe-derived.
    pub data: DataKind,
    /// The teacher's cap (width 4M + 1).
    pub cap: CappedTriangle,
    /// The secret direction w.
    pub secret: Vec<f64>,
}

impl Instance {
    /// Instance `instance` of `problem` labelled as `data` says; the cap follows the width rule.
    pub fn new(problem: &Problem, instance: u32, data: DataKind, rule: WidthRule) -> Self {
        Self {
            problem: problem.clone(),
            instance,
            data,
            cap: CappedTriangle::new(rule.cap(problem.gamma_s())),
            secret: secret_direction(problem.seed, instance, problem.d),
        }
    }

    /// Whether labels are independent of x (the planted null).
    pub fn is_null(&self) -> bool {
        self.data == DataKind::Null
    }

    /// The planted (or null) sampler of `split`.
    pub fn sampler(&self, split: Split, rule: WidthRule) -> Sampler {
        Sampler::new(self.data.distribution(), &self.problem, self.instance, split, rule)
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
            phase_noise: if self.data == DataKind::ClweDerived { self.problem.beta_s() as f32 } else { 0.0 },
            seed: self.problem.seed,
            instance: self.instance,
        }
    }
}

/// Budget and evaluation rules shared by every learner of a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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

impl Budget {
    /// Checks the sizes and the time limit against their ranges.
    pub fn validate(&self) -> Result<(), ParamError> {
        use crate::sampling::export::MAX_ROWS;
        let rows = |flag: &str, v: u64, low: u64| {
            ensure((low..=MAX_ROWS).contains(&v), flag, v, &format!("an integer in {low}..={MAX_ROWS}"))
        };
        rows("--n-test", self.n_test, 2)?;
        rows("--train-size", self.train_samples, 1)?;
        rows("--budget-steps", self.steps, 0)?;
        if let Some(seconds) = self.seconds {
            ensure(seconds.is_finite() && seconds > 0.0, "--budget-seconds", seconds, "a finite number > 0")?;
        }
        Ok(())
    }
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
    /// When the wall-clock budget runs out.
    pub deadline: Deadline,
}

impl RunContext<'_> {
    /// The mean of the first `train_samples` training labels of `inst`, generated in parallel
    /// chunks and summed in index order (so the value does not depend on the thread count). If
    /// `deadline` passes first, the mean of the labels drawn so far: the learner then stops at
    /// once and is scored as this constant, so its Δ is 0 whatever the constant.
    pub fn trivial_constant(inst: &Instance, budget: &Budget, rule: WidthRule, deadline: Deadline) -> f64 {
        use rayon::prelude::*;
        const CHUNK: u64 = 1 << 16;
        let sampler = inst.sampler(Split::Train, rule);
        let n = budget.train_samples.max(1);
        let (mut sum, mut count) = (0.0, 0u64);
        for first in (0..n).step_by(CHUNK as usize) {
            if count > 0 && deadline.expired() {
                break;
            }
            let labels: Vec<f64> = (first..(first + CHUNK).min(n))
                .into_par_iter()
                .map_init(
                    || vec![0.0; sampler.row_len()],
                    |row, i| {
                        sampler.fill_row(i, row);
                        row[inst.problem.d]
                    },
                )
                .collect();
            for label in labels {
                sum += label;
                count += 1;
            }
        }
        sum / count as f64
    }
}

/// What a learner produced.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Fit {
    /// Held-out evaluation in both views.
    pub scores: Scores<Evaluation>,
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
    /// Learner-specific facts (width and optimiser, penalty, the attack's report).
    pub details: Details,
}

impl Fit {
    /// A learner stopped by its deadline before it had a model: it is scored as the trivial
    /// predictor and judged `timeout`.
    pub fn timed_out(inst: &Instance, ctx: &RunContext<'_>, details: Details) -> Self {
        let trivial = ctx.trivial;
        Self { scores: evaluate_predictor(inst, ctx, |_| trivial), timed_out: true, details, ..Self::default() }
    }
}

/// Learner-specific facts of a run, one shape per learner family (`null` for those with none).
/// Untagged, so that rows written before the type existed read back as the same variants.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Details {
    /// Nothing to add (trivial, oracle).
    #[default]
    None,
    /// A student: its width, batch, optimiser and data source.
    Student(students::StudentDetails),
    /// The lattice attack's report.
    Lattice(Box<crate::attack::AttackReport>),
    /// Ridge on random ReLU features.
    RandomFeatures {
        /// Number of features.
        features: usize,
        /// Penalty λ.
        lambda: f64,
    },
    /// Ridge on x.
    Ridge {
        /// Penalty λ.
        lambda: f64,
    },
}

/// A learner.
pub trait Learner {
    /// Learns from `inst`'s training samples and evaluates on its test samples.
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error>;
}

/// The SPEC §8 outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl Verdict {
    /// The name used in results, tables and human output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Learned => "learned",
            Self::NotLearned => "not-learned",
            Self::Diverged => "diverged",
            Self::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Δ, its bound, ε and the verdict of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Δ = MSE(trivial) − MSE(h).
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub delta: f64,
    /// Lower one-sided 99% confidence bound of Δ.
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub delta_lower99: f64,
    /// The weak-learning margin ε = max(0.01·Var f, 4·SE).
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub epsilon: f64,
    /// r = Δ / Var f.
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub r: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Applies the success rule (SPEC §8) to a fit in both views.
pub fn judge(fit: &Fit) -> Scores<Judgement> {
    let rule = |e: &Evaluation| judge_evaluation(e, fit.diverged, fit.timed_out);
    Scores { learning: rule(&fit.scores.learning), observed: rule(&fit.scores.observed) }
}

/// The success rule on one evaluation: the lower 99% bound of Δ must exceed
/// ε = max(0.01·Var, 4·SE), with Var the variance of the view's reference values.
pub fn judge_evaluation(e: &Evaluation, diverged: bool, timed_out: bool) -> Judgement {
    let delta = e.delta();
    let delta_lower99 = delta - Z99 * e.delta_se;
    let epsilon = (0.01 * e.var_target).max(4.0 * e.delta_se);
    let verdict = if diverged || !delta.is_finite() {
        Verdict::Diverged
    } else if timed_out {
        Verdict::Timeout
    } else if delta_lower99 > epsilon {
        Verdict::Learned
    } else {
        Verdict::NotLearned
    };
    Judgement { delta, delta_lower99, epsilon, r: delta / e.var_target, verdict }
}

/// Test samples scored per chunk: the unit of parallel work, and the order in which partial
/// sums are added (so the result does not depend on the thread count).
pub const SCORE_CHUNK: u64 = 4096;

/// The sums of both views over test samples `first..first + len` of `inst`: prediction
/// `predict(i, x)` against the noise-free target f (learning) and the observed label ℓ
/// (observed), each paired with the trivial constant.
pub fn score_chunk(
    inst: &Instance,
    test: &Sampler,
    trivial: f64,
    first: u64,
    len: u64,
    mut predict: impl FnMut(u64, &[f64]) -> f64,
) -> Scores<EvalSums> {
    let d = inst.problem.d;
    let mut row = vec![0.0; test.row_len()];
    let mut sums = Scores::<EvalSums>::default();
    for i in first..first + len {
        test.fill_row(i, &mut row);
        let x = &row[..d];
        let f = if inst.is_null() {
            test.null_phase_label(i)
        } else {
            test.cap().eval_closed_form(inst.problem.gamma_s() * dot(&inst.secret, x))
        };
        let h = predict(i, x);
        sums.learning.add(&EvalSums::of(h, trivial, f));
        sums.observed.add(&EvalSums::of(h, trivial, row[d]));
    }
    sums
}

/// One value per view (SPEC §8 learning, SPEC §6 observed labels).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores<T> {
    /// Against the noise-free target f.
    pub learning: T,
    /// Against the observed labels ℓ.
    pub observed: T,
}

impl Scores<EvalSums> {
    /// Adds another chunk's sums.
    pub fn add(&mut self, o: &Self) {
        self.learning.add(&o.learning);
        self.observed.add(&o.observed);
    }

    /// The evaluations these sums describe.
    pub fn finish(&self) -> Scores<Evaluation> {
        Scores { learning: self.learning.finish(), observed: self.observed.finish() }
    }
}

/// Evaluates an f64 predictor on test samples 0..n_test of `inst` in both views, paired with
/// the trivial constant.
pub fn evaluate_predictor(
    inst: &Instance,
    ctx: &RunContext<'_>,
    predict: impl Fn(&[f64]) -> f64 + Sync,
) -> Scores<Evaluation> {
    evaluate_on(inst, ctx, Split::Test, ctx.budget.n_test, predict)
}

/// Evaluates an f64 predictor on samples 0..n of `split` of `inst` in both views, paired with
/// the trivial constant (the validation split is where model selection looks).
pub fn evaluate_on(
    inst: &Instance,
    ctx: &RunContext<'_>,
    split: Split,
    n: u64,
    predict: impl Fn(&[f64]) -> f64 + Sync,
) -> Scores<Evaluation> {
    use rayon::prelude::*;
    let trivial = ctx.trivial;
    let sampler = inst.sampler(split, ctx.rule);
    let parts: Vec<Scores<EvalSums>> = (0..n.div_ceil(SCORE_CHUNK))
        .into_par_iter()
        .map(|c| {
            let first = c * SCORE_CHUNK;
            score_chunk(inst, &sampler, trivial, first, SCORE_CHUNK.min(n - first), |_, x| predict(x))
        })
        .collect();
    parts
        .iter()
        .fold(Scores::<EvalSums>::default(), |mut acc, p| {
            acc.add(p);
            acc
        })
        .finish()
}

/// Hyper-parameters of every learner (each uses the ones that apply to it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Students' learning-rate schedule over the step budget (omitted when constant, so grids
    /// and run ids written before it existed are unchanged).
    #[serde(skip_serializing_if = "Schedule::is_constant")]
    pub schedule: Schedule,
    /// Scale of the students' initial output layer: 1 is the standard initialisation, 0 starts
    /// at the zero function (omitted when 1).
    #[serde(skip_serializing_if = "is_one")]
    pub output_init: f32,
    /// Where the students' output bias starts (omitted when at the initialisation's value).
    #[serde(skip_serializing_if = "OutputBias::is_initial")]
    pub output_bias: OutputBias,
    /// SGD's learning rates tried per run, the best on the validation split kept (empty: `lr`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lr_grid: Vec<f32>,
    /// Adam's learning rates tried per run, likewise (empty: `adam_lr`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adam_lr_grid: Vec<f32>,
}

/// Whether a scale is the default 1 (options at their default are not serialised).
pub(crate) fn is_one(v: &f32) -> bool {
    *v == 1.0
}

/// The default scale, 1.
pub(crate) fn one() -> f32 {
    1.0
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
            schedule: Schedule::Constant,
            output_init: 1.0,
            output_bias: OutputBias::Initial,
            lr_grid: Vec::new(),
            adam_lr_grid: Vec::new(),
        }
    }
}

impl LearnerOptions {
    /// Checks every option against its valid range (all of them, whichever learner runs, so a
    /// grid fails before its first run rather than at the first run that reads a bad value).
    pub fn validate(&self) -> Result<(), ParamError> {
        ensure(
            self.width >= 1 && self.width <= MAX_WIDTH,
            "--width",
            self.width,
            &format!("an integer in 1..={MAX_WIDTH}"),
        )?;
        ensure(
            self.batch >= 1 && self.batch <= MAX_BATCH,
            "--batch",
            self.batch,
            &format!("an integer in 1..={MAX_BATCH}"),
        )?;
        ensure(self.lr.is_finite() && self.lr > 0.0, "--lr", self.lr, "a finite number > 0")?;
        ensure(self.adam_lr.is_finite() && self.adam_lr > 0.0, "--adam-lr", self.adam_lr, "a finite number > 0")?;
        for (name, grid) in [("--lr-grid", &self.lr_grid), ("--adam-lr-grid", &self.adam_lr_grid)] {
            ensure(grid.iter().all(|lr| lr.is_finite() && *lr > 0.0), name, format!("{grid:?}"), "rates > 0")?;
        }
        ensure(
            self.features >= 1 && self.features <= MAX_FEATURES,
            "--features",
            self.features,
            &format!("an integer in 1..={MAX_FEATURES}"),
        )?;
        ensure(self.lambda.is_finite() && self.lambda >= 0.0, "--lambda", self.lambda, "a finite number >= 0")?;
        ensure(
            self.output_init.is_finite() && (0.0..=10.0).contains(&self.output_init),
            "--output-init",
            self.output_init,
            "a number in [0, 10]",
        )?;
        if let Some(bits) = self.precision_bits {
            ensure(
                crate::attack::PRECISION_BITS.contains(&bits),
                "--precision-bits",
                bits,
                &format!(
                    "an integer in {}..={}",
                    crate::attack::PRECISION_BITS.start(),
                    crate::attack::PRECISION_BITS.end()
                ),
            )?;
        }
        Ok(())
    }
}

/// Largest student width k'.
pub const MAX_WIDTH: usize = 1 << 24;
/// Largest batch B.
pub const MAX_BATCH: usize = 1 << 24;
/// Largest number of random features.
pub const MAX_FEATURES: usize = 1 << 16;

/// The learners of SPEC §7, as named on the command line and in results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LearnerKind {
    /// Predicts the training-label mean.
    Trivial,
    /// Knows w: predicts f_NN(x).
    Oracle,
    /// Student, minibatch SGD.
    Sgd,
    /// Student, Adam.
    Adam,
    /// Student, SGD warm-started at the true network.
    SgdWarm,
    /// Ridge regression on x.
    Ridge,
    /// Ridge regression on degree-2 features of x.
    Ridge2,
    /// Ridge on random ReLU features.
    RfRidge,
    /// The lattice attack (triangle mode).
    Lll,
}

impl LearnerKind {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trivial => "trivial",
            Self::Oracle => "oracle",
            Self::Sgd => "sgd",
            Self::Adam => "adam",
            Self::SgdWarm => "sgd-warm",
            Self::Ridge => "ridge",
            Self::Ridge2 => "ridge2",
            Self::RfRidge => "rf-ridge",
            Self::Lll => "lll",
        }
    }

    /// Whether it is a student network (sgd, adam, sgd-warm): the learners that read width,
    /// batch, steps, learning rate and schedule.
    pub fn is_student(self) -> bool {
        matches!(self, Self::Sgd | Self::Adam | Self::SgdWarm)
    }

    /// The learner with options `o`.
    pub fn build(self, o: &LearnerOptions) -> Box<dyn Learner> {
        let student = |optimizer, init, lr_grid: &[f32]| students::Student {
            width: o.width,
            batch: o.batch,
            optimizer,
            fixed_data: o.fixed_data,
            init,
            schedule: o.schedule,
            output_init: o.output_init,
            output_bias: o.output_bias,
            lr_grid: lr_grid.to_vec(),
        };
        match self {
            Self::Trivial => Box::new(baselines::Trivial),
            Self::Oracle => Box::new(baselines::Oracle),
            Self::Sgd => Box::new(student(Optimizer::Sgd { lr: o.lr }, StudentInit::Standard, &o.lr_grid)),
            Self::Adam => Box::new(student(Optimizer::adam(o.adam_lr), StudentInit::Standard, &o.adam_lr_grid)),
            Self::SgdWarm => Box::new(student(Optimizer::Sgd { lr: o.lr }, StudentInit::TrueNetwork, &[])),
            Self::Ridge => Box::new(baselines::Ridge { features: baselines::RidgeFeatures::Linear, lambda: o.lambda }),
            Self::Ridge2 => {
                Box::new(baselines::Ridge { features: baselines::RidgeFeatures::Quadratic, lambda: o.lambda })
            }
            Self::RfRidge => Box::new(baselines::RandomFeatures { features: o.features, lambda: o.lambda }),
            Self::Lll => Box::new(lll::Lll { precision_bits: o.precision_bits }),
        }
    }
}

impl std::fmt::Display for LearnerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_left_at_their_old_defaults_serialise_as_before() {
        // Run ids and grid fingerprints are built from this text: new options must not change it.
        let text = toml::to_string(&LearnerOptions::default()).unwrap();
        assert!(!text.contains("schedule") && !text.contains("output_init"), "{text}");
        let set: LearnerOptions = toml::from_str("schedule = \"cosine\"\noutput_init = 0.0").unwrap();
        assert_eq!((set.schedule, set.output_init), (Schedule::Cosine, 0.0));
        assert_eq!(set.width, LearnerOptions::default().width, "unset options keep their defaults");
        let text = toml::to_string(&set).unwrap();
        assert!(text.contains("schedule = \"cosine\"") && text.contains("output_init = 0.0"), "{text}");
        assert!(LearnerOptions { output_init: -1.0, ..set }.validate().is_err());
    }
}
