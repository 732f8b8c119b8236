//! One SGD/Adam step of the student on the CPU, as the kernels the GPU runs:
//! `forward` (Z = X·Vᵀ + b, fused ReLU and output layer), `residuals`, `head_grads` (dc, db, da
//! and D = g·aᵀ ⊙ 𝟙(Z > 0) in place of Z), `hidden_grad` (dV = Dᵀ·X) and `apply_update`.
//! Matrix products go to [`super::gemm::sgemm`]; the elementwise kernels are compiled for the CPU's
//! vector extensions ([`crate::multiversion!`]) and spread over rayon's threads.

use rayon::prelude::*;

use super::gemm::{Operand, sgemm};
use super::generate::{ROWS_PER_TASK, gaussian_rows};
use super::teacher::teacher;
use crate::backends::{
    DataSource, Directions, EvalSums, Evaluation, Optimizer, Phase, PhaseTiming, StudentParams, TrainConfig, Trainer,
    View,
};
use crate::error::Error;
use crate::multiversion;
use crate::sampling::streams::{Role, Stream};

/// Row blocks of the column reductions: fixed, so sums do not depend on the thread count.
const REDUCTION_PARTS: usize = 16;
/// Parameters per parallel update task.
const UPDATE_CHUNK: usize = 1 << 14;
/// Test rows evaluated per chunk.
const EVAL_CHUNK: usize = 4096;

/// Partial sums of the output layer's row sum: unit j adds into partial j mod SUM_LANES, and
/// the partials are added in order at the end, so the sum vectorises (one chain of k'
/// dependent additions per row set the pace before) and its order stays fixed.
const SUM_LANES: usize = 32;

multiversion! {
/// z_ij += b_j and p_i = c + Σ_j a_j ReLU(z_ij) for a block of rows (the sum in
/// [`SUM_LANES`] partials).
fn forward_epilogue(b: &[f32], a: &[f32], c: f32, z: &mut [f32], p: &mut [f32]) {
    let k = b.len();
    let a = &a[..k];
    for (z, p) in z.chunks_mut(k).zip(p) {
        let mut partial = [0f32; SUM_LANES];
        for ((z, b), a) in z[..k].chunks_mut(SUM_LANES).zip(b.chunks(SUM_LANES)).zip(a.chunks(SUM_LANES)) {
            // A whole chunk passes the constant SUM_LANES (two inlined copies), so its lanes unroll.
            if z.len() == SUM_LANES {
                add_bias_and_output(&mut z[..SUM_LANES], &b[..SUM_LANES], &a[..SUM_LANES], &mut partial);
            } else {
                add_bias_and_output(z, b, a, &mut partial);
            }
        }
        *p = c + partial.iter().sum::<f32>();
    }
}
}

/// z_j += b_j and partial_j += a_j ReLU(z_j) for the units of one chunk.
#[inline(always)]
fn add_bias_and_output(z: &mut [f32], b: &[f32], a: &[f32], partial: &mut [f32; SUM_LANES]) {
    for (((z, b), a), partial) in z.iter_mut().zip(b).zip(a).zip(partial) {
        *z += b;
        *partial += a * z.max(0.0);
    }
}

multiversion! {
/// For a block of rows: da += g_i ReLU(z_i·), db += D_i·, and z_i· ← D_i· = g_i a ⊙ 1[z_i· > 0].
fn accumulate_output_grads(a: &[f32], g: &[f32], z: &mut [f32], da: &mut [f32], db: &mut [f32]) {
    let k = a.len();
    for (z, &gi) in z.chunks_mut(k).zip(g) {
        // Equal-length slices: the bounds checks vanish and the loop vectorises.
        let (z, da, db) = (&mut z[..k], &mut da[..k], &mut db[..k]);
        for j in 0..k {
            let h = z[j].max(0.0);
            da[j] += gi * h;
            let dij = if h > 0.0 { gi * a[j] } else { 0.0 };
            db[j] += dij;
            z[j] = dij;
        }
    }
}
}

multiversion! {
/// p ← p − lr·g.
fn sgd_update(p: &mut [f32], g: &[f32], lr: f32) {
    p.iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g);
}
}

