//! One run: one learner on one instance, judged by SPEC §8, recorded with everything needed
//! to reproduce it. `clwe-bench run` prints one; sweeps write many as JSONL rows.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::backends::{BackendInfo, Engine, Evaluation};
use crate::learners::{Budget, Fit, Instance, Judgement, LearnerError, LearnerOptions, RunContext, by_name, judge};
use crate::math::target::WidthRule;
use crate::params::{NoiseModel, ParamError, Problem, ensure};
use crate::sampling::Distribution;

/// Everything that defines a run (the grid point of a sweep).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Learner name.
    pub learner: String,
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
    /// Labels independent of x (the planted null).
    pub null: bool,
    /// Train on CLWE-derived samples (SPEC §6: ℓ = φ(z) + ξ) instead of the planted problem.
    #[serde(default)]
    pub clwe_derived: bool,
    /// Budget and evaluation sizes.
    pub budget: Budget,
    /// Learner hyper-parameters.
    pub options: LearnerOptions,
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

    /// Checks everything before any work starts.
    pub fn validate(&self) -> Result<(), ParamError> {
        self.problem()?;
        by_name(&self.learner, &self.options)?;
        ensure(self.budget.n_test >= 2, "--n-test", self.budget.n_test, "an integer >= 2")?;
        ensure(self.budget.train_samples >= 1, "--train-size", self.budget.train_samples, "an integer >= 1")?;
        ensure(
            self.budget.seconds.is_none_or(|s| s > 0.0),
            "--budget-seconds",
            format!("{:?}", self.budget.seconds),
            "a number > 0",
        )?;
        ensure(
            self.options.width >= 1 && self.options.batch >= 1,
            "--width/--batch",
            format!("{}/{}", self.options.width, self.options.batch),
            "integers >= 1",
        )?;
        Ok(())
    }

    /// The width rule of the teacher's cap: all samples a run can touch, δ = 0.01.
    pub fn width_rule(&self) -> WidthRule {
        let n = (self.budget.steps * self.options.batch as u64 + self.budget.train_samples + self.budget.n_test) as f64;
        WidthRule::new(n.max(1.0), 0.01).expect("valid width rule")
    }
}

/// One finished run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// What ran.
    pub spec: RunSpec,
    /// Its identifier (for resume and merge).
    pub id: String,
    /// γ, γ_s, β, σ actually used.
    pub gamma: f64,
    /// γ_s = γ/√(2π).
    pub gamma_s: f64,
    /// β.
    pub beta: f64,
    /// σ.
    pub sigma: f64,
    /// The teacher's width k = 4M + 1.
    pub teacher_width: usize,
    /// Verdict and Δ statistics.
    pub judgement: serde_json::Value,
    /// The held-out evaluation.
    pub eval: serde_json::Value,
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
    pub details: serde_json::Value,
    /// The engine.
    pub backend: BackendInfo,
    /// clwe-bench version and git revision.
    pub version: String,
}

/// The crate version and the git revision it was built from.
pub fn version() -> String {
    format!("{} ({})", env!("CARGO_PKG_VERSION"), option_env!("CLWE_BENCH_GIT_REVISION").unwrap_or("unknown revision"))
}

/// Runs `spec` on `engine`.
pub fn run_one(spec: &RunSpec, engine: &dyn Engine) -> Result<(RunRecord, Judgement, Evaluation), LearnerError> {
    spec.validate()?;
    let problem = spec.problem()?;
    let rule = spec.width_rule();
    let kind = match (spec.null, spec.clwe_derived) {
        (true, _) => Distribution::PlantedNull,
        (false, true) => Distribution::ClweDerived,
        (false, false) => Distribution::Planted,
    };
    let inst = Instance::new(&problem, spec.instance, kind, rule);
    let learner = by_name(&spec.learner, &spec.options)?;
    let start = Instant::now();
    let trivial = RunContext::trivial_constant(&inst, &spec.budget, rule);
    let ctx = RunContext { engine, budget: spec.budget, trivial, rule };
    let fit: Fit = learner.fit(&inst, &ctx)?;
    let judgement = judge(&fit);
    let record = RunRecord {
        spec: spec.clone(),
        id: spec.id(),
        gamma: problem.gamma,
        gamma_s: problem.gamma_s(),
        beta: problem.beta,
        sigma: problem.sigma,
        teacher_width: inst.cap.width(),
        judgement: serde_json::to_value(judgement).expect("serialises"),
        eval: serde_json::to_value(fit.eval).expect("serialises"),
        samples: fit.samples,
        steps: fit.steps,
        wall_s: start.elapsed().as_secs_f64(),
        device_s: fit.device_s,
        cosine: fit.cosine,
        details: fit.details,
        backend: engine.info(),
        version: version(),
    };
    Ok((record, judgement, fit.eval))
}
