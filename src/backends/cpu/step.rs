//! One SGD/Adam step of the student on the CPU, as the kernels the GPU runs:
//! `forward` (Z = X·Vᵀ + b, fused ReLU and output layer), `residuals`, `output_grads` (dc, db, da
//! and D = g·aᵀ ⊙ 1[Z > 0] in place of Z), `hidden_grad` (dV = Dᵀ·X) and `apply_update`.

use rayon::prelude::*;

use super::generate::fill_normals;
use super::teacher::label_rows;
use crate::backends::{
    DataSource, EngineError, EvalSums, Evaluation, Optimizer, StudentParams, TrainConfig, Trainer,
};
use crate::sampling::streams::{Role, Stream};

/// Row blocks of the column reductions: fixed, so sums do not depend on the thread count.
const REDUCTION_PARTS: usize = 16;
/// Test rows evaluated per chunk.
const EVAL_CHUNK: usize = 4096;

/// C (m×n, row-major) = A·B with A and B given by row and column strides.
#[allow(clippy::too_many_arguments)]
fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    c: &mut [f32],
) {
    assert!(
        a.len() >= (m - 1) * rsa + (k - 1) * csa + 1
            && b.len() >= (k - 1) * rsb + (n - 1) * csb + 1
    );
    assert!(c.len() >= m * n);
    // SAFETY: the asserts bound every index the product touches.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Z = X·Vᵀ + b (rows×k') and p_i = c + Σ_j a_j ReLU(z_ij).
pub fn forward(s: &StudentParams, x: &[f32], z: &mut [f32], p: &mut [f32]) {
    let (d, k) = (s.d, s.width());
    let rows = p.len();
    sgemm(rows, d, k, x, d, 1, &s.v, 1, d, &mut z[..rows * k]);
    z[..rows * k]
        .par_chunks_mut(k)
        .zip(p.par_iter_mut())
        .for_each(|(z, p)| {
            let mut out = s.c;
            for ((z, b), a) in z.iter_mut().zip(&s.b).zip(&s.a) {
                *z += b;
                out += a * z.max(0.0);
            }
            *p = out;
        });
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
        Self {
            v: vec![0.0; k * d],
            b: vec![0.0; k],
            a: vec![0.0; k],
            c: 0.0,
        }
    }
}

/// dc = Σ g_i, da_j = Σ_i g_i ReLU(z_ij), db_j = Σ_i D_ij, and Z ← D = g·aᵀ ⊙ 1[Z > 0].
/// `partials` is scratch of length ≥ 2·REDUCTION_PARTS·k'.
pub fn output_grads(
    s: &StudentParams,
    g: &[f32],
    z: &mut [f32],
    grads: &mut Grads,
    partials: &mut [f32],
) {
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
            for (z, &gi) in z.chunks_mut(k).zip(g) {
                for j in 0..k {
                    let h = z[j].max(0.0);
                    da[j] += gi * h;
                    let dij = if h > 0.0 { gi * s.a[j] } else { 0.0 };
                    db[j] += dij;
                    z[j] = dij;
                }
            }
        });
    grads.a.fill(0.0);
    grads.b.fill(0.0);
    for part in parts.chunks(2 * k) {
        grads
            .a
            .iter_mut()
            .zip(&part[..k])
            .for_each(|(a, p)| *a += p);
        grads
            .b
            .iter_mut()
            .zip(&part[k..])
            .for_each(|(b, p)| *b += p);
    }
    grads.c = g.iter().sum();
}

/// dV = Dᵀ·X (k'×d) for D (rows×k') and X (rows×d).
pub fn hidden_grad(d_mat: &[f32], x: &[f32], rows: usize, d: usize, k: usize, dv: &mut [f32]) {
    sgemm(k, rows, d, d_mat, 1, k, x, d, 1, dv);
}

/// Adam's moment estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamState {
    m: Grads,
    v: Grads,
}

/// One update of `s` with `grads` at step `t` (1-based, for Adam's bias correction).
pub fn apply_update(
    opt: Optimizer,
    adam: Option<&mut AdamState>,
    s: &mut StudentParams,
    grads: &Grads,
    t: u64,
) {
    match (opt, adam) {
        (Optimizer::Sgd { lr }, _) => {
            let sgd =
                |p: &mut [f32], g: &[f32]| p.par_iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g);
            sgd(&mut s.v, &grads.v);
            sgd(&mut s.b, &grads.b);
            sgd(&mut s.a, &grads.a);
            s.c -= lr * grads.c;
        }
        (
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            },
            Some(state),
        ) => {
            let (c1, c2) = (1.0 - beta1.powi(t as i32), 1.0 - beta2.powi(t as i32));
            let adam = |p: &mut f32, g: f32, m: &mut f32, v: &mut f32| {
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            };
            let each = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
                p.par_iter_mut()
                    .zip(g)
                    .zip(m.par_iter_mut().zip(v.par_iter_mut()))
                    .for_each(|((p, g), (m, v))| adam(p, *g, m, v));
            };
            each(&mut s.v, &grads.v, &mut state.m.v, &mut state.v.v);
            each(&mut s.b, &grads.b, &mut state.m.b, &mut state.v.b);
            each(&mut s.a, &grads.a, &mut state.m.a, &mut state.v.a);
            adam(&mut s.c, grads.c, &mut state.m.c, &mut state.v.c);
        }
        (Optimizer::Adam { .. }, None) => unreachable!("an Adam trainer carries its state"),
    }
}