multiversion! {
/// Adam on a block; `h` = [lr, β₁, β₂, ε, 1 − β₁ᵗ, 1 − β₂ᵗ].
fn adam_update(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], h: [f32; 6]) {
    let [lr, beta1, beta2, eps, c1, c2] = h;
    for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = beta1 * *m + (1.0 - beta1) * g;
        *v = beta2 * *v + (1.0 - beta2) * g * g;
        *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
    }
}
}

/// Z = X·Vᵀ + b (rows×k') and p_i = c + Σ_j a_j ReLU(z_ij).
pub fn forward(s: &StudentParams, x: &[f32], z: &mut [f32], p: &mut [f32]) {
    let (d, k) = (s.d, s.width());
    let rows = p.len();
    sgemm(rows, d, k, Operand::row_major(x, d), Operand::col_major(&s.v, d), &mut z[..rows * k]);
    let rows_per_task = (rows / (4 * rayon::current_num_threads())).max(1);
    z[..rows * k]
        .par_chunks_mut(rows_per_task * k)
        .zip(p.par_chunks_mut(rows_per_task))
        .for_each(|(z, p)| forward_epilogue(&s.b, &s.a, s.c, z, p));
}

/// Overwrites p with g_i = (p_i − ℓ_i)/batch; returns Σ (p_i − ℓ_i)².
pub fn residuals(p: &mut [f32], labels: &[f32], batch: usize) -> f64 {
    let inv = 1.0 / batch as f32;
    p.iter_mut().zip(labels).fold(0.0, |acc, (p, l)| {
        let r = *p - l;
        *p = r * inv;
        acc + f64::from(r) * f64::from(r)
    })
}

/// Gradients of the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// ∂/∂V (k'×d).
    pub v: Vec<f32>,
    /// ∂/∂b.
    pub b: Vec<f32>,
    /// ∂/∂a.
    pub a: Vec<f32>,
    /// ∂/∂c.
    pub c: f32,
}

impl Grads {
    /// Zero gradients for a student of width `k` and dimension `d`.
    pub fn zeros(d: usize, k: usize) -> Self {
        Self { v: vec![0.0; k * d], b: vec![0.0; k], a: vec![0.0; k], c: 0.0 }
    }
}

/// dc = Σ g_i, da_j = Σ_i g_i ReLU(z_ij), db_j = Σ_i D_ij, and Z ← D = g·aᵀ ⊙ 𝟙(Z > 0).
/// `partials` is scratch of length ≥ 2·REDUCTION_PARTS·k'.
pub fn head_grads(s: &StudentParams, g: &[f32], z: &mut [f32], grads: &mut Grads, partials: &mut [f32]) {
    let k = s.width();
    let rows = g.len();
    let rows_per_part = rows.div_ceil(REDUCTION_PARTS).max(1);
    let parts = &mut partials[..2 * REDUCTION_PARTS * k];
    parts.fill(0.0);
    parts
        .par_chunks_mut(2 * k)
        .zip(z[..rows * k].par_chunks_mut(rows_per_part * k))
        .zip(g.par_chunks(rows_per_part))
        .for_each(|((part, z), g)| {
            let (da, db) = part.split_at_mut(k);
            accumulate_output_grads(&s.a, g, z, da, db)
        });
    grads.a.fill(0.0);
    grads.b.fill(0.0);
    for part in parts.chunks(2 * k) {
        grads.a.iter_mut().zip(&part[..k]).for_each(|(a, p)| *a += p);
        grads.b.iter_mut().zip(&part[k..]).for_each(|(b, p)| *b += p);
    }
    grads.c = g.iter().sum();
}

/// dV = Dᵀ·X (k'×d) for D (rows×k') and X (rows×d).
pub fn hidden_grad(d_mat: &[f32], x: &[f32], rows: usize, d: usize, k: usize, dv: &mut [f32]) {
    sgemm(k, rows, d, Operand::col_major(d_mat, k), Operand::row_major(x, d), dv);
}

/// Adam's moment estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamState {
    m: Grads,
    v: Grads,
}

