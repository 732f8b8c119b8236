//! Sweeps: the cross product of a grid's axes run one spec at a time through the result store
//! ([`super::store`]: one file per writer, locked, fingerprinted, resumable after `kill -9`);
//! `--shard I/N` splits the grid for cluster array jobs; `merge` joins directories read-only;
//! `status` compares a directory with its grid. Grids come from the shipped presets
//! (`presets/*.toml`) or a user's TOML file of the same form.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::runs::{FailedRun, Row, RunRecord, RunSpec, run_one, version};
use super::store::{DirRows, Mode, ResultsFile, Store, StoreGrid, StoredRow, recorded_grid};
use crate::backends::Engine;
use crate::error::{Error, Result};
use crate::learners::{Budget, LearnerKind, LearnerOptions};
use crate::params::{NoiseModel, ParamError, ensure};
use crate::sampling::DataKind;
use crate::sampling::streams::MAX_INSTANCE;

/// The shipped presets: name and TOML text.
pub const PRESETS: [(&str, &str); 4] = [
    ("quick", include_str!("presets/quick.toml")),
    ("threshold", include_str!("presets/threshold.toml")),
    ("reduction", include_str!("presets/reduction.toml")),
    ("noise-model", include_str!("presets/noise-model.toml")),
];

/// A parameter as written in a grid or on the command line: a number, or a form in d —
/// `"2^k"`, `"1/d"`, `"c/d"` (c a number or `2^k`), `"sqrt(d)"`, `"c*sqrt(d)"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Level {
    /// A plain number.
    Number(f64),
    /// A form, or a number as text.
    Text(String),
}

impl std::str::FromStr for Level {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.trim().parse::<f64>().map_or_else(|_| Self::Text(s.trim().to_string()), Self::Number))
    }
}

impl Level {
    /// The value at dimension d.
    pub fn at(&self, d: usize, axis: &str) -> Result<f64, ParamError> {
        let bad = |v: &str| ParamError {
            name: axis.into(),
            value: v.into(),
            expected: "a number or a form in d: 2^k, 1/d, c/d, sqrt(d), c*sqrt(d)".into(),
        };
        let number = |t: &str| match t.strip_prefix("2^") {
            Some(e) => e.parse::<f64>().map(|e| 2f64.powf(e)).map_err(|_| bad(t)),
            None => t.parse::<f64>().map_err(|_| bad(t)),
        };
        match self {
            Self::Number(v) => Ok(*v),
            Self::Text(t) => {
                if let Some(c) = t.strip_suffix("/d") {
                    Ok(number(c).map_err(|_| bad(t))? / d as f64)
                } else if let Some(c) = t.strip_suffix("sqrt(d)") {
                    let c = match c {
                        "" => 1.0,
                        c => number(c.strip_suffix('*').ok_or_else(|| bad(t))?).map_err(|_| bad(t))?,
                    };
                    Ok(c * (d as f64).sqrt())
                } else {
                    number(t)
                }
            }
        }
    }

