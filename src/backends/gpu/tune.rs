//! The GEMM tuner: which [`GemmVariant`] the two products of a trainer use.
//!
//! On first use per (adapter, shape class) it runs every variant the adapter can on a few
//! training steps of that shape, with the trainer's own options (in-kernel sampling changes
//! what a product costs) — first checking that one step gives the default variant's
//! student (a variant whose assumptions the adapter breaks is dropped), then timing: device time
//! from timestamp queries where the adapter has them, wall time otherwise, best of [`REPEATS`] —
//! keeps the fastest and caches the choice: for the
//! process in the [`GpuContext`], and on disk in `gemm-tuning.json` under the user's cache
//! directory (`~/.cache/clwe-bench` on Linux; `CLWE_BENCH_CACHE_DIR` moves it), keyed by
//! adapter, API and driver, so a driver update tunes again. `CLWE_BENCH_TUNE` sets the policy:
//! `auto` (default) tunes hardware adapters and gives software adapters the default variant,
//! `always` tunes every adapter, `never` none. The choice is recorded with every result
//! ([`crate::backends::BackendInfo::gemm`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::GpuContext;
use super::kernels::GemmVariant;
use super::trainer::{GpuOptions, GpuTrainer};
use crate::backends::{DataSource, Phase, StudentParams, TrainConfig, Trainer};
use crate::error::Error;

/// Timed repeats per variant; the fastest counts.
pub const REPEATS: usize = 3;
/// Steps per timed repeat.
const STEPS: u64 = 4;
/// The cache file's name in the cache directory.
const CACHE_FILE: &str = "gemm-tuning.json";

/// Runs that share a choice: d, k' and the batch, each rounded up to a power of two, and
/// whether the products generate their inputs in-kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShapeClass {
    d: usize,
    width: usize,
    batch: usize,
    fused: bool,
}

impl ShapeClass {
    /// The class of a trainer of `config` with `options`.
    pub fn of(config: &TrainConfig, options: &GpuOptions) -> Self {
        Self {
            d: config.d.next_power_of_two(),
            width: config.width.next_power_of_two(),
            batch: config.batch.next_power_of_two(),
            fused: config.data == DataSource::Online && options.fused_sampling,
        }
    }
}

impl std::fmt::Display for ShapeClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "d<={} k'<={} B<={}", self.d, self.width, self.batch)?;
        if self.fused { write!(f, " fused") } else { Ok(()) }
    }
}

/// How a choice was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "how")]
pub enum How {
    /// Every variant the adapter runs timed; milliseconds per step of each, the fastest chosen.
    Timed {
        /// (variant, ms per step), in [`GemmVariant::ALL`] order.
        ms_per_step: Vec<(GemmVariant, f64)>,
        /// Device time (timestamp queries) rather than wall time.
        device_clock: bool,
        /// Variants whose step disagreed with the default's, dropped untimed.
        disagreed: Vec<GemmVariant>,
    },
    /// The default variant, untimed.
    Default {
        /// Why no variant was timed.
        reason: String,
    },
}

/// The variant chosen for one shape class, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// The variant the products use.
    pub variant: GemmVariant,
    /// How it was chosen.
    #[serde(flatten)]
    pub how: How,
}

impl Tuning {
    fn default_because(reason: &str) -> Self {
        Self { variant: GemmVariant::DEFAULT, how: How::Default { reason: reason.into() } }
    }
}

impl std::fmt::Display for Tuning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.how {
            How::Default { reason } => write!(f, "{} (default: {reason})", self.variant),
            How::Timed { ms_per_step, device_clock, disagreed } => {
                let times: Vec<String> = ms_per_step.iter().map(|(v, ms)| format!("{}: {ms:.3}", v.short())).collect();
                let clock = if *device_clock { "device" } else { "wall" };
                write!(f, "{} (tuned, {clock} ms/step {}", self.variant, times.join(", "))?;
                if !disagreed.is_empty() {
                    let names: Vec<String> = disagreed.iter().map(|v| v.short()).collect();
                    write!(f, "; dropped, disagreeing with the default: {}", names.join(", "))?;
                }
                write!(f, ")")
            }
        }
    }
}

/// `CLWE_BENCH_TUNE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    Auto,
    Always,
    Never,
}

