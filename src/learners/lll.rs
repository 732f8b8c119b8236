//! The lattice attack that succeeds at exponentially small noise (SPEC §7 "lll"; Song, Zadik,
//! Bruna 2021): from d+1 samples, an integer relation between the samples' reals is found by
//! LLL and reveals the hidden integers, from which w follows by least squares.
//!
//! Three modes, all through one integer-relation lattice (rows (e_j | ⌊2^N r_j / max|r|⌉)):
//! - `clwe`: z_i = γ⟨w,y_i⟩ + e_i − k_i; with u the null vector of the y_i,
//!   Σ u_i k_i + Σ u_i z_i ≈ 0: reals (u_0..u_d, Σ u_i z_i), lattice dimension d+2.
//! - `triangle`: labels ℓ_i = φ(γ_s⟨w,x_i⟩) + ξ_i, so γ_s⟨w,x_i⟩ = s_i ℓ_i + k_i with signs
//!   s_i = ±1: reals (u_0..u_d, u_0ℓ_0..u_dℓ_d), dimension 2d+2.
//! - `hclwe` (noiseless hCLWE): ⟨w,y_i⟩ = k_i/γ: reals (u_0..u_d), dimension d+1.
//!
//! Instances are generated in extended precision: inputs are exactly representable f64 values
//! (the usual Gaussian draws), while the secret (w = g/‖g‖) and the labels are computed in fixed
//! point with P = N + 128 fractional bits, so noiseless recovery works far beyond what f64 data
//! allows. The frequency used is the f64 value of γ (or γ_s), taken as exact.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};

use super::{Details, Fit, Instance, Learner, RunContext, evaluate_predictor};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::math::lll::{LatticeError, LllStats, lll_reduce_auto, norm_squared};
use crate::math::target::{dot, triangle_wave};
use crate::params::{Problem, SQRT_TAU};
use crate::sampling::hclwe::ComponentTable;
use crate::sampling::streams::{Role, Scalar, Stream};

/// Which relation the attack looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AttackMode {
    /// CLWE samples (y, z): lattice dimension d + 2.
    Clwe,
    /// Triangle-wave labels of the planted problem: dimension 2d + 2.
    Triangle,
    /// Noiseless homogeneous CLWE: dimension d + 1.
    Hclwe,
}

impl AttackMode {
    /// Lattice dimension for input dimension d.
    pub fn dimension(self, d: usize) -> usize {
        match self {
            Self::Clwe => d + 2,
            Self::Triangle => 2 * d + 2,
            Self::Hclwe => d + 1,
        }
    }
}

/// Fresh samples used to verify a recovered secret.
const VERIFY_SAMPLES: u64 = 32;

/// The outcome of one attack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackReport {
    /// The mode.
    pub mode: AttackMode,
    /// Input dimension.
    pub d: usize,
    /// Lattice dimension.
    pub dimension: usize,
    /// Precision N (bits) of the relation column.
    pub precision_bits: u32,
    /// Whether a vector of the expected shape was found in the reduced basis.
    pub found: bool,
    /// Whether the recovered secret explains fresh samples.
    pub verified: bool,
    /// |⟨ŵ, w⟩| (0 when nothing was found).
    pub cosine: f64,
    /// The recovered frequency ‖w′‖ (γ, or γ_s in triangle mode).
    pub frequency: f64,
    /// The recovered direction (empty when nothing was found).
    #[serde(skip)]
    pub direction: Vec<f64>,
    /// log₂ of the Euclidean norm of the first reduced vector.
    pub first_vector_log2_norm: f64,
    /// Seconds spent in LLL.
    pub lll_seconds: f64,
    /// LLL counters.
    pub lll: LllStats,
}

impl std::fmt::Display for AttackReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} d={} dimension {} N={}: found {}, verified {}, |cos| = {:.15}, frequency {:.9}, log2‖b1‖ = {:.2}, \
             LLL {:.3} s ({} swaps)",
            self.mode,
            self.d,
            self.dimension,
            self.precision_bits,
            self.found,
            self.verified,
            self.cosine,
            self.frequency,
            self.first_vector_log2_norm,
            self.lll_seconds,
            self.lll.swaps
        )
    }
}

/// The precisions N (bits) the attack accepts.
pub const PRECISION_BITS: std::ops::RangeInclusive<u32> = 1..=16384;

