//! The discrete mixture behind homogeneous CLWE: the component index k with
//! P(k) ∝ exp(−πk²/(β² + γ²)), |k| ≤ ⌈10√(β² + γ²)⌉, and the offset t along w.

use crate::params::SQRT_TAU;

/// The cumulative table of the component index k and the offset distribution.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentTable {
    /// Smallest k in the table (−K).
    first: i64,
    /// Cumulative probabilities, normalised so the last entry is 1.
    cumulative: Vec<f64>,
    /// γ/(β² + γ²): the spacing of the component centres.
    centre_step: f64,
    /// β/√(2π(β² + γ²)): the standard deviation of each component along w.
    width: f64,
}

impl ComponentTable {
    /// The table for noise β and frequency γ (lattice convention).
    pub fn new(beta: f64, gamma: f64) -> Self {
        let s2 = beta * beta + gamma * gamma;
        let k_max = (10.0 * s2.sqrt()).ceil() as i64;
        let weights = (-k_max..=k_max).map(|k| (-std::f64::consts::PI * (k * k) as f64 / s2).exp());
        let mut cumulative: Vec<f64> = weights
            .scan(0.0, |acc, w| {
                *acc += w;
                Some(*acc)
            })
            .collect();
        let total = *cumulative.last().expect("non-empty table");
        cumulative.iter_mut().for_each(|c| *c /= total);
        Self { first: -k_max, cumulative, centre_step: gamma / s2, width: beta / (SQRT_TAU * s2.sqrt()) }
    }

    /// The component index for a uniform `u` in (0, 1] (inverse CDF).
    pub fn component(&self, u: f64) -> i64 {
        let i = self.cumulative.partition_point(|&c| c < u).min(self.cumulative.len() - 1);
        self.first + i as i64
    }

    /// The offset t = γk/(β² + γ²) + width·n for a uniform `u` (picks k) and a normal `n`.
    pub fn offset(&self, u: f64, n: f64) -> f64 {
        self.component(u) as f64 * self.centre_step + self.width * n
    }

    /// The standard deviation along w of one component.
    pub fn width(&self) -> f64 {
        self.width
    }
}
