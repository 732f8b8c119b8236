//! Compute-to-learn (`clwe-bench sweep compute-to-learn`, SPEC §9 and §10.7): the samples and
//! FLOPs a wide student needs to weakly learn the planted problem, against d, γ and width k',
//! found by a budget ladder, with controls, on the result store.
//!
//! **A ladder** (one student configuration on one instance): steps T = `first_steps`,
//! 2·`first_steps`, … while one run costs at most the FLOP cap (4·B·d·k'·T ≤ C; the first
//! rung always runs). At each rung the student trains once per learning rate of a small grid
//! (cosine decay to zero over the T steps, output layer started at zero: SPEC §7's hygiene),
//! each run is judged on the validation split, and the best validation Δ is kept. The ladder
//! stops at the first rung whose kept run weakly learns on validation (SPEC §8's rule), or at
//! the cap. The kept run of the last rung is then scored once on the test split, which nothing
//! was tuned on: *learned* means validation said so and the test split confirms it.
//!
//! **Axes**: d; γ = c·2√d for each c of the grid, taken in increasing order; the width
//! k' = (k'/k)·k with k the teacher's width at that γ. Every (d, γ, k'/k) cell has its own
//! independent instances; sgd, adam and the controls of a cell share them (paired).
//! The γ scan of a (learner, d) stops after the first γ at which no instance learned (larger γ
//! are listed as not run: the target only gets harder). The width scan (at one γ, for some d)
//! widens until at least half the instances learn.
//!
//! **Controls**, on the same instances: a null-label run per ladder (the kept learning rate and
//! steps, trained and scored on the null, so a "learned" there is a false positive); the
//! direction-known student (every neuron at v_j = w, frozen; biases and output trained: a
//! ladder of its own); and ridge on degree-2 features (SPEC §7's low-degree baseline).

use std::path::Path;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::runs::{RunRecord, RunSpec, run_one, run_width_rule, version};
use super::store::{DirRows, Mode, ResultsFile, Store, StoreGrid, StoredRow};
use super::sweep::Shard;
use crate::backends::{BackendInfo, Engine, Optimizer, Schedule};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::learners::students::{
    OutputBias, Search, Student, StudentInit, TracePoint, Trained, Try, best_on_validation,
};
use crate::learners::{
    Budget, Instance, Judgement, LearnerKind, LearnerOptions, RunContext, Scores, Verdict, judge_evaluation,
};
use crate::math::target::WidthRule;
use crate::params::{NoiseModel, ParamError, Problem, ensure};
use crate::reporting::atomic::write_file_atomically;
use crate::reporting::fit::least_squares;
use crate::reporting::summary::{Z95, wilson};
use crate::reporting::table::markdown_table;
use crate::sampling::DataKind;

mod figures;

/// The failure budget δ of the teacher's cap.
const CAP_DELTA: f64 = 0.01;
/// Bootstrap resamples behind each slope interval.
const BOOTSTRAP: usize = 2000;

/// How big a study: the CPU preset, a smoke-sized one for tests, or the GPU scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The committed study: under 90 minutes on 2 cores.
    Cpu,
    /// Seconds: for the tests and CI.
    Smoke,
    /// For a datacenter GPU: k' to 10⁵, B to 10⁵, up to 10⁶ steps.
    Gpu,
}

impl Scale {
    /// `CLWE_BENCH_GRID=smoke|gpu`, else the CPU preset.
    pub fn from_env() -> Self {
        match std::env::var("CLWE_BENCH_GRID").as_deref() {
            Ok("smoke") => Self::Smoke,
            Ok("gpu") => Self::Gpu,
            _ => Self::Cpu,
        }
    }
}

/// The width scan: at one γ, for some d, k'/k over `ratios` until half the instances learn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidthScan {
    /// Dimensions scanned.
    pub d: Vec<usize>,
    /// γ = c·2√d: this c (one of the grid's).
    pub gamma: f64,
    /// k'/k, increasing.
    pub ratios: Vec<usize>,
}

/// The study's grid, recorded in `grid.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeGrid {
    /// Always `compute-to-learn`.
    pub name: String,
    /// Student learners (sgd, adam).
    pub learners: Vec<LearnerKind>,
    /// Input dimensions.
    pub d: Vec<usize>,
    /// γ = c·2√d for each c, increasing.
    pub gamma: Vec<f64>,
    /// k'/k of the γ scan and of the direction-known control.
    pub width_ratio: usize,
    /// The width scan.
    pub width_scan: WidthScan,
    /// Label-noise σ (Gaussian).
    pub sigma: f64,
    /// Independent instances per cell.
    pub instances: u32,
    /// Run seed.
    pub seed: u64,
    /// Batch B.
    pub batch: usize,
    /// Steps of the ladder's first rung.
    pub first_steps: u64,
    /// FLOP cap C of one run: 4·B·d·k'·T ≤ C.
    pub cap_flops: f64,
    /// SGD's learning-rate grid, in units of 1/k' (the rate is η/k'): under the standard
    /// initialisation the output layer's curvature grows like k', so a rate stable at k' = 30
    /// is about 100 times too large at k' = 3000.
    pub sgd_lr: Vec<f32>,
    /// Adam's learning-rate grid.
    pub adam_lr: Vec<f32>,
    /// Rates a rung may add beyond its grid's ends when the best rate is at one (by the grid's
    /// outermost ratio each time).
    pub lr_extensions: usize,
    /// Training labels behind the trivial predictor's mean.
    pub train_samples: u64,
    /// Validation samples judging each run of a rung.
    pub n_validation: u64,
    /// Test samples confirming the kept run.
    pub n_test: u64,
    /// Training samples of the degree-2 ridge control.
    pub ridge_samples: u64,
}

