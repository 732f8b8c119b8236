//! The CPU backend's matrix product, C = A·B in f32, A and B given by row and column strides.
//!
//! On CPUs with AVX-512F it is a packed product in the Goto/BLIS layout: A is packed into
//! slivers of [`MR`] rows and B into slivers of [`NR`] columns, [`KC`] deep, and a 12×32
//! register-blocked micro-kernel (24 zmm accumulators, B loaded as two vectors, A broadcast)
//! runs over them, each thread packing into its own thread-local buffers (allocated once,
//! reused by every later call). Elsewhere the product goes to `matrixmultiply`, whose kernels
//! stop at AVX2. Either way the rows of C are split evenly over rayon's threads, so the
//! backend has one thread pool: `matrixmultiply`'s own (its `threading` feature, a second pool
//! of crossbeam-channel workers) woke its threads through the kernel for every depth block, and
//! on a 2-core machine its workers and rayon's idle ones took turns on the cores (about 45% of
//! a (64, 256, 4096) step's samples in the scheduler under `perf`, 5% since).
//!
//! Measured interleaved on a 2-core AVX-512 machine, on the training step's two products and a
//! 2048³ one, the packed kernel ran level with numpy's OpenBLAS and 1.2–1.5× faster than
//! `matrixmultiply`; the AVX-512 path of the `gemm` crate (0.19) was slower than
//! `matrixmultiply` there. A 6×16 AVX2 micro-kernel in this layout (12 ymm accumulators) was
//! tried on a 2-core AMD EPYC with AVX2 only and ran at 0.55–0.96× `matrixmultiply`'s speed on
//! the step's products and a 2048³ one, and the `gemm` crate (0.19, rayon threads) at
//! 0.78–1.14× (0.87× at 2048³), so AVX2 CPUs keep `matrixmultiply` (ad-hoc loops timing both
//! in alternation, five rounds, medians). Retried after the move to rayon tasks, with plain
//! stores for whole tiles (AMD microcodes masked moves; masking every tile had cost 0.47–0.65×
//! at the (4096, 64, 256) forward product) and KC ∈ {128, 256, 512} × NC ∈ {64, 128, 256}:
//! 0.72–1.17× `matrixmultiply` round by round, no setting ahead at every shape, so it was not
//! kept either.

use rayon::prelude::*;

/// Rows of C per micro-tile (broadcasts of A).
pub const MR: usize = 12;
/// Columns of C per micro-tile (two 16-float vectors of B).
pub const NR: usize = 32;
/// Depth of a packed block: an A sliver (MR·KC floats, 12 KiB) stays in L1 while B streams.
pub const KC: usize = 256;
/// Columns of a packed B block: KC·NC floats (512 KiB) stay in L2.
pub const NC: usize = 512;

/// The implementations of [`sgemm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// The packed 12×32 AVX-512 kernel of this module.
    PackedAvx512,
    /// `matrixmultiply` (AVX2/FMA kernels at most).
    Matrixmultiply,
}

impl Product {
    /// The fastest product this CPU runs: what [`sgemm`] uses.
    pub fn best() -> Self {
        if Self::PackedAvx512.is_available() { Self::PackedAvx512 } else { Self::Matrixmultiply }
    }

    /// Whether this CPU runs it.
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::PackedAvx512 => std::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            Self::PackedAvx512 => false,
            Self::Matrixmultiply => true,
        }
    }

    /// The name result records carry.
    pub fn name(self) -> &'static str {
        match self {
            Self::PackedAvx512 => "packed AVX-512 12x32 sgemm",
            Self::Matrixmultiply => "matrixmultiply 0.3",
        }
    }
}

