//! The flags `sample`, `run` and `judge` share: the problem (SPEC §2 conventions), the instance
//! and data kind, and the run budget that fixes the teacher's cap — so that all three name
//! exactly the same samples.

use clap::{ArgGroup, Args};

use clwe_bench::experiments::runs::run_width_rule;
use clwe_bench::experiments::sweep::Level;
use clwe_bench::math::target::WidthRule;
use clwe_bench::params::{NoiseModel, ParamError, Problem};
use clwe_bench::sampling::DataKind;

/// The problem flags.
#[derive(Args)]
pub struct ProblemArgs {
    /// Input dimension d (1..=2^20).
    #[arg(long)]
    pub d: usize,
    /// Frequency γ, lattice convention: a number or a form in d such as 2*sqrt(d) [default: 2√d].
    #[arg(long, allow_negative_numbers = true)]
    pub gamma: Option<Level>,
    /// CLWE noise β ≥ 0, lattice convention: e ~ N(0, β²/(2π)); a number or a form such as
    /// 2^-30, 1/d, 2^-22/d [default: 1/d].
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<Level>,
    /// Label-noise standard deviation σ ≥ 0, standard convention; a number or a form such as
    /// 2^-30, 1/d [default: 1/d].
    #[arg(long, allow_negative_numbers = true)]
    pub sigma: Option<Level>,
    /// Label-noise distribution (all with variance σ²).
    #[arg(long, value_enum, default_value = "gaussian")]
    pub noise: NoiseModel,
    /// Run seed (the 64-bit Philox key).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// γ, β and σ as the flags give them; `None` where the default applies (runs record it so).
pub struct Given {
    /// γ, lattice convention.
    pub gamma: Option<f64>,
    /// β, lattice convention.
    pub beta: Option<f64>,
    /// σ, standard convention.
    pub sigma: Option<f64>,
}

impl ProblemArgs {
    /// The validated problem.
    pub fn problem(&self) -> Result<Problem, ParamError> {
        let g = self.given()?;
        Problem::new(self.d, g.gamma, g.beta, g.sigma, self.noise, self.seed)
    }

    /// γ, β and σ as given (forms evaluated at d).
    pub fn given(&self) -> Result<Given, ParamError> {
        let value = |level: &Option<Level>, flag: &str| level.as_ref().map(|l| l.at(self.d, flag)).transpose();
        Ok(Given {
            gamma: value(&self.gamma, "--gamma")?,
            beta: value(&self.beta, "--beta")?,
            sigma: value(&self.sigma, "--sigma")?,
        })
    }
}

/// The run flags that fix how many samples a run touches, and so its teacher's cap
/// (`run_width_rule`): the same defaults as `run`.
#[derive(Args)]
pub struct CapArgs {
    /// The run's optimisation steps.
    #[arg(long, default_value_t = 2000)]
    pub budget_steps: u64,
    /// The run's (student) batch size.
    #[arg(long, default_value_t = 1024)]
    pub batch: usize,
    /// The run's training-set size (fixed-data learners, ridge, the trivial mean).
    #[arg(long, default_value_t = 10_000)]
    pub train_size: u64,
    /// The run's held-out test samples.
    #[arg(long, default_value_t = 100_000)]
    pub n_test: u64,
}

impl CapArgs {
    /// The run's width rule, with failure budget `delta`.
    pub fn width_rule(&self, delta: f64) -> Result<WidthRule, ParamError> {
        run_width_rule(self.budget_steps, self.batch, self.train_size, self.n_test, delta)
    }
}

/// What a run's learner sees: the instance and the kind of data.
#[derive(Args)]
#[command(group(ArgGroup::new("data-kind").args(["data", "null", "clwe_derived"])))]
pub struct InstanceArgs {
    /// Instance number (fresh secret and data), 0..=16777215.
    #[arg(long, default_value_t = 0)]
    pub instance: u32,
    /// What the learner trains and is tested on [default: planted].
    #[arg(long, value_enum)]
    pub data: Option<DataKind>,
    /// Shorthand for --data null: labels independent of x.
    #[arg(long)]
    pub null: bool,
    /// Shorthand for --data clwe-derived (SPEC §6: ℓ = φ(z) + ξ with the CLWE error β inside φ).
    #[arg(long)]
    pub clwe_derived: bool,
}

impl InstanceArgs {
    /// The data kind the flags name.
    pub fn data(&self) -> DataKind {
        match (self.data, self.null, self.clwe_derived) {
            (Some(data), _, _) => data,
            (None, true, _) => DataKind::Null,
            (None, false, true) => DataKind::ClweDerived,
            (None, false, false) => DataKind::Planted,
        }
    }
}
