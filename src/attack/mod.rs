//! The lattice attack that succeeds at exponentially small noise (SPEC §7 "lll"; Song, Zadik,
//! Bruna 2021): from d+1 samples, an integer relation between the samples' reals is found by
//! LLL and reveals the hidden integers, from which w follows by least squares.
//!
//! Three modes, all through one integer-relation lattice (rows (e_j | ⌊2^N r_j / max|r|⌉)):
//! - `clwe`: z_i = γ⟨w,y_i⟩ + e_i − k_i; with u the null vector of the y_i,
//!   Σ u_i k_i + Σ u_i z_i ≈ 0: reals (u_0..u_d, Σ u_i z_i), lattice dimension d+2.
//! - `triangle`: labels ℓ_i = φ(γ_s⟨w,x_i⟩) + ξ_i, so γ_s⟨w,x_i⟩ = s_i ℓ_i + k_i with signs
//!   s_i = ±1: reals (u_0..u_d, u_0ℓ_0..u_dℓ_d), dimension 2d+2.
//! - `hclwe` (hCLWE): ⟨w,y_i⟩ = k_i/γ: reals (u_0..u_d), dimension d+1.
//!
//! The precision N is chosen for the noise (SPEC §7, revision 2): with noise η in the reals,
//! the relation's last coordinate is about 2^N·η, so N much above log₂(1/η) swamps the relation,
//! while N below about half the noiseless default leaves LLL too little to find. The attack scans
//! N from that lower bound up to log₂(1/η) + 8 — coarse, then the midpoints — and finally the
//! noiseless default, tries every reduced row of the right shape, and stops at the first secret
//! that [`recover`]'s verification accepts. Pieces: [`instance`] (extended-precision samples),
//! [`relation`] (the lattice), [`recover`] (candidates, least squares, verification); the
//! learner `lll` is a thin adapter (`learners::lll`).

pub mod instance;
pub mod recover;
pub mod relation;

use std::time::Instant;

use num_traits::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::deadline::Deadline;
use crate::error::Error;
use crate::math::lll::{Basis, LllStats, lll_reduce_auto, norm_squared};
use crate::math::target::dot;
use crate::params::Problem;
use recover::{Verifier, candidates, noise_level, secret_from, to_f64};

/// Which relation the attack looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AttackMode {
    /// CLWE samples (y, z): lattice dimension d + 2.
    Clwe,
    /// Triangle-wave labels of the planted problem: dimension 2d + 2.
    Triangle,
    /// Noiseless homogeneous CLWE: dimension d + 1.
    Hclwe,
}

impl AttackMode {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Clwe => "clwe",
            Self::Triangle => "triangle",
            Self::Hclwe => "hclwe",
        }
    }

    /// Lattice dimension for input dimension d.
    pub fn dimension(self, d: usize) -> usize {
        match self {
            Self::Clwe => d + 2,
            Self::Triangle => 2 * d + 2,
            Self::Hclwe => d + 1,
        }
    }
}

/// How the attack picks its precision N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Scan N for the noise (the default).
    Scan,
    /// Use exactly this N.
    Fixed(u32),
}

/// Seconds spent in each stage of one attack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageSeconds {
    /// Drawing the instance in fixed point and the null vector of its inputs.
    pub instance: f64,
    /// Lattice reduction, over every N tried.
    pub reduction: f64,
    /// Least squares for every candidate.
    pub recovery: f64,
    /// Drawing the fresh samples and testing candidates on them.
    pub verification: f64,
}

