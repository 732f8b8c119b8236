//! `clwe-bench run`: one learner on one instance, judged and printed.

use clap::{ArgGroup, Args};

use super::problem::ProblemArgs;
use clwe_bench::backends::{BackendChoice, select_engine};
use clwe_bench::error::Result;
use clwe_bench::experiments::runs::{RunSpec, run_one};
use clwe_bench::learners::{Budget, LearnerKind, LearnerOptions};
use clwe_bench::sampling::DataKind;

/// Flags of `run`.
#[derive(Args)]
#[command(group(ArgGroup::new("data-kind").args(["data", "null", "clwe_derived"])))]
pub struct RunArgs {
    /// The learner (sgd-warm is SGD warm-started at the true network).
    #[arg(long, value_enum)]
    learner: LearnerKind,
    #[command(flatten)]
    problem: ProblemArgs,
    /// Instance number (fresh secret and data), 0..=16777215.
    #[arg(long, default_value_t = 0)]
    instance: u32,
    /// What the learner trains and is tested on [default: planted].
    #[arg(long, value_enum)]
    data: Option<DataKind>,
    /// Shorthand for --data null: labels independent of x.
    #[arg(long)]
    null: bool,
    /// Shorthand for --data clwe-derived (SPEC §6: ℓ = φ(z) + ξ with the CLWE error β inside φ).
    #[arg(long)]
    clwe_derived: bool,
    /// Backend of the students.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
    /// Optimisation steps.
    #[arg(long, default_value_t = 2000)]
    budget_steps: u64,
    /// Wall-clock limit in seconds for the learner (the run is recorded as timeout when it is hit;
    /// the held-out evaluation comes after and is not counted).
    #[arg(long)]
    budget_seconds: Option<f64>,
    /// Training-set size (fixed-data learners, the trivial mean).
    #[arg(long, default_value_t = 10_000)]
    train_size: u64,
    /// Held-out test samples.
    #[arg(long, default_value_t = 100_000)]
    n_test: u64,
    /// Student width k'.
    #[arg(long, default_value_t = 256)]
    width: usize,
    /// Student batch size.
    #[arg(long, default_value_t = 1024)]
    batch: usize,
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
    /// Precision N of lll in bits [default: automatic].
    #[arg(long)]
    precision_bits: Option<u32>,
    /// Print the full record as JSON.
    #[arg(long)]
    json: bool,
}

impl RunArgs {
    fn data(&self) -> DataKind {
        match (self.data, self.null, self.clwe_derived) {
            (Some(data), _, _) => data,
            (None, true, _) => DataKind::Null,
            (None, false, true) => DataKind::ClweDerived,
            (None, false, false) => DataKind::Planted,
        }
    }

    fn spec(&self) -> RunSpec {
        let p = &self.problem;
        RunSpec {
            learner: self.learner,
            d: p.d,
            gamma: p.gamma,
            beta: p.beta,
            sigma: p.sigma,
            noise: p.noise,
            seed: p.seed,
            instance: self.instance,
            data: self.data(),
            budget: Budget {
                steps: self.budget_steps,
                seconds: self.budget_seconds,
                train_samples: self.train_size,
                n_test: self.n_test,
            },
            options: LearnerOptions {
                width: self.width,
                batch: self.batch,
                lr: self.lr,
                adam_lr: self.adam_lr,
                fixed_data: self.fixed_data,
                features: self.features,
                lambda: self.lambda,
                precision_bits: self.precision_bits,
            },
        }
    }
}

/// Validates the run, picks the engine, runs and prints the record.
pub fn run(args: RunArgs) -> Result<()> {
    let spec = args.spec();
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