/// A matrix operand: its elements and its row and column strides.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a> {
    /// The elements; (i, j) is `data[i·rs + j·cs]`.
    pub data: &'a [f32],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> Operand<'a> {
    /// A dense row-major matrix with `cols` columns.
    pub fn row_major(data: &'a [f32], cols: usize) -> Self {
        Self { data, rs: cols, cs: 1 }
    }

    /// A dense column-major matrix with `rows` rows (the transpose of a row-major one).
    pub fn col_major(data: &'a [f32], rows: usize) -> Self {
        Self { data, rs: 1, cs: rows }
    }

    /// Whether it holds an r×c matrix (r, c ≥ 1).
    fn holds(self, r: usize, c: usize) -> bool {
        self.data.len() > (r - 1) * self.rs + (c - 1) * self.cs
    }
}

/// C (m×n, row-major, dense) = A (m×k) · B (k×n) with the [`Product::best`] implementation.
pub fn sgemm(m: usize, k: usize, n: usize, a: Operand, b: Operand, c: &mut [f32]) {
    sgemm_with(Product::best(), m, k, n, a, b, c);
}

/// [`sgemm`] through a chosen implementation (it must be available on this CPU).
pub fn sgemm_with(product: Product, m: usize, k: usize, n: usize, a: Operand, b: Operand, c: &mut [f32]) {
    assert!(product.is_available(), "{} does not run on this CPU", product.name());
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= m * n, "C holds {} floats, the product needs {}", c.len(), m * n);
    if k == 0 {
        c[..m * n].fill(0.0);
        return;
    }
    assert!(a.holds(m, k) && b.holds(k, n), "an operand is smaller than its shape: A {m}×{k}, B {k}×{n}");
    // Threads split the rows of C, never the depth: every entry is summed in the same order
    // whatever the thread count.
    let rows_per_task = m.div_ceil(rayon::current_num_threads()).next_multiple_of(product.row_multiple());
    c[..m * n].par_chunks_mut(rows_per_task * n).enumerate().for_each(|(task, c)| {
        let first = task * rows_per_task;
        product.rows(first, c.len() / n, k, n, a, b, c);
    });
}

impl Product {
    /// Rows per task are a multiple of this (the packed kernel's micro-tile height).
    fn row_multiple(self) -> usize {
        match self {
            Self::PackedAvx512 => MR,
            Self::Matrixmultiply => 1,
        }
    }

    /// Rows `first ..` of C = A·B into `c` (whole rows of C), on the calling thread. The shapes
    /// were checked by [`sgemm_with`].
    #[allow(clippy::too_many_arguments)]
    fn rows(self, first: usize, m: usize, k: usize, n: usize, a: Operand, b: Operand, c: &mut [f32]) {
        match self {
            // SAFETY: `c` holds rows [first, first + m) of C; AVX-512F is present (checked).
            #[cfg(target_arch = "x86_64")]
            Self::PackedAvx512 => unsafe { avx512::rows_of_product(first, m, k, n, a, b, c.as_mut_ptr(), n) },
            #[cfg(not(target_arch = "x86_64"))]
            Self::PackedAvx512 => unreachable!("not available off x86-64"),
            // SAFETY: A from row `first`, B and `c` hold what an m×k by k×n product reads and
            // writes (asserted by the caller).
            Self::Matrixmultiply => unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.data[first * a.rs..].as_ptr(),
                    a.rs as isize,
                    a.cs as isize,
                    b.data.as_ptr(),
                    b.rs as isize,
                    b.cs as isize,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                )
            },
        }
    }
}

/// A block of an operand: element (p, i) — depth p, row of A or column of B i — is
/// `data[offset + p·sp + i·si]`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Block<'a> {
    data: &'a [f32],
    offset: usize,
    sp: usize,
    si: usize,
}

