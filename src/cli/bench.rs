//! `clwe-bench info`, `bench-step` and `report`: what the machine has, how fast a step runs, and
//! criterion's results as timing tables.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use clwe_bench::backends::gpu::{AdapterReport, GpuEngine, GpuOptions, list_adapters};
use clwe_bench::backends::{BackendChoice, BackendInfo, Engine, cpu::CpuEngine, select_engine};
use clwe_bench::error::{Error, Result};
use clwe_bench::experiments::bench_step::{
    BenchStepRecord, StepData, Variant, bench_config, bench_step as run_bench_step, median, paired_ratios,
    square_sgemm_gflops,
};
use clwe_bench::learners::{MAX_BATCH, MAX_WIDTH};
use clwe_bench::params::{ParamError, ensure};
use clwe_bench::reporting::atomic::check_output_dir;
use clwe_bench::resources::ensure_memory;

/// Flags of `info`.
#[derive(Args)]
pub struct InfoArgs {
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// What `info --json` prints.
#[derive(Serialize)]
struct InfoReport {
    adapters: Vec<AdapterReport>,
    default_backend: BackendInfo,
    cpu: BackendInfo,
}

/// Lists the adapters and the default backend.
pub fn info(args: InfoArgs) -> Result<()> {
    let report = InfoReport {
        adapters: list_adapters(),
        default_backend: select_engine(BackendChoice::Auto)?.info(),
        cpu: CpuEngine::new().info(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("reports serialise"));
        return Ok(());
    }
    println!("wgpu adapters ({}):", report.adapters.len());
    for a in &report.adapters {
        println!("  {a}");
    }
    println!("cpu backend: {}", report.cpu.adapter);
    println!("default backend: {} ({})", report.default_backend.backend, report.default_backend.adapter);
    Ok(())
}

/// Flags of `bench-step`.
#[derive(Args)]
pub struct BenchStepArgs {
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
    /// What each step reads: fresh (new samples every step), fresh-fused (wgpu only: x generated
    /// inside the product kernels), fixed (one batch reused). Several, comma-separated, are timed
    /// in alternation (A B, B A, …) and the first compared with each other repeat by repeat.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fresh")]
    data: Vec<StepData>,
    /// cpu only: after each repeat, time a 2048³ sgemm (the calibration product) for as long
    /// and report the step as % of it: a same-minute "% of peak" on a machine that drifts.
    #[arg(long)]
    vs_sgemm: bool,
    /// One JSON object per repeat on stdout.
    #[arg(long)]
    json: bool,
}

/// A repeat with its same-minute sgemm, as `--vs-sgemm --json` prints it.
#[derive(Serialize)]
struct VsSgemm<'a> {
    #[serde(flatten)]
    record: &'a BenchStepRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    sgemm_2048_gflops: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    percent_of_sgemm: Option<f64>,
}

/// Bad flags, before any work: counts and sizes out of range, a variant named twice, a fused
/// or sgemm comparison without its backend, or more memory than the machine has.
fn check(args: &BenchStepArgs) -> Result<()> {
    ensure(args.steps >= 1, "--steps", args.steps, "an integer >= 1")?;
    ensure(args.repeats >= 1, "--repeats", args.repeats, "an integer >= 1")?;
    ensure((1..=MAX_WIDTH).contains(&args.k), "--k", args.k, &format!("an integer in 1..={MAX_WIDTH}"))?;
    ensure((1..=MAX_BATCH).contains(&args.batch), "--batch", args.batch, &format!("an integer in 1..={MAX_BATCH}"))?;
    for (i, data) in args.data.iter().enumerate() {
        ensure(!args.data[..i].contains(data), "--data", data.name(), "each variant at most once")?;
    }
    if args.data.contains(&StepData::FreshFused) {
        ensure(args.backend == BackendChoice::Wgpu, "--data", "fresh-fused", "only with --backend wgpu")?;
    }
    // Every variant holds its own trainer (a fixed one its training set too).
    let mut memory = 0;
    for &data in &args.data {
        memory += bench_config(args.d, args.k, args.batch, data)?.memory_bytes();
    }
    Ok(ensure_memory("--d/--k/--batch", memory)?)
}

