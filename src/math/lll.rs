//! LLL basis reduction, two ways, one result: an LLL-reduced basis (δ given, |μ| ≤ 0.51 as
//! fplll's check allows) of the same lattice.
//! - [`lll_reduce`]: exact integer arithmetic (the integral LLL of de Weger, as in Cohen, *A
//!   Course in Computational Algebraic Number Theory*, Algorithm 2.6.7): the Gram–Schmidt data
//!   are the integers d_i (Gram determinants) and λ_ij = d_j·μ_ij; no rounding anywhere, |μ| ≤ ½.
//! - [`lll_reduce_auto`]: floating-point LLL in the L² spirit (Nguyen–Stehlé): the basis stays
//!   exact (i64 rows, checked arithmetic) and only the Gram–Schmidt data are floating point —
//!   a Householder QR in f64 (Morel–Stehlé–Villard), recomputed from the integer row whenever a
//!   size reduction changes it. It runs directly on bases with entries below 2^30 (q-ary,
//!   uniform), and on knapsack-shaped bases [I | a] (the attack's relation lattices; the big
//!   column in any position) by feeding the big column's bits a chunk at a time. Where f64 is
//!   not enough — an entry grows past 2^31, a row looks dependent, size reduction does not
//!   settle — the precision "grows" to exact: the integral algorithm takes over.
//!
//! Also reads and writes fplll's matrix text format (`[[a b c]\n[d e f]\n]`).

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};

use crate::deadline::Deadline;

/// A lattice basis: one row per basis vector.
pub type Basis = Vec<Vec<BigInt>>;

/// A failure of the reduction or of parsing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatticeError {
    /// The rows are linearly dependent (a Gram determinant vanished).
    #[error("basis rows are linearly dependent (row {0})")]
    Dependent(usize),
    /// Rows of different lengths.
    #[error("row {row} has {got} entries, expected {expected}")]
    Ragged {
        /// Offending row.
        row: usize,
        /// Its length.
        got: usize,
        /// The first row's length.
        expected: usize,
    },
    /// Text that is not an fplll matrix.
    #[error("not an fplll matrix: {0}")]
    Parse(String),
    /// δ outside (1/4, 1].
    #[error("invalid --delta = {0}: expected a number in (0.25, 1]")]
    Delta(f64),
    /// The deadline passed before the reduction finished.
    #[error("lattice reduction stopped at its deadline")]
    Interrupted,
}

impl LatticeError {
    /// Whether the input is at fault (a malformed matrix or δ), not the run.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Ragged { .. } | Self::Parse(_) | Self::Delta(_) => true,
            Self::Dependent(_) | Self::Interrupted => false,
        }
    }
}

/// Counters of one reduction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LllStats {
    /// Size reductions applied.
    pub size_reductions: u64,
    /// Swaps (Lovász condition failures).
    pub swaps: u64,
}

/// δ as an exact fraction num/den (den = 10⁶), checked to lie in (1/4, 1].
fn delta_fraction(delta: f64) -> Result<(BigInt, BigInt), LatticeError> {
    if !(delta > 0.25 && delta <= 1.0) {
        return Err(LatticeError::Delta(delta));
    }
    let den = 1_000_000i64;
    Ok((BigInt::from((delta * den as f64).round() as i64), BigInt::from(den)))
}

fn dot(a: &[BigInt], b: &[BigInt]) -> BigInt {
    a.iter().zip(b).fold(BigInt::zero(), |acc, (x, y)| acc + x * y)
}

/// Nearest integer to n/d for d > 0 (ties up).
fn round_div(n: &BigInt, d: &BigInt) -> BigInt {
    (n * BigInt::from(2) + d).div_floor(&(d * BigInt::from(2)))
}

/// Reduces `basis` in place to an LLL-reduced basis with parameter `delta` ∈ (1/4, 1].
/// Stops with [`LatticeError::Interrupted`] once `deadline` has passed.
pub fn lll_reduce(basis: &mut Basis, delta: f64, deadline: Deadline) -> Result<LllStats, LatticeError> {
    let (num, den) = delta_fraction(delta)?;
    let n = basis.len();
    if let Some(first) = basis.first() {
        let expected = first.len();
        if let Some((row, r)) = basis.iter().enumerate().find(|(_, r)| r.len() != expected) {
            return Err(LatticeError::Ragged { row, got: r.len(), expected });
        }
    }
    let mut stats = LllStats::default();
    if n < 2 {
        return Ok(stats);
    }
    // dd[i] = d_i (d_0 = 1); lam[k][j] = λ_kj for j < k (vectors 0-based).
    let mut dd = vec![BigInt::one(); n + 1];
    let mut lam = vec![vec![BigInt::zero(); n]; n];
    dd[1] = dot(&basis[0], &basis[0]);
    if dd[1].is_zero() {
        return Err(LatticeError::Dependent(0));
    }
    let (mut k, mut k_max) = (1usize, 0usize);
    let mut iterations = 0u64;
    while k < n {
        if iterations.is_multiple_of(DEADLINE_CHECK_EVERY) && deadline.expired() {
            return Err(LatticeError::Interrupted);
        }
        iterations += 1;
        if k > k_max {
            k_max = k;
            for j in 0..=k {
                let mut u = dot(&basis[k], &basis[j]);
                for i in 0..j {
                    u = (&dd[i + 1] * u - &lam[k][i] * &lam[j][i]) / &dd[i];
                }
                if j < k {
                    lam[k][j] = u;
                } else if u.is_zero() {
                    return Err(LatticeError::Dependent(k));
                } else {
                    dd[k + 1] = u;
                }
            }
        }
        size_reduce(basis, &mut lam, &dd, k, k - 1, &mut stats);
        let lhs = &den * &dd[k + 1] * &dd[k - 1];
        let rhs = &num * &dd[k] * &dd[k] - &den * &lam[k][k - 1] * &lam[k][k - 1];
        if lhs < rhs {
            swap(basis, &mut lam, &mut dd, k, k_max);
            stats.swaps += 1;
            k = (k - 1).max(1);
        } else {
            for l in (0..k - 1).rev() {
                size_reduce(basis, &mut lam, &dd, k, l, &mut stats);
            }
            k += 1;
        }
    }
    Ok(stats)
}

