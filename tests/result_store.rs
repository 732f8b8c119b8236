//! The result store end to end (issue 9): shards sharing a directory survive SIGKILL and merge
//! to every point once; unreadable lines are kept aside, never truncating what follows; merge
//! only reads its inputs; one writer per file; one grid per directory; run-time failures are
//! rows; `status` reports what is done.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Child;

use common::{GRID, clwe_bench, ids, lines, output, snapshot, stderr, wait_for_lines, write_grid};

/// A grid of 12 trivial points: quick, and deterministic apart from wall times.
const TRIVIAL: &str = r#"
name = "store-test"
learners = ["trivial"]
d = [2, 3]
sigma = ["1/d", "0"]
instances = 3
[budget]
steps = 0
train_samples = 500
n_test = 500
"#;

/// [`GRID`] with runs long enough (~0.1–1 s each) to be killed or overlapped mid-sweep.
fn slow_grid() -> String {
    GRID.replace("steps = 300", "steps = 3000")
}

fn sweep(grid: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", grid, "--out", out.to_str().unwrap(), "--backend", "cpu"];
    args.extend_from_slice(extra);
    clwe_bench(&args).output().unwrap()
}

/// The [`TRIVIAL`] grid swept to completion into `tmp/<name>`: (grid path, results directory).
fn finished_sweep(tmp: &Path, name: &str) -> (String, std::path::PathBuf) {
    let grid = write_grid(tmp, "g.toml", TRIVIAL);
    let out = tmp.join(name);
    assert!(sweep(&grid, &out, &[]).status.success());
    (grid, out)
}

