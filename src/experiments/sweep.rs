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
use crate::backends::{Engine, Schedule};
use crate::error::{Error, Result};
use crate::learners::{Budget, LearnerKind, LearnerOptions};
use crate::math::target::CappedTriangle;
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
        self.evaluate(d, None, axis)
    }

    /// The value at dimension d for a teacher of width k (the width axis: `4*k`, `k`, `c*k`).
    pub fn at_width(&self, d: usize, k: usize, axis: &str) -> Result<f64, ParamError> {
        self.evaluate(d, Some(k), axis)
    }

    fn evaluate(&self, d: usize, k: Option<usize>, axis: &str) -> Result<f64, ParamError> {
        let forms =
            if k.is_some() { "2^k, 1/d, c/d, sqrt(d), c*sqrt(d), k, c*k" } else { "2^k, 1/d, c/d, sqrt(d), c*sqrt(d)" };
        let bad = |v: &str| ParamError {
            name: axis.into(),
            value: v.into(),
            expected: format!("a number or a form in d: {forms}"),
        };
        let number = |t: &str| match t.strip_prefix("2^") {
            Some(e) => e.parse::<f64>().map(|e| 2f64.powf(e)).map_err(|_| bad(t)),
            None => t.parse::<f64>().map_err(|_| bad(t)),
        };
        // `c*X` or `X`: the coefficient c (1 when absent).
        let coefficient = |t: &str, c: &str| match c {
            "" => Ok(1.0),
            c => number(c.strip_suffix('*').ok_or_else(|| bad(t))?).map_err(|_| bad(t)),
        };
        match self {
            Self::Number(v) => Ok(*v),
            Self::Text(t) => {
                if let Some(c) = t.strip_suffix("/d") {
                    Ok(number(c).map_err(|_| bad(t))? / d as f64)
                } else if let Some(c) = t.strip_suffix("sqrt(d)") {
                    Ok(coefficient(t, c)? * (d as f64).sqrt())
                } else if let (Some(c), Some(k)) = (t.strip_suffix('k'), k) {
                    Ok(coefficient(t, c)? * k as f64)
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
    /// γ levels (lattice convention): numbers or forms in d such as `2*sqrt(d)`; none = 2√d.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    pub gamma: Vec<Level>,
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
    /// Learner hyper-parameters (the axes below override theirs).
    #[serde(default)]
    pub options: LearnerOptions,
    /// Student widths k': numbers or forms in d and the teacher's width k (`4*k`); none = the
    /// options' width.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub width: Vec<Level>,
    /// Batch sizes B; none = the options' batch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<usize>,
    /// Step budgets; none = the budget's steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<u64>,
    /// Learning rates of the learner's optimiser (sgd's `lr`, adam's `adam_lr`); none = the options'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lr: Vec<f32>,
    /// Learning-rate schedules; none = the options' schedule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<Schedule>,
    /// Run seeds; none = `seed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<u64>,
    /// Whether the cells of the grid draw independent instances (the default) or share them.
    #[serde(default)]
    pub random_numbers: RandomNumbers,
}

/// How a grid's cells (every axis but learners and data kinds, which share instances so that
/// they are paired) get their instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RandomNumbers {
    /// Every cell its own `instances` instances: cells are independent samples.
    #[default]
    Independent,
    /// Instances 0..`instances` in every cell (common random numbers: differences between
    /// cells are paired, and a cell's runs are not independent of another's).
    Common,
}

impl RandomNumbers {
    /// The sentence summaries print.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Independent => {
                "Every cell (d, σ, β, noise and the other axes) has its own independent instances; learners and \
                 data kinds share a cell's instances (paired)."
            }
            Self::Common => {
                "Common random numbers: every cell of the grid uses the same instance numbers (the same \
                 secret w in every σ cell of a (learner, d)), so cells are paired, not independent."
            }
        }
    }
}

