// Per-row output work after the forward product: residuals and their gradient (training),
// squared errors of the student and the trivial predictor (f, evaluation), and the per-step
// advance of the sample cursor. Workgroup sums are tree reductions in a fixed order; the host
// adds the per-workgroup results in f64.

var<workgroup> reduce_buf: array<f32, 256>;

fn workgroup_sum(lid: u32, value: f32) -> f32 {
    reduce_buf[lid] = value;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            reduce_buf[lid] += reduce_buf[lid + stride];
        }
        workgroupBarrier();
    }
    let total = reduce_buf[0];
    workgroupBarrier();
    return total;
}

// h(x_r) = c + Σ over column tiles of the partial outputs, in tile order.
fn prediction(r: u32) -> f32 {
    var p = head[2u * dims.width];
    for (var t = 0u; t < dims.n_tiles; t++) {
        p += partial_out[t * dims.rows + r];
    }
    return p;
}

// g_r = (h(x_r) − ℓ_r)/B; sums[slot] = Σ (h − ℓ)² over the workgroup.
@compute @workgroup_size(256)
fn residuals(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
             @builtin(num_workgroups) groups: vec3<u32>) {
    let r = flat_id(wid, lid, groups, 256u);
    var squared = 0.0;
    if (r < dims.rows) {
        let residual = prediction(r) - targets_labels[dims.x_rows + x_row(r)];
        g[r] = residual / f32(dims.batch);
        squared = residual * residual;
    }
    let total = workgroup_sum(lid, squared);
    if (lid == 0u) {
        sums[dims.chunk_offset / 256u + wid.y * groups.x + wid.x] = total;
    }
}

// Per workgroup: Σ (h − f)², Σ (t − f)², Σ ((t − f)² − (h − f)²)², Σ f, Σ f² with t = dims.trivial
// and f the noise-free target, or the observed label when bit 3 of dims.flags is set.
@compute @workgroup_size(256)
fn evaluate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
            @builtin(num_workgroups) groups: vec3<u32>) {
    let r = flat_id(wid, lid, groups, 256u);
    var es = 0.0;
    var et = 0.0;
    var f = 0.0;
    if (r < dims.rows) {
        f = targets_labels[select(0u, dims.x_rows, (dims.flags & EVAL_LABELS) != 0u) + x_row(r)];
        es = (prediction(r) - f) * (prediction(r) - f);
        et = (dims.trivial - f) * (dims.trivial - f);
    }
    let diff = select(0.0, et - es, r < dims.rows);
    let slot = 5u * (wid.y * groups.x + wid.x);
    let s0 = workgroup_sum(lid, es);
    let s1 = workgroup_sum(lid, et);
    let s2 = workgroup_sum(lid, diff * diff);
    let s3 = workgroup_sum(lid, f);
    let s4 = workgroup_sum(lid, f * f);
    if (lid == 0u) {
        sums[slot] = s0;
        sums[slot + 1u] = s1;
        sums[slot + 2u] = s2;
        sums[slot + 3u] = s3;
        sums[slot + 4u] = s4;
    }
}

@compute @workgroup_size(1)
fn advance() {
    state.step += 1u;
    state.base = add_index(state.base, dims.batch);
    if (dims.fixed_data != 0u) {
        state.cursor = (state.cursor + dims.batch_mod_m) % dims.x_rows;
    }
}