    /// The label used in tables: the form as written, or the number.
    pub fn label(&self) -> String {
        match self {
            Self::Number(v) => v.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
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
    pub learners: Vec<LearnerKind>,
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

    /// The budget a learner ran with, for figure titles: steps, batch, width and learning rate
    /// for students, features for random features, training and test sizes for every learner.
    pub fn budget_label(&self, learner: LearnerKind) -> String {
        let (b, o) = (&self.budget, &self.options);
        let sizes = format!("m = {}, n_test = {}", b.train_samples, b.n_test);
        match learner {
            LearnerKind::Sgd | LearnerKind::SgdWarm => {
                format!("{} steps, B = {}, k' = {}, lr = {}; {sizes}", b.steps, o.batch, o.width, o.lr)
            }
            LearnerKind::Adam => {
                format!("{} steps, B = {}, k' = {}, lr = {}; {sizes}", b.steps, o.batch, o.width, o.adam_lr)
            }
            LearnerKind::RfRidge => format!("{} features, λ = {}; {sizes}", o.features, o.lambda),
            LearnerKind::Ridge | LearnerKind::Ridge2 => format!("λ = {}; {sizes}", o.lambda),
            LearnerKind::Lll => format!("d+1 samples, N scanned; n_test = {}", b.n_test),
            LearnerKind::Trivial | LearnerKind::Oracle => sizes,
        }
    }

    /// Every run of the grid in a fixed order, validated before any work starts; a spec that
    /// two axis values produce alike (say σ = "1/d" and 0.25 at d = 4) is listed once.
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
        ensure(
            (1..=MAX_INSTANCE).contains(&self.instances),
            "instances",
            self.instances,
            &format!("an integer in 1..={MAX_INSTANCE}"),
        )?;
        let lens =
            [self.learners.len(), self.d.len(), self.sigma.len(), self.beta.len(), self.noise.len(), self.data.len()];
        let count = lens.iter().fold(u128::from(self.instances), |n, &l| n * l as u128);
        ensure(
            count <= MAX_POINTS as u128,
            "grid",
            format!("{count} points"),
            &format!("at most {MAX_POINTS} points (split it into several grids)"),
        )?;
        let mut points = Vec::new();
        let mut seen = HashSet::new();
        for &learner in &self.learners {
            for &d in &self.d {
                for sigma in &self.sigma {
                    for beta in &self.beta {
                        for &noise in &self.noise {
                            for &data in &self.data {
                                for instance in 0..self.instances {
                                    let spec = RunSpec {
                                        learner,
                                        d,
                                        gamma: self.gamma,
                                        beta: Some(beta.at(d, "beta")?),
                                        sigma: Some(sigma.at(d, "sigma")?),
                                        noise,
                                        seed: self.seed,
                                        instance,
                                        data,
                                        budget: self.budget,
                                        options: self.options.clone(),
                                    };
                                    spec.validate()?;
                                    if seen.insert(spec.id()) {
                                        let (sigma_label, beta_label) = (sigma.label(), beta.label());
                                        points.push(GridPoint { spec, sigma_label, beta_label });
                                    }
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

/// Most points a grid may have.
pub const MAX_POINTS: usize = 1_000_000;

impl StoreGrid for Grid {
    fn is_published(file: &str) -> bool {
        let table = ["summary.md", "summary.csv", "advantage.md", "advantage.csv", "advantage.svg"];
        let figure = |prefix: &str| file.starts_with(prefix) && file.ends_with(".svg");
        table.contains(&file) || figure("success-") || figure("traces-")
    }
}

impl StoredRow for Row {
    fn key(&self) -> String {
        self.spec().id()
    }

    fn is_done(&self) -> bool {
        matches!(self, Self::Finished(_))
    }
}

/// `--shard I/N`: the I-th of N deterministic slices of a grid (0 ≤ I < N).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    pub fn finished(&mut self, line: impl std::fmt::Display) {
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

/// What a sweep did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Points in this shard of the grid.
    pub total: usize,
    /// Points already finished in the directory (resumed past).
    pub skipped: usize,
    /// Runs finished now.
    pub ran: usize,
    /// Runs that failed now (stored with their error; `--resume` retries them).
    pub failed: usize,
}

/// How a sweep runs: its writer, mode and failure limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepOptions {
    /// `--shard I/N`, if any.
    pub shard: Option<Shard>,
    /// Fresh, resume or restart.
    pub mode: Mode,
    /// Failed runs tolerated before the sweep stops (`--max-failures`).
    pub max_failures: usize,
}

/// Runs `grid` (or its shard) into `dir` through the result store; a run that fails at run time
/// is stored with its error and the sweep goes on until more than `max_failures` have failed.
/// Tables and figures are rewritten at the end from every results file in `dir`.
pub fn run_sweep(grid: &Grid, dir: &Path, options: SweepOptions, engine: &dyn Engine) -> Result<SweepOutcome> {
    let points: Vec<GridPoint> = grid
        .points()?
        .into_iter()
        .enumerate()
        .filter(|(i, _)| options.shard.is_none_or(|s| s.owns(*i)))
        .map(|(_, p)| p)
        .collect();
    if let Some(s) = options.shard.filter(|_| points.is_empty()) {
        return Err(ParamError {
            name: "--shard".into(),
            value: format!("{}/{}", s.index, s.count),
            expected: "a shard that owns at least one point (use fewer shards)".into(),
        }
        .into());
    }
    let store = Store::open::<Grid, Row>(dir, grid, ResultsFile::of(options.shard), options.mode)?;
    let done = DirRows::<Row>::read(dir)?.done_keys();
    let todo: Vec<&GridPoint> = points.iter().filter(|p| !done.contains(&p.spec.id())).collect();
    let mut outcome = SweepOutcome { total: points.len(), skipped: points.len() - todo.len(), ran: 0, failed: 0 };
    let mut progress = Progress::new(todo.len());
    for point in todo {
        let start = std::time::Instant::now();
        let row = match run_one(&point.spec, engine) {
            Ok(record) => Row::Finished(Box::new(record)),
            Err(error) => Row::Failed(Box::new(FailedRun {
                spec: point.spec.clone(),
                id: point.spec.id(),
                failed: error.to_string(),
                wall_s: start.elapsed().as_secs_f64(),
                backend: engine.info(),
                version: version(),
            })),
        };
        store.append(&row)?;
        progress.finished(PointLine { point, row: &row });
        match row {
            Row::Finished(_) => outcome.ran += 1,
            Row::Failed(_) => outcome.failed += 1,
        }
        if outcome.failed > options.max_failures {
            progress.finish();
            publish_dir(dir)?;
            return Err(Error::TooManyFailures { failed: outcome.failed, limit: options.max_failures });
        }
    }
    progress.finish();
    publish_dir(dir)?;
    Ok(outcome)
}

/// One line of progress: the point and how its run ended.
struct PointLine<'a> {
    point: &'a GridPoint,
    row: &'a Row,
}

impl std::fmt::Display for PointLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.point.spec;
        write!(f, "{} d={} σ={} {} #{}: ", s.learner, s.d, self.point.sigma_label, s.data, s.instance)?;
        match self.row {
            Row::Finished(r) => write!(f, "{} Δ={:.2e} ({:.1} s)", r.judgement.verdict, r.judgement.delta, r.wall_s),
            Row::Failed(e) => write!(f, "FAILED: {}", e.failed),
        }
    }
}

/// The finished runs among `rows`.
fn finished(rows: Vec<Row>) -> Vec<RunRecord> {
    rows.into_iter()
        .filter_map(|r| match r {
            Row::Finished(r) => Some(*r),
            Row::Failed(_) => None,
        })
        .collect()
}

/// Rewrites the tables and figures of `dir` from every results file in it.
pub fn publish_dir(dir: &Path) -> Result<()> {
    let grid = recorded_grid::<Grid>(dir)?
        .ok_or_else(|| Error::GridMismatch { dir: dir.to_path_buf(), differences: "its grid.toml is gone".into() })?;
    publish(dir, &grid, &finished(DirRows::<Row>::read(dir)?.unique_rows()))
}

/// Joins the results of `inputs` (each point once) into `out/runs.jsonl` and writes the tables
/// and figures there. The inputs are only read; they must hold the same grid, and `out` must
/// not be one of them.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<usize> {
    let same = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    if inputs.iter().any(|i| same(i, out)) {
        return Err(ParamError {
            name: "--out".into(),
            value: out.display().to_string(),
            expected: "a directory that is not one of the inputs (merge never writes to its inputs)".into(),
        }
        .into());
    }
    let mut grid: Option<Grid> = None;
    let mut files = Vec::new();
    for dir in inputs {
        let g = recorded_grid::<Grid>(dir)?.ok_or_else(|| ParamError {
            name: "DIR".into(),
            value: dir.display().to_string(),
            expected: "a sweep's results directory (one holding grid.toml)".into(),
        })?;
        if let Some(first) = &grid
            && first.canonical() != g.canonical()
        {
            let differences = super::store::differences(&first.canonical(), &g.canonical());
            return Err(Error::GridMismatch { dir: dir.clone(), differences });
        }
        grid.get_or_insert(g);
        files.extend(DirRows::<Row>::read(dir)?.files);
    }
    let grid = grid.expect("clap requires at least one input");
    let rows = DirRows { files }.unique();
    if rows.is_empty() {
        return Err(ParamError {
            name: "DIR".into(),
            value: inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
            expected: "directories holding at least one run".into(),
        }
        .into());
    }
    let store = Store::open::<Grid, Row>(out, &grid, ResultsFile::Main, Mode::Fresh)?;
    store.write_all(&rows)?;
    let n = rows.len();
    publish(out, &grid, &finished(rows.into_iter().map(|k| k.row).collect()))?;
    Ok(n)
}

/// Tables and figures of `rows` of `grid`, written to `dir`.
fn publish(dir: &Path, grid: &Grid, rows: &[RunRecord]) -> Result<()> {
    let names = crate::reporting::summary::LevelNames { sigma: &grid.sigma, beta: &grid.beta };
    let (summaries, advantages) =
        crate::reporting::summary::write_tables(dir, &grid.name, rows, names).map_err(Error::io(dir))?;
    let figure_error = |e: Box<dyn std::error::Error>| Error::io(dir)(std::io::Error::other(e.to_string()));
    let budget = |learner: &str| {
        grid.learners.iter().find(|k| k.name() == learner).map_or_else(String::new, |&k| grid.budget_label(k))
    };
    crate::reporting::figures::success_heatmaps(dir, &summaries, &budget).map_err(figure_error)?;
    crate::reporting::figures::advantage_plot(dir, &advantages).map_err(figure_error)?;
    crate::reporting::figures::trace_plots(dir, rows).map_err(figure_error)?;
    Ok(())
}

/// What one results file of a directory holds, against the directory's grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileStatus {
    /// The file.
    pub file: String,
    /// Rows it holds.
    pub rows: usize,
    /// Grid points it finishes first.
    pub done: usize,
    /// Finished rows of points some earlier row already finishes.
    pub duplicated: usize,
    /// Rows of points that are not in the grid.
    pub foreign: usize,
    /// Rows of runs that failed.
    pub failed: usize,
    /// For a shard's file: its points that no file finishes.
    pub missing: Option<usize>,
}

/// `clwe-bench status DIR`: a results directory against its grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The grid's name.
    pub grid: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Points in the grid.
    pub points: usize,
    /// Points some file finishes.
    pub done: usize,
    /// Points no file finishes.
    pub missing: usize,
    /// Per results file.
    pub files: Vec<FileStatus>,
}

/// Reads `dir` and its grid, writing nothing.
pub fn status(dir: &Path) -> Result<Status> {
    let grid = recorded_grid::<Grid>(dir)?.ok_or_else(|| ParamError {
        name: "DIR".into(),
        value: dir.display().to_string(),
        expected: "a sweep's results directory (one holding grid.toml)".into(),
    })?;
    let keys: Vec<String> = grid.points()?.iter().map(|p| p.spec.id()).collect();
    let in_grid: HashSet<&String> = keys.iter().collect();
    let rows = DirRows::<Row>::read(dir)?;
    let done = rows.done_keys();
    let mut seen = HashSet::new();
    let files = rows
        .files
        .iter()
        .map(|(file, rows)| {
            let mut s = FileStatus {
                file: file.name(),
                rows: rows.len(),
                done: 0,
                duplicated: 0,
                foreign: 0,
                failed: 0,
                missing: None,
            };
            for kept in rows {
                let key = kept.row.key();
                if !in_grid.contains(&key) {
                    s.foreign += 1;
                } else if !kept.row.is_done() {
                    s.failed += 1;
                } else if seen.insert(key) {
                    s.done += 1;
                } else {
                    s.duplicated += 1;
                }
            }
            if let ResultsFile::Shard(shard) = file {
                s.missing = Some(keys.iter().enumerate().filter(|(i, k)| shard.owns(*i) && !done.contains(*k)).count());
            }
            s
        })
        .collect();
    let finished = keys.iter().filter(|k| done.contains(*k)).count();
    Ok(Status {
        grid: grid.name.clone(),
        fingerprint: grid.fingerprint(),
        points: keys.len(),
        done: finished,
        missing: keys.len() - finished,
        files,
    })
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "grid {} (fingerprint {}): {} points, {} done, {} missing",
            self.grid, self.fingerprint, self.points, self.done, self.missing
        )?;
        for s in &self.files {
            write!(
                f,
                "  {}: {} rows, {} done, {} duplicated, {} foreign, {} failed",
                s.file, s.rows, s.done, s.duplicated, s.foreign, s.failed
            )?;
            if let Some(m) = s.missing {
                write!(f, ", {m} of its points missing")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
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
        assert_eq!(bad(&|g| g.options.lambda = -1.0).name, "--lambda");
        assert_eq!(bad(&|g| g.options.lr = f32::NAN).name, "--lr");
        assert_eq!(bad(&|g| g.options.features = 0).name, "--features");
        assert_eq!(bad(&|g| g.instances = 0).name, "instances");
        assert_eq!(bad(&|g| g.d = (1..=100_000).collect()).name, "grid");
        assert_eq!(bad(&|g| g.d = vec![]).name, "d");
        assert_eq!(bad(&|g| g.d.push(0)).name, "--d");
        assert_eq!(bad(&|g| g.sigma = vec![Level::Text("2^x".into())]).name, "sigma");
        assert!(Grid::load("nonexistent").is_err());
    }

    #[test]
    fn committed_results_read_back_as_typed_rows_of_their_grids() {
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
        for name in ["quick", "threshold", "reduction", "noise-model"] {
            let dir = results.join(name);
            let status = status(&dir).unwrap();
            assert_eq!((status.missing, status.done), (0, status.points), "{name}: {status}");
            for file in &status.files {
                assert_eq!((file.foreign, file.duplicated, file.failed), (0, 0, 0), "{name}: {status}");
            }
            let rows = finished(DirRows::<Row>::read(&dir).unwrap().unique_rows());
            assert_eq!(rows.len(), status.points, "{name}: every row is a typed finished run");
        }
    }

    #[test]
    fn levels_parse() {
        let at = |t: &str, d| t.parse::<Level>().unwrap().at(d, "--sigma");
        assert_eq!(at("2^-22/d", 4).unwrap(), 2f64.powi(-24));
        assert_eq!(at("0.5/d", 4).unwrap(), 0.125);
        assert_eq!(at("2*sqrt(d)", 9).unwrap(), 6.0);
        assert_eq!(at("sqrt(d)", 16).unwrap(), 4.0);
        assert_eq!(at("0.25", 16).unwrap(), 0.25);
        for bad in ["2^x", "x/d", "2sqrt(d)", "1/e"] {
            assert_eq!(at(bad, 4).unwrap_err().name, "--sigma", "{bad}");
        }
        assert_eq!(Level::Text("1/d".into()).at(8, "sigma").unwrap(), 0.125);
        assert_eq!(Level::Text("2^-10".into()).at(8, "sigma").unwrap(), 2f64.powi(-10));
        assert_eq!(Level::Number(0.5).at(8, "sigma").unwrap(), 0.5);
    }
}
