//! Every WGSL kernel on the adapter wgpu finds (llvmpipe or lavapipe in CI), against the CPU
//! reference, at small and awkward sizes (d = 1, k' = 1, sizes that are not tile multiples, a
//! batch split into chunks). Tolerances: Philox words bit for bit; normals 2e-5·max(1, |x|)
//! (WGSL division is 2.5 ulp, and GPUs may fuse multiply-adds); trained parameters 1e-3 relative
//! in norm after 50 steps (f32 reductions in different orders).

use std::sync::OnceLock;

use clwe_bench::backends::Phase;
use clwe_bench::backends::cpu::generate::{gaussian_batch, gaussian_rows};
use clwe_bench::backends::cpu::step::{self, CpuTrainer, Grads};
use clwe_bench::backends::cpu::teacher::teacher;
use clwe_bench::backends::gpu::kernels::GemmVariant;
use clwe_bench::backends::gpu::kernels::{self, BASE_FROM_DIMS, Dims, Dispatch, Slot, Workspace, record};
use clwe_bench::backends::gpu::tune::{self, How, TuningCache};
use clwe_bench::backends::gpu::{GpuContext, GpuOptions, GpuTrainer};
use clwe_bench::backends::{
    DataSource, Directions, LrSchedule, Optimizer, Schedule, StudentParams, Teacher, TrainConfig, Trainer, View,
};
use clwe_bench::math::philox::{Counter, Key, philox4x32_10};
use clwe_bench::params::NoiseModel;
use clwe_bench::sampling::secret_direction;
use clwe_bench::sampling::streams::{Role, Stream};

fn ctx() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx = GpuContext::new().expect("these tests need a wgpu adapter; run scripts/setup.sh (installs lavapipe)");
        eprintln!("adapter: {:?}", ctx.info);
        ctx
    })
}

/// The launcher of a kernel under test (one of `kernels::*`, its variant fixed).
type Launcher = for<'a> fn(&GpuContext, &'a wgpu::BindGroup, &Dims) -> Result<Dispatch<'a>, clwe_bench::error::Error>;

/// Runs one kernel over a fresh workspace through its launcher, as the trainer launches it.
fn run_kernel(launch: Launcher, dims: Dims, words: impl Fn(Slot) -> u64, init: impl Fn(&Workspace)) -> Workspace {
    let ctx = ctx();
    let work = Workspace::new(ctx, words);
    init(&work);
    let (group, _uniform) = work.bind_group(ctx, &dims, &[]);
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    record(&mut encoder, &[launch(ctx, &group, &dims).unwrap()], None);
    ctx.submit_and_wait(encoder).unwrap();
    work
}

fn gpu_philox(counters: &[(u32, u64, u32)], key: Key) -> Vec<Counter> {
    // One launch per (block, tag): the kernel draws consecutive indices from dims.base.
    counters
        .iter()
        .map(|&(block, index, tag)| {
            let dims = Dims {
                rows: 1,
                chunk_offset: block,
                base: [index as u32, (index >> 32) as u32],
                input_tag: tag,
                key,
                ..Dims::default()
            };
            let work = run_kernel(kernels::philox_words, dims, |s| if s == Slot::X { 4 } else { 1 }, |_| {});
            let w: Vec<u32> = work.read(ctx(), Slot::X, 0, 4).unwrap();
            [w[0], w[1], w[2], w[3]]
        })
        .collect()
}