impl ComputeGrid {
    /// The preset at `scale`.
    pub fn preset(scale: Scale) -> Self {
        let cpu = Self {
            name: "compute-to-learn".into(),
            learners: vec![LearnerKind::Sgd, LearnerKind::Adam],
            d: vec![2, 3, 4, 5, 6, 8],
            gamma: vec![0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0],
            width_ratio: 4,
            width_scan: WidthScan { d: vec![2, 3, 4], gamma: 1.0, ratios: vec![1, 4, 16, 64] },
            sigma: 0.01,
            instances: 5,
            seed: 0,
            batch: 1024,
            first_steps: 32,
            cap_flops: 2f64.powi(33),
            sgd_lr: vec![30.0, 10.0, 3.0],
            adam_lr: vec![0.03, 0.01, 0.003],
            lr_extensions: 2,
            train_samples: 1 << 16,
            n_validation: 20_000,
            n_test: 100_000,
            ridge_samples: 1 << 18,
        };
        match scale {
            Scale::Cpu => cpu,
            Scale::Smoke => Self {
                d: vec![2, 3],
                gamma: vec![0.25, 1.0],
                width_scan: WidthScan { d: vec![2], gamma: 1.0, ratios: vec![1, 4] },
                instances: 2,
                batch: 256,
                first_steps: 8,
                cap_flops: 2f64.powi(22),
                n_validation: 4000,
                n_test: 8000,
                ridge_samples: 4096,
                ..cpu
            },
            // k' to 2048·k ≈ 10⁵ (k ≈ 40–70 at γ = 2√d), B = 65 536, and a cap C = 2⁴⁹ at which
            // a run of k' = 4k ≈ 270 at d = 8 gets about 10⁶ steps (4·B·d·k'·T ≤ C).
            Scale::Gpu => Self {
                d: vec![2, 3, 4, 5, 6, 8, 10, 12],
                width_scan: WidthScan {
                    d: vec![2, 3, 4, 5, 6],
                    gamma: 1.0,
                    ratios: vec![1, 4, 16, 64, 256, 1024, 2048],
                },
                batch: 65_536,
                first_steps: 64,
                cap_flops: 2f64.powi(49),
                ..cpu
            },
        }
    }

    /// Checks the grid before any work: every level in range, the grids non-empty.
    pub fn validate(&self) -> Result<(), ParamError> {
        for (axis, empty) in [
            ("learners", self.learners.is_empty()),
            ("d", self.d.is_empty()),
            ("gamma", self.gamma.is_empty()),
            ("sgd_lr", self.sgd_lr.is_empty()),
            ("adam_lr", self.adam_lr.is_empty()),
        ] {
            ensure(!empty, axis, "[]", "a non-empty list")?;
        }
        for learner in &self.learners {
            ensure(
                matches!(learner, LearnerKind::Sgd | LearnerKind::Adam),
                "learners",
                learner,
                "sgd or adam (the students of SPEC §7)",
            )?;
        }
        ensure(self.gamma.windows(2).all(|w| w[0] < w[1]), "gamma", format!("{:?}", self.gamma), "increasing")?;
        ensure(self.gamma.contains(&self.width_scan.gamma), "width_scan.gamma", self.width_scan.gamma, "one of gamma")?;
        ensure(self.instances >= 1, "instances", self.instances, "an integer >= 1")?;
        ensure(self.first_steps >= 1, "first_steps", self.first_steps, "an integer >= 1")?;
        ensure(self.cap_flops.is_finite() && self.cap_flops > 0.0, "cap_flops", self.cap_flops, "a number > 0")?;
        for &d in &self.d {
            for &c in &self.gamma {
                problem(self, d, c)?;
            }
        }
        let options = LearnerOptions { batch: self.batch, ..LearnerOptions::default() };
        options.validate()?;
        Budget { steps: self.first_steps, seconds: None, train_samples: self.train_samples, n_test: self.n_test }
            .validate()
    }

    /// Every (learner, d) group.
    fn groups(&self) -> Vec<(LearnerKind, usize)> {
        self.learners.iter().flat_map(|&l| self.d.iter().map(move |&d| (l, d))).collect()
    }

    /// The learning-rate grid of `learner`.
    fn lrs(&self, learner: LearnerKind) -> &[f32] {
        match learner {
            LearnerKind::Adam => &self.adam_lr,
            _ => &self.sgd_lr,
        }
    }

    /// Every k'/k the study uses, increasing (instance numbers are laid out over them).
    fn ratios(&self) -> Vec<usize> {
        let mut r: Vec<usize> = self.width_scan.ratios.iter().copied().chain([self.width_ratio]).collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// The instance number of instance `i` of cell (d, γ, k'/k): every cell its own instances.
    fn instance(&self, d: usize, gamma: f64, ratio: usize, i: u32) -> u32 {
        let position = |found: Option<usize>| found.expect("a level of the grid") as u32;
        let (di, gi) =
            (position(self.d.iter().position(|&x| x == d)), position(self.gamma.iter().position(|&x| x == gamma)));
        let ri = position(self.ratios().iter().position(|&x| x == ratio));
        let cell = (di * self.gamma.len() as u32 + gi) * self.ratios().len() as u32 + ri;
        cell * self.instances + i
    }

    /// The width rule of every run at dimension d: N_tot bounds every sample a run can touch
    /// (a run of cost ≤ C draws at most C/(4d) samples, as k' ≥ 1), so the teacher of an
    /// instance is the same at every rung and width.
    fn rule(&self, d: usize) -> WidthRule {
        let steps = (self.cap_flops / (4.0 * d as f64 * self.batch as f64)).ceil() as u64 + self.first_steps;
        let held_out = self.n_test.max(self.n_validation).max(self.ridge_samples);
        run_width_rule(steps, self.batch, self.train_samples, held_out, CAP_DELTA).expect("a valid width rule")
    }

    /// FLOPs of one run of this grid's batch.
    fn run_flops(&self, d: usize, width: usize, steps: u64) -> f64 {
        run_flops(self.batch, d, width, steps)
    }
}

impl StoreGrid for ComputeGrid {
    fn is_published(file: &str) -> bool {
        matches!(file, "summary.md" | "ladders.csv") || file.ends_with(".svg")
    }
}

/// FLOPs of a student run: 4·B·d·k'·T (SPEC §7).
fn run_flops(batch: usize, d: usize, width: usize, steps: u64) -> f64 {
    4.0 * batch as f64 * d as f64 * width as f64 * steps as f64
}

/// γ = c·2√d, σ and the seed of a cell as a validated problem.
fn problem(grid: &ComputeGrid, d: usize, c: f64) -> Result<Problem, ParamError> {
    Problem::new(d, Some(c * 2.0 * (d as f64).sqrt()), None, Some(grid.sigma), NoiseModel::Gaussian, grid.seed)
}

/// What a ladder trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arm {
    /// The student from the standard initialisation (output layer zero).
    Student,
    /// The direction-known control: every neuron turned onto ±w, directions frozen.
    DirectionKnown,
}

/// The configuration and instance of one ladder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Student or direction-known control.
    pub arm: Arm,
    /// sgd or adam.
    pub learner: LearnerKind,
    /// Input dimension.
    pub d: usize,
    /// γ = c·2√d: this c.
    pub gamma_c: f64,
    /// k'/k.
    pub ratio: usize,
    /// Instance index within the cell (0..instances).
    pub index: u32,
}

impl Cell {
    fn key(&self) -> String {
        format!("{:?}|{}|{}|{}|{}|{}", self.arm, self.learner, self.d, self.gamma_c, self.ratio, self.index)
    }
}