/// RED(k, l): makes |μ_kl| ≤ ½.
fn size_reduce(basis: &mut Basis, lam: &mut [Vec<BigInt>], dd: &[BigInt], k: usize, l: usize, stats: &mut LllStats) {
    let dl = &dd[l + 1];
    if (&lam[k][l] * BigInt::from(2)).abs() <= *dl {
        return;
    }
    let q = round_div(&lam[k][l], dl);
    let (head, tail) = basis.split_at_mut(k);
    for (bk, bl) in tail[0].iter_mut().zip(&head[l]) {
        *bk -= &q * bl;
    }
    lam[k][l] -= &q * dl;
    let (lam_head, lam_tail) = lam.split_at_mut(k);
    for i in 0..l {
        lam_tail[0][i] -= &q * &lam_head[l][i];
    }
    stats.size_reductions += 1;
}

/// SWAP(k): exchanges b_k and b_{k−1} and updates the Gram–Schmidt integers.
fn swap(basis: &mut Basis, lam: &mut [Vec<BigInt>], dd: &mut [BigInt], k: usize, k_max: usize) {
    basis.swap(k, k - 1);
    let (before, from_k) = lam.split_at_mut(k);
    before[k - 1][..k - 1].swap_with_slice(&mut from_k[0][..k - 1]);
    let l = lam[k][k - 1].clone();
    let b = (&dd[k - 1] * &dd[k + 1] + &l * &l) / &dd[k];
    for row in lam.iter_mut().take(k_max + 1).skip(k + 1) {
        let t = row[k].clone();
        row[k] = (&dd[k + 1] * &row[k - 1] - &l * &t) / &dd[k];
        row[k - 1] = (&b * &t + &l * &row[k]) / &dd[k + 1];
    }
    dd[k] = b;
}

/// Reduces `basis` to an LLL-reduced basis of the same lattice (δ as given, |μ| ≤ 0.51), by
/// the first of three routes that applies:
/// 1. knapsack-shaped bases — rows (e_i | a_i) up to a column permutation: an identity block and
///    one column of large integers, the shape of every relation lattice of the attack. Truncated
///    copies [U | ⌊U·a / 2^s⌉] (entries within ~50 bits) are reduced in floating point, feeding
///    the column's bits a chunk at a time, finishing with s = 0 on the exact [U | U·a];
/// 2. bases with every entry below 2^30: floating-point LLL directly;
/// 3. the exact algorithm (dependent rows included, as fplll: zero rows first).
///
/// Routes 1 and 2 give way to the next whenever f64 stops being trustworthy (see the module).
pub fn lll_reduce_auto(basis: &mut Basis, delta: f64, deadline: Deadline) -> Result<LllStats, LatticeError> {
    delta_fraction(delta)?;
    if deadline.expired() {
        return Err(LatticeError::Interrupted);
    }
    if let Some(column) = knapsack_column(basis) {
        // Columns can be permuted freely (an isometry): the fast path wants the big one last.
        basis.iter_mut().for_each(|row| row[column..].rotate_left(1));
        let fast = knapsack_fast_path(basis, delta, deadline);
        basis.iter_mut().for_each(|row| row[column..].rotate_right(1));
        if let Some(stats) = fast {
            return Ok(stats);
        }
    }
    if let Some(stats) = small_entry_path(basis, delta, deadline) {
        return Ok(stats);
    }
    match lll_reduce(basis, delta, deadline) {
        Err(LatticeError::Dependent(_)) => reduce_dependent(basis, delta, deadline),
        other => other,
    }
}

