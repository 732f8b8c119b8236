//! From a reduced basis to a verified secret: every reduced row of the expected shape is a
//! candidate for the hidden integers; each gives w′ (γw, or γ_s·w for triangle labels) by least
//! squares on the d+1 inputs (Householder QR: a bounded computation); a candidate is accepted
//! only when w′ explains fresh samples the attack did not use.
//!
//! The verification's false-accept rate: a wrong w′ leaves residuals spread over the label's
//! whole range (uniform mod 1 for CLWE and hCLWE; a difference of two values in [0, ½] for
//! triangle labels), so one residual falls within the tolerance τ with probability at most
//! q = 2τ (CLWE, hCLWE) or 4τ (triangle). V fresh samples all pass with probability at most
//! q^V; V is chosen so that q^V ≤ 2^−40 per candidate. When q > 0.9 — noise so large that no
//! test on a few samples separates right from wrong — the attack reports that it cannot verify.

use nalgebra::{DMatrix, DVector};
use num_traits::ToPrimitive;

use super::AttackMode;
use super::instance::{Samples, draw, fixed_to_f64};
use crate::error::Error;
use crate::math::lll::Basis;
use crate::math::target::{dot, triangle_wave};
use crate::params::{Problem, SQRT_TAU};

/// log₂ of the largest false-accept probability allowed per candidate.
pub const FALSE_ACCEPT_LOG2: f64 = -40.0;
/// Largest per-sample pass probability q at which the attack still verifies.
const MAX_PASS_PROBABILITY: f64 = 0.9;
/// Tolerance floor: f64 rounding in w′ and ⟨w′, x⟩.
const TOLERANCE_FLOOR: f64 = 1e-6;
/// Verification samples, at least and at most.
const SAMPLES_RANGE: (u64, u64) = (16, 512);

/// The hidden integers k (and the signs s of triangle labels) a reduced row encodes.
pub(super) struct Candidate {
    k: Vec<i64>,
    signs: Vec<i64>,
}

/// Every row of `basis` with the shape of `mode`'s relation, in basis order: CLWE rows whose
/// coefficient of Σ u_i z_i is ±1, triangle rows whose label coefficients are all ±1, any
/// nonzero hCLWE row. Rows with entries beyond i64 are skipped.
pub(super) fn candidates(mode: AttackMode, d: usize, basis: &Basis) -> Vec<Candidate> {
    basis
        .iter()
        .filter_map(|row| {
            let c: Vec<i64> = row[..row.len() - 1].iter().map(ToPrimitive::to_i64).collect::<Option<_>>()?;
            match mode {
                AttackMode::Hclwe => c.iter().any(|&v| v != 0).then(|| Candidate { k: c.clone(), signs: vec![] }),
                AttackMode::Clwe => (c[d + 1].abs() == 1)
                    .then(|| Candidate { k: c[..=d].iter().map(|k| k * c[d + 1]).collect(), signs: vec![] }),
                AttackMode::Triangle => c[d + 1..]
                    .iter()
                    .all(|s| s.abs() == 1)
                    .then(|| Candidate { k: c[..=d].to_vec(), signs: c[d + 1..].to_vec() }),
            }
        })
        .collect()
}

/// w′ from a candidate: the least-squares solution of ⟨w′, x_i⟩ = (the real the relation
/// gives for sample i).
pub(super) fn secret_from(
    mode: AttackMode,
    c: &Candidate,
    samples: &Samples,
    labels: &[f64],
) -> Result<Vec<f64>, Error> {
    let rhs: Vec<f64> = (0..c.k.len())
        .map(|i| match mode {
            AttackMode::Hclwe => c.k[i] as f64,
            AttackMode::Clwe => c.k[i] as f64 + labels[i],
            AttackMode::Triangle => c.signs[i] as f64 * labels[i] + c.k[i] as f64,
        })
        .collect();
    least_squares(&samples.inputs, &rhs)
}

/// min ‖A w − b‖ by Householder QR (A is m×n with m ≥ n). A rank-deficient A — a diagonal
/// entry of R below 10⁻¹² of the largest — is an error, returned without iterating.
pub fn least_squares(a: &[Vec<f64>], b: &[f64]) -> Result<Vec<f64>, Error> {
    let (m, n) = (a.len(), a.first().map_or(0, Vec::len));
    if n == 0 || m < n || b.len() != m {
        return Err(Error::Numerical(format!("least squares: a {m}×{n} system with {} right-hand sides", b.len())));
    }
    let qr = DMatrix::from_fn(m, n, |i, j| a[i][j]).qr();
    let r = qr.r();
    let largest = r.diagonal().iter().fold(0.0f64, |s, v| s.max(v.abs()));
    if !(largest.is_finite() && largest > 0.0) || r.diagonal().iter().any(|v| v.abs() <= 1e-12 * largest) {
        return Err(Error::Numerical("least squares: the inputs are rank-deficient".into()));
    }
    let qtb = qr.q().transpose() * DVector::from_column_slice(b);
    let w = r.solve_upper_triangular(&qtb).ok_or_else(|| Error::Numerical("least squares: singular R".into()))?;
    Ok(w.iter().copied().collect())
}

/// The standard deviation of the noise in the reals of `mode` (standard convention).
pub fn noise_level(mode: AttackMode, problem: &Problem, clwe_derived: bool) -> f64 {
    match mode {
        AttackMode::Clwe => problem.beta_s(),
        AttackMode::Triangle => problem.sigma + if clwe_derived { problem.beta_s() } else { 0.0 },
        AttackMode::Hclwe => problem.beta / SQRT_TAU,
    }
}

