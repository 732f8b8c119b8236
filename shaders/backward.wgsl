// (d)+(e) Backward with the optimizer fused into the epilogues.
// hidden_grad: dV = Dᵀ·X with D_ij = g_i a_j 1[z_ij > 0], tiled like the forward product, in the
// same GEMM variant (grid: neuron tiles × coordinate tiles; the batch is the reduction
// dimension, summed in order).
// head_grads: db_j = Σ_i D_ij, da_j = Σ_i g_i ReLU(z_ij), dc = Σ_i g_i, one invocation per neuron.

@compute @workgroup_size(LANES * LANES)
fn hidden_grad(@builtin(workgroup_id) wid: vec3<u32>, ids: Ids) {
    let li = ids.li;
    let pos = vec2<u32>(lane_x(li), lane_y(li)); // this invocation's place in the tile
    let tile = tile_edge();
    let j0 = wid.x * tile;
    let c0 = wid.y * tile;
    let d = dims.d;
    let k = dims.width;
    var acc: array<vec4<f32>, MAX_ACC>;
    for (var i0 = 0u; i0 < dims.rows; i0 += DEPTH) {
        // Each pass stages 4 consecutive neurons of D and 4 coordinates of X, for one row i.
        for (var p = li; p < tile * DEPTH / 4u; p += invocations()) {
            let load_i = p / (tile / 4u);
            let lane = (p % (tile / 4u)) * 4u;
            let i = i0 + load_i;
            var da = vec4<f32>(0.0);
            var xb = vec4<f32>(0.0);
            if (i < dims.rows) {
                let gi = g[i];
                for (var q = 0u; q < 4u; q++) {
                    let j = j0 + lane + q;
                    if (j < k) {
                        da[q] = select(0.0, gi * head[k + j], z[i * k + j] > 0.0);
                    }
                }
                xb = load_x4(i, c0 + lane);
            }
            tile_a[load_i * (tile / 4u) + lane / 4u] = da;
            tile_b[load_i * (tile / 4u) + lane / 4u] = xb;
        }
        workgroupBarrier();
        multiply_tiles(ids, &acc);
        workgroupBarrier();
    }
    let n_v = k * d;
    for (var r = 0u; r < BLOCK; r++) {
        let j = j0 + pos.y * BLOCK + r;
        for (var q = 0u; q < BLOCK; q++) {
            let c = c0 + pos.x * BLOCK + q;
            if (j < k && c < d) {
                let idx = j * d + c;
                v[idx] = accumulate_or_update(v[idx], block_at(&acc, r, q), idx, idx, n_v + idx);
            }
        }
    }
}

@compute @workgroup_size(256)
fn head_grads(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let k = dims.width;
    let n_v = k * dims.d;
    let n_head = 2u * k + 1u;
    // head h lives at grads[n_v + h], moments[2 n_v + h] (m) and moments[2 n_v + n_head + h] (v).
    if (j < k) {
        let aj = head[k + j];
        var db = 0.0;
        var da = 0.0;
        for (var i = 0u; i < dims.rows; i++) {
            let zz = z[i * k + j];
            let gi = g[i];
            da += gi * max(zz, 0.0);
            db += select(0.0, gi * aj, zz > 0.0);
        }
        head[j] = accumulate_or_update(head[j], db, n_v + j, 2u * n_v + j, 2u * n_v + n_head + j);
        let h = k + j;
        head[h] = accumulate_or_update(aj, da, n_v + h, 2u * n_v + h, 2u * n_v + n_head + h);
    }
    if (j == 0u) {
        var dc = 0.0;
        for (var i = 0u; i < dims.rows; i++) {
            dc += g[i];
        }
        let h = 2u * k;
        head[h] = accumulate_or_update(head[h], dc, n_v + h, 2u * n_v + h, 2u * n_v + n_head + h);
    }
}
