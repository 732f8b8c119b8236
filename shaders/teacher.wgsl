// (b) Teacher labels: target f = g_M(γ_s⟨w,x⟩) (φ inside the cap, 0 outside: the verified closed
// form of the capped network), label = f + ξ; for the null, f = φ(U). Same order of operations as
// src/backends/cpu/teacher.rs (⟨w,x⟩ summed in order of c). CLWE-derived labels (phase_noise > 0)
// are φ(γ_s⟨w,x⟩ + e) + ξ, uncapped; the target stays g_M(t).

const CLWE_ERROR_SLOT: u32 = 0u;
const LABEL_NOISE_SLOT: u32 = 1u;
const PHASE_SLOT: u32 = 2u;

fn label_noise(index: vec2<u32>) -> f32 {
    let w = philox4x32_10(stream_counter(index, LABEL_NOISE_SLOT, dims.scalar_tag), dims.key);
    let u0 = uniform_f32(w.x);
    let u1 = uniform_f32(w.y);
    switch dims.noise {
        case NOISE_GAUSSIAN: { return dims.sigma * box_muller(w.x, w.y).x; }
        case NOISE_UNIFORM: { return dims.sigma * 1.73205081 * (2.0 * u0 - 1.0); }
        default: { return dims.sigma * 0.707106781 * (fast_ln(u1) - fast_ln(u0)); } // NOISE_LAPLACE
    }
}

// ⟨w, x_r⟩ summed in order of c.
fn inner_product(r: u32) -> f32 {
    var inner = 0.0;
    for (var c = 0u; c < dims.d; c += 4u) {
        let xs = load_x4(r, c);
        for (var q = 0u; q < 4u; q++) {
            if (c + q < dims.d) {
                inner = inner + secret[c + q] * xs[q];
            }
        }
    }
    return inner;
}

@compute @workgroup_size(256)
fn teacher(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
           @builtin(num_workgroups) groups: vec3<u32>) {
    let r = flat_id(wid, lid, groups, 256u);
    if (r >= dims.rows) {
        return;
    }
    let index = sample_index(r);
    var clean = 0.0;
    var label_clean = 0.0;
    if (dims.null_labels != 0u) {
        let w = philox4x32_10(stream_counter(index, PHASE_SLOT, dims.scalar_tag), dims.key);
        clean = triangle_wave(1.0 - uniform_f32(w.x));
        label_clean = clean;
    } else {
        let t = dims.gamma_s * inner_product(r);
        clean = select(0.0, triangle_wave(t), abs(t) <= dims.cap_m);
        label_clean = clean;
        if (dims.phase_noise != 0.0) {
            // CLWE-derived labels: φ(t + e), uncapped, e from the CLWE-error slot.
            let w = philox4x32_10(stream_counter(index, CLWE_ERROR_SLOT, dims.scalar_tag), dims.key);
            label_clean = triangle_wave(t + dims.phase_noise * box_muller(w.x, w.y).x);
        }
    }
    let row = x_row(r);
    targets_labels[row] = clean;
    targets_labels[dims.x_rows + row] = label_clean + label_noise(index);
}
