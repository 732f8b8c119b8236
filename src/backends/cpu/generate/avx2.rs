//! The Gaussian batch in AVX2 intrinsics, for CPUs without AVX-512: Philox4x32-10 on eight
//! counters per vector, the exact `f32` uniforms and the Box–Muller polynomial of
//! [`crate::math::fastmath`], operation for operation (multiplications and additions kept
//! separate, as the scalar code is compiled), so the numbers are bit-identical to the lane
//! kernel's. LLVM vectorises that kernel too, but widens each 32×32→64 product to 64-bit lanes
//! with shuffles around it, emulates the uniforms' leading-zero count byte by byte, and passes
//! counters and normals through the stack between its loops; here they stay in registers.

use std::arch::x86_64::*;

use super::{Key, LANES, PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1};
use crate::sampling::streams::Stream;

/// Philox4x32-10 on `N` groups of eight counters (word w of lane l of group g in `c[g][w]`,
/// lane l), the groups' rounds interleaved so their dependency chains overlap.
#[inline]
#[target_feature(enable = "avx2")]
fn philox<const N: usize>(mut c: [[__m256i; 4]; N], key: Key) -> [[__m256i; 4]; N] {
    let (m0, m1) = (_mm256_set1_epi32(PHILOX_M0 as i32), _mm256_set1_epi32(PHILOX_M1 as i32));
    // (hi, lo) words of m·a lane by lane: two `vpmuludq` (even and odd lanes) and two blends.
    let mulhilo = |m: __m256i, a: __m256i| {
        let even = _mm256_mul_epu32(a, m);
        let odd = _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), m);
        let lo = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
        let hi = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
        (hi, lo)
    };
    let mut key = key;
    for round in 0..PHILOX_ROUNDS {
        if round > 0 {
            key = [key[0].wrapping_add(PHILOX_W0), key[1].wrapping_add(PHILOX_W1)];
        }
        let (k0, k1) = (_mm256_set1_epi32(key[0] as i32), _mm256_set1_epi32(key[1] as i32));
        for c in &mut c {
            let (hi0, lo0) = mulhilo(m0, c[0]);
            let (hi1, lo1) = mulhilo(m1, c[2]);
            *c = [
                _mm256_xor_si256(_mm256_xor_si256(hi1, c[1]), k0),
                lo1,
                _mm256_xor_si256(_mm256_xor_si256(hi0, c[3]), k1),
                lo0,
            ];
        }
    }
    c
}

/// Philox4x32-10 on `LANES` counters, 8 at a time (the words of [`super::sample_words`]).
#[inline]
#[target_feature(enable = "avx2")]
pub fn philox_lanes(ctr: &mut [[u32; LANES]; 4], key: Key) {
    for half in 0..LANES / 8 {
        let lanes = 8 * half..8 * half + 8;
        // SAFETY: each load and store covers 8 words of a LANES-word array.
        let c = ctr.each_ref().map(|w| unsafe { _mm256_loadu_si256(w[lanes.clone()].as_ptr().cast()) });
        let [c] = philox([c], key);
        for (w, c) in ctr.iter_mut().zip(c) {
            // SAFETY: as for the loads.
            unsafe { _mm256_storeu_si256(w[lanes.clone()].as_mut_ptr().cast(), c) };
        }
    }
}

/// [`crate::math::philox::uniform_f32`] lane by lane: (x + 1)/2³² truncated to 24 significant
/// bits, 1 for x = 2³² − 1. The bits under the top 24 significant ones are cleared with a mask
/// from the value smeared rightwards (no leading-zero count, which AVX2 lacks); the at most 24
/// significant bits left convert exactly as 2¹⁶·hi + lo, and 2⁻³² scales exactly.
#[inline]
#[target_feature(enable = "avx2")]
fn uniform8(x: __m256i) -> __m256 {
    let v = _mm256_add_epi32(x, _mm256_set1_epi32(1));
    let mut smear = _mm256_or_si256(v, _mm256_srli_epi32::<1>(v));
    smear = _mm256_or_si256(smear, _mm256_srli_epi32::<2>(smear));
    smear = _mm256_or_si256(smear, _mm256_srli_epi32::<4>(smear));
    smear = _mm256_or_si256(smear, _mm256_srli_epi32::<8>(smear));
    smear = _mm256_or_si256(smear, _mm256_srli_epi32::<16>(smear));
    let kept = _mm256_andnot_si256(_mm256_srli_epi32::<24>(smear), v);
    let hi = _mm256_cvtepi32_ps(_mm256_srli_epi32::<16>(kept));
    let lo = _mm256_cvtepi32_ps(_mm256_and_si256(kept, _mm256_set1_epi32(0xffff)));
    let value = _mm256_add_ps(_mm256_mul_ps(hi, _mm256_set1_ps(65_536.0)), lo);
    let u = _mm256_mul_ps(value, _mm256_set1_ps(1.0 / 4_294_967_296.0));
    let wrapped = _mm256_castsi256_ps(_mm256_cmpeq_epi32(v, _mm256_setzero_si256()));
    _mm256_blendv_ps(u, _mm256_set1_ps(1.0), wrapped)
}