/// The outcome of one attack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackReport {
    /// The mode.
    pub mode: AttackMode,
    /// Input dimension.
    pub d: usize,
    /// Lattice dimension.
    pub dimension: usize,
    /// The precision N (bits) that succeeded, else the last one tried.
    pub precision_bits: u32,
    /// Every N tried, in order.
    #[serde(default)]
    pub precisions_tried: Vec<u32>,
    /// Whether a vector of the expected shape was found in some reduced basis.
    pub found: bool,
    /// Whether a recovered secret explains fresh samples.
    pub verified: bool,
    /// |⟨ŵ, w⟩| of the accepted secret, else of the first candidate (0 when there was none).
    pub cosine: f64,
    /// The recovered frequency ‖w′‖ (γ, or γ_s in triangle mode).
    pub frequency: f64,
    /// The recovered direction (empty when nothing was found).
    #[serde(skip)]
    pub direction: Vec<f64>,
    /// log₂ of the Euclidean norm of the first reduced vector at the last N tried.
    pub first_vector_log2_norm: f64,
    /// Seconds spent in LLL (all N).
    pub lll_seconds: f64,
    /// LLL counters (all N).
    pub lll: LllStats,
    /// Samples touched: the d+1 of the lattice and the fresh ones of the verification.
    #[serde(default)]
    pub samples: u64,
    /// Candidate rows tried.
    #[serde(default)]
    pub candidates: u64,
    /// The probability that a wrong candidate passes the verification (none: the noise is too
    /// large to verify, and nothing is accepted).
    #[serde(default)]
    pub false_accept_per_candidate: Option<f64>,
    /// Seconds per stage.
    #[serde(default)]
    pub stages: StageSeconds,
}

impl AttackReport {
    /// The report of an attack on d+1 samples at dimension d before any try.
    pub fn new(mode: AttackMode, d: usize) -> Self {
        Self {
            mode,
            d,
            dimension: mode.dimension(d),
            precision_bits: 0,
            precisions_tried: Vec::new(),
            found: false,
            verified: false,
            cosine: 0.0,
            frequency: 0.0,
            direction: Vec::new(),
            first_vector_log2_norm: 0.0,
            lll_seconds: 0.0,
            lll: LllStats::default(),
            samples: d as u64 + 1,
            candidates: 0,
            false_accept_per_candidate: None,
            stages: StageSeconds::default(),
        }
    }
}

impl std::fmt::Display for AttackReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tried: Vec<String> = self.precisions_tried.iter().map(u32::to_string).collect();
        write!(
            f,
            "{:?} d={} dimension {}: verified {} at N={} (tried N = {}), found {}, |cos| = {:.15}, frequency {:.9}, \
             {} candidates, {} samples",
            self.mode,
            self.d,
            self.dimension,
            self.verified,
            self.precision_bits,
            tried.join(", "),
            self.found,
            self.cosine,
            self.frequency,
            self.candidates,
            self.samples,
        )?;
        match self.false_accept_per_candidate {
            Some(p) => write!(f, ", false accept ≤ {p:.1e} per candidate")?,
            None => write!(f, ", noise too large to verify")?,
        }
        let s = &self.stages;
        write!(
            f,
            "\n  stages: instance {:.3} s, reduction {:.3} s ({} swaps), recovery {:.3} s, verification {:.3} s",
            s.instance, s.reduction, self.lll.swaps, s.recovery, s.verification
        )
    }
}

/// The precisions N (bits) the attack accepts.
pub const PRECISION_BITS: std::ops::RangeInclusive<u32> = 1..=16384;

/// log₂ of the norm of the relation vector the attack looks for, about: √dim coordinates of
/// size γ/2 + 1.
fn relation_log2_norm(mode: AttackMode, d: usize, gamma: f64) -> f64 {
    ((mode.dimension(d) as f64).sqrt() * (gamma / 2.0 + 1.0)).log2()
}

/// The noiseless precision N for `mode` at dimension d and frequency γ (lattice convention):
/// the lattice dimension times (log₂ of the relation's norm + 3 bits of margin).
pub fn default_precision(mode: AttackMode, d: usize, gamma: f64) -> u32 {
    (mode.dimension(d) as f64 * (relation_log2_norm(mode, d, gamma) + 3.0)).ceil() as u32
}

/// Bytes the attack at input dimension d and precisions up to `max_precision` needs, about:
/// three copies of the relation basis (dimension² integers of up to N + 128 bits) and the
/// null-vector elimination (d² integers growing to ~64·d bits; P·d bits in hCLWE mode, whose
/// inputs are not f64 values).
pub fn estimated_bytes(mode: AttackMode, d: usize, max_precision: u32) -> u64 {
    let (d, dim) = (d as f64, mode.dimension(d) as f64);
    let p = f64::from(max_precision) + 128.0;
    let basis = 3.0 * dim * (dim + 1.0) * (p / 8.0 + 32.0);
    let entry_bits = if mode == AttackMode::Hclwe { p } else { 64.0 };
    let elimination = d * (d + 1.0) * (d * entry_bits / 8.0 + 32.0);
    (basis + elimination).min(u64::MAX as f64) as u64
}

