//! Attack instances in extended precision: inputs are exactly representable f64 values (the
//! usual Gaussian draws of the train stream), while the secret w = g/‖g‖ and the reals of each
//! sample (the CLWE phase z, the triangle label ℓ, the hCLWE offset) are computed in fixed point
//! with P fractional bits, so recovery works far beyond what f64 data allows. The frequency used
//! is the f64 value of γ (or γ_s), taken as exact.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::AttackMode;
use crate::params::{Problem, SQRT_TAU};
use crate::sampling::hclwe::ComponentTable;
use crate::sampling::streams::{Role, Scalar, Stream};

/// `v` in fixed point with `p` fractional bits (exact whenever v is a multiple of 2^−p).
pub(super) fn fixed(v: f64, p: u32) -> BigInt {
    let r = BigRational::from_float(v).expect("finite");
    round_rational(&(r * BigRational::from_integer(BigInt::one() << p)))
}

pub(super) fn round_rational(r: &BigRational) -> BigInt {
    let two = BigInt::from(2);
    (r.numer() * &two + r.denom()).div_floor(&(r.denom() * &two))
}

/// A fixed-point value with `p` fractional bits as f64: cut to its 64 leading bits first, since
/// the integer may exceed f64's range (2^1024, reached once P passes ~900 bits) where a direct
/// conversion gives ±∞; the scale 2^(shift − p) is applied in two halves so that neither
/// underflows when the product does not.
pub(super) fn fixed_to_f64(v: &BigInt, p: u32) -> f64 {
    let shift = v.bits().saturating_sub(64);
    let mantissa = (v >> shift).to_f64().unwrap_or(f64::NAN);
    let e = shift as i32 - p as i32;
    mantissa * 2f64.powi(e / 2) * 2f64.powi(e - e / 2)
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
pub(super) struct Samples {
    /// Inputs as f64 (exact).
    pub inputs: Vec<Vec<f64>>,
    /// Inputs in fixed point (P bits).
    pub exact_inputs: Vec<Vec<BigInt>>,
    /// The reals of each sample in fixed point (P bits); zero for hCLWE.
    pub labels: Vec<BigInt>,
}

/// Samples first..first+n of `mode` for `instance` of `problem`, in fixed point with `p` bits.
pub(super) fn draw(
    mode: AttackMode,
    problem: &Problem,
    instance: u32,
    clwe_derived: bool,
    first: u64,
    n: u64,
    p: u32,
) -> Samples {
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
        out.inputs.push(exact.iter().map(|v| fixed_to_f64(v, p)).collect());
        out.exact_inputs.push(exact);
        out.labels.push(label);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_converts_to_f64_beyond_f64_range() {
        for p in [128, 200, 1100, 4000] {
            for v in [0.785_398_163_397_448_2, -2.5, 3e-9] {
                let back = fixed_to_f64(&fixed(v, p), p);
                assert!((back - v).abs() <= 1e-15 * v.abs(), "p = {p}: {v} → {back}");
            }
        }
    }
}
