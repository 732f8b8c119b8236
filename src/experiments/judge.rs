//! Judging an outside learner (SPEC §10 experiment 8): its predictions for held-out samples,
//! scored on the suite's own samples by the same rule, on the same test set and against the same
//! trivial predictor (the mean of the run's training labels) as the built-in learners — in the
//! learning view (against the noise-free target f, which only the suite knows) and in the
//! observed view (labels only). The secret never leaves the tool. Predictions are validated in
//! one streaming pass, then scored in a second while the test samples are regenerated a chunk
//! at a time, so memory does not grow with the test set.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::backends::{EvalSums, Evaluation};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::learners::{Budget, Instance, Judgement, RunContext, SCORE_CHUNK, Scores, judge_evaluation, score_chunk};
use crate::math::target::WidthRule;
use crate::params::ParamError;
use crate::sampling::Split;

/// A predictions file, read one value at a time.
pub struct Predictions {
    path: PathBuf,
    /// How many values it holds.
    pub len: u64,
}

type Values = Box<dyn Iterator<Item = Result<f64>>>;

impl Predictions {
    /// Opens `path` (.npy: float64 or float32, shape (n,) or (n, 1); .csv: one column, an
    /// optional header) and checks every value is finite, without keeping them.
    pub fn open(path: &Path) -> Result<Self> {
        let mut len = 0u64;
        for value in values(path)? {
            let v = value?;
            if !v.is_finite() {
                return Err(bad(path, format!("finite predictions (row {len} is {v})")));
            }
            len += 1;
        }
        Ok(Self { path: path.to_path_buf(), len })
    }

    /// The values, in order.
    fn values(&self) -> Result<Values> {
        values(&self.path)
    }
}

fn bad(path: &Path, expected: String) -> Error {
    ParamError { name: "--pred".into(), value: path.display().to_string(), expected }.into()
}

fn values(path: &Path) -> Result<Values> {
    let file = File::open(path).map_err(|e| bad(path, format!("a readable file ({e})")))?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => npy_values(path, file),
        Some("csv") => Ok(csv_values(path, file)),
        _ => Err(bad(path, "a .npy or .csv file".into())),
    }
}

fn npy_values(path: &Path, file: File) -> Result<Values> {
    let owned = path.to_path_buf();
    let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(|e| bad(path, format!("a .npy file ({e})")))?;
    let shape = npy.shape().to_vec();
    if !matches!(shape.as_slice(), [_] | [_, 1]) {
        return Err(bad(path, format!("a 1-D array or one column (n, 1), not shape {shape:?}")));
    }
    let dtype = npy.dtype().descr();
    let read = move |e: std::io::Error| bad(&owned, format!("a complete .npy file ({e})"));
    match dtype.as_str() {
        "'<f8'" => Ok(Box::new(npy.data::<f64>().expect("dtype checked").map(move |v| v.map_err(&read)))),
        "'<f4'" => {
            Ok(Box::new(npy.data::<f32>().expect("dtype checked").map(move |v| v.map(f64::from).map_err(&read))))
        }
        other => Err(bad(path, format!("float64 or float32 values, not dtype {other}"))),
    }
}

fn csv_values(path: &Path, file: File) -> Values {
    let owned = path.to_path_buf();
    let records = csv::ReaderBuilder::new().has_headers(false).from_reader(BufReader::new(file)).into_records();
    Box::new(records.enumerate().filter_map(move |(i, record)| {
        let record = match record {
            Ok(r) => r,
            Err(e) => return Some(Err(bad(&owned, format!("a readable CSV file ({e})")))),
        };
        if record.len() != 1 {
            return Some(Err(bad(&owned, format!("one column, not {} (row {i})", record.len()))));
        }
        match record[0].trim().parse::<f64>() {
            Ok(v) => Some(Ok(v)),
            Err(_) if i == 0 => None, // a header
            Err(_) => Some(Err(bad(&owned, format!("numbers (row {i} is '{}')", &record[0])))),
        }
    }))
}

/// What `judge` reports.
#[derive(Clone, Debug, Serialize)]
pub struct JudgeReport {
    /// Predictions scored.
    pub n: u64,
    /// The trivial predictor's constant: the mean of the run's training labels.
    pub trivial: f64,
    /// Verdicts and Δ statistics in both views.
    pub judgement: Scores<Judgement>,
    /// Evaluations in both views.
    pub eval: Scores<Evaluation>,
}

/// Scores `predictions` for samples `start..start + n_test` of `split` of `inst`, with the
/// trivial constant of the run whose budget is `budget` and cap `rule`.
pub fn judge_predictions(
    inst: &Instance,
    rule: WidthRule,
    budget: &Budget,
    split: Split,
    start: u64,
    predictions: &Predictions,
) -> Result<JudgeReport> {
    if predictions.len != budget.n_test {
        let expected =
            format!("{} predictions (--n-test), one per held-out sample; it holds {}", budget.n_test, predictions.len);
        return Err(bad(&predictions.path, expected));
    }
    let trivial = RunContext::trivial_constant(inst, budget, rule, Deadline::NONE);
    let test = inst.sampler(split, rule);
    let mut values = predictions.values()?;
    let mut sums = Scores::<EvalSums>::default();
    let mut chunk = Vec::with_capacity(SCORE_CHUNK as usize);
    for first in (0..budget.n_test).step_by(SCORE_CHUNK as usize) {
        let len = SCORE_CHUNK.min(budget.n_test - first);
        chunk.clear();
        for _ in 0..len {
            chunk.push(values.next().ok_or_else(|| bad(&predictions.path, "a file that did not change".into()))??);
        }
        sums.add(&score_chunk(inst, &test, trivial, start + first, len, |i, _| chunk[(i - start - first) as usize]));
    }
    let eval = sums.finish();
    let judgement = Scores {
        learning: judge_evaluation(&eval.learning, false, false),
        observed: judge_evaluation(&eval.observed, false, false),
    };
    Ok(JudgeReport { n: budget.n_test, trivial, judgement, eval })
}

impl std::fmt::Display for JudgeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} predictions, trivial predictor = {:.6} (the mean training label)", self.n, self.trivial)?;
        for (view, j, e) in [
            ("learning view (against f)", &self.judgement.learning, &self.eval.learning),
            ("observed labels only", &self.judgement.observed, &self.eval.observed),
        ] {
            writeln!(
                f,
                "  {view}: {}; Δ = {:.4e} (99% lower bound {:.4e}, ε = {:.4e}), r = {:.4}, MSE {:.5e} vs trivial {:.5e}",
                j.verdict, j.delta, j.delta_lower99, j.epsilon, j.r, e.mse_student, e.mse_trivial
            )?;
        }
        Ok(())
    }
}