/// The column c of a knapsack-shaped basis (n rows of n+1 entries; without column c, the
/// identity), if it is one.
fn knapsack_column(basis: &Basis) -> Option<usize> {
    let n = basis.len();
    if n < 2 || basis.iter().any(|r| r.len() != n + 1) {
        return None;
    }
    let unit = |i: usize, j: usize| BigInt::from(i64::from(i == j));
    (0..=n).find(|&c| {
        basis.iter().enumerate().all(|(i, row)| {
            row.iter().enumerate().filter(|(j, _)| *j != c).enumerate().all(|(jj, (_, v))| *v == unit(i, jj))
        })
    })
}

/// Largest entry magnitude for which a basis is reduced directly in floating point.
const SMALL_ENTRY: i64 = 1 << 30;

/// A basis whose entries are all below [`SMALL_ENTRY`] (q-ary lattices, uniform bases): reduced
/// with the floating-point algorithm directly. `None` leaves `basis` untouched.
fn small_entry_path(basis: &mut Basis, delta: f64, deadline: Deadline) -> Option<LllStats> {
    if basis.len() > basis.first().map_or(0, Vec::len) {
        return None; // more rows than coordinates: dependent, the exact algorithm's case
    }
    let mut rows: Vec<Vec<i64>> = basis
        .iter()
        .map(|r| r.iter().map(|v| v.to_i64().filter(|v| v.abs() < SMALL_ENTRY)).collect::<Option<_>>())
        .collect::<Option<_>>()?;
    let stats = lll_f64(&mut rows, delta, deadline)?;
    *basis = rows.iter().map(|r| r.iter().map(|&v| BigInt::from(v)).collect()).collect();
    Some(stats)
}

/// Iterations between two looks at the deadline.
const DEADLINE_CHECK_EVERY: u64 = 256;

/// Bits of the truncated column fed to the floating-point reduction: squared norms stay near
/// 2^52, where f64 still resolves the short vectors the reduction is after.
const FEED_BITS: u64 = 26;
/// Largest magnitude an entry may reach on the fast path before it gives up (dot products are
/// summed exactly in i128, then rounded once to f64).
const FAST_ENTRY_LIMIT: i64 = 1 << 31;

fn knapsack_fast_path(basis: &mut Basis, delta: f64, deadline: Deadline) -> Option<LllStats> {
    let n = basis.len();
    if n < 2 || basis.iter().any(|r| r.len() != n + 1) {
        return None;
    }
    let identity = basis
        .iter()
        .enumerate()
        .all(|(i, r)| r[..n].iter().enumerate().all(|(j, v)| *v == BigInt::from(i64::from(i == j))));
    if !identity {
        return None;
    }
    let column: Vec<BigInt> = basis.iter().map(|r| r[n].clone()).collect();
    let bits = column.iter().map(|a| a.bits()).max().unwrap_or(0);
    let mut u: Vec<Vec<i64>> = (0..n).map(|i| (0..n).map(|j| i64::from(i == j)).collect()).collect();
    let mut shift = bits.saturating_sub(FEED_BITS);
    let mut stats = LllStats::default();
    loop {
        if deadline.expired() {
            return None; // the exact algorithm reports the interruption
        }
        // The current column U·a, exact, then truncated by 2^shift.
        let exact: Vec<BigInt> =
            u.iter().map(|row| row.iter().zip(&column).fold(BigInt::zero(), |s, (x, a)| s + a * x)).collect();
        let truncated: Option<Vec<i64>> = exact.iter().map(|c| round_shift(c, shift).to_i64()).collect();
        let mut rows: Vec<Vec<i64>> =
            u.iter().zip(truncated?).map(|(r, c)| r.iter().copied().chain([c]).collect()).collect();
        let round = lll_f64(&mut rows, delta, deadline)?;
        stats.swaps += round.swaps;
        stats.size_reductions += round.size_reductions;
        u = rows.iter().map(|r| r[..n].to_vec()).collect();
        if shift == 0 {
            for (dst, src) in basis.iter_mut().zip(&rows) {
                *dst = src.iter().map(|&v| BigInt::from(v)).collect();
            }
            return Some(stats);
        }
        shift = shift.saturating_sub(FEED_BITS / 2);
    }
}

/// ⌊c / 2^s⌉.
fn round_shift(c: &BigInt, s: u64) -> BigInt {
    if s == 0 {
        return c.clone();
    }
    (c + (BigInt::one() << (s - 1))) >> s
}