/// Packs `len` rows of A (or columns of B) × `kc` depths of `block` into slivers of `WIDTH`
/// (MR or NR), `WIDTH` floats per depth. A last, partial sliver keeps stale values in its
/// padding: the micro-kernel computes them, its masked store never writes them. Contiguous
/// rows or contiguous depths are copied as slices (the layouts of the training step's
/// products); a constant `WIDTH` copies whole slivers without a `memmove` call per depth.
#[cfg(target_arch = "x86_64")]
fn pack<const WIDTH: usize>(kc: usize, out: &mut [f32], len: usize, block: Block) {
    let Block { data, offset, sp, si } = block;
    for (s, sliver) in out.chunks_mut(WIDTH * kc).enumerate() {
        let valid = (len - s * WIDTH).min(WIDTH);
        let base = offset + s * WIDTH * si;
        if si == 1 && valid == WIDTH {
            for (p, dst) in sliver.chunks_exact_mut(WIDTH).enumerate() {
                dst.copy_from_slice(&data[base + p * sp..][..WIDTH]);
            }
        } else if si == 1 {
            for (p, dst) in sliver.chunks_exact_mut(WIDTH).enumerate() {
                dst[..valid].copy_from_slice(&data[base + p * sp..][..valid]);
            }
        } else if sp == 1 {
            for i in 0..valid {
                for (p, &x) in data[base + i * si..][..kc].iter().enumerate() {
                    sliver[p * WIDTH + i] = x;
                }
            }
        } else {
            for (p, dst) in sliver.chunks_exact_mut(WIDTH).enumerate() {
                dst[..valid].iter_mut().enumerate().for_each(|(i, x)| *x = data[base + p * sp + i * si]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Block, KC, MR, NC, NR, Operand, pack};
    use std::arch::x86_64::*;
    use std::cell::RefCell;

    /// One cache line of floats: the packed buffers are 64-byte aligned.
    #[derive(Clone, Copy)]
    #[repr(C, align(64))]
    struct Line([f32; 16]);

    /// A thread's packing buffers.
    #[derive(Default)]
    struct Packing {
        a: Vec<Line>,
        b: Vec<Line>,
    }

    thread_local! {
        static PACKING: RefCell<Packing> = RefCell::new(Packing::default());
    }

    /// The first `len` floats of `buf`, grown (once) if needed.
    fn floats(buf: &mut Vec<Line>, len: usize) -> &mut [f32] {
        let lines = len.div_ceil(16);
        if buf.len() < lines {
            buf.resize(lines, Line([0.0; 16]));
        }
        // SAFETY: `buf` holds at least `len` initialised floats, contiguous and aligned.
        unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<f32>(), len) }
    }

    /// Rows [first, first + m) of C = A·B into `c` (row stride `ldc`).
    ///
    /// # Safety
    /// `c` points at row `first` of C, which holds (first + m)×n floats; the operands hold
    /// the shapes; the CPU must support AVX-512F.
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn rows_of_product(
        first: usize,
        m: usize,
        k: usize,
        n: usize,
        a: Operand,
        b: Operand,
        c: *mut f32,
        ldc: usize,
    ) {
        PACKING.with_borrow_mut(|packing| {
            for depth0 in (0..k).step_by(KC) {
                let kc = KC.min(k - depth0);
                let a_packed = floats(&mut packing.a, m.div_ceil(MR) * MR * kc);
                let block = Block { data: a.data, offset: first * a.rs + depth0 * a.cs, sp: a.cs, si: a.rs };
                pack::<MR>(kc, a_packed, m, block);
                for col0 in (0..n).step_by(NC) {
                    let nc = NC.min(n - col0);
                    let b_packed = floats(&mut packing.b, nc.div_ceil(NR) * NR * kc);
                    let block = Block { data: b.data, offset: depth0 * b.rs + col0 * b.cs, sp: b.rs, si: b.cs };
                    pack::<NR>(kc, b_packed, nc, block);
                    for (s, a_sliver) in a_packed.chunks(MR * kc).enumerate() {
                        let rows = (m - s * MR).min(MR);
                        for (t, b_sliver) in b_packed.chunks(NR * kc).enumerate() {
                            let cols = (nc - t * NR).min(NR);
                            // SAFETY: the tile lies inside this task's rows of C; the slivers
                            // hold kc·MR and kc·NR floats; the caller checked AVX-512F.
                            unsafe {
                                let ptr = c.add(s * MR * ldc + col0 + t * NR);
                                let tile = Tile { ptr, ldc, rows, cols, accumulate: depth0 > 0 };
                                micro_kernel(kc, a_sliver.as_ptr(), b_sliver.as_ptr(), tile);
                            }
                        }
                    }
                }
            }
        });
    }

    /// Where a micro-kernel writes: `rows`×`cols` (≤ MR×NR) of C, added to (`accumulate`) or
    /// overwriting what is there.
    struct Tile {
        ptr: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
        accumulate: bool,
    }

    /// The MR×NR micro-kernel over `kc` packed depths; edge tiles use masked loads and stores.
    ///
    /// # Safety
    /// `a` and `b` hold kc·MR and kc·NR floats (`b` 64-byte aligned), `tile` lies inside C.
    #[target_feature(enable = "avx512f")]
    unsafe fn micro_kernel(kc: usize, a: *const f32, b: *const f32, tile: Tile) {
        // SAFETY: the bounds are the caller's contract.
        unsafe {
            let mut left = [_mm512_setzero_ps(); MR];
            let mut right = [_mm512_setzero_ps(); MR];
            for p in 0..kc {
                let (a, b) = (a.add(p * MR), b.add(p * NR));
                let (b_left, b_right) = (_mm512_load_ps(b), _mm512_load_ps(b.add(16)));
                for i in 0..MR {
                    let ai = _mm512_set1_ps(*a.add(i));
                    left[i] = _mm512_fmadd_ps(ai, b_left, left[i]);
                    right[i] = _mm512_fmadd_ps(ai, b_right, right[i]);
                }
            }
            let mask = |cols: usize| if cols >= 16 { 0xffff } else { ((1u32 << cols) - 1) as __mmask16 };
            let (mask_left, mask_right) = (mask(tile.cols), mask(tile.cols.saturating_sub(16)));
            for i in 0..tile.rows {
                let row = tile.ptr.add(i * tile.ldc);
                let (mut l, mut r) = (left[i], right[i]);
                if tile.accumulate {
                    l = _mm512_add_ps(l, _mm512_maskz_loadu_ps(mask_left, row));
                    r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask_right, row.add(16)));
                }
                _mm512_mask_storeu_ps(row, mask_left, l);
                _mm512_mask_storeu_ps(row.add(16), mask_right, r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// C = A·B in f64 by the definition, with Σ|a||b| per entry (the rounding-error scale).
    fn reference(
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        sa: (usize, usize),
        b: &[f32],
        sb: (usize, usize),
    ) -> (Vec<f64>, Vec<f64>) {
        let mut c = vec![0.0; m * n];
        let mut scale = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let (x, y) = (f64::from(a[i * sa.0 + p * sa.1]), f64::from(b[p * sb.0 + j * sb.1]));
                    c[i * n + j] += x * y;
                    scale[i * n + j] += (x * y).abs();
                }
            }
        }
        (c, scale)
    }

    /// Checks every product this CPU runs on random values in (−1, 1) against the f64 product: |error| ≤
    /// 2⁻²⁰·Σ|a||b| per entry. f32 accumulation of k terms errs by at most ~k·2⁻²⁴ of that
    /// scale; k ≤ 700 here, so the bound holds with room, while a wrong or missing term fails it.
    fn check(rng: &mut StdRng, m: usize, k: usize, n: usize, sa: (usize, usize), sb: (usize, usize)) {
        let a: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (want, scale) = reference(m, k, n, &a, sa, &b, sb);
        for product in [Product::PackedAvx512, Product::Matrixmultiply].into_iter().filter(|p| p.is_available()) {
            let mut c = vec![f32::NAN; m * n];
            let (oa, ob) = (Operand { data: &a, rs: sa.0, cs: sa.1 }, Operand { data: &b, rs: sb.0, cs: sb.1 });
            sgemm_with(product, m, k, n, oa, ob, &mut c);
            for (idx, ((&got, want), scale)) in c.iter().zip(&want).zip(&scale).enumerate() {
                let err = (f64::from(got) - want).abs();
                assert!(
                    err <= scale * 2f64.powi(-20),
                    "{product:?} ({m},{k},{n}) {sa:?} {sb:?} [{idx}]: {got} vs {want}"
                );
            }
        }
    }

    /// The four layouts of an m×k A and a k×n B: row-major and column-major each.
    fn layouts(m: usize, k: usize, n: usize) -> [((usize, usize), (usize, usize)); 4] {
        [((k, 1), (n, 1)), ((1, m), (1, k)), ((k, 1), (1, k)), ((1, m), (n, 1))]
    }

    /// Sizes that are not multiples of the micro-tile or the blocks (1, MR ± 1, NR ± 1,
    /// k > KC, n > NC, one exact tile), in every layout the backend uses.
    #[test]
    fn matches_the_definition_at_awkward_sizes_and_layouts() {
        let mut rng = StdRng::seed_from_u64(1);
        for &(m, k, n) in &[(1, 1, 1), (13, 5, 40), (11, 300, 31), (25, 700, 33), (37, 17, 600), (12, 256, 32)] {
            for (sa, sb) in layouts(m, k, n) {
                check(&mut rng, m, k, n, sa, sb);
            }
        }
    }

    /// Property: random shapes (m, n ≤ 80, k ≤ 600) and layouts.
    #[test]
    fn matches_the_definition_at_random_shapes() {
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..40 {
            let (m, k, n) = (rng.random_range(1..=80), rng.random_range(1..=600), rng.random_range(1..=80));
            let layout = layouts(m, k, n)[rng.random_range(0..4)];
            check(&mut rng, m, k, n, layout.0, layout.1);
        }
    }

    /// Every entry is summed in the same order whatever the thread count (threads split rows,
    /// never depth), so results are bit-identical across pools.
    #[test]
    fn bit_identical_across_thread_counts() {
        let (m, k, n) = (203, 530, 70);
        let mut rng = StdRng::seed_from_u64(3);
        let a: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
        for product in [Product::PackedAvx512, Product::Matrixmultiply].into_iter().filter(|p| p.is_available()) {
            let bits = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
                let mut c = vec![0.0f32; m * n];
                let (a, b) = (Operand::row_major(&a, k), Operand::col_major(&b, k));
                pool.install(|| sgemm_with(product, m, k, n, a, b, &mut c));
                c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            };
            let one = bits(1);
            assert_eq!(one, bits(2), "{product:?}");
            assert_eq!(one, bits(3), "{product:?}");
        }
    }

    /// Packing, by definition: sliver s holds element (p, s·W + i) at p·W + i, in every stride
    /// case (rows contiguous, depths contiguous, neither) and with a partial last sliver.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn packing_puts_every_element_where_the_micro_kernel_reads_it() {
        const W: usize = 6;
        let (kc, len): (usize, usize) = (7, 15); // three slivers, the last holding 3 of 6
        let data: Vec<f32> = (0..1000).map(|x| x as f32).collect();
        for (sp, si) in [(40, 1), (1, 40), (3, 50)] {
            let block = Block { data: &data, offset: 11, sp, si };
            let mut out = vec![-1.0; len.div_ceil(W) * W * kc];
            pack::<W>(kc, &mut out, len, block);
            for i in 0..len {
                for p in 0..kc {
                    let (s, lane) = (i / W, i % W);
                    assert_eq!(
                        out[s * W * kc + p * W + lane],
                        data[11 + p * sp + i * si],
                        "sp {sp} si {si} (p {p}, i {i})"
                    );
                }
            }
        }
    }

    #[test]
    fn empty_depth_gives_zeros() {
        let mut c = vec![1.0; 6];
        let empty = Operand { data: &[], rs: 0, cs: 0 };
        sgemm(2, 0, 3, empty, empty, &mut c);
        assert_eq!(c, vec![0.0; 6]);
    }
}
