//! `clwe-bench sample`: rows of one distribution to .npy or .csv — for the planted problems
//! exactly the samples `run` uses for a split and instance (same cap, same counters), so an
//! outside learner trains on `run`'s training data and is judged on its test set — checked
//! against the disk before anything is written.

use std::path::PathBuf;

use clap::Args;

use super::problem::{CapArgs, ProblemArgs};
use clwe_bench::error::Result;
use clwe_bench::experiments::runs::RUN_DELTA;
use clwe_bench::reporting::atomic::check_output_file;
use clwe_bench::resources::ensure_disk;
use clwe_bench::sampling::export::{
    Dtype, Format, Selection, check_start, estimated_bytes, secret_path, validate_rows, write_samples,
};
use clwe_bench::sampling::streams::check_instance;
use clwe_bench::sampling::{Distribution, Sampler, Split};

/// Flags of `sample`.
#[derive(Args)]
pub struct SampleArgs {
    /// The distribution (planted, planted-null and clwe-derived are what `run --data` trains on).
    #[arg(value_enum)]
    distribution: Distribution,
    #[command(flatten)]
    problem: ProblemArgs,
    /// Which samples: run's training, validation or held-out test split.
    #[arg(long, value_enum, default_value = "train")]
    split: Split,
    /// Instance number (fresh secret and data), 0..=16777215.
    #[arg(long, default_value_t = 0)]
    instance: u32,
    /// First sample index.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Number of rows.
    #[arg(long)]
    n: u64,
    /// Inputs only (no label column): the test inputs an outside learner predicts on.
    #[arg(long)]
    no_labels: bool,
    /// Number type of the values.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// The run whose teacher's cap the planted labels use (N_tot = steps·batch + train-size + n-test).
    #[command(flatten)]
    cap: CapArgs,
    /// Failure budget δ of the teacher's cap: M = ⌈γ_s √(2 ln(2 N_tot/δ))⌉ (run uses 0.01).
    #[arg(long, default_value_t = RUN_DELTA, allow_negative_numbers = true)]
    delta: f64,
    /// Also write FILE.secret.json with w and every parameter (never needed for judging).
    #[arg(long)]
    with_secret: bool,
    /// Output file: .npy or .csv.
    #[arg(long)]
    out: PathBuf,
}

/// Validates everything, checks the output path and the free disk, then writes the rows.
pub fn sample(args: SampleArgs) -> Result<()> {
    let problem = args.problem.problem()?;
    validate_rows(args.n)?;
    check_start(args.start)?;
    check_instance(args.instance)?;
    let rule = args.cap.width_rule(args.delta)?;
    let format = Format::from_path(&args.out)?;
    check_output_file("--out", &args.out)?;
    if args.with_secret {
        check_output_file("--with-secret", &secret_path(&args.out))?;
    }
    let sampler = Sampler::new(args.distribution, &problem, args.instance, args.split, rule);
    let selection = Selection { start: args.start, n: args.n, labels: !args.no_labels, dtype: args.dtype };
    ensure_disk("--n", &args.out, estimated_bytes(format, args.n, selection.columns(&sampler)))?;
    let start = std::time::Instant::now();
    write_samples(&sampler, selection, &args.out, args.with_secret)?;
    eprintln!(
        "wrote {} rows of {} (d = {}, {:?} split, instance {}, from sample {}) to {} in {:.2} s",
        args.n,
        args.distribution.name(),
        problem.d,
        args.split,
        args.instance,
        args.start,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
