//! The distributions of SPEC §4, each a pure function of (seed, instance, split, sample index):
//! CLWE and its null, homogeneous CLWE and its null, the planted learning problem and its null,
//! with Gaussian, uniform or Laplace label noise of variance σ².

pub mod export;
pub mod hclwe;
pub mod streams;

use serde::{Deserialize, Serialize};

use crate::math::target::{CappedTriangle, WidthRule, dot, triangle_wave};
use crate::params::{NoiseModel, Problem, SQRT_TAU};
use hclwe::ComponentTable;
use streams::{Role, Scalar, Stream};

/// Which distribution a sampler draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// CLWE(w, β, γ): rows (y, z), z = (γ⟨w,y⟩ + e) mod 1.
    Clwe,
    /// The CLWE null: rows (y, z), z ~ U[0, 1) independent of y.
    Null,
    /// Homogeneous CLWE ("Gaussian pancakes"): rows y.
    Hclwe,
    /// The hCLWE null: rows y ~ N(0, I/(2π)).
    HclweNull,
    /// The planted learning problem: rows (x, ℓ), ℓ = f_NN(x) + ξ.
    Planted,
    /// Its null: rows (x, ℓ), ℓ = φ(U) + ξ, U ~ U[0, 1) independent of x.
    PlantedNull,
    /// The reduction's output on CLWE samples (SPEC §6): rows (x, ℓ) with x = √(2π)·y and
    /// ℓ = φ(z) + ξ = φ(γ_s⟨w,x⟩ + e) + ξ, e ~ N(0, β_s²) (no cap). Its null is `planted-null`.
    ClweDerived,
}

impl Distribution {
    /// Whether rows carry a label column after the d inputs.
    pub fn has_label(self) -> bool {
        !matches!(self, Self::Hclwe | Self::HclweNull)
    }

    /// Whether the inputs are in the lattice convention (y) rather than the standard one (x).
    pub fn lattice_convention(self) -> bool {
        matches!(self, Self::Clwe | Self::Null | Self::Hclwe | Self::HclweNull)
    }

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Clwe => "clwe",
            Self::Null => "null",
            Self::Hclwe => "hclwe",
            Self::HclweNull => "hclwe-null",
            Self::Planted => "planted",
            Self::PlantedNull => "planted-null",
            Self::ClweDerived => "clwe-derived",
        }
    }
}

/// What a run's learner trains and is tested on: the planted problem, its null, or
/// CLWE-derived samples (SPEC §4, §6). One enum, so a run cannot be two kinds at once.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum DataKind {
    /// The planted problem: ℓ = f_NN(x) + ξ.
    #[default]
    Planted,
    /// The planted null: ℓ = φ(U) + ξ, U independent of x.
    Null,
    /// CLWE-derived samples (SPEC §6): ℓ = φ(γ_s⟨w,x⟩ + e) + ξ.
    ClweDerived,
}

impl DataKind {
    /// The distribution the training and test samples are drawn from.
    pub fn distribution(self) -> Distribution {
        match self {
            Self::Planted => Distribution::Planted,
            Self::Null => Distribution::PlantedNull,
            Self::ClweDerived => Distribution::ClweDerived,
        }
    }

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Planted => "planted",
            Self::Null => "null",
            Self::ClweDerived => "clwe-derived",
        }
    }
}

impl std::fmt::Display for DataKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which data a sampler draws: training, validation or held-out test samples (disjoint
/// streams). `run` trains on `train` (online step t with batch B on samples t·B..t·B+B; fixed
/// data, ridge and the trivial mean on 0..train-size) and judges on `test` samples 0..n-test;
/// `validation` is for model selection and never decides a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training samples.
    Train,
    /// Validation samples.
    Validation,
    /// Held-out test samples.
    Test,
}

/// The secret direction w = g/‖g‖, g ~ N(0, I_d), of `instance` under `seed`.
pub fn secret_direction(seed: u64, instance: u32, d: usize) -> Vec<f64> {
    let mut g = vec![0.0; d];
    Stream::new(seed, instance, Role::Secret).normals_f64(0, &mut g);
    let norm = dot(&g, &g).sqrt();
    g.iter_mut().for_each(|v| *v /= norm);
    g
}

/// Draws rows of one distribution for one instance and split; row `i` depends only on `i`.
#[derive(Clone, Debug)]
pub struct Sampler {
    kind: Distribution,
    problem: Problem,
    secret: Vec<f64>,
    cap: CappedTriangle,
    components: Option<ComponentTable>,
    inputs: Stream,
    scalars: Stream,
}

