//! Learners that need no training loop: the trivial predictor, the oracle, ridge regression on
//! x, and ridge on random ReLU features (correlation-based baselines).

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::{Details, Fit, Instance, Learner, RunContext, evaluate_predictor};
use crate::error::Error;
use crate::math::philox::uniform_f64;
use crate::math::target::dot;
use crate::sampling::Split;
use crate::sampling::streams::{Role, Stream};

/// Predicts the training-label mean: the weak-learning reference (Δ = 0 by construction).
pub struct Trivial;

impl Learner for Trivial {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let trivial = ctx.trivial;
        let scores = evaluate_predictor(inst, ctx, |_| trivial);
        Ok(Fit { scores, samples: ctx.budget.train_samples, ..Fit::default() })
    }
}

/// Knows w: predicts f_NN(x) exactly.
pub struct Oracle;

impl Learner for Oracle {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let gamma_s = inst.problem.gamma_s();
        let scores = evaluate_predictor(inst, ctx, |x| inst.cap.eval_closed_form(gamma_s * dot(&inst.secret, x)));
        Ok(Fit { scores, cosine: Some(1.0), ..Fit::default() })
    }
}

/// Most rows of the design matrix accumulated per chunk (the deadline is checked between chunks).
const DESIGN_CHUNK: usize = 2048;
/// Multiply-adds of one chunk's Gram update (rows · width²) at most, so a chunk takes a fraction of
/// a second at any width: 2048 rows of 2049 random features would be ~5 s between two checks.
const CHUNK_WORK: usize = 1 << 28;

/// The normal equations of the first m training samples, features computed by `features`:
/// (XᵀX/m, Xᵀy/m), accumulated a chunk of rows at a time so memory stays O(width²) and the
/// deadline is honoured. `None` when the deadline passed first.
fn normal_equations(
    inst: &Instance,
    ctx: &RunContext<'_>,
    width: usize,
    features: impl Fn(&[f64], &mut [f64]) + Sync,
) -> Option<(DMatrix<f64>, DVector<f64>)> {
    let d = inst.problem.d;
    let m = ctx.budget.train_samples as usize;
    let train = inst.sampler(Split::Train, ctx.rule);
    let mut gram = DMatrix::<f64>::zeros(width, width);
    let mut rhs = DVector::<f64>::zeros(width);
    let chunk = (CHUNK_WORK / (width * width)).clamp(16, DESIGN_CHUNK);
    for first in (0..m).step_by(chunk) {
        if ctx.deadline.expired() {
            return None;
        }
        let rows = chunk.min(m - first);
        let mut x = DMatrix::<f64>::zeros(rows, width);
        let mut y = DVector::<f64>::zeros(rows);
        let filled: Vec<(Vec<f64>, f64)> = (first..first + rows)
            .into_par_iter()
            .map(|i| {
                let mut row = vec![0.0; train.row_len()];
                train.fill_row(i as u64, &mut row);
                let mut phi = vec![0.0; width];
                features(&row[..d], &mut phi);
                (phi, row[d])
            })
            .collect();
        for (i, (phi, label)) in filled.into_iter().enumerate() {
            x.row_mut(i).copy_from_slice(&phi);
            y[i] = label;
        }
        gram.gemm_tr(1.0 / m as f64, &x, &x, 1.0);
        rhs.gemv_tr(1.0 / m as f64, &x, &y, 1.0);
    }
    Some((gram, rhs))
}

/// Solves min (1/m)‖Xθ − y‖² + λ‖θ‖² from its normal equations (the last column, the
/// intercept, unpenalised).
fn ridge_solve(mut gram: DMatrix<f64>, rhs: DVector<f64>, lambda: f64) -> Result<DVector<f64>, Error> {
    let n = gram.nrows();
    for j in 0..n - 1 {
        gram[(j, j)] += lambda;
    }
    gram.cholesky().map(|c| c.solve(&rhs)).ok_or_else(|| {
        Error::Numerical(format!(
            "ridge: the normal equations are not positive definite (λ = {lambda}); use a larger --lambda or --train-size"
        ))
    })
}