fn spawn_sweep(grid: &str, out: &Path, extra: &[&str]) -> Child {
    let mut args = vec!["sweep", grid, "--out", out.to_str().unwrap(), "--backend", "cpu"];
    args.extend_from_slice(extra);
    clwe_bench(&args).spawn().unwrap()
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn status_json(dir: &Path) -> serde_json::Value {
    let o = output(&["status", dir.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn two_shards_in_one_directory_killed_twice_resume_and_merge_to_every_point_once() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = write_grid(tmp.path(), "g.toml", &slow_grid());
    let out = tmp.path().join("out");
    let (file0, file1) = (out.join("runs.shard-0-of-2.jsonl"), out.join("runs.shard-1-of-2.jsonl"));

    let shard1 = spawn_sweep(&grid, &out, &["--shard", "1/2"]);
    let mut earlier = Vec::new();
    let mut shard0 = spawn_sweep(&grid, &out, &["--shard", "0/2"]);
    for _ in 0..2 {
        wait_for_lines(&file0, earlier.len() + 2);
        kill(shard0);
        let now = lines(&file0);
        assert!(now.len() < 12, "shard 0 finished before it could be killed");
        assert_eq!(&now[..earlier.len()], &earlier[..], "rows written before a kill stay byte-identical");
        earlier = now;
        shard0 = spawn_sweep(&grid, &out, &["--shard", "0/2", "--resume"]);
    }
    assert!(shard0.wait_with_output().unwrap().status.success());
    let o = shard1.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));

    let (rows0, rows1) = (lines(&file0), lines(&file1));
    assert_eq!(&rows0[..earlier.len()], &earlier[..]);
    assert_eq!((rows0.len(), rows1.len()), (12, 12), "each shard wrote exactly its own points");
    assert!(!out.join("runs.jsonl").exists(), "no process wrote a file that is not its own");
    let status = status_json(&out);
    assert_eq!(
        (status["points"].as_u64(), status["done"].as_u64(), status["missing"].as_u64()),
        (Some(24), Some(24), Some(0))
    );
    for f in status["files"].as_array().unwrap() {
        assert_eq!(
            (f["duplicated"].as_u64(), f["foreign"].as_u64(), f["missing"].as_u64()),
            (Some(0), Some(0), Some(0)),
            "{f}"
        );
    }

    let inputs = snapshot(&out);
    let merged = tmp.path().join("merged");
    let o = output(&["merge", out.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(snapshot(&out), inputs, "merge leaves its inputs untouched");
    let merged_ids = ids(&merged.join("runs.jsonl"));
    assert_eq!(merged_ids.len(), 24);
    assert_eq!(merged_ids.iter().collect::<HashSet<_>>().len(), 24, "every grid point exactly once");
    let all: HashSet<String> = lines(&file0).into_iter().chain(lines(&file1)).collect();
    assert!(lines(&merged.join("runs.jsonl")).iter().all(|l| all.contains(l)), "merged rows are the shards' rows");
    let traces = std::fs::read_to_string(merged.join("traces-sgd.svg")).expect("the students' training traces");
    assert!(traces.contains("d = 2") && traces.contains("d = 3"), "a legend entry per d");
}

#[test]
fn a_bad_middle_line_is_kept_aside_and_only_missing_points_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (grid, out) = finished_sweep(tmp.path(), "out");
    let path = out.join("runs.jsonl");
    let mut rows = lines(&path);
    assert_eq!(rows.len(), 12);
    rows.truncate(9); // three points lost…
    rows.insert(5, "this is not a row".into()); // …and garbage as line 6
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();

    let o = sweep(&grid, &out, &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{}:6: unreadable row moved to", path.display())), "{}", stderr(&o));
    assert!(stderr(&o).contains("done: 3 runs now (0 failed), 9 already finished"), "{}", stderr(&o));
    let after = lines(&path);
    assert_eq!(after.len(), 12, "9 kept, 3 run again, none twice");
    rows.remove(5);
    assert_eq!(&after[..9], &rows[..], "the rows after the bad line survive unchanged");
    assert_eq!(std::fs::read_to_string(out.join("runs.rejected.jsonl")).unwrap(), "this is not a row\n");
}

#[test]
fn a_last_row_without_its_newline_is_kept_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (grid, out) = finished_sweep(tmp.path(), "out");
    let path = out.join("runs.jsonl");
    let rows = lines(&path);
    std::fs::write(&path, rows[..6].join("\n")).unwrap(); // six rows, the last without "\n"
    assert!(sweep(&grid, &out, &["--resume"]).status.success());
    let after = lines(&path);
    assert_eq!(after.len(), 12);
    assert_eq!(&after[..6], &rows[..6]);
    assert_eq!(ids(&path).into_iter().collect::<HashSet<_>>().len(), 12);
}

#[test]
fn merge_only_reads_its_inputs_and_refuses_another_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, c) = finished_sweep(tmp.path(), "c");
    let path = c.join("runs.jsonl");
    let mut rows = lines(&path);
    rows.insert(3, "garbage".into());
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    let before = snapshot(&c);
    let m = tmp.path().join("m");
    let o = output(&["merge", c.to_str().unwrap(), "--out", m.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{}:4: unreadable row skipped", path.display())), "{}", stderr(&o));
    assert_eq!(snapshot(&c), before, "merge wrote to its input");
    assert_eq!(lines(&m.join("runs.jsonl")).len(), 12);

    let into_itself = output(&["merge", c.to_str().unwrap(), "--out", c.to_str().unwrap()]);
    assert_eq!(into_itself.status.code(), Some(2), "{}", stderr(&into_itself));
    let other = tmp.path().join("other");
    let grid2 = write_grid(tmp.path(), "g2.toml", &TRIVIAL.replace("instances = 3", "instances = 2"));
    assert!(sweep(&grid2, &other, &[]).status.success());
    let mixed = output(&[
        "merge",
        c.to_str().unwrap(),
        other.to_str().unwrap(),
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(mixed.status.code(), Some(2), "{}", stderr(&mixed));
    assert!(stderr(&mixed).contains("instances: 3 → 2"), "{}", stderr(&mixed));
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::copy(c.join("grid.toml"), empty.join("grid.toml")).unwrap();
    let nothing = output(&["merge", empty.to_str().unwrap(), "--out", tmp.path().join("y").to_str().unwrap()]);
    assert_eq!(nothing.status.code(), Some(2), "an empty merge is an error: {}", stderr(&nothing));
}

#[test]
fn a_second_writer_exits_2_naming_the_first_ones_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = write_grid(tmp.path(), "g.toml", &slow_grid());
    let out = tmp.path().join("out");
    let first = spawn_sweep(&grid, &out, &[]);
    wait_for_lines(&out.join("runs.jsonl"), 1);
    let second = sweep(&grid, &out, &["--resume"]);
    let pid = first.id();
    kill(first);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(stderr(&second).contains(&format!("pid {pid}")), "{}", stderr(&second));
    // The lock died with its holder: a resume now runs.
    assert!(sweep(&grid, &out, &["--resume"]).status.success());
    assert_eq!(lines(&out.join("runs.jsonl")).len(), 24);
}

#[test]
fn a_changed_grid_is_refused_and_restart_clears_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let two = write_grid(tmp.path(), "two.toml", &TRIVIAL.replace("instances = 3", "instances = 2"));
    assert!(sweep(&two, &out, &[]).status.success());
    std::fs::write(out.join("success-sgd-planted-gaussian.svg"), "an old grid's figure").unwrap();
    let three = write_grid(tmp.path(), "three.toml", TRIVIAL);
    let o = sweep(&three, &out, &["--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("instances: 2 → 3"), "{}", stderr(&o));
    assert_eq!(lines(&out.join("runs.jsonl")).len(), 8, "nothing was added");

    let o = sweep(&three, &out, &["--restart"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("success-sgd-planted-gaussian.svg").exists(), "--restart removes the old grid's figures");
    assert_eq!(lines(&out.join("runs.jsonl")).len(), 12);
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| 3/3 |") || summary.contains("| 0/3 |"), "three instances per point now:\n{summary}");
    let shard_restart = sweep(&three, &out, &["--restart", "--shard", "0/2"]);
    assert_eq!(shard_restart.status.code(), Some(2), "{}", stderr(&shard_restart));
}

#[test]
fn shards_resume_from_every_results_file_and_status_counts_per_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let (grid, out) = finished_sweep(tmp.path(), "out"); // all 12 in runs.jsonl
    let o = sweep(&grid, &out, &["--shard", "1/3", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("done: 0 runs now"), "points finished in runs.jsonl are not redone: {}", stderr(&o));
    assert!(lines(&out.join("runs.shard-1-of-3.jsonl")).is_empty());

    // A row appended by hand to another file is a duplicate; one from another grid is foreign.
    let main = lines(&out.join("runs.jsonl"));
    let foreign = main[0].replace("\"instance\":0", "\"instance\":99");
    std::fs::write(out.join("runs.shard-0-of-3.jsonl"), format!("{}\n{foreign}\n", main[1])).unwrap();
    let status = status_json(&out);
    assert_eq!((status["done"].as_u64(), status["missing"].as_u64()), (Some(12), Some(0)));
    let shard0 = status["files"].as_array().unwrap().iter().find(|f| f["file"] == "runs.shard-0-of-3.jsonl").unwrap();
    assert_eq!((shard0["duplicated"].as_u64(), shard0["foreign"].as_u64()), (Some(1), Some(1)), "{shard0}");
    let empty_shard = sweep(&grid, &out, &["--shard", "40/50", "--resume"]);
    assert_eq!(empty_shard.status.code(), Some(2), "{}", stderr(&empty_shard));
}

#[test]
fn run_time_failures_are_rows_and_the_sweep_goes_on_until_max_failures() {
    let tmp = tempfile::tempdir().unwrap();
    // rf-ridge with 64 features, 8 training samples and λ = 0: singular normal equations.
    let failing = TRIVIAL
        .replace("[\"trivial\"]", "[\"rf-ridge\", \"trivial\"]")
        .replace("train_samples = 500", "train_samples = 8")
        + "[options]\nfeatures = 64\nlambda = 0.0\n";
    let grid = write_grid(tmp.path(), "g.toml", &failing);
    let out = tmp.path().join("out");
    let o = sweep(&grid, &out, &["--max-failures", "100"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> =
        lines(&out.join("runs.jsonl")).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let failed: Vec<&serde_json::Value> = rows.iter().filter(|r| r.get("failed").is_some()).collect();
    assert_eq!((rows.len(), failed.len()), (24, 12), "every trivial run finished after the failures");
    assert!(failed[0]["failed"].as_str().unwrap().contains("not positive definite"), "{}", failed[0]);

    let stopped = tmp.path().join("stopped");
    let o = sweep(&grid, &stopped, &["--max-failures", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 runs failed"), "{}", stderr(&o));
    assert_eq!(lines(&stopped.join("runs.jsonl")).len(), 3, "the failed rows are kept");
}

#[test]
fn bad_options_in_any_grid_point_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    for (options, needle) in [
        ("lambda = -1.0", "--lambda = -1"),
        ("lr = nan", "--lr = NaN"),
        ("features = 0", "--features = 0"),
        ("precision_bits = 0", "--precision-bits = 0"),
    ] {
        let grid = write_grid(tmp.path(), "g.toml", &format!("{TRIVIAL}[options]\n{options}\n"));
        let out = tmp.path().join("out");
        let o = sweep(&grid, &out, &[]);
        assert_eq!(o.status.code(), Some(2), "{options}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{options}: {}", stderr(&o));
        assert!(!out.exists(), "{options}: work started");
    }
    let huge = TRIVIAL
        .replace("d = [2, 3]", &format!("d = [{}]", (1..=20_000).map(|d| d.to_string()).collect::<Vec<_>>().join(", ")))
        .replace("instances = 3", "instances = 1000");
    let grid = write_grid(tmp.path(), "huge.toml", &huge);
    let o = sweep(&grid, &tmp.path().join("huge"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("40000000 points"), "{}", stderr(&o));
}

#[test]
fn equal_grid_points_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dup =
        TRIVIAL.replace("d = [2, 3]", "d = [4, 4]").replace("sigma = [\"1/d\", \"0\"]", "sigma = [\"1/d\", 0.25]");
    let grid = write_grid(tmp.path(), "g.toml", &dup);
    let out = tmp.path().join("out");
    assert!(sweep(&grid, &out, &[]).status.success());
    assert_eq!(lines(&out.join("runs.jsonl")).len(), 3, "d = 4 twice and σ = 1/d = 0.25: one point, three instances");
}

#[test]
fn the_scaling_study_follows_the_store_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("scaling");
    let run = |extra: &[&str]| {
        let mut args = vec!["sweep", "scaling", "--out", out.to_str().unwrap(), "--backend", "cpu"];
        args.extend_from_slice(extra);
        clwe_bench(&args).env("CLWE_BENCH_GRID", "smoke").output().unwrap()
    };
    assert!(run(&[]).status.success());
    assert_eq!(lines(&out.join("runs.jsonl")).len(), 4);
    assert!(out.join("scaling.md").exists() && out.join("grid.toml").exists());
    assert_eq!(run(&[]).status.code(), Some(2), "existing results are refused without --resume");
    assert!(run(&["--resume"]).status.success());
    assert_eq!(lines(&out.join("runs.jsonl")).len(), 4, "nothing measured twice");
}

#[test]
fn the_lll_frontier_follows_the_store_rules_and_shards_split_its_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, sharded) = (tmp.path().join("whole"), tmp.path().join("sharded"));
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["sweep", "lll-frontier", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        clwe_bench(&args).env("CLWE_BENCH_GRID", "smoke").output().unwrap()
    };
    let o = run(&whole, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = lines(&whole.join("runs.jsonl"));
    let report = std::fs::read_to_string(whole.join("frontier.md")).unwrap();
    for needle in ["N_min median", "σ_max", "| triangle | 8 |", "| clwe | 8 |", "Better fit"] {
        assert!(report.contains(needle), "{needle} missing:\n{report}");
    }
    assert!(whole.join("cells.csv").exists() && whole.join("frontier-triangle.svg").exists());
    assert_eq!(run(&whole, &[]).status.code(), Some(2), "existing results are refused without --resume");
    assert!(run(&whole, &["--resume"]).status.success());
    assert_eq!(lines(&whole.join("runs.jsonl")), rows, "nothing run twice, nothing lost");
    // Two shards into one directory: every row exactly once, the same rows as one process.
    for shard in ["0/2", "1/2"] {
        assert!(run(&sharded, &["--shard", shard]).status.success());
    }
    let mut split: Vec<String> = ["runs.shard-0-of-2.jsonl", "runs.shard-1-of-2.jsonl"]
        .iter()
        .flat_map(|f| lines(&sharded.join(f)))
        .map(|l| l.split("\"seconds\"").next().unwrap().to_string())
        .collect();
    let mut one: Vec<String> = rows.iter().map(|l| l.split("\"seconds\"").next().unwrap().to_string()).collect();
    split.sort();
    one.sort();
    assert_eq!(split, one);
    assert_eq!(
        std::fs::read_to_string(sharded.join("cells.csv")).unwrap(),
        std::fs::read_to_string(whole.join("cells.csv")).unwrap()
    );
}

#[test]
fn summaries_carry_the_numbers_behind_the_labels_and_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, out) = finished_sweep(tmp.path(), "out");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| σ | log₂σ | γ | γ_s |"), "{md}");
    assert!(md.contains("| 3 | 1/d | -1.6 | 3.464 | 1.382 |"), "σ = 1/3, γ = 2√3, γ_s = γ/√(2π)\n{md}");
    assert!(md.contains("Budget: 0 steps, m = 500, n_test = 500"), "{md}");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("log2_sigma,log2_beta,gamma,gamma_s"), "{csv}");
}

#[test]
fn a_grid_of_student_axes_summarises_every_varied_setting_with_its_learning_rate_search() {
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"
name = "axes"
learners = ["sgd", "trivial"]
d = [2]
sigma = ["1/d"]
width = ["k", "4*k"]
steps = [20, 40]
instances = 2
[budget]
steps = 0
train_samples = 500
n_test = 1000
[options]
batch = 64
lr_grid = [0.1, 0.01]
"#;
    let grid = write_grid(tmp.path(), "axes.toml", text);
    let out = tmp.path().join("out");
    let o = sweep(&grid, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| γ_s | k' | steps | learned |"), "the varied axes are columns:\n{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with("| sgd |")).count(), 4, "2 widths × 2 step budgets:\n{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with("| trivial |")).count(), 1, "{md}");
    assert!(md.contains("own independent instances") && md.contains("the best of [0.1, 0.01] on validation"), "{md}");
    let rows: Vec<serde_json::Value> =
        lines(&out.join("runs.jsonl")).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let sgd: Vec<&serde_json::Value> = rows.iter().filter(|r| r["spec"]["learner"] == "sgd").collect();
    assert_eq!(sgd.len(), 8);
    let instances: HashSet<u64> = sgd.iter().map(|r| r["spec"]["instance"].as_u64().unwrap()).collect();
    assert_eq!(instances.len(), 8, "every cell its own instances");
    for r in sgd {
        let tries = r["details"]["lr_search"].as_array().unwrap();
        let rates: Vec<f64> = tries.iter().map(|t| t["lr"].as_f64().unwrap()).collect();
        // The grid in increasing order, then up to two rates past an edge that won.
        assert!((2..=4).contains(&rates.len()) && rates[..2] == [0.01, 0.1], "{rates:?}");
        let best = tries
            .iter()
            .filter(|t| t["validation"]["verdict"] != "diverged")
            .max_by(|a, b| {
                a["validation"]["delta"].as_f64().unwrap().total_cmp(&b["validation"]["delta"].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(r["details"]["optimizer"]["lr"], best["lr"], "the rate kept is the validation's best: {r}");
    }
}

#[test]
fn compute_to_learn_follows_the_store_rules_and_shards_split_its_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, sharded) = (tmp.path().join("whole"), tmp.path().join("sharded"));
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["sweep", "compute-to-learn", "--backend", "cpu", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        clwe_bench(&args).env("CLWE_BENCH_GRID", "smoke").output().unwrap()
    };
    let o = run(&whole, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = lines(&whole.join("runs.jsonl"));
    let report = std::fs::read_to_string(whole.join("summary.md")).unwrap();
    for needle in
        ["the γ scan", "ln(samples to learn) against γ_s²", "Width needed", "FLOPs to learn", "Null-label control"]
    {
        assert!(report.contains(needle), "{needle} missing:\n{report}");
    }
    for file in ["ladders.csv", "flops-to-learn-adam.svg", "samples-to-learn-sgd.svg", "width-needed.svg"] {
        assert!(whole.join(file).exists(), "{file}");
    }
    assert_eq!(run(&whole, &[]).status.code(), Some(2), "existing results are refused without --resume");
    assert!(run(&whole, &["--resume"]).status.success());
    assert_eq!(lines(&whole.join("runs.jsonl")), rows, "nothing run twice, nothing lost");
    for shard in ["0/2", "1/2"] {
        let o = run(&sharded, &["--shard", shard]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Ladders end with their seconds, ridge runs with their wall time: cut before either.
    let before_time =
        |l: &String| l.split("\"seconds\"").next().unwrap().split("\"wall_s\"").next().unwrap().to_string();
    let mut split: Vec<String> = ["runs.shard-0-of-2.jsonl", "runs.shard-1-of-2.jsonl"]
        .iter()
        .flat_map(|f| lines(&sharded.join(f)))
        .map(|l| before_time(&l))
        .collect();
    let mut one: Vec<String> = rows.iter().map(before_time).collect();
    split.sort();
    one.sort();
    assert_eq!(split, one, "two shards run the same ladders as one process, each once");
}

#[test]
fn compute_to_learn_runs_its_ladders_on_the_wgpu_backend_at_smoke_size() {
    // The GPU scale's code path (ladders, frozen directions, evaluation) at a tiny size, on
    // whatever adapter exists (lavapipe or llvmpipe here).
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("gpu");
    let o = clwe_bench(&["sweep", "compute-to-learn", "--backend", "wgpu", "--out", out.to_str().unwrap()])
        .env("CLWE_BENCH_GRID", "smoke")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = lines(&out.join("runs.jsonl"));
    let ladders: Vec<&String> = rows.iter().filter(|l| l.contains("\"kind\":\"ladder\"")).collect();
    assert!(!ladders.is_empty() && ladders.iter().all(|l| l.contains("\"backend\":\"wgpu\"")), "{rows:?}");
    assert!(ladders.iter().any(|l| l.contains("\"arm\":\"direction-known\"")));
    assert!(std::fs::read_to_string(out.join("summary.md")).unwrap().contains("Null-label control"));
}
