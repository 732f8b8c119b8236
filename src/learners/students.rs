//! Students trained by the compute engine (CPU or wgpu): SGD or Adam on a wide one-hidden-layer
//! ReLU network, from the standard initialisation or warm-started at the true network (which
//! must keep its zero error: a check of the optimiser and loss code).

use serde::{Deserialize, Serialize};

use super::{Details, Fit, Instance, Judgement, Learner, RunContext, Scores, evaluate_on, judge_evaluation};
use crate::backends::{
    DataSource, Directions, Evaluation, LrSchedule, Optimizer, Schedule, StudentParams, Teacher, TrainConfig, Trainer,
    View,
};
use crate::error::Error;
use crate::params::ParamError;
use crate::sampling::Split;

/// Steps between checks of the wall-clock budget and of divergence.
const CHECK_EVERY: u64 = 50;
/// Held-out samples behind each point of a training trace (the test split's first ones).
const TRACE_SAMPLES: u64 = 2_000;

/// One checkpoint of a training trace, taken after 1, 2, 4, … steps and at the end.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TracePoint {
    /// Steps done.
    pub steps: u64,
    /// Training samples drawn so far.
    pub samples: u64,
    /// Training loss ½·mean r² of the last step.
    #[serde(deserialize_with = "crate::nan::f32_or_nan")]
    pub loss: f32,
    /// Held-out Δ = MSE(trivial) − MSE(h) against f, on the first 2 000 test samples.
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub delta: f64,
    /// r = Δ / Var f on the same samples.
    #[serde(deserialize_with = "crate::nan::f64_or_nan")]
    pub r: f64,
}

/// Where a student starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StudentInit {
    /// The standard initialisation (output layer scaled by `output_init`, as for the next).
    Standard,
    /// The true network (`sgd-warm`): must keep its zero error.
    TrueNetwork,
    /// The standard initialisation with every neuron turned onto ±w, where it stays (the
    /// direction-known control of compute-to-learn): only biases and the output layer train.
    DirectionKnown,
}

/// A student network trained with SGD or Adam.
#[derive(Clone, Debug)]
pub struct Student {
    /// Width k' (ignored when started at the true network: the teacher's width is used).
    pub width: usize,
    /// Batch size B.
    pub batch: usize,
    /// SGD or Adam.
    pub optimizer: Optimizer,
    /// Train on a fixed set of `train_samples` samples instead of fresh ones.
    pub fixed_data: bool,
    /// Where training starts.
    pub init: StudentInit,
    /// The learning-rate schedule over the step budget.
    pub schedule: Schedule,
    /// The standard initial output layer (a, c) is multiplied by this (0: start at the zero
    /// function, so the student's initial error is the target's variance, not ~3 times it).
    pub output_init: f32,
    /// Where the output bias c starts.
    pub output_bias: OutputBias,
    /// Learning rates to try (the rate of `optimizer` is replaced by each): the run with the
    /// largest Δ on the validation split is kept and scored on the test split. Empty: one run
    /// at `optimizer`'s rate.
    pub lr_grid: Vec<f32>,
}

/// Validation samples judging each run of a learning-rate search (at most the test size).
pub const VALIDATION_SAMPLES: u64 = 20_000;

/// One run of a learning-rate search, judged on the validation split.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Try {
    /// Its learning rate (as the search's grid gives it).
    pub lr: f32,
    /// The validation verdict (learning view).
    pub validation: Judgement,
}

/// The run a learning-rate search keeps.
pub struct Kept<'a> {
    /// The run.
    pub run: Trained<'a>,
    /// Its learning rate (as the grid gives it).
    pub lr: f32,
    /// Its validation verdict.
    pub validation: Judgement,
}

/// A learning-rate search: every try, the run kept and the steps all runs took.
pub struct Search<'a> {
    /// One per rate.
    pub tries: Vec<Try>,
    /// The run kept.
    pub kept: Kept<'a>,
    /// Steps taken by all runs together (a diverged run stops early).
    pub steps: u64,
}

/// Rates a sweep's learning-rate search (`lr_grid`, `adam_lr_grid`) may add beyond the ends of
/// its grid.
pub const LR_EXTENSIONS: usize = 2;

