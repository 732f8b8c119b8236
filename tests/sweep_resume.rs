//! Sweeps survive `kill -9`: rerun with `--resume`, no finished run is lost or repeated; a torn
//! last line is discarded; invalid grids are rejected before any work starts.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

use common::{GRID, clwe_bench, lines};

#[test]
fn kill_9_then_resume_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let grid = dir.path().join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    let out = dir.path().join("out");
    let rows = out.join("runs.jsonl");
    let (grid_s, out_s) = (grid.to_str().unwrap(), out.to_str().unwrap());

    let mut child = clwe_bench(&["sweep", grid_s, "--out", out_s, "--backend", "cpu"]).spawn().unwrap();
    let start = Instant::now();
    while lines(&rows).len() < 3 {
        assert!(start.elapsed() < Duration::from_secs(120), "the sweep wrote nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = lines(&rows);
    assert!(before.len() < 24, "the sweep finished before it could be killed");
    // A write cut off by the kill leaves a torn last line.
    std::fs::OpenOptions::new().append(true).open(&rows).unwrap().write_all(b"{\"spec\":{\"learn").unwrap();

    // Without --resume the existing results are refused and left untouched.
    let refused = clwe_bench(&["sweep", grid_s, "--out", out_s, "--backend", "cpu"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    let resumed = clwe_bench(&["sweep", grid_s, "--out", out_s, "--backend", "cpu", "--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let after = lines(&rows);
    assert_eq!(after.len(), 24, "every grid point exactly once");
    assert_eq!(&after[..before.len()], &before[..], "finished runs are kept as they were");
    let ids: HashSet<String> =
        after.iter().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string()).collect();
    assert_eq!(ids.len(), 24, "no run repeated");
    assert!(out.join("summary.md").exists() && out.join("summary.csv").exists());
}

#[test]
fn invalid_grids_are_rejected_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, needle) in [
        (GRID.replace("\"trivial\"", "\"perceptron\""), "perceptron"),
        (GRID.replace("d = [2, 3]", "d = []"), "d"),
        (GRID.replace("d = [2, 3]", "d = [0, 3]"), "--d"),
        (GRID.replace("\"1/d\", \"0\"", "\"2^x\""), "sigma"),
    ] {
        let grid = dir.path().join("bad.toml");
        std::fs::write(&grid, bad).unwrap();
        let out = dir.path().join("out");
        let o = clwe_bench(&["sweep", grid.to_str().unwrap(), "--out", out.to_str().unwrap(), "--backend", "cpu"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(!out.exists(), "work started for an invalid grid");
    }
}
