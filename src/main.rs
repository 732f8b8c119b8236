//! The `clwe-bench` command line: parses arguments, dispatches to the library, and maps errors
//! to one clear line and an exit code (2 for bad input, 1 for anything else).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use clwe_bench::backends::gpu::{GpuEngine, GpuOptions, list_adapters};
use clwe_bench::backends::{BackendChoice, Engine, cpu::CpuEngine, select_engine};
use clwe_bench::experiments::bench_step::{bench_config, bench_step as run_bench_step, square_sgemm_gflops};
use clwe_bench::experiments::construction;
use clwe_bench::experiments::runs::{RunSpec, run_one};
use clwe_bench::experiments::sweep::{Grid, Shard, SweepError, rows_path, run_sweep};
use clwe_bench::learners::lll::{AttackMode, attack, attack_lattice, default_precision};
use clwe_bench::learners::{Budget, LearnerOptions};
use clwe_bench::math::lll::{LatticeError, format_fplll, parse_fplll};
use clwe_bench::math::target::WidthRule;
use clwe_bench::params::ensure;
use clwe_bench::params::{NoiseModel, ParamError, Problem};
use clwe_bench::reporting::atomic::write_file_atomically;
use clwe_bench::sampling::export::{ExportError, validate_rows, write_samples};
use clwe_bench::sampling::{Distribution, Sampler, Split};

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
    Sample(SampleArgs),
    /// Verify the capped ReLU construction and print the width table (k vs √(d ln d)).
    Construction(ConstructionArgs),
    /// List every wgpu adapter and say which backend the suite uses by default.
    Info(InfoArgs),
    /// Time training steps of one configuration: steps/s and GFLOP/s (4·B·d·k' per step).
    BenchStep(BenchStepArgs),
    /// Run one learner on one instance and judge it (SPEC §8).
    Run(RunArgs),
    /// LLL-reduce a basis in fplll's text format.
    LllReduce(LllReduceArgs),
    /// Write the lattice attack's basis for one instance (fplll format), or run the attack.
    Lattice(LatticeArgs),
    /// Run an experiment grid: a preset (quick, threshold, reduction, noise-model) or FILE.toml.
    Sweep(SweepArgs),
    /// Join sweep results (shards, machines) and rewrite the tables and figures.
    Merge(MergeArgs),
    /// Timing tables (markdown, CSV) per backend from criterion's results.
    Report(ReportArgs),
}

#[derive(Args)]
struct ReportArgs {
    /// criterion's output directory [default: $CRITERION_HOME, $CARGO_TARGET_DIR/criterion, or target/criterion].
    #[arg(long)]
    criterion: Option<PathBuf>,
    /// Where the tables go.
    #[arg(long, default_value = "results/timings")]
    out: PathBuf,
}

#[derive(Args)]
struct SweepArgs {
    /// quick | threshold | reduction | noise-model | FILE.toml
    grid: String,
    /// Output directory [default: results/<grid name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only slice I of N (0 <= I < N), e.g. --shard $SLURM_ARRAY_TASK_ID/N.
    #[arg(long)]
    shard: Option<Shard>,
    /// Continue a sweep whose results file exists, skipping finished runs.
    #[arg(long, conflicts_with = "restart")]
    resume: bool,
    /// Discard this sweep's existing results file and run everything again.
    #[arg(long)]
    restart: bool,
    /// Backend of the students.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
}

