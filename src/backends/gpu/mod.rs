//! The wgpu backend: the runtime (instance from the environment, adapter, device with the
//! adapter's own limits, captured errors and device loss), the WGSL kernels, and the trainer.
//!
//! `WGPU_BACKEND` (vulkan, gl, metal, dx12) and `WGPU_ADAPTER_NAME` (substring) choose the
//! adapter; without them wgpu prefers discrete, then integrated GPUs, and software adapters last.

pub mod kernels;
pub mod trainer;
pub mod tune;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::backends::{BackendInfo, Engine, StudentParams, TrainConfig, Trainer};
use crate::error::Error;
use kernels::Kernels;
pub use trainer::{GpuOptions, GpuTrainer};

/// Storage buffers per shader stage the kernels bind (SHARED layout in shaders/common.wgsl).
pub const STORAGE_BUFFERS_NEEDED: u32 = 12;
/// Longest wait for one submission before it is reported as a lost device.
const SUBMISSION_TIMEOUT: Duration = Duration::from_secs(600);

/// A device, its queue, and the kernels compiled for it.
pub struct GpuContext {
    /// The adapter.
    pub adapter: wgpu::Adapter,
    /// The device (with the adapter's own limits).
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter's description.
    pub info: wgpu::AdapterInfo,
    /// Pipelines, created on first use.
    pub kernels: Kernels,
    /// The GEMM variant chosen per shape class so far ([`tune::choice`]).
    tunings: Mutex<BTreeMap<tune::ShapeClass, tune::Tuning>>,
    errors: Arc<Mutex<Vec<String>>>,
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// The adapter named by `WGPU_ADAPTER_NAME` (a case-insensitive substring), else wgpu's default
/// (`WGPU_POWER_PREF` honoured). A name that matches nothing is a warning listing the adapters,
/// then the default: never a panic.
async fn choose_adapter(instance: &wgpu::Instance) -> Result<wgpu::Adapter, Error> {
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        if let Some(adapter) =
            adapters.into_iter().find(|a| a.get_info().name.to_lowercase().contains(&wanted.to_lowercase()))
        {
            return Ok(adapter);
        }
        eprintln!(
            "warning: WGPU_ADAPTER_NAME={wanted} matches no adapter (found: {}); using the default adapter",
            if names.is_empty() { "none".into() } else { names.join(", ") }
        );
    }
    instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env().unwrap_or_default(),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::NoAdapter(e.to_string()))
}

impl GpuContext {
    /// The adapter wgpu selects from the environment, and a device on it.
    pub fn new() -> Result<Self, Error> {
        pollster::block_on(Self::create())
    }