impl Policy {
    fn from_env() -> Self {
        match std::env::var("CLWE_BENCH_TUNE").as_deref() {
            Ok("always") => Self::Always,
            Ok("never") => Self::Never,
            Ok("auto") | Err(_) => Self::Auto,
            Ok(other) => {
                eprintln!("warning: CLWE_BENCH_TUNE={other} is not auto, always or never; using auto");
                Self::Auto
            }
        }
    }
}

/// The variant for a trainer of `config` with `options` on `ctx`: from this process's choices,
/// else the disk cache, else timed now (or the default, as the policy says).
pub fn choice(ctx: &GpuContext, config: &TrainConfig, options: &GpuOptions) -> Result<Tuning, Error> {
    let class = ShapeClass::of(config, options);
    // Held while tuning, so two trainers of one class never both time it.
    let mut chosen = ctx.tunings.lock().unwrap();
    if let Some(t) = chosen.get(&class) {
        return Ok(t.clone());
    }
    let tuning = match Policy::from_env() {
        Policy::Never => Tuning::default_because("CLWE_BENCH_TUNE=never"),
        Policy::Auto if !ctx.is_hardware() => {
            Tuning::default_because("software adapter, not tuned; CLWE_BENCH_TUNE=always tunes it")
        }
        Policy::Auto | Policy::Always => cached_or_measured(ctx, config, options, class)?,
    };
    chosen.insert(class, tuning.clone());
    Ok(tuning)
}

/// The disk cache's choice for `class` on this adapter (one it can still run), else a fresh
/// measurement, written back to the cache.
fn cached_or_measured(
    ctx: &GpuContext,
    config: &TrainConfig,
    options: &GpuOptions,
    class: ShapeClass,
) -> Result<Tuning, Error> {
    let cache = cache_path().map(|path| TuningCache::load(&path).map(|c| (path, c)));
    let cache = cache.transpose().unwrap_or_else(|e| {
        eprintln!("warning: GEMM tuning cache unreadable, tuning again: {e}");
        None
    });
    let key = adapter_key(ctx);
    if let Some(t) = cache.as_ref().and_then(|(_, c)| c.get(&key, class)).filter(|t| t.variant.runs_on(ctx)) {
        return Ok(t);
    }
    eprintln!("tuning the GEMM for {class} on {} ...", ctx.info.name);
    let tuning = measure(ctx, config, options)?;
    eprintln!("  {tuning}");
    if let Some((path, mut c)) = cache {
        c.insert(&key, class, tuning.clone());
        if let Err(e) = c.save(&path) {
            eprintln!("warning: could not write {}: {e}", path.display());
        }
    }
    Ok(tuning)
}

/// Runs every variant the adapter can on a trainer of `config` with `options`: one step from the
/// same student and data, compared with the default variant's (see [`agrees`]), then the best
/// of [`REPEATS`] timed runs of a few steps; picks the fastest of those that agree.
pub fn measure(ctx: &GpuContext, config: &TrainConfig, options: &GpuOptions) -> Result<Tuning, Error> {
    let init = StudentParams::standard_init(config.d, config.width, config.teacher.seed, config.teacher.instance);
    let (mut ms_per_step, mut disagreed) = (Vec::new(), Vec::new());
    let mut reference: Option<StudentParams> = None;
    let mut device_clock = true;
    for variant in GemmVariant::ALL.into_iter().filter(|v| v.runs_on(ctx)) {
        let options = GpuOptions { gemm: Some(variant), ..*options };
        let mut trainer = GpuTrainer::new(ctx, config, &init, options)?;
        trainer.run_phase(Phase::Step, 1)?;
        let stepped = trainer.student()?;
        match &reference {
            None => reference = Some(stepped),
            Some(r) if !agrees(r, &stepped) => {
                eprintln!("  {} disagrees with the default variant on {}: dropped", variant.short(), ctx.info.name);
                disagreed.push(variant);
                continue;
            }
            Some(_) => {}
        }
        let mut best = f64::INFINITY;
        for _ in 0..REPEATS {
            let timing = trainer.run_phase(Phase::Step, STEPS)?;
            device_clock &= timing.device.is_some();
            let seconds = timing.device.unwrap_or(timing.wall).as_secs_f64();
            best = best.min(1e3 * seconds / STEPS as f64);
        }
        ms_per_step.push((variant, best));
    }
    let (variant, _) = *ms_per_step
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .ok_or_else(|| Error::NoAdapter(format!("{} runs no GEMM variant", ctx.info.name)))?;
    Ok(Tuning { variant, how: How::Timed { ms_per_step, device_clock, disagreed } })
}