#[derive(Args)]
struct MergeArgs {
    /// Directories holding runs*.jsonl files.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output directory [default: the first input].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct LatticeArgs {
    /// clwe (dimension d+2), triangle (2d+2) or hclwe (d+1, noiseless hCLWE).
    #[arg(long, value_enum)]
    mode: AttackMode,
    /// Input dimension d.
    #[arg(long)]
    d: usize,
    /// Frequency γ, lattice convention [default: 2√d].
    #[arg(long, allow_negative_numbers = true)]
    gamma: Option<f64>,
    /// CLWE/hCLWE noise β [default: 0, noiseless].
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    beta: f64,
    /// Label noise σ (triangle mode) [default: 0, noiseless].
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    sigma: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Precision N in bits [default: automatic].
    #[arg(long)]
    precision_bits: Option<u32>,
    /// Write the unreduced basis here (fplll format) instead of running the attack.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the attack report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RunArgs {
    /// trivial, oracle, sgd, adam, sgd-warm (warm-started at the true network), ridge, rf-ridge, lll.
    #[arg(long)]
    learner: String,
    #[command(flatten)]
    problem: ProblemArgs,
    /// Instance number (fresh secret and data).
    #[arg(long, default_value_t = 0)]
    instance: u32,
    /// Labels independent of x (the planted null).
    #[arg(long)]
    null: bool,
    /// Train on CLWE-derived samples (SPEC §6: ℓ = φ(z) + ξ with the CLWE error β inside φ).
    #[arg(long)]
    clwe_derived: bool,
    /// Backend of the students.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
    /// Optimisation steps.
    #[arg(long, default_value_t = 2000)]
    budget_steps: u64,
    /// Wall-clock limit in seconds (the run is recorded as timeout when it is hit).
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
    #[arg(long, default_value_t = 0.05)]
    lr: f32,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    adam_lr: f32,
    /// Students train on a fixed set of --train-size samples.
    #[arg(long)]
    fixed_data: bool,
    /// Random features of rf-ridge.
    #[arg(long, default_value_t = 512)]
    features: usize,
    /// Ridge penalty λ.
    #[arg(long, default_value_t = 1e-3)]
    lambda: f64,
    /// Precision N of lll in bits [default: automatic].
    #[arg(long)]
    precision_bits: Option<u32>,
    /// Print the full record as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct LllReduceArgs {
    /// Input basis (fplll format: [[a b c]\n[d e f]]).
    #[arg(long = "in")]
    input: PathBuf,
    /// Output file for the reduced basis (same format).
    #[arg(long)]
    out: PathBuf,
    /// Lovász parameter δ ∈ (0.25, 1].
    #[arg(long, default_value_t = 0.99)]
    delta: f64,
}