/// One rung of a ladder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    /// Steps T of every run of the rung.
    pub steps: u64,
    /// One run per learning rate.
    pub tries: Vec<Try>,
    /// The learning rate kept (best validation Δ; a diverged run only when all diverged).
    pub kept_lr: f32,
}

/// A finished ladder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderRow {
    /// What ran.
    pub cell: Cell,
    /// The instance number (independent per cell).
    pub instance: u32,
    /// γ (lattice convention) and γ_s = γ/√(2π).
    pub gamma: f64,
    /// γ_s.
    pub gamma_s: f64,
    /// The teacher's width k.
    pub teacher_width: usize,
    /// The student's width k'.
    pub width: usize,
    /// Batch B.
    pub batch: usize,
    /// The rungs climbed.
    pub rungs: Vec<Rung>,
    /// The rung whose kept run learned on validation, if any.
    pub learned_rung: Option<usize>,
    /// The last rung's kept run on the test split.
    pub test: Scores<Judgement>,
    /// The null-label control (student arm): the kept rate and steps on null labels, on the
    /// null's test split.
    pub null: Option<Scores<Judgement>>,
    /// FLOPs of every run of the ladder (a diverged run counted to where it stopped).
    pub ladder_flops: f64,
    /// The kept run's training trace.
    pub trace: Vec<TracePoint>,
    /// Wall-clock seconds of the ladder and its null control.
    pub seconds: f64,
    /// What ran it.
    pub backend: BackendInfo,
    /// clwe-bench version.
    pub version: String,
}

impl LadderRow {
    /// Learned on validation and confirmed on the test split.
    pub fn learned(&self) -> bool {
        self.learned_rung.is_some() && self.test.learning.verdict == Verdict::Learned
    }

    /// Steps, samples and FLOPs of the run that learned.
    fn to_learn(&self) -> Option<(u64, u64, f64)> {
        let rung = &self.rungs[self.learned_rung.filter(|_| self.learned())?];
        let flops = run_flops(self.batch, self.cell.d, self.width, rung.steps);
        Some((rung.steps, rung.steps * self.batch as u64, flops))
    }
}

/// A row of the study.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ComputeRow {
    /// A ladder (student or direction-known).
    Ladder(Box<LadderRow>),
    /// The degree-2 ridge control on one instance of a (d, γ) cell.
    Ridge2 {
        /// γ = c·2√d: this c.
        gamma_c: f64,
        /// The run.
        run: Box<RunRecord>,
    },
}

impl StoredRow for ComputeRow {
    fn key(&self) -> String {
        match self {
            Self::Ladder(l) => l.cell.key(),
            Self::Ridge2 { gamma_c, run } => ridge_key(run.spec.d, *gamma_c, run.spec.instance),
        }
    }
}

fn ridge_key(d: usize, gamma_c: f64, instance: u32) -> String {
    format!("ridge2|{d}|{gamma_c}|{instance}")
}

/// The learner of `cell` at learning rate `lr`.
fn student(grid: &ComputeGrid, cell: &Cell, width: usize, lr: f32) -> Student {
    Student {
        width,
        batch: grid.batch,
        optimizer: match cell.learner {
            LearnerKind::Adam => Optimizer::adam(lr),
            _ => Optimizer::Sgd { lr: lr / width as f32 },
        },
        fixed_data: false,
        init: match cell.arm {
            Arm::Student => StudentInit::Standard,
            Arm::DirectionKnown => StudentInit::DirectionKnown,
        },
        schedule: Schedule::Cosine,
        output_init: 0.0,
        output_bias: OutputBias::TrainingMean,
        lr_grid: Vec::new(),
    }
}

/// An instance of `cell` labelled as `data` says, and its run context (steps set by the caller).
fn context<'a>(
    grid: &ComputeGrid,
    cell: &Cell,
    data: DataKind,
    engine: &'a dyn Engine,
) -> Result<(Instance, RunContext<'a>)> {
    let problem = problem(grid, cell.d, cell.gamma_c)?;
    let rule = grid.rule(cell.d);
    let instance = grid.instance(cell.d, cell.gamma_c, cell.ratio, cell.index);
    let inst = Instance::new(&problem, instance, data, rule);
    let budget = Budget { steps: 0, seconds: None, train_samples: grid.train_samples, n_test: grid.n_test };
    let trivial = RunContext::trivial_constant(&inst, &budget, rule, Deadline::NONE);
    Ok((inst, RunContext { engine, budget, trivial, rule, deadline: Deadline::NONE }))
}

/// Both views of a trained run on the test split, judged.
fn test_verdicts(run: &mut Trained<'_>, ctx: &RunContext<'_>) -> Result<Scores<Judgement>> {
    let scores = run.test_scores(ctx.budget.n_test, ctx.trivial)?;
    let judge = |e| judge_evaluation(e, run.diverged, false);
    Ok(Scores { learning: judge(&scores.learning), observed: judge(&scores.observed) })
}

/// Climbs the ladder of `cell` (see the module doc) and runs its null control.
fn run_ladder(grid: &ComputeGrid, cell: Cell, engine: &dyn Engine) -> Result<LadderRow> {
    let start = Instant::now();
    let (inst, mut ctx) = context(grid, &cell, DataKind::Planted, engine)?;
    let width = cell.ratio * inst.cap.width();
    let (mut rungs, mut ladder_flops, mut learned_rung) = (Vec::new(), 0.0, None);
    let mut steps = grid.first_steps;
    let mut kept = loop {
        ctx.budget.steps = steps;
        let Search { tries, kept, steps: run } =
            best_on_validation(&inst, &ctx, grid.lrs(cell.learner), grid.lr_extensions, grid.n_validation, |lr| {
                student(grid, &cell, width, lr)
            })?;
        ladder_flops += grid.run_flops(cell.d, width, run);
        rungs.push(Rung { steps, tries, kept_lr: kept.lr });
        let learned = kept.validation.verdict == Verdict::Learned;
        if learned {
            learned_rung = Some(rungs.len() - 1);
        }
        steps *= 2;
        if learned || grid.run_flops(cell.d, width, steps) > grid.cap_flops {
            break kept;
        }
    };
    let test = test_verdicts(&mut kept.run, &ctx)?;
    let null = match cell.arm {
        Arm::Student => {
            let (null_inst, mut null_ctx) = context(grid, &cell, DataKind::Null, engine)?;
            null_ctx.budget.steps = ctx.budget.steps;
            let mut run = student(grid, &cell, width, kept.lr).train(&null_inst, &null_ctx)?;
            Some(test_verdicts(&mut run, &null_ctx)?)
        }
        Arm::DirectionKnown => None,
    };
    let trace = std::mem::take(&mut kept.run.trace);
    Ok(LadderRow {
        cell,
        instance: inst.instance,
        gamma: inst.problem.gamma,
        gamma_s: inst.problem.gamma_s(),
        teacher_width: inst.cap.width(),
        width,
        batch: grid.batch,
        rungs,
        learned_rung,
        test,
        null,
        ladder_flops,
        trace,
        seconds: start.elapsed().as_secs_f64(),
        backend: engine.info(),
        version: version(),
    })
}