/// Schnorr–Euchner LLL on small integer rows with the Gram–Schmidt data from a Householder QR
/// in f64 (the "Householder LLL" of Morel, Stehlé and Villard): the relative accuracy of
/// ‖b*_k‖ is that of ‖b_k‖ (a Gram matrix would square the loss). Row k of R is kept up to date
/// by exact-in-exact-arithmetic updates — a size reduction changes only its first k
/// coordinates; a swap reuses both rows' coordinates before the last reflector — and is
/// recomputed from the integer row after any size reduction by a large multiple. Size reduction
/// runs to |μ| ≤ 0.505, inside the η = 0.51 that fplll's check allows. `None` when an entry
/// leaves ±[`FAST_ENTRY_LIMIT`], a row is dependent, or the size reduction does not settle:
/// the caller then takes the exact algorithm.
fn lll_f64(b: &mut [Vec<i64>], delta: f64, deadline: Deadline) -> Option<LllStats> {
    let mut qr = Householder::new(b.len(), b[0].len());
    let mut stats = LllStats::default();
    qr.row(b, 0);
    qr.accept(0)?;
    let mut k = 1;
    let mut iterations = 0u64;
    while k < b.len() {
        iterations += 1;
        if iterations > 50_000_000 || (iterations.is_multiple_of(DEADLINE_CHECK_EVERY) && deadline.expired()) {
            return None;
        }
        let mut rounds = 0;
        loop {
            qr.row(b, k);
            let mut largest = 0.0f64;
            for j in (0..k).rev() {
                let mu = qr.r[k][j] / qr.r[j][j];
                if mu.abs() <= SIZE_REDUCED {
                    continue;
                }
                let q = mu.round();
                if q.abs() > 1e15 {
                    return None;
                }
                let (head, tail) = b.split_at_mut(k);
                for (x, y) in tail[0].iter_mut().zip(&head[j]) {
                    *x = x.checked_sub((q as i64).checked_mul(*y)?)?;
                }
                let (r_head, r_tail) = qr.r.split_at_mut(k);
                r_tail[0][..=j].iter_mut().zip(&r_head[j][..=j]).for_each(|(x, y)| *x -= q * y);
                largest = largest.max(q.abs());
                stats.size_reductions += 1;
            }
            rounds += 1;
            if largest == 0.0 {
                break;
            }
            if rounds > 100 {
                return None;
            }
            qr.forget(k);
        }
        if b[k].iter().any(|v| v.abs() > FAST_ENTRY_LIMIT) {
            return None;
        }
        let (previous, mu) = (qr.r[k - 1][k - 1].powi(2), qr.r[k][k - 1] / qr.r[k - 1][k - 1]);
        if delta * previous > qr.tail_norm_squared(k) + mu * mu * previous {
            b.swap(k, k - 1);
            qr.swap(k);
            stats.swaps += 1;
            if k == 1 {
                qr.accept(0)?;
            } else {
                k -= 1;
            }
        } else {
            qr.accept(k)?;
            k += 1;
        }
    }
    Some(stats)
}

/// Size reduction keeps |μ| within this (fplll's check allows η = 0.51).
const SIZE_REDUCED: f64 = 0.505;

/// The QR factorisation of the rows being reduced. Reflector j (valid for rows before the
/// current one) maps b_j to R_jj·e_j. Row k is held as `r[k][..applied[k]]` (its coordinates
/// fixed by the reflectors applied so far) and `x[k][applied[k]..]` (the rest, after them).
struct Householder {
    v: Vec<Vec<f64>>,
    scale: Vec<f64>,
    r: Vec<Vec<f64>>,
    x: Vec<Vec<f64>>,
    /// Reflectors applied to row k; `None` when the row must be recomputed from the integers.
    applied: Vec<Option<usize>>,
}

impl Householder {
    fn new(n: usize, m: usize) -> Self {
        Self {
            v: vec![vec![0.0; m]; n],
            scale: vec![0.0; n],
            r: vec![vec![0.0; n]; n],
            x: vec![vec![0.0; m]; n],
            applied: vec![None; n],
        }
    }

    /// Brings row k up to reflectors 0..k, from the integer row b_k when it is not cached.
    fn row(&mut self, b: &[Vec<i64>], k: usize) {
        let first = match self.applied[k] {
            Some(a) => a,
            None => {
                self.x[k].iter_mut().zip(&b[k]).for_each(|(x, &v)| *x = v as f64);
                0
            }
        };
        for j in first..k {
            self.reflect(j, k);
            self.r[k][j] = self.x[k][j];
        }
        self.applied[k] = Some(k);
    }

    /// Applies reflector j to row k (coordinates j onwards).
    fn reflect(&mut self, j: usize, k: usize) {
        let (v, x) = (&self.v[j][j..], &mut self.x[k][j..]);
        let s = self.scale[j] * v.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f64>();
        x.iter_mut().zip(v).for_each(|(x, v)| *x -= s * v);
    }

    /// Row k is to be recomputed from the integers.
    fn forget(&mut self, k: usize) {
        self.applied[k] = None;
    }

    /// ‖b*_k‖²: the squared norm of row k past its first k coordinates.
    fn tail_norm_squared(&self, k: usize) -> f64 {
        self.x[k][k..].iter().map(|v| v * v).sum()
    }

    /// Rows k−1 and k have been swapped: both are held before reflector k−1 (row k's current
    /// coordinates are taken back through that reflector, its own inverse).
    fn swap(&mut self, k: usize) {
        let x = &mut self.x[k];
        x[k - 1] = self.r[k][k - 1];
        self.reflect(k - 1, k);
        self.x.swap(k, k - 1);
        self.r.swap(k, k - 1);
        self.applied[k - 1] = Some(k - 1);
        self.applied[k] = Some(k - 1);
    }

