//! Teacher labels in f32 on the CPU, in the order of operations of `shaders/teacher.wgsl`:
//! t = γ_s·(Σ_c w_c x_c summed in order of c), target f = g_M(t) (φ(t) inside the cap, 0
//! outside; the verified closed form of the capped network), label = f + ξ.
//! For the null, f = φ(U) with U = 1 − u from the phase slot; for CLWE-derived labels the
//! label's clean part is φ(t + e) (uncapped), e from the CLWE-error slot, while f stays g_M(t).

use rayon::prelude::*;

use crate::backends::Teacher;
use crate::math::fastmath::{box_muller, ln};
use crate::math::philox::uniform_f32;
use crate::params::NoiseModel;
use crate::sampling::streams::{Scalar, Stream};

/// φ(t) = |t − round(t)| in f32.
#[inline(always)]
pub fn triangle_wave_f32(t: f32) -> f32 {
    (t - t.round()).abs()
}

/// Label noise ξ of sample `index` (variance σ²).
#[inline(always)]
pub fn label_noise(teacher: &Teacher, scalars: &Stream, index: u64) -> f32 {
    let w = scalars.words(index, Scalar::LabelNoise as u32);
    let (u0, u1) = (uniform_f32(w[0]), uniform_f32(w[1]));
    let sigma = teacher.sigma;
    match teacher.noise {
        NoiseModel::Gaussian => sigma * box_muller(u0, u1)[0],
        NoiseModel::Uniform => sigma * 3f32.sqrt() * (2.0 * u0 - 1.0),
        NoiseModel::Laplace => sigma * std::f32::consts::FRAC_1_SQRT_2 * (ln(u1) - ln(u0)),
    }
}

/// The noise-free target f of sample `index` with inputs `x`, and the label's clean part
/// (f itself, or φ(t + e) with the CLWE error for CLWE-derived labels, uncapped).
#[inline(always)]
pub fn target_and_clean_label(teacher: &Teacher, scalars: &Stream, index: u64, x: &[f32]) -> (f32, f32) {
    if teacher.null {
        let u = uniform_f32(scalars.words(index, Scalar::Phase as u32)[0]);
        let f = triangle_wave_f32(1.0 - u);
        return (f, f);
    }
    let inner = teacher.w.iter().zip(x).fold(0.0f32, |acc, (w, x)| acc + w * x);
    let t = teacher.gamma_s * inner;
    let f = if t.abs() <= teacher.cap_m as f32 { triangle_wave_f32(t) } else { 0.0 };
    if teacher.phase_noise == 0.0 {
        return (f, f);
    }
    let w = scalars.words(index, Scalar::ClweError as u32);
    let e = teacher.phase_noise * box_muller(uniform_f32(w[0]), uniform_f32(w[1]))[0];
    (f, triangle_wave_f32(t + e))
}

/// Targets and labels of samples `first ..` whose inputs are the rows of `x`.
pub fn teacher(teacher: &Teacher, scalars: &Stream, first: u64, x: &[f32], targets: &mut [f32], labels: &mut [f32]) {
    let d = teacher.w.len();
    x.par_chunks(d).zip(targets.par_iter_mut()).zip(labels.par_iter_mut()).enumerate().for_each(|(r, ((x, f), l))| {
        let index = first + r as u64;
        let (target, clean) = target_and_clean_label(teacher, scalars, index, x);
        *f = target;
        *l = clean + label_noise(teacher, scalars, index);
    });
}