/// The degree-2 ridge control on the instance the student cells at (d, γ, `width_ratio`) use.
fn run_ridge2(grid: &ComputeGrid, d: usize, gamma_c: f64, index: u32, engine: &dyn Engine) -> Result<ComputeRow> {
    let problem = problem(grid, d, gamma_c)?;
    let spec = RunSpec {
        learner: LearnerKind::Ridge2,
        d,
        gamma: Some(problem.gamma),
        beta: None,
        sigma: Some(grid.sigma),
        noise: NoiseModel::Gaussian,
        seed: grid.seed,
        instance: grid.instance(d, gamma_c, grid.width_ratio, index),
        data: DataKind::Planted,
        budget: Budget { steps: 0, seconds: None, train_samples: grid.ridge_samples, n_test: grid.n_test },
        options: LearnerOptions::default(),
    };
    Ok(ComputeRow::Ridge2 { gamma_c, run: Box::new(run_one(&spec, engine)?) })
}

/// The ladders of a (arm, learner, d, γ, k'/k) cell among `rows`.
fn ladders(rows: &[ComputeRow], arm: Arm, learner: LearnerKind, d: usize, c: f64, ratio: usize) -> Vec<&LadderRow> {
    rows.iter()
        .filter_map(|r| match r {
            ComputeRow::Ladder(l) => Some(l.as_ref()),
            ComputeRow::Ridge2 { .. } => None,
        })
        .filter(|l| {
            let k = &l.cell;
            (k.arm, k.learner, k.d, k.gamma_c, k.ratio) == (arm, learner, d, c, ratio)
        })
        .collect()
}

/// Runs every missing ladder of this shard's (learner, d) groups into `dir`, then writes the
/// tables and figures from every results file there. `report` gets a line per finished row.
pub fn run_compute(
    dir: &Path,
    grid: &ComputeGrid,
    shard: Option<Shard>,
    mode: Mode,
    engine: &dyn Engine,
    mut report: impl FnMut(&str),
) -> Result<usize> {
    grid.validate()?;
    let file = shard.map_or(ResultsFile::Main, ResultsFile::Shard);
    let store = Store::open::<_, ComputeRow>(dir, grid, file, mode)?;
    let mut rows = DirRows::<ComputeRow>::read(dir)?.unique_rows();
    let mut ran = 0;
    let groups = match shard {
        // Cost of a group: a failing ladder's runs draw C/(4d) samples, so small d costs most.
        Some(shard) => shard.balanced(grid.groups(), |&(_, d)| 1.0 / d as f64),
        None => grid.groups(),
    };
    let mut append = |row: ComputeRow, rows: &mut Vec<ComputeRow>| -> Result<()> {
        store.append(&row)?;
        report(&row_line(&row));
        rows.push(row);
        ran += 1;
        Ok(())
    };
    for (learner, d) in groups {
        let mut cell_of = |arm, gamma_c, ratio, rows: &mut Vec<ComputeRow>| -> Result<usize> {
            for index in 0..grid.instances {
                let cell = Cell { arm, learner, d, gamma_c, ratio, index };
                if !rows.iter().any(|r| r.key() == cell.key()) {
                    append(ComputeRow::Ladder(Box::new(run_ladder(grid, cell, engine)?)), rows)?;
                }
            }
            Ok(ladders(rows, arm, learner, d, gamma_c, ratio).iter().filter(|l| l.learned()).count())
        };
        for arm in [Arm::Student, Arm::DirectionKnown] {
            for &c in &grid.gamma {
                if cell_of(arm, c, grid.width_ratio, &mut rows)? == 0 {
                    break;
                }
            }
        }
        if grid.width_scan.d.contains(&d) {
            for &ratio in &grid.width_scan.ratios {
                if 2 * cell_of(Arm::Student, grid.width_scan.gamma, ratio, &mut rows)? >= grid.instances as usize {
                    break;
                }
            }
        }
        if learner == grid.learners[0] {
            for &c in &grid.gamma {
                for index in 0..grid.instances {
                    if !rows.iter().any(|r| r.key() == ridge_key(d, c, grid.instance(d, c, grid.width_ratio, index))) {
                        append(run_ridge2(grid, d, c, index, engine)?, &mut rows)?;
                    }
                }
            }
        }
    }
    // Every file again: shards running side by side finish at different times, and the last
    // one to finish publishes the whole study.
    publish(dir, grid, &DirRows::<ComputeRow>::read(dir)?.unique_rows())?;
    Ok(ran)
}

/// A progress line for a finished row.
fn row_line(row: &ComputeRow) -> String {
    match row {
        ComputeRow::Ladder(l) => {
            let c = &l.cell;
            let outcome = match (l.learned(), l.to_learn()) {
                (true, Some((steps, _, _))) => format!("learned at T = {steps}"),
                _ => format!("not within the cap (last T = {})", l.rungs.last().map_or(0, |r| r.steps)),
            };
            format!(
                "{:?} {} d={} γ={}·2√d k'={} #{}: {outcome} ({:.1} s)",
                c.arm, c.learner, c.d, c.gamma_c, l.width, c.index, l.seconds
            )
        }
        ComputeRow::Ridge2 { gamma_c, run } => {
            format!("ridge2 d={} γ={gamma_c}·2√d #{}: {}", run.spec.d, run.spec.instance, run.judgement.verdict)
        }
    }
}

/// Nearest-rank median of values where `None` is "beyond the cap" (sorted last); `None` when
/// the median itself is beyond the cap.
fn censored_median(values: &[Option<f64>]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().map(|v| v.unwrap_or(f64::INFINITY)).collect();
    v.sort_by(f64::total_cmp);
    let m = *v.get(v.len().div_ceil(2).checked_sub(1)?)?;
    m.is_finite().then_some(m)
}

