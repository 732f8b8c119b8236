//! Statistical tests of the samplers with fixed seeds. Tolerances are ≥ 5 standard errors at
//! the sample sizes used, and each test fails on the error it names (a missing √(2π), β taken
//! in the wrong convention, the wrong noise variance or shape, wrong hCLWE spacing).

use super::*;
use crate::math::target::capped_triangle_network;

const N: u64 = 200_000;

fn problem(d: usize, beta: f64, sigma: f64, noise: NoiseModel) -> Problem {
    Problem::new(d, None, Some(beta), Some(sigma), noise, 20_261_121).unwrap()
}

fn rows(kind: Distribution, p: &Problem, n: u64) -> (Sampler, Vec<Vec<f64>>) {
    let s = Sampler::new(kind, p, 0, Split::Train, WidthRule::new(n as f64, 1e-3).unwrap());
    let rows = (0..n)
        .map(|i| {
            let mut r = vec![0.0; s.row_len()];
            s.fill_row(i, &mut r);
            r
        })
        .collect();
    (s, rows)
}

struct Moments {
    mean: f64,
    var: f64,
    kurtosis: f64,
}

fn moments(xs: impl Iterator<Item = f64> + Clone) -> Moments {
    let n = xs.clone().count() as f64;
    let mean = xs.clone().sum::<f64>() / n;
    let var = xs.clone().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m4 = xs.map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    Moments { mean, var, kurtosis: m4 / (var * var) }
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want} ± {tol}");
}

/// Wraps to [−½, ½).
fn wrap(t: f64) -> f64 {
    t - (t + 0.5).floor()
}

#[test]
fn clwe_inputs_have_covariance_identity_over_two_pi() {
    let p = problem(4, 0.1, 0.0, NoiseModel::Gaussian);
    let (_, rows) = rows(Distribution::Clwe, &p, N);
    let var = 1.0 / std::f64::consts::TAU;
    let se = var / (N as f64).sqrt();
    for a in 0..4 {
        for b in 0..4 {
            let c = rows.iter().map(|r| r[a] * r[b]).sum::<f64>() / N as f64;
            let (want, tol) = if a == b { (var, 6.0 * se * 2f64.sqrt()) } else { (0.0, 6.0 * se) };
            close(c, want, tol, &format!("cov[{a}][{b}]"));
        }
    }
}

#[test]
fn clwe_wrapped_residuals_have_standard_deviation_beta_over_root_two_pi() {
    let p = problem(6, 0.1, 0.0, NoiseModel::Gaussian);
    let (s, rows) = rows(Distribution::Clwe, &p, N);
    let residuals = rows.iter().map(|r| wrap(r[6] - p.gamma * dot(s.secret(), &r[..6])));
    let m = moments(residuals);
    close(m.mean, 0.0, 6.0 * p.beta_s() / (N as f64).sqrt(), "residual mean");
    close(m.var.sqrt(), p.beta_s(), 0.02 * p.beta_s(), "residual sd");
    close(m.kurtosis, 3.0, 0.1, "residual kurtosis");
}

#[test]
fn null_labels_are_uniform_and_independent_of_the_secret_direction() {
    let p = problem(6, 0.1, 0.0, NoiseModel::Gaussian);
    let (s, rows) = rows(Distribution::Null, &p, N);
    let z = moments(rows.iter().map(|r| r[6]));
    close(z.mean, 0.5, 0.005, "z mean");
    close(z.var, 1.0 / 12.0, 0.002, "z variance");
    assert!(rows.iter().all(|r| (0.0..1.0).contains(&r[6])));
    // Under CLWE the residual concentrates; under the null it is uniform (sd 1/√12).
    let residual = moments(rows.iter().map(|r| wrap(r[6] - p.gamma * dot(s.secret(), &r[..6]))));
    close(residual.var, 1.0 / 12.0, 0.002, "null residual variance");
}

#[test]
fn hclwe_components_have_the_spec_centres_and_widths() {
    let (beta, gamma) = (0.25, 3.0);
    let p = Problem::new(5, Some(gamma), Some(beta), None, NoiseModel::Gaussian, 7).unwrap();
    let (s, rows) = rows(Distribution::Hclwe, &p, N);
    let s2 = beta * beta + gamma * gamma;
    let step = gamma / s2;
    let along: Vec<f64> = rows.iter().map(|r| dot(s.secret(), r)).collect();
    // Offsets from the nearest centre γk/(β²+γ²): sd β/√(2π(β²+γ²)).
    let width = beta / (2.0 * std::f64::consts::PI * s2).sqrt();
    let offsets = moments(along.iter().map(|t| t - (t / step).round() * step));
    close(offsets.var.sqrt(), width, 0.02 * width, "component width");
    close(offsets.mean, 0.0, 6.0 * width / (N as f64).sqrt(), "component offset mean");
    // The component index k is a discrete Gaussian with variance ≈ s²/(2π).
    let ks = moments(along.iter().map(|t| (t / step).round()));
    close(ks.mean, 0.0, 0.02, "component index mean");
    close(ks.var, s2 / std::f64::consts::TAU, 0.03 * s2 / std::f64::consts::TAU, "component index variance");
    // Orthogonal to w the sample is N(0, I/(2π)).
    let orth = moments(rows.iter().zip(&along).map(|(r, t)| r[0] - t * s.secret()[0]));
    let want = (1.0 - s.secret()[0].powi(2)) / std::f64::consts::TAU;
    close(orth.var, want, 0.02 * want, "orthogonal variance");
}