/// Whether two students after the same step agree to 10⁻⁴ of the largest parameter: different
/// tilings sum in different orders (~10⁻⁶ apart), a broken one is off by O(1).
pub fn agrees(a: &StudentParams, b: &StudentParams) -> bool {
    let params = |s: &StudentParams| [s.v.as_slice(), &s.b, &s.a, std::slice::from_ref(&s.c)].concat();
    let (a, b) = (params(a), params(b));
    let scale = a.iter().fold(0f32, |m, x| m.max(x.abs())).max(f32::MIN_POSITIVE);
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-4 * scale)
}

/// What the context's products use so far, one entry per shape class: recorded with results.
pub fn summary(ctx: &GpuContext) -> String {
    let chosen = ctx.tunings.lock().unwrap();
    if chosen.is_empty() {
        return format!("{} until tuned", GemmVariant::DEFAULT);
    }
    chosen.iter().map(|(class, t)| format!("{class}: {t}")).collect::<Vec<_>>().join("; ")
}

/// The cache's key for an adapter: name, API and driver, as results record them.
fn adapter_key(ctx: &GpuContext) -> String {
    let info = super::backend_info(&ctx.info);
    format!("{} | {} | {}", info.adapter, info.api, info.driver)
}

/// The cache file: `CLWE_BENCH_CACHE_DIR`, else the user's cache directory; none if neither.
fn cache_path() -> Option<PathBuf> {
    let dir = std::env::var_os("CLWE_BENCH_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("clwe-bench")))?;
    Some(dir.join(CACHE_FILE))
}

/// The on-disk cache: adapter key → shape class → choice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TuningCache {
    adapters: BTreeMap<String, BTreeMap<String, Tuning>>,
}

impl TuningCache {
    /// The cache at `path` (empty if the file does not exist).
    pub fn load(path: &Path) -> Result<Self, Error> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::io(path)(std::io::Error::other(e))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(path)(e)),
        }
    }

    /// Writes it to `path` atomically, creating the directory.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        let json = serde_json::to_vec_pretty(self).expect("tunings serialise");
        crate::reporting::atomic::write_file_atomically(path, &json).map_err(Error::io(path))
    }

    /// The choice for `class` on the adapter `key`.
    pub fn get(&self, key: &str, class: ShapeClass) -> Option<Tuning> {
        self.adapters.get(key)?.get(&class.to_string()).cloned()
    }

    /// Records a choice.
    pub fn insert(&mut self, key: &str, class: ShapeClass, tuning: Tuning) {
        self.adapters.entry(key.into()).or_default().insert(class.to_string(), tuning);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_agrees_within_rounding_and_not_beyond() {
        let a = StudentParams::standard_init(5, 7, 1, 0);
        let mut rounding = a.clone();
        rounding.v[3] *= 1.0 + 1e-6;
        assert!(agrees(&a, &rounding));
        let mut broken = a.clone();
        broken.a[2] += 0.01;
        assert!(!agrees(&a, &broken));
        let mut off_by_c = a.clone();
        off_by_c.c += 1.0;
        assert!(!agrees(&a, &off_by_c));
    }

    #[test]
    fn shape_classes_round_each_size_up_to_a_power_of_two_and_tell_fused_sampling_apart() {
        use crate::experiments::bench_step::{StepData, bench_config};
        let class = |d, width, batch, fused| ShapeClass { d, width, batch, fused };
        let mut config = bench_config(100, 1000, 4096, StepData::Fresh).unwrap();
        let (plain, fused) = (GpuOptions::default(), GpuOptions { fused_sampling: true, ..GpuOptions::default() });
        assert_eq!(ShapeClass::of(&config, &plain), class(128, 1024, 4096, false));
        assert_eq!(ShapeClass::of(&config, &fused), class(128, 1024, 4096, true));
        config.batch = 4097;
        assert_eq!(ShapeClass::of(&config, &fused).to_string(), "d<=128 k'<=1024 B<=8192 fused");
        // A fixed training set is stored, whatever the options say.
        let fixed = bench_config(100, 1000, 4096, StepData::Fixed).unwrap();
        assert_eq!(ShapeClass::of(&fixed, &fused), class(128, 1024, 4096, false));
    }
}
