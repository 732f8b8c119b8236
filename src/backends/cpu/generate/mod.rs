//! Gaussian batches on the CPU: Philox4x32-10 and the polynomial Box–Muller of
//! [`crate::math::fastmath`], evaluated over 16 lanes at a time so the compiler vectorises
//! them (AVX-512 or AVX2 chosen at run time, [`super::simd`]) or, on AVX2 CPUs without
//! AVX-512, in the intrinsics of `generate/avx2.rs`; spread over threads with rayon. Rows can be
//! projected on a vector as they are drawn (the teacher's ⟨w, x⟩), summed in the shader's order.
//!
//! Produces exactly the numbers of `shaders/philox.wgsl`: the same counters, the same integer
//! words, the same f32 uniforms, the same polynomial.

use rayon::prelude::*;

use crate::math::fastmath::box_muller;
use crate::math::philox::{Key, PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1, uniform_f32};
use crate::sampling::streams::Stream;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// Counters run through Philox side by side.
pub const LANES: usize = 16;
/// Rows per parallel task (of [`gaussian_batch`], and of the CPU trainer's batches).
pub const ROWS_PER_TASK: usize = 64;

/// Philox4x32-10 on `LANES` counters at once (structure of arrays).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lanes index several arrays in lockstep, for vectorisation
fn philox_lanes(ctr: &mut [[u32; LANES]; 4], key: Key) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked).
        return unsafe { avx2::philox_lanes(ctr, key) };
    }
    let mut key = key;
    for round in 0..PHILOX_ROUNDS {
        if round > 0 {
            key = [key[0].wrapping_add(PHILOX_W0), key[1].wrapping_add(PHILOX_W1)];
        }
        for l in 0..LANES {
            let p0 = u64::from(PHILOX_M0) * u64::from(ctr[0][l]);
            let p1 = u64::from(PHILOX_M1) * u64::from(ctr[2][l]);
            let next =
                [(p1 >> 32) as u32 ^ ctr[1][l] ^ key[0], p1 as u32, (p0 >> 32) as u32 ^ ctr[3][l] ^ key[1], p0 as u32];
            for (w, n) in next.into_iter().enumerate() {
                ctr[w][l] = n;
            }
        }
    }
}

/// The Philox words of `block` of samples `first .. first + LANES` of `stream`, lane l holding
/// sample `first + l` (the teacher's scalar slots).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lanes index several arrays in lockstep, for vectorisation
pub fn sample_words(stream: &Stream, first: u64, block: u32) -> [[u32; LANES]; 4] {
    let mut ctr = [[block; LANES], [0; LANES], [0; LANES], [stream.tag(); LANES]];
    for l in 0..LANES {
        let index = first + l as u64;
        (ctr[1][l], ctr[2][l]) = (index as u32, (index >> 32) as u32);
    }
    philox_lanes(&mut ctr, stream.key());
    ctr
}

/// Fills `out` (rows × d, row-major) with the standard normals of samples
/// `first .. first + rows` of `stream` (coordinate c from block c/4, position c%4), in parallel
/// tasks of [`ROWS_PER_TASK`] rows.
pub fn gaussian_batch(stream: &Stream, first: u64, d: usize, out: &mut [f32]) {
    assert_eq!(out.len() % d, 0, "output is not a whole number of rows");
    out.par_chunks_mut(ROWS_PER_TASK * d).enumerate().for_each(|(task, chunk)| {
        gaussian_rows(stream, first + (task * ROWS_PER_TASK) as u64, d, chunk, None);
    });
}

/// A projection of a batch's rows on a vector w: `(w, p)`, p_r = Σ_c w_c x_rc summed in order
/// of c (as `shaders/teacher.wgsl` sums ⟨w, x⟩).
pub type Projection<'a> = (&'a [f32], &'a mut [f32]);

/// The rows of [`gaussian_batch`] from sample `first` into `out` (whole rows) on the calling
/// thread, with their projections where asked for (computed as the rows are drawn).
pub fn gaussian_rows(stream: &Stream, first: u64, d: usize, out: &mut [f32], projection: Option<Projection>) {
    if let Some((w, p)) = &projection {
        assert!(w.len() == d && p.len() * d == out.len(), "one weight per coordinate, one projection per row");
    }
    Kernel::best(d).fill(stream, first, d, out, projection);
}

