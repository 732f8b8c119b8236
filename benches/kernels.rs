//! Kernel and step throughput on every backend present (criterion).
//!
//! Groups: `generate`, `forward`, `backward`, `step-fresh`, `step-fixed`, `evaluate`; function id:
//! the backend (`cpu`, `wgpu-device` = timestamp-query device time, `wgpu-wall` = wall clock to
//! completion); parameter: `d{d}_k{k'}_B{B}`. Each benchmark declares its work as criterion
//! "elements" (FLOPs counted as 4·B·d·k' per step, 2·B·d·k' per product; normals for
//! `generate`) and the bytes it must move, so `clwe-bench report` can turn medians into GFLOP/s,
//! GB/s and % of the measured peak.
//!
//! Environment: `CLWE_BENCH_GRID=smoke` runs one tiny shape (what CI runs), `=small` four
//! moderate ones, `=gpu` five large ones on the GPU alone (`scripts/gpu-check.sh`); `CLWE_BENCH_SOFTWARE=1` also benchmarks software wgpu adapters
//! (llvmpipe/lavapipe: correct but not a proxy for GPU speed). The backends used are written to
//! `clwe-bench-backends.json` in criterion's directory (`$CRITERION_HOME`, else
//! `target/criterion`) for the report.

use std::time::Duration;

use clwe_bench::backends::cpu::CpuEngine;
use clwe_bench::backends::cpu::gemm::{Operand, Product, sgemm_with};
use clwe_bench::backends::gpu::GpuEngine;
use clwe_bench::backends::{Engine, Phase, PhaseTiming, StudentParams, TrainConfig, View};
use clwe_bench::experiments::bench_step::{StepData, bench_config};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// (d, k', B) shapes: the full grid, `small` (d ≤ 256, k' ≤ 1024, B = 4096: what a software
/// adapter finishes in minutes), or `smoke` (one tiny shape).
fn grid() -> Vec<(usize, usize, usize)> {
    match std::env::var("CLWE_BENCH_GRID").as_deref() {
        Ok("smoke") => return vec![(16, 32, 256)],
        Ok("small") => return vec![(64, 256, 4096), (64, 1024, 4096), (256, 256, 4096), (256, 1024, 4096)],
        Ok("gpu") => return GPU_GRID.to_vec(),
        _ => {}
    }
    let mut shapes = Vec::new();
    for d in [64, 256, 1024] {
        for k in [256, 1024, 4096] {
            for b in [4096, 8192] {
                shapes.push((d, k, b));
            }
        }
    }
    shapes
}

/// `gpu`: the shapes `scripts/gpu-check.sh` times on a GPU machine — 11 benchmarks of ~6 s each
/// per shape, so about 6 minutes (designed for a datacenter GPU; not yet timed on one).
const GPU_GRID: [(usize, usize, usize); 5] =
    [(256, 1024, 8192), (1024, 1024, 8192), (1024, 4096, 8192), (1024, 4096, 32768), (4096, 4096, 8192)];

/// The CPU engine (not with the `gpu` grid, sized for a GPU), and a wgpu engine when it is a
/// hardware GPU (or software adapters are asked for).
fn engines() -> Vec<Box<dyn Engine>> {
    let mut engines: Vec<Box<dyn Engine>> = Vec::new();
    if std::env::var("CLWE_BENCH_GRID").as_deref() != Ok("gpu") {
        engines.push(Box::new(CpuEngine::new()));
    }
    let software = std::env::var("CLWE_BENCH_SOFTWARE").as_deref() == Ok("1");
    match GpuEngine::new() {
        Ok(gpu) if gpu.is_hardware() || software => engines.push(Box::new(gpu)),
        Ok(gpu) => eprintln!("skipping software adapter {} (set CLWE_BENCH_SOFTWARE=1)", gpu.info().adapter),
        Err(e) => eprintln!("no wgpu engine: {e}"),
    }
    engines
}

