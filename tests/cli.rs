//! The `clwe-bench` binary end to end: bad input is rejected with exit code 2 and a message
//! naming the flag, value and range, leaving no output; output is byte-identical per seed.

use std::path::Path;
use std::process::{Command, Output};

fn clwe_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clwe-bench")).args(args).output().expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn bad_parameters_exit_2_name_the_flag_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.npy");
    let out = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["sample", "clwe", "--d", "0", "--n", "5", "--out", out], "--d = 0"),
        (vec!["sample", "clwe", "--d", "4", "--n", "0", "--out", out], "--n = 0"),
        (vec!["sample", "clwe", "--d", "4", "--n", "5", "--gamma", "-1", "--out", out], "--gamma = -1"),
        (vec!["sample", "clwe", "--d", "4", "--n", "5", "--beta", "NaN", "--out", out], "--beta = NaN"),
        (vec!["sample", "planted", "--d", "4", "--n", "5", "--sigma", "inf", "--out", out], "--sigma = inf"),
        (vec!["sample", "planted", "--d", "4", "--n", "5", "--delta", "2", "--out", out], "--delta = 2"),
        (vec!["sample", "clwe", "--d", "4", "--n", "5", "--out", "x.txt"], ".npy or .csv"),
        (vec!["construction", "--d", "0", "--out", dir.path().to_str().unwrap()], "--d = 0"),
    ] {
        let o = clwe_bench(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert_eq!(entries(dir.path()), 0, "{args:?} left output behind");
    }
    // Unknown names are clap errors, also exit code 2.
    let o = clwe_bench(&["sample", "lwe", "--d", "4", "--n", "5", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    let o = clwe_bench(&["sample", "planted", "--d", "4", "--n", "5", "--noise", "cauchy", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("gaussian"), "{}", stderr(&o));
}

#[test]
fn unwritable_output_directory_is_reported() {
    let o = clwe_bench(&["sample", "clwe", "--d", "4", "--n", "5", "--out", "/nonexistent/dir/s.npy"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("/nonexistent/dir/s.npy"), "{}", stderr(&o));
}

#[test]
fn same_seed_gives_identical_files_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        let o = clwe_bench(&[
            "sample",
            "planted",
            "--d",
            "7",
            "--n",
            "3000",
            "--seed",
            seed,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(path).unwrap()
    };
    let (a, b, c) = (write("a.npy", "5"), write("b.npy", "5"), write("c.npy", "6"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), 128 + 3000 * 8 * 8); // npy v1 header, then 3000 × (7 + 1) f64
}

#[test]
fn csv_has_a_header_and_secret_json_has_the_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    let o = clwe_bench(&["sample", "clwe", "--d", "3", "--n", "4", "--with-secret", "--out", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "y0,y1,y2,z");
    assert_eq!(lines.len(), 5);
    let secret: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.csv.secret.json")).unwrap()).unwrap();
    assert_eq!(secret["d"], 3);
    assert_eq!(secret["w"].as_array().unwrap().len(), 3);
    let gamma = secret["gamma"].as_f64().unwrap();
    assert!((gamma - 2.0 * 3f64.sqrt()).abs() < 1e-12);
    assert!((secret["gamma_s"].as_f64().unwrap() * std::f64::consts::TAU.sqrt() - gamma).abs() < 1e-12);
}

#[test]
fn divergence_and_timeouts_are_verdicts_not_crashes() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--learner",
            "sgd",
            "--d",
            "4",
            "--backend",
            "cpu",
            "--n-test",
            "2000",
            "--train-size",
            "1000",
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = clwe_bench(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let record: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        record["judgement"]["verdict"].as_str().unwrap().to_string()
    };
    assert_eq!(run(&["--lr", "1e6", "--budget-steps", "200"]), "diverged");
    assert_eq!(run(&["--budget-steps", "100000000", "--budget-seconds", "0.2"]), "timeout");
}

#[test]
fn bench_step_vs_sgemm_reports_the_step_as_a_share_of_a_same_minute_sgemm() {
    let o = clwe_bench(&[
        "bench-step",
        "--backend",
        "cpu",
        "--d",
        "32",
        "--k",
        "64",
        "--batch",
        "256",
        "--steps",
        "2",
        "--repeats",
        "1",
        "--vs-sgemm",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let row: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON row");
    let (step, sgemm, percent) = (
        row["gflops"].as_f64().unwrap(),
        row["sgemm_2048_gflops"].as_f64().unwrap(),
        row["percent_of_sgemm"].as_f64().unwrap(),
    );
    assert!(sgemm > 0.0 && step > 0.0, "{row}");
    assert!((percent - 100.0 * step / sgemm).abs() < 1e-9, "{row}");
}