/// a·b + c as the scalar code computes it: two roundings.
#[inline]
#[target_feature(enable = "avx2")]
fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
    _mm256_add_ps(_mm256_mul_ps(a, b), c)
}

/// The polynomial c₀ + x·(c₁ + x·(… + x·cₙ)) in the scalar code's order.
#[inline]
#[target_feature(enable = "avx2")]
fn horner(x: __m256, coefficients: &[f32]) -> __m256 {
    let (&last, rest) = coefficients.split_last().expect("a coefficient");
    rest.iter().rev().fold(_mm256_set1_ps(last), |acc, &c| mul_add(x, acc, _mm256_set1_ps(c)))
}

/// [`crate::math::fastmath::ln`] lane by lane.
#[inline]
#[target_feature(enable = "avx2")]
fn ln8(u: __m256) -> __m256 {
    let bits = _mm256_castps_si256(u);
    let exponent = _mm256_sub_epi32(
        _mm256_and_si256(_mm256_srli_epi32::<23>(bits), _mm256_set1_epi32(0xff)),
        _mm256_set1_epi32(127),
    );
    let m = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x007f_ffff)),
        _mm256_set1_epi32(0x3f80_0000),
    ));
    let above = _mm256_cmp_ps::<_CMP_GT_OQ>(m, _mm256_set1_ps(std::f32::consts::SQRT_2));
    let m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5)), above);
    // `above` is all ones (−1) where m was halved: subtracting it adds 1 to the exponent.
    let exponent = _mm256_sub_epi32(exponent, _mm256_castps_si256(above));
    let one = _mm256_set1_ps(1.0);
    let f = _mm256_div_ps(_mm256_sub_ps(m, one), _mm256_add_ps(m, one));
    let f2 = _mm256_mul_ps(f, f);
    let series = horner(f2, &[1.0, 1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0, 1.0 / 9.0]);
    let scaled_exponent = _mm256_mul_ps(_mm256_cvtepi32_ps(exponent), _mm256_set1_ps(std::f32::consts::LN_2));
    _mm256_add_ps(scaled_exponent, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(2.0), f), series))
}

/// [`crate::math::fastmath::sincos_2pi`] lane by lane: (sin 2πx, cos 2πx).
#[inline]
#[target_feature(enable = "avx2")]
fn sincos8(x: __m256) -> (__m256, __m256) {
    let quarter_turns = _mm256_floor_ps(mul_add(x, _mm256_set1_ps(4.0), _mm256_set1_ps(0.5)));
    let r = _mm256_sub_ps(x, _mm256_mul_ps(quarter_turns, _mm256_set1_ps(0.25)));
    let q = _mm256_castps_si256(_mm256_add_ps(quarter_turns, _mm256_set1_ps(12_582_912.0)));
    let t = _mm256_mul_ps(r, _mm256_set1_ps(std::f32::consts::TAU));
    let t2 = _mm256_mul_ps(t, t);
    let s = _mm256_mul_ps(t, horner(t2, &[1.0, -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362_880.0]));
    let c = horner(t2, &[1.0, -0.5, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40_320.0]);
    let one = _mm256_set1_epi32(1);
    let odd = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, one), one));
    let (s, c) = (_mm256_blendv_ps(s, c, odd), _mm256_blendv_ps(c, s, odd));
    // sign = 1 − 2·bit, the bit of q (sine) or of q + 1 (cosine) above the lowest.
    let sign = |q: __m256i| {
        let bit = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32::<1>(q), one));
        _mm256_sub_ps(_mm256_set1_ps(1.0), _mm256_mul_ps(_mm256_set1_ps(2.0), bit))
    };
    let q = _mm256_and_si256(q, _mm256_set1_epi32(3));
    (_mm256_mul_ps(sign(q), s), _mm256_mul_ps(sign(_mm256_add_epi32(q, one)), c))
}

