//! Non-finite floats through JSON: serde_json writes NaN and ±∞ as `null`, which a plain `f64`
//! field refuses to read back, so a row holding a diverged run's NaN would be unreadable. The
//! fields that can hold one read `null` back as NaN with these (±∞ also comes back as NaN).

use serde::{Deserialize, Deserializer};

/// An `f64` that reads `null` as NaN.
pub fn f64_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// An `f32` that reads `null` as NaN.
pub fn f32_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(deserializer)?.unwrap_or(f32::NAN))
}

#[cfg(test)]
mod tests {
    use crate::backends::Evaluation;
    use crate::learners::students::TracePoint;
    use crate::learners::{Judgement, Verdict, judge_evaluation};

    #[test]
    fn a_diverged_runs_nan_round_trips_through_json() {
        let e = Evaluation { n: 10, mse_student: f64::NAN, mse_trivial: 0.02, var_target: 0.02, delta_se: f64::NAN };
        let j = judge_evaluation(&e, true, false);
        assert_eq!(j.verdict, Verdict::Diverged);
        let text = serde_json::to_string(&j).unwrap();
        assert!(text.contains("\"delta\":null"), "serde_json writes NaN as null: {text}");
        let back: Judgement = serde_json::from_str(&text).unwrap();
        assert!(back.delta.is_nan() && back.r.is_nan() && back.verdict == Verdict::Diverged);
        let back: Evaluation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert!(back.mse_student.is_nan() && back.mse_trivial == 0.02);
        let t = TracePoint { steps: 1, samples: 2, loss: f32::INFINITY, delta: f64::NAN, r: f64::NAN };
        let back: TracePoint = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert!(back.loss.is_nan() && back.delta.is_nan());
    }
}