/// One update of `s` with `grads` at step `t` (1-based, for Adam's bias correction).
pub fn apply_update(opt: Optimizer, adam: Option<&mut AdamState>, s: &mut StudentParams, grads: &Grads, t: u64) {
    match (opt, adam) {
        (Optimizer::Sgd { lr }, _) => {
            let sgd = |p: &mut [f32], g: &[f32]| {
                p.par_chunks_mut(UPDATE_CHUNK).zip(g.par_chunks(UPDATE_CHUNK)).for_each(|(p, g)| sgd_update(p, g, lr))
            };
            sgd(&mut s.v, &grads.v);
            sgd(&mut s.b, &grads.b);
            sgd(&mut s.a, &grads.a);
            s.c -= lr * grads.c;
        }
        (Optimizer::Adam { lr, beta1, beta2, eps }, Some(state)) => {
            let h = [lr, beta1, beta2, eps, 1.0 - beta1.powi(t as i32), 1.0 - beta2.powi(t as i32)];
            let each = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
                p.par_chunks_mut(UPDATE_CHUNK)
                    .zip(g.par_chunks(UPDATE_CHUNK))
                    .zip(m.par_chunks_mut(UPDATE_CHUNK).zip(v.par_chunks_mut(UPDATE_CHUNK)))
                    .for_each(|((p, g), (m, v))| adam_update(p, g, m, v, h));
            };
            each(&mut s.v, &grads.v, &mut state.m.v, &mut state.v.v);
            each(&mut s.b, &grads.b, &mut state.m.b, &mut state.v.b);
            each(&mut s.a, &grads.a, &mut state.m.a, &mut state.v.a);
            adam_update(
                std::slice::from_mut(&mut s.c),
                &[grads.c],
                std::slice::from_mut(&mut state.m.c),
                std::slice::from_mut(&mut state.v.c),
                h,
            );
        }
        (Optimizer::Adam { .. }, None) => unreachable!("an Adam trainer carries its state"),
    }
}

/// Inputs, their inner products with the teacher's w, targets and labels of a batch of rows.
struct Batch {
    x: Vec<f32>,
    inner: Vec<f32>,
    targets: Vec<f32>,
    labels: Vec<f32>,
}

impl Batch {
    fn new(rows: usize, d: usize) -> Self {
        Self { x: vec![0.0; rows * d], inner: vec![0.0; rows], targets: vec![0.0; rows], labels: vec![0.0; rows] }
    }

    /// Keeps the first `rows` rows.
    fn truncate(&mut self, rows: usize, d: usize) {
        self.x.truncate(rows * d);
        for v in [&mut self.inner, &mut self.targets, &mut self.labels] {
            v.truncate(rows);
        }
    }

    /// Samples `first ..` of the `inputs`/`scalars` streams: each task draws its rows, their
    /// inner products with w (which the null's labels do not read), then their labels, so
    /// sampling is one pass over the threads.
    fn draw(&mut self, config: &TrainConfig, inputs: &Stream, scalars: &Stream, first: u64) {
        let (d, t) = (config.d, &config.teacher);
        self.x
            .par_chunks_mut(ROWS_PER_TASK * d)
            .zip(self.inner.par_chunks_mut(ROWS_PER_TASK))
            .zip(self.targets.par_chunks_mut(ROWS_PER_TASK))
            .zip(self.labels.par_chunks_mut(ROWS_PER_TASK))
            .enumerate()
            .for_each(|(task, (((x, inner), targets), labels))| {
                let first = first + (task * ROWS_PER_TASK) as u64;
                gaussian_rows(inputs, first, d, x, (!t.null).then_some((t.w.as_slice(), &mut *inner)));
                teacher(t, scalars, first, inner, targets, labels);
            });
    }
}

/// The batch of the current step: a training set of exactly one batch is used in place.
fn current_batch<'a>(fixed: &'a Option<Batch>, batch: &'a Batch) -> &'a Batch {
    match fixed {
        Some(set) if set.labels.len() == batch.labels.len() => set,
        _ => batch,
    }
}

/// The CPU trainer: preallocated buffers, nothing allocated per step.
pub struct CpuTrainer {
    config: TrainConfig,
    student: StudentParams,
    adam: Option<AdamState>,
    steps: u64,
    batch: Batch,
    fixed: Option<Batch>,
    z: Vec<f32>,
    g: Vec<f32>,
    grads: Grads,
    partials: Vec<f32>,
    inputs: Stream,
    scalars: Stream,
    loss: f32,
}

