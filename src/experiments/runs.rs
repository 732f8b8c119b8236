//! One run: one learner on one instance, judged by SPEC §8, recorded with everything needed
//! to reproduce it. `clwe-bench run` prints one; sweeps store many, one JSON row each
//! ([`Row`]: a finished run, or a run that failed at run time, carrying its error).

use std::fmt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::backends::{BackendInfo, Engine, Evaluation, student_memory_bytes};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::learners::baselines::RidgeFeatures;
use crate::learners::{Budget, Details, Instance, Judgement, LearnerKind, LearnerOptions, RunContext, judge};
use crate::math::target::WidthRule;
use crate::params::{NoiseModel, ParamError, Problem};
use crate::resources;
use crate::sampling::DataKind;
use crate::sampling::streams::check_instance;

/// Everything that defines a run (the grid point of a sweep).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "SpecOnDisk")]
pub struct RunSpec {
    /// The learner.
    pub learner: LearnerKind,
    /// Input dimension.
    pub d: usize,
    /// γ (lattice convention); none = 2√d.
    pub gamma: Option<f64>,
    /// β (lattice convention); none = 1/d.
    pub beta: Option<f64>,
    /// σ (standard convention); none = 1/d.
    pub sigma: Option<f64>,
    /// Label-noise model.
    pub noise: NoiseModel,
    /// Run seed.
    pub seed: u64,
    /// Instance number (fresh secret and data).
    pub instance: u32,
    /// What the learner trains and is tested on.
    pub data: DataKind,
    /// Budget and evaluation sizes.
    pub budget: Budget,
    /// Learner hyper-parameters.
    pub options: LearnerOptions,
}

/// A spec as rows store it: today's `data`, or the two booleans (`null`, `clwe_derived`) that
/// rows written before [`DataKind`] carry, so committed results stay readable.
#[derive(Deserialize)]
struct SpecOnDisk {
    learner: LearnerKind,
    d: usize,
    gamma: Option<f64>,
    beta: Option<f64>,
    sigma: Option<f64>,
    noise: NoiseModel,
    seed: u64,
    instance: u32,
    data: Option<DataKind>,
    #[serde(default)]
    null: bool,
    #[serde(default)]
    clwe_derived: bool,
    budget: Budget,
    options: LearnerOptions,
}

impl From<SpecOnDisk> for RunSpec {
    fn from(s: SpecOnDisk) -> Self {
        let legacy = match (s.null, s.clwe_derived) {
            (true, _) => DataKind::Null,
            (false, true) => DataKind::ClweDerived,
            (false, false) => DataKind::Planted,
        };
        Self {
            learner: s.learner,
            d: s.d,
            gamma: s.gamma,
            beta: s.beta,
            sigma: s.sigma,
            noise: s.noise,
            seed: s.seed,
            instance: s.instance,
            data: s.data.unwrap_or(legacy),
            budget: s.budget,
            options: s.options,
        }
    }
}

impl RunSpec {
    /// A stable identifier: the JSON of the spec (sweeps resume by it).
    pub fn id(&self) -> String {
        serde_json::to_string(self).expect("specs serialise")
    }

    /// The validated problem.
    pub fn problem(&self) -> Result<Problem, ParamError> {
        Problem::new(self.d, self.gamma, self.beta, self.sigma, self.noise, self.seed)
    }

    /// Checks everything before any work starts: the problem, every option, the budget, the
    /// instance number and the memory the learner would need.
    pub fn validate(&self) -> Result<(), ParamError> {
        self.problem()?;
        self.options.validate()?;
        self.budget.validate()?;
        check_instance(self.instance)?;
        let (flags, bytes) = self.memory_bytes();
        resources::ensure_memory(flags, bytes)
    }

    /// The memory the learner needs, estimated from its largest allocations, and the flags that
    /// set it.
    pub fn memory_bytes(&self) -> (&'static str, u64) {
        let (d, o, m) = (self.d as u64, &self.options, self.budget.train_samples);
        let f = o.features as u64;
        match self.learner {
            LearnerKind::Trivial | LearnerKind::Oracle => ("--d", 16 * d),
            LearnerKind::Sgd | LearnerKind::Adam | LearnerKind::SgdWarm => {
                let m = if o.fixed_data { m } else { 0 };
                ("--width/--batch/--d/--train-size", student_memory_bytes(self.d, o.width, o.batch, m))
            }
            // f64 normal equations (twice: the Gram matrix and its factor) and one chunk of rows.
            LearnerKind::Ridge | LearnerKind::Ridge2 => {
                let features = match self.learner {
                    LearnerKind::Ridge => RidgeFeatures::Linear,
                    _ => RidgeFeatures::Quadratic,
                };
                let w = features.count(self.d) as u64;
                ("--d", w.saturating_mul(w).saturating_add(1024 * w).saturating_mul(16))
            }
            LearnerKind::RfRidge => ("--features/--d", 8 * (2 * (f + 1) * (f + 1) + 2048 * (f + 1) + f * d)),
            LearnerKind::Lll => {
                let mode = crate::attack::AttackMode::Triangle;
                let gamma = self.problem().map_or(1.0, |p| p.gamma);
                let bits = o.precision_bits.unwrap_or_else(|| crate::attack::default_precision(mode, self.d, gamma));
                ("--d/--precision-bits", crate::attack::estimated_bytes(mode, self.d, bits))
            }
        }
    }

