//! The learning target of SPEC §5: the triangle wave φ(t) = dist(t, ℤ), the capped
//! one-hidden-layer ReLU network g_M that equals it on [−M, M], the width rule that picks M,
//! and a verification of the construction in exact rational arithmetic.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::params::{ParamError, ensure};

/// φ(t) = |t − round(t)|: 1-periodic, 1-Lipschitz, values in [0, ½].
#[inline(always)]
pub fn triangle_wave(t: f64) -> f64 {
    (t - t.round()).abs()
}

/// φ in exact arithmetic: |t − ⌊t + ½⌋|.
pub fn triangle_wave_exact(t: &BigRational) -> BigRational {
    let half = BigRational::new(1.into(), 2.into());
    (t - (t + &half).floor()).abs()
}

/// The width rule: a failure budget δ over `n_total` standard normals ⟨w, x⟩.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WidthRule {
    /// Total number of samples the network must be exact on.
    pub n_total: f64,
    /// Probability that any of them leaves the cap.
    pub delta: f64,
}

impl WidthRule {
    /// A validated rule: `n_total ≥ 1`, `δ ∈ (0, 1)`.
    pub fn new(n_total: f64, delta: f64) -> Result<Self, ParamError> {
        ensure(n_total.is_finite() && n_total >= 1.0, "--n-total", n_total, "a number >= 1")?;
        ensure(delta > 0.0 && delta < 1.0, "--delta", delta, "a probability in (0, 1)")?;
        Ok(Self { n_total, delta })
    }

    /// R = √(2 ln(2 N_tot / δ)): P(|⟨w,x⟩| > R) ≤ δ / N_tot by the Gaussian tail bound.
    pub fn radius(&self) -> f64 {
        (2.0 * (2.0 * self.n_total / self.delta).ln()).sqrt()
    }

    /// The cap M = ⌈γ_s R⌉ (at least 1) for frequency γ_s.
    pub fn cap(&self, gamma_s: f64) -> u32 {
        ((gamma_s * self.radius()).ceil() as u32).max(1)
    }
}

/// g_M(t) = Σ_j c_j ReLU(t − t_j), j = 0..4M, with t_j = −M + j/2, c_0 = c_4M = 1,
/// c_j = −2 (j odd), +2 (j even, 0 < j < 4M). Equal to φ on [−M, M], zero outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CappedTriangle {
    m: u32,
}

impl CappedTriangle {
    /// The network with cap `m ≥ 1`.
    pub fn new(m: u32) -> Self {
        assert!(m >= 1, "the cap M must be a positive integer");
        Self { m }
    }

    /// The cap M.
    pub fn cap(&self) -> u32 {
        self.m
    }

    /// Hidden width k = 4M + 1.
    pub fn width(&self) -> usize {
        4 * self.m as usize + 1
    }

    /// Output weight c_j.
    pub fn output_weight(&self, j: usize) -> i64 {
        match j {
            0 => 1,
            _ if j == self.width() - 1 => 1,
            _ if j % 2 == 1 => -2,
            _ => 2,
        }
    }

    /// Hidden bias b_j = M − j/2 of neuron j (its breakpoint is t_j = −b_j).
    pub fn hidden_bias(&self, j: usize) -> f64 {
        f64::from(self.m) - j as f64 / 2.0
    }

    /// g_M(t) evaluated literally as the sum over the 4M+1 neurons.
    pub fn eval(&self, t: f64) -> f64 {
        (0..self.width()).map(|j| self.output_weight(j) as f64 * (t + self.hidden_bias(j)).max(0.0)).sum()
    }

    /// g_M(t) in closed form, φ(t) on [−M, M] and 0 outside: what [`verify_exact`] proves
    /// the network computes. Used on hot paths (label generation).
    #[inline(always)]
    pub fn eval_closed_form(&self, t: f64) -> f64 {
        if t.abs() <= f64::from(self.m) { triangle_wave(t) } else { 0.0 }
    }

    /// g_M(t) as the literal neuron sum, in exact rational arithmetic.
    pub fn eval_exact(&self, t: &BigRational) -> BigRational {
        let two = BigInt::from(2);
        (0..self.width()).fold(BigRational::zero(), |acc, j| {
            let bias = BigRational::new(BigInt::from(2 * i64::from(self.m) - j as i64), two.clone());
            let pre = t + bias;
            if pre.is_positive() { acc + pre * BigInt::from(self.output_weight(j)) } else { acc }
        })
    }
}

/// The outcome of [`verify_exact`].
#[derive(Clone, Debug, PartialEq)]
pub struct ExactVerification {
    /// Rational points at which g_M was compared with its claimed value.
    pub points: usize,
    /// Σ_j c_j, the slope of g_M beyond the last breakpoint (must be 0).
    pub tail_slope: i64,
    /// The first point (as text) where g_M differs from its claimed value, if any.
    pub first_failure: Option<String>,
}

impl ExactVerification {
    /// Whether the construction holds on all of ℝ.
    pub fn holds(&self) -> bool {
        self.tail_slope == 0 && self.first_failure.is_none()
    }
}