/// Precision N for `mode` at dimension d and frequency γ (lattice convention): the lattice
/// dimension times (log₂ of the expected relation norm + 3 bits of margin).
pub fn default_precision(mode: AttackMode, d: usize, gamma: f64) -> u32 {
    let per_coordinate = gamma / 2.0 + 1.0;
    let relation_norm = ((mode.dimension(d)) as f64).sqrt() * per_coordinate;
    (mode.dimension(d) as f64 * (relation_norm.log2() + 3.0)).ceil() as u32
}

/// `v` in fixed point with `p` fractional bits (exact whenever v is a multiple of 2^−p).
fn fixed(v: f64, p: u32) -> BigInt {
    let r = BigRational::from_float(v).expect("finite");
    round_rational(&(r * BigRational::from_integer(BigInt::one() << p)))
}

fn round_rational(r: &BigRational) -> BigInt {
    let two = BigInt::from(2);
    (r.numer() * &two + r.denom()).div_floor(&(r.denom() * &two))
}

/// Fixed-point product (p fractional bits each) rounded to p bits.
fn mul_fixed(a: &BigInt, b: &BigInt, p: u32) -> BigInt {
    let prod = a * b;
    (prod + (BigInt::one() << (p - 1))) >> p
}

/// The secret w = g/‖g‖ in fixed point, from the same normals as [`crate::sampling::secret_direction`].
fn secret_fixed(problem: &Problem, instance: u32, p: u32) -> Vec<BigInt> {
    let mut g = vec![0.0; problem.d];
    Stream::new(problem.seed, instance, Role::Secret).normals_f64(0, &mut g);
    let gs: Vec<BigInt> = g.iter().map(|&v| fixed(v, p)).collect();
    let norm = (gs.iter().fold(BigInt::zero(), |s, v| s + v * v) << (2 * p)).sqrt(); // ‖g‖·2^(2p)
    gs.iter().map(|v| round_rational(&BigRational::new(v << (2 * p), norm.clone()))).collect()
}

/// The d+1 attack samples of `mode`: inputs as exact f64 rows and the reals of each sample
/// (z_i, ℓ_i, or nothing for hCLWE) in fixed point.
struct Samples {
    inputs: Vec<Vec<f64>>,
    exact_inputs: Vec<Vec<BigInt>>,
    labels: Vec<BigInt>,
}

fn draw(mode: AttackMode, problem: &Problem, instance: u32, clwe_derived: bool, first: u64, n: u64, p: u32) -> Samples {
    let d = problem.d;
    let w = secret_fixed(problem, instance, p);
    let inputs_stream = Stream::new(problem.seed, instance, Role::TrainInputs);
    let scalars = Stream::new(problem.seed, instance, Role::TrainScalars);
    let one = BigInt::one() << p;
    let table = ComponentTable::new(problem.beta, problem.gamma);
    let mut out = Samples { inputs: Vec::new(), exact_inputs: Vec::new(), labels: Vec::new() };
    for i in first..first + n {
        let mut x = vec![0.0; d];
        inputs_stream.normals_f64(i, &mut x);
        let row: Vec<f64> = match mode {
            AttackMode::Triangle => x,
            AttackMode::Clwe | AttackMode::Hclwe => x.iter().map(|v| v / SQRT_TAU).collect(),
        };
        let mut exact: Vec<BigInt> = row.iter().map(|&v| fixed(v, p)).collect();
        let inner = exact.iter().zip(&w).fold(BigInt::zero(), |s, (a, b)| s + mul_fixed(a, b, p));
        let label = match mode {
            AttackMode::Clwe => {
                let e = problem.beta_s() * scalars.scalar_normal(i, Scalar::ClweError);
                (mul_fixed(&fixed(problem.gamma, p), &inner, p) + fixed(e, p)).mod_floor(&one)
            }
            AttackMode::Triangle => {
                let mut t = mul_fixed(&fixed(problem.gamma_s(), p), &inner, p);
                if clwe_derived {
                    t += fixed(problem.beta_s() * scalars.scalar_normal(i, Scalar::ClweError), p);
                }
                let half: BigInt = &one >> 1u32;
                let nearest: BigInt = Integer::div_floor(&(&t + &half), &one) * &one;
                (t - nearest).abs() + fixed(crate::sampling::label_noise(problem, &scalars, i), p)
            }
            AttackMode::Hclwe => {
                // y = g − ⟨w,g⟩w + t·w with t = γk/(β²+γ²) + width·n, in fixed point.
                let [u, _] = scalars.scalar_uniforms(i, Scalar::Phase);
                let k = table.component(u);
                let s2 = BigRational::from_float(problem.beta * problem.beta + problem.gamma * problem.gamma).unwrap();
                let centre = BigRational::from_float(problem.gamma).unwrap() * BigInt::from(k) / s2;
                let t = round_rational(&(centre * BigRational::from_integer(one.clone())))
                    + fixed(table.width() * scalars.scalar_normal(i, Scalar::HclweOffset), p);
                let shift = t - &inner;
                for (y, wj) in exact.iter_mut().zip(&w) {
                    *y += mul_fixed(&shift, wj, p);
                }
                BigInt::zero()
            }
        };
        let scale = 2f64.powi(-(p as i32));
        out.inputs.push(exact.iter().map(|v| v.to_f64().unwrap() * scale).collect());
        out.exact_inputs.push(exact);
        out.labels.push(label);
    }
    out
}

