//! Branch-free `f32` transcendentals for the Box–Muller transform, written so that the same
//! polynomial runs on CPU lanes (auto-vectorised) and in `shaders/philox.wgsl`.
//!
//! Accuracy (tested against `f64`): `ln` within 2e-7 relative on (0, 1]; `sincos_2pi` within
//! 2e-7 absolute. Both use only `+ − × /`, comparisons and bit manipulation.

use std::f32::consts::{LN_2, TAU};

/// ln(u) for a normal, positive `u`.
#[inline(always)]
pub fn ln(u: f32) -> f32 {
    let bits = u.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh(f), f = (m − 1)/(m + 1) ∈ [−0.1716, 0.1716].
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    let series = 1.0 + f2 * (1.0 / 3.0 + f2 * (1.0 / 5.0 + f2 * (1.0 / 7.0 + f2 * (1.0 / 9.0))));
    e as f32 * LN_2 + 2.0 * f * series
}

/// (sin 2πx, cos 2πx).
#[inline(always)]
pub fn sincos_2pi(x: f32) -> (f32, f32) {
    // Reduce to r ∈ [−1/8, 1/8] and a quadrant q: 2πx = 2πr + q·π/2.
    let quarter_turns = (x * 4.0 + 0.5).floor(); // floor(·+½), not round(): WGSL rounds half to even
    let r = x - quarter_turns * 0.25;
    // q = quarter_turns mod 4 from the float's bits: n + 1.5·2²³ lies in [2²³, 2²⁴), where the
    // mantissa counts whole units, for |n| < 2²², and its low two bits are n mod 4 (2²² ≡ 0).
    // An `as i32` cast saturates lane by lane, which does not vectorise.
    let q = ((quarter_turns + 12_582_912.0).to_bits() & 3) as i32;
    let t = r * TAU;
    let t2 = t * t;
    let s = t * (1.0 + t2 * (-1.0 / 6.0 + t2 * (1.0 / 120.0 + t2 * (-1.0 / 5040.0 + t2 * (1.0 / 362_880.0)))));
    let c = 1.0 + t2 * (-0.5 + t2 * (1.0 / 24.0 + t2 * (-1.0 / 720.0 + t2 * (1.0 / 40_320.0))));
    // Rotate by q quarter turns without branches (multiplying by ±1 is exact).
    let (s, c) = if q & 1 == 1 { (c, s) } else { (s, c) };
    let sin_sign = 1.0 - 2.0 * ((q >> 1) & 1) as f32;
    let cos_sign = 1.0 - 2.0 * (((q + 1) >> 1) & 1) as f32;
    (sin_sign * s, cos_sign * c)
}

/// Box–Muller on two uniforms: `(r cos θ, r sin θ)`, r = √(−2 ln u₀), θ = 2π u₁.
#[inline(always)]
pub fn box_muller(u0: f32, u1: f32) -> [f32; 2] {
    let r = (-2.0 * ln(u0)).sqrt();
    let (s, c) = sincos_2pi(u1);
    [r * c, r * s]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_is_accurate_on_the_unit_interval() {
        let mut worst: f64 = 0.0;
        for i in 0..200_000u32 {
            let u = crate::math::philox::uniform_f32(i.wrapping_mul(2_654_435_761));
            let exact = f64::from(u).ln();
            let err = (f64::from(ln(u)) - exact).abs() / exact.abs().max(1e-30);
            worst = worst.max(if u == 1.0 { f64::from(ln(u)).abs() } else { err });
        }
        assert!(worst < 2e-7, "worst relative error {worst}");
    }

    #[test]
    fn sincos_is_accurate_on_the_unit_interval_and_beyond_it_in_both_directions() {
        let mut worst: f64 = 0.0;
        // Every quadrant of turns −2 … 2 (the quadrant comes from the float's bits, mod 4).
        for i in -200_000..=200_000 {
            let x = i as f32 / 100_000.0;
            let (s, c) = sincos_2pi(x);
            let (es, ec) = (std::f64::consts::TAU * f64::from(x)).sin_cos();
            worst = worst.max((f64::from(s) - es).abs()).max((f64::from(c) - ec).abs());
        }
        assert!(worst < 2e-7, "worst absolute error {worst}");
    }
}