impl Sampler {
    /// A sampler for `kind`; `width` fixes the cap M of the planted teacher network.
    pub fn new(kind: Distribution, problem: &Problem, instance: u32, split: Split, width: WidthRule) -> Self {
        let (input_role, scalar_role) = match split {
            Split::Train => (Role::TrainInputs, Role::TrainScalars),
            Split::Validation => (Role::ValidationInputs, Role::ValidationScalars),
            Split::Test => (Role::TestInputs, Role::TestScalars),
        };
        Self {
            kind,
            problem: problem.clone(),
            secret: secret_direction(problem.seed, instance, problem.d),
            cap: CappedTriangle::new(width.cap(problem.gamma_s())),
            components: (kind == Distribution::Hclwe).then(|| ComponentTable::new(problem.beta, problem.gamma)),
            inputs: Stream::new(problem.seed, instance, input_role),
            scalars: Stream::new(problem.seed, instance, scalar_role),
        }
    }

    /// The secret direction w.
    pub fn secret(&self) -> &[f64] {
        &self.secret
    }

    /// The teacher network's cap (its width is 4M + 1).
    pub fn cap(&self) -> CappedTriangle {
        self.cap
    }

    /// The distribution drawn.
    pub fn kind(&self) -> Distribution {
        self.kind
    }

    /// The parameters drawn with.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// Values per row: d inputs, plus the label where there is one.
    pub fn row_len(&self) -> usize {
        self.problem.d + usize::from(self.kind.has_label())
    }

    /// Writes row `index` into `row` (length [`Self::row_len`]).
    pub fn fill_row(&self, index: u64, row: &mut [f64]) {
        let d = self.problem.d;
        let (inputs, label) = row.split_at_mut(d);
        self.inputs.normals_f64(index, inputs); // x ~ N(0, I_d)
        let p = &self.problem;
        match self.kind {
            Distribution::Clwe => {
                let phase = p.gamma_s() * dot(&self.secret, inputs) // γ⟨w,y⟩ with y = x/√(2π)
                    + p.beta_s() * self.scalars.scalar_normal(index, Scalar::ClweError);
                to_lattice(inputs);
                label[0] = fract(phase);
            }
            Distribution::Null => {
                to_lattice(inputs);
                label[0] = self.phase(index);
            }
            Distribution::Hclwe => {
                to_lattice(inputs);
                let table = self.components.as_ref().expect("hCLWE sampler has its table");
                let [u, _] = self.scalars.scalar_uniforms(index, Scalar::Phase);
                let offset = table.offset(u, self.scalars.scalar_normal(index, Scalar::HclweOffset));
                let along = dot(&self.secret, inputs);
                inputs.iter_mut().zip(&self.secret).for_each(|(y, w)| *y += (offset - along) * w);
            }
            Distribution::HclweNull => to_lattice(inputs),
            Distribution::Planted => {
                let target = self.cap.eval_closed_form(p.gamma_s() * dot(&self.secret, inputs));
                label[0] = target + self.label_noise(index);
            }
            Distribution::PlantedNull => {
                label[0] = triangle_wave(self.phase(index)) + self.label_noise(index);
            }
            Distribution::ClweDerived => {
                let phase = p.gamma_s() * dot(&self.secret, inputs)
                    + p.beta_s() * self.scalars.scalar_normal(index, Scalar::ClweError);
                label[0] = triangle_wave(phase) + self.label_noise(index);
            }
        }
    }

    /// The planted null's noise-free label φ(U) of sample `index`.
    pub fn null_phase_label(&self, index: u64) -> f64 {
        triangle_wave(self.phase(index))
    }

    /// A uniform in [0, 1) from the phase slot.
    fn phase(&self, index: u64) -> f64 {
        1.0 - self.scalars.scalar_uniforms(index, Scalar::Phase)[0]
    }

    /// ξ of sample `index`.
    fn label_noise(&self, index: u64) -> f64 {
        label_noise(&self.problem, &self.scalars, index)
    }
}

/// Label noise ξ of sample `index` (variance σ² under the problem's noise model), drawn from the
/// label-noise slot of the scalar stream `scalars`.
pub fn label_noise(problem: &Problem, scalars: &Stream, index: u64) -> f64 {
    let sigma = problem.sigma;
    match problem.noise {
        NoiseModel::Gaussian => sigma * scalars.scalar_normal(index, Scalar::LabelNoise),
        NoiseModel::Uniform => {
            let [u, _] = scalars.scalar_uniforms(index, Scalar::LabelNoise);
            sigma * 3f64.sqrt() * (2.0 * u - 1.0)
        }
        NoiseModel::Laplace => {
            // The difference of two Exp(1) variables is Laplace(0, 1), variance 2.
            let [u0, u1] = scalars.scalar_uniforms(index, Scalar::LabelNoise);
            sigma / 2f64.sqrt() * (u1.ln() - u0.ln())
        }
    }
}

/// x ↦ y = x/√(2π), in place.
fn to_lattice(v: &mut [f64]) {
    v.iter_mut().for_each(|x| *x /= SQRT_TAU);
}

/// t mod 1 in [0, 1) (rounding can make `t − ⌊t⌋` equal 1 for tiny negative t).
fn fract(t: f64) -> f64 {
    let z = t - t.floor();
    if z >= 1.0 { 0.0 } else { z }
}

#[cfg(test)]
mod tests;