    /// The width rule of the teacher's cap (see [`run_width_rule`]).
    pub fn width_rule(&self) -> WidthRule {
        let b = &self.budget;
        run_width_rule(b.steps, self.options.batch, b.train_samples, b.n_test, RUN_DELTA).expect("valid width rule")
    }
}

/// The failure budget δ of a run's teacher cap.
pub const RUN_DELTA: f64 = 0.01;

/// The width rule of a run's teacher cap (SPEC §5): N_tot = every sample the run can touch —
/// steps·batch online samples, the training set and the test set — and failure budget δ.
/// `sample` and `judge` use it too, so their labels and targets are exactly the run's.
pub fn run_width_rule(
    steps: u64,
    batch: usize,
    train_samples: u64,
    n_test: u64,
    delta: f64,
) -> Result<WidthRule, ParamError> {
    let n = steps as f64 * batch as f64 + train_samples as f64 + n_test as f64;
    WidthRule::new(n.max(1.0), delta)
}

/// One finished run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// What ran.
    pub spec: RunSpec,
    /// Its identifier as written (readers outside the suite; the store keys rows by
    /// [`RunSpec::id`]).
    pub id: String,
    /// γ actually used.
    pub gamma: f64,
    /// γ_s = γ/√(2π).
    pub gamma_s: f64,
    /// β.
    pub beta: f64,
    /// σ.
    pub sigma: f64,
    /// The teacher's width k = 4M + 1.
    pub teacher_width: usize,
    /// Verdict and Δ statistics in the learning view (against the noise-free target, SPEC §8).
    pub judgement: Judgement,
    /// The held-out evaluation in the learning view.
    pub eval: Evaluation,
    /// Verdict and evaluation on the observed labels only (SPEC §6): the distinguisher's view.
    /// Absent from rows written before revision 2 of the SPEC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observed>,
    /// Training samples used.
    pub samples: u64,
    /// Steps taken.
    pub steps: u64,
    /// Wall-clock seconds of the whole run.
    pub wall_s: f64,
    /// Device seconds, where measured.
    pub device_s: Option<f64>,
    /// |⟨ŵ, w⟩| where defined.
    pub cosine: Option<f64>,
    /// Learner-specific facts.
    pub details: Details,
    /// The engine.
    pub backend: BackendInfo,
    /// clwe-bench version and git revision.
    pub version: String,
}

/// The observed-label view of a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Verdict and Δ statistics on the observed labels.
    pub judgement: Judgement,
    /// The held-out evaluation on the observed labels.
    pub eval: Evaluation,
}

/// A run that failed at run time (device loss, a singular system): stored so the sweep can go
/// on; `--resume` tries it again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailedRun {
    /// What ran.
    pub spec: RunSpec,
    /// Its identifier.
    pub id: String,
    /// The error, as the user would have seen it.
    pub failed: String,
    /// Seconds until it failed.
    pub wall_s: f64,
    /// The engine.
    pub backend: BackendInfo,
    /// clwe-bench version and git revision.
    pub version: String,
}

/// One row of a sweep's results file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Row {
    /// A finished run.
    Finished(Box<RunRecord>),
    /// A run that failed at run time.
    Failed(Box<FailedRun>),
}

impl Row {
    /// The run's spec.
    pub fn spec(&self) -> &RunSpec {
        match self {
            Self::Finished(r) => &r.spec,
            Self::Failed(f) => &f.spec,
        }
    }
}

/// The crate version and the git revision it was built from.
pub fn version() -> String {
    format!("{} ({})", env!("CARGO_PKG_VERSION"), option_env!("CLWE_BENCH_GIT_REVISION").unwrap_or("unknown revision"))
}

