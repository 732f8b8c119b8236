//! `clwe-bench run`: one learner on one instance, judged and printed.

use clap::Args;

use super::problem::{CapArgs, InstanceArgs, ProblemArgs};
use clwe_bench::backends::{BackendChoice, Schedule, select_engine};
use clwe_bench::error::Result;
use clwe_bench::experiments::runs::{RunSpec, run_one};
use clwe_bench::learners::students::OutputBias;
use clwe_bench::learners::{Budget, LearnerKind, LearnerOptions};
use clwe_bench::params::ParamError;

/// Flags of `run`.
#[derive(Args)]
pub struct RunArgs {
    /// The learner (sgd-warm is SGD warm-started at the true network).
    #[arg(long, value_enum)]
    learner: LearnerKind,
    #[command(flatten)]
    problem: ProblemArgs,
    #[command(flatten)]
    instance: InstanceArgs,
    #[command(flatten)]
    budget: CapArgs,
    /// Backend of the students.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
    /// Wall-clock limit in seconds for the learner (the run is recorded as timeout when it is hit;
    /// the held-out evaluation comes after and is not counted).
    #[arg(long)]
    budget_seconds: Option<f64>,
    /// Student width k'.
    #[arg(long, default_value_t = 256)]
    width: usize,
    /// SGD learning rate.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    lr: f32,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    adam_lr: f32,
    /// Students train on a fixed set of --train-size samples.
    #[arg(long)]
    fixed_data: bool,
    /// Random features of rf-ridge.
    #[arg(long, default_value_t = 512)]
    features: usize,
    /// Ridge penalty λ ≥ 0.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    lambda: f64,
    /// Precision N of lll in bits [default: scanned for the noise].
    #[arg(long)]
    precision_bits: Option<u32>,
    /// Students' learning-rate schedule over --budget-steps: constant, or cosine decay to 0.
    #[arg(long, value_enum, default_value = "constant")]
    schedule: Schedule,
    /// Students' initial output layer scale: 1 = standard initialisation, 0 = the zero function.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    output_init: f32,
    /// Students' output bias at the start: the initialisation's, or the mean training label
    /// (with --output-init 0 the student then starts as the trivial predictor).
    #[arg(long, value_enum, default_value = "initial")]
    output_bias: OutputBias,
    /// SGD learning rates to try, comma-separated: the best on the validation split is kept.
    #[arg(long, value_delimiter = ',')]
    lr_grid: Vec<f32>,
    /// Adam learning rates to try, likewise.
    #[arg(long, value_delimiter = ',')]
    adam_lr_grid: Vec<f32>,
    /// Print the full record as JSON.
    #[arg(long)]
    json: bool,
}

impl RunArgs {
    fn spec(&self) -> Result<RunSpec, ParamError> {
        let (p, given) = (&self.problem, self.problem.given()?);
        Ok(RunSpec {
            learner: self.learner,
            d: p.d,
            gamma: given.gamma,
            beta: given.beta,
            sigma: given.sigma,
            noise: p.noise,
            seed: p.seed,
            instance: self.instance.instance,
            data: self.instance.data(),
            budget: Budget {
                steps: self.budget.budget_steps,
                seconds: self.budget_seconds,
                train_samples: self.budget.train_size,
                n_test: self.budget.n_test,
            },
            options: LearnerOptions {
                width: self.width,
                batch: self.budget.batch,
                lr: self.lr,
                adam_lr: self.adam_lr,
                fixed_data: self.fixed_data,
                features: self.features,
                lambda: self.lambda,
                precision_bits: self.precision_bits,
                schedule: self.schedule,
                output_init: self.output_init,
                output_bias: self.output_bias,
                lr_grid: self.lr_grid.clone(),
                adam_lr_grid: self.adam_lr_grid.clone(),
            },
        })
    }
}

/// Validates the run, picks the engine, runs and prints the record.
pub fn run(args: RunArgs) -> Result<()> {
    let spec = args.spec()?;
    spec.validate()?;
    let engine = select_engine(args.backend)?;
    let record = run_one(&spec, engine.as_ref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&record).expect("records serialise"));
    } else {
        println!("{record}");
    }
    Ok(())
}
