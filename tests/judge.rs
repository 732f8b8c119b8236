//! `judge` scores an outside learner exactly as `run` scores the built-in ones: predictions
//! computed from `sample`'s train file and test inputs alone give `run`'s Δ (to 1e-9) and
//! verdict, in the learning view and on the observed labels.

mod common;

use std::path::Path;

use clwe_bench::experiments::runs::{RUN_DELTA, run_width_rule};
use clwe_bench::math::target::{CappedTriangle, dot};
use clwe_bench::params::{NoiseModel, Problem};
use clwe_bench::sampling::secret_direction;
use common::{output, stderr};
use nalgebra::{DMatrix, DVector};

/// The problem and run flags shared by run, sample and judge.
const FLAGS: [&str; 14] = [
    "--d",
    "4",
    "--gamma",
    "1.0",
    "--seed",
    "7",
    "--instance",
    "3",
    "--train-size",
    "3000",
    "--n-test",
    "9000",
    "--budget-steps",
    "50",
];

fn json(args: &[&str]) -> serde_json::Value {
    let o = output(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn read_npy(path: &Path) -> (Vec<f64>, usize) {
    let npy = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let columns = npy.shape()[1] as usize;
    (npy.into_vec::<f64>().unwrap(), columns)
}

fn write_npy(path: &Path, values: &[f64]) {
    npyz::to_file_1d(path, values.iter().copied()).unwrap();
}

/// run's (Δ, verdict) in both views, and judge's for the predictions in `pred`.
fn both(learner: &str, pred: &Path) -> [(f64, String); 4] {
    let mut run = vec!["run", "--learner", learner, "--backend", "cpu", "--json", "--batch", "1024"];
    run.extend_from_slice(&FLAGS);
    let r = json(&run);
    let mut judge = vec!["judge", "--pred", pred.to_str().unwrap(), "--json", "--batch", "1024"];
    judge.extend_from_slice(&FLAGS);
    let j = json(&judge);
    let pick = |v: &serde_json::Value| (v["delta"].as_f64().unwrap(), v["verdict"].as_str().unwrap().to_string());
    [
        pick(&r["judgement"]),
        pick(&r["observed"]["judgement"]),
        pick(&j["judgement"]["learning"]),
        pick(&j["judgement"]["observed"]),
    ]
}

fn assert_same(learner: &str, [run_f, run_l, judge_f, judge_l]: [(f64, String); 4]) {
    for (view, run, judge) in [("learning", run_f, judge_f), ("observed", run_l, judge_l)] {
        assert!((run.0 - judge.0).abs() < 1e-9, "{learner}, {view} view: run Δ {} vs judge Δ {}", run.0, judge.0);
        assert_eq!(run.1, judge.1, "{learner}, {view} view");
    }
}

#[test]
fn judging_predictions_from_the_files_reproduces_run_for_ridge_and_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test_x) = (dir.path().join("train.npy"), dir.path().join("test_x.npy"));
    let sample = |split: &str, n: &str, out: &Path, extra: &[&str]| {
        let mut args = vec!["sample", "planted", "--split", split, "--n", n, "--out", out.to_str().unwrap()];
        args.extend_from_slice(&FLAGS);
        args.extend_from_slice(extra);
        let o = output(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    sample("train", "3000", &train, &[]);
    sample("test", "9000", &test_x, &["--no-labels"]);
    let (rows, columns) = read_npy(&train);
    let (test, d) = read_npy(&test_x);
    assert_eq!((columns, d), (5, 4), "train rows (x, ℓ); test inputs only");

    // Ridge on [x, 1], λ = 10⁻³ on the weights (the built-in default), from the train file.
    let m = rows.len() / columns;
    let x = DMatrix::from_fn(m, d + 1, |i, j| if j < d { rows[i * columns + j] } else { 1.0 });
    let y = DVector::from_fn(m, |i, _| rows[i * columns + d]);
    let mut gram = x.transpose() * &x / m as f64;
    for j in 0..d {
        gram[(j, j)] += 1e-3;
    }
    let theta = gram.cholesky().unwrap().solve(&(x.transpose() * y / m as f64));
    let ridge: Vec<f64> = test.chunks(d).map(|x| dot(&theta.as_slice()[..d], x) + theta[d]).collect();
    let pred = dir.path().join("ridge.npy");
    write_npy(&pred, &ridge);
    assert_same("ridge", both("ridge", &pred));

    // The oracle knows w (only it): f_NN(x) with the run's cap.
    let problem = Problem::new(4, Some(1.0), None, None, NoiseModel::Gaussian, 7).unwrap();
    let rule = run_width_rule(50, 1024, 3000, 9000, RUN_DELTA).unwrap();
    let (w, cap) = (secret_direction(7, 3, 4), CappedTriangle::new(rule.cap(problem.gamma_s())));
    let oracle: Vec<f64> = test.chunks(d).map(|x| cap.eval_closed_form(problem.gamma_s() * dot(&w, x))).collect();
    let csv = dir.path().join("oracle.csv");
    let text: String = std::iter::once("prediction".to_string())
        .chain(oracle.iter().map(|v| format!("{v:e}")))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&csv, text + "\n").unwrap();
    assert_same("oracle", both("oracle", &csv));
}

#[test]
fn bad_predictions_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<f64>, &str); 2] =
        [("short.npy", vec![0.25; 10], "9000 predictions"), ("nan.npy", vec![f64::NAN; 9000], "row 0 is NaN")];
    for (name, values, needle) in cases {
        let path = dir.path().join(name);
        write_npy(&path, &values);
        let mut args = vec!["judge", "--pred", path.to_str().unwrap()];
        args.extend_from_slice(&FLAGS);
        let o = output(&args);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle) && stderr(&o).contains("--pred"), "{name}: {}", stderr(&o));
    }
    let wide = dir.path().join("wide.csv");
    std::fs::write(&wide, "1,2\n3,4\n").unwrap();
    let mut args = vec!["judge", "--pred", wide.to_str().unwrap()];
    args.extend_from_slice(&FLAGS);
    let o = output(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("one column"), "{}", stderr(&o));
}