/// One repeat's line (or JSON object), with its same-minute sgemm under `--vs-sgemm`.
fn print_record(args: &BenchStepArgs, r: &BenchStepRecord) {
    let sgemm = args.vs_sgemm.then(|| square_sgemm_gflops(2048, r.seconds.max(0.5)));
    let percent = sgemm.map(|g| 100.0 * r.gflops / g);
    if args.json {
        let row = VsSgemm { record: r, sgemm_2048_gflops: sgemm, percent_of_sgemm: percent };
        println!("{}", serde_json::to_string(&row).expect("records serialise"));
    } else {
        match (sgemm, percent) {
            (Some(g), Some(p)) => println!("{r} = {p:.1}% of the {g:.1} GFLOP/s a 2048³ sgemm ran at right after"),
            _ => println!("{r}"),
        }
    }
}

/// Times one configuration.
pub fn bench_step(args: BenchStepArgs) -> Result<()> {
    check(&args)?;
    let fused = args.data.contains(&StepData::FreshFused);
    // The selected engine for fresh and fixed data, one that samples inside its products for
    // fresh-fused: each made only if a variant needs it.
    let plain =
        if args.data.iter().any(|&d| d != StepData::FreshFused) { Some(select_engine(args.backend)?) } else { None };
    let fused_engine: Option<Box<dyn Engine>> = if fused {
        Some(Box::new(GpuEngine::with_options(GpuOptions { fused_sampling: true, ..GpuOptions::default() })?))
    } else {
        None
    };
    if args.vs_sgemm {
        let cpu = plain.as_ref().is_some_and(|e| e.info().backend == "cpu") && !fused;
        ensure(cpu, "--vs-sgemm", "set", "only with the cpu backend")?;
    }
    let variants: Vec<Variant> = args
        .data
        .iter()
        .map(|&data| {
            let engine = if data == StepData::FreshFused { &fused_engine } else { &plain };
            Variant { engine: engine.as_deref().expect("made above for every variant"), data }
        })
        .collect();
    let shape = (args.d, args.k, args.batch);
    let records = run_bench_step(&variants, shape, args.warmup, args.steps, args.repeats, |r| print_record(&args, r))?;
    if !args.json {
        for &other in &args.data[1..] {
            let ratios = paired_ratios(&records, args.data[0], other);
            let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.3}")).collect();
            println!(
                "{} / {} steps/s, repeat by repeat: {} (median {:.3})",
                args.data[0].name(),
                other.name(),
                listed.join(", "),
                median(&ratios)
            );
        }
    }
    Ok(())
}

/// Flags of `report`.
#[derive(Args)]
pub struct ReportArgs {
    /// criterion's output directory [default: $CRITERION_HOME, $CARGO_TARGET_DIR/criterion, or target/criterion].
    #[arg(long)]
    criterion: Option<PathBuf>,
    /// Where the tables go.
    #[arg(long, default_value = "results/timings")]
    out: PathBuf,
}

/// Writes the timing tables from criterion's results.
pub fn report(args: ReportArgs) -> Result<()> {
    use clwe_bench::reporting::criterion::{read_criterion, write_report};
    let dir = args.criterion.unwrap_or_else(|| {
        std::env::var_os("CRITERION_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion")))
            .unwrap_or_else(|| PathBuf::from("target/criterion"))
    });
    let no_results = || ParamError {
        name: "--criterion".into(),
        value: dir.display().to_string(),
        expected: "a directory holding criterion results (run `cargo bench` first)".into(),
    };
    let measurements = read_criterion(&dir).map_err(|_| no_results())?;
    if measurements.is_empty() {
        return Err(no_results().into());
    }
    check_output_dir("--out", &args.out)?;
    let backends: Vec<BackendInfo> = std::fs::read(dir.join("clwe-bench-backends.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let files = write_report(&measurements, &backends, &args.out).map_err(Error::io(&args.out))?;
    for f in files {
        eprintln!("wrote {}", f.display());
    }
    Ok(())
}
