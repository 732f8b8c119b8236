//! Students trained by the compute engine (CPU or wgpu): SGD or Adam on a wide one-hidden-layer
//! ReLU network, from the standard initialisation or warm-started at the true network (which
//! must keep its zero error: a check of the optimiser and loss code).

use serde::{Deserialize, Serialize};

use super::{Details, Fit, Instance, Learner, RunContext, Scores};
use crate::backends::{DataSource, LrSchedule, Optimizer, Schedule, StudentParams, TrainConfig, View};
use crate::error::Error;

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
    pub loss: f32,
    /// Held-out Δ = MSE(trivial) − MSE(h) against f, on the first 2 000 test samples.
    pub delta: f64,
    /// r = Δ / Var f on the same samples.
    pub r: f64,
}

/// A student network trained with SGD or Adam.
#[derive(Clone, Debug)]
pub struct Student {
    /// Width k' (ignored when warm-started: the teacher's width is used).
    pub width: usize,
    /// Batch size B.
    pub batch: usize,
    /// SGD or Adam.
    pub optimizer: Optimizer,
    /// Train on a fixed set of `train_samples` samples instead of fresh ones.
    pub fixed_data: bool,
    /// Start at the true network instead of the standard initialisation.
    pub warm_start: bool,
    /// The learning-rate schedule over the step budget.
    pub schedule: Schedule,
    /// The standard initial output layer (a, c) is multiplied by this (0: start at the zero
    /// function, so the student's initial error is the target's variance, not ~3 times it).
    pub output_init: f32,
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
}

impl Learner for Student {
    fn fit(&self, inst: &Instance, ctx: &RunContext<'_>) -> Result<Fit, Error> {
        let d = inst.problem.d;
        let teacher = inst.teacher();
        let init = if self.warm_start {
            StudentParams::capped_triangle(&teacher.w, teacher.gamma_s, inst.cap)
        } else {
            let mut init = StudentParams::standard_init(d, self.width, inst.problem.seed, inst.instance);
            init.a.iter_mut().for_each(|a| *a *= self.output_init);
            init.c *= self.output_init;
            init
        };
        // At the true network the loss Hessian grows like d·k (output weights ±2 on 4M+1 active
        // neurons), so a warm start scales SGD's step by 1/(d·k) to stay below 2/λ_max.
        let optimizer = match (self.optimizer, self.warm_start) {
            (Optimizer::Sgd { lr }, true) => Optimizer::Sgd { lr: lr / (d * init.width()) as f32 },
            (other, _) => other,
        };
        let config = TrainConfig {
            d,
            width: init.width(),
            batch: self.batch,
            data: if self.fixed_data { DataSource::Fixed { m: ctx.budget.train_samples } } else { DataSource::Online },
            optimizer,
            schedule: LrSchedule { kind: self.schedule, steps: ctx.budget.steps },
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
        let (n, trivial) = (ctx.budget.n_test, ctx.trivial as f32);
        let scores = Scores {
            learning: trainer.evaluate(n, trivial, View::Learning)?,
            observed: trainer.evaluate(n, trivial, View::Observed)?,
        };
        Ok(Fit {
            scores,
            samples: samples_after(steps),
            steps,
            device_s: device,
            diverged,
            timed_out,
            details: Details::Student(StudentDetails {
                width: config.width,
                batch: self.batch,
                optimizer: config.optimizer,
                data: config.data,
                warm_start: self.warm_start,
                schedule: self.schedule,
                output_init: self.output_init,
                trace,
            }),
            ..Fit::default()
        })
    }
}
