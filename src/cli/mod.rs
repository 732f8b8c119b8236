//! The command line, kept out of the library: one file per command family with its flags beside
//! its handler ([`sample`], [`run`], [`sweep`], [`lattice`], [`bench`], [`construction`]),
//! the problem flags they share ([`problem`]), and here the command enum, dispatch, and the one
//! place that turns an error into a message and an exit code (2 for bad input, 1 otherwise).

mod bench;
mod construction;
mod judge;
mod lattice;
mod problem;
mod run;
mod sample;
mod sweep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use clwe_bench::error::Result;
use clwe_bench::reporting::atomic::remove_pending_files;

/// Benchmarks for the hardness of learning one-hidden-layer ReLU networks (CLWE).
///
/// Conventions: γ and β are in the lattice convention (y ~ N(0, I/(2π)); the hardness threshold
/// is γ ≥ 2√d); σ, the label-noise standard deviation, in the standard convention
/// (x ~ N(0, I), x = √(2π)·y). γ_s = γ/√(2π) and β_s = β/√(2π).
#[derive(Parser)]
#[command(name = "clwe-bench", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Draw samples from a distribution and write them to .npy (float64) or .csv.
    Sample(sample::SampleArgs),
    /// Verify the capped ReLU construction and print the width table (k vs √(d ln d)).
    Construction(construction::ConstructionArgs),
    /// List every wgpu adapter and say which backend the suite uses by default.
    Info(bench::InfoArgs),
    /// Time training steps of one configuration: steps/s and GFLOP/s (4·B·d·k' per step).
    BenchStep(bench::BenchStepArgs),
    /// Run one learner on one instance and judge it (SPEC §8).
    Run(run::RunArgs),
    /// Score an outside learner's predictions on the suite's own held-out samples (SPEC §6, §8).
    Judge(judge::JudgeArgs),
    /// LLL-reduce a basis in fplll's text format.
    LllReduce(lattice::LllReduceArgs),
    /// Write the lattice attack's basis for one instance (fplll format), or run the attack.
    Lattice(lattice::LatticeArgs),
    /// Run an experiment grid: a preset (quick, threshold, reduction, noise-model, scaling) or FILE.toml.
    Sweep(sweep::SweepArgs),
    /// Join sweep results directories (read-only) into a new one, with its tables and figures.
    Merge(sweep::MergeArgs),
    /// Compare a sweep's results directory with its grid: points done, missing, duplicated, foreign.
    Status(sweep::StatusArgs),
    /// Timing tables (markdown, CSV) per backend from criterion's results.
    Report(bench::ReportArgs),
}

/// Parses the command line, runs the command, and maps its error to a message and exit code.
pub fn main() -> ExitCode {
    quiet_lavapipe();
    // SIGINT, SIGTERM, SIGHUP: remove half-written temporary files, then exit as killed by it.
    let _ = ctrlc::set_handler(|| {
        remove_pending_files();
        std::process::exit(130);
    });
    match dispatch(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Sample(args) => sample::sample(args),
        Command::Construction(args) => construction::construction(args),
        Command::Info(args) => bench::info(args),
        Command::BenchStep(args) => bench::bench_step(args),
        Command::Run(args) => run::run(args),
        Command::Judge(args) => judge::judge(args),
        Command::LllReduce(args) => lattice::lll_reduce(args),
        Command::Lattice(args) => lattice::lattice(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => sweep::merge(args),
        Command::Status(args) => sweep::status(args),
        Command::Report(args) => bench::report(args),
    }
}

/// lavapipe warns twice per device when XDG_RUNTIME_DIR is unset; give it a private directory.
fn quiet_lavapipe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        let dir = std::env::temp_dir().join("clwe-bench-xdg");
        if std::fs::create_dir_all(&dir).is_ok() {
            #[cfg(unix)]
            let _ = std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700));
            // SAFETY: called first thing in main, before any other thread exists.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", dir) };
        }
    }
}
