//! `clwe-bench sweep`, `merge` and `status`: experiment grids through the result store (see
//! `experiments::store` for what survives what).

use std::path::PathBuf;

use clap::Args;

use clwe_bench::backends::gpu::GpuEngine;
use clwe_bench::backends::{BackendChoice, Engine, cpu::CpuEngine, select_engine};
use clwe_bench::error::Result;
use clwe_bench::experiments::compute::{ComputeGrid, Scale, run_compute};
use clwe_bench::experiments::frontier::{FrontierGrid, run_frontier};
use clwe_bench::experiments::scaling::{ScalingGrid, run_scaling};
use clwe_bench::experiments::store::Mode;
use clwe_bench::experiments::sweep::{self as sweeps, Grid, Shard, SweepOptions, run_sweep};
use clwe_bench::params::ParamError;
use clwe_bench::reporting::atomic::check_output_dir;

/// Flags of `sweep`.
#[derive(Args)]
pub struct SweepArgs {
    /// quick | threshold | reduction | noise-model | scaling | lll-frontier | compute-to-learn | FILE.toml
    grid: String,
    /// Output directory [default: results/<grid name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only slice I of N (0 <= I < N), e.g. --shard $SLURM_ARRAY_TASK_ID/N; shards may share --out.
    #[arg(long)]
    shard: Option<Shard>,
    /// Continue: skip every point already finished in any results file of --out.
    #[arg(long, conflicts_with = "restart")]
    resume: bool,
    /// Discard --out's results, tables and figures and run everything again (not with --shard).
    #[arg(long)]
    restart: bool,
    /// Backend of the students (scaling: cpu, wgpu, or auto = cpu and any hardware GPU).
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
    /// Runs that may fail at run time (stored with their error; --resume retries them) before
    /// the sweep stops.
    #[arg(long, default_value_t = 10)]
    max_failures: usize,
}

impl SweepArgs {
    fn mode(&self) -> Mode {
        match (self.resume, self.restart) {
            (true, _) => Mode::Resume,
            (false, true) => Mode::Restart,
            (false, false) => Mode::Fresh,
        }
    }
}

/// Runs a learner grid, or the scaling study.
pub fn sweep(args: SweepArgs) -> Result<()> {
    match args.grid.as_str() {
        "scaling" => return scaling(args),
        "lll-frontier" => return lll_frontier(args),
        "compute-to-learn" => return compute_to_learn(args),
        _ => {}
    }
    let grid = Grid::load(&args.grid)?;
    let points = grid.points()?.len();
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&grid.name));
    check_output_dir("--out", &out)?;
    let engine = select_engine(args.backend)?;
    let info = engine.info();
    eprintln!(
        "sweep {}: {points} runs{} on {} ({}), results in {}",
        grid.name,
        args.shard.map_or(String::new(), |s| format!(" (shard {}/{})", s.index, s.count)),
        info.backend,
        info.adapter,
        out.display()
    );
    let options = SweepOptions { shard: args.shard, mode: args.mode(), max_failures: args.max_failures };
    let outcome = run_sweep(&grid, &out, options, engine.as_ref())?;
    eprintln!(
        "done: {} runs now ({} failed), {} already finished, {} in this {}; tables and figures in {}",
        outcome.ran + outcome.failed,
        outcome.failed,
        outcome.skipped,
        outcome.total,
        if args.shard.is_some() { "shard" } else { "grid" },
        out.display()
    );
    Ok(())
}

