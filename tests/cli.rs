//! The `clwe-bench` binary end to end: bad input is rejected with exit code 2 and a message
//! naming the flag, value and range, leaving no output; output is byte-identical per seed.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{output as clwe_bench, stderr};

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
fn unwritable_outputs_exit_2_before_any_work_and_say_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let basis = d("basis.txt");
    std::fs::write(&basis, "[[1 0 5]\n[0 1 7]\n]\n").unwrap();
    std::fs::create_dir(d("secret-dir.npy.secret.json")).unwrap();
    std::fs::write(d("a-file"), "").unwrap();
    for (args, needle) in [
        (vec!["sample", "clwe", "--d", "4", "--n", "5", "--out", "/nonexistent/dir/s.npy"], "does not exist"),
        (vec!["sample", "clwe", "--d", "4", "--n", "5", "--out", dir.path().to_str().unwrap()], ".npy or .csv"),
        (
            vec!["sample", "clwe", "--d", "4", "--n", "5", "--with-secret", "--out", &d("secret-dir.npy")],
            "--with-secret",
        ),
        (vec!["lll-reduce", "--in", &basis, "--out", "/nonexistent/dir/b.txt"], "does not exist"),
        (vec!["lattice", "--mode", "clwe", "--d", "4", "--out", "/nonexistent/b.txt"], "does not exist"),
        (vec!["construction", "--d", "4", "--out", &d("a-file")], "not a directory"),
        (vec!["sweep", "quick", "--backend", "cpu", "--out", &d("a-file/sub")], "--out"),
        (vec!["report", "--criterion", "/nonexistent/criterion"], "--criterion"),
    ] {
        let o = clwe_bench(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    }
    assert!(!dir.path().join("secret-dir.npy").exists(), "no data without its secret");
}

