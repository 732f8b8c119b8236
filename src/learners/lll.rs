//! The lattice attack as a learner on the planted problem (triangle mode; `crate::attack` does
//! the work): h(x) = φ(⟨ŵ′, x⟩) when a verified secret is found, else the trivial constant.

use super::{Details, Fit, Instance, Learner, RunContext, evaluate_predictor};
use crate::attack::{AttackMode, Precision, attack};
use crate::error::Error;
use crate::math::lll::LatticeError;
use crate::math::target::{dot, triangle_wave};
use crate::sampling::DataKind;

/// The attack with the precision scanned for the noise, or fixed.
pub struct Lll {
    /// Precision N in bits; `None` scans it (the default).
    pub precision_bits: Option<u32>,
}

impl Learner for Lll {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let precision = self.precision_bits.map_or(Precision::Scan, Precision::Fixed);
        let clwe_derived = inst.data == DataKind::ClweDerived;
        let report =
            match attack(AttackMode::Triangle, &inst.problem, inst.instance, clwe_derived, precision, ctx.deadline) {
                Err(Error::Lattice(LatticeError::Interrupted)) => return Ok(Fit::timed_out(inst, ctx, Details::None)),
                other => other?,
            };
        let w: Vec<f64> = report.direction.iter().map(|v| v * report.frequency).collect();
        let trivial = ctx.trivial;
        let scores = if report.verified {
            evaluate_predictor(inst, ctx, |x| triangle_wave(dot(&w, x)))
        } else {
            evaluate_predictor(inst, ctx, |_| trivial)
        };
        Ok(Fit {
            scores,
            samples: report.samples,
            cosine: Some(report.cosine),
            details: Details::Lattice(Box::new(report)),
            ..Fit::default()
        })
    }
}