/// Writes what ran the benchmarks, with the GEMM variant each shape class was tuned to, beside
/// criterion's own results, where `clwe-bench report --criterion DIR` looks for it.
fn write_backends(engines: &[Box<dyn Engine>]) {
    let infos: Vec<_> = engines.iter().map(|e| e.info()).collect();
    let dir = std::env::var_os("CRITERION_HOME").map_or_else(|| "target/criterion".into(), std::path::PathBuf::from);
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("clwe-bench-backends.json"), serde_json::to_vec_pretty(&infos).unwrap());
    }
}

/// Picks the measurement a benchmark id reports from a phase timing.
type Pick = fn(PhaseTiming) -> Option<Duration>;

/// The benchmark ids a backend supports, each with the measurement it reports.
fn ids(engine: &dyn Engine) -> Vec<(&'static str, Pick)> {
    if engine.info().backend == "cpu" {
        vec![("cpu", |t| Some(t.wall))]
    } else {
        vec![("wgpu-device", |t| t.device), ("wgpu-wall", |t| Some(t.wall))]
    }
}

fn bench_shape(c: &mut Criterion, engine: &dyn Engine, (d, k, b): (usize, usize, usize)) {
    let shape = format!("d{d}_k{k}_B{b}");
    let fresh = bench_config(d, k, b, StepData::Fresh).expect("valid shape");
    let fixed = bench_config(d, k, b, StepData::Fixed).expect("valid shape");
    let init = StudentParams::standard_init(d, k, 0, 0);
    let cases: [(&str, Phase, &TrainConfig); 5] = [
        ("generate", Phase::Generate, &fresh),
        ("forward", Phase::Forward, &fresh),
        ("backward", Phase::Backward, &fresh),
        ("step-fresh", Phase::Step, &fresh),
        ("step-fixed", Phase::Step, &fixed),
    ];
    for (group_name, phase, config) in cases {
        let mut trainer = match engine.trainer(config, &init) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{group_name} {shape} on {}: skipped ({e})", engine.info().backend);
                continue;
            }
        };
        // One untimed step fills the batch, Z and g that the single phases work on.
        trainer.steps(1).expect("warm-up step");
        let mut group = c.benchmark_group(group_name);
        group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_secs(1));
        group.throughput(Throughput::ElementsAndBytes {
            elements: phase.work(config) as u64,
            bytes: phase.bytes(config) as u64,
        });
        for (id, pick) in ids(engine) {
            group.bench_function(BenchmarkId::new(id, &shape), |bench| {
                bench.iter_custom(|iters| {
                    let timing = trainer.run_phase(phase, iters).expect("phase runs");
                    pick(timing).expect("device time requested only where measured")
                })
            });
        }
        group.finish();
    }
    evaluate(c, engine, &fresh, &init, &shape);
}

/// Held-out evaluation of B test samples (one forward product: 2·B·d·k' FLOPs).
fn evaluate(c: &mut Criterion, engine: &dyn Engine, config: &TrainConfig, init: &StudentParams, shape: &str) {
    let Ok(mut trainer) = engine.trainer(config, init) else { return };
    let n = config.batch as u64;
    let mut group = c.benchmark_group("evaluate");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::ElementsAndBytes {
        elements: Phase::Forward.work(config) as u64,
        bytes: Phase::Forward.bytes(config) as u64,
    });
    let id = if engine.info().backend == "cpu" { "cpu" } else { "wgpu-wall" };
    group.bench_function(BenchmarkId::new(id, shape), |bench| {
        bench.iter_custom(|iters| {
            let start = std::time::Instant::now();
            for _ in 0..iters {
                std::hint::black_box(trainer.evaluate(n, 0.25, View::Learning).expect("evaluation runs"));
            }
            start.elapsed()
        })
    });
    group.finish();
}

