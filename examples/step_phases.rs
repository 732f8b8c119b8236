//! Where a CPU training step's time goes, fresh samples against fixed data: for each
//! bench-step cell (d, k', B), the sampling (with labels), forward and backward phases and the
//! whole step of both variants, timed in alternation (fresh first on even rounds, fixed first on
//! odd ones) so that the machine's drift falls on both; then the Gaussian batch with its
//! projection on one thread, the sampler alone.
//!
//!     cargo run --release --example step_phases [-- ROUNDS]

use std::time::Instant;

use clwe_bench::backends::cpu::CpuEngine;
use clwe_bench::backends::cpu::generate::gaussian_rows;
use clwe_bench::backends::{Engine, Phase, StudentParams, Trainer};
use clwe_bench::experiments::bench_step::{StepData, bench_config};
use clwe_bench::sampling::streams::{Role, Stream};

const CELLS: [(usize, usize, usize); 4] = [(64, 256, 4096), (256, 1024, 4096), (1024, 1024, 4096), (128, 4096, 8192)];
const PHASES: [Phase; 4] = [Phase::Generate, Phase::Forward, Phase::Backward, Phase::Step];

/// Mean milliseconds of each of [`PHASES`] over `n` iterations of `trainer`.
fn phase_ms(trainer: &mut dyn Trainer, n: u64) -> [f64; 4] {
    PHASES.map(|phase| {
        let wall = trainer.run_phase(phase, n).expect("the CPU trainer runs").wall;
        wall.as_secs_f64() * 1e3 / n as f64
    })
}

/// Best of five: milliseconds to draw a B × d batch with its projection on the calling thread.
fn sampler_ms(d: usize, batch: usize) -> f64 {
    let stream = Stream::new(0, 0, Role::TrainInputs);
    let w: Vec<f32> = (0..d).map(|c| c as f32 / d as f32).collect();
    let (mut x, mut p) = (vec![0f32; batch * d], vec![0f32; batch]);
    let reps = 20;
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for i in 0..reps {
                gaussian_rows(&stream, (i * batch) as u64, d, &mut x, Some((&w, &mut p)));
            }
            start.elapsed().as_secs_f64() * 1e3 / reps as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let rounds: usize = std::env::args().nth(1).map_or(6, |r| r.parse().expect("ROUNDS: a positive integer"));
    let engine = CpuEngine::new();
    for (d, k, batch) in CELLS {
        let init = StudentParams::standard_init(d, k, 0, 0);
        let mut trainers: Vec<Box<dyn Trainer>> = [StepData::Fresh, StepData::Fixed]
            .map(|data| {
                engine.trainer(&bench_config(d, k, batch, data).expect("a valid cell"), &init).expect("a trainer")
            })
            .into();
        for t in &mut trainers {
            t.run_phase(Phase::Step, 3).expect("warm-up");
        }
        let n = (2e9 / (4 * batch * d * k) as f64).ceil() as u64; // ~2 GFLOP of steps per timing
        let mut sums = [[0f64; 4]; 2];
        for round in 0..rounds {
            for i in if round % 2 == 0 { [0, 1] } else { [1, 0] } {
                for (sum, ms) in sums[i].iter_mut().zip(phase_ms(trainers[i].as_mut(), n)) {
                    *sum += ms / rounds as f64;
                }
            }
        }
        for (name, [generate, forward, backward, step]) in ["fresh", "fixed"].into_iter().zip(sums) {
            println!(
                "({d}, {k}, {batch}) {name}: sampling {generate:.3} ms, forward {forward:.3}, backward {backward:.3}, \
                 step {step:.3} ms"
            );
        }
        println!("({d}, {k}, {batch}) fresh/fixed steps/s {:.3}", sums[1][3] / sums[0][3]);
        println!("  B × d batch with projection on one thread: {:.3} ms", sampler_ms(d, batch));
    }
}