#[derive(Args)]
struct InfoArgs {
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct BenchStepArgs {
    /// Backend: auto = a hardware GPU if present, else cpu; wgpu includes software adapters.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
    /// Input dimension d.
    #[arg(long)]
    d: usize,
    /// Student width k'.
    #[arg(long)]
    k: usize,
    /// Batch size B.
    #[arg(long)]
    batch: usize,
    /// Steps per timed repeat.
    #[arg(long, default_value_t = 20)]
    steps: u64,
    /// Untimed steps first (pipeline compilation, caches).
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Timed repeats (one line each).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Reuse one fixed batch instead of drawing fresh samples every step.
    #[arg(long)]
    fixed: bool,
    /// wgpu only: generate x inside the product kernels instead of storing the batch.
    #[arg(long)]
    fused: bool,
    /// cpu only: after each repeat, time a 2048³ sgemm (the calibration product) for as long
    /// and report the step as % of it: a same-minute "% of peak" on a machine that drifts.
    #[arg(long)]
    vs_sgemm: bool,
    /// One JSON object per repeat on stdout.
    #[arg(long)]
    json: bool,
}

/// The problem flags shared by `sample` and `run`.
#[derive(Args)]
struct ProblemArgs {
    /// Input dimension d (1..=2^20).
    #[arg(long)]
    d: usize,
    /// Frequency γ, lattice convention [default: 2√d].
    #[arg(long, allow_negative_numbers = true)]
    gamma: Option<f64>,
    /// CLWE noise β ≥ 0, lattice convention: e ~ N(0, β²/(2π)) [default: 1/d].
    #[arg(long, allow_negative_numbers = true)]
    beta: Option<f64>,
    /// Label-noise standard deviation σ ≥ 0, standard convention [default: 1/d].
    #[arg(long, allow_negative_numbers = true)]
    sigma: Option<f64>,
    /// Label-noise distribution (all with variance σ²).
    #[arg(long, value_enum, default_value = "gaussian")]
    noise: NoiseModel,
    /// Run seed (the 64-bit Philox key).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl ProblemArgs {
    fn problem(&self) -> Result<Problem, ParamError> {
        Problem::new(self.d, self.gamma, self.beta, self.sigma, self.noise, self.seed)
    }
}

#[derive(Args)]
struct SampleArgs {
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

#[derive(Args)]
struct ConstructionArgs {
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

fn main() -> ExitCode {
    quiet_lavapipe();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if is_bad_input(&err) { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
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

/// Whether the error chain contains a parameter error (bad input: exit code 2).
fn is_bad_input(err: &anyhow::Error) -> bool {
    use clwe_bench::backends::EngineError;
    use clwe_bench::learners::LearnerError;
    err.chain().any(|e| {
        e.is::<ParamError>()
            || matches!(e.downcast_ref::<ExportError>(), Some(ExportError::Param(_)))
            || matches!(e.downcast_ref::<SweepError>(), Some(SweepError::Param(_)))
            || matches!(e.downcast_ref::<LearnerError>(), Some(LearnerError::Param(_)))
            || matches!(e.downcast_ref::<EngineError>(), Some(EngineError::Param(_)))
    })
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Sample(args) => sample(args),
        Command::Construction(args) => construction(args),
        Command::Info(args) => info(args),
        Command::BenchStep(args) => bench_step(args),
        Command::Run(args) => run_learner(args),
        Command::LllReduce(args) => lll_reduce(args),
        Command::Lattice(args) => lattice(args),
        Command::Sweep(args) => sweep(args),
        Command::Merge(args) => merge(args),
        Command::Report(args) => report(args),
    }
}

fn sample(args: SampleArgs) -> Result<()> {
    let problem = args.problem.problem()?;
    validate_rows(args.n)?;
    let rule = WidthRule::new(args.n as f64, args.delta)?;
    let sampler = Sampler::new(args.distribution, &problem, 0, Split::Train, rule);
    let start = std::time::Instant::now();
    write_samples(&sampler, args.n, &args.out, args.with_secret)?;
    eprintln!(
        "wrote {} rows of {} (d = {}) to {} in {:.2} s",
        args.n,
        args.distribution.name(),
        args.problem.d,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn construction(args: ConstructionArgs) -> Result<()> {
    anyhow::ensure!(
        !args.d.is_empty(),
        ParamError {
            name: "--d".into(),
            value: String::new(),
            expected: "a comma-separated list of dimensions".into()
        }
    );
    let rule = WidthRule::new(args.n_total, args.delta)?;
    let rows = args
        .d
        .iter()
        .map(|&d| construction::construction_row(d, args.gamma, rule, args.seed))
        .collect::<Result<Vec<_>, _>>()?;
    if args.json {
        for row in &rows {
            println!("{}", serde_json::to_string(row)?);
        }
    } else {
        print!("{}", construction::markdown(&rows));
    }
    construction::write_results(&rows, &args.out)
        .with_context(|| format!("cannot write results to {}", args.out.display()))?;
    let failed: Vec<usize> = rows.iter().filter(|r| !r.verified).map(|r| r.d).collect();
    anyhow::ensure!(failed.is_empty(), "construction NOT verified for d = {failed:?}");
    Ok(())
}

fn info(args: InfoArgs) -> Result<()> {
    let adapters = list_adapters();
    let default = select_engine(BackendChoice::Auto)?.info();
    let cpu = CpuEngine::new().info();
    if args.json {
        let report = serde_json::json!({ "adapters": adapters, "default_backend": default, "cpu": cpu });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("wgpu adapters ({}):", adapters.len());
    for a in &adapters {
        println!(
            "  {} [{} {}{}] driver: {}; storage binding {} MiB, {} storage buffers/stage, features: {}",
            a.info.adapter,
            a.info.api,
            a.info.device_type,
            if a.usable { "" } else { ", NOT usable" },
            a.info.driver,
            a.max_storage_buffer_binding_size >> 20,
            a.max_storage_buffers_per_shader_stage,
            if a.features.is_empty() { "none".into() } else { a.features.join(", ") }
        );
    }
    println!("cpu backend: {}", cpu.adapter);
    println!("default backend: {} ({})", default.backend, default.adapter);
    Ok(())
}

fn bench_step(args: BenchStepArgs) -> Result<()> {
    ensure(args.steps >= 1, "--steps", args.steps, "an integer >= 1")?;
    ensure(args.repeats >= 1, "--repeats", args.repeats, "an integer >= 1")?;
    let config = bench_config(args.d, args.k, args.batch, args.fixed)?;
    config.validate()?;
    let engine: Box<dyn Engine> = if args.fused {
        ensure(args.backend == BackendChoice::Wgpu, "--fused", "set", "only with --backend wgpu")?;
        ensure(!args.fixed, "--fused", "set", "only with fresh samples (not --fixed)")?;
        Box::new(GpuEngine::with_options(GpuOptions { fused_sampling: true, max_chunk_rows: None })?)
    } else {
        select_engine(args.backend)?
    };
    if args.vs_sgemm {
        ensure(engine.info().backend == "cpu", "--vs-sgemm", "set", "only with the cpu backend")?;
    }
    let json = args.json;
    run_bench_step(engine.as_ref(), args.fused, &config, args.warmup, args.steps, args.repeats, |r| {
        let sgemm = args.vs_sgemm.then(|| square_sgemm_gflops(2048, r.seconds.max(0.5)));
        if json {
            let mut row = serde_json::to_value(r).expect("records serialise");
            if let Some(g) = sgemm {
                row["sgemm_2048_gflops"] = g.into();
                row["percent_of_sgemm"] = (100.0 * r.gflops / g).into();
            }
            println!("{row}");
        } else {
            let device = r.device_gflops.map_or(String::new(), |g| format!(", {g:.1} GFLOP/s on device time"));
            let peak = sgemm.map_or(String::new(), |g| {
                format!(" = {:.1}% of the {g:.1} GFLOP/s a 2048³ sgemm ran at right after", 100.0 * r.gflops / g)
            });
            println!(
                "{} {} [{}] d={} k'={} B={}: {:.2} steps/s, {:.1} GFLOP/s{peak}{device}, loss {:.4}",
                r.backend.backend, r.variant, r.backend.adapter, r.d, r.k, r.batch, r.steps_per_s, r.gflops, r.loss
            );
        }
    })?;
    Ok(())
}

fn run_learner(args: RunArgs) -> Result<()> {
    let p = &args.problem;
    let spec = RunSpec {
        learner: args.learner,
        d: p.d,
        gamma: p.gamma,
        beta: p.beta,
        sigma: p.sigma,
        noise: p.noise,
        seed: p.seed,
        instance: args.instance,
        null: args.null,
        clwe_derived: args.clwe_derived,
        budget: Budget {
            steps: args.budget_steps,
            seconds: args.budget_seconds,
            train_samples: args.train_size,
            n_test: args.n_test,
        },
        options: LearnerOptions {
            width: args.width,
            batch: args.batch,
            lr: args.lr,
            adam_lr: args.adam_lr,
            fixed_data: args.fixed_data,
            features: args.features,
            lambda: args.lambda,
            precision_bits: args.precision_bits,
        },
    };
    spec.validate()?;
    let engine = select_engine(args.backend)?;
    let (record, j, eval) = run_one(&spec, engine.as_ref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&record)?);
    } else {
        println!(
            "{} on d={} γ={:.3} (γ_s={:.3}) β={:.3e} σ={:.3e}{}: {:?}\n  Δ = {:.3e} (99% lower bound {:.3e}, ε = {:.3e}), r = {:.3}, MSE {:.4e} vs trivial {:.4e}, n_test = {}\n  samples {}, steps {}, wall {:.2} s{}{}  [{} {}]",
            record.spec.learner,
            record.spec.d,
            record.gamma,
            record.gamma_s,
            record.beta,
            record.sigma,
            if record.spec.null { " (null)" } else { "" },
            j.verdict,
            j.delta,
            j.delta_lower99,
            j.epsilon,
            j.r,
            eval.mse_student,
            eval.mse_trivial,
            eval.n,
            record.samples,
            record.steps,
            record.wall_s,
            record.device_s.map_or(String::new(), |s| format!(", device {s:.2} s")),
            record.cosine.map_or(String::new(), |c| format!(", |cos(ŵ, w)| = {c:.12}")),
            record.backend.backend,
            record.backend.adapter,
        );
    }
    Ok(())
}

fn lll_reduce(args: LllReduceArgs) -> Result<()> {
    let text =
        std::fs::read_to_string(&args.input).with_context(|| format!("cannot read --in {}", args.input.display()))?;
    let mut basis = parse_fplll(&text).map_err(|e| ParamError {
        name: "--in".into(),
        value: args.input.display().to_string(),
        expected: e.to_string(),
    })?;
    let start = std::time::Instant::now();
    let stats = clwe_bench::math::lll::lll_reduce_auto(&mut basis, args.delta).map_err(|e| match e {
        LatticeError::Delta(_) => anyhow::Error::new(ParamError {
            name: "--delta".into(),
            value: args.delta.to_string(),
            expected: "a number in (0.25, 1]".into(),
        }),
        other => anyhow::Error::new(other),
    })?;
    let seconds = start.elapsed().as_secs_f64();
    write_file_atomically(&args.out, format_fplll(&basis).as_bytes())
        .with_context(|| format!("cannot write --out {}", args.out.display()))?;
    eprintln!(
        "reduced {}×{} basis in {:.6} s ({} swaps, {} size reductions); first vector norm² = {}",
        basis.len(),
        basis.first().map_or(0, Vec::len),
        seconds,
        stats.swaps,
        stats.size_reductions,
        basis.first().map(|r| clwe_bench::math::lll::norm_squared(r).to_string()).unwrap_or_default()
    );
    Ok(())
}

fn lattice(args: LatticeArgs) -> Result<()> {
    let problem = Problem::new(args.d, args.gamma, Some(args.beta), Some(args.sigma), NoiseModel::Gaussian, args.seed)?;
    let bits = args.precision_bits.unwrap_or_else(|| default_precision(args.mode, args.d, problem.gamma));
    if let Some(out) = &args.out {
        let lattice = attack_lattice(args.mode, &problem, 0, false, bits)?;
        write_file_atomically(out, format_fplll(&lattice.basis).as_bytes())
            .with_context(|| format!("cannot write --out {}", out.display()))?;
        eprintln!(
            "wrote the {:?} lattice (dimension {}, N = {bits}) to {}",
            args.mode,
            lattice.basis.len(),
            out.display()
        );
        return Ok(());
    }
    let report = attack(args.mode, &problem, 0, false, bits)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{:?} d={} dimension {} N={}: found {}, verified {}, |cos| = {:.15}, frequency {:.9}, log2‖b1‖ = {:.2}, LLL {:.3} s ({} swaps)",
            report.mode,
            report.d,
            report.dimension,
            report.precision_bits,
            report.found,
            report.verified,
            report.cosine,
            report.frequency,
            report.first_vector_log2_norm,
            report.lll_seconds,
            report.lll.swaps
        );
    }
    Ok(())
}

fn sweep(args: SweepArgs) -> Result<()> {
    if args.grid == "scaling" {
        return scaling(args);
    }
    let grid = Grid::load(&args.grid)?;
    let points = grid.points()?;
    let out = args.out.unwrap_or_else(|| PathBuf::from("results").join(&grid.name));
    let engine = select_engine(args.backend)?;
    let info = engine.info();
    eprintln!(
        "sweep {}: {} runs{} on {} ({}), results in {}",
        grid.name,
        points.len(),
        args.shard.map_or(String::new(), |s| format!(" (shard {}/{})", s.index, s.count)),
        info.backend,
        info.adapter,
        out.display()
    );
    if args.restart {
        let path = rows_path(&out, args.shard);
        match std::fs::remove_file(&path) {
            Ok(()) => eprintln!("--restart: removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    let outcome = run_sweep(&grid, &out, args.shard, args.resume, engine.as_ref())?;
    eprintln!(
        "done: {} runs now, {} already present, {} in this shard; tables and figures in {}",
        outcome.ran,
        outcome.skipped,
        outcome.total,
        out.display()
    );
    Ok(())
}

/// `sweep scaling`: the CPU backend and, for `--backend auto|wgpu`, the wgpu adapter (software
/// adapters included with `--backend wgpu`); resumable point by point.
fn scaling(args: SweepArgs) -> Result<()> {
    let out = args.out.unwrap_or_else(|| PathBuf::from("results/scaling"));
    let rows_file = out.join("scaling.jsonl");
    if args.restart {
        let _ = std::fs::remove_file(&rows_file);
    } else if !args.resume && std::fs::metadata(&rows_file).is_ok_and(|m| m.len() > 0) {
        return Err(ParamError {
            name: "--out".into(),
            value: out.display().to_string(),
            expected: format!(
                "a directory without results ({} exists): pass --resume to add to it",
                rows_file.display()
            ),
        }
        .into());
    }
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
    let smoke = std::env::var("CLWE_BENCH_GRID").as_deref() == Ok("smoke");
    let ran = clwe_bench::experiments::scaling::run_scaling(&out, &engines, smoke, |line| eprintln!("{line}"))?;
    eprintln!("scaling: {ran} points measured now; tables and figures in {}", out.display());
    Ok(())
}

fn merge(args: MergeArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| args.dirs[0].clone());
    let n = clwe_bench::experiments::sweep::merge(&args.dirs, &out)?;
    eprintln!("merged {n} runs into {}", out.join("runs.jsonl").display());
    Ok(())
}

fn report(args: ReportArgs) -> Result<()> {
    use clwe_bench::reporting::criterion::{read_criterion, write_report};
    let dir = args.criterion.unwrap_or_else(|| {
        std::env::var_os("CRITERION_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion")))
            .unwrap_or_else(|| PathBuf::from("target/criterion"))
    });
    let measurements =
        read_criterion(&dir).with_context(|| format!("cannot read criterion results in {}", dir.display()))?;
    anyhow::ensure!(
        !measurements.is_empty(),
        ParamError {
            name: "--criterion".into(),
            value: dir.display().to_string(),
            expected: "a directory holding criterion results (run `cargo bench` first)".into()
        }
    );
    let backends: Vec<clwe_bench::backends::BackendInfo> = std::fs::read(dir.join("clwe-bench-backends.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let files = write_report(&measurements, &backends, &args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    for f in files {
        eprintln!("wrote {}", f.display());
    }
    Ok(())
}