/// `sweep scaling`: the CPU backend and, for `--backend auto|wgpu`, the wgpu adapter (software
/// adapters included with `--backend wgpu`); the same store rules as every sweep.
fn scaling(args: SweepArgs) -> Result<()> {
    if let Some(s) = args.shard {
        return Err(ParamError {
            name: "--shard".into(),
            value: format!("{}/{}", s.index, s.count),
            expected: "no --shard with the scaling study (it times one machine)".into(),
        }
        .into());
    }
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results/scaling"));
    check_output_dir("--out", &out)?;
    let grid = ScalingGrid::new(std::env::var("CLWE_BENCH_GRID").as_deref() == Ok("smoke"));
    let mut engines: Vec<Box<dyn Engine>> = Vec::new();
    if args.backend != BackendChoice::Wgpu {
        engines.push(Box::new(CpuEngine::new()));
    }
    if args.backend != BackendChoice::Cpu {
        match GpuEngine::new() {
            Ok(gpu) if gpu.is_hardware() || args.backend == BackendChoice::Wgpu => engines.push(Box::new(gpu)),
            Ok(gpu) => {
                eprintln!("skipping the software adapter {} (use --backend wgpu to include it)", gpu.info().adapter)
            }
            Err(e) => eprintln!("no wgpu adapter: {e}"),
        }
    }
    let ran = run_scaling(&out, &grid, args.mode(), &engines, |line| eprintln!("{line}"))?;
    eprintln!("scaling: {ran} points measured now; tables and figures in {}", out.display());
    Ok(())
}

/// `sweep lll-frontier`: the lattice attack's N_min(d) and σ_max(d) (CPU only; shards split the
/// (mode, d) groups and may share --out; each writes the tables from every file present).
fn lll_frontier(args: SweepArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results/lll-frontier"));
    check_output_dir("--out", &out)?;
    let grid = FrontierGrid::preset(std::env::var("CLWE_BENCH_GRID").as_deref() == Ok("smoke"));
    eprintln!(
        "sweep lll-frontier: triangle d ∈ {:?}, CLWE d ∈ {:?}, {} instances{}, results in {}",
        grid.triangle_d,
        grid.clwe_d,
        grid.instances,
        args.shard.map_or(String::new(), |s| format!(" (shard {}/{})", s.index, s.count)),
        out.display()
    );
    let ran = run_frontier(&out, &grid, args.shard, args.mode(), |line| eprintln!("{line}"))?;
    eprintln!("lll-frontier: {ran} attacks now; tables and figures in {}", out.display());
    Ok(())
}

/// `sweep compute-to-learn`: budget ladders for the students, with their controls
/// (`CLWE_BENCH_GRID=smoke` for seconds, `=gpu` for the GPU scale); shards split the
/// (learner, d) groups and may share --out.
fn compute_to_learn(args: SweepArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results/compute-to-learn"));
    check_output_dir("--out", &out)?;
    let grid = ComputeGrid::preset(Scale::from_env());
    grid.validate()?;
    let engine = select_engine(args.backend)?;
    eprintln!(
        "sweep compute-to-learn: {} on d ∈ {:?}, γ = c·2√d for c ∈ {:?}, cap {:.1e} FLOPs per run, {} instances \
         per cell{}, on {}; results in {}",
        grid.learners.iter().map(|l| l.name()).collect::<Vec<_>>().join(", "),
        grid.d,
        grid.gamma,
        grid.cap_flops,
        grid.instances,
        args.shard.map_or(String::new(), |s| format!(" (shard {}/{})", s.index, s.count)),
        engine.info().adapter,
        out.display()
    );
    let ran = run_compute(&out, &grid, args.shard, args.mode(), engine.as_ref(), |line| eprintln!("{line}"))?;
    eprintln!("compute-to-learn: {ran} rows now; tables and figures in {}", out.display());
    Ok(())
}

/// Flags of `merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// Results directories of one grid (shards on several machines); only read.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The new directory: runs.jsonl with each point once, grid.toml, tables and figures.
    #[arg(long)]
    out: PathBuf,
}

/// Joins directories into `--out`.
pub fn merge(args: MergeArgs) -> Result<()> {
    let n = sweeps::merge(&args.dirs, &args.out)?;
    eprintln!("merged {n} runs into {}", args.out.join("runs.jsonl").display());
    Ok(())
}

/// Flags of `status`.
#[derive(Args)]
pub struct StatusArgs {
    /// A sweep's results directory.
    dir: PathBuf,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// Prints a directory's status against its grid.
pub fn status(args: StatusArgs) -> Result<()> {
    let status = sweeps::status(&args.dir)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status).expect("status serialises"));
    } else {
        print!("{status}");
    }
    Ok(())
}