/// An integer u ≠ 0 with Σ u_i r_i = 0 for the d+1 integer rows r_i ∈ ℤ^d, by fraction-free
/// (Bareiss) elimination of [r_0 … r_{d−1} | −r_d]: u_d = det, u_i = the Cramer numerators,
/// obtained by exact integer back-substitution.
fn null_vector(rows: &[Vec<BigInt>]) -> Result<Vec<BigInt>, Error> {
    let d = rows[0].len();
    let mut m: Vec<Vec<BigInt>> =
        (0..d).map(|c| (0..d).map(|i| rows[i][c].clone()).chain([-&rows[d][c]]).collect()).collect();
    let mut previous = BigInt::one();
    for k in 0..d {
        let pivot = (k..d)
            .find(|&r| !m[r][k].is_zero())
            .ok_or_else(|| Error::Numerical("lattice attack: the d+1 inputs do not span ℝ^d".into()))?;
        m.swap(pivot, k);
        let (top, bottom) = m.split_at_mut(k + 1);
        let pivot_row = &top[k];
        for row in bottom.iter_mut() {
            for j in k + 1..=d {
                row[j] = (&row[j] * &pivot_row[k] - &row[k] * &pivot_row[j]) / &previous;
            }
            row[k] = BigInt::zero();
        }
        previous = m[k][k].clone();
    }
    let det = previous;
    let mut u = vec![BigInt::zero(); d + 1];
    for i in (0..d).rev() {
        let tail = (i + 1..d).fold(&det * &m[i][d], |acc, j| acc - &m[i][j] * &u[j]);
        u[i] = tail / &m[i][i];
    }
    u[d] = det;
    Ok(u)
}

/// The integer-relation basis for `reals`: rows (e_j | ⌊2^N r_j / max_j |r_j|⌉).
fn relation_basis(reals: &[BigRational], n_bits: u32) -> Vec<Vec<BigInt>> {
    let scale = reals.iter().map(|r| r.abs()).max().expect("non-empty");
    let big = BigRational::from_integer(BigInt::one() << n_bits);
    let n = reals.len();
    reals
        .iter()
        .enumerate()
        .map(|(j, r)| {
            (0..n).map(|i| BigInt::from(i64::from(i == j))).chain([round_rational(&(r * &big / &scale))]).collect()
        })
        .collect()
}

/// Least squares A w = b in f64.
fn least_squares(a: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let m = DMatrix::from_fn(a.len(), a[0].len(), |i, j| a[i][j]);
    let rhs = DVector::from_column_slice(b);
    let svd = m.svd(true, true);
    svd.solve(&rhs, 1e-300).map(|v| v.iter().copied().collect()).unwrap_or_default()
}

/// The attack's samples and its integer-relation lattice basis (before reduction).
pub struct AttackLattice {
    samples: Samples,
    /// The basis rows (fplll-compatible integers).
    pub basis: crate::math::lll::Basis,
    p: u32,
}