/// The implementations of [`gaussian_rows`]; all give the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    /// [`fill_chunk`]: 16 lanes compiled for the CPU's vector extensions (AVX-512 included),
    /// then [`project`] over the chunk.
    Lanes,
    /// [`avx2::fill_rows`]: AVX2 intrinsics, for dimensions that are multiples of 4 on CPUs
    /// without AVX-512, projecting the rows as it draws them. On a 2-core AMD EPYC its first
    /// form (pairs in order, no projection) drew a 4096×64 batch on one thread in 2.1–2.3 ns per
    /// normal against the lane kernel's 3.0–3.2; walking sixteen rows block by block with the
    /// projection in registers then cut the trainer's whole sampling phase (labels included)
    /// from 0.47–0.52 to 0.39–0.45 ms at (d, B) = (64, 4096) on two threads (ad-hoc loops, the
    /// builds alternated three times; `cargo bench --bench kernels -- generate` times the
    /// phase). AVX-512 CPUs keep the lane kernel, whose 16 lanes are one vector there and whose
    /// speed this kernel was not measured against.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Kernel {
    /// The kernel for rows of dimension `d` on this CPU.
    fn best(d: usize) -> Self {
        #[cfg(target_arch = "x86_64")]
        if d.is_multiple_of(4) && std::is_x86_feature_detected!("avx2") && !std::is_x86_feature_detected!("avx512f") {
            return Self::Avx2;
        }
        Self::Lanes
    }

    /// Fills the chunk `out` (whole rows) with the normals of samples `first ..`, and projects
    /// them.
    fn fill(self, stream: &Stream, first: u64, d: usize, out: &mut [f32], projection: Option<Projection>) {
        match self {
            Self::Lanes => {
                fill_chunk(stream, first, d, out);
                if let Some((w, p)) = projection {
                    project(w, out, p);
                }
            }
            // SAFETY: chosen only where the CPU has AVX2 (`best`) or, in tests, checked there.
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { avx2::fill_rows(stream, first, d, out, projection) },
        }
    }
}

/// Rows whose projections [`project`] accumulates side by side.
const PROJECTION_LANES: usize = 8;

crate::multiversion! {
/// `p[r] = Σ_c w_c x_rc` summed in order of c, for the rows of `x`: [`PROJECTION_LANES`] rows
/// at a time, so the additions of different rows overlap instead of one row's chain of d
/// dependent additions setting the pace.
fn project(w: &[f32], x: &[f32], p: &mut [f32]) {
    let mut acc = [0f32; PROJECTION_LANES];
    for (x, p) in x.chunks(PROJECTION_LANES * w.len()).zip(p.chunks_mut(PROJECTION_LANES)) {
        let rows = p.len();
        // A whole group passes the constant PROJECTION_LANES (two inlined copies), so its
        // lanes unroll.
        if rows == PROJECTION_LANES {
            accumulate_rows(w, x, PROJECTION_LANES, &mut acc);
        } else {
            accumulate_rows(w, x, rows, &mut acc);
        }
        p.copy_from_slice(&acc[..rows]);
    }
}
}

/// `acc[l] = Σ_c w_c x_lc` for the first `rows` rows of `x`, summed in order of c.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lanes index several arrays in lockstep
fn accumulate_rows(w: &[f32], x: &[f32], rows: usize, acc: &mut [f32; PROJECTION_LANES]) {
    let d = w.len();
    acc.fill(0.0);
    for (c, &wc) in w.iter().enumerate() {
        for l in 0..rows {
            acc[l] += wc * x[l * d + c];
        }
    }
}