/// Fresh samples and the test they run.
pub(super) struct Verifier {
    mode: AttackMode,
    samples: Samples,
    labels: Vec<f64>,
    tolerance: f64,
    pass_probability: f64,
}

impl Verifier {
    /// The verification of `mode` on samples d+1 … of the instance (never used by the lattice),
    /// or `None` when the noise is too large for any verification.
    pub fn new(mode: AttackMode, problem: &Problem, instance: u32, clwe_derived: bool, p: u32) -> Option<Self> {
        let tolerance = 8.0 * noise_level(mode, problem, clwe_derived) + TOLERANCE_FLOOR;
        let pass_probability = match mode {
            AttackMode::Clwe | AttackMode::Hclwe => 2.0 * tolerance,
            AttackMode::Triangle => 4.0 * tolerance,
        };
        if pass_probability > MAX_PASS_PROBABILITY {
            return None;
        }
        let count =
            ((FALSE_ACCEPT_LOG2 / pass_probability.log2()).ceil() as u64).clamp(SAMPLES_RANGE.0, SAMPLES_RANGE.1);
        let samples = draw(mode, problem, instance, clwe_derived, problem.d as u64 + 1, count, p);
        let labels = to_f64(&samples, p);
        Some(Self { mode, samples, labels, tolerance, pass_probability })
    }

    /// Samples it uses.
    pub fn count(&self) -> u64 {
        self.samples.inputs.len() as u64
    }

    /// The probability that a wrong candidate passes.
    pub fn false_accept(&self) -> f64 {
        self.pass_probability.powi(self.count() as i32)
    }

    /// Whether every residual of w′ on the fresh samples is within the tolerance.
    pub fn accepts(&self, w: &[f64]) -> bool {
        self.samples.inputs.iter().zip(&self.labels).all(|(x, &l)| {
            let t = dot(w, x);
            let residual = match self.mode {
                AttackMode::Clwe => (l - t) - (l - t).round(),
                AttackMode::Triangle => l - triangle_wave(t),
                AttackMode::Hclwe => t - t.round(),
            };
            residual.abs() <= self.tolerance
        })
    }
}

/// The reals of `samples` as f64.
pub(super) fn to_f64(samples: &Samples, p: u32) -> Vec<f64> {
    samples.labels.iter().map(|l| fixed_to_f64(l, p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::NoiseModel;

    #[test]
    fn least_squares_solves_and_rank_deficiency_is_an_error_at_once() {
        let a = vec![vec![1.0, 0.0], vec![0.0, 2.0], vec![1.0, 1.0]];
        let w = least_squares(&a, &[1.0, 4.0, 3.0]).unwrap();
        assert!((w[0] - 1.0).abs() < 1e-12 && (w[1] - 2.0).abs() < 1e-12, "{w:?}");
        let start = std::time::Instant::now();
        let dependent = vec![vec![1.0, 2.0], vec![2.0, 4.0], vec![-1.0, -2.0]];
        let err = least_squares(&dependent, &[1.0, 2.0, 3.0]).unwrap_err();
        assert!(err.to_string().contains("rank-deficient"), "{err}");
        let zeros = vec![vec![0.0; 100]; 101];
        assert!(least_squares(&zeros, &[1.0; 101]).is_err());
        assert!(start.elapsed().as_secs_f64() < 1.0, "promptly");
    }

    #[test]
    fn verification_needs_enough_samples_for_its_stated_false_accept_rate() {
        let problem =
            |beta: f64, sigma: f64| Problem::new(8, None, Some(beta), Some(sigma), NoiseModel::Gaussian, 1).unwrap();
        let quiet = Verifier::new(AttackMode::Clwe, &problem(1e-30, 0.0), 0, false, 128).unwrap();
        assert!(quiet.false_accept() <= 2f64.powi(-40) && quiet.count() == 16);
        let noisy = Verifier::new(AttackMode::Triangle, &problem(0.0, 1e-2), 0, false, 128).unwrap();
        assert!(noisy.false_accept() <= 2f64.powi(-40), "{}", noisy.false_accept());
        assert!(noisy.count() > 16);
        assert!(Verifier::new(AttackMode::Hclwe, &problem(0.5, 0.0), 0, false, 128).is_none(), "β = 0.5 cannot verify");
        assert!(Verifier::new(AttackMode::Triangle, &problem(0.0, 0.125), 0, false, 128).is_none());
    }

    #[test]
    fn wrong_secrets_are_rejected_and_the_true_one_accepted() {
        let p = Problem::new(6, None, Some(1e-12), Some(1e-12), NoiseModel::Gaussian, 3).unwrap();
        let truth = crate::sampling::secret_direction(3, 0, 6);
        for mode in [AttackMode::Clwe, AttackMode::Triangle] {
            let v = Verifier::new(mode, &p, 0, false, 192).unwrap();
            let f = if mode == AttackMode::Triangle { p.gamma_s() } else { p.gamma };
            let right: Vec<f64> = truth.iter().map(|w| w * f).collect();
            assert!(v.accepts(&right), "{mode:?}");
            let mut wrong = right.clone();
            wrong[0] += 0.05;
            assert!(!v.accepts(&wrong), "{mode:?}");
            let other: Vec<f64> = (0..6).map(|i| if i == 0 { 68.0 } else { 0.0 }).collect();
            assert!(!v.accepts(&other), "{mode:?}");
        }
    }
}
