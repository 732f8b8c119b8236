//! Learner benchmarks (criterion): time-to-verdict of `sgd` (a whole run: training for a fixed
//! step budget plus the held-out evaluation) against d and k', declared as steps so criterion
//! also reports steps/s; and the lattice attack's time against d and the precision N, with the
//! lattice dimension in the benchmark id. `CLWE_BENCH_GRID=smoke` runs one tiny case of each.

use std::time::Duration;

use clwe_bench::attack::{AttackMode, Precision, attack, default_precision};
use clwe_bench::backends::Engine;
use clwe_bench::backends::cpu::CpuEngine;
use clwe_bench::backends::gpu::GpuEngine;
use clwe_bench::deadline::Deadline;
use clwe_bench::experiments::runs::{RunSpec, run_one};
use clwe_bench::learners::{Budget, LearnerKind, LearnerOptions};
use clwe_bench::params::{NoiseModel, Problem};
use clwe_bench::sampling::DataKind;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn smoke() -> bool {
    std::env::var("CLWE_BENCH_GRID").as_deref() == Ok("smoke")
}

fn sgd_spec(d: usize, width: usize, steps: u64) -> RunSpec {
    RunSpec {
        learner: LearnerKind::Sgd,
        d,
        gamma: None,
        beta: None,
        sigma: None,
        noise: NoiseModel::Gaussian,
        seed: 0,
        instance: 0,
        data: DataKind::Planted,
        budget: Budget { steps, seconds: None, train_samples: 10_000, n_test: 20_000 },
        options: LearnerOptions { width, batch: 1024, ..LearnerOptions::default() },
    }
}

fn sgd_time_to_verdict(c: &mut Criterion) {
    let mut engines: Vec<Box<dyn Engine>> = vec![Box::new(CpuEngine::new())];
    if let Ok(gpu) = GpuEngine::new()
        && (gpu.is_hardware() || std::env::var("CLWE_BENCH_SOFTWARE").as_deref() == Ok("1"))
    {
        engines.push(Box::new(gpu));
    }
    let (ds, widths, steps): (&[usize], &[usize], u64) =
        if smoke() { (&[4], &[32], 20) } else { (&[8, 32, 128], &[256, 1024], 200) };
    let mut group = c.benchmark_group("sgd-verdict");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(steps));
    for engine in &engines {
        let id = engine.info().backend;
        for &d in ds {
            for &k in widths {
                let spec = sgd_spec(d, k, steps);
                group.bench_function(BenchmarkId::new(&id, format!("d{d}_k{k}_B1024")), |bench| {
                    bench.iter(|| run_one(&spec, engine.as_ref()).expect("run succeeds"))
                });
            }
        }
    }
    group.finish();
}

fn lll_time(c: &mut Criterion) {
    let ds: &[usize] = if smoke() { &[4] } else { &[10, 20, 30] };
    let mut group = c.benchmark_group("lll");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_secs(1));
    for mode in [AttackMode::Clwe, AttackMode::Triangle] {
        for &d in ds {
            let problem = Problem::new(d, None, Some(0.0), Some(0.0), NoiseModel::Gaussian, 0).expect("valid");
            let base = default_precision(mode, d, problem.gamma);
            for n in [base, base + base / 2] {
                let name = format!("{mode:?}-d{d}-dim{}-N{n}", mode.dimension(d)).to_lowercase();
                group.bench_function(BenchmarkId::new("cpu", name), |bench| {
                    bench.iter(|| {
                        attack(mode, &problem, 0, false, Precision::Fixed(n), Deadline::NONE).expect("attack runs")
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, sgd_time_to_verdict, lll_time);
criterion_main!(benches);