/// One γ level of a (learner, d) γ scan, summarised.
struct LevelSummary {
    learner: LearnerKind,
    d: usize,
    c: f64,
    gamma_s: f64,
    teacher_width: usize,
    width: usize,
    runs: usize,
    learned: usize,
    validation_only: usize,
    /// Samples to learn per instance (`None`: not within the cap).
    samples: Vec<Option<f64>>,
    /// FLOPs to learn per instance.
    flops: Vec<Option<f64>>,
    ladder_flops: Vec<f64>,
    kept_lrs: Vec<f32>,
    /// 1 − ρ² of the initial neuron best aligned with w, per instance (ρ = cos(v_j, w)).
    misalignment: Vec<f64>,
    direction_known: (usize, usize),
    ridge2: (usize, usize, f64),
}

fn summarise_levels(grid: &ComputeGrid, rows: &[ComputeRow]) -> Vec<LevelSummary> {
    let mut out = Vec::new();
    for (learner, d) in grid.groups() {
        for &c in &grid.gamma {
            let student = ladders(rows, Arm::Student, learner, d, c, grid.width_ratio);
            let Some(first) = student.first() else { continue };
            let known = ladders(rows, Arm::DirectionKnown, learner, d, c, grid.width_ratio);
            let ridge: Vec<&RunRecord> = rows
                .iter()
                .filter_map(|r| match r {
                    ComputeRow::Ridge2 { gamma_c, run } if *gamma_c == c && run.spec.d == d => Some(run.as_ref()),
                    _ => None,
                })
                .collect();
            let mut r: Vec<f64> = ridge.iter().map(|run| run.judgement.r).collect();
            r.sort_by(f64::total_cmp);
            out.push(LevelSummary {
                learner,
                d,
                c,
                gamma_s: first.gamma_s,
                teacher_width: first.teacher_width,
                width: first.width,
                runs: student.len(),
                learned: student.iter().filter(|l| l.learned()).count(),
                validation_only: student.iter().filter(|l| l.learned_rung.is_some() && !l.learned()).count(),
                samples: student.iter().map(|l| l.to_learn().map(|t| t.1 as f64)).collect(),
                flops: student.iter().map(|l| l.to_learn().map(|t| t.2)).collect(),
                ladder_flops: student.iter().map(|l| l.ladder_flops).collect(),
                kept_lrs: student.iter().filter_map(|l| l.learned_rung.map(|i| l.rungs[i].kept_lr)).collect(),
                misalignment: student.iter().map(|l| best_misalignment(grid, l)).collect(),
                direction_known: (known.iter().filter(|l| l.learned()).count(), known.len()),
                ridge2: (
                    ridge.iter().filter(|run| run.judgement.verdict == Verdict::Learned).count(),
                    ridge.len(),
                    r.get(r.len() / 2).copied().unwrap_or(f64::NAN),
                ),
            });
        }
    }
    out
}

/// 1 − ρ² of the best-aligned neuron of a student ladder's initialisation: max over j of
/// ρ_j² = ⟨v_j, w⟩²/‖v_j‖² (SPEC §9: the neuron whose signal exp(−4π²γ_s²(1 − ρ²)) is largest).
fn best_misalignment(grid: &ComputeGrid, l: &LadderRow) -> f64 {
    let d = l.cell.d;
    let w = crate::sampling::secret_direction(grid.seed, l.instance, d);
    let init = crate::backends::StudentParams::standard_init(d, l.width, grid.seed, l.instance);
    let best = init
        .v
        .chunks(d)
        .map(|v| {
            let (dot, norm2) = v
                .iter()
                .zip(&w)
                .fold((0.0, 0.0), |(dot, n), (&v, &w)| (dot + f64::from(v) * w, n + f64::from(v) * f64::from(v)));
            dot * dot / norm2
        })
        .fold(0.0, f64::max);
    1.0 - best
}

/// The median of 1 − ρ²_max over every instance of `levels` (`None` without instances).
fn median_misalignment(levels: &[&LevelSummary]) -> Option<f64> {
    let mut all: Vec<f64> = levels.iter().flat_map(|l| l.misalignment.iter().copied()).collect();
    all.sort_by(f64::total_cmp);
    all.get(all.len() / 2).copied()
}

/// A fitted slope of ln(samples to learn) against γ_s² with its bootstrap interval.
struct SlopeFit {
    levels: usize,
    slope: f64,
    ci95: Option<(f64, f64)>,
}

/// The least-squares slope of y on x (None for fewer than two distinct x).
fn slope(points: &[(f64, f64)]) -> Option<f64> {
    least_squares(points).map(|line| line.b)
}

/// ln(median samples to learn) against γ_s² over the levels whose median is within the cap and
/// above `floor` (the first rung's samples: a median there says only "at most this many");
/// the interval resamples each level's instances (a percentile bootstrap, fixed seed).
fn fit_slope(levels: &[&LevelSummary], floor: f64) -> Option<SlopeFit> {
    let points = |samples: &dyn Fn(&LevelSummary) -> Vec<Option<f64>>| -> Vec<(f64, f64)> {
        levels
            .iter()
            .filter_map(|l| {
                censored_median(&samples(l)).filter(|&m| m > floor).map(|m| (l.gamma_s * l.gamma_s, m.ln()))
            })
            .collect()
    };
    let observed = points(&|l| l.samples.clone());
    let fitted = slope(&observed)?;
    let rng = std::cell::RefCell::new(StdRng::seed_from_u64(0));
    let resample = |l: &LevelSummary| -> Vec<Option<f64>> {
        let n = l.samples.len();
        (0..n).map(|_| l.samples[rng.borrow_mut().random_range(0..n)]).collect()
    };
    let mut slopes: Vec<f64> = (0..BOOTSTRAP).filter_map(|_| slope(&points(&resample))).collect();
    slopes.sort_by(f64::total_cmp);
    let ci95 = (slopes.len() >= BOOTSTRAP / 2).then(|| {
        let at = |q: f64| slopes[((q * slopes.len() as f64) as usize).min(slopes.len() - 1)];
        (at(0.025), at(0.975))
    });
    Some(SlopeFit { levels: observed.len(), slope: fitted, ci95 })
}

/// SPEC §9's heuristic slope of ln(samples) against γ_s²: 4π²(1 − 1/d).
fn predicted_slope(d: usize) -> f64 {
    4.0 * std::f64::consts::PI.powi(2) * (1.0 - 1.0 / d as f64)
}

/// SPEC §9's heuristic width at γ = 2√d for a best initial neuron whose signal is e^(−e):
/// 8πd(1 − ρ²) = e with 1 − ρ² ≈ k'^(−2/(d−1)), so k' ≈ (8πd/e)^((d−1)/2). SPEC §9 takes e = 1;
/// weak learning (r ≥ 0.01) needs only e = ln 100.
fn predicted_width(d: usize, e: f64) -> f64 {
    (8.0 * std::f64::consts::PI * d as f64 / e).powf((d as f64 - 1.0) / 2.0)
}

