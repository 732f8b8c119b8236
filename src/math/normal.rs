//! Box–Muller: two uniforms in (0, 1] become two independent standard normals.
//!
//! One Philox call yields four words, hence two Box–Muller pairs: words (0, 1) give normals
//! 0 and 1 of the block, words (2, 3) give normals 2 and 3.

use super::philox::{uniform_f32, uniform_f64};
use std::f64::consts::TAU;

/// The two normals `r·cos θ, r·sin θ` with `r = √(−2 ln u₀)`, `θ = 2π u₁`, in `f64`.
#[inline(always)]
pub fn box_muller_f64(w0: u32, w1: u32) -> [f64; 2] {
    let r = (-2.0 * uniform_f64(w0).ln()).sqrt();
    let (s, c) = (TAU * uniform_f64(w1)).sin_cos();
    [r * c, r * s]
}

/// The four normals of one Philox block, in `f64`.
#[inline(always)]
pub fn block_normals_f64(words: [u32; 4]) -> [f64; 4] {
    let [a, b] = box_muller_f64(words[0], words[1]);
    let [c, d] = box_muller_f64(words[2], words[3]);
    [a, b, c, d]
}

/// The same pair in `f32` with the standard library's transcendentals: the reference the
/// fast CPU path and the GPU kernels are compared against.
#[inline(always)]
pub fn box_muller_f32(w0: u32, w1: u32) -> [f32; 2] {
    let r = (-2.0 * uniform_f32(w0).ln()).sqrt();
    let (s, c) = (std::f32::consts::TAU * uniform_f32(w1)).sin_cos();
    [r * c, r * s]
}