/// A list, or one value standing for a list of one (grids written when γ was a single number).
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Level>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Level),
        Many(Vec<Level>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(level) => vec![level],
        OneOrMany::Many(levels) => levels,
    })
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
        // An axis the grid varies is shown as its list, else the base value.
        fn axis<T: std::fmt::Debug, U: std::fmt::Display>(values: &[T], base: U) -> String {
            if values.is_empty() { base.to_string() } else { format!("{values:?}") }
        }
        let widths: Vec<String> = self.width.iter().map(Level::label).collect();
        let student = |lr: f32| {
            format!(
                "{} steps, B = {}, k' = {}, lr = {}; {sizes}",
                axis(&self.steps, b.steps),
                axis(&self.batch, o.batch),
                axis(&widths, o.width),
                axis(&self.lr, lr)
            )
        };
        match learner {
            LearnerKind::Sgd | LearnerKind::SgdWarm => student(o.lr),
            LearnerKind::Adam => student(o.adam_lr),
            LearnerKind::RfRidge => format!("{} features, λ = {}; {sizes}", o.features, o.lambda),
            LearnerKind::Ridge | LearnerKind::Ridge2 => format!("λ = {}; {sizes}", o.lambda),
            LearnerKind::Lll => format!("d+1 samples, N scanned; n_test = {}", b.n_test),
            LearnerKind::Trivial | LearnerKind::Oracle => sizes,
        }
    }

    /// Errors for an empty axis, an instance count out of range, a grid of more than
    /// [`MAX_POINTS`] runs, or more independent instances than the counter has room for.
    fn check_size(&self) -> Result<(), ParamError> {
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
        let optional = [self.gamma.len(), self.width.len(), self.batch.len(), self.steps.len(), self.lr.len()]
            .into_iter()
            .chain([self.schedule.len(), self.seeds.len()]);
        let cell_count = [self.d.len(), self.sigma.len(), self.beta.len(), self.noise.len()]
            .into_iter()
            .chain(optional)
            .fold(1u128, |n, l| n * l.max(1) as u128);
        let count = cell_count * (self.learners.len() * self.data.len()) as u128 * u128::from(self.instances);
        ensure(
            count <= MAX_POINTS as u128,
            "grid",
            format!("{count} points"),
            &format!("at most {MAX_POINTS} points (split it into several grids)"),
        )?;
        if self.random_numbers == RandomNumbers::Independent {
            let instances = cell_count * u128::from(self.instances);
            ensure(
                instances <= u128::from(MAX_INSTANCE) + 1,
                "instances",
                format!("{instances} independent instances"),
                &format!(
                    "at most {} over the grid's cells (or random_numbers = \"common\")",
                    u64::from(MAX_INSTANCE) + 1
                ),
            )?;
        }
        Ok(())
    }

    /// Every run of the grid in a fixed order, validated before any work starts; a spec that
    /// two axis values produce alike (say σ = "1/d" and 0.25 at d = 4) is listed once.
    pub fn points(&self) -> Result<Vec<GridPoint>, ParamError> {
        self.check_size()?;
        let (cells, settings) = (self.cells(), self.student_settings());
        let numbers = self.cell_numbers(&cells)?;
        let mut points = Vec::new();
        let mut seen = HashSet::new();
        for &learner in &self.learners {
            let student = learner.is_student();
            for (index, cell) in cells.iter().enumerate() {
                let number = numbers[if student { index } else { index / settings * settings }];
                for &data in &self.data {
                    for i in 0..self.instances {
                        let instance = match self.random_numbers {
                            RandomNumbers::Common => i,
                            RandomNumbers::Independent => number * self.instances + i,
                        };
                        let spec = self.spec(cell, learner, data, instance)?;
                        spec.validate()?;
                        if seen.insert(spec.id()) {
                            let (sigma_label, beta_label) = (cell.sigma.label(), cell.beta.label());
                            points.push(GridPoint { spec, sigma_label, beta_label });
                        }
                    }
                }
            }
        }
        Ok(points)
    }

    /// Every cell: the product of every axis but learners, data kinds and instances (an axis
    /// left empty takes its value from `budget`, `options` or `seed`).
    fn cells(&self) -> Vec<Cell<'_>> {
        let base = Cell {
            d: self.d[0],
            sigma: &self.sigma[0],
            beta: &self.beta[0],
            noise: self.noise[0],
            gamma: None,
            width: None,
            batch: None,
            steps: None,
            lr: None,
            schedule: None,
            seed: self.seed,
        };
        let mut cells = expand(vec![base], &self.d, |c, &d| c.d = d);
        cells = expand(cells, &self.sigma, |c, l| c.sigma = l);
        cells = expand(cells, &self.beta, |c, l| c.beta = l);
        cells = expand(cells, &self.noise, |c, &n| c.noise = n);
        cells = expand(cells, &self.gamma, |c, l| c.gamma = Some(l));
        cells = expand(cells, &self.seeds, |c, &seed| c.seed = seed);
        // The student axes innermost: see `student_settings`.
        cells = expand(cells, &self.width, |c, l| c.width = Some(l));
        cells = expand(cells, &self.batch, |c, &b| c.batch = Some(b));
        cells = expand(cells, &self.steps, |c, &t| c.steps = Some(t));
        cells = expand(cells, &self.lr, |c, &lr| c.lr = Some(lr));
        expand(cells, &self.schedule, |c, &s| c.schedule = Some(s))
    }

    /// Each cell's number for laying out independent instances: cells that resolve to the same
    /// runs (say d = [4, 4], or σ = "1/d" and 0.25 at d = 4) share a number, so that equal grid
    /// points are one point; distinct cells are numbered in order of first appearance.
    fn cell_numbers(&self, cells: &[Cell<'_>]) -> Result<Vec<u32>, ParamError> {
        let mut seen = std::collections::HashMap::new();
        cells
            .iter()
            .map(|cell| {
                // Every axis resolved, as a student (which reads them all) sees it.
                let key = self.spec(cell, LearnerKind::Sgd, DataKind::Planted, 0)?.id();
                let next = seen.len() as u32;
                Ok(*seen.entry(key).or_insert(next))
            })
            .collect()
    }

    /// How many student settings each problem cell has (the student axes are innermost in
    /// [`Self::cells`], so cell i has problem cell i / this). Other learners ignore these axes
    /// and take the instances of a problem cell's first student setting: paired with the
    /// students, and not run again per setting.
    fn student_settings(&self) -> usize {
        [self.width.len(), self.batch.len(), self.steps.len(), self.lr.len(), self.schedule.len()]
            .iter()
            .map(|&l| l.max(1))
            .product()
    }

    /// The run of `learner` on `data` in `cell`. Student settings (width, batch, steps, learning
    /// rate, schedule) apply to the students only, so other learners' specs do not multiply.
    fn spec(
        &self,
        cell: &Cell<'_>,
        learner: LearnerKind,
        data: DataKind,
        instance: u32,
    ) -> Result<RunSpec, ParamError> {
        let d = cell.d;
        let student = learner.is_student();
        let (mut budget, mut options) = (self.budget, self.options.clone());
        if student {
            budget.steps = cell.steps.unwrap_or(budget.steps);
            options.batch = cell.batch.unwrap_or(options.batch);
            options.schedule = cell.schedule.unwrap_or(options.schedule);
            match (learner, cell.lr) {
                (LearnerKind::Adam, Some(lr)) => options.adam_lr = lr,
                (_, Some(lr)) => options.lr = lr,
                (_, None) => {}
            }
        }
        let mut spec = RunSpec {
            learner,
            d,
            gamma: cell.gamma.map(|g| g.at(d, "gamma")).transpose()?,
            beta: Some(cell.beta.at(d, "beta")?),
            sigma: Some(cell.sigma.at(d, "sigma")?),
            noise: cell.noise,
            seed: cell.seed,
            instance,
            data,
            budget,
            options,
        };
        if let (Some(width), true) = (cell.width, student) {
            let k = CappedTriangle::new(spec.width_rule().cap(spec.problem()?.gamma_s())).width();
            let value = width.at_width(d, k, "width")?;
            ensure(value >= 1.0, "width", width.label(), "a width of at least 1 at every d")?;
            spec.options.width = value.round() as usize;
        }
        Ok(spec)
    }
}

