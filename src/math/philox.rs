//! Philox4x32-10, the counter-based generator every random draw of the suite comes from
//! (Salmon, Moraes, Dror, Shaw, SC'11; the Random123 reference), and the two ways its 32-bit
//! words become floating-point uniforms in (0, 1].
//!
//! The same functions exist in `shaders/philox.wgsl`; the integer stream is identical bit for
//! bit on every backend (tested), and so is the `f32` uniform, which uses exact operations only.

/// First round multiplier (Random123 `PHILOX_M4x32_0`).
pub const PHILOX_M0: u32 = 0xD251_1F53;
/// Second round multiplier (`PHILOX_M4x32_1`).
pub const PHILOX_M1: u32 = 0xCD9E_8D57;
/// Key bump of the first key word (golden ratio, `PHILOX_W32_0`).
pub const PHILOX_W0: u32 = 0x9E37_79B9;
/// Key bump of the second key word (√3 − 1, `PHILOX_W32_1`).
pub const PHILOX_W1: u32 = 0xBB67_AE85;
/// Number of rounds of the standard, Crush-resistant variant.
pub const PHILOX_ROUNDS: usize = 10;

/// A 128-bit Philox counter: four 32-bit words.
pub type Counter = [u32; 4];
/// A 64-bit Philox key: two 32-bit words (low word first).
pub type Key = [u32; 2];

/// The key for a 64-bit run seed: low word first.
pub fn key_from_seed(seed: u64) -> Key {
    [seed as u32, (seed >> 32) as u32]
}

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let product = u64::from(a) * u64::from(b);
    ((product >> 32) as u32, product as u32)
}

#[inline(always)]
fn round(ctr: Counter, key: Key) -> Counter {
    let (hi0, lo0) = mulhilo(PHILOX_M0, ctr[0]);
    let (hi1, lo1) = mulhilo(PHILOX_M1, ctr[2]);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

/// Philox4x32 with `rounds` rounds (the key is bumped between rounds, as in Random123).
#[inline(always)]
pub fn philox4x32(rounds: usize, ctr: Counter, key: Key) -> Counter {
    let mut ctr = round(ctr, key);
    let mut key = key;
    for _ in 1..rounds {
        key = [key[0].wrapping_add(PHILOX_W0), key[1].wrapping_add(PHILOX_W1)];
        ctr = round(ctr, key);
    }
    ctr
}

/// Philox4x32-10: four random words for one counter value.
#[inline(always)]
pub fn philox4x32_10(ctr: Counter, key: Key) -> Counter {
    philox4x32(PHILOX_ROUNDS, ctr, key)
}

/// `(x + 1) / 2³²` exactly: a uniform in (0, 1], never 0, so its logarithm is finite.
#[inline(always)]
pub fn uniform_f64(x: u32) -> f64 {
    (f64::from(x) + 1.0) * (1.0 / 4_294_967_296.0)
}

/// The `f32` uniform: `(x + 1) / 2³²` truncated to 24 significant bits.
///
/// Built from exact operations only (a leading-zero count, a 24-bit integer conversion and a
/// power-of-two scale), so CPU and GPU produce the same bits; WGSL leaves the rounding of
/// inexact `u32 → f32` conversions to the implementation, which rules out `f32(x)`.
/// The result lies in [2⁻³², 1], keeping the full 32-bit tail resolution of [`uniform_f64`].
#[inline(always)]
pub fn uniform_f32(x: u32) -> f32 {
    let v = x.wrapping_add(1);
    if v == 0 {
        return 1.0;
    }
    let lz = v.leading_zeros();
    let mantissa = (v << lz) >> 8; // top 24 significant bits, in [2²³, 2²⁴)
    // 2^(−24 − lz) as a normal f32: biased exponent 127 − 24 − lz ∈ [72, 103].
    let scale = f32::from_bits((103 - lz) << 23);
    mantissa as f32 * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123 `kat_vectors`, philox4x32 10: (counter, key) → output.
    const KNOWN_ANSWERS: [(Counter, Key, Counter); 3] = [
        ([0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
        ([u32::MAX; 4], [u32::MAX; 2], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
    ];

    #[test]
    fn philox_matches_random123_known_answers() {
        for (ctr, key, expected) in KNOWN_ANSWERS {
            assert_eq!(philox4x32_10(ctr, key), expected, "ctr {ctr:08x?} key {key:08x?}");
        }
    }

    #[test]
    fn philox_7_rounds_matches_random123_known_answer() {
        // kat_vectors: philox4x32 7, zero counter and key.
        assert_eq!(philox4x32(7, [0; 4], [0; 2]), [0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48]);
    }

    #[test]
    fn seed_maps_to_key_low_word_first() {
        assert_eq!(key_from_seed(0x0123_4567_89ab_cdef), [0x89ab_cdef, 0x0123_4567]);
    }

    #[test]
    fn uniform_f64_is_in_half_open_unit_interval() {
        assert_eq!(uniform_f64(0), 2f64.powi(-32));
        assert_eq!(uniform_f64(u32::MAX), 1.0);
        assert!((uniform_f64(1 << 31) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn uniform_f32_truncates_the_exact_uniform_to_24_bits() {
        for x in
            [0u32, 1, 2, 255, 256, 1 << 23, (1 << 24) - 1, 1 << 24, 0x8000_0000, 0xdead_beef, u32::MAX - 1, u32::MAX]
        {
            let exact = uniform_f64(x);
            let got = f64::from(uniform_f32(x));
            assert!(got > 0.0 && got <= 1.0, "x = {x}: {got}");
            assert!(got <= exact && exact - got < exact * 2f64.powi(-23), "x = {x}: {got} vs {exact}");
        }
        // Small words are represented exactly (the tail resolution is kept).
        assert_eq!(f64::from(uniform_f32(12345)), uniform_f64(12345));
    }
}