impl CpuTrainer {
    /// A trainer for `config` from `init`.
    pub fn new(config: &TrainConfig, init: &StudentParams) -> Result<Self, Error> {
        config.validate()?;
        let (d, k, b) = (config.d, config.width, config.batch);
        let t = &config.teacher;
        let inputs = Stream::new(t.seed, t.instance, Role::TrainInputs);
        let scalars = Stream::new(t.seed, t.instance, Role::TrainScalars);
        let fixed = match config.data {
            DataSource::Online => None,
            DataSource::Fixed { m } => {
                let mut set = Batch::new(m as usize, d);
                set.draw(config, &inputs, &scalars, 0);
                Some(set)
            }
        };
        let zeros = || Grads::zeros(d, k);
        Ok(Self {
            config: config.clone(),
            student: init.clone(),
            adam: matches!(config.optimizer, Optimizer::Adam { .. }).then(|| AdamState { m: zeros(), v: zeros() }),
            steps: 0,
            batch: Batch::new(b, d),
            fixed,
            z: vec![0.0; b.max(EVAL_CHUNK) * k],
            g: vec![0.0; b.max(EVAL_CHUNK)],
            grads: zeros(),
            partials: vec![0.0; 2 * REDUCTION_PARTS * k],
            inputs,
            scalars,
            loss: f32::NAN,
        })
    }

    /// Fills the batch of step `self.steps` (a training set of exactly one batch is used in place).
    fn load_batch(&mut self) {
        let (b, d) = (self.config.batch, self.config.d);
        let first = self.steps * b as u64;
        match &self.fixed {
            None => self.batch.draw(&self.config, &self.inputs, &self.scalars, first),
            Some(set) if set.labels.len() == b => {}
            Some(set) => {
                let m = set.labels.len() as u64;
                for i in 0..b {
                    let row = ((first + i as u64) % m) as usize;
                    self.batch.x[i * d..(i + 1) * d].copy_from_slice(&set.x[row * d..(row + 1) * d]);
                    self.batch.labels[i] = set.labels[row];
                }
            }
        }
    }

    /// Forward and residuals on the current batch; records the loss.
    fn forward_residuals(&mut self) {
        let b = self.config.batch;
        let batch = current_batch(&self.fixed, &self.batch);
        let g = &mut self.g[..b];
        forward(&self.student, &batch.x, &mut self.z, g);
        self.loss = (0.5 * residuals(g, &batch.labels, b) / b as f64) as f32;
    }

    /// Gradients from the residuals and Z of the current batch, and the update.
    fn backward_update(&mut self) {
        let (b, d, k) = (self.config.batch, self.config.d, self.config.width);
        head_grads(&self.student, &self.g[..b], &mut self.z, &mut self.grads, &mut self.partials);
        // Frozen directions keep dV = 0, which leaves V unchanged under SGD and Adam alike.
        if self.config.directions == Directions::Trained {
            hidden_grad(&self.z, &current_batch(&self.fixed, &self.batch).x, b, d, k, &mut self.grads.v);
        }
        let optimizer = self.config.optimizer.scaled(self.config.schedule.factor(self.steps));
        apply_update(optimizer, self.adam.as_mut(), &mut self.student, &self.grads, self.steps + 1);
    }
}

impl Trainer for CpuTrainer {
    fn run_phase(&mut self, phase: Phase, iters: u64) -> Result<PhaseTiming, Error> {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            match phase {
                Phase::Generate => self.load_batch(),
                Phase::Forward => self.forward_residuals(),
                Phase::Backward => self.backward_update(),
                Phase::Step => {
                    self.load_batch();
                    self.forward_residuals();
                    self.backward_update();
                    self.steps += 1;
                    if !self.loss.is_finite() {
                        break;
                    }
                }
            }
        }
        Ok(PhaseTiming { wall: start.elapsed(), device: None })
    }

    fn last_loss(&mut self) -> Result<f32, Error> {
        Ok(self.loss)
    }

    fn steps_done(&self) -> u64 {
        self.steps
    }

    fn evaluate(&mut self, n_test: u64, trivial: f32, view: View) -> Result<Evaluation, Error> {
        let t = &self.config.teacher;
        let inputs = Stream::new(t.seed, t.instance, Role::TestInputs);
        let scalars = Stream::new(t.seed, t.instance, Role::TestScalars);
        let d = self.config.d;
        let mut sums = EvalSums::default();
        let mut batch = Batch::new(EVAL_CHUNK, d);
        for first in (0..n_test).step_by(EVAL_CHUNK) {
            let rows = (n_test - first).min(EVAL_CHUNK as u64) as usize;
            batch.truncate(rows, d);
            batch.draw(&self.config, &inputs, &scalars, first);
            let p = &mut self.g[..rows];
            forward(&self.student, &batch.x, &mut self.z, p);
            let reference = match view {
                View::Learning => &batch.targets,
                View::Observed => &batch.labels,
            };
            sums.add(&evaluate(p, reference, trivial));
        }
        Ok(sums.finish())
    }

    fn student(&mut self) -> Result<StudentParams, Error> {
        Ok(self.student.clone())
    }
}