/// Proves g_M − φ ≡ 0 on [−M, M] and g_M ≡ 0 outside, exactly.
///
/// Checks every quarter point t = h/4 in [−M−1, M+1]: that covers every breakpoint t_j, every
/// midpoint between breakpoints, and points beyond both ends. The argument is complete: between
/// consecutive half-integers both g_M and φ are affine, so agreement at the half-integers of
/// [−M, M] gives agreement on all of it; for t ≤ −M every ReLU is off; for t ≥ M, g_M is affine
/// with slope Σ c_j, which is checked to be 0, and value g_M(M) = 0, which is checked.
pub fn verify_exact(net: CappedTriangle) -> ExactVerification {
    verify_evaluator(net, |t| net.eval_exact(t))
}

/// [`verify_exact`] for any exact evaluator claiming to be the network of cap `net`.
fn verify_evaluator(net: CappedTriangle, eval: impl Fn(&BigRational) -> BigRational) -> ExactVerification {
    let m = i64::from(net.cap());
    let tail_slope = (0..net.width()).map(|j| net.output_weight(j)).sum();
    let mut points = 0;
    let mut first_failure = None;
    for h in -4 * (m + 1)..=4 * (m + 1) {
        let t = BigRational::new(BigInt::from(h), BigInt::from(4));
        let claimed = if h.abs() <= 4 * m { triangle_wave_exact(&t) } else { BigRational::zero() };
        let got = eval(&t);
        points += 1;
        if got != claimed && first_failure.is_none() {
            first_failure = Some(format!("g_M({t}) = {got}, expected {claimed}"));
        }
    }
    ExactVerification { points, tail_slope, first_failure }
}

/// The teacher f_NN(x) = Σ_j c_j ReLU(⟨a_j, x⟩ + b_j) with a_j = γ_s·w for every neuron and
/// b_j = M − j/2: a literal one-hidden-layer ReLU network over ℝ^d.
#[derive(Clone, Debug, PartialEq)]
pub struct TeacherNetwork {
    /// Hidden weights a_j, one row of length d per neuron.
    pub hidden_weights: Vec<Vec<f64>>,
    /// Hidden biases b_j.
    pub hidden_biases: Vec<f64>,
    /// Output weights c_j.
    pub output_weights: Vec<f64>,
}

/// The capped triangle network of cap `net` in direction `w` at frequency `gamma_s`.
pub fn capped_triangle_network(w: &[f64], gamma_s: f64, net: CappedTriangle) -> TeacherNetwork {
    let a: Vec<f64> = w.iter().map(|wi| gamma_s * wi).collect();
    TeacherNetwork {
        hidden_weights: vec![a; net.width()],
        hidden_biases: (0..net.width()).map(|j| net.hidden_bias(j)).collect(),
        output_weights: (0..net.width()).map(|j| net.output_weight(j) as f64).collect(),
    }
}

impl TeacherNetwork {
    /// Hidden width k.
    pub fn width(&self) -> usize {
        self.output_weights.len()
    }

    /// f_NN(x).
    pub fn eval(&self, x: &[f64]) -> f64 {
        self.hidden_weights
            .iter()
            .zip(&self.hidden_biases)
            .zip(&self.output_weights)
            .map(|((a, b), c)| c * (dot(a, x) + b).max(0.0))
            .sum()
    }
}

/// ⟨a, b⟩.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construction_is_exact_for_small_caps() {
        for m in 1..=12 {
            let v = verify_exact(CappedTriangle::new(m));
            assert!(v.holds(), "M = {m}: {v:?}");
            assert_eq!(v.points, 8 * (m as usize + 1) + 1);
        }
    }

    #[test]
    fn verification_rejects_a_perturbed_network() {
        let net = CappedTriangle::new(3);
        let off_by = BigRational::new(1.into(), 1000.into());
        // Wrong only on one linear piece inside the cap …
        let inside = |t: &BigRational| {
            let bump = t > &BigRational::from_integer(1.into()) && t < &BigRational::from_integer(2.into());
            net.eval_exact(t) + if bump { off_by.clone() } else { BigRational::zero() }
        };
        assert!(verify_evaluator(net, inside).first_failure.is_some());
        // … or only beyond the cap.
        let outside = |t: &BigRational| {
            let bump = t > &BigRational::from_integer(3.into());
            net.eval_exact(t) + if bump { off_by.clone() } else { BigRational::zero() }
        };
        assert!(!verify_evaluator(net, outside).holds());
    }

    #[test]
    fn float_network_matches_closed_form() {
        let net = CappedTriangle::new(5);
        for i in -800..=800 {
            let t = i as f64 * 0.00917;
            assert!((net.eval(t) - net.eval_closed_form(t)).abs() < 1e-12, "t = {t}");
        }
    }

    #[test]
    fn width_rule_matches_the_formula() {
        let rule = WidthRule::new(1e6, 0.01).unwrap();
        let r = (2.0 * (2e8f64).ln()).sqrt();
        assert!((rule.radius() - r).abs() < 1e-12);
        assert_eq!(rule.cap(2.0), (2.0 * r).ceil() as u32);
        assert!(WidthRule::new(1e6, 1.0).is_err());
        assert!(WidthRule::new(0.5, 0.1).is_err());
    }

    #[test]
    fn triangle_wave_values() {
        assert_eq!(triangle_wave(0.25), 0.25);
        assert_eq!(triangle_wave(0.75), 0.25);
        assert_eq!(triangle_wave(-1.5), 0.5);
        assert_eq!(triangle_wave(3.0), 0.0);
    }
}