    /// Builds reflector k from row k (brought up to date); rows after k that had used the old
    /// reflector k are forgotten. `None` if the row is dependent.
    fn accept(&mut self, k: usize) -> Option<()> {
        let norm = self.tail_norm_squared(k).sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return None;
        }
        let x = &self.x[k];
        let alpha = if x[k] > 0.0 { -norm } else { norm };
        let v = &mut self.v[k];
        v[k..].copy_from_slice(&x[k..]);
        v[k] -= alpha;
        self.scale[k] = 2.0 / v[k..].iter().map(|a| a * a).sum::<f64>();
        self.r[k][k] = alpha;
        for a in &mut self.applied[k + 1..] {
            if a.is_some_and(|a| a > k) {
                *a = None;
            }
        }
        Some(())
    }
}

/// Parses fplll's matrix format: `[` then rows `[a b c]` of integers separated by whitespace,
/// then `]`. Empty rows, rows of different lengths, a missing or an extra bracket, and text after
/// the closing bracket are errors.
pub fn parse_fplll(text: &str) -> Result<Basis, LatticeError> {
    let spaced = text.replace('[', " [ ").replace(']', " ] ");
    let mut tokens = spaced.split_whitespace();
    let parse = |m: String| LatticeError::Parse(m);
    if tokens.next() != Some("[") {
        return Err(parse("expected the matrix to start with [".into()));
    }
    let mut rows: Basis = Vec::new();
    loop {
        match tokens.next() {
            Some("[") => {}
            Some("]") => break,
            Some(t) => return Err(parse(format!("expected [ to open row {}, found '{t}'", rows.len()))),
            None => return Err(parse("the matrix is not closed by ]".into())),
        }
        let mut row = Vec::new();
        loop {
            match tokens.next() {
                Some("]") => break,
                Some("[") => return Err(parse(format!("row {} is not closed by ]", rows.len()))),
                Some(t) => row.push(t.parse::<BigInt>().map_err(|_| parse(format!("'{t}' is not an integer")))?),
                None => return Err(parse(format!("row {} is not closed by ]", rows.len()))),
            }
        }
        if row.is_empty() {
            return Err(parse(format!("row {} is empty", rows.len())));
        }
        if let Some(first) = rows.first().filter(|f| f.len() != row.len()) {
            return Err(LatticeError::Ragged { row: rows.len(), got: row.len(), expected: first.len() });
        }
        rows.push(row);
    }
    if let Some(t) = tokens.next() {
        return Err(parse(format!("unexpected '{t}' after the closing ]")));
    }
    if rows.is_empty() {
        return Err(parse("no rows".into()));
    }
    Ok(rows)
}

/// Reduces a basis whose rows are linearly dependent, as fplll does: unimodular integer row
/// operations (extended gcd, column by column) bring the rows to an echelon form of the same
/// lattice, which turns each dependency into a zero row; the nonzero rows are then LLL-reduced.
/// The zero rows come first.
fn reduce_dependent(basis: &mut Basis, delta: f64, deadline: Deadline) -> Result<LllStats, LatticeError> {
    let mut rows = std::mem::take(basis);
    let (n, m) = (rows.len(), rows[0].len());
    let mut rank = 0;
    for col in 0..m {
        for i in rank + 1..n {
            if rows[i][col].is_zero() {
                continue;
            }
            let (a, b) = (rows[rank][col].clone(), rows[i][col].clone());
            let e = a.extended_gcd(&b); // e.gcd = e.x·a + e.y·b
            let (p, q) = (&b / &e.gcd, &a / &e.gcd);
            // [x y; p −q] has determinant −(x·a + y·b)/gcd = −1: unimodular.
            let top: Vec<BigInt> = rows[rank].iter().zip(&rows[i]).map(|(r, s)| &e.x * r + &e.y * s).collect();
            let bottom: Vec<BigInt> = rows[rank].iter().zip(&rows[i]).map(|(r, s)| &p * r - &q * s).collect();
            (rows[rank], rows[i]) = (top, bottom);
        }
        if !rows[rank][col].is_zero() {
            rank += 1;
            if rank == n {
                break;
            }
        }
    }
    let mut independent: Basis = rows[..rank].to_vec();
    let stats = lll_reduce(&mut independent, delta, deadline)?;
    *basis = vec![vec![BigInt::zero(); m]; n - rank];
    basis.extend(independent);
    Ok(stats)
}