/// Trains `student(lr)` for each rate of `lrs` and keeps the run with the largest validation Δ
/// (SPEC §7's hygiene, §8's split: the test split is not read); a diverged run is kept only
/// when every run diverged. When the kept rate is the largest (smallest) tried, the grid is
/// extended by its own outermost ratio in that direction, up to `max_extensions` rates in all,
/// so that the best rate is not cut off by the grid's edge.
pub fn best_on_validation<'a>(
    inst: &Instance,
    ctx: &RunContext<'a>,
    lrs: &[f32],
    max_extensions: usize,
    n_validation: u64,
    student: impl Fn(f32) -> Student,
) -> Result<Search<'a>, Error> {
    let mut sorted = lrs.to_vec();
    sorted.sort_by(f32::total_cmp);
    let (mut tries, mut steps, mut extensions) = (Vec::new(), 0, 0);
    let mut kept: Option<Kept<'a>> = None;
    let mut queue: Vec<f32> = sorted.iter().rev().copied().collect();
    while let Some(lr) = queue.pop() {
        let mut run = student(lr).train(inst, ctx)?;
        steps += run.steps;
        let params = run.trainer.student()?;
        let predict = |x: &[f64]| params.eval(&x.iter().map(|&v| v as f32).collect::<Vec<f32>>());
        let e = evaluate_on(inst, ctx, Split::Validation, n_validation, predict).learning;
        let validation = judge_evaluation(&e, run.diverged, false);
        tries.push(Try { lr, validation });
        let better = match &kept {
            None => true,
            Some(k) => !run.diverged && (k.run.diverged || validation.delta > k.validation.delta),
        };
        if better {
            kept = Some(Kept { run, lr, validation });
        }
        if queue.is_empty() && extensions < max_extensions && sorted.len() >= 2 {
            let k = kept.as_ref().filter(|k| !k.run.diverged).map(|k| k.lr);
            let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
            let next = match k {
                Some(lr) if lr == high => Some(high * (high / sorted[sorted.len() - 2])),
                Some(lr) if lr == low => Some(low / (sorted[1] / low)),
                _ => None,
            };
            if let Some(next) = next {
                extensions += 1;
                sorted.push(next);
                sorted.sort_by(f32::total_cmp);
                queue.push(next);
            }
        }
    }
    let kept = kept.ok_or_else(|| ParamError {
        name: "learning-rate grid".into(),
        value: "[]".into(),
        expected: "at least one rate".into(),
    })?;
    Ok(Search { tries, kept, steps })
}

/// Where a student's output bias c starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OutputBias {
    /// The initialisation's c (0, scaled by `output_init`).
    #[default]
    Initial,
    /// The mean training label: with a zero output layer the student starts as the trivial
    /// predictor (r = 0) instead of a constant 0 (r ≈ −3 for the triangle wave's mean ¼).
    TrainingMean,
}

impl OutputBias {
    /// Whether c starts at the initialisation's value (the default, which options leave out).
    pub fn is_initial(&self) -> bool {
        *self == Self::Initial
    }
}

/// A finished training run: the trainer (holding the student) and what happened on the way.
pub struct Trained<'a> {
    /// The trainer, for evaluations.
    pub trainer: Box<dyn Trainer + 'a>,
    /// What it trained.
    pub config: TrainConfig,
    /// Steps taken.
    pub steps: u64,
    /// Training samples used.
    pub samples: u64,
    /// Device seconds, where measured.
    pub device_s: Option<f64>,
    /// The loss became NaN or ∞.
    pub diverged: bool,
    /// The wall-clock budget ran out first.
    pub timed_out: bool,
    /// Held-out Δ and loss at log-spaced steps.
    pub trace: Vec<TracePoint>,
}

/// What a student run records besides the shared fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudentDetails {
    /// Width k' (the teacher's width when warm-started).
    pub width: usize,
    /// Batch size B.
    pub batch: usize,
    /// The update rule, with the learning rate actually used.
    pub optimizer: Optimizer,
    /// Online or fixed data.
    pub data: DataSource,
    /// Started at the true network.
    pub warm_start: bool,
    /// The learning-rate schedule (absent in rows written before schedules existed: constant).
    #[serde(default, skip_serializing_if = "Schedule::is_constant")]
    pub schedule: Schedule,
    /// The initial output layer's scale (absent before the option existed: 1).
    #[serde(default = "super::one", skip_serializing_if = "super::is_one")]
    pub output_init: f32,
    /// Held-out Δ and training loss at log-spaced steps (absent in rows written before traces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TracePoint>,
    /// The learning-rate search on the validation split, when the run had a grid of rates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lr_search: Vec<Try>,
}

impl Student {
    /// The initial network for `inst`.
    fn initial(&self, inst: &Instance, teacher: &Teacher, trivial: f64) -> StudentParams {
        let (d, seed, instance) = (inst.problem.d, inst.problem.seed, inst.instance);
        let mut init = match self.init {
            StudentInit::TrueNetwork => return StudentParams::capped_triangle(&teacher.w, teacher.gamma_s, inst.cap),
            StudentInit::DirectionKnown => StudentParams::direction_known(&teacher.w, self.width, seed, instance),
            StudentInit::Standard => StudentParams::standard_init(d, self.width, seed, instance),
        };
        init.a.iter_mut().for_each(|a| *a *= self.output_init);
        init.c = match self.output_bias {
            OutputBias::Initial => init.c * self.output_init,
            OutputBias::TrainingMean => trivial as f32,
        };
        init
    }