#[test]
fn philox_words_are_bit_identical_to_the_cpu_including_known_answers() {
    // Random123 known answers, expressed as (block, index, tag) counters.
    assert_eq!(gpu_philox(&[(0, 0, 0)], [0, 0])[0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    assert_eq!(
        gpu_philox(&[(u32::MAX, u64::MAX, u32::MAX)], [u32::MAX; 2])[0],
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
    );
    let pi = (0x243f6a88, 0x13198a2e_85a308d3, 0x03707344);
    assert_eq!(gpu_philox(&[pi], [0xa4093822, 0x299f31d0])[0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
    // Many counters at once, across the 2³² carry of the sample index.
    let key = [0xdead_beef, 0x0123_4567];
    let n = 3000u32;
    let base = (1u64 << 32) - 1000;
    let dims = Dims {
        rows: n,
        chunk_offset: 7,
        base: [base as u32, (base >> 32) as u32],
        input_tag: 0x0501,
        key,
        ..Dims::default()
    };
    let work = run_kernel(kernels::philox_words, dims, |s| if s == Slot::X { 4 * u64::from(n) } else { 1 }, |_| {});
    let words: Vec<u32> = work.read(ctx(), Slot::X, 0, 4 * n as usize).unwrap();
    for i in 0..n as u64 {
        let index = base + i;
        let want = philox4x32_10([7, index as u32, (index >> 32) as u32, 0x0501], key);
        assert_eq!(&words[4 * i as usize..4 * i as usize + 4], &want, "sample index {index}");
    }
}

fn close(got: f32, want: f32, tol: f32, what: &str) {
    assert!((got - want).abs() <= tol * want.abs().max(1.0), "{what}: {got} vs {want}");
}

#[test]
fn gaussian_batches_match_the_cpu_generator() {
    let stream = Stream::new(11, 3, Role::TrainInputs);
    for (d, rows) in [(1usize, 5u32), (5, 300), (64, 70)] {
        let first = (1u64 << 32) + 17;
        let dims = Dims {
            d: d as u32,
            rows,
            x_rows: rows,
            flags: BASE_FROM_DIMS,
            base: [first as u32, (first >> 32) as u32],
            key: stream.key(),
            input_tag: stream.tag(),
            ..Dims::default()
        };
        let words = |s| {
            if s == Slot::X { u64::from(rows) * d as u64 } else { 1 }
        };
        let work = run_kernel(kernels::gaussian_batch, dims, words, |_| {});
        let gpu: Vec<f32> = work.read(ctx(), Slot::X, 0, rows as usize * d).unwrap();
        let mut cpu = vec![0f32; rows as usize * d];
        gaussian_batch(&stream, first, d, &mut cpu);
        for (i, (g, c)) in gpu.iter().zip(&cpu).enumerate() {
            close(*g, *c, 2e-5, &format!("d {d} element {i}"));
        }
    }
}

fn teacher_of(d: usize, noise: NoiseModel, null: bool, phase_noise: f32) -> Teacher {
    Teacher {
        w: secret_direction(4, 0, d).iter().map(|&v| v as f32).collect(),
        gamma_s: 2.0 * (d as f32).sqrt() / std::f32::consts::TAU.sqrt(),
        cap_m: 9,
        sigma: 0.1,
        noise,
        null,
        phase_noise,
        seed: 4,
        instance: 0,
    }
}

#[test]
fn teacher_labels_match_the_cpu_from_memory_and_in_kernel() {
    for (d, noise, null, phase_noise) in [
        (3, NoiseModel::Gaussian, false, 0.0),
        (17, NoiseModel::Uniform, false, 0.0),
        (8, NoiseModel::Laplace, true, 0.0),
        (5, NoiseModel::Gaussian, false, 0.05),
    ] {
        let t = teacher_of(d, noise, null, phase_noise);
        let rows = 300u32;
        let inputs = Stream::new(t.seed, 0, Role::TrainInputs);
        let scalars = Stream::new(t.seed, 0, Role::TrainScalars);
        let (mut x, mut inner) = (vec![0f32; rows as usize * d], vec![0f32; rows as usize]);
        gaussian_rows(&inputs, 0, d, &mut x, Some((&t.w, &mut inner)));
        let (mut targets, mut labels) = (vec![0f32; rows as usize], vec![0f32; rows as usize]);
        teacher(&t, &scalars, 0, &inner, &mut targets, &mut labels);
        for fresh in [false, true] {
            let dims = Dims {
                d: d as u32,
                rows,
                x_rows: rows,
                flags: BASE_FROM_DIMS,
                key: inputs.key(),
                input_tag: inputs.tag(),
                scalar_tag: scalars.tag(),
                gamma_s: t.gamma_s,
                cap_m: t.cap_m as f32,
                sigma: t.sigma,
                noise: noise as u32,
                null_labels: u32::from(null),
                phase_noise,
                ..Dims::default()
            };
            let words = |s| match s {
                Slot::X => x.len() as u64,
                Slot::TargetsLabels => 2 * u64::from(rows),
                Slot::Secret => d as u64,
                _ => 1,
            };
            let launch: Launcher = if fresh {
                |ctx, group, dims| kernels::teacher(ctx, group, dims, true)
            } else {
                |ctx, group, dims| kernels::teacher(ctx, group, dims, false)
            };
            let work = run_kernel(launch, dims, words, |w| {
                w.write(ctx(), Slot::X, &x);
                w.write(ctx(), Slot::Secret, &t.w);
            });
            let gpu: Vec<f32> = work.read(ctx(), Slot::TargetsLabels, 0, 2 * rows as usize).unwrap();
            for i in 0..rows as usize {
                close(gpu[i], targets[i], 1e-4, &format!("{noise:?} fresh={fresh} target {i}"));
                close(gpu[rows as usize + i], labels[i], 1e-4, &format!("{noise:?} fresh={fresh} label {i}"));
            }
        }
    }
}

fn config(d: usize, width: usize, batch: usize, data: DataSource, optimizer: Optimizer) -> TrainConfig {
    let teacher = teacher_of(d, NoiseModel::Gaussian, false, 0.0);
    TrainConfig {
        d,
        width,
        batch,
        data,
        optimizer,
        schedule: LrSchedule::default(),
        directions: Directions::Trained,
        teacher,
    }
}

/// `c` with a cosine learning-rate decay over `steps` steps.
fn cosine(c: TrainConfig, steps: u64) -> TrainConfig {
    TrainConfig { schedule: LrSchedule { kind: Schedule::Cosine, steps }, ..c }
}

fn frozen(c: TrainConfig) -> TrainConfig {
    TrainConfig { directions: Directions::Frozen, ..c }
}

fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let diff: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    let norm: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    (diff / norm.max(1e-30)).sqrt()
}

fn assert_students_agree(gpu: &StudentParams, cpu: &StudentParams, tol: f64, what: &str) {
    for (name, g, c) in [("V", &gpu.v, &cpu.v), ("b", &gpu.b, &cpu.b), ("a", &gpu.a, &cpu.a)] {
        let e = rel_err(g, c);
        assert!(e <= tol, "{what}: {name} differs by {e:.2e} (relative, in norm)");
    }
    assert!((gpu.c - cpu.c).abs() as f64 <= tol * cpu.c.abs().max(0.1) as f64, "{what}: c {} vs {}", gpu.c, cpu.c);
}

#[test]
fn forward_and_backward_kernels_match_the_cpu_on_the_same_batch_in_every_gemm_variant() {
    // Shapes off every tile edge (64 and 128): one tile, several, and ragged last tiles in rows,
    // neurons and coordinates.
    let shapes = [(1, 1, 3), (5, 7, 70), (19, 70, 130), (64, 65, 64), (130, 150, 200)];
    let variants: Vec<GemmVariant> = GemmVariant::ALL.into_iter().filter(|v| v.runs_on(ctx())).collect();
    assert_eq!(variants, GemmVariant::ALL, "lavapipe (subgroups of 8) runs every variant");
    for ((d, k, b), gemm) in shapes.into_iter().flat_map(|s| variants.iter().map(move |&v| (s, v))) {
        let cfg = config(d, k, b, DataSource::Online, Optimizer::Sgd { lr: 0.5 });
        let init = StudentParams::standard_init(d, k, 1, 0);
        let options = GpuOptions { gemm: Some(gemm), ..GpuOptions::default() };
        let mut gpu = GpuTrainer::new(ctx(), &cfg, &init, options).unwrap();
        assert_eq!(gpu.gemm_variant(), gemm);
        gpu.run_phase(Phase::Generate, 1).unwrap();
        gpu.run_phase(Phase::Forward, 1).unwrap();
        let work = gpu.workspace();
        let x: Vec<f32> = work.read(ctx(), Slot::X, 0, b * d).unwrap();
        let labels: Vec<f32> = work.read(ctx(), Slot::TargetsLabels, b as u64, b).unwrap();
        let z_gpu: Vec<f32> = work.read(ctx(), Slot::Z, 0, b * k).unwrap();
        let g_gpu: Vec<f32> = work.read(ctx(), Slot::G, 0, b).unwrap();
        // CPU reference on the GPU's own batch.
        let (mut z, mut g) = (vec![0f32; b * k], vec![0f32; b]);
        step::forward(&init, &x, &mut z, &mut g);
        step::residuals(&mut g, &labels, b);
        assert!(rel_err(&z_gpu, &z) < 1e-5, "({d},{k},{b}) {gemm} Z: {:.2e}", rel_err(&z_gpu, &z));
        assert!(rel_err(&g_gpu, &g) < 1e-5, "({d},{k},{b}) {gemm} g: {:.2e}", rel_err(&g_gpu, &g));
        gpu.run_phase(Phase::Backward, 1).unwrap();
        let mut grads = Grads::zeros(d, k);
        let mut partials = vec![0f32; 32 * k];
        step::head_grads(&init, &g, &mut z, &mut grads, &mut partials);
        step::hidden_grad(&z, &x, b, d, k, &mut grads.v);
        let mut want = init.clone();
        step::apply_update(cfg.optimizer, None, &mut want, &grads, 1);
        assert_students_agree(&gpu.student().unwrap(), &want, 1e-5, &format!("one backward ({d},{k},{b}) {gemm}"));
    }
}

#[test]
fn fifty_steps_agree_with_the_cpu_backend() {
    let fused = GpuOptions { fused_sampling: true, ..GpuOptions::default() };
    let chunked = GpuOptions { max_chunk_rows: Some(256), ..GpuOptions::default() };
    // In-kernel inputs in the large-tile variant (its staging loop generates x twice per pass).
    let fused_wide = GpuOptions { fused_sampling: true, gemm: Some(GemmVariant::ALL[1]), ..GpuOptions::default() };
    let cases = [
        (config(1, 1, 3, DataSource::Online, Optimizer::Sgd { lr: 0.05 }), GpuOptions::default()),
        (config(6, 33, 300, DataSource::Online, Optimizer::Sgd { lr: 0.1 }), GpuOptions::default()),
        (config(6, 33, 300, DataSource::Online, Optimizer::Sgd { lr: 0.1 }), fused),
        (config(6, 33, 300, DataSource::Online, Optimizer::adam(1e-3)), GpuOptions::default()),
        (config(6, 33, 300, DataSource::Online, Optimizer::adam(1e-3)), fused),
        (config(6, 33, 300, DataSource::Online, Optimizer::adam(1e-3)), fused_wide),
        (config(9, 20, 600, DataSource::Online, Optimizer::adam(1e-3)), chunked),
        (config(9, 20, 600, DataSource::Online, Optimizer::Sgd { lr: 0.1 }), chunked),
        (config(7, 40, 100, DataSource::Fixed { m: 250 }, Optimizer::Sgd { lr: 0.1 }), GpuOptions::default()),
        // A cosine decay over 60 steps (50 run: the rate has fallen to 7% of lr by the last).
        (cosine(config(6, 33, 300, DataSource::Online, Optimizer::Sgd { lr: 0.1 }), 60), GpuOptions::default()),
        (cosine(config(6, 33, 300, DataSource::Online, Optimizer::adam(1e-3)), 60), fused),
        // The direction-known control's frozen directions: V must not move on either backend.
        (frozen(config(6, 33, 300, DataSource::Online, Optimizer::Sgd { lr: 0.1 })), GpuOptions::default()),
        (frozen(config(9, 20, 600, DataSource::Online, Optimizer::adam(1e-3))), chunked),
    ];
    for (cfg, options) in cases {
        let what = format!(
            "d {} k' {} B {} {:?} {:?} {:?} {:?}",
            cfg.d, cfg.width, cfg.batch, cfg.data, cfg.schedule, cfg.directions, options
        );
        let init = StudentParams::standard_init(cfg.d, cfg.width, 2, 0);
        let mut gpu = GpuTrainer::new(ctx(), &cfg, &init, options).unwrap();
        let mut cpu = CpuTrainer::new(&cfg, &init).unwrap();
        let tol = 1e-3;
        let (lg, lc) = (gpu.steps(50).unwrap(), cpu.steps(50).unwrap());
        let (sg, sc) = (gpu.student().unwrap(), cpu.student().unwrap());
        eprintln!("{what}: loss {lg} vs {lc}; V {:.2e}, a {:.2e}", rel_err(&sg.v, &sc.v), rel_err(&sg.a, &sc.a));
        assert!((lg - lc).abs() <= tol as f32 * lc.abs().max(1e-3), "{what}: loss {lg} vs {lc}");
        assert_ne!(sc, init, "{what}: training changed nothing");
        if cfg.directions == Directions::Frozen {
            assert!(sg.v == init.v && sc.v == init.v, "{what}: frozen directions moved");
        }
        assert_students_agree(&sg, &sc, tol, &what);
        for view in [View::Learning, View::Observed] {
            let (eg, ec) = (gpu.evaluate(700, 0.25, view).unwrap(), cpu.evaluate(700, 0.25, view).unwrap());
            assert_eq!(eg.n, 700);
            let what = format!("{what}, {view:?} view: eval {eg:?} vs {ec:?}");
            assert!((eg.mse_student - ec.mse_student).abs() <= 1e-3 * ec.mse_student, "{what}");
            assert!((eg.mse_trivial - ec.mse_trivial).abs() <= 1e-4 * ec.mse_trivial, "{what}");
            assert!((eg.var_target - ec.var_target).abs() <= 1e-3 * ec.var_target, "{what}");
        }
        // The labels carry the noise σ² on top of the target's variance: the views differ.
        let (f, l) =
            (cpu.evaluate(700, 0.25, View::Learning).unwrap(), cpu.evaluate(700, 0.25, View::Observed).unwrap());
        assert!(l.var_target > f.var_target, "{what}: Var ℓ {} vs Var f {}", l.var_target, f.var_target);
    }
}

#[test]
fn the_tuner_times_every_fitting_variant_keeps_the_fastest_and_caches_it() {
    let cfg = config(20, 70, 300, DataSource::Online, Optimizer::Sgd { lr: 0.1 });
    let tuning = tune::measure(ctx(), &cfg, &GpuOptions::default()).unwrap();
    let How::Timed { ms_per_step, disagreed, .. } = &tuning.how else { panic!("not timed: {tuning}") };
    let runs: Vec<GemmVariant> = GemmVariant::ALL.into_iter().filter(|v| v.runs_on(ctx())).collect();
    assert!(runs.len() >= 3, "lavapipe runs the three workgroup-memory variants: {runs:?}");
    assert!(disagreed.is_empty(), "every variant agrees with the default on lavapipe: {tuning}");
    assert_eq!(ms_per_step.iter().map(|(v, _)| *v).collect::<Vec<_>>(), runs, "{tuning}");
    assert!(ms_per_step.iter().all(|(_, ms)| ms.is_finite() && *ms > 0.0), "{tuning}");
    let fastest = ms_per_step.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
    assert_eq!(tuning.variant, fastest, "{tuning}");
    // The disk cache gives the choice back, per adapter and shape class.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("gemm-tuning.json");
    let class = tune::ShapeClass::of(&cfg, &GpuOptions::default());
    let mut cache = TuningCache::load(&path).unwrap();
    assert_eq!(cache.get("adapter", class), None);
    cache.insert("adapter", class, tuning.clone());
    cache.save(&path).unwrap();
    let back = TuningCache::load(&path).unwrap();
    assert_eq!(back.get("adapter", class), Some(tuning));
    assert_eq!(back.get("another adapter", class), None);
}

#[test]
fn a_software_adapter_gets_the_default_variant_and_says_so_in_its_results() {
    if std::env::var_os("CLWE_BENCH_TUNE").is_some() {
        return; // the policy is the environment's; this checks the default one
    }
    let cfg = config(8, 16, 64, DataSource::Online, Optimizer::Sgd { lr: 0.1 });
    let init = StudentParams::standard_init(8, 16, 1, 0);
    let trainer = GpuTrainer::new(ctx(), &cfg, &init, GpuOptions::default()).unwrap();
    assert_eq!(trainer.gemm_variant(), GemmVariant::DEFAULT);
    let summary = tune::summary(ctx());
    assert!(summary.contains("d<=8 k'<=16 B<=64") && summary.contains("software adapter"), "{summary}");
}