    async fn create() -> Result<Self, Error> {
        let instance = instance();
        let adapter = choose_adapter(&instance).await?;
        let info = adapter.get_info();
        if !adapter.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS) {
            return Err(Error::NoAdapter(format!("{} has no compute shaders", info.name)));
        }
        let limits = adapter.limits();
        if limits.max_storage_buffers_per_shader_stage < STORAGE_BUFFERS_NEEDED {
            return Err(Error::NoAdapter(format!(
                "{} binds {} storage buffers per stage; the kernels need {STORAGE_BUFFERS_NEEDED}",
                info.name, limits.max_storage_buffers_per_shader_stage
            )));
        }
        let wanted = wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP | wgpu::Features::SHADER_F16;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("clwe-bench"),
                required_features: adapter.features() & wanted,
                required_limits: limits,
                memory_hints: wgpu::MemoryHints::Performance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Device(e.to_string()))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| sink.lock().unwrap().push(e.to_string())));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            sink.lock().unwrap().push(format!("device lost ({reason:?}): {message}"))
        });
        let kernels = Kernels::new(&device);
        // Validate every shader now, so a broken kernel is reported at start-up with naga's
        // diagnostic; pipelines (slow to compile on software adapters) are built on first use.
        let subgroups = device.features().contains(wgpu::Features::SUBGROUP);
        for module in kernels::Module::ALL.into_iter().filter(|m| subgroups || !m.needs_subgroups()) {
            kernels.module(&device, module)?;
        }
        Ok(Self { adapter, device, queue, info, kernels, tunings: Mutex::default(), errors })
    }

    /// Whether the adapter is a real GPU (not a CPU/software adapter).
    pub fn is_hardware(&self) -> bool {
        !matches!(self.info.device_type, wgpu::DeviceType::Cpu | wgpu::DeviceType::Other)
    }

    /// Whether the device records timestamps around compute passes.
    pub fn has_timestamps(&self) -> bool {
        self.device.features().contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// Reports any error the device raised since the last check.
    pub fn check(&self) -> Result<(), Error> {
        let mut errors = self.errors.lock().unwrap();
        if errors.is_empty() { Ok(()) } else { Err(Error::DeviceLost(errors.drain(..).collect::<Vec<_>>().join("; "))) }
    }

    /// Submits `encoder` and waits for it to finish.
    pub fn submit_and_wait(&self, encoder: wgpu::CommandEncoder) -> Result<(), Error> {
        let index = self.queue.submit([encoder.finish()]);
        self.device
            .poll(wgpu::PollType::Wait { submission_index: Some(index), timeout: Some(SUBMISSION_TIMEOUT) })
            .map_err(|e| Error::DeviceLost(e.to_string()))?;
        self.check()
    }

    /// Wall time of `iters` device-side copies of `bytes` between two buffers (one submission):
    /// the copy-bandwidth calibration.
    pub fn time_copies(&self, bytes: u64, iters: u64) -> Result<Duration, Error> {
        let buffer = |usage| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("copy calibration"),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        let (src, dst) = (buffer(wgpu::BufferUsages::COPY_SRC), buffer(wgpu::BufferUsages::COPY_DST));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        for _ in 0..iters {
            encoder.copy_buffer_to_buffer(&src, 0, &dst, 0, bytes);
        }
        let start = std::time::Instant::now();
        self.submit_and_wait(encoder)?;
        Ok(start.elapsed())
    }

    /// Copies `count` 32-bit words at word `offset` of `buffer` back to the host.
    pub fn read_words<T: bytemuck::Pod>(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        count: usize,
    ) -> Result<Vec<T>, Error> {
        let bytes = (count * 4) as u64;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, offset * 4, &staging, 0, bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        encoder.map_buffer_on_submit(&staging, wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.submit_and_wait(encoder)?;
        rx.recv().map_err(|e| Error::DeviceLost(e.to_string()))?.map_err(|e| Error::DeviceLost(e.to_string()))?;
        let out = {
            let view = staging.get_mapped_range(..).map_err(|e| Error::DeviceLost(e.to_string()))?;
            bytemuck::cast_slice(&view[..bytes as usize]).to_vec()
        };
        staging.unmap();
        Ok(out)
    }
}

/// The wgpu engine.
pub struct GpuEngine {
    ctx: GpuContext,
    options: GpuOptions,
}

impl GpuEngine {
    /// The engine on the adapter wgpu selects.
    pub fn new() -> Result<Self, Error> {
        Self::with_options(GpuOptions::default())
    }

    /// The engine with GPU-specific trainer options.
    pub fn with_options(options: GpuOptions) -> Result<Self, Error> {
        Ok(Self { ctx: GpuContext::new()?, options })
    }

    /// The device context.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// Whether this runs on a hardware GPU.
    pub fn is_hardware(&self) -> bool {
        self.ctx.is_hardware()
    }
}

/// [`BackendInfo`] for a wgpu adapter.
pub fn backend_info(info: &wgpu::AdapterInfo) -> BackendInfo {
    BackendInfo {
        backend: "wgpu".into(),
        adapter: info.name.clone(),
        api: format!("{:?}", info.backend).to_lowercase(),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
        gemm: String::new(),
    }
}

impl Engine for GpuEngine {
    fn info(&self) -> BackendInfo {
        BackendInfo { gemm: tune::summary(&self.ctx), ..backend_info(&self.ctx.info) }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn trainer(&self, config: &TrainConfig, init: &StudentParams) -> Result<Box<dyn Trainer + '_>, Error> {
        Ok(Box::new(GpuTrainer::new(&self.ctx, config, init, self.options)?))
    }
}

/// One adapter as `clwe-bench info` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct AdapterReport {
    /// Name, API, type, driver.
    #[serde(flatten)]
    pub info: BackendInfo,
    /// Whether it is a hardware GPU.
    pub hardware: bool,
    /// Whether it can run the kernels (compute shaders, enough storage buffers).
    pub usable: bool,
    /// Largest storage binding, bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Largest buffer, bytes.
    pub max_buffer_size: u64,
    /// Storage buffers per shader stage.
    pub max_storage_buffers_per_shader_stage: u32,
    /// Invocations per workgroup.
    pub max_compute_invocations_per_workgroup: u32,
    /// Workgroup memory, bytes.
    pub max_compute_workgroup_storage_size: u32,
    /// Workgroups per dispatch dimension.
    pub max_compute_workgroups_per_dimension: u32,
    /// Smallest and largest subgroup the adapter may use (0 without subgroups).
    pub subgroup_sizes: (u32, u32),
    /// Features that matter here.
    pub features: Vec<String>,
}

impl std::fmt::Display for AdapterReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{} {}{}] driver: {}; storage binding {} MiB, {} storage buffers/stage, subgroups {}, features: {}",
            self.info.adapter,
            self.info.api,
            self.info.device_type,
            if self.usable { "" } else { ", NOT usable" },
            self.info.driver,
            self.max_storage_buffer_binding_size >> 20,
            self.max_storage_buffers_per_shader_stage,
            match self.subgroup_sizes {
                (0, _) => "none".to_string(),
                (min, max) if min == max => min.to_string(),
                (min, max) => format!("{min}-{max}"),
            },
            if self.features.is_empty() { "none".into() } else { self.features.join(", ") }
        )
    }
}

/// Every adapter wgpu can see (all backends compiled in), as reports.
pub fn list_adapters() -> Vec<AdapterReport> {
    let adapters = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    adapters
        .iter()
        .map(|adapter| {
            let info = adapter.get_info();
            let limits = adapter.limits();
            let features = adapter.features();
            let named = [
                (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
                (wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES, "timestamp-query-inside-passes"),
                (wgpu::Features::SUBGROUP, "subgroup"),
                (wgpu::Features::SHADER_F16, "shader-f16"),
                (wgpu::Features::SHADER_INT64, "shader-int64"),
                (wgpu::Features::SHADER_FLOAT32_ATOMIC, "shader-float32-atomic"),
                (wgpu::Features::PIPELINE_CACHE, "pipeline-cache"),
            ];
            let compute = adapter.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS);
            AdapterReport {
                hardware: !matches!(info.device_type, wgpu::DeviceType::Cpu | wgpu::DeviceType::Other),
                usable: compute && limits.max_storage_buffers_per_shader_stage >= STORAGE_BUFFERS_NEEDED,
                info: backend_info(&info),
                max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
                max_buffer_size: limits.max_buffer_size,
                max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
                max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
                max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
                max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
                subgroup_sizes: if features.contains(wgpu::Features::SUBGROUP) {
                    (info.subgroup_min_size, info.subgroup_max_size)
                } else {
                    (0, 0)
                },
                features: named.iter().filter(|(f, _)| features.contains(*f)).map(|(_, n)| n.to_string()).collect(),
            }
        })
        .collect()
}
