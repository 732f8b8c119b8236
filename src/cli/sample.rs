//! `clwe-bench sample`: rows of one distribution to .npy or .csv, checked against the disk
//! before anything is written.

use std::path::PathBuf;

use clap::Args;

use super::problem::ProblemArgs;
use clwe_bench::error::Result;
use clwe_bench::math::target::WidthRule;
use clwe_bench::reporting::atomic::check_output_file;
use clwe_bench::resources::ensure_disk;
use clwe_bench::sampling::export::{Format, estimated_bytes, secret_path, validate_rows, write_samples};
use clwe_bench::sampling::{Distribution, Sampler, Split};

/// Flags of `sample`.
#[derive(Args)]
pub struct SampleArgs {
    /// The distribution.
    #[arg(value_enum)]
    distribution: Distribution,
    #[command(flatten)]
    problem: ProblemArgs,
    /// Number of rows.
    #[arg(long)]
    n: u64,
    /// Failure budget δ of the planted teacher's cap (N_tot = --n): M = ⌈γ_s √(2 ln(2n/δ))⌉.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    delta: f64,
    /// Also write FILE.secret.json with w and every parameter.
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
    let rule = WidthRule::new(args.n as f64, args.delta)?;
    let format = Format::from_path(&args.out)?;
    check_output_file("--out", &args.out)?;
    if args.with_secret {
        check_output_file("--with-secret", &secret_path(&args.out))?;
    }
    let sampler = Sampler::new(args.distribution, &problem, 0, Split::Train, rule);
    ensure_disk("--n", &args.out, estimated_bytes(format, args.n, sampler.row_len()))?;
    let start = std::time::Instant::now();
    write_samples(&sampler, args.n, &args.out, args.with_secret)?;
    eprintln!(
        "wrote {} rows of {} (d = {}) to {} in {:.2} s",
        args.n,
        args.distribution.name(),
        problem.d,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