#[test]
fn planted_labels_have_mean_a_quarter_and_variance_one_48th_plus_sigma_squared() {
    let sigma = 0.2;
    // Kurtosis of the noise identifies the model: 3 (Gaussian), 1.8 (uniform), 6 (Laplace).
    for (noise, kurtosis) in [(NoiseModel::Gaussian, 3.0), (NoiseModel::Uniform, 1.8), (NoiseModel::Laplace, 6.0)] {
        let p = problem(8, 0.0, sigma, noise);
        let (s, rows) = rows(Distribution::Planted, &p, N);
        let labels = moments(rows.iter().map(|r| r[8]));
        close(labels.mean, 0.25, 0.005, "label mean");
        close(labels.var, 1.0 / 48.0 + sigma * sigma, 0.03 * (1.0 / 48.0 + sigma * sigma), "label variance");
        let noise_only = moments(rows.iter().map(|r| r[8] - triangle_wave(p.gamma_s() * dot(s.secret(), &r[..8]))));
        close(noise_only.var, sigma * sigma, 0.02 * sigma * sigma, &format!("{noise:?} noise variance"));
        close(noise_only.kurtosis, kurtosis, 0.08 * kurtosis, &format!("{noise:?} noise kurtosis"));
    }
}

#[test]
fn planted_null_has_the_same_label_marginal_and_no_signal() {
    let sigma = 0.1;
    let p = problem(8, 0.0, sigma, NoiseModel::Gaussian);
    let (s, rows) = rows(Distribution::PlantedNull, &p, N);
    let labels = moments(rows.iter().map(|r| r[8]));
    close(labels.mean, 0.25, 0.005, "null label mean");
    close(labels.var, 1.0 / 48.0 + sigma * sigma, 0.03 * (1.0 / 48.0 + sigma * sigma), "null label variance");
    let target: Vec<f64> = rows.iter().map(|r| triangle_wave(p.gamma_s() * dot(s.secret(), &r[..8]))).collect();
    let cov = rows.iter().zip(&target).map(|(r, f)| (r[8] - 0.25) * (f - 0.25)).sum::<f64>() / N as f64;
    close(cov, 0.0, 6.0 * (labels.var / 48.0 / N as f64).sqrt(), "label-target covariance under the null");
}

#[test]
fn noiseless_planted_labels_equal_the_teacher_network() {
    let p = problem(16, 0.0, 0.0, NoiseModel::Gaussian);
    let (s, rows) = rows(Distribution::Planted, &p, 2_000);
    let teacher = capped_triangle_network(s.secret(), p.gamma_s(), s.cap());
    for r in &rows {
        let got = teacher.eval(&r[..16]);
        assert!((got - r[16]).abs() < 1e-9 * teacher.width() as f64, "{got} vs {}", r[16]);
    }
}

#[test]
fn rows_depend_only_on_seed_instance_split_and_index() {
    let p = problem(5, 0.1, 0.1, NoiseModel::Laplace);
    let rule = WidthRule::new(100.0, 0.01).unwrap();
    let row = |p: &Problem, instance, split, i| {
        let s = Sampler::new(Distribution::Planted, p, instance, split, rule);
        let mut r = vec![0.0; s.row_len()];
        s.fill_row(i, &mut r);
        r
    };
    assert_eq!(row(&p, 0, Split::Train, 17), row(&p, 0, Split::Train, 17));
    assert_ne!(row(&p, 0, Split::Train, 17), row(&p, 0, Split::Train, 18));
    assert_ne!(row(&p, 0, Split::Train, 17), row(&p, 0, Split::Test, 17));
    assert_ne!(row(&p, 0, Split::Train, 17), row(&p, 1, Split::Train, 17));
    let other_seed = Problem { seed: p.seed + 1, ..p.clone() };
    assert_ne!(row(&p, 0, Split::Train, 17), row(&other_seed, 0, Split::Train, 17));
}

#[test]
fn secret_is_a_unit_vector() {
    let w = secret_direction(3, 0, 37);
    close(dot(&w, &w), 1.0, 1e-12, "‖w‖²");
}

#[test]
fn clwe_derived_labels_carry_the_clwe_error_inside_the_triangle_wave() {
    // ℓ = φ(t + e) with e ~ N(0, β_s²) and σ = 0: φ is 1-Lipschitz, so (ℓ − φ(t))² ≤ e², with
    // equality away from the kinks of φ (a fraction ≈ 4·E|e| of samples is near one).
    let p = problem(6, 0.05, 0.0, NoiseModel::Gaussian);
    let (s, rows) = rows(Distribution::ClweDerived, &p, N);
    let m = moments(rows.iter().map(|r| r[6] - triangle_wave(p.gamma_s() * dot(s.secret(), &r[..6]))));
    let second = m.var + m.mean * m.mean;
    let beta_s2 = p.beta_s() * p.beta_s();
    assert!(second <= beta_s2 * 1.02 && second >= 0.8 * beta_s2, "E(ℓ − φ(t))² = {second}, β_s² = {beta_s2}");
}