/// The precisions the scan tries, in order, for noise `noise` in the reals: eight from the lower
/// bound (half the lattice dimension times log₂ of the relation's norm) up to log₂(1/noise) + 8
/// (the noiseless default for no noise), then the midpoints between them, then the default.
pub fn precision_schedule(mode: AttackMode, d: usize, gamma: f64, noise: f64) -> Vec<u32> {
    let default = i64::from(default_precision(mode, d, gamma));
    let low = ((mode.dimension(d) as f64 * relation_log2_norm(mode, d, gamma) / 2.0).ceil() as i64).clamp(8, default);
    let high = if noise > 0.0 { ((-noise.log2()).floor() as i64 + 8).clamp(low, default) } else { default };
    let coarse: Vec<i64> = (0..8).map(|i| low + (high - low) * i / 7).collect();
    let fine = coarse.windows(2).map(|w| (w[0] + w[1]) / 2);
    let mut schedule: Vec<u32> = Vec::new();
    for n in coarse.iter().copied().chain(fine).chain([default]) {
        let n = n.clamp(i64::from(*PRECISION_BITS.start()), i64::from(*PRECISION_BITS.end())) as u32;
        if !schedule.contains(&n) {
            schedule.push(n);
        }
    }
    schedule
}

/// The attack's integer-relation lattice basis for one instance at precision N (before
/// reduction), e.g. to compare with fplll.
pub fn attack_lattice(
    mode: AttackMode,
    problem: &Problem,
    instance: u32,
    clwe_derived: bool,
    n_bits: u32,
) -> Result<Basis, Error> {
    let p = n_bits + 128;
    let samples = instance::draw(mode, problem, instance, clwe_derived, 0, problem.d as u64 + 1, p);
    Ok(relation::relation_basis(&relation::relation_reals(mode, &samples, p)?, n_bits))
}

/// One attack instance, built once and tried at any precision up to the one it was built for:
/// the d+1 lattice samples, the reals of their relation, the fresh verification samples and
/// the report that every try adds to.
pub struct AttackInstance {
    mode: AttackMode,
    samples: instance::Samples,
    reals: Vec<num_rational::BigRational>,
    labels: Vec<f64>,
    verifier: Option<Verifier>,
    truth: Vec<f64>,
    max_precision: u32,
    /// What the tries so far found.
    pub report: AttackReport,
}

impl AttackInstance {
    /// Draws instance `instance` of `problem` for precisions up to `max_precision` bits.
    pub fn new(
        mode: AttackMode,
        problem: &Problem,
        instance: u32,
        clwe_derived: bool,
        max_precision: u32,
    ) -> Result<Self, Error> {
        let d = problem.d;
        let p = max_precision + 128;
        let clock = Instant::now();
        let samples = instance::draw(mode, problem, instance, clwe_derived, 0, d as u64 + 1, p);
        let reals = relation::relation_reals(mode, &samples, p)?;
        let labels = to_f64(&samples, p);
        let mut report = AttackReport::new(mode, d);
        report.stages.instance = clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let verifier = Verifier::new(mode, problem, instance, clwe_derived, 192);
        report.stages.verification += clock.elapsed().as_secs_f64();
        if let Some(v) = &verifier {
            report.samples += v.count();
            report.false_accept_per_candidate = Some(v.false_accept());
        }
        let truth = crate::sampling::secret_direction(problem.seed, instance, d);
        Ok(Self { mode, samples, reals, labels, verifier, truth, max_precision, report })
    }