crate::multiversion! {
/// The lane kernel over the (row, block) pairs of one chunk of rows, walked in order without
/// divisions; rows of a multiple-of-4 dimension are contiguous, so those writes are too.
#[allow(clippy::needless_range_loop)] // lanes index several arrays in lockstep, for vectorisation
fn fill_chunk(stream: &Stream, first: u64, d: usize, out: &mut [f32]) {
    let blocks_per_row = d.div_ceil(4);
    let pairs = out.len() / d * blocks_per_row;
    let tag = stream.tag();
    // Lane l holds pair start + l as (row, block); a step of LANES pairs adds LANES / bpr rows
    // and LANES % bpr blocks, then carries once: lane-wise arithmetic, no divisions.
    let (row_step, block_step) = ((LANES / blocks_per_row) as u64, (LANES % blocks_per_row) as u32);
    let bpr = blocks_per_row as u32;
    let mut rows = [0u64; LANES];
    let mut blocks = [0u32; LANES];
    for l in 0..LANES {
        (rows[l], blocks[l]) = ((l / blocks_per_row) as u64, (l % blocks_per_row) as u32);
    }
    for start in (0..pairs).step_by(LANES) {
        let lanes = LANES.min(pairs - start);
        let (first_row, first_block) = (rows[0] as usize, blocks[0] as usize);
        let mut ctr = [[0u32; LANES]; 4];
        for l in 0..LANES {
            let index = first + rows[l];
            ctr[0][l] = blocks[l];
            ctr[1][l] = index as u32;
            ctr[2][l] = (index >> 32) as u32;
            ctr[3][l] = tag;
            let block = blocks[l] + block_step;
            let carry = block >= bpr;
            blocks[l] = if carry { block - bpr } else { block };
            rows[l] += row_step + u64::from(carry);
        }
        philox_lanes(&mut ctr, stream.key());
        let mut normals = [[0f32; 4]; LANES];
        for l in 0..LANES {
            let [n0, n1] = box_muller(uniform_f32(ctr[0][l]), uniform_f32(ctr[1][l]));
            let [n2, n3] = box_muller(uniform_f32(ctr[2][l]), uniform_f32(ctr[3][l]));
            normals[l] = [n0, n1, n2, n3];
        }
        if d.is_multiple_of(4) {
            out[4 * start..4 * (start + lanes)].copy_from_slice(normals[..lanes].as_flattened());
            continue;
        }
        let (mut r, mut b) = (first_row, first_block);
        for n in &normals[..lanes] {
            let c0 = 4 * b;
            let len = 4.min(d - c0);
            out[r * d + c0..r * d + c0 + len].copy_from_slice(&n[..len]);
            b += 1;
            if b == blocks_per_row {
                b = 0;
                r += 1;
            }
        }
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::normal::box_muller_f32;
    use crate::sampling::streams::Role;

    #[test]
    fn lanes_match_the_scalar_stream_and_the_reference_transform() {
        let stream = Stream::new(99, 2, Role::TrainInputs);
        for d in [1, 3, 4, 5, 17, 64] {
            let rows = 150; // crosses task and lane boundaries
            let mut out = vec![0f32; rows * d];
            gaussian_batch(&stream, 1_000, d, &mut out);
            for r in 0..rows {
                for c in 0..d {
                    let w = stream.words(1_000 + r as u64, (c / 4) as u32);
                    let pair = c % 4 / 2;
                    let exact = box_muller_f32(w[2 * pair], w[2 * pair + 1])[c % 2];
                    let got = out[r * d + c];
                    assert!(
                        (got - exact).abs() <= 4e-6 * exact.abs().max(1.0),
                        "d {d} row {r} c {c}: {got} vs {exact}"
                    );
                }
            }
        }
    }

    /// The AVX2 kernel against the lane kernel, bit for bit, normals and projections:
    /// dimensions of 1 to 25 blocks per row, row counts that leave partial groups of 8 and 16,
    /// and sample indices whose low word wraps inside the chunk (the high word's carry).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_kernel_gives_the_lane_kernels_bits() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: no AVX2 on this CPU");
            return;
        }
        let stream = Stream::new(7, 3, Role::TrainInputs);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for d in [4, 8, 12, 20, 28, 64, 100] {
            let w: Vec<f32> = (0..d).map(|c| ((c * 37 % 11) as f32 - 5.0) / 7.0).collect();
            for (first, rows) in
                [(0, 1), (5, 13), ((1u64 << 32) - 3, 9), ((1u64 << 32) - 11, 21), (123_456_789_012, 64)]
            {
                let drawn = |kernel: Kernel, project: bool| {
                    let (mut x, mut p) = (vec![1f32; rows * d], vec![1f32; rows]);
                    kernel.fill(&stream, first, d, &mut x, project.then_some((w.as_slice(), p.as_mut_slice())));
                    (bits(&x), project.then(|| bits(&p)))
                };
                let lanes = drawn(Kernel::Lanes, true);
                assert_eq!(lanes, drawn(Kernel::Avx2, true), "d {d} first {first} rows {rows}");
                assert_eq!(lanes.0, drawn(Kernel::Avx2, false).0, "d {d} first {first} rows {rows}, unprojected");
            }
        }
    }

    #[test]
    fn projections_are_the_rows_inner_products_in_order() {
        let (d, rows) = (13, 40);
        let w: Vec<f32> = (0..d).map(|c| (c as f32 - 6.0) / 20.0).collect();
        let (mut x, mut p) = (vec![0f32; rows * d], vec![0f32; rows]);
        gaussian_rows(&Stream::new(1, 0, Role::TrainInputs), 3, d, &mut x, Some((&w, &mut p)));
        let mut alone = vec![0f32; rows * d];
        gaussian_batch(&Stream::new(1, 0, Role::TrainInputs), 3, d, &mut alone);
        assert_eq!(x, alone);
        for (row, p) in x.chunks(d).zip(p) {
            assert_eq!(p.to_bits(), w.iter().zip(row).fold(0f32, |acc, (w, x)| acc + w * x).to_bits());
        }
    }

    #[test]
    fn normals_have_unit_variance_and_gaussian_kurtosis() {
        let stream = Stream::new(5, 0, Role::TestInputs);
        let mut out = vec![0f32; 100_000 * 8];
        gaussian_batch(&stream, 0, 8, &mut out);
        let n = out.len() as f64;
        let mean = out.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = out.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
        let kurt = out.iter().map(|&x| (f64::from(x) - mean).powi(4)).sum::<f64>() / n / (var * var);
        assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "variance {var}");
        assert!((kurt - 3.0).abs() < 0.05, "kurtosis {kurt}");
    }
}
