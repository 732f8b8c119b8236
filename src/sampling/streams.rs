//! The counter layout: which Philox counter produces which number.
//!
//! Every draw of a run is `philox4x32_10(counter, key)` with `key = seed` (64 bits, low word
//! first) and
//!
//! | word | meaning |
//! |---|---|
//! | `ctr[0]` | block: coordinates `4·block .. 4·block+3` of a vector draw, or a scalar slot |
//! | `ctr[1]` | sample index, low 32 bits |
//! | `ctr[2]` | sample index, high 32 bits |
//! | `ctr[3]` | `instance << 8 \| role` |
//!
//! `role` names what is drawn ([`Role`]); `instance` (24 bits) numbers independent instances of
//! one experiment (fresh secret, fresh data) under one seed. A vector of `d` normals for sample
//! `i` uses blocks `0 .. ⌈d/4⌉`; the per-sample scalars (CLWE error, label noise, phase, …) use
//! the block numbers of [`Scalar`] in the `*Scalars` role. Because the counter *names* the
//! number, sample `i` is the same on every backend, shard and machine, and nothing is stored.

use crate::math::normal::{block_normals_f64, box_muller_f64};
use crate::math::philox::{Counter, Key, key_from_seed, philox4x32_10, uniform_f64};

/// What a stream draws (the low byte of `ctr[3]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Role {
    /// The secret direction `g` (sample index 0), normalised to `w = g/‖g‖`.
    Secret = 1,
    /// Inputs of training samples (CLWE `y`, planted `x`); online SGD step `t` with batch `B`
    /// uses sample indices `t·B .. t·B + B`.
    TrainInputs = 2,
    /// Per-sample scalars of training samples ([`Scalar`]).
    TrainScalars = 3,
    /// Inputs of held-out test samples.
    TestInputs = 4,
    /// Per-sample scalars of test samples.
    TestScalars = 5,
    /// Student initialisation: sample index = neuron, blocks = its coordinates.
    StudentInit = 6,
    /// Inputs of validation samples (model selection; never the verdict).
    ValidationInputs = 7,
    /// Per-sample scalars of validation samples.
    ValidationScalars = 8,
}

/// Block numbers of the per-sample scalars (within a `*Scalars` role).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Scalar {
    /// CLWE error `e` (normal).
    ClweError = 0,
    /// Label noise `ξ` (words 0–1: a normal or a uniform; words 0–1 as two uniforms for Laplace).
    LabelNoise = 1,
    /// A uniform phase: the null's `z`, the planted null's `U`, the hCLWE component `k`.
    Phase = 2,
    /// The hCLWE offset `t` along `w` (normal).
    HclweOffset = 3,
}

/// Largest instance number that fits the 24 bits of `ctr[3]` above the role byte.
pub const MAX_INSTANCE: u32 = (1 << 24) - 1;

/// Checks an instance number (`--instance`) against 0..=[`MAX_INSTANCE`].
pub fn check_instance(instance: u32) -> Result<(), crate::params::ParamError> {
    crate::params::ensure(
        instance <= MAX_INSTANCE,
        "--instance",
        instance,
        &format!("an integer in 0..={MAX_INSTANCE}"),
    )
}

/// One named stream: a key and the fixed word `ctr[3]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stream {
    key: Key,
    tag: u32,
}

impl Stream {
    /// The stream of `role` for `instance` of the run with `seed`.
    ///
    /// # Panics
    /// If `instance > MAX_INSTANCE` (callers validate instance counts up front).
    pub fn new(seed: u64, instance: u32, role: Role) -> Self {
        assert!(instance <= MAX_INSTANCE, "instance {instance} exceeds {MAX_INSTANCE}");
        Self { key: key_from_seed(seed), tag: (instance << 8) | role as u32 }
    }

    /// The Philox key.
    pub fn key(&self) -> Key {
        self.key
    }

    /// The fixed counter word `ctr[3]`.
    pub fn tag(&self) -> u32 {
        self.tag
    }

    /// The counter of `block` of sample `index`.
    #[inline(always)]
    pub fn counter(&self, index: u64, block: u32) -> Counter {
        [block, index as u32, (index >> 32) as u32, self.tag]
    }

    /// The four words of `block` of sample `index`.
    #[inline(always)]
    pub fn words(&self, index: u64, block: u32) -> [u32; 4] {
        philox4x32_10(self.counter(index, block), self.key)
    }

    /// Fills `out` with the standard normals of sample `index` (coordinate `c` from block
    /// `c / 4`, position `c % 4`), in `f64`.
    pub fn normals_f64(&self, index: u64, out: &mut [f64]) {
        for (block, chunk) in out.chunks_mut(4).enumerate() {
            let normals = block_normals_f64(self.words(index, block as u32));
            chunk.copy_from_slice(&normals[..chunk.len()]);
        }
    }

    /// One standard normal from scalar slot `slot` of sample `index` (words 0 and 1).
    pub fn scalar_normal(&self, index: u64, slot: Scalar) -> f64 {
        let w = self.words(index, slot as u32);
        box_muller_f64(w[0], w[1])[0]
    }

    /// Two uniforms in (0, 1] from scalar slot `slot` of sample `index` (words 0 and 1).
    pub fn scalar_uniforms(&self, index: u64, slot: Scalar) -> [f64; 2] {
        let w = self.words(index, slot as u32);
        [uniform_f64(w[0]), uniform_f64(w[1])]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_words_follow_the_documented_layout() {
        let s = Stream::new(7, 3, Role::TestInputs);
        assert_eq!(s.counter(0x1_0000_0002, 5), [5, 2, 1, (3 << 8) | 4]);
        assert_eq!(s.key(), [7, 0]);
    }

    #[test]
    fn vector_draws_are_prefix_stable_in_the_dimension() {
        // Coordinate c depends only on (sample, c): a larger d extends, never reshuffles.
        let s = Stream::new(1, 0, Role::TrainInputs);
        let mut short = [0.0; 5];
        let mut long = [0.0; 9];
        s.normals_f64(42, &mut short);
        s.normals_f64(42, &mut long);
        assert_eq!(short, long[..5]);
    }

    #[test]
    fn streams_differ_by_role_instance_and_seed() {
        let draw = |s: Stream| s.words(0, 0);
        let base = Stream::new(1, 0, Role::TrainInputs);
        assert_ne!(draw(base), draw(Stream::new(1, 0, Role::TestInputs)));
        assert_ne!(draw(base), draw(Stream::new(1, 1, Role::TrainInputs)));
        assert_ne!(draw(base), draw(Stream::new(2, 0, Role::TrainInputs)));
    }
}
