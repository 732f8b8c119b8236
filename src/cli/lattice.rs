//! `clwe-bench lattice` (the attack, or its basis for fplll) and `lll-reduce` (fplll's format in
//! and out).

use std::path::PathBuf;

use clap::Args;

use clwe_bench::attack::{
    AttackMode, PRECISION_BITS, Precision, attack, attack_lattice, default_precision, estimated_bytes,
};
use clwe_bench::deadline::Deadline;
use clwe_bench::error::{Error, Result};
use clwe_bench::math::lll::{format_fplll, lll_reduce_auto, norm_squared, parse_fplll};
use clwe_bench::params::{NoiseModel, ParamError, Problem, ensure};
use clwe_bench::reporting::atomic::{check_output_file, write_file_atomically};
use clwe_bench::resources::ensure_memory;

/// Flags of `lattice`.
#[derive(Args)]
pub struct LatticeArgs {
    /// clwe (dimension d+2), triangle (2d+2) or hclwe (d+1, noiseless hCLWE).
    #[arg(long, value_enum)]
    mode: AttackMode,
    /// Input dimension d.
    #[arg(long)]
    d: usize,
    /// Frequency γ, lattice convention [default: 2√d].
    #[arg(long, allow_negative_numbers = true)]
    gamma: Option<f64>,
    /// CLWE/hCLWE noise β ∈ [0, 1) [default: 0, noiseless].
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    beta: f64,
    /// Label noise σ ∈ [0, 1) (triangle mode) [default: 0, noiseless].
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    sigma: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Precision N in bits [default: scanned for the noise; with --out, the noiseless default].
    #[arg(long)]
    precision_bits: Option<u32>,
    /// Write the unreduced basis here (fplll format) instead of running the attack.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the attack report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the attack on one instance, or writes its basis.
pub fn lattice(args: LatticeArgs) -> Result<()> {
    let problem = Problem::new(args.d, args.gamma, Some(args.beta), Some(args.sigma), NoiseModel::Gaussian, args.seed)?;
    ensure(args.beta < 1.0, "--beta", args.beta, "a number in [0, 1)")?;
    ensure(args.sigma < 1.0, "--sigma", args.sigma, "a number in [0, 1)")?;
    if let Some(bits) = args.precision_bits {
        let (lo, hi) = (PRECISION_BITS.start(), PRECISION_BITS.end());
        ensure(PRECISION_BITS.contains(&bits), "--precision-bits", bits, &format!("an integer in {lo}..={hi}"))?;
    }
    let max_precision = args.precision_bits.unwrap_or_else(|| default_precision(args.mode, args.d, problem.gamma));
    ensure_memory("--d/--precision-bits", estimated_bytes(args.mode, args.d, max_precision))?;
    if let Some(out) = &args.out {
        check_output_file("--out", out)?;
        let bits = args.precision_bits.unwrap_or_else(|| default_precision(args.mode, args.d, problem.gamma));
        let basis = attack_lattice(args.mode, &problem, 0, false, bits)?;
        write_file_atomically(out, format_fplll(&basis).as_bytes()).map_err(Error::io(out))?;
        eprintln!("wrote the {:?} lattice (dimension {}, N = {bits}) to {}", args.mode, basis.len(), out.display());
        return Ok(());
    }
    let precision = args.precision_bits.map_or(Precision::Scan, Precision::Fixed);
    let report = attack(args.mode, &problem, 0, false, precision, Deadline::NONE)?;
    if args.json {
        println!("{}", serde_json::to_string(&report).expect("reports serialise"));
    } else {
        println!("{report}");
    }
    Ok(())
}

/// Flags of `lll-reduce`.
#[derive(Args)]
pub struct LllReduceArgs {
    /// Input basis (fplll format: [[a b c]\n[d e f]]).
    #[arg(long = "in")]
    input: PathBuf,
    /// Output file for the reduced basis (same format).
    #[arg(long)]
    out: PathBuf,
    /// Lovász parameter δ ∈ (0.25, 1].
    #[arg(long, default_value_t = 0.99, allow_negative_numbers = true)]
    delta: f64,
}

/// Reduces a basis file; everything is checked before the reduction starts.
pub fn lll_reduce(args: LllReduceArgs) -> Result<()> {
    let bad_input =
        |expected: String| ParamError { name: "--in".into(), value: args.input.display().to_string(), expected };
    let text = std::fs::read_to_string(&args.input).map_err(|e| bad_input(format!("a readable file ({e})")))?;
    let mut basis = parse_fplll(&text).map_err(|e| bad_input(e.to_string()))?;
    ensure(args.delta > 0.25 && args.delta <= 1.0, "--delta", args.delta, "a number in (0.25, 1]")?;
    check_output_file("--out", &args.out)?;
    let start = std::time::Instant::now();
    let stats = lll_reduce_auto(&mut basis, args.delta, Deadline::NONE)?;
    let seconds = start.elapsed().as_secs_f64();
    write_file_atomically(&args.out, format_fplll(&basis).as_bytes()).map_err(Error::io(&args.out))?;
    eprintln!(
        "reduced {}×{} basis in {:.6} s ({} swaps, {} size reductions); first vector norm² = {}",
        basis.len(),
        basis.first().map_or(0, Vec::len),
        seconds,
        stats.swaps,
        stats.size_reductions,
        basis.first().map(|r| norm_squared(r).to_string()).unwrap_or_default()
    );
    Ok(())
}
