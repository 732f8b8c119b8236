//! The native CPU backend: multi-threaded (rayon), matrix products by [`gemm::sgemm`] (a packed
//! AVX-512 kernel, or `matrixmultiply` on CPUs without AVX-512), vectorised Philox and Box–Muller, and no
//! allocation in the step loop. It is the default without a hardware GPU and the reference the
//! WGSL kernels are tested against.

pub mod gemm;
pub mod generate;
pub mod simd;
pub mod step;
pub mod teacher;

use crate::backends::{BackendInfo, Engine, StudentParams, TrainConfig, Trainer};
use crate::error::Error;

/// The CPU engine.
#[derive(Clone, Debug, Default)]
pub struct CpuEngine;

impl CpuEngine {
    /// The engine (uses rayon's global pool; `RAYON_NUM_THREADS` and `MATMUL_NUM_THREADS` apply).
    pub fn new() -> Self {
        Self
    }
}

/// The CPU model name from /proc/cpuinfo, if readable.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

impl Engine for CpuEngine {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "cpu".into(),
            adapter: format!("{} ({} threads)", cpu_model(), rayon::current_num_threads()),
            api: "native".into(),
            device_type: "Cpu".into(),
            driver: gemm::Product::best().name().into(),
            gemm: gemm::Product::best().name().into(),
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn trainer(&self, config: &TrainConfig, init: &StudentParams) -> Result<Box<dyn Trainer + '_>, Error> {
        Ok(Box::new(step::CpuTrainer::new(config, init)?))
    }
}
