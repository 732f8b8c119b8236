//! The integer-relation lattice of the attack: the null vector u of the d+1 inputs (exact,
//! fraction-free elimination) and the basis rows (e_j | ⌊2^N r_j / max|r|⌉) for the reals r of
//! each mode (SPEC §7).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::AttackMode;
use super::instance::{Samples, round_rational};
use crate::error::Error;

/// An integer u ≠ 0 with Σ u_i r_i = 0 for the d+1 integer rows r_i ∈ ℤ^d, by fraction-free
/// (Bareiss) elimination of [r_0 … r_{d−1} | −r_d]: u_d = det, u_i = the Cramer numerators,
/// obtained by exact integer back-substitution.
/// The rows are first divided by the largest power of two dividing every entry (the null space
/// is unchanged): inputs that are f64 values held with P fractional bits then shrink from ~P to
/// ~60 bits, and the elimination's integers (about d times that) with them.
pub(super) fn null_vector(rows: &[Vec<BigInt>]) -> Result<Vec<BigInt>, Error> {
    let d = rows[0].len();
    let common = rows.iter().flatten().filter_map(BigInt::trailing_zeros).min().unwrap_or(0);
    let mut m: Vec<Vec<BigInt>> =
        (0..d).map(|c| (0..d).map(|i| &rows[i][c] >> common).chain([-(&rows[d][c] >> common)]).collect()).collect();
    let mut previous = BigInt::one();
    for k in 0..d {
        let pivot = (k..d)
            .find(|&r| !m[r][k].is_zero())
            .ok_or_else(|| Error::Numerical("lattice attack: the d+1 inputs do not span ℝ^d".into()))?;
        m.swap(pivot, k);
        let (top, bottom) = m.split_at_mut(k + 1);
        let pivot_row = &top[k];
        for row in bottom.iter_mut() {
            for j in k + 1..=d {
                row[j] = (&row[j] * &pivot_row[k] - &row[k] * &pivot_row[j]) / &previous;
            }
            row[k] = BigInt::zero();
        }
        previous = m[k][k].clone();
    }
    let det = previous;
    let mut u = vec![BigInt::zero(); d + 1];
    for i in (0..d).rev() {
        let tail = (i + 1..d).fold(&det * &m[i][d], |acc, j| acc - &m[i][j] * &u[j]);
        u[i] = tail / &m[i][i];
    }
    u[d] = det;
    Ok(u)
}

/// The reals whose integer relation the attack looks for (SPEC §7): for CLWE (u, Σ u_i z_i),
/// for triangle labels (u, u_i ℓ_i), for hCLWE u alone; the labels carry `p` fractional bits.
pub(super) fn relation_reals(mode: AttackMode, samples: &Samples, p: u32) -> Result<Vec<BigRational>, Error> {
    let u = null_vector(&samples.exact_inputs)?;
    let d = u.len() - 1;
    let label = |i: usize| BigRational::new(samples.labels[i].clone(), BigInt::one() << p);
    let integers = u.iter().map(|v| BigRational::from_integer(v.clone()));
    Ok(match mode {
        AttackMode::Hclwe => integers.collect(),
        AttackMode::Clwe => {
            let s = (0..=d).fold(BigRational::zero(), |acc, i| acc + label(i) * &u[i]);
            integers.chain([s]).collect()
        }
        AttackMode::Triangle => integers.chain((0..=d).map(|i| label(i) * &u[i])).collect(),
    })
}

/// The integer-relation basis for `reals`: rows (e_j | ⌊2^N r_j / max_j |r_j|⌉).
pub fn relation_basis(reals: &[BigRational], n_bits: u32) -> Vec<Vec<BigInt>> {
    let scale = reals.iter().map(|r| r.abs()).max().expect("non-empty");
    let big = BigRational::from_integer(BigInt::one() << n_bits);
    let n = reals.len();
    reals
        .iter()
        .enumerate()
        .map(|(j, r)| {
            (0..n).map(|i| BigInt::from(i64::from(i == j))).chain([round_rational(&(r * &big / &scale))]).collect()
        })
        .collect()
}
