// The one bind-group layout every kernel of the trainer shares (src/backends/gpu/trainer.rs
// builds it), the per-chunk parameters, and helpers for rows and samples.

struct Dims {
    d: u32,             // input dimension
    width: u32,         // student width k'
    batch: u32,         // full batch B (the loss is ½·mean over B)
    rows: u32,          // rows in this chunk
    chunk_offset: u32,  // first row of this chunk within the batch
    x_rows: u32,        // rows held by the x buffer (memory mode)
    fixed_data: u32,    // 1: x holds a fixed training set indexed cyclically by the cursor
    flags: u32,         // bit 0: first chunk of the step, bit 1: last chunk, 2: base from dims, 3: score labels
    key: vec2<u32>,     // Philox key (the seed)
    input_tag: u32,     // counter word 3 of the input stream
    scalar_tag: u32,    // counter word 3 of the per-sample scalar stream
    base: vec2<u32>,    // first sample index when bit 2 of flags is set (evaluation)
    gamma_s: f32,
    cap_m: f32,
    sigma: f32,
    noise: u32,         // 0 gaussian, 1 uniform, 2 laplace
    null_labels: u32,   // 1: labels independent of x
    optimizer: u32,     // 0 sgd, 1 adam
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    trivial: f32,       // the trivial predictor's constant (evaluation)
    n_tiles: u32,       // column tiles of the forward product (partial outputs per row)
    batch_mod_m: u32,   // B mod m (fixed data)
    phase_noise: f32,   // β_s of CLWE-derived labels: ℓ = φ(γ_s⟨w,x⟩ + e) + ξ (0: planted)
    lr_decay_steps: u32, // T of the cosine learning-rate decay (0: constant rate)
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

// Advanced once per step by `advance` (shaders/output.wgsl).
struct StepState {
    step: u32,          // steps completed
    cursor: u32,        // fixed data: first training row of this step's batch
    base: vec2<u32>,    // online data: first sample index of this step's batch
}

// Whether x is generated in-kernel from the input stream instead of read from memory.
override FRESH: bool = false;

const FIRST_CHUNK: u32 = 1u;
const LAST_CHUNK: u32 = 2u;
const BASE_FROM_DIMS: u32 = 4u;
const EVAL_LABELS: u32 = 8u;

// Codes of Dims::noise and Dims::optimizer (NoiseModel and ShaderOptimizer in Rust).
const NOISE_GAUSSIAN: u32 = 0u;
const NOISE_UNIFORM: u32 = 1u;
const NOISE_LAPLACE: u32 = 2u;
const OPTIMIZER_SGD: u32 = 0u;
const OPTIMIZER_ADAM: u32 = 1u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> state: StepState;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;          // rows × d
@group(0) @binding(3) var<storage, read_write> targets_labels: array<f32>; // targets, then labels (x_rows each)
@group(0) @binding(4) var<storage, read_write> v: array<f32>;          // k' × d
@group(0) @binding(5) var<storage, read_write> head: array<f32>;       // b (k'), a (k'), c
@group(0) @binding(6) var<storage, read_write> z: array<f32>;          // rows × k' pre-activations, then D
@group(0) @binding(7) var<storage, read_write> partial_out: array<f32>; // n_tiles × rows
@group(0) @binding(8) var<storage, read_write> g: array<f32>;          // rows: (p − ℓ)/B
@group(0) @binding(9) var<storage, read_write> grads: array<f32>;      // dV (k'·d), then d(head) (2k'+1)
@group(0) @binding(10) var<storage, read_write> moments: array<f32>;   // Adam m, v for V, then for head
@group(0) @binding(11) var<storage, read_write> sums: array<f32>;      // per-workgroup loss / eval sums
@group(0) @binding(12) var<storage, read_write> secret: array<f32>;    // teacher direction w (d)

fn sample_base() -> vec2<u32> {
    if ((dims.flags & BASE_FROM_DIMS) != 0u) {
        return dims.base;
    }
    return state.base;
}

// Sample index of chunk row r.
fn sample_index(r: u32) -> vec2<u32> {
    return add_index(sample_base(), dims.chunk_offset + r);
}

// Row of the x buffer holding chunk row r (memory mode).
fn x_row(r: u32) -> u32 {
    if (dims.fixed_data != 0u) {
        return (state.cursor + dims.chunk_offset + r) % dims.x_rows;
    }
    return r;
}

// x[r, c .. c+3] of chunk row r (c a multiple of 4), zero beyond d: from memory, or generated
// in-kernel from the input stream when FRESH.
fn load_x4(r: u32, c: u32) -> vec4<f32> {
    if (FRESH) {
        let n = normals4(stream_counter(sample_index(r), c / 4u, dims.input_tag), dims.key);
        return select(vec4<f32>(0.0), n, vec4<u32>(c, c + 1u, c + 2u, c + 3u) < vec4<u32>(dims.d));
    }
    let row = x_row(r) * dims.d;
    var out = vec4<f32>(0.0);
    for (var q = 0u; q < 4u; q++) {
        if (c + q < dims.d) {
            out[q] = x[row + c + q];
        }
    }
    return out;
}

// One thread id over a grid that may be folded into two dimensions (> 65535 workgroups).
fn flat_id(wid: vec3<u32>, lid: u32, groups: vec3<u32>, size: u32) -> u32 {
    return (wid.y * groups.x + wid.x) * size + lid;
}

// The learning rate of this step: dims.lr, times ½(1 + cos(π·t/T)) when a cosine decay over T
// steps is set (LrSchedule::factor in Rust).
fn step_lr() -> f32 {
    if (dims.lr_decay_steps == 0u) {
        return dims.lr;
    }
    let x = f32(min(state.step, dims.lr_decay_steps)) / f32(dims.lr_decay_steps);
    return dims.lr * (0.5 * (1.0 + cos(3.14159265 * x)));
}

// Applies the optimizer to one parameter; Adam's moments live at moments[m_index], [v_index].
fn updated(param: f32, grad: f32, m_index: u32, v_index: u32) -> f32 {
    if (dims.optimizer == OPTIMIZER_SGD) {
        return param - step_lr() * grad;
    }
    let t = f32(state.step + 1u);
    let m = dims.beta1 * moments[m_index] + (1.0 - dims.beta1) * grad;
    let s = dims.beta2 * moments[v_index] + (1.0 - dims.beta2) * grad * grad;
    moments[m_index] = m;
    moments[v_index] = s;
    let m_hat = m / (1.0 - pow(dims.beta1, t));
    let s_hat = s / (1.0 - pow(dims.beta2, t));
    return param - step_lr() * m_hat / (sqrt(s_hat) + dims.eps);
}

// Adds this chunk's gradient to the accumulated one; on the last chunk of the step applies the
// update to `param` (returned), otherwise stores the running gradient.
fn accumulate_or_update(param: f32, chunk_grad: f32, grad_index: u32, m_index: u32, v_index: u32) -> f32 {
    var total = chunk_grad;
    if ((dims.flags & FIRST_CHUNK) == 0u) {
        total += grads[grad_index];
    }
    if ((dims.flags & LAST_CHUNK) != 0u) {
        return updated(param, total, m_index, v_index);
    }
    grads[grad_index] = total;
    return param;
}

fn triangle_wave(t: f32) -> f32 {
    return abs(t - floor(t + 0.5));
}