/// The features of ridge regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RidgeFeatures {
    /// [x, 1]: linear regression (cannot succeed: φ is even, so E[f·x] = 0).
    Linear,
    /// [x, x_i·x_j for i ≤ j, 1]: the degree-2 baseline of SPEC §7, whose signal
    /// ≈ (2πγ_s)²·e^(−2π²γ_s²) is visible at small γ and gone at γ = 2√d.
    Quadratic,
}

impl RidgeFeatures {
    /// Features at dimension d.
    pub fn count(self, d: usize) -> usize {
        match self {
            Self::Linear => d + 1,
            Self::Quadratic => d + d * (d + 1) / 2 + 1,
        }
    }

    /// Writes the features of x into `phi` (length [`Self::count`]); the intercept is last.
    fn fill(self, x: &[f64], phi: &mut [f64]) {
        let d = x.len();
        phi[..d].copy_from_slice(x);
        let mut k = d;
        if self == Self::Quadratic {
            for i in 0..d {
                for j in i..d {
                    phi[k] = x[i] * x[j];
                    k += 1;
                }
            }
        }
        phi[k] = 1.0;
    }
}

/// Ridge regression on linear or degree-2 features of x.
pub struct Ridge {
    /// The features.
    pub features: RidgeFeatures,
    /// Penalty λ on the weights (per-sample normalised loss).
    pub lambda: f64,
}

impl Learner for Ridge {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let (d, features) = (inst.problem.d, self.features);
        let width = features.count(d);
        let details = Details::Ridge { lambda: self.lambda };
        let Some((gram, rhs)) = normal_equations(inst, ctx, width, |x, phi| features.fill(x, phi)) else {
            return Ok(Fit::timed_out(inst, ctx, details));
        };
        let theta = ridge_solve(gram, rhs, self.lambda)?;
        let scores = evaluate_predictor(inst, ctx, |x| {
            let mut phi = vec![0.0; width];
            features.fill(x, &mut phi);
            dot(&phi, theta.as_slice())
        });
        // A direction estimate exists for linear features only.
        let weights: Vec<f64> = theta.iter().take(d).copied().collect();
        let norm = dot(&weights, &weights).sqrt();
        let cosine =
            (features == RidgeFeatures::Linear && norm > 0.0).then(|| dot(&weights, &inst.secret).abs() / norm);
        Ok(Fit { scores, samples: ctx.budget.train_samples, cosine, details, ..Fit::default() })
    }
}

/// Ridge on D random ReLU features ReLU(⟨v_j, x⟩ + b_j), v_j ~ N(0, I_d), b_j ~ U[−2√d, 2√d],
/// drawn from the student-init stream at sample indices 2⁴⁰ + j (disjoint from students').
pub struct RandomFeatures {
    /// Number of features D.
    pub features: usize,
    /// Penalty λ.
    pub lambda: f64,
}

impl Learner for RandomFeatures {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let d = inst.problem.d;
        let stream = Stream::new(inst.problem.seed, inst.instance, Role::StudentInit);
        let spread = 2.0 * (d as f64).sqrt();
        let (v, b): (Vec<Vec<f64>>, Vec<f64>) = (0..self.features)
            .map(|j| {
                let mut vj = vec![0.0; d];
                stream.normals_f64((1 << 40) + j as u64, &mut vj);
                let u = uniform_f64(stream.words((1 << 40) + j as u64, u32::MAX)[0]);
                (vj, spread * (2.0 * u - 1.0))
            })
            .unzip();
        let features = |x: &[f64], phi: &mut [f64]| {
            for (j, p) in phi[..v.len()].iter_mut().enumerate() {
                *p = (dot(&v[j], x) + b[j]).max(0.0);
            }
            phi[v.len()] = 1.0;
        };
        let details = Details::RandomFeatures { features: self.features, lambda: self.lambda };
        let Some((gram, rhs)) = normal_equations(inst, ctx, self.features + 1, features) else {
            return Ok(Fit::timed_out(inst, ctx, details));
        };
        let theta = ridge_solve(gram, rhs, self.lambda)?;
        let scores = evaluate_predictor(inst, ctx, |x| {
            let mut phi = vec![0.0; self.features + 1];
            features(x, &mut phi);
            dot(&phi, theta.as_slice())
        });
        Ok(Fit { scores, samples: ctx.budget.train_samples, details, ..Fit::default() })
    }
}