/// Builds the lattice of `mode` for instance `instance` of `problem` with precision N bits.
pub fn attack_lattice(
    mode: AttackMode,
    problem: &Problem,
    instance: u32,
    clwe_derived: bool,
    n_bits: u32,
) -> Result<AttackLattice, Error> {
    let d = problem.d;
    let p = n_bits + 128;
    let samples = draw(mode, problem, instance, clwe_derived, 0, d as u64 + 1, p);
    let u = null_vector(&samples.exact_inputs)?;
    let label = |i: usize| BigRational::new(samples.labels[i].clone(), BigInt::one() << p);
    let reals: Vec<BigRational> = match mode {
        AttackMode::Hclwe => u.iter().map(|v| BigRational::from_integer(v.clone())).collect(),
        AttackMode::Clwe => {
            let s = (0..=d).fold(BigRational::zero(), |acc, i| acc + label(i) * &u[i]);
            u.iter().map(|v| BigRational::from_integer(v.clone())).chain([s]).collect()
        }
        AttackMode::Triangle => {
            u.iter().map(|v| BigRational::from_integer(v.clone())).chain((0..=d).map(|i| label(i) * &u[i])).collect()
        }
    };
    Ok(AttackLattice { basis: relation_basis(&reals, n_bits), samples, p })
}

/// Runs the attack of `mode` on instance `instance` of `problem` with precision N bits.
pub fn attack(
    mode: AttackMode,
    problem: &Problem,
    instance: u32,
    clwe_derived: bool,
    n_bits: u32,
    deadline: Deadline,
) -> Result<AttackReport, Error> {
    let d = problem.d;
    let AttackLattice { mut basis, samples, p } = attack_lattice(mode, problem, instance, clwe_derived, n_bits)?;
    let start = Instant::now();
    let stats = lll_reduce_auto(&mut basis, 0.99, deadline)?;
    let lll_seconds = start.elapsed().as_secs_f64();
    let first_norm = norm_squared(&basis[0]).to_f64().unwrap_or(f64::INFINITY).sqrt().log2();
    // The hidden integers: the first reduced vector of the expected shape.
    let to_i64 = |v: &BigInt| v.to_i64().unwrap_or(i64::MAX);
    let shaped = basis.iter().find_map(|row| {
        let c: Vec<i64> = row[..row.len() - 1].iter().map(to_i64).collect();
        match mode {
            AttackMode::Hclwe => c.iter().any(|&v| v != 0).then(|| (c.clone(), vec![])),
            AttackMode::Clwe => (c[d + 1].abs() == 1).then(|| (c[..=d].iter().map(|k| k * c[d + 1]).collect(), vec![])),
            AttackMode::Triangle => {
                c[d + 1..].iter().all(|s| s.abs() == 1).then(|| (c[..=d].to_vec(), c[d + 1..].to_vec()))
            }
        }
    });
    let scale = 2f64.powi(-(p as i32));
    let labels_f64: Vec<f64> = samples.labels.iter().map(|l| l.to_f64().unwrap() * scale).collect();
    let mut report = AttackReport {
        mode,
        d,
        dimension: mode.dimension(d),
        precision_bits: n_bits,
        found: shaped.is_some(),
        verified: false,
        cosine: 0.0,
        frequency: 0.0,
        direction: Vec::new(),
        first_vector_log2_norm: first_norm,
        lll_seconds,
        lll: stats,
    };
    let Some((k, signs)) = shaped else { return Ok(report) };
    let rhs: Vec<f64> = (0..=d)
        .map(|i| match mode {
            AttackMode::Hclwe => k[i] as f64,
            AttackMode::Clwe => k[i] as f64 + labels_f64[i],
            AttackMode::Triangle => signs[i] as f64 * labels_f64[i] + k[i] as f64,
        })
        .collect();
    let w_scaled = least_squares(&samples.inputs, &rhs);
    let frequency = dot(&w_scaled, &w_scaled).sqrt();
    if !(frequency > 0.0 && frequency.is_finite()) {
        return Ok(report);
    }
    let direction: Vec<f64> = w_scaled.iter().map(|v| v / frequency).collect();
    let truth = crate::sampling::secret_direction(problem.seed, instance, d);
    report.cosine = dot(&direction, &truth).abs();
    report.frequency = frequency;
    report.verified = verify(mode, problem, instance, clwe_derived, &w_scaled, p);
    report.direction = direction;
    Ok(report)
}

