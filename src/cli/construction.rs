//! `clwe-bench construction`: the capped network verified exactly, and the width table.

use std::path::PathBuf;

use clap::Args;

use clwe_bench::error::{Error, Result};
use clwe_bench::experiments::construction::{construction_row, markdown, write_results};
use clwe_bench::math::target::WidthRule;
use clwe_bench::params::ensure;
use clwe_bench::reporting::atomic::check_output_dir;

/// Flags of `construction`.
#[derive(Args)]
pub struct ConstructionArgs {
    /// Dimensions to verify, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 16, 32, 64, 128])]
    d: Vec<usize>,
    /// N_tot: samples the network must be exact on.
    #[arg(long, default_value_t = 1e6)]
    n_total: f64,
    /// Failure budget δ: probability that any of the N_tot samples leaves the cap.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    delta: f64,
    /// Frequency γ, lattice convention [default: 2√d for each d].
    #[arg(long, allow_negative_numbers = true)]
    gamma: Option<f64>,
    /// Seed of the secret and the random check inputs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object per d on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Directory for construction.md and construction.json.
    #[arg(long, default_value = "results/construction")]
    out: PathBuf,
}

/// Verifies each d, prints the table and writes the results.
pub fn construction(args: ConstructionArgs) -> Result<()> {
    ensure(!args.d.is_empty(), "--d", "", "a comma-separated list of dimensions")?;
    let rule = WidthRule::new(args.n_total, args.delta)?;
    let rows =
        args.d.iter().map(|&d| construction_row(d, args.gamma, rule, args.seed)).collect::<Result<Vec<_>, _>>()?;
    check_output_dir("--out", &args.out)?;
    if args.json {
        for row in &rows {
            println!("{}", serde_json::to_string(row).expect("rows serialise"));
        }
    } else {
        print!("{}", markdown(&rows));
    }
    write_results(&rows, &args.out).map_err(Error::io(&args.out))?;
    let failed: Vec<usize> = rows.iter().filter(|r| !r.verified).map(|r| r.d).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Numerical(format!("construction NOT verified for d = {failed:?}")))
    }
}
