//! Teacher labels in f32 on the CPU, in the order of operations of `shaders/teacher.wgsl`:
//! t = γ_s·(Σ_c w_c x_c summed in order of c; the sum comes with the rows, from the projection
//! of [`super::generate::gaussian_rows`]), target f = g_M(t) (φ(t) inside the cap, 0 outside;
//! the verified closed form of the capped network), label = f + ξ.
//! For the null, f = φ(U) with U = 1 − u from the phase slot; for CLWE-derived labels the
//! label's clean part is φ(t + e) (uncapped), e from the CLWE-error slot, while f stays g_M(t).

use super::generate::{LANES as SAMPLE_LANES, sample_words};
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

/// Label noise ξ (variance σ²) of model `model` from words 0 and 1 of a sample's label-noise
/// slot.
#[inline(always)]
fn label_noise(model: NoiseModel, sigma: f32, words: [u32; 2]) -> f32 {
    let (u0, u1) = (uniform_f32(words[0]), uniform_f32(words[1]));
    match model {
        NoiseModel::Gaussian => sigma * box_muller(u0, u1)[0],
        NoiseModel::Uniform => sigma * 3f32.sqrt() * (2.0 * u0 - 1.0),
        NoiseModel::Laplace => sigma * std::f32::consts::FRAC_1_SQRT_2 * (ln(u1) - ln(u0)),
    }
}

/// [`label_noise`] for the [`SAMPLE_LANES`] samples whose words are `words`: the model is
/// matched once, outside the lanes, so each model's loop vectorises.
#[inline(always)]
fn label_noise_lanes(teacher: &Teacher, words: &[[u32; SAMPLE_LANES]; 4]) -> [f32; SAMPLE_LANES] {
    let sigma = teacher.sigma;
    match teacher.noise {
        NoiseModel::Gaussian => noise_lanes(NoiseModel::Gaussian, sigma, words),
        NoiseModel::Uniform => noise_lanes(NoiseModel::Uniform, sigma, words),
        NoiseModel::Laplace => noise_lanes(NoiseModel::Laplace, sigma, words),
    }
}

/// [`label_noise`] of one model lane by lane (inlined, with the model a constant, into the
/// vectorised caller: a closure here was compiled on its own, without the caller's vector
/// extensions).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lanes index several arrays in lockstep
fn noise_lanes(model: NoiseModel, sigma: f32, words: &[[u32; SAMPLE_LANES]; 4]) -> [f32; SAMPLE_LANES] {
    let mut xi = [0f32; SAMPLE_LANES];
    for l in 0..SAMPLE_LANES {
        xi[l] = label_noise(model, sigma, [words[0][l], words[1][l]]);
    }
    xi
}

/// The slot of the words [`target_and_clean_label`] reads besides ⟨w, x⟩: the null's phase, or
/// the CLWE error of CLWE-derived labels (none for the planted problem).
fn side_slot(teacher: &Teacher) -> Option<Scalar> {
    if teacher.null {
        Some(Scalar::Phase)
    } else if teacher.phase_noise != 0.0 {
        Some(Scalar::ClweError)
    } else {
        None
    }
}

/// The noise-free target f of a sample whose inputs have ⟨w, x⟩ = `inner`, and the label's
/// clean part (f itself, or φ(t + e) with the CLWE error for CLWE-derived labels, uncapped);
/// `side` holds words 0 and 1 of the sample's [`side_slot`].
#[inline(always)]
fn target_and_clean_label(teacher: &Teacher, side: [u32; 2], inner: f32) -> (f32, f32) {
    if teacher.null {
        let f = triangle_wave_f32(1.0 - uniform_f32(side[0]));
        return (f, f);
    }
    let t = teacher.gamma_s * inner;
    let f = if t.abs() <= teacher.cap_m as f32 { triangle_wave_f32(t) } else { 0.0 };
    if teacher.phase_noise == 0.0 {
        return (f, f);
    }
    let e = teacher.phase_noise * box_muller(uniform_f32(side[0]), uniform_f32(side[1]))[0];
    (f, triangle_wave_f32(t + e))
}