#[test]
fn sizes_that_cannot_fit_exit_2_with_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("huge.npy");
    for (args, needle) in [
        (
            vec!["sample", "planted", "--d", "1024", "--n", "1099511627776", "--out", out.to_str().unwrap()],
            "free under",
        ),
        (vec!["run", "--learner", "sgd", "--d", "64", "--width", "16000000", "--backend", "cpu"], "memory available"),
        (vec!["run", "--learner", "rf-ridge", "--d", "4", "--features", "65536"], "memory available"),
        (vec!["bench-step", "--backend", "cpu", "--d", "64", "--k", "16000000", "--batch", "1024"], "memory available"),
        (vec!["run", "--learner", "sgd", "--d", "4", "--batch", "99999999999"], "--batch"),
        (vec!["run", "--learner", "sgd", "--d", "4", "--n-test", "99999999999999999"], "--n-test"),
        (vec!["lattice", "--mode", "triangle", "--d", "5000"], "--d/--precision-bits"),
        (vec!["lattice", "--mode", "clwe", "--d", "1000000"], "memory available"),
        (vec!["run", "--learner", "lll", "--d", "4000"], "memory available"),
    ] {
        let o = clwe_bench(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(entries(dir.path()), 0);
}

#[test]
fn signals_during_sample_leave_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    for signal in ["INT", "TERM", "HUP"] {
        let out = dir.path().join("big.npy");
        let mut child = Command::new(env!("CARGO_BIN_EXE_clwe-bench"))
            .args(["sample", "planted", "--d", "8", "--n", "100000000", "--out", out.to_str().unwrap()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !std::fs::read_dir(dir.path()).unwrap().any(|e| e.unwrap().metadata().unwrap().len() > 0) {
            assert!(start.elapsed() < Duration::from_secs(60), "no temporary file appeared");
            std::thread::sleep(Duration::from_millis(5));
        }
        let kill = Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        assert!(!status.success(), "SIG{signal}: the command was interrupted");
        assert_eq!(entries(dir.path()), 0, "SIG{signal} left a file behind");
    }
}

#[test]
fn out_of_range_instances_noise_and_precision_exit_2_naming_the_range() {
    for (args, needle) in [
        (vec!["run", "--learner", "oracle", "--d", "4", "--instance", "16777216"], "--instance = 16777216"),
        (vec!["sample", "hclwe", "--d", "4", "--gamma", "1e8", "--n", "3", "--out", "x.npy"], "--gamma = 100000000"),
        (
            vec![
                "sample", "planted", "--d", "4", "--sigma", "1e308", "--noise", "laplace", "--n", "3", "--out", "x.csv",
            ],
            "--sigma",
        ),
        (vec!["lattice", "--mode", "clwe", "--d", "4", "--precision-bits", "0"], "--precision-bits = 0"),
        (vec!["lattice", "--mode", "clwe", "--d", "4", "--precision-bits", "4294967295"], "--precision-bits"),
        (vec!["lattice", "--mode", "clwe", "--d", "4", "--beta", "1.5"], "--beta = 1.5"),
        (vec!["run", "--learner", "trivial", "--d", "4", "--budget-seconds", "0"], "--budget-seconds = 0:"),
        (vec!["run", "--learner", "trivial", "--d", "4", "--null", "--clwe-derived"], "cannot be used with"),
        (vec!["run", "--learner", "ridge", "--d", "4", "--lambda", "-1"], "--lambda = -1"),
        (vec!["run", "--learner", "adam", "--d", "4", "--adam-lr-grid", "0.01,-1"], "--adam-lr-grid = [0.01, -1.0]"),
        (vec!["run", "--learner", "sgd", "--d", "4", "--lr-grid", "0"], "--lr-grid = [0.0]"),
    ] {
        let o = clwe_bench(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    assert!(!Path::new("x.npy").exists() && !Path::new("x.csv").exists());
}

#[test]
fn an_adapter_name_that_matches_nothing_is_a_warning_and_a_fallback() {
    let o = Command::new(env!("CARGO_BIN_EXE_clwe-bench"))
        .arg("info")
        .env("WGPU_ADAPTER_NAME", "no-such-adapter")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("matches no adapter"), "{}", stderr(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_clwe-bench"))
        .args(["run", "--learner", "oracle", "--d", "4", "--n-test", "100"])
        .env("WGPU_ADAPTER_NAME", "no-such-adapter")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn every_learner_honours_the_wall_clock_budget() {
    for extra in [
        vec!["--learner", "lll", "--d", "40", "--sigma", "0", "--budget-seconds", "0.05"],
        vec!["--learner", "ridge", "--d", "256", "--train-size", "2000000", "--budget-seconds", "0.1"],
        vec![
            "--learner",
            "rf-ridge",
            "--d",
            "8",
            "--features",
            "2048",
            "--train-size",
            "400000",
            "--budget-seconds",
            "0.1",
        ],
    ] {
        let mut args = vec!["run", "--n-test", "1000", "--backend", "cpu", "--json"];
        args.extend_from_slice(&extra);
        let start = Instant::now();
        let o = clwe_bench(&args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let record: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(record["judgement"]["verdict"], "timeout", "{extra:?}");
        // Without the budget these take 5–40 s; a stopped learner returns within a few.
        assert!(start.elapsed() < Duration::from_secs(5), "{extra:?} ran {:?}", start.elapsed());
    }
}

#[test]
fn noise_and_frequency_take_the_forms_grids_take() {
    let o = clwe_bench(&[
        "run",
        "--learner",
        "trivial",
        "--d",
        "4",
        "--sigma",
        "2^-30",
        "--beta",
        "1/d",
        "--gamma",
        "0.5*sqrt(d)",
        "--n-test",
        "100",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let record: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(record["sigma"].as_f64(), Some(2f64.powi(-30)));
    assert_eq!(record["beta"].as_f64(), Some(0.25));
    assert_eq!(record["gamma"].as_f64(), Some(1.0));
    let o = clwe_bench(&["run", "--learner", "trivial", "--d", "4", "--sigma", "2^x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--sigma = 2^x"), "{}", stderr(&o));
}

#[test]
fn human_output_uses_the_names_of_the_json_and_the_readme() {
    let o = clwe_bench(&["run", "--learner", "trivial", "--d", "2", "--n-test", "200", "--data", "null"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("trivial on d=2") && text.contains("(null): not-learned"), "{text}");
}

#[test]
fn lll_reduce_rejects_malformed_matrices_and_reduces_dependent_rows_like_fplll() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("in.txt"), dir.path().join("out.txt"));
    let run = |text: &str| {
        std::fs::write(&input, text).unwrap();
        clwe_bench(&["lll-reduce", "--in", input.to_str().unwrap(), "--out", out.to_str().unwrap()])
    };
    for bad in ["[[]]", "[[1 2]\n[3 4]", "[[1 2]]]]"] {
        let o = run(bad);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("--in"), "{stderr}", stderr = stderr(&o));
    }
    let o = run("[[1 2]\n[2 4]\n[3 7]\n]");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("[[0 0]\n"), "zero rows first");
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

#[test]
fn bench_step_times_several_data_variants_in_alternation() {
    // A tiny shape, two steps per repeat, then the flags under test.
    let bench = |flags: &[&str]| {
        let base = ["bench-step", "--backend", "cpu", "--d", "8", "--k", "16", "--batch", "64", "--steps", "2"];
        clwe_bench(&[&base[..], flags].concat())
    };
    let o = bench(&["--repeats", "3", "--data", "fresh,fixed", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let order: Vec<(String, u64)> =
        rows.iter().map(|r| (r["variant"].as_str().unwrap().to_string(), r["rep"].as_u64().unwrap())).collect();
    let expected = [("fresh", 0), ("fixed", 0), ("fixed", 1), ("fresh", 1), ("fresh", 2), ("fixed", 2)];
    assert_eq!(order, expected.map(|(v, r)| (v.to_string(), r)));
    // The text form ends with the ratios, one per repeat.
    let text = String::from_utf8(bench(&["--repeats", "2", "--data", "fixed,fresh"]).stdout).unwrap();
    let last = text.lines().last().unwrap();
    let ratios = last.strip_prefix("fixed / fresh steps/s, repeat by repeat: ").expect("the ratio line");
    assert_eq!(ratios.matches(", ").count(), 1, "two ratios: {last}");
    for (flags, needle) in
        [(["--data", "fresh,fresh"], "--data = fresh"), (["--data", "fresh-fused"], "only with --backend wgpu")]
    {
        let o = bench(&flags);
        assert_eq!(o.status.code(), Some(2), "{flags:?}");
        assert!(stderr(&o).contains(needle), "{flags:?}: {}", stderr(&o));
    }
}

#[test]
fn student_runs_carry_a_training_trace_at_log_spaced_steps() {
    let o = clwe_bench(&["run", "--learner", "sgd", "--d", "2", "--budget-steps", "100", "--backend", "cpu", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let record: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let trace = record["details"]["trace"].as_array().expect("a trace");
    let steps: Vec<u64> = trace.iter().map(|p| p["steps"].as_u64().unwrap()).collect();
    assert_eq!(steps, [1, 2, 4, 8, 16, 32, 64, 100]);
    assert!(trace.iter().all(|p| p["loss"].as_f64().unwrap().is_finite() && p["r"].as_f64().unwrap().is_finite()));
    assert_eq!(trace.last().unwrap()["samples"].as_u64(), Some(100 * 1024), "B = 1024 fresh samples a step");
}