/// One cell of a grid: a value of every axis but learners, data kinds and instances.
#[derive(Clone, Debug)]
struct Cell<'g> {
    d: usize,
    sigma: &'g Level,
    beta: &'g Level,
    noise: NoiseModel,
    gamma: Option<&'g Level>,
    width: Option<&'g Level>,
    batch: Option<usize>,
    steps: Option<u64>,
    lr: Option<f32>,
    schedule: Option<Schedule>,
    seed: u64,
}

/// Every cell of `cells` once per value of an axis (unchanged when the axis is empty).
fn expand<'g, T>(cells: Vec<Cell<'g>>, values: &'g [T], set: impl Fn(&mut Cell<'g>, &'g T)) -> Vec<Cell<'g>> {
    if values.is_empty() {
        return cells;
    }
    let mut out = Vec::with_capacity(cells.len() * values.len());
    for cell in cells {
        for value in values {
            let mut c = cell.clone();
            set(&mut c, value);
            out.push(c);
        }
    }
    out
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

    /// This shard's share of `items` balanced by `cost`: largest first, each onto the shard with
    /// the least cost so far (every shard computes the same assignment).
    pub fn balanced<T>(&self, mut items: Vec<T>, cost: impl Fn(&T) -> f64) -> Vec<T> {
        items.sort_by(|a, b| cost(b).total_cmp(&cost(a)));
        let mut load = vec![0.0f64; self.count];
        let mut mine = Vec::new();
        for item in items {
            let least = (0..self.count).min_by(|&i, &j| load[i].total_cmp(&load[j])).expect("a shard");
            load[least] += cost(&item);
            if least == self.index {
                mine.push(item);
            }
        }
        mine
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
        crate::reporting::summary::write_tables(dir, &grid.name, rows, names, grid.random_numbers)
            .map_err(Error::io(dir))?;
    let figure_error = |e: Box<dyn std::error::Error>| Error::io(dir)(std::io::Error::other(e.to_string()));
    let budget = |learner: LearnerKind| {
        if grid.learners.contains(&learner) { grid.budget_label(learner) } else { String::new() }
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

    /// A grid varying every axis kind over two learners.
    fn axes_grid(random_numbers: RandomNumbers) -> Grid {
        let text = r#"
            name = "axes"
            learners = ["sgd", "ridge"]
            d = [2, 4]
            gamma = ["sqrt(d)", "2*sqrt(d)"]
            width = ["k", "4*k"]
            lr = [0.1, 0.01]
            instances = 2
            [budget]
            steps = 10
            train_samples = 100
            n_test = 100
        "#;
        Grid { random_numbers, ..toml::from_str(text).unwrap() }
    }

    #[test]
    fn every_axis_multiplies_the_cells_and_forms_resolve_per_cell() {
        let points = axes_grid(RandomNumbers::Independent).points().unwrap();
        let of = |learner| points.iter().filter(|p| p.spec.learner == learner).map(|p| &p.spec).collect::<Vec<_>>();
        let (sgd, ridge) = (of(LearnerKind::Sgd), of(LearnerKind::Ridge));
        // sgd: 2 d × 2 γ × 2 widths × 2 rates × 2 instances; ridge ignores width and rate.
        assert_eq!((sgd.len(), ridge.len()), (32, 8));
        for s in &sgd {
            let k = CappedTriangle::new(s.width_rule().cap(s.problem().unwrap().gamma_s())).width();
            assert!(s.options.width == k || s.options.width == 4 * k, "k' = {} for k = {k}", s.options.width);
            assert!(s.gamma == Some((s.d as f64).sqrt()) || s.gamma == Some(2.0 * (s.d as f64).sqrt()));
        }
        assert_eq!(sgd.iter().filter(|s| s.options.lr == 0.01).count(), 16);
        // Independent cells: sgd's 16 cells have 32 distinct instances; ridge shares the
        // instances of each problem cell's first student setting (paired).
        let instances = |specs: &[&RunSpec]| specs.iter().map(|s| s.instance).collect::<HashSet<u32>>();
        assert_eq!(instances(&sgd).len(), 32);
        assert!(instances(&ridge).is_subset(&instances(&sgd)) && instances(&ridge).len() == 8);
        // Common random numbers: instances 0 and 1 everywhere.
        let common = axes_grid(RandomNumbers::Common).points().unwrap();
        assert!(common.iter().all(|p| p.spec.instance < 2) && common.len() == points.len());
    }

    #[test]
    fn grids_written_with_one_gamma_and_width_forms_outside_a_width_are_handled() {
        let old: Grid = toml::from_str(
            "name = \"g\"\nlearners = [\"sgd\"]\nd = [2]\ngamma = 3.0\n[budget]\nsteps = 1\ntrain_samples = 1\nn_test = 2\n",
        )
        .unwrap();
        assert_eq!(old.gamma, vec![Level::Number(3.0)]);
        assert_eq!(old.points().unwrap()[0].spec.gamma, Some(3.0));
        assert_eq!(Level::Text("4*k".into()).at_width(2, 9, "width").unwrap(), 36.0);
        assert_eq!(Level::Text("k".into()).at_width(2, 9, "width").unwrap(), 9.0);
        assert_eq!(Level::Text("4*k".into()).at(2, "gamma").unwrap_err().name, "gamma", "k means nothing for γ");
        let mut bad = old.clone();
        bad.width = vec![Level::Text("0*k".into())];
        assert_eq!(bad.points().unwrap_err().name, "width");
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