    /// Trains on `inst` for the budget's steps (or until divergence or the deadline), recording
    /// a trace on the first test samples; evaluation is left to the caller.
    pub fn train<'a>(&self, inst: &Instance, ctx: &RunContext<'a>) -> Result<Trained<'a>, Error> {
        let d = inst.problem.d;
        let teacher = inst.teacher();
        let init = self.initial(inst, &teacher, ctx.trivial);
        // At the true network the loss Hessian grows like d·k (output weights ±2 on 4M+1 active
        // neurons), so a warm start scales SGD's step by 1/(d·k) to stay below 2/λ_max.
        let optimizer = match (self.optimizer, self.init) {
            (Optimizer::Sgd { lr }, StudentInit::TrueNetwork) => Optimizer::Sgd { lr: lr / (d * init.width()) as f32 },
            (other, _) => other,
        };
        let config = TrainConfig {
            d,
            width: init.width(),
            batch: self.batch,
            data: if self.fixed_data { DataSource::Fixed { m: ctx.budget.train_samples } } else { DataSource::Online },
            optimizer,
            schedule: LrSchedule { kind: self.schedule, steps: ctx.budget.steps },
            directions: match self.init {
                StudentInit::DirectionKnown => Directions::Frozen,
                StudentInit::Standard | StudentInit::TrueNetwork => Directions::Trained,
            },
            teacher,
        };
        let mut trainer = ctx.engine.trainer(&config, &init)?;
        let (mut device, mut diverged, mut timed_out) = (None::<f64>, false, false);
        let (mut trace, mut next_trace) = (Vec::new(), 1u64);
        let samples_after =
            |steps: u64| if self.fixed_data { ctx.budget.train_samples } else { steps * self.batch as u64 };
        while trainer.steps_done() < ctx.budget.steps {
            let done = trainer.steps_done();
            let n = (ctx.budget.steps - done).min(CHECK_EVERY).min(next_trace - done);
            let timing = trainer.timed_steps(n)?;
            if let Some(t) = timing.device {
                *device.get_or_insert(0.0) += t.as_secs_f64();
            }
            if !timing.loss.is_finite() {
                diverged = true;
                break;
            }
            let done = trainer.steps_done();
            if done == next_trace || done == ctx.budget.steps {
                let e = trainer.evaluate(TRACE_SAMPLES.min(ctx.budget.n_test), ctx.trivial as f32, View::Learning)?;
                let (delta, samples) = (e.delta(), samples_after(done));
                trace.push(TracePoint { steps: done, samples, loss: timing.loss, delta, r: delta / e.var_target });
                next_trace = (2 * done).max(next_trace);
            }
            if ctx.deadline.expired() {
                timed_out = trainer.steps_done() < ctx.budget.steps;
                break;
            }
        }
        let steps = trainer.steps_done();
        Ok(Trained {
            trainer,
            config,
            steps,
            samples: samples_after(steps),
            device_s: device,
            diverged,
            timed_out,
            trace,
        })
    }
}

impl Trained<'_> {
    /// Held-out scores on the first `n` test samples in both views.
    pub fn test_scores(&mut self, n: u64, trivial: f64) -> Result<Scores<Evaluation>, Error> {
        Ok(Scores {
            learning: self.trainer.evaluate(n, trivial as f32, View::Learning)?,
            observed: self.trainer.evaluate(n, trivial as f32, View::Observed)?,
        })
    }
}

impl Learner for Student {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let (mut run, lr_search) = if self.lr_grid.is_empty() {
            (self.train(inst, ctx)?, Vec::new())
        } else {
            let n_validation = VALIDATION_SAMPLES.min(ctx.budget.n_test);
            let search = best_on_validation(inst, ctx, &self.lr_grid, LR_EXTENSIONS, n_validation, |lr| Student {
                optimizer: self.optimizer.with_lr(lr),
                ..self.clone()
            })?;
            (search.kept.run, search.tries)
        };
        let scores = run.test_scores(ctx.budget.n_test, ctx.trivial)?;
        Ok(Fit {
            scores,
            samples: run.samples,
            steps: run.steps,
            device_s: run.device_s,
            diverged: run.diverged,
            timed_out: run.timed_out,
            details: Details::Student(StudentDetails {
                width: run.config.width,
                batch: self.batch,
                optimizer: run.config.optimizer,
                data: run.config.data,
                warm_start: self.init == StudentInit::TrueNetwork,
                schedule: self.schedule,
                output_init: self.output_init,
                trace: run.trace,
                lr_search,
            }),
            ..Fit::default()
        })
    }
}