/// Formats a basis in fplll's matrix format.
pub fn format_fplll(basis: &Basis) -> String {
    let mut out = String::from("[");
    for row in basis {
        out.push('[');
        out.push_str(&row.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "));
        out.push_str("]\n");
    }
    out.push_str("]\n");
    out
}

/// Squared Euclidean norm of a row.
pub fn norm_squared(row: &[BigInt]) -> BigInt {
    dot(row, row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;

    fn basis(rows: &[&[i64]]) -> Basis {
        rows.iter().map(|r| r.iter().map(|&v| BigInt::from(v)).collect()).collect()
    }

    /// Checks size reduction |μ_ij| ≤ ½ and the Lovász condition with exact rationals.
    fn is_lll_reduced(b: &Basis, delta: f64) -> bool {
        is_reduced_with(b, delta, BigRational::new(1.into(), 2.into()))
    }

    /// The same with size-reduction bound η.
    fn is_reduced_with(b: &Basis, delta: f64, eta: BigRational) -> bool {
        let n = b.len();
        let q = |v: &BigInt| BigRational::from_integer(v.clone());
        let mut star: Vec<Vec<BigRational>> = Vec::new();
        let mut mu = vec![vec![BigRational::zero(); n]; n];
        let rdot =
            |a: &[BigRational], c: &[BigRational]| a.iter().zip(c).fold(BigRational::zero(), |s, (x, y)| s + x * y);
        for i in 0..n {
            let mut v: Vec<BigRational> = b[i].iter().map(q).collect();
            for j in 0..i {
                let bi: Vec<BigRational> = b[i].iter().map(q).collect();
                mu[i][j] = rdot(&bi, &star[j]) / rdot(&star[j], &star[j]);
                for (x, s) in v.iter_mut().zip(&star[j]) {
                    *x -= &mu[i][j] * s;
                }
            }
            star.push(v);
        }
        let dl = BigRational::new(BigInt::from((delta * 1e6).round() as i64), BigInt::from(1_000_000));
        (0..n).all(|i| (0..i).all(|j| mu[i][j].abs() <= eta))
            && (1..n).all(|k| {
                let lhs = &dl * rdot(&star[k - 1], &star[k - 1]);
                let rhs = rdot(&star[k], &star[k]) + &mu[k][k - 1] * &mu[k][k - 1] * rdot(&star[k - 1], &star[k - 1]);
                lhs <= rhs
            })
    }

    #[test]
    fn reduces_a_classic_example_to_the_known_basis() {
        // Cohen's example / Wikipedia: b1 = (1,1,1), b2 = (−1,0,2), b3 = (3,5,6) → (0,1,0), (1,0,1), (−1,0,2).
        let mut b = basis(&[&[1, 1, 1], &[-1, 0, 2], &[3, 5, 6]]);
        lll_reduce(&mut b, 0.75, Deadline::NONE).unwrap();
        assert_eq!(b, basis(&[&[0, 1, 0], &[1, 0, 1], &[-1, 0, 2]]));
    }

    #[test]
    fn output_is_reduced_and_spans_the_same_lattice() {
        // A knapsack-style basis: identity plus a column of large integers.
        let weights = [982_451_653i64, 57_885_161, 373_587_883, 2_147_483_647, 899_809_343, 15_485_863];
        let mut b: Basis = weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                (0..weights.len()).map(|j| BigInt::from(i64::from(i == j))).chain([BigInt::from(*w)]).collect()
            })
            .collect();
        let stats = lll_reduce(&mut b, 0.99, Deadline::NONE).unwrap();
        assert!(stats.swaps > 0);
        assert!(is_lll_reduced(&b, 0.99));
        // For B = [I | w], the reduced basis is U·B: its first block is U. Same lattice iff U is
        // unimodular and the last column is U·w.
        let n = weights.len();
        let u: Vec<Vec<BigRational>> =
            b.iter().map(|r| r[..n].iter().map(|v| BigRational::from_integer(v.clone())).collect()).collect();
        assert_eq!(determinant(u).abs(), BigRational::one());
        for row in &b {
            let uw = row[..n].iter().zip(&weights).fold(BigInt::zero(), |s, (u, w)| s + u * BigInt::from(*w));
            assert_eq!(row[n], uw);
        }
        assert!(b.iter().map(|r| norm_squared(r)).min().unwrap() < BigInt::from(weights[1]));
    }

    #[allow(clippy::needless_range_loop)] // textbook elimination over index ranges
    fn determinant(mut m: Vec<Vec<BigRational>>) -> BigRational {
        let n = m.len();
        let mut det = BigRational::one();
        for c in 0..n {
            let Some(p) = (c..n).find(|&r| !m[r][c].is_zero()) else { return BigRational::zero() };
            if p != c {
                m.swap(p, c);
                det = -det;
            }
            det *= m[c][c].clone();
            for r in c + 1..n {
                let f = &m[r][c] / &m[c][c];
                for k in c..n {
                    let t = &f * &m[c][k];
                    m[r][k] -= t;
                }
            }
        }
        det
    }

    /// A knapsack basis [I | a] with `bits`-bit pseudo-random weights.
    fn knapsack(n: usize, bits: u64, seed: u64) -> Basis {
        let stream = crate::sampling::streams::Stream::new(seed, 0, crate::sampling::streams::Role::Secret);
        (0..n)
            .map(|i| {
                let mut a = BigInt::zero();
                for block in 0..bits.div_ceil(32) {
                    a = (a << 32u32) + BigInt::from(stream.words(i as u64, block as u32)[0]);
                }
                let a = a >> (32 * bits.div_ceil(32) - bits);
                (0..n).map(|j| BigInt::from(i64::from(i == j))).chain([a]).collect()
            })
            .collect()
    }

    #[test]
    fn the_fast_path_returns_a_reduced_basis_of_the_same_lattice() {
        let eta = BigRational::new(51.into(), 100.into());
        for (n, bits) in [(6, 40), (12, 200), (24, 400)] {
            let original = knapsack(n, bits, n as u64);
            let mut fast = original.clone();
            let stats = knapsack_fast_path(&mut fast, 0.99, Deadline::NONE).expect("fast path applies");
            assert!(stats.swaps > 0);
            assert!(is_reduced_with(&fast, 0.98, eta.clone()), "n = {n}, {bits} bits: not reduced");
            // Same lattice: rows are U·[I | a] with U unimodular.
            let u: Vec<Vec<BigRational>> =
                fast.iter().map(|r| r[..n].iter().map(|v| BigRational::from_integer(v.clone())).collect()).collect();
            assert_eq!(determinant(u).abs(), BigRational::one(), "n = {n}");
            for row in &fast {
                let ua = row[..n].iter().zip(&original).fold(BigInt::zero(), |s, (u, o)| s + u * &o[n]);
                assert_eq!(row[n], ua);
            }
            // As short as the exact algorithm's first vector, within the LLL factor.
            let mut exact = original.clone();
            lll_reduce(&mut exact, 0.99, Deadline::NONE).unwrap();
            let (f, e) = (norm_squared(&fast[0]), norm_squared(&exact[0]));
            assert!(f <= &e * BigInt::from(1u64 << n.min(20)), "n = {n}: {f} vs {e}");
        }
    }

    /// Whether `to` spans the lattice of the square basis `from`: to = T·from, T integral with
    /// |det T| = 1.
    fn same_lattice(from: &Basis, to: &Basis) -> bool {
        let n = from.len();
        let q = |v: &BigInt| BigRational::from_integer(v.clone());
        // Gauss–Jordan on [fromᵀ | toᵀ] gives (T·from)ᵀ = toᵀ solved for Tᵀ.
        let mut m: Vec<Vec<BigRational>> =
            (0..n).map(|c| (0..n).map(|i| q(&from[i][c])).chain((0..n).map(|i| q(&to[i][c]))).collect()).collect();
        for c in 0..n {
            let Some(p) = (c..n).find(|&r| !m[r][c].is_zero()) else { return false };
            m.swap(p, c);
            let pivot = m[c][c].clone();
            m[c].iter_mut().for_each(|v| *v /= &pivot);
            for r in 0..n {
                if r != c && !m[r][c].is_zero() {
                    let f = m[r][c].clone();
                    let row_c = m[c].clone();
                    m[r].iter_mut().zip(&row_c).for_each(|(v, w)| *v -= &f * w);
                }
            }
        }
        let t: Vec<Vec<BigRational>> = (0..n).map(|i| (0..n).map(|j| m[j][n + i].clone()).collect()).collect();
        t.iter().flatten().all(|v| v.is_integer()) && determinant(t).abs() == BigRational::one()
    }

    /// fplll's `latticegen q n k b`-style basis: [[q·I_k, 0], [A, I_(n−k)]] with A uniform mod q.
    fn q_ary(n: usize, k: usize, q: i64, seed: u64) -> Basis {
        let stream = crate::sampling::streams::Stream::new(seed, 0, crate::sampling::streams::Role::Secret);
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let v = match (i < k, j < k) {
                            (true, _) => {
                                if i == j {
                                    q
                                } else {
                                    0
                                }
                            }
                            (false, true) => i64::from(stream.words(i as u64, j as u32)[0]) % q,
                            (false, false) => i64::from(i == j),
                        };
                        BigInt::from(v)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn small_entry_bases_are_reduced_in_floating_point_to_fplll_standards() {
        let eta = BigRational::new(51.into(), 100.into());
        for (n, k, q) in [(16, 8, (1 << 20) - 3), (24, 12, (1 << 29) - 3)] {
            let original = q_ary(n, k, q, n as u64);
            let mut reduced = original.clone();
            assert!(small_entry_path(&mut reduced, 0.99, Deadline::NONE).is_some(), "n = {n}: the f64 path applies");
            assert!(is_reduced_with(&reduced, 0.99, eta.clone()), "n = {n}: not LLL-reduced (δ = 0.99, η = 0.51)");
            assert!(same_lattice(&original, &reduced), "n = {n}: another lattice");
        }
    }

    #[test]
    fn a_knapsack_basis_with_its_big_column_first_takes_the_fast_path() {
        let eta = BigRational::new(51.into(), 100.into());
        let last = knapsack(20, 200, 5);
        let mut first: Basis = last.iter().map(|r| r[20..].iter().chain(&r[..20]).cloned().collect()).collect();
        assert_eq!(knapsack_column(&first), Some(0));
        assert_eq!(knapsack_column(&basis(&[&[1, 1, 1], &[-1, 0, 2]])), None);
        let original = first.clone();
        lll_reduce_auto(&mut first, 0.99, Deadline::NONE).unwrap();
        assert!(is_reduced_with(&first, 0.99, eta));
        for row in &first {
            let ua = row[1..].iter().zip(&original).fold(BigInt::zero(), |s, (u, o)| s + u * &o[0]);
            assert_eq!(row[0], ua, "the big column stays first and equals U·a");
        }
        let u: Vec<Vec<BigRational>> =
            first.iter().map(|r| r[1..].iter().map(|v| BigRational::from_integer(v.clone())).collect()).collect();
        assert_eq!(determinant(u).abs(), BigRational::one());
    }

    #[test]
    fn non_knapsack_bases_take_the_exact_path() {
        let mut b = basis(&[&[1, 1, 1], &[-1, 0, 2], &[3, 5, 6]]);
        assert!(knapsack_fast_path(&mut b.clone(), 0.75, Deadline::NONE).is_none());
        lll_reduce_auto(&mut b, 0.75, Deadline::NONE).unwrap();
        assert_eq!(b, basis(&[&[0, 1, 0], &[1, 0, 1], &[-1, 0, 2]]));
    }

    #[test]
    fn fplll_format_round_trips() {
        let b = basis(&[&[1, -2, 3], &[40, 5, -6]]);
        let text = format_fplll(&b);
        assert_eq!(text, "[[1 -2 3]\n[40 5 -6]\n]\n");
        assert_eq!(parse_fplll(&text).unwrap(), b);
        assert_eq!(parse_fplll("[[1 2]\n[3 4]]").unwrap(), basis(&[&[1, 2], &[3, 4]]));
        assert!(parse_fplll("[[1 x]]").is_err());
    }

    #[test]
    fn malformed_matrices_are_rejected_with_what_is_wrong() {
        for (text, needle) in [
            ("[[]]", "row 0 is empty"),
            ("[[1 2]\n[3 4]", "not closed"),
            ("[[1 2]]]]", "after the closing"),
            ("[[1 2][3]]", "row 1 has 1 entries"),
            ("[[1 2", "row 0 is not closed"),
            ("[]", "no rows"),
            ("1 2", "start with ["),
        ] {
            let err = parse_fplll(text).unwrap_err();
            assert!(err.is_bad_input() && err.to_string().contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn dependent_rows_become_leading_zero_rows_as_in_fplll() {
        // (1, 2), (2, 4), (3, 7) span ℤ² (det[(1,2),(3,7)] = 1) with one dependency.
        let mut b = basis(&[&[1, 2], &[2, 4], &[3, 7]]);
        lll_reduce_auto(&mut b, 0.99, Deadline::NONE).unwrap();
        assert_eq!(b[0], basis(&[&[0, 0]])[0]);
        let rest: Basis = b[1..].to_vec();
        assert!(is_lll_reduced(&rest, 0.99));
        let m: Vec<Vec<BigRational>> =
            rest.iter().map(|r| r.iter().map(|v| BigRational::from_integer(v.clone())).collect()).collect();
        assert_eq!(determinant(m).abs(), BigRational::one(), "the same lattice, ℤ²");
        let mut wide = basis(&[&[1, 0, 0], &[0, 1, 0], &[0, 0, 1], &[5, 7, 11], &[2, 3, 4]]);
        let start = std::time::Instant::now();
        lll_reduce_auto(&mut wide, 0.99, Deadline::NONE).unwrap();
        assert!(start.elapsed().as_secs_f64() < 5.0, "more rows than columns is settled at once");
        assert!(wide[..2].iter().all(|r| r.iter().all(Zero::is_zero)), "{wide:?}");
        let mut twice = basis(&[&[2, 0, 0], &[0, 3, 0], &[4, 6, 0], &[0, 0, 5]]);
        lll_reduce_auto(&mut twice, 0.99, Deadline::NONE).unwrap();
        assert!(twice[0].iter().all(Zero::is_zero) && twice[1..].iter().all(|r| !r.iter().all(Zero::is_zero)));
    }

    #[test]
    fn reduction_stops_at_its_deadline() {
        let b = basis(&[&[1, 1, 1], &[-1, 0, 2], &[3, 5, 6]]);
        let expired = Deadline::after(Some(0.0));
        assert_eq!(lll_reduce(&mut b.clone(), 0.99, expired), Err(LatticeError::Interrupted));
        assert_eq!(lll_reduce_auto(&mut b.clone(), 0.99, expired), Err(LatticeError::Interrupted));
        assert!(lll_reduce(&mut b.clone(), 0.99, Deadline::NONE).is_ok());
    }

    #[test]
    fn bad_input_is_rejected() {
        assert_eq!(lll_reduce(&mut basis(&[&[1, 2], &[2, 4]]), 0.99, Deadline::NONE), Err(LatticeError::Dependent(1)));
        assert!(matches!(
            lll_reduce(&mut basis(&[&[1, 2], &[3]]), 0.99, Deadline::NONE),
            Err(LatticeError::Ragged { .. })
        ));
        assert_eq!(lll_reduce(&mut basis(&[&[1]]), 0.2, Deadline::NONE), Err(LatticeError::Delta(0.2)));
    }
}
