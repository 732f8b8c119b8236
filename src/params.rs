//! Problem parameters in the conventions of SPEC §2, validated once at the boundary.
//!
//! γ and β are taken in the lattice convention (y ~ N(0, I/(2π)), the hardness threshold reads
//! γ ≥ 2√d); σ, the label-noise standard deviation, in the standard convention (x ~ N(0, I)).
//! `γ_s = γ/√(2π)` and `β_s = β/√(2π)` are the standard-convention equivalents.

use serde::{Deserialize, Serialize};
use std::fmt::Display;

/// √(2π): the factor between the lattice and the standard convention.
pub const SQRT_TAU: f64 = 2.506_628_274_631_000_5;
/// Largest input dimension the suite accepts.
pub const MAX_DIM: usize = 1 << 20;
/// Largest frequency γ: beyond it the teacher's cap and the hCLWE component table outgrow memory
/// (2√d at the largest d is 2048).
pub const MAX_GAMMA: f64 = 65536.0;
/// Largest noise β or σ: far above the label range [0, ½], and small enough that every noise
/// model's samples stay finite.
pub const MAX_NOISE: f64 = 1e6;

/// A parameter outside its valid range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {name} = {value}: expected {expected}")]
pub struct ParamError {
    /// The flag or field, as the user wrote it (`--d`, `--gamma`, …).
    pub name: String,
    /// The offending value, as text.
    pub value: String,
    /// The valid range, in words.
    pub expected: String,
}

/// `Ok(())` when `ok`, else a [`ParamError`] naming `name`, `value` and `expected`.
pub fn ensure(ok: bool, name: &str, value: impl Display, expected: &str) -> Result<(), ParamError> {
    if ok { Ok(()) } else { Err(ParamError { name: name.into(), value: value.to_string(), expected: expected.into() }) }
}

/// Distribution of the label noise ξ; all three have variance σ². The discriminant is the code
/// the shaders read in `Dims::noise` (`NOISE_*` in shaders/common.wgsl, checked by a test).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
#[repr(u32)]
pub enum NoiseModel {
    /// N(0, σ²).
    Gaussian = 0,
    /// U[−σ√3, σ√3].
    Uniform = 1,
    /// Laplace with scale σ/√2.
    Laplace = 2,
}

impl NoiseModel {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gaussian => "gaussian",
            Self::Uniform => "uniform",
            Self::Laplace => "laplace",
        }
    }
}

/// The parameters of one problem instance family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Input dimension d ≥ 1.
    pub d: usize,
    /// Frequency γ > 0, lattice convention.
    pub gamma: f64,
    /// CLWE noise β ≥ 0, lattice convention.
    pub beta: f64,
    /// Label-noise standard deviation σ ≥ 0, standard convention.
    pub sigma: f64,
    /// Label-noise distribution.
    pub noise: NoiseModel,
    /// The 64-bit run seed (the Philox key).
    pub seed: u64,
}

impl Problem {
    /// The default frequency γ = 2√d, the hardness threshold.
    pub fn default_gamma(d: usize) -> f64 {
        2.0 * (d as f64).sqrt()
    }

    /// Validated parameters; `None` takes the defaults γ = 2√d, β = 1/d, σ = 1/d.
    pub fn new(
        d: usize,
        gamma: Option<f64>,
        beta: Option<f64>,
        sigma: Option<f64>,
        noise: NoiseModel,
        seed: u64,
    ) -> Result<Self, ParamError> {
        ensure((1..=MAX_DIM).contains(&d), "--d", d, &format!("an integer in 1..={MAX_DIM}"))?;
        let gamma = gamma.unwrap_or_else(|| Self::default_gamma(d));
        let beta = beta.unwrap_or(1.0 / d as f64);
        let sigma = sigma.unwrap_or(1.0 / d as f64);
        ensure(gamma > 0.0 && gamma <= MAX_GAMMA, "--gamma", gamma, &format!("a number in (0, {MAX_GAMMA}]"))?;
        ensure((0.0..=MAX_NOISE).contains(&beta), "--beta", beta, &format!("a number in [0, {MAX_NOISE:e}]"))?;
        ensure((0.0..=MAX_NOISE).contains(&sigma), "--sigma", sigma, &format!("a number in [0, {MAX_NOISE:e}]"))?;
        Ok(Self { d, gamma, beta, sigma, noise, seed })
    }

    /// γ_s = γ/√(2π): the frequency in the standard convention.
    pub fn gamma_s(&self) -> f64 {
        self.gamma / SQRT_TAU
    }

    /// β_s = β/√(2π): the CLWE noise standard deviation in the standard convention.
    pub fn beta_s(&self) -> f64 {
        self.beta / SQRT_TAU
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let p = Problem::new(16, None, None, None, NoiseModel::Gaussian, 0).unwrap();
        assert_eq!(p.gamma, 8.0);
        assert_eq!(p.beta, 1.0 / 16.0);
        assert_eq!(p.sigma, 1.0 / 16.0);
        assert!((p.gamma_s() * (2.0 * std::f64::consts::PI).sqrt() - 8.0).abs() < 1e-12);
    }

    #[test]
    fn bad_values_name_the_flag_value_and_range() {
        let err = Problem::new(0, None, None, None, NoiseModel::Gaussian, 0).unwrap_err();
        assert_eq!(err.name, "--d");
        assert!(err.to_string().contains("1..="), "{err}");
        for (gamma, beta, sigma, flag) in [
            (Some(f64::NAN), None, None, "--gamma"),
            (Some(-1.0), None, None, "--gamma"),
            (None, Some(-0.1), None, "--beta"),
            (None, None, Some(f64::INFINITY), "--sigma"),
            (Some(1e8), None, None, "--gamma"),
            (Some(1e300), None, None, "--gamma"),
            (None, None, Some(1e308), "--sigma"),
        ] {
            let err = Problem::new(4, gamma, beta, sigma, NoiseModel::Uniform, 0).unwrap_err();
            assert_eq!(err.name, flag);
        }
    }
}
