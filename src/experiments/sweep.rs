//! Sweeps: the cross product of a grid's axes run one spec at a time, each finished run
//! appended as one JSONL row and flushed to disk, so a sweep killed at any moment resumes with
//! `--resume` without losing or repeating a run; `--shard I/N` splits the grid for cluster array
//! jobs; `merge` joins the shards. Grids come from the shipped presets (`presets/*.toml`) or a
//! user's TOML file of the same form.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::runs::{RunRecord, RunSpec};
use crate::learners::{Budget, LearnerOptions};
use crate::params::{NoiseModel, ParamError, ensure};

/// The shipped presets: name and TOML text.
pub const PRESETS: [(&str, &str); 4] = [
    ("quick", include_str!("presets/quick.toml")),
    ("threshold", include_str!("presets/threshold.toml")),
    ("reduction", include_str!("presets/reduction.toml")),
    ("noise-model", include_str!("presets/noise-model.toml")),
];

/// A noise level as written in a grid: a number, `"0"`, `"2^-k"`, or `"1/d"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Level {
    /// A plain number.
    Number(f64),
    /// `"1/d"`, `"2^-k"` or a number as text.
    Text(String),
}

impl Level {
    /// The value at dimension d.
    pub fn at(&self, d: usize, axis: &str) -> Result<f64, ParamError> {
        let bad = |v: &str| ParamError {
            name: axis.into(),
            value: v.into(),
            expected: "a number, \"2^-k\" or \"1/d\"".into(),
        };
        match self {
            Self::Number(v) => Ok(*v),
            Self::Text(t) if t == "1/d" => Ok(1.0 / d as f64),
            Self::Text(t) => match t.strip_prefix("2^") {
                Some(e) => e.parse::<f64>().map(|e| 2f64.powf(e)).map_err(|_| bad(t)),
                None => t.parse::<f64>().map_err(|_| bad(t)),
            },
        }
    }

    /// The label used in tables: `1/d`, `2^-k`, `0`, or the number.
    pub fn label(&self) -> String {
        match self {
            Self::Number(v) => v.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
}

/// What the learners train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataKind {
    /// The planted problem (SPEC §4).
    Planted,
    /// The planted null.
    Null,
    /// CLWE-derived samples (SPEC §6).
    ClweDerived,
}

fn default_levels() -> Vec<Level> {
    vec![Level::Text("1/d".into())]
}
fn default_noise() -> Vec<NoiseModel> {
    vec![NoiseModel::Gaussian]
}
fn default_data() -> Vec<DataKind> {
    vec![DataKind::Planted]
}
fn one() -> u32 {
    1
}

/// A sweep grid (the form of the preset files).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Name: results go to `results/<name>/` by default.
    pub name: String,
    /// Learners.
    pub learners: Vec<String>,
    /// Dimensions.
    pub d: Vec<usize>,
    /// Label-noise levels σ.
    #[serde(default = "default_levels")]
    pub sigma: Vec<Level>,
    /// CLWE noise levels β (used by CLWE-derived data).
    #[serde(default = "default_levels")]
    pub beta: Vec<Level>,
    /// γ (lattice convention); none = 2√d.
    #[serde(default)]
    pub gamma: Option<f64>,
    /// Label-noise models.
    #[serde(default = "default_noise")]
    pub noise: Vec<NoiseModel>,
    /// Data kinds.
    #[serde(default = "default_data")]
    pub data: Vec<DataKind>,
    /// Independent instances per grid point.
    #[serde(default = "one")]
    pub instances: u32,
    /// Run seed.
    #[serde(default)]
    pub seed: u64,
    /// Budget and evaluation sizes.
    pub budget: Budget,
    /// Learner hyper-parameters.
    #[serde(default)]
    pub options: LearnerOptions,
}

/// One run of a grid, with its axis labels for tables.
#[derive(Clone, Debug, PartialEq)]
pub struct GridPoint {
    /// The run.
    pub spec: RunSpec,
    /// σ as written in the grid.
    pub sigma_label: String,
    /// β as written in the grid.
    pub beta_label: String,
}