/// [`crate::math::fastmath::box_muller`] lane by lane: (r cos θ, r sin θ).
#[inline]
#[target_feature(enable = "avx2")]
fn box_muller8(u0: __m256, u1: __m256) -> [__m256; 2] {
    let r = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0), ln8(u0)));
    let (s, c) = sincos8(u1);
    [_mm256_mul_ps(r, c), _mm256_mul_ps(r, s)]
}

/// The four normals of each of eight lanes (rows) as 128-bit halves: vector i holds lane i's
/// normals in its low half and lane i + 4's in its high half (a 4×8 transpose, less the
/// cross-half permutes that storing the halves row by row makes unnecessary).
#[inline]
#[target_feature(enable = "avx2")]
fn transpose_halves(n: [__m256; 4]) -> [__m256; 4] {
    let (t0, t1) = (_mm256_unpacklo_ps(n[0], n[1]), _mm256_unpackhi_ps(n[0], n[1]));
    let (t2, t3) = (_mm256_unpacklo_ps(n[2], n[3]), _mm256_unpackhi_ps(n[2], n[3]));
    [
        _mm256_shuffle_ps::<0x44>(t0, t2),
        _mm256_shuffle_ps::<0xee>(t0, t2),
        _mm256_shuffle_ps::<0x44>(t1, t3),
        _mm256_shuffle_ps::<0xee>(t1, t3),
    ]
}