crate::multiversion! {
/// Targets and labels of samples `first ..` whose inputs have the inner products `inner` with
/// the teacher's w (the projections of [`super::generate::gaussian_rows`]; unread for the
/// null), on the calling thread, the Philox words of [`SAMPLE_LANES`] samples drawn at once.
#[allow(clippy::needless_range_loop)] // lanes index several arrays in lockstep
pub fn teacher(teacher: &Teacher, scalars: &Stream, first: u64, inner: &[f32], targets: &mut [f32], labels: &mut [f32]) {
    let side = side_slot(teacher);
    for (chunk, ((inner, targets), labels)) in
        inner.chunks(SAMPLE_LANES).zip(targets.chunks_mut(SAMPLE_LANES)).zip(labels.chunks_mut(SAMPLE_LANES)).enumerate()
    {
        let index = first + (chunk * SAMPLE_LANES) as u64;
        let xi = label_noise_lanes(teacher, &sample_words(scalars, index, Scalar::LabelNoise as u32));
        let side = side.map_or([[0; SAMPLE_LANES]; 4], |slot| sample_words(scalars, index, slot as u32));
        for l in 0..inner.len() {
            let (target, clean) = target_and_clean_label(teacher, [side[0][l], side[1][l]], inner[l]);
            targets[l] = target;
            labels[l] = clean + xi[l];
        }
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::cpu::generate::gaussian_rows;
    use crate::sampling::streams::Role;

    /// Sample `index`'s target and label, one sample at a time from its own Philox words.
    fn one_sample(t: &Teacher, scalars: &Stream, index: u64, x: &[f32]) -> (f32, f32) {
        let words = |slot: Scalar| {
            let w = scalars.words(index, slot as u32);
            [w[0], w[1]]
        };
        let inner = t.w.iter().zip(x).fold(0.0f32, |acc, (w, x)| acc + w * x);
        let side = side_slot(t).map_or([0, 0], words);
        let (target, clean) = target_and_clean_label(t, side, inner);
        (target, clean + label_noise(t.noise, t.sigma, words(Scalar::LabelNoise)))
    }

    #[test]
    fn batched_labels_equal_labels_drawn_one_sample_at_a_time() {
        // 600 rows cross projection (8 and 16) and Philox (16) lane boundaries;
        // d = 13 draws with the lane kernel, d = 16 with the AVX2 one where the CPU has it.
        let (rows, first) = (600, 5_000);
        let scalars = Stream::new(3, 1, Role::TrainScalars);
        for d in [13, 16] {
            let w: Vec<f32> = (0..d).map(|c| (c as f32 - 6.0) / 20.0).collect();
            let (mut x, mut inner) = (vec![0f32; rows * d], vec![0f32; rows]);
            gaussian_rows(&Stream::new(3, 1, Role::TrainInputs), first, d, &mut x, Some((&w, &mut inner)));
            for (noise, null, phase_noise) in [
                (NoiseModel::Gaussian, false, 0.0),
                (NoiseModel::Uniform, false, 0.0),
                (NoiseModel::Laplace, false, 0.0),
                (NoiseModel::Gaussian, true, 0.0),
                (NoiseModel::Gaussian, false, 0.05),
            ] {
                let t = Teacher {
                    w: w.clone(),
                    gamma_s: 2.5,
                    cap_m: 4,
                    sigma: 0.1,
                    noise,
                    null,
                    phase_noise,
                    seed: 3,
                    instance: 1,
                };
                let (mut targets, mut labels) = (vec![0f32; rows], vec![0f32; rows]);
                teacher(&t, &scalars, first, &inner, &mut targets, &mut labels);
                for r in 0..rows {
                    let expected = one_sample(&t, &scalars, first + r as u64, &x[r * d..(r + 1) * d]);
                    assert_eq!(
                        (targets[r], labels[r]),
                        expected,
                        "d {d} {noise:?} null {null} β {phase_noise} row {r}"
                    );
                }
            }
        }
    }
}