/// The `calibration` group: each backend's practical peaks, the denominators of "% of peak".
/// CPU: a 2048³ sgemm through the backend's own product (and `matrixmultiply`'s, for comparison)
/// and a parallel 256 MiB copy. wgpu: the forward GEMM kernel at d = k' = 1024, B = 8192 and a
/// 256 MiB device-side buffer copy.
fn calibration(c: &mut Criterion, engine: &dyn Engine, gpu: Option<&GpuEngine>) {
    let smoke = std::env::var("CLWE_BENCH_GRID").as_deref() == Ok("smoke");
    let mut group = c.benchmark_group("calibration");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_secs(1));
    let copy_bytes: u64 = if smoke { 1 << 20 } else { 256 << 20 };
    let copy_name = format!("copy-{}MiB", copy_bytes >> 20);
    match gpu {
        None => {
            let n = if smoke { 128 } else { 2048 };
            let (a, b) = (vec![1.0f32; n * n], vec![0.5f32; n * n]);
            let mut out = vec![0.0f32; n * n];
            group.throughput(Throughput::ElementsAndBytes {
                elements: 2 * (n as u64).pow(3),
                bytes: 12 * (n as u64).pow(2),
            });
            // The backend's product, and `matrixmultiply` beside it where that is another one.
            let mut products = vec![(Product::best(), format!("gemm-{n}"))];
            if Product::best() != Product::Matrixmultiply {
                products.push((Product::Matrixmultiply, format!("gemm-{n}-matrixmultiply")));
            }
            for (product, name) in products {
                group.bench_function(BenchmarkId::new("cpu", name), |bench| {
                    bench.iter(|| {
                        sgemm_with(product, n, n, n, Operand::row_major(&a, n), Operand::row_major(&b, n), &mut out)
                    })
                });
            }
            let src = vec![1.0f32; (copy_bytes / 4) as usize];
            let mut dst = vec![0.0f32; src.len()];
            group.throughput(Throughput::ElementsAndBytes { elements: 0, bytes: 2 * copy_bytes });
            group.bench_function(BenchmarkId::new("cpu", &copy_name), |bench| {
                use rayon::prelude::*;
                bench.iter(|| {
                    dst.par_chunks_mut(1 << 16).zip(src.par_chunks(1 << 16)).for_each(|(d, s)| d.copy_from_slice(s))
                })
            });
        }
        Some(gpu) => {
            let (d, k, b) = if smoke { (16, 32, 256) } else { (1024, 1024, 8192) };
            let config = bench_config(d, k, b, StepData::Fixed).expect("valid shape");
            if let Ok(mut trainer) = engine.trainer(&config, &StudentParams::standard_init(d, k, 0, 0)) {
                trainer.steps(1).expect("warm-up step");
                group.throughput(Throughput::ElementsAndBytes {
                    elements: Phase::Forward.work(&config) as u64,
                    bytes: Phase::Forward.bytes(&config) as u64,
                });
                for (id, pick) in ids(engine) {
                    group.bench_function(BenchmarkId::new(id, format!("gemm-d{d}-k{k}-B{b}")), |bench| {
                        bench.iter_custom(|iters| {
                            pick(trainer.run_phase(Phase::Forward, iters).expect("forward runs")).expect("measured")
                        })
                    });
                }
            }
            group.throughput(Throughput::ElementsAndBytes { elements: 0, bytes: 2 * copy_bytes });
            group.bench_function(BenchmarkId::new("wgpu-wall", &copy_name), |bench| {
                bench.iter_custom(|iters| gpu.context().time_copies(copy_bytes, iters).expect("copies run"))
            });
        }
    }
    group.finish();
}

fn kernels(c: &mut Criterion) {
    let engines = engines();
    for engine in &engines {
        let gpu = engine.as_any().downcast_ref::<GpuEngine>();
        calibration(c, engine.as_ref(), gpu);
        for shape in grid() {
            bench_shape(c, engine.as_ref(), shape);
        }
    }
    write_backends(&engines);
}

criterion_group!(benches, kernels);
criterion_main!(benches);
