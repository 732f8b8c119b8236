//! Student parameters and their standard initialisation.

use serde::Serialize;

use crate::math::philox::uniform_f32;
use crate::math::target::CappedTriangle;
use crate::sampling::streams::{Role, Stream};

/// Block of the student-init stream holding neuron j's bias (word 0) and output weight (word 1).
pub const INIT_SCALAR_BLOCK: u32 = u32::MAX;

/// h(x) = Σ_j a_j ReLU(⟨v_j, x⟩ + b_j) + c, in f32.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudentParams {
    /// Input dimension d.
    pub d: usize,
    /// Hidden weights V, k'×d row-major.
    pub v: Vec<f32>,
    /// Hidden biases b (k').
    pub b: Vec<f32>,
    /// Output weights a (k').
    pub a: Vec<f32>,
    /// Output bias c.
    pub c: f32,
}

impl StudentParams {
    /// Width k'.
    pub fn width(&self) -> usize {
        self.a.len()
    }

    /// The standard (PyTorch `nn.Linear`) initialisation: v_jc, b_j ~ U(−1/√d, 1/√d),
    /// a_j ~ U(−1/√k', 1/√k'), c = 0, drawn from the student-init stream (neuron j = sample
    /// index; v_j from blocks 0.., b_j and a_j from block [`INIT_SCALAR_BLOCK`]).
    pub fn standard_init(d: usize, width: usize, seed: u64, instance: u32) -> Self {
        let stream = Stream::new(seed, instance, Role::StudentInit);
        let symmetric = |x: u32, bound: f32| bound * (2.0 * uniform_f32(x) - 1.0);
        let (in_bound, out_bound) = (1.0 / (d as f32).sqrt(), 1.0 / (width as f32).sqrt());
        let mut v = vec![0.0; width * d];
        let (mut b, mut a) = (vec![0.0; width], vec![0.0; width]);
        for j in 0..width {
            for (block, chunk) in v[j * d..(j + 1) * d].chunks_mut(4).enumerate() {
                let words = stream.words(j as u64, block as u32);
                chunk.iter_mut().zip(words).for_each(|(v, w)| *v = symmetric(w, in_bound));
            }
            let words = stream.words(j as u64, INIT_SCALAR_BLOCK);
            b[j] = symmetric(words[0], in_bound);
            a[j] = symmetric(words[1], out_bound);
        }
        Self { d, v, b, a, c: 0.0 }
    }

    /// The exact capped triangle network f_NN in direction `w` at frequency `gamma_s` (width
    /// 4M + 1): every hidden weight γ_s·w, biases M − j/2, output weights c_j, c = 0.
    pub fn capped_triangle(w: &[f32], gamma_s: f32, cap: CappedTriangle) -> Self {
        let k = cap.width();
        Self {
            d: w.len(),
            v: (0..k).flat_map(|_| w.iter().map(move |wi| gamma_s * wi)).collect(),
            b: (0..k).map(|j| cap.hidden_bias(j) as f32).collect(),
            a: (0..k).map(|j| cap.output_weight(j) as f32).collect(),
            c: 0.0,
        }
    }

    /// The direction-known control's start: the standard initialisation with every hidden
    /// weight turned onto the secret direction, v_j ← sign(⟨v_j, w⟩)·‖v_j‖·w (norms, biases and
    /// so the scale of the features kept, so the optimiser's stable rates are the student's).
    /// Trained with frozen directions it is a one-dimensional ReLU spline in ⟨w, x⟩.
    pub fn direction_known(w: &[f32], width: usize, seed: u64, instance: u32) -> Self {
        let mut s = Self::standard_init(w.len(), width, seed, instance);
        for v in s.v.chunks_mut(w.len()) {
            let along: f32 = v.iter().zip(w).map(|(v, w)| v * w).sum();
            let norm = v.iter().map(|v| v * v).sum::<f32>().sqrt();
            let signed = if along < 0.0 { -norm } else { norm };
            v.iter_mut().zip(w).for_each(|(v, w)| *v = signed * w);
        }
        s
    }

    /// h(x) in f64 (reference evaluation).
    pub fn eval(&self, x: &[f32]) -> f64 {
        let d = self.d;
        (0..self.width()).fold(f64::from(self.c), |acc, j| {
            let z = self.v[j * d..(j + 1) * d].iter().zip(x).map(|(v, x)| f64::from(*v) * f64::from(*x)).sum::<f64>()
                + f64::from(self.b[j]);
            acc + f64::from(self.a[j]) * z.max(0.0)
        })
    }
}