/// The evaluation sums of predictions `p` against `targets`, in f64.
pub fn evaluate(p: &[f32], targets: &[f32], trivial: f32) -> EvalSums {
    p.iter().zip(targets).fold(EvalSums::default(), |mut s, (&p, &f)| {
        let (es, et) = ((f64::from(p) - f64::from(f)).powi(2), (f64::from(trivial) - f64::from(f)).powi(2));
        s.n += 1;
        s.student_sq += es;
        s.trivial_sq += et;
        s.diff_sq += (et - es).powi(2);
        s.target += f64::from(f);
        s.target_sq += f64::from(f) * f64::from(f);
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::cpu::generate::gaussian_batch;
    use crate::backends::{LrSchedule, Teacher};
    use crate::math::target::CappedTriangle;
    use crate::params::NoiseModel;

    fn loss_f64(s: &StudentParams, x: &[f32], labels: &[f32]) -> f64 {
        let n = labels.len();
        x.chunks(s.d).zip(labels).map(|(x, l)| (s.eval(x) - f64::from(*l)).powi(2)).sum::<f64>() / (2.0 * n as f64)
    }

    fn gradients(s: &StudentParams, x: &[f32], labels: &[f32]) -> Grads {
        let (b, k) = (labels.len(), s.width());
        let (mut z, mut g) = (vec![0.0; b * k], vec![0.0; b]);
        forward(s, x, &mut z, &mut g);
        residuals(&mut g, labels, b);
        let mut grads = Grads::zeros(s.d, k);
        head_grads(s, &g, &mut z, &mut grads, &mut vec![0.0; 2 * REDUCTION_PARTS * k]);
        hidden_grad(&z, x, b, s.d, k, &mut grads.v);
        grads
    }

    /// The forward pass against the student's f64 evaluation, at widths below, at and across
    /// the output sum's partial lanes (and rows across the product's thread split): each output
    /// within f32 rounding of Σ|a_j ReLU(z_j)| (a dropped or doubled unit errs by one term).
    #[test]
    fn forward_matches_the_f64_student_at_widths_across_the_sum_lanes() {
        let (d, rows) = (7, 37);
        let mut x = vec![0.0; rows * d];
        gaussian_batch(&Stream::new(4, 0, Role::TrainInputs), 0, d, &mut x);
        for k in [1, SUM_LANES - 1, SUM_LANES, SUM_LANES + 1, 2 * SUM_LANES + 5] {
            let mut s = StudentParams::standard_init(d, k, 4, 0);
            s.c = 0.25;
            let (mut z, mut p) = (vec![0.0; rows * k], vec![0.0; rows]);
            forward(&s, &x, &mut z, &mut p);
            // The same student with |a|: its output less c is Σ|a_j ReLU(z_j)|.
            let mut t = s.clone();
            t.a.iter_mut().for_each(|a| *a = a.abs());
            for (r, (x, &p)) in x.chunks(d).zip(&p).enumerate() {
                let scale = t.eval(x) - f64::from(t.c);
                assert!(
                    (f64::from(p) - s.eval(x)).abs() <= 1e-5 * (1.0 + scale),
                    "k {k} row {r}: {p} vs {}",
                    s.eval(x)
                );
            }
        }
    }

    /// Adds `h` to `p`; returns the new value (the f32 step taken is the difference).
    fn bump(p: &mut f32, h: f32) -> f32 {
        *p += h;
        *p
    }

    #[test]
    fn gradients_match_central_differences() {
        let (d, k, b) = (3, 5, 40);
        let s = StudentParams::standard_init(d, k, 9, 0);
        let mut x = vec![0.0; b * d];
        gaussian_batch(&Stream::new(9, 0, Role::TrainInputs), 0, d, &mut x);
        let labels: Vec<f32> = (0..b).map(|i| (i as f32 * 0.37).sin()).collect();
        let grads = gradients(&s, &x, &labels);
        // Central differences in f64 over the f32 steps actually taken (h = 1e-3 keeps kink
        // crossings rare at this size); tolerance relative to the largest gradient entry.
        let numeric = |perturb: &dyn Fn(&mut StudentParams, f32) -> f32| {
            let (mut plus, mut minus) = (s.clone(), s.clone());
            let step = perturb(&mut plus, 1e-3) - perturb(&mut minus, -1e-3);
            (loss_f64(&plus, &x, &labels) - loss_f64(&minus, &x, &labels)) / f64::from(step)
        };
        let scale = grads.v.iter().chain(&grads.b).chain(&grads.a).fold(0.0f32, |m, g| m.max(g.abs()));
        let check = |what: String, analytic: f32, numeric: f64| {
            assert!(
                (f64::from(analytic) - numeric).abs() <= 1e-3 * f64::from(scale),
                "{what}: {analytic} vs {numeric}"
            );
        };
        for j in 0..k {
            for c in 0..d {
                check(format!("dV[{j},{c}]"), grads.v[j * d + c], numeric(&|p, h| bump(&mut p.v[j * d + c], h)));
            }
            check(format!("db[{j}]"), grads.b[j], numeric(&|p, h| bump(&mut p.b[j], h)));
            check(format!("da[{j}]"), grads.a[j], numeric(&|p, h| bump(&mut p.a[j], h)));
        }
        check("dc".into(), grads.c, numeric(&|p, h| bump(&mut p.c, h)));
    }

    #[test]
    fn the_teacher_network_as_student_has_zero_loss_and_stays() {
        let d = 6;
        let w: Vec<f32> = crate::sampling::secret_direction(1, 0, d).iter().map(|&v| v as f32).collect();
        let gamma_s = 1.3f32;
        let net = CappedTriangle::new(8);
        let k = net.width();
        let teacher = Teacher {
            w: w.clone(),
            gamma_s,
            cap_m: 8,
            sigma: 0.0,
            noise: NoiseModel::Gaussian,
            null: false,
            phase_noise: 0.0,
            seed: 1,
            instance: 0,
        };
        let exact = StudentParams::capped_triangle(&w, gamma_s, net);
        let config = TrainConfig {
            d,
            width: k,
            batch: 512,
            data: DataSource::Online,
            optimizer: Optimizer::Sgd { lr: 0.1 },
            schedule: LrSchedule::default(),
            directions: Directions::Trained,
            teacher,
        };
        let mut trainer = CpuTrainer::new(&config, &exact).unwrap();
        let loss = trainer.steps(20).unwrap();
        assert!(loss < 1e-9, "loss {loss}");
        let after = trainer.student().unwrap();
        let moved = after.v.iter().zip(&exact.v).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(moved < 1e-4, "the exact network drifted by {moved}");
        let eval = trainer.evaluate(5_000, 0.25, View::Learning).unwrap();
        assert!(eval.mse_student < 1e-9 && eval.mse_trivial > 0.01, "{eval:?}");
    }

    #[test]
    fn adam_with_a_constant_gradient_moves_every_parameter_lr_per_step() {
        // With g constant, m̂ = g and v̂ = g² exactly in real arithmetic: each step is lr·sign(g).
        let (d, k, lr) = (3, 4, 1e-3);
        let mut s = StudentParams::standard_init(d, k, 1, 0);
        let start = s.clone();
        let mut grads = Grads::zeros(d, k);
        grads.v.iter_mut().enumerate().for_each(|(i, g)| *g = if i % 2 == 0 { 0.3 } else { -2.0 });
        grads.b.fill(0.01);
        grads.a.fill(-5.0);
        grads.c = 0.7;
        let mut state = AdamState { m: Grads::zeros(d, k), v: Grads::zeros(d, k) };
        for t in 1..=10 {
            apply_update(Optimizer::adam(lr), Some(&mut state), &mut s, &grads, t);
        }
        let moved = |after: f32, before: f32, g: f32| ((before - after) / (10.0 * lr) - g.signum()).abs() < 1e-3;
        assert!(s.v.iter().zip(&start.v).zip(&grads.v).all(|((a, b), g)| moved(*a, *b, *g)), "V");
        assert!(s.b.iter().zip(&start.b).zip(&grads.b).all(|((a, b), g)| moved(*a, *b, *g)), "b");
        assert!(s.a.iter().zip(&start.a).zip(&grads.a).all(|((a, b), g)| moved(*a, *b, *g)), "a");
        assert!(moved(s.c, start.c, grads.c), "c moved by {}", start.c - s.c);
    }

    /// A small planted teacher at d = 2 (σ = 0.1, seed 3).
    fn small_teacher(noise: NoiseModel) -> Teacher {
        Teacher {
            w: vec![0.6, 0.8],
            gamma_s: 1.0,
            cap_m: 6,
            sigma: 0.1,
            noise,
            null: false,
            phase_noise: 0.0,
            seed: 3,
            instance: 0,
        }
    }

    /// d = 2, k' = 16, B = 64, online, every parameter trained.
    fn small_config(teacher: &Teacher, optimizer: Optimizer, schedule: LrSchedule) -> TrainConfig {
        TrainConfig {
            d: 2,
            width: 16,
            batch: 64,
            data: DataSource::Online,
            optimizer,
            schedule,
            directions: Directions::Trained,
            teacher: teacher.clone(),
        }
    }

    #[test]
    fn frozen_directions_keep_v_and_train_the_rest() {
        let teacher = small_teacher(NoiseModel::Gaussian);
        let init = StudentParams::standard_init(2, 16, 3, 0);
        for optimizer in [Optimizer::Sgd { lr: 0.1 }, Optimizer::adam(1e-2)] {
            let config = TrainConfig {
                directions: Directions::Frozen,
                ..small_config(&teacher, optimizer, LrSchedule::default())
            };
            let mut t = CpuTrainer::new(&config, &init).unwrap();
            t.steps(20).unwrap();
            let after = t.student().unwrap();
            assert_eq!(after.v, init.v, "{optimizer:?}: V frozen");
            assert!(after.a != init.a && after.b != init.b, "{optimizer:?}: the head trains");
            let trained = TrainConfig { directions: Directions::Trained, ..config };
            let mut t = CpuTrainer::new(&trained, &init).unwrap();
            t.steps(20).unwrap();
            assert_ne!(t.student().unwrap().v, init.v, "{optimizer:?}: V trains by default");
        }
    }

    #[test]
    fn same_seed_same_trajectory() {
        let teacher = small_teacher(NoiseModel::Laplace);
        let config = TrainConfig {
            d: 2,
            width: 16,
            batch: 64,
            data: DataSource::Online,
            optimizer: Optimizer::adam(1e-2),
            schedule: LrSchedule::default(),
            directions: Directions::Trained,
            teacher,
        };
        let init = StudentParams::standard_init(2, 16, 3, 0);
        let run = || {
            let mut t = CpuTrainer::new(&config, &init).unwrap();
            t.steps(30).unwrap();
            t.student().unwrap()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn a_cosine_schedule_starts_at_the_rate_and_ends_at_rest() {
        let schedule = LrSchedule { kind: crate::backends::Schedule::Cosine, steps: 40 };
        assert_eq!((schedule.factor(0), schedule.factor(40), schedule.factor(99)), (1.0, 0.0, 0.0));
        assert!((schedule.factor(20) - 0.5).abs() < 1e-6);
        assert!((1..=40).all(|t| schedule.factor(t) <= schedule.factor(t - 1)), "non-increasing");
        assert_eq!(LrSchedule::default().factor(7), 1.0);
        let teacher = small_teacher(NoiseModel::Gaussian);
        let init = StudentParams::standard_init(2, 16, 3, 0);
        for optimizer in [Optimizer::Sgd { lr: 0.1 }, Optimizer::adam(1e-2)] {
            let config = small_config(&teacher, optimizer, schedule);
            let constant = TrainConfig { schedule: LrSchedule::default(), ..config.clone() };
            let after = |c: &TrainConfig, steps: u64| {
                let mut t = CpuTrainer::new(c, &init).unwrap();
                t.steps(steps).unwrap();
                t.student().unwrap()
            };
            assert_eq!(after(&config, 1), after(&constant, 1), "{optimizer:?}: step 0 runs at the full rate");
            assert_ne!(after(&config, 5), after(&constant, 5), "{optimizer:?}: later steps are slower");
            assert_eq!(after(&config, 40), after(&config, 41), "{optimizer:?}: step T runs at rate 0");
        }
    }
}