/// Whether `w_scaled` (γw, or γ_s w) explains fresh samples: residuals within 6 noise standard
/// deviations plus 1e-6.
fn verify(mode: AttackMode, problem: &Problem, instance: u32, clwe_derived: bool, w_scaled: &[f64], p: u32) -> bool {
    let fresh = draw(mode, problem, instance, clwe_derived, problem.d as u64 + 1, VERIFY_SAMPLES, p);
    let scale = 2f64.powi(-(p as i32));
    let noise = match mode {
        AttackMode::Clwe => problem.beta_s(),
        AttackMode::Triangle => problem.sigma,
        AttackMode::Hclwe => problem.beta / SQRT_TAU,
    };
    let tolerance = 6.0 * noise + 1e-6;
    fresh.inputs.iter().zip(&fresh.labels).all(|(x, l)| {
        let t = dot(w_scaled, x);
        let residual = match mode {
            AttackMode::Clwe => {
                let r = l.to_f64().unwrap() * scale - t;
                r - r.round()
            }
            AttackMode::Triangle => l.to_f64().unwrap() * scale - triangle_wave(t),
            AttackMode::Hclwe => t - t.round(),
        };
        residual.abs() <= tolerance
    })
}

/// The lattice attack as a learner on the planted problem (triangle mode): h(x) = φ(γ̂_s⟨ŵ,x⟩)
/// when a verified secret is found, else the trivial constant.
pub struct Lll {
    /// Precision N in bits; `None` uses [`default_precision`].
    pub precision_bits: Option<u32>,
}

impl Learner for Lll {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let p = &inst.problem;
        let bits = self.precision_bits.unwrap_or_else(|| default_precision(AttackMode::Triangle, p.d, p.gamma));
        let clwe_derived = inst.data == crate::sampling::DataKind::ClweDerived;
        let report = match attack(AttackMode::Triangle, p, inst.instance, clwe_derived, bits, ctx.deadline) {
            Err(Error::Lattice(LatticeError::Interrupted)) => return Ok(Fit::timed_out(inst, ctx, Details::None)),
            other => other?,
        };
        let trivial = ctx.trivial;
        let w_scaled: Vec<f64> = report.direction.iter().map(|v| v * report.frequency).collect();
        let eval = if report.verified {
            evaluate_predictor(inst, ctx, |x| triangle_wave(dot(&w_scaled, x)))
        } else {
            evaluate_predictor(inst, ctx, |_| trivial)
        };
        Ok(Fit {
            eval,
            samples: p.d as u64 + 1,
            cosine: Some(report.cosine),
            details: Details::Lattice(Box::new(report)),
            ..Fit::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::NoiseModel;

    fn noiseless(d: usize) -> Problem {
        Problem::new(d, None, Some(0.0), Some(0.0), NoiseModel::Gaussian, 11).unwrap()
    }

    #[test]
    fn recovers_w_from_d_plus_1_noiseless_samples_in_every_mode() {
        for mode in [AttackMode::Clwe, AttackMode::Triangle, AttackMode::Hclwe] {
            for d in [3, 8] {
                let p = noiseless(d);
                let r = attack(mode, &p, 0, false, default_precision(mode, d, p.gamma), Deadline::NONE).unwrap();
                assert!(r.found && r.verified, "{mode:?} d={d}: {r:?}");
                assert!(r.cosine > 1.0 - 1e-9, "{mode:?} d={d}: cos {}", r.cosine);
                let truth = if mode == AttackMode::Triangle { p.gamma_s() } else { p.gamma };
                assert!((r.frequency - truth).abs() < 1e-6 * truth, "{mode:?} d={d}: γ {} vs {truth}", r.frequency);
            }
        }
    }

    #[test]
    fn fails_at_polynomial_noise() {
        let d = 8;
        let p = Problem::new(d, None, Some(1.0 / d as f64), Some(1.0 / d as f64), NoiseModel::Gaussian, 11).unwrap();
        for mode in [AttackMode::Clwe, AttackMode::Triangle] {
            let r = attack(mode, &p, 0, false, default_precision(mode, d, p.gamma), Deadline::NONE).unwrap();
            assert!(!r.verified && r.cosine < 0.99, "{mode:?}: {r:?}");
        }
    }
}