    /// Reduces the lattice at precision `n` (at most the instance's maximum) and tries every
    /// candidate row; true when a secret was verified (it is then the report's direction).
    pub fn try_precision(&mut self, n: u32, deadline: Deadline) -> Result<bool, Error> {
        assert!(n <= self.max_precision, "precision {n} above the instance's {}", self.max_precision);
        if deadline.expired() {
            return Err(crate::math::lll::LatticeError::Interrupted.into());
        }
        let (mode, d, report) = (self.mode, self.report.d, &mut self.report);
        report.precisions_tried.push(n);
        report.precision_bits = n;
        let mut basis = relation::relation_basis(&self.reals, n);
        let clock = Instant::now();
        let stats = lll_reduce_auto(&mut basis, 0.99, deadline)?;
        let seconds = clock.elapsed().as_secs_f64();
        (report.lll_seconds, report.stages.reduction) =
            (report.lll_seconds + seconds, report.stages.reduction + seconds);
        report.lll.swaps += stats.swaps;
        report.lll.size_reductions += stats.size_reductions;
        report.first_vector_log2_norm = norm_squared(&basis[0]).to_f64().unwrap_or(f64::INFINITY).sqrt().log2();
        for candidate in candidates(mode, d, &basis) {
            report.found = true;
            report.candidates += 1;
            let clock = Instant::now();
            let w = secret_from(mode, &candidate, &self.samples, &self.labels);
            report.stages.recovery += clock.elapsed().as_secs_f64();
            let Ok(w) = w else { continue };
            let frequency = dot(&w, &w).sqrt();
            if !(frequency > 0.0 && frequency.is_finite()) {
                continue;
            }
            let clock = Instant::now();
            let verified = self.verifier.as_ref().is_some_and(|v| v.accepts(&w));
            report.stages.verification += clock.elapsed().as_secs_f64();
            if verified || report.direction.is_empty() {
                report.direction = w.iter().map(|v| v / frequency).collect();
                report.cosine = dot(&report.direction, &self.truth).abs();
                report.frequency = frequency;
            }
            if verified {
                report.verified = true;
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Runs the attack of `mode` on instance `instance` of `problem`: every precision of the scan
/// (or the fixed one), every candidate row, until a secret is verified or the precisions run
/// out. Stops with [`crate::math::lll::LatticeError::Interrupted`] at the deadline.
pub fn attack(
    mode: AttackMode,
    problem: &Problem,
    instance: u32,
    clwe_derived: bool,
    precision: Precision,
    deadline: Deadline,
) -> Result<AttackReport, Error> {
    let schedule = match precision {
        Precision::Fixed(n) => vec![n],
        Precision::Scan => precision_schedule(mode, problem.d, problem.gamma, noise_level(mode, problem, clwe_derived)),
    };
    let max = *schedule.iter().max().expect("a precision");
    let mut attack = AttackInstance::new(mode, problem, instance, clwe_derived, max)?;
    for n in schedule {
        if attack.try_precision(n, deadline)? {
            break;
        }
    }
    Ok(attack.report)
}

/// The smallest precision at which the attack verifies a secret on this instance, by bisection
/// between `low` and the instance's maximum: `None` when the maximum fails, `low` when `low`
/// already succeeds; otherwise N such that N succeeds and N − 1 fails (success is taken to be
/// monotone in N between the two tries that bracket it).
pub fn minimal_precision(attack: &mut AttackInstance, low: u32, deadline: Deadline) -> Result<Option<u32>, Error> {
    let high = attack.max_precision;
    if !attack.try_precision(high, deadline)? {
        return Ok(None);
    }
    let (mut fails, mut works) = (low.min(high), high);
    if fails == works || attack.try_precision(fails, deadline)? {
        return Ok(Some(fails));
    }
    while works - fails > 1 {
        let mid = fails + (works - fails) / 2;
        if attack.try_precision(mid, deadline)? { works = mid } else { fails = mid }
    }
    Ok(Some(works))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::NoiseModel;

    fn problem(d: usize, beta: f64, sigma: f64) -> Problem {
        Problem::new(d, None, Some(beta), Some(sigma), NoiseModel::Gaussian, 11).unwrap()
    }

    #[test]
    fn recovers_w_from_d_plus_1_noiseless_samples_in_every_mode() {
        for mode in [AttackMode::Clwe, AttackMode::Triangle, AttackMode::Hclwe] {
            for d in [3, 8] {
                let p = problem(d, 0.0, 0.0);
                let r = attack(mode, &p, 0, false, Precision::Scan, Deadline::NONE).unwrap();
                assert!(r.found && r.verified, "{mode:?} d={d}: {r}");
                assert!(r.cosine > 1.0 - 1e-9, "{mode:?} d={d}: cos {}", r.cosine);
                let truth = if mode == AttackMode::Triangle { p.gamma_s() } else { p.gamma };
                assert!((r.frequency - truth).abs() < 1e-6 * truth, "{mode:?} d={d}: γ {} vs {truth}", r.frequency);
                assert_eq!(r.samples, d as u64 + 1 + 16, "{mode:?}: lattice samples and the fresh ones");
            }
        }
    }

    #[test]
    fn the_precision_is_chosen_for_the_noise() {
        // Where the old fixed precision (the noiseless default) found nothing (issue 10).
        for (d, sigma) in [(8, 1e-30), (16, 6.2e-61)] {
            for instance in 0..2 {
                let p = problem(d, 0.0, sigma);
                let r = attack(AttackMode::Triangle, &p, instance, false, Precision::Scan, Deadline::NONE).unwrap();
                assert!(r.verified && r.cosine > 1.0 - 1e-9, "d={d} σ={sigma} #{instance}: {r}");
                assert!(r.precision_bits < default_precision(AttackMode::Triangle, d, p.gamma), "{r}");
                let fixed = attack(
                    AttackMode::Triangle,
                    &p,
                    instance,
                    false,
                    Precision::Fixed(default_precision(AttackMode::Triangle, d, p.gamma)),
                    Deadline::NONE,
                )
                .unwrap();
                assert!(!fixed.verified, "the noiseless default is swamped by the noise: {fixed}");
            }
        }
        let p = problem(16, 2f64.powi(-60), 0.0);
        let r = attack(AttackMode::Clwe, &p, 0, false, Precision::Scan, Deadline::NONE).unwrap();
        assert!(r.verified && r.cosine > 1.0 - 1e-9, "CLWE d=16 β=2^-60: {r}");
    }

    #[test]
    fn polynomial_noise_defeats_the_attack_and_nothing_wrong_is_accepted() {
        let d = 8;
        let p = problem(d, 1.0 / d as f64, 1.0 / d as f64);
        for mode in [AttackMode::Clwe, AttackMode::Triangle] {
            let r = attack(mode, &p, 0, false, Precision::Scan, Deadline::NONE).unwrap();
            assert!(!r.verified, "{mode:?}: {r}");
        }
        // hCLWE with β = 0.5: the old check accepted |cos| = 0.53 at frequency 68.
        let r = attack(AttackMode::Hclwe, &problem(4, 0.5, 0.0), 0, false, Precision::Scan, Deadline::NONE).unwrap();
        assert!(!r.verified && r.false_accept_per_candidate.is_none(), "{r}");
    }

    #[test]
    fn the_schedule_runs_from_the_lower_bound_to_the_noise_then_the_default() {
        let (mode, d, gamma) = (AttackMode::Triangle, 8, 2.0 * 8f64.sqrt());
        let default = default_precision(mode, d, gamma);
        let noiseless = precision_schedule(mode, d, gamma, 0.0);
        assert_eq!(*noiseless.iter().max().unwrap(), default);
        let noisy = precision_schedule(mode, d, gamma, 1e-30);
        assert!(noisy[..8].iter().all(|&n| n <= 99 + 8), "{noisy:?}"); // log₂(1e30) ≈ 99.7
        assert_eq!(*noisy.last().unwrap(), default);
        let hopeless = precision_schedule(mode, d, gamma, 0.125);
        assert!(hopeless.len() <= 2, "{hopeless:?}");
    }

    #[test]
    fn the_attack_stops_at_its_deadline() {
        let p = problem(40, 0.0, 0.0);
        let err = attack(AttackMode::Triangle, &p, 0, false, Precision::Scan, Deadline::after(Some(0.0))).unwrap_err();
        assert!(matches!(err, Error::Lattice(crate::math::lll::LatticeError::Interrupted)), "{err}");
    }
}
