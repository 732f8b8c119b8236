//! Experiment 1 (SPEC §10): verify the capped ReLU construction and tabulate the width rule.
//!
//! For each d: the cap M and width k = 4M+1 from the width rule, compared with √(d ln d); the
//! exact rational verification of g_M; and f_NN(x) = φ(γ_s⟨w,x⟩) on random Gaussian x inside the
//! cap, evaluated as a literal k-neuron network over ℝ^d in f64.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::math::target::{CappedTriangle, WidthRule, capped_triangle_network, dot, triangle_wave, verify_exact};
use crate::params::{NoiseModel, ParamError, Problem};
use crate::reporting::atomic::write_file_atomically;
use crate::reporting::table::markdown_table;
use crate::sampling::secret_direction;
use crate::sampling::streams::{Role, Stream};

/// Random inputs checked per dimension.
pub const RANDOM_POINTS: u64 = 20_000;

/// One row of the width table.
#[derive(Clone, Debug, Serialize)]
pub struct ConstructionRow {
    /// Input dimension.
    pub d: usize,
    /// γ, lattice convention.
    pub gamma: f64,
    /// γ_s = γ/√(2π).
    pub gamma_s: f64,
    /// Samples the network must be exact on.
    pub n_total: f64,
    /// Failure budget.
    pub delta: f64,
    /// R = √(2 ln(2 N_tot/δ)).
    pub radius: f64,
    /// Cap M = ⌈γ_s R⌉.
    pub cap_m: u32,
    /// Width k = 4M + 1.
    pub width_k: usize,
    /// √(d ln d) (absent at d = 1, where it is 0).
    pub sqrt_d_ln_d: Option<f64>,
    /// k / √(d ln d).
    pub width_ratio: Option<f64>,
    /// Rational points of the exact check.
    pub exact_points: usize,
    /// Whether the exact check proved g_M ≡ φ on [−M, M] and ≡ 0 outside.
    pub exact_verified: bool,
    /// Random inputs inside the cap at which f_NN was evaluated.
    pub random_points: u64,
    /// max |f_NN(x) − φ(γ_s⟨w,x⟩)| over them.
    pub max_deviation: f64,
    /// The tolerance for that deviation (64 k M ε, f64 rounding of a k-term sum).
    pub tolerance: f64,
    /// Exact check and random check both passed.
    pub verified: bool,
    /// The seed of the secret and the random inputs.
    pub seed: u64,
}

/// Verifies the construction at dimension `d` (γ defaults to 2√d).
pub fn construction_row(
    d: usize,
    gamma: Option<f64>,
    rule: WidthRule,
    seed: u64,
) -> Result<ConstructionRow, ParamError> {
    let problem = Problem::new(d, gamma, None, None, NoiseModel::Gaussian, seed)?;
    let gamma_s = problem.gamma_s();
    let cap = CappedTriangle::new(rule.cap(gamma_s));
    let exact = verify_exact(cap);
    let w = secret_direction(seed, 0, d);
    let teacher = capped_triangle_network(&w, gamma_s, cap);
    let inputs = Stream::new(seed, 0, Role::TestInputs);
    let (random_points, max_deviation) = (0..RANDOM_POINTS)
        .into_par_iter()
        .map_init(
            || vec![0.0; d],
            |x, i| {
                inputs.normals_f64(i, x);
                let t = gamma_s * dot(&w, x);
                if t.abs() > f64::from(cap.cap()) { (0, 0.0) } else { (1, (teacher.eval(x) - triangle_wave(t)).abs()) }
            },
        )
        .reduce(|| (0, 0.0), |a, b| (a.0 + b.0, a.1.max(b.1)));
    let tolerance = 64.0 * cap.width() as f64 * f64::from(cap.cap()) * f64::EPSILON;
    let sqrt_d_ln_d = (d > 1).then(|| (d as f64 * (d as f64).ln()).sqrt());
    Ok(ConstructionRow {
        d,
        gamma: problem.gamma,
        gamma_s,
        n_total: rule.n_total,
        delta: rule.delta,
        radius: rule.radius(),
        cap_m: cap.cap(),
        width_k: cap.width(),
        sqrt_d_ln_d,
        width_ratio: sqrt_d_ln_d.map(|s| cap.width() as f64 / s),
        exact_points: exact.points,
        exact_verified: exact.holds(),
        random_points,
        max_deviation,
        tolerance,
        verified: exact.holds() && random_points > 0 && max_deviation <= tolerance,
        seed,
    })
}

/// The width table as markdown.
pub fn markdown(rows: &[ConstructionRow]) -> String {
    let opt = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.d.to_string(),
                format!("{:.3}", r.gamma),
                format!("{:.3}", r.gamma_s),
                format!("{:.3}", r.radius),
                r.cap_m.to_string(),
                r.width_k.to_string(),
                opt(r.sqrt_d_ln_d),
                opt(r.width_ratio),
                if r.verified { "yes".into() } else { "**NO**".into() },
                format!("{:.1e}", r.max_deviation),
            ]
        })
        .collect();
    let (n_total, delta) = rows.first().map_or((0.0, 0.0), |r| (r.n_total, r.delta));
    format!(
        "# The capped ReLU construction (SPEC §5)\n\nWidth rule: N_tot = {n_total:e}, δ = {delta}; \
         R = √(2 ln(2 N_tot/δ)), M = ⌈γ_s R⌉, k = 4M + 1. γ in the lattice convention, γ_s = γ/√(2π).\n\
         \"verified\": g_M ≡ φ on [−M, M] and ≡ 0 outside, proved in exact rational arithmetic, and \
         f_NN(x) = φ(γ_s⟨w,x⟩) at {RANDOM_POINTS} random Gaussian x inside the cap (max deviation shown, \
         f64 tolerance 64·k·M·ε).\n\n{}",
        markdown_table(
            &["d", "γ", "γ_s", "R", "M", "k", "√(d ln d)", "k/√(d ln d)", "verified", "max deviation"],
            &body,
        )
    )
}

/// Writes `construction.md` and `construction.json` under `dir`, atomically.
pub fn write_results(rows: &[ConstructionRow], dir: &Path) -> std::io::Result<()> {
    write_file_atomically(&dir.join("construction.md"), markdown(rows).as_bytes())?;
    let json = serde_json::to_vec_pretty(rows).map_err(std::io::Error::other)?;
    write_file_atomically(&dir.join("construction.json"), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_dimensions_verify_and_follow_the_width_rule() {
        let rule = WidthRule::new(1e4, 0.01).unwrap();
        for d in [1, 2, 8] {
            let row = construction_row(d, None, rule, 0).unwrap();
            assert!(row.verified, "{row:?}");
            assert_eq!(row.width_k, 4 * row.cap_m as usize + 1);
            assert_eq!(row.cap_m, (row.gamma_s * row.radius).ceil() as u32);
            assert!(row.random_points > RANDOM_POINTS * 99 / 100);
        }
    }
}