/// A learning rate to 3 significant digits (an extended rate is computed in f32: 0.089999996).
fn short(lr: f32) -> String {
    let v = f64::from(lr);
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

fn sci(v: f64) -> String {
    format!("{v:.2e}")
}

fn rate(k: usize, n: usize) -> String {
    let (lo, hi) = wilson(k, n, Z95);
    format!("{k}/{n} [{lo:.2}, {hi:.2}]")
}

/// One line of `ladders.csv`.
#[derive(Serialize)]
struct CsvLine {
    arm: Arm,
    learner: LearnerKind,
    d: usize,
    gamma_c: f64,
    gamma: f64,
    gamma_s: f64,
    gamma_s2: f64,
    teacher_width: usize,
    width: usize,
    batch: usize,
    instance: u32,
    rungs: usize,
    learned_validation: bool,
    learned: bool,
    steps_to_learn: Option<u64>,
    samples_to_learn: Option<u64>,
    flops_to_learn: Option<f64>,
    ladder_flops: f64,
    kept_lr: Option<f32>,
    test_r: Option<f64>,
    null_verdict: Option<Verdict>,
    seconds: f64,
}

impl CsvLine {
    fn of(l: &LadderRow) -> Self {
        let to_learn = l.to_learn();
        Self {
            arm: l.cell.arm,
            learner: l.cell.learner,
            d: l.cell.d,
            gamma_c: l.cell.gamma_c,
            gamma: l.gamma,
            gamma_s: l.gamma_s,
            gamma_s2: l.gamma_s * l.gamma_s,
            teacher_width: l.teacher_width,
            width: l.width,
            batch: l.batch,
            instance: l.instance,
            rungs: l.rungs.len(),
            learned_validation: l.learned_rung.is_some(),
            learned: l.learned(),
            steps_to_learn: to_learn.map(|t| t.0),
            samples_to_learn: to_learn.map(|t| t.1),
            flops_to_learn: to_learn.map(|t| t.2),
            ladder_flops: l.ladder_flops,
            kept_lr: l.rungs.last().map(|r| r.kept_lr),
            test_r: Some(l.test.learning.r),
            null_verdict: l.null.map(|n| n.learning.verdict),
            seconds: l.seconds,
        }
    }
}

/// Writes `summary.md`, `ladders.csv` and the figures.
fn publish(dir: &Path, grid: &ComputeGrid, rows: &[ComputeRow]) -> Result<()> {
    let all: Vec<&LadderRow> = rows
        .iter()
        .filter_map(|r| match r {
            ComputeRow::Ladder(l) => Some(l.as_ref()),
            ComputeRow::Ridge2 { .. } => None,
        })
        .collect();
    let levels = summarise_levels(grid, rows);
    let mut md = header(grid);
    md += &level_tables(grid, &levels);
    md += &slope_table(grid, &levels);
    md += &width_table(grid, rows);
    md += &flops_table(grid, &levels);
    md += &null_control(&all);
    let lines: Vec<CsvLine> = all.iter().map(|l| CsvLine::of(l)).collect();
    crate::reporting::summary::write_csv(&dir.join("ladders.csv"), &lines).map_err(Error::io(dir))?;
    figures::draw(dir, grid, &levels, rows).map_err(|e| Error::io(dir)(std::io::Error::other(e.to_string())))?;
    write_file_atomically(&dir.join("summary.md"), md.as_bytes()).map_err(Error::io(dir))
}

fn header(grid: &ComputeGrid) -> String {
    format!(
        "# Compute to learn\n\n`clwe-bench sweep compute-to-learn` (grid fingerprint {}). Planted problem, \
         Gaussian label noise σ = {}, γ = c·2√d. Every (d, γ, k'/k) cell has {} independent instances \
         (seed {}); sgd, adam and the controls of a cell share them.\n\n\
         **Ladder**: B = {}, steps T = {}, {}, … while one run costs ≤ C = {} FLOPs \
         (4·B·d·k'·T, SPEC §7; the first rung always runs). Each rung trains once per learning rate \
         (sgd η/k' for η ∈ {:?}, adam {:?}; when the best is the largest or smallest tried, the grid \
         is extended by its ratio that way, up to {} more rates) with cosine decay to 0, the output layer started at 0 and c at the mean training label (so a run starts as the trivial predictor), judges each on \
         {} validation samples and keeps the best Δ; it stops when the kept run weakly learns on \
         validation. The kept run of the last rung is scored on {} test samples nothing was tuned on: \
         *learned* = validation learned and the test split confirms (SPEC §8: lower 99% bound of Δ \
         > max(0.01·Var f, 4·SE), so r < 0.01 is invisible). Samples to learn = T·B of the rung that \
         learned (a factor-2 grid); medians count instances not learned within the cap as beyond it.\n\n",
        grid.fingerprint(),
        grid.sigma,
        grid.instances,
        grid.seed,
        grid.batch,
        grid.first_steps,
        2 * grid.first_steps,
        sci(grid.cap_flops),
        grid.sgd_lr,
        grid.adam_lr,
        grid.lr_extensions,
        grid.n_validation,
        grid.n_test,
    )
}

/// Per learner: one line per (d, γ) of the γ scan, and the frontier.
fn level_tables(grid: &ComputeGrid, levels: &[LevelSummary]) -> String {
    const HEADERS: [&str; 14] = [
        "d",
        "γ",
        "γ_s",
        "γ_s²",
        "k",
        "k'",
        "learned (95% CI)",
        "validation only",
        "median samples",
        "median FLOPs",
        "ladder FLOPs (median)",
        "rates kept (sgd: η)",
        "direction known",
        "ridge2 (median r)",
    ];
    let mut md = String::new();
    for &learner in &grid.learners {
        md += &format!("## {learner}: the γ scan at k' = {}·k\n\n", grid.width_ratio);
        let body: Vec<Vec<String>> = levels.iter().filter(|l| l.learner == learner).map(level_row).collect();
        md += &markdown_table(&HEADERS, &body);
        md += &format!(
            "\nγ levels missing from a d were not run: no instance learned at a smaller γ. For d ∈ {:?} the \
             line at γ = {}·2√d is the width scan's k' = {}·k cell, run whatever the γ scan did.\n\n",
            grid.width_scan.d, grid.width_scan.gamma, grid.width_ratio
        );
        md += &frontier_line(grid, levels, learner);
    }
    md
}

/// One γ level of a learner as a row of [`level_tables`].
fn level_row(l: &LevelSummary) -> Vec<String> {
    let mut spent = l.ladder_flops.clone();
    spent.sort_by(f64::total_cmp);
    let mut lrs = l.kept_lrs.clone();
    lrs.sort_by(f32::total_cmp);
    lrs.dedup();
    vec![
        l.d.to_string(),
        format!("{}·2√d", l.c),
        format!("{:.3}", l.gamma_s),
        format!("{:.3}", l.gamma_s * l.gamma_s),
        l.teacher_width.to_string(),
        l.width.to_string(),
        rate(l.learned, l.runs),
        l.validation_only.to_string(),
        censored_median(&l.samples).map_or("> cap".into(), sci),
        censored_median(&l.flops).map_or("> cap".into(), sci),
        spent.get(spent.len() / 2).map_or("–".into(), |&v| sci(v)),
        lrs.iter().map(|&lr| short(lr)).collect::<Vec<_>>().join(", "),
        format!("{}/{}", l.direction_known.0, l.direction_known.1),
        format!("{}/{} ({:.3})", l.ridge2.0, l.ridge2.1, l.ridge2.2),
    ]
}

/// Where `learner` stops learning at each d: the last γ level that passes and the first that
/// does not (a level passes when more than half its instances learned).
fn frontier_line(grid: &ComputeGrid, levels: &[LevelSummary], learner: LearnerKind) -> String {
    let parts: Vec<String> = grid
        .d
        .iter()
        .filter_map(|&d| {
            let of_d: Vec<&LevelSummary> = levels.iter().filter(|l| l.learner == learner && l.d == d).collect();
            let passes = |l: &&LevelSummary| 2 * l.learned > l.runs;
            let last = of_d.iter().take_while(|l| passes(l)).last();
            let first_fail = of_d.iter().find(|l| !passes(l));
            (!of_d.is_empty()).then(|| match (last, first_fail) {
                (Some(p), Some(f)) => format!("d = {d}: γ_s {:.2} learned, {:.2} not", p.gamma_s, f.gamma_s),
                (Some(p), None) => format!("d = {d}: learned up to γ_s {:.2} (every level)", p.gamma_s),
                (None, Some(f)) => format!("d = {d}: not even γ_s {:.2}", f.gamma_s),
                (None, None) => format!("d = {d}: –"),
            })
        })
        .collect();
    format!(
        "**Frontier of {learner}** (within the cap): {} (a level passes when more than half its instances learned).\n\n",
        parts.join("; ")
    )
}

/// Fitted slopes of ln(samples to learn) against γ_s² beside SPEC §9's prediction.
fn slope_table(grid: &ComputeGrid, levels: &[LevelSummary]) -> String {
    let md = String::from(
        "## ln(samples to learn) against γ_s² at fixed d\n\nLeast squares over the γ levels whose median \
         is within the cap and above the first rung (a median there only bounds the samples from above); \
         the interval is a percentile bootstrap (2000 resamples of each level's instances). SPEC §9's \
         heuristic for a random direction, 1 − ρ² ≈ 1 − 1/d: slope 4π²(1 − 1/d). The same heuristic for the \
         initial neuron best aligned with w (1 − ρ²_max, computed from each instance's initialisation; \
         of order k'^(−2/(d−1))): slope 4π²(1 − ρ²_max).\n\n",
    );
    let headers = ["learner", "d", "levels", "slope", "95% CI", "4π²(1−1/d)", "1−ρ²_max (median)", "4π²(1−ρ²_max)"];
    let mut body = Vec::new();
    for (learner, d) in grid.groups() {
        let of: Vec<&LevelSummary> = levels.iter().filter(|l| l.learner == learner && l.d == d).collect();
        let fit = fit_slope(&of, (grid.first_steps * grid.batch as u64) as f64);
        let misaligned = median_misalignment(&of).unwrap_or(f64::NAN);
        body.push(vec![
            learner.to_string(),
            d.to_string(),
            fit.as_ref().map_or("< 2".into(), |f| f.levels.to_string()),
            fit.as_ref().map_or("–".into(), |f| format!("{:.2}", f.slope)),
            fit.and_then(|f| f.ci95).map_or("–".into(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}]")),
            format!("{:.1}", predicted_slope(d)),
            format!("{misaligned:.2e}"),
            format!("{:.1}", 4.0 * std::f64::consts::PI.powi(2) * misaligned),
        ]);
    }
    md + &markdown_table(&headers, &body) + "\n"
}

/// The width scan: learned per k'/k, and the width needed beside (8πd)^((d−1)/2).
fn width_table(grid: &ComputeGrid, rows: &[ComputeRow]) -> String {
    let scan = &grid.width_scan;
    let mut md = format!(
        "## Width needed at γ = {}·2√d\n\nk'/k ∈ {:?}, widened until at least half the instances learn; \
         SPEC §9's heuristic (at γ = 2√d, from the standard initialisation holding a useful neuron): \
         k' ≈ (8πd)^((d−1)/2) for a neuron explaining e⁻¹ of Var f; (8πd/ln 100)^((d−1)/2) for one \
         explaining the 1% that weak learning needs.\n\n",
        scan.gamma, scan.ratios
    );
    let mut headers: Vec<String> = vec!["learner".into(), "d".into(), "k".into()];
    headers.extend(scan.ratios.iter().map(|r| format!("k' = {r}k")));
    headers.extend(["width needed".into(), "(8πd)^((d−1)/2)".into(), "(8πd/ln 100)^((d−1)/2)".into()]);
    let mut body = Vec::new();
    for (learner, d) in grid.groups().into_iter().filter(|(_, d)| scan.d.contains(d)) {
        let mut line = vec![learner.to_string(), d.to_string(), String::new()];
        let mut needed = None;
        for &ratio in &scan.ratios {
            let cell = ladders(rows, Arm::Student, learner, d, scan.gamma, ratio);
            let learned = cell.iter().filter(|l| l.learned()).count();
            if let Some(l) = cell.first() {
                line[2] = l.teacher_width.to_string();
                if needed.is_none() && 2 * learned >= cell.len() {
                    needed = Some(l.width);
                }
            }
            line.push(if cell.is_empty() { "not run".into() } else { format!("{learned}/{}", cell.len()) });
        }
        line.push(needed.map_or(format!("> {}k", scan.ratios.last().copied().unwrap_or(0)), |w| w.to_string()));
        line.push(sci(predicted_width(d, 1.0)));
        line.push(sci(predicted_width(d, 100f64.ln())));
        body.push(line);
    }
    md += &markdown_table(&headers.iter().map(String::as_str).collect::<Vec<_>>(), &body);
    md + "\n"
}

/// Median FLOPs to learn against d, one line per (learner, γ form).
fn flops_table(grid: &ComputeGrid, levels: &[LevelSummary]) -> String {
    let mut md = String::from("## FLOPs to learn against d (median over instances, k' = ");
    md += &format!("{}·k)\n\n", grid.width_ratio);
    let mut headers = vec!["learner".to_string(), "γ".to_string()];
    headers.extend(grid.d.iter().map(|d| format!("d = {d}")));
    let mut body = Vec::new();
    for &learner in &grid.learners {
        for &c in &grid.gamma {
            let mut line = vec![learner.to_string(), format!("{c}·2√d")];
            line.extend(grid.d.iter().map(|&d| {
                levels
                    .iter()
                    .find(|l| (l.learner, l.d, l.c) == (learner, d, c))
                    .map_or("not run".into(), |l| censored_median(&l.flops).map_or("> cap".into(), sci))
            }));
            body.push(line);
        }
    }
    md += &markdown_table(&headers.iter().map(String::as_str).collect::<Vec<_>>(), &body);
    md + "\n"
}

/// The null-label control's false-positive rate in both views.
fn null_control(all: &[&LadderRow]) -> String {
    let nulls: Vec<&Scores<Judgement>> = all.iter().filter_map(|l| l.null.as_ref()).collect();
    let count = |view: fn(&Scores<Judgement>) -> Verdict| nulls.iter().filter(|n| view(n) == Verdict::Learned).count();
    let (learning, observed) = (count(|n| n.learning.verdict), count(|n| n.observed.verdict));
    format!(
        "## Null-label control\n\nEvery student ladder's kept learning rate and steps, trained on null labels \
         (ℓ = φ(U) + ξ, U independent of x) of the same instance and scored on the null's test split. \
         A \"learned\" there is a false positive; the rule's one-sided 99% bound allows about 1%.\n\n{}\n",
        markdown_table(
            &["view", "false positives (95% CI)"],
            &[
                vec!["against φ(U) (learning view)".into(), rate(learning, nulls.len())],
                vec!["against observed labels".into(), rate(observed, nulls.len())],
            ],
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::cpu::CpuEngine;

    fn small_grid() -> ComputeGrid {
        ComputeGrid {
            d: vec![4],
            gamma: vec![0.5],
            width_scan: WidthScan { d: vec![], gamma: 0.5, ratios: vec![] },
            instances: 1,
            batch: 256,
            first_steps: 64,
            cap_flops: 2f64.powi(27),
            n_validation: 8000,
            n_test: 20_000,
            ..ComputeGrid::preset(Scale::Cpu)
        }
    }

    #[test]
    fn rates_print_to_three_significant_digits() {
        assert_eq!(
            [short(0.089_999_996), short(0.003), short(30.0), short(0.27), short(1.0e-4)],
            ["0.09", "0.003", "30", "0.27", "0.0001"]
        );
    }

    #[test]
    fn medians_count_instances_beyond_the_cap_as_largest() {
        assert_eq!(censored_median(&[Some(4.0), None, Some(1.0)]), Some(4.0));
        assert_eq!(censored_median(&[Some(4.0), None, None]), None, "the median itself is beyond the cap");
        assert_eq!(censored_median(&[Some(2.0), Some(8.0), None, None]), Some(8.0), "nearest rank: the 2nd of 4");
        assert_eq!(censored_median(&[]), None);
    }

    fn level(c: f64, gamma_s: f64, samples: Vec<Option<f64>>) -> LevelSummary {
        LevelSummary {
            learner: LearnerKind::Adam,
            d: 4,
            c,
            gamma_s,
            teacher_width: 9,
            width: 36,
            runs: samples.len(),
            learned: samples.iter().flatten().count(),
            validation_only: 0,
            flops: samples.clone(),
            samples,
            ladder_flops: vec![],
            kept_lrs: vec![],
            misalignment: vec![],
            direction_known: (0, 0),
            ridge2: (0, 0, 0.0),
        }
    }

    #[test]
    fn the_slope_fit_recovers_an_exact_law_and_widens_with_spread() {
        // ln(samples) = 3 + 5·γ_s² exactly, the same at every instance: slope 5, interval a point.
        let law = |g: f64| (3.0 + 5.0 * g * g).exp();
        let levels: Vec<LevelSummary> = [0.3, 0.5, 0.7].iter().map(|&g| level(g, g, vec![Some(law(g)); 5])).collect();
        let fit = fit_slope(&levels.iter().collect::<Vec<_>>(), 0.0).unwrap();
        assert_eq!(fit.levels, 3);
        assert!((fit.slope - 5.0).abs() < 1e-9, "{}", fit.slope);
        let (lo, hi) = fit.ci95.unwrap();
        assert!((lo - 5.0).abs() < 1e-9 && (hi - 5.0).abs() < 1e-9);
        // Spread within levels widens the interval around the fitted slope; a level whose
        // median is beyond the cap drops out of the fit.
        let spread: Vec<LevelSummary> = [0.3, 0.5, 0.7, 0.9]
            .iter()
            .map(|&g| {
                let s =
                    if g > 0.8 { vec![None; 5] } else { [0.5, 0.8, 1.0, 1.25, 2.0].map(|f| Some(f * law(g))).to_vec() };
                level(g, g, s)
            })
            .collect();
        let fit = fit_slope(&spread.iter().collect::<Vec<_>>(), 0.0).unwrap();
        let (lo, hi) = fit.ci95.unwrap();
        assert_eq!(fit.levels, 3);
        assert!(lo < fit.slope && fit.slope < hi && hi - lo > 0.1, "{lo} {} {hi}", fit.slope);
        assert!(fit_slope(&spread[..1].iter().collect::<Vec<_>>(), 0.0).is_none(), "one level: no slope");
        // Levels whose median sits at the first rung only bound the samples: left out.
        let floored = fit_slope(&levels.iter().collect::<Vec<_>>(), law(0.3)).unwrap();
        assert_eq!(floored.levels, 2, "the level at the floor is left out");
        assert!((floored.slope - 5.0).abs() < 1e-9);
        assert!(fit_slope(&levels.iter().collect::<Vec<_>>(), law(0.5)).is_none(), "one level left: no slope");
    }

    #[test]
    fn the_direction_known_student_learns_what_it_is_given() {
        let grid = small_grid();
        for learner in [LearnerKind::Adam, LearnerKind::Sgd] {
            let cell = Cell { arm: Arm::DirectionKnown, learner, d: 4, gamma_c: 0.5, ratio: 4, index: 0 };
            let row = run_ladder(&grid, cell, &CpuEngine::new()).unwrap();
            eprintln!("{}", row_line(&ComputeRow::Ladder(Box::new(row.clone()))));
            assert!(row.learned(), "{learner}: {:?}", row.test);
            assert!(row.null.is_none(), "controls have no null run of their own");
        }
    }
}