/// Inputs, targets and labels of a batch of rows.
struct Batch {
    x: Vec<f32>,
    targets: Vec<f32>,
    labels: Vec<f32>,
}

impl Batch {
    fn new(rows: usize, d: usize) -> Self {
        Self {
            x: vec![0.0; rows * d],
            targets: vec![0.0; rows],
            labels: vec![0.0; rows],
        }
    }

    /// Samples `first ..` of the `inputs`/`scalars` streams.
    fn draw(&mut self, config: &TrainConfig, inputs: &Stream, scalars: &Stream, first: u64) {
        fill_normals(inputs, first, config.d, &mut self.x);
        label_rows(
            &config.teacher,
            scalars,
            first,
            &self.x,
            &mut self.targets,
            &mut self.labels,
        );
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
}

impl CpuTrainer {
    /// A trainer for `config` from `init`.
    pub fn new(config: &TrainConfig, init: &StudentParams) -> Result<Self, EngineError> {
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
            adam: matches!(config.optimizer, Optimizer::Adam { .. }).then(|| AdamState {
                m: zeros(),
                v: zeros(),
            }),
            steps: 0,
            batch: Batch::new(b, d),
            fixed,
            z: vec![0.0; b.max(EVAL_CHUNK) * k],
            g: vec![0.0; b.max(EVAL_CHUNK)],
            grads: zeros(),
            partials: vec![0.0; 2 * REDUCTION_PARTS * k],
            inputs,
            scalars,
        })
    }

    /// Fills the batch of step `self.steps`.
    fn load_batch(&mut self) {
        let (b, d) = (self.config.batch, self.config.d);
        let first = self.steps * b as u64;
        match &self.fixed {
            None => self
                .batch
                .draw(&self.config, &self.inputs, &self.scalars, first),
            Some(set) => {
                let m = set.labels.len() as u64;
                for i in 0..b {
                    let row = ((first + i as u64) % m) as usize;
                    self.batch.x[i * d..(i + 1) * d]
                        .copy_from_slice(&set.x[row * d..(row + 1) * d]);
                    self.batch.labels[i] = set.labels[row];
                }
            }
        }
    }

    fn step(&mut self) -> f32 {
        let (b, d, k) = (self.config.batch, self.config.d, self.config.width);
        self.load_batch();
        let g = &mut self.g[..b];
        forward(&self.student, &self.batch.x, &mut self.z, g);
        let loss = 0.5 * residuals(g, &self.batch.labels, b) / b as f64;
        output_grads(
            &self.student,
            g,
            &mut self.z,
            &mut self.grads,
            &mut self.partials,
        );
        hidden_grad(&self.z, &self.batch.x, b, d, k, &mut self.grads.v);
        self.steps += 1;
        apply_update(
            self.config.optimizer,
            self.adam.as_mut(),
            &mut self.student,
            &self.grads,
            self.steps,
        );
        loss as f32
    }
}

impl Trainer for CpuTrainer {
    fn steps(&mut self, steps: u64) -> Result<f32, EngineError> {
        let mut loss = f32::NAN;
        for _ in 0..steps {
            loss = self.step();
            if !loss.is_finite() {
                break;
            }
        }
        Ok(loss)
    }

    fn steps_done(&self) -> u64 {
        self.steps
    }

    fn evaluate(&mut self, n_test: u64, trivial: f32) -> Result<Evaluation, EngineError> {
        let t = &self.config.teacher;
        let inputs = Stream::new(t.seed, t.instance, Role::TestInputs);
        let scalars = Stream::new(t.seed, t.instance, Role::TestScalars);
        let mut sums = EvalSums::default();
        let mut batch = Batch::new(EVAL_CHUNK, self.config.d);
        for first in (0..n_test).step_by(EVAL_CHUNK) {
            let rows = (n_test - first).min(EVAL_CHUNK as u64) as usize;
            let d = self.config.d;
            batch.x.truncate(rows * d);
            batch.targets.truncate(rows);
            batch.labels.truncate(rows);
            batch.draw(&self.config, &inputs, &scalars, first);
            let p = &mut self.g[..rows];
            forward(&self.student, &batch.x, &mut self.z, p);
            sums.add(&eval_sums(p, &batch.targets, trivial));
        }
        Ok(sums.finish())
    }

    fn student(&mut self) -> Result<StudentParams, EngineError> {
        Ok(self.student.clone())
    }
}

/// The evaluation sums of predictions `p` against `targets`, in f64.
pub fn eval_sums(p: &[f32], targets: &[f32], trivial: f32) -> EvalSums {
    p.iter()
        .zip(targets)
        .fold(EvalSums::default(), |mut s, (&p, &f)| {
            let (es, et) = (
                (f64::from(p) - f64::from(f)).powi(2),
                (f64::from(trivial) - f64::from(f)).powi(2),
            );
            s.n += 1;
            s.student_sq += es;
            s.trivial_sq += et;
            s.diff_sq += (et - es).powi(2);
            s.target += f64::from(f);
            s.target_sq += f64::from(f) * f64::from(f);
            s
        })
}