/// Runs `spec` on `engine`.
pub fn run_one(spec: &RunSpec, engine: &dyn Engine) -> Result<RunRecord, Error> {
    spec.validate()?;
    let problem = spec.problem()?;
    let rule = spec.width_rule();
    let inst = Instance::new(&problem, spec.instance, spec.data, rule);
    let learner = spec.learner.build(&spec.options);
    let start = Instant::now();
    let deadline = Deadline::after(spec.budget.seconds);
    let trivial = RunContext::trivial_constant(&inst, &spec.budget, rule, deadline);
    let ctx = RunContext { engine, budget: spec.budget, trivial, rule, deadline };
    let fit = learner.fit(&inst, &ctx)?;
    let judgement = judge(&fit);
    Ok(RunRecord {
        spec: spec.clone(),
        id: spec.id(),
        gamma: problem.gamma,
        gamma_s: problem.gamma_s(),
        beta: problem.beta,
        sigma: problem.sigma,
        teacher_width: inst.cap.width(),
        judgement: judgement.learning,
        eval: fit.scores.learning,
        observed: Some(Observed { judgement: judgement.observed, eval: fit.scores.observed }),
        samples: fit.samples,
        steps: fit.steps,
        wall_s: start.elapsed().as_secs_f64(),
        device_s: fit.device_s,
        cosine: fit.cosine,
        details: fit.details,
        backend: engine.info(),
        version: version(),
    })
}

impl fmt::Display for RunRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, j, e) = (&self.spec, &self.judgement, &self.eval);
        writeln!(
            f,
            "{} on d={} γ={:.3} (γ_s={:.3}) β={:.3e} σ={:.3e} ({}): {}",
            s.learner, s.d, self.gamma, self.gamma_s, self.beta, self.sigma, s.data, j.verdict
        )?;
        writeln!(
            f,
            "  Δ = {:.3e} (99% lower bound {:.3e}, ε = {:.3e}), r = {:.3}, MSE {:.4e} vs trivial {:.4e}, n_test = {}",
            j.delta, j.delta_lower99, j.epsilon, j.r, e.mse_student, e.mse_trivial, e.n
        )?;
        write!(f, "  samples {}, steps {}, wall {:.2} s", self.samples, self.steps, self.wall_s)?;
        if let Some(s) = self.device_s {
            write!(f, ", device {s:.2} s")?;
        }
        if let Some(c) = self.cosine {
            write!(f, ", |cos(ŵ, w)| = {c:.12}")?;
        }
        write!(f, "  [{} {}]", self.backend.backend, self.backend.adapter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learning_rate_search_extends_its_grid_past_an_edge_that_wins() {
        // Rates far too small to overshoot: the larger the better, so the top edge keeps
        // winning and the grid grows by its ratio (2) twice.
        let spec = RunSpec {
            learner: LearnerKind::Adam,
            d: 2,
            gamma: Some(0.5),
            beta: None,
            sigma: Some(0.0),
            noise: NoiseModel::Gaussian,
            seed: 0,
            instance: 0,
            data: DataKind::Planted,
            budget: Budget { steps: 40, seconds: None, train_samples: 1000, n_test: 4000 },
            options: LearnerOptions {
                width: 16,
                batch: 128,
                adam_lr_grid: vec![1e-5, 2e-5],
                ..LearnerOptions::default()
            },
        };
        let record = run_one(&spec, &crate::backends::cpu::CpuEngine::new()).unwrap();
        let crate::learners::Details::Student(details) = &record.details else { panic!("a student") };
        let rates: Vec<f32> = details.lr_search.iter().map(|t| t.lr).collect();
        assert_eq!(rates, [1e-5, 2e-5, 4e-5, 8e-5], "{:?}", details.lr_search);
        assert!(matches!(details.optimizer, crate::backends::Optimizer::Adam { lr, .. } if lr == 8e-5));
    }

    #[test]
    fn rows_written_before_data_kind_read_back_with_the_same_data() {
        let old = r#"{"learner":"sgd","d":2,"gamma":null,"beta":0.5,"sigma":0.0,"noise":"gaussian","seed":0,
            "instance":1,"null":true,"clwe_derived":false,"budget":{"steps":10,"seconds":null,"train_samples":10,
            "n_test":20},"options":{}}"#;
        let spec: RunSpec = serde_json::from_str(old).unwrap();
        assert_eq!((spec.learner, spec.data, spec.instance), (LearnerKind::Sgd, DataKind::Null, 1));
        let again: RunSpec = serde_json::from_str(&spec.id()).unwrap();
        assert_eq!(again, spec, "today's rows round-trip");
    }
}
