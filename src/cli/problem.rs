//! The problem flags `sample` and `run` share (SPEC §2 conventions).

use clap::Args;

use clwe_bench::params::{NoiseModel, ParamError, Problem};

/// The problem flags.
#[derive(Args)]
pub struct ProblemArgs {
    /// Input dimension d (1..=2^20).
    #[arg(long)]
    pub d: usize,
    /// Frequency γ, lattice convention [default: 2√d].
    #[arg(long, allow_negative_numbers = true)]
    pub gamma: Option<f64>,
    /// CLWE noise β ≥ 0, lattice convention: e ~ N(0, β²/(2π)) [default: 1/d].
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<f64>,
    /// Label-noise standard deviation σ ≥ 0, standard convention [default: 1/d].
    #[arg(long, allow_negative_numbers = true)]
    pub sigma: Option<f64>,
    /// Label-noise distribution (all with variance σ²).
    #[arg(long, value_enum, default_value = "gaussian")]
    pub noise: NoiseModel,
    /// Run seed (the 64-bit Philox key).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl ProblemArgs {
    /// The validated problem.
    pub fn problem(&self) -> Result<Problem, ParamError> {
        Problem::new(self.d, self.gamma, self.beta, self.sigma, self.noise, self.seed)
    }
}