/// The sample-index words (low, high) of the eight rows `first + row .. first + row + 8`,
/// counted in u32 lanes from `first` (a chunk holds far fewer than 2³² rows), the high word
/// taking the carry out of the low one.
#[inline]
#[target_feature(enable = "avx2")]
fn index_words(first: u64, row: usize) -> (__m256i, __m256i) {
    let first_lo = _mm256_set1_epi32(first as u32 as i32);
    let lo = _mm256_add_epi32(
        first_lo,
        _mm256_add_epi32(_mm256_set1_epi32(row as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
    );
    // Unsigned lo < first_lo (a carry): compare with the sign bits flipped.
    let sign = _mm256_set1_epi32(i32::MIN);
    let carry = _mm256_cmpgt_epi32(_mm256_xor_si256(first_lo, sign), _mm256_xor_si256(lo, sign));
    (lo, _mm256_sub_epi32(_mm256_set1_epi32((first >> 32) as i32), carry))
}

/// `out` (whole rows of a dimension d that is a multiple of 4) ← the normals of samples
/// `first ..` of `stream` (block b of a row fills its coordinates 4b .. 4b + 4), and with a
/// projection (w, p), p[r] = Σ_c w_c x_rc summed in order of c as the scalar code sums it.
/// Sixteen rows, one per lane of two vectors, walk their blocks together: block b of the
/// sixteen is one Philox call on two interleaved groups, and each row's four new normals
/// extend its projection in registers before they are stored, so the projection costs no
/// second pass over the batch.
#[target_feature(enable = "avx2")]
pub fn fill_rows(stream: &Stream, first: u64, d: usize, out: &mut [f32], mut projection: Option<(&[f32], &mut [f32])>) {
    debug_assert!(d.is_multiple_of(4) && out.len().is_multiple_of(d));
    let rows = out.len() / d;
    let (tag, key) = (_mm256_set1_epi32(stream.tag() as i32), stream.key());
    for start in (0..rows).step_by(16) {
        let groups = [index_words(first, start), index_words(first, start + 8)];
        let mut sums = [_mm256_setzero_ps(); 2];
        for block in 0..d / 4 {
            let b = _mm256_set1_epi32(block as i32);
            let counters = groups.map(|(lo, hi)| [b, lo, hi, tag]);
            for (g, words) in philox(counters, key).into_iter().enumerate() {
                let [n0, n1] = box_muller8(uniform8(words[0]), uniform8(words[1]));
                let [n2, n3] = box_muller8(uniform8(words[2]), uniform8(words[3]));
                let normals = [n0, n1, n2, n3];
                if let Some((w, _)) = &projection {
                    for (n, &w) in normals.iter().zip(&w[4 * block..4 * block + 4]) {
                        sums[g] = _mm256_add_ps(sums[g], _mm256_mul_ps(_mm256_set1_ps(w), *n));
                    }
                }
                store_rows(transpose_halves(normals), out, d, start + 8 * g, 4 * block);
            }
        }
        if let Some((_, p)) = &mut projection {
            for (g, sum) in sums.into_iter().enumerate() {
                let mut lanes = [0f32; 8];
                // SAFETY: `lanes` holds the eight floats stored.
                unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
                let row = (start + 8 * g).min(rows);
                let len = (rows - row).min(8);
                p[row..row + len].copy_from_slice(&lanes[..len]);
            }
        }
    }
}

/// The four normals of each of the eight rows `row ..` (as [`transpose_halves`] holds them)
/// into columns `col .. col + 4` of those rows of `out` that exist.
#[inline]
#[target_feature(enable = "avx2")]
fn store_rows(halves: [__m256; 4], out: &mut [f32], d: usize, row: usize, col: usize) {
    for (i, v) in halves.into_iter().enumerate() {
        for (r, half) in [(row + i, _mm256_castps256_ps128(v)), (row + i + 4, _mm256_extractf128_ps::<1>(v))] {
            // `out` holds whole rows and col + 4 ≤ d, so the range exists exactly for its rows.
            if let Some(dst) = out.get_mut(r * d + col..r * d + col + 4) {
                // SAFETY: `dst` holds the four floats stored.
                unsafe { _mm_storeu_ps(dst.as_mut_ptr(), half) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::fastmath::box_muller;
    use crate::math::philox::uniform_f32;

    /// Eight words through `uniform8` and `box_muller8` against the scalar functions.
    fn check(words: [u32; 8], other: [u32; 8]) {
        // SAFETY: the caller checked AVX2; the arrays hold the eight words loaded and stored.
        let (u, n) = unsafe {
            let load = |w: [u32; 8]| _mm256_loadu_si256(w.as_ptr().cast());
            let (u0, u1) = (uniform8(load(words)), uniform8(load(other)));
            let mut out = [[0f32; 8]; 3];
            _mm256_storeu_ps(out[0].as_mut_ptr(), u0);
            let [c, s] = box_muller8(u0, u1);
            _mm256_storeu_ps(out[1].as_mut_ptr(), c);
            _mm256_storeu_ps(out[2].as_mut_ptr(), s);
            (out[0], [out[1], out[2]])
        };
        for l in 0..8 {
            assert_eq!(u[l].to_bits(), uniform_f32(words[l]).to_bits(), "uniform of {:#x}", words[l]);
            let [c, s] = box_muller(uniform_f32(words[l]), uniform_f32(other[l]));
            assert_eq!(
                (n[0][l].to_bits(), n[1][l].to_bits()),
                (c.to_bits(), s.to_bits()),
                "{:#x} {:#x}",
                words[l],
                other[l]
            );
        }
    }

    /// Every power of two and its neighbours (where truncation to 24 bits starts and the
    /// uniform reaches 1), then a million pseudo-random words.
    #[test]
    fn uniforms_and_box_muller_match_the_scalar_functions_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: no AVX2 on this CPU");
            return;
        }
        let mut edges: Vec<u32> = (0..32).flat_map(|b| [(1u32 << b) - 1, 1 << b, (1 << b) + 1]).collect();
        edges.extend([u32::MAX, u32::MAX - 1, 0x00ff_ffff, 0x0100_0000, 0xffff_ff00, 0xffff_ff7f, 0xffff_ff80]);
        edges.resize(edges.len().next_multiple_of(8), 0);
        for chunk in edges.chunks(8) {
            let words: [u32; 8] = chunk.try_into().expect("eight words");
            check(words, words.map(|w| w.rotate_left(7) ^ 0x9e37_79b9));
        }
        let mut x = 0x2545_f491u32;
        for _ in 0..125_000 {
            let words = std::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x
            });
            check(words, words.map(|w| w.wrapping_mul(2_654_435_761)));
        }
    }
}
