//! Helpers shared by the integration tests: the binary, small grids, reading results files.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A grid of 24 quick points (sgd and trivial, d ∈ {2, 3}, two σ, three instances).
pub const GRID: &str = r#"
name = "resume-test"
learners = ["sgd", "trivial"]
d = [2, 3]
sigma = ["1/d", "0"]
instances = 3
[budget]
steps = 300
train_samples = 2000
n_test = 2000
[options]
width = 32
batch = 256
"#;

/// The binary with `args`, stdout discarded and stderr captured.
pub fn clwe_bench(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clwe-bench"));
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// Runs the binary to completion, stdout captured.
pub fn output(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clwe-bench")).args(args).output().expect("binary runs")
}

/// Its stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The complete (newline-terminated) lines of a file; none if it does not exist.
pub fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    complete.lines().map(str::to_string).collect()
}

/// Writes `text` as `dir/name` and returns its path as a string.
pub fn write_grid(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Waits until `path` holds at least `n` complete lines.
pub fn wait_for_lines(path: &Path, n: usize) {
    let start = Instant::now();
    while lines(path).len() < n {
        assert!(start.elapsed() < Duration::from_secs(180), "{} never reached {n} lines", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every file under `dir` with its bytes, sorted by name.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

/// The `id`s of the rows of `path` (each row's spec as JSON).
pub fn ids(path: &Path) -> Vec<String> {
    lines(path).iter().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string()).collect()
}
