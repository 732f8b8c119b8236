//! `clwe-bench judge`: an outside learner's predictions scored on the suite's own held-out
//! samples, by the same rule and on the same test set as `run`.

use std::path::PathBuf;

use clap::Args;

use super::problem::{CapArgs, InstanceArgs, ProblemArgs};
use clwe_bench::error::Result;
use clwe_bench::experiments::judge::{Predictions, judge_predictions};
use clwe_bench::experiments::runs::RUN_DELTA;
use clwe_bench::learners::{Budget, Instance};
use clwe_bench::sampling::Split;
use clwe_bench::sampling::export::check_start;
use clwe_bench::sampling::streams::check_instance;

/// Flags of `judge`.
#[derive(Args)]
pub struct JudgeArgs {
    /// Predictions, one per held-out sample in order: .npy (float64/float32, shape (n,) or (n, 1))
    /// or .csv (one column, optional header).
    #[arg(long)]
    pred: PathBuf,
    #[command(flatten)]
    problem: ProblemArgs,
    #[command(flatten)]
    instance: InstanceArgs,
    /// The run being matched: its budget fixes the teacher's cap, --train-size the trivial
    /// predictor's mean, --n-test the number of predictions.
    #[command(flatten)]
    cap: CapArgs,
    /// The split the predictions are for (the verdict comes from test).
    #[arg(long, value_enum, default_value = "test")]
    split: Split,
    /// First sample index of the predictions.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// Validates the flags and the predictions, then scores them.
pub fn judge(args: JudgeArgs) -> Result<()> {
    let problem = args.problem.problem()?;
    let i = args.instance.instance;
    check_instance(i)?;
    check_start(args.start)?;
    let c = &args.cap;
    let budget = Budget { steps: c.budget_steps, seconds: None, train_samples: c.train_size, n_test: c.n_test };
    budget.validate()?;
    let rule = c.width_rule(RUN_DELTA)?;
    let predictions = Predictions::open(&args.pred)?;
    let inst = Instance::new(&problem, i, args.instance.data(), rule);
    let report = judge_predictions(&inst, rule, &budget, args.split, args.start, &predictions)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("reports serialise"));
    } else {
        print!("{report}");
    }
    Ok(())
}