impl Grid {
    /// A preset by name, or a grid from a TOML file.
    pub fn load(name_or_path: &str) -> Result<Self, ParamError> {
        let text = match PRESETS.iter().find(|(n, _)| *n == name_or_path) {
            Some((_, text)) => text.to_string(),
            None if name_or_path.ends_with(".toml") => {
                std::fs::read_to_string(name_or_path).map_err(|e| ParamError {
                    name: "grid file".into(),
                    value: name_or_path.into(),
                    expected: format!("a readable TOML file ({e})"),
                })?
            }
            None => {
                let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
                return Err(ParamError {
                    name: "preset".into(),
                    value: name_or_path.into(),
                    expected: format!("one of {} or a FILE.toml", names.join(", ")),
                });
            }
        };
        toml::from_str(&text).map_err(|e| ParamError {
            name: "grid".into(),
            value: name_or_path.into(),
            expected: format!("a valid grid: {e}"),
        })
    }

    /// Every run of the grid in a fixed order, validated before any work starts.
    pub fn points(&self) -> Result<Vec<GridPoint>, ParamError> {
        for (axis, empty) in [
            ("learners", self.learners.is_empty()),
            ("d", self.d.is_empty()),
            ("sigma", self.sigma.is_empty()),
            ("beta", self.beta.is_empty()),
            ("noise", self.noise.is_empty()),
            ("data", self.data.is_empty()),
        ] {
            ensure(!empty, axis, "[]", "a non-empty list")?;
        }
        ensure(self.instances >= 1, "instances", self.instances, "an integer >= 1")?;
        let mut points = Vec::new();
        for learner in &self.learners {
            for &d in &self.d {
                for sigma in &self.sigma {
                    for beta in &self.beta {
                        for &noise in &self.noise {
                            for &data in &self.data {
                                for instance in 0..self.instances {
                                    let spec = RunSpec {
                                        learner: learner.clone(),
                                        d,
                                        gamma: self.gamma,
                                        beta: Some(beta.at(d, "beta")?),
                                        sigma: Some(sigma.at(d, "sigma")?),
                                        noise,
                                        seed: self.seed,
                                        instance,
                                        null: data == DataKind::Null,
                                        clwe_derived: data == DataKind::ClweDerived,
                                        budget: self.budget,
                                        options: self.options.clone(),
                                    };
                                    spec.validate()?;
                                    points.push(GridPoint {
                                        spec,
                                        sigma_label: sigma.label(),
                                        beta_label: beta.label(),
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(points)
    }
}

/// `--shard I/N`: the I-th of N deterministic slices of a grid (0 ≤ I < N).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Index I.
    pub index: usize,
    /// Count N.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = ParamError;

    fn from_str(s: &str) -> Result<Self, ParamError> {
        let bad = || ParamError { name: "--shard".into(), value: s.into(), expected: "I/N with 0 <= I < N".into() };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    /// Whether grid point `i` belongs to this shard (round-robin, so shards are balanced).
    pub fn owns(&self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// The JSONL file name of this shard.
    pub fn file_name(&self) -> String {
        format!("runs.shard-{}-of-{}.jsonl", self.index, self.count)
    }
}

/// The rows already in `path`; a torn last line (a kill during a write) is cut off the file.
pub fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Vec<T>> {
    let Ok(file) = File::open(path) else { return Ok(Vec::new()) };
    let mut rows = Vec::new();
    let mut good_bytes = 0u64;
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        match serde_json::from_slice::<T>(&line) {
            Ok(row) => {
                rows.push(row);
                good_bytes += line.len() as u64 + 1;
            }
            Err(_) if line.iter().all(u8::is_ascii_whitespace) => good_bytes += line.len() as u64 + 1,
            Err(_) => break,
        }
    }
    let len = std::fs::metadata(path)?.len();
    if good_bytes < len {
        OpenOptions::new().write(true).open(path)?.set_len(good_bytes)?;
    }
    Ok(rows)
}

/// Appends one row and flushes it to disk before returning.
pub fn append_row<T: Serialize>(path: &Path, row: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(row).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(&line)?;
    file.sync_data()
}

/// How a sweep reports progress: a bar with ETA on a terminal, plain lines otherwise.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: usize,
}

impl Progress {
    /// Progress over `total` runs.
    pub fn new(total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        Self { bar, total, done: 0 }
    }

    /// Reports one finished run.
    pub fn finished(&mut self, line: &str) {
        self.done += 1;
        match &self.bar {
            Some(bar) => {
                bar.set_message(line.to_string());
                bar.inc(1);
            }
            None => eprintln!("[{}/{}] {line}", self.done, self.total),
        }
    }

    /// Ends the display.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish();
        }
    }
}

/// Where a sweep writes: `dir/runs.jsonl`, or the shard's file.
pub fn rows_path(dir: &Path, shard: Option<Shard>) -> PathBuf {
    dir.join(shard.map_or("runs.jsonl".to_string(), |s| s.file_name()))
}

/// Every row of every `*.jsonl` file in `dirs`, each run once (by id, first seen wins).
pub fn collect_rows(dirs: &[PathBuf]) -> std::io::Result<Vec<RunRecord>> {
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        for file in files {
            for row in read_rows::<RunRecord>(&file)? {
                if seen.insert(row.id.clone()) {
                    rows.push(row);
                }
            }
        }
    }
    Ok(rows)
}

/// A failure of a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A bad grid or argument (nothing was run).
    #[error(transparent)]
    Param(#[from] ParamError),
    /// A run failed (finished runs are kept; rerun with --resume).
    #[error("run {index} ({learner}, d = {d}) failed: {source}")]
    Run {
        /// Grid index.
        index: usize,
        /// Learner.
        learner: String,
        /// Dimension.
        d: usize,
        /// The cause.
        source: crate::learners::LearnerError,
    },
    /// Reading or writing results failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io { path: path.to_path_buf(), source }
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Runs in this shard of the grid.
    pub total: usize,
    /// Runs already present (resumed past).
    pub skipped: usize,
    /// Runs executed now.
    pub ran: usize,
}

/// Runs `grid` (or `shard` of it) into `dir`; with `resume`, runs already in the results file
/// are skipped, otherwise existing results are an error. Tables and figures are rewritten at
/// the end from every results file in `dir`.
pub fn run_sweep(
    grid: &Grid,
    dir: &Path,
    shard: Option<Shard>,
    resume: bool,
    engine: &dyn crate::backends::Engine,
) -> Result<SweepOutcome, SweepError> {
    let points: Vec<(usize, GridPoint)> =
        grid.points()?.into_iter().enumerate().filter(|(i, _)| shard.is_none_or(|s| s.owns(*i))).collect();
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = rows_path(dir, shard);
    let existing: Vec<RunRecord> = read_rows(&path).map_err(io(&path))?;
    if !existing.is_empty() && !resume {
        return Err(ParamError {
            name: "--out".into(),
            value: dir.display().to_string(),
            expected: format!(
                "a directory without results ({} already holds {} runs): pass --resume to continue it",
                path.display(),
                existing.len()
            ),
        }
        .into());
    }
    let done: HashSet<String> = existing.into_iter().map(|r| r.id).collect();
    let grid_file = dir.join("grid.toml");
    let grid_text = toml::to_string(grid).map_err(|e| io(&grid_file)(std::io::Error::other(e)))?;
    crate::reporting::atomic::write_file_atomically(&grid_file, grid_text.as_bytes()).map_err(io(&grid_file))?;
    let todo: Vec<&(usize, GridPoint)> = points.iter().filter(|(_, p)| !done.contains(&p.spec.id())).collect();
    let mut progress = Progress::new(todo.len());
    for (index, point) in &todo {
        let spec = &point.spec;
        let (record, judgement, _) = super::runs::run_one(spec, engine).map_err(|source| SweepError::Run {
            index: *index,
            learner: spec.learner.clone(),
            d: spec.d,
            source,
        })?;
        append_row(&path, &record).map_err(io(&path))?;
        progress.finished(&format!(
            "{} d={} σ={} {} #{}: {:?} Δ={:.2e} ({:.1} s)",
            spec.learner,
            spec.d,
            point.sigma_label,
            if spec.null {
                "null"
            } else if spec.clwe_derived {
                "clwe-derived"
            } else {
                "planted"
            },
            spec.instance,
            judgement.verdict,
            judgement.delta,
            record.wall_s
        ));
    }
    progress.finish();
    let rows = collect_rows(&[dir.to_path_buf()]).map_err(io(dir))?;
    publish(dir, &grid.name, &rows)?;
    Ok(SweepOutcome { total: points.len(), skipped: points.len() - todo.len(), ran: todo.len() })
}

/// Joins the results files of `inputs` (each run once) into `out/runs.jsonl` and writes the
/// tables and figures there.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<usize, SweepError> {
    let rows = collect_rows(inputs).map_err(io(out))?;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let path = out.join("runs.jsonl");
    let mut text = Vec::new();
    for row in &rows {
        serde_json::to_writer(&mut text, row).map_err(|e| io(&path)(std::io::Error::other(e)))?;
        text.push(b'\n');
    }
    crate::reporting::atomic::write_file_atomically(&path, &text).map_err(io(&path))?;
    let (source_grid, out_grid) = (inputs[0].join("grid.toml"), out.join("grid.toml"));
    if !out_grid.exists()
        && let Ok(text) = std::fs::read(&source_grid)
    {
        crate::reporting::atomic::write_file_atomically(&out_grid, &text).map_err(io(&out_grid))?;
    }
    let title = std::fs::read_to_string(&source_grid)
        .ok()
        .and_then(|t| toml::from_str::<Grid>(&t).ok())
        .map_or_else(|| "merged sweep".to_string(), |g| g.name);
    publish(out, &title, &rows)?;
    Ok(rows.len())
}

/// Tables and figures of `rows`, written to `dir`.
fn publish(dir: &Path, title: &str, rows: &[RunRecord]) -> Result<(), SweepError> {
    let (summaries, advantages) = crate::reporting::summary::write_tables(dir, title, rows).map_err(io(dir))?;
    let figure_error = |e: Box<dyn std::error::Error>| io(dir)(std::io::Error::other(e.to_string()));
    crate::reporting::figures::success_heatmaps(dir, &summaries).map_err(figure_error)?;
    crate::reporting::figures::advantage_plot(dir, &advantages).map_err(figure_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_validates() {
        for (name, _) in PRESETS {
            let grid = Grid::load(name).unwrap();
            assert!(!grid.points().unwrap().is_empty(), "{name}");
        }
    }

    #[test]
    fn shards_partition_the_grid() {
        let n = Grid::load("quick").unwrap().points().unwrap().len();
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for i in 0..n {
            assert_eq!(shards.iter().filter(|s| s.owns(i)).count(), 1);
        }
        assert!("3/3".parse::<Shard>().is_err() && "1/0".parse::<Shard>().is_err() && "x".parse::<Shard>().is_err());
    }

    #[test]
    fn invalid_grids_are_rejected_before_any_work() {
        let base = Grid::load("quick").unwrap();
        let bad = |f: &dyn Fn(&mut Grid)| {
            let mut g = base.clone();
            f(&mut g);
            g.points().unwrap_err()
        };
        assert_eq!(bad(&|g| g.learners.push("perceptron".into())).name, "--learner");
        assert_eq!(bad(&|g| g.d = vec![]).name, "d");
        assert_eq!(bad(&|g| g.d.push(0)).name, "--d");
        assert_eq!(bad(&|g| g.sigma = vec![Level::Text("2^x".into())]).name, "sigma");
        assert!(Grid::load("nonexistent").is_err());
    }

    #[test]
    fn levels_parse() {
        assert_eq!(Level::Text("1/d".into()).at(8, "sigma").unwrap(), 0.125);
        assert_eq!(Level::Text("2^-10".into()).at(8, "sigma").unwrap(), 2f64.powi(-10));
        assert_eq!(Level::Number(0.5).at(8, "sigma").unwrap(), 0.5);
    }
}
