// (c) Student forward: Z = X·Vᵀ + b as a TILE×TILE-tiled, register-blocked product
// (gemm_tile.wgsl), with the epilogue fused: z is stored for the backward pass, and each
// workgroup writes its partial output Σ_{j in tile} a_j ReLU(z_ij) per row (reduced in a fixed
// order, no atomics). Grid: (row tiles, neuron tiles).

@compute @workgroup_size(LANES * LANES)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, ids: Ids) {
    let li = ids.li;
    let pos = vec2<u32>(lane_x(li), lane_y(li)); // this invocation's place in the tile
    let tile = tile_edge();
    let row0 = wid.x * tile;
    let col0 = wid.y * tile;
    let d = dims.d;
    let k = dims.width;
    var acc: array<vec4<f32>, MAX_ACC>;
    for (var k0 = 0u; k0 < d; k0 += DEPTH) {
        // Each pass stages 4 consecutive coordinates of one row of X and one row of V.
        for (var p = li; p < tile * DEPTH / 4u; p += invocations()) {
            let row = p / (DEPTH / 4u);
            let kq = (p % (DEPTH / 4u)) * 4u;
            var xa = vec4<f32>(0.0);
            if (row0 + row < dims.rows) {
                xa = load_x4(row0 + row, k0 + kq);
            }
            var vb = vec4<f32>(0.0);
            let j = col0 + row;
            if (j < k) {
                for (var q = 0u; q < 4u; q++) {
                    if (k0 + kq + q < d) {
                        vb[q] = v[j * d + k0 + kq + q];
                    }
                }
            }
            for (var q = 0u; q < 4u; q++) {
                stage_a(kq + q, row, xa[q]);
                stage_b(kq + q, row, vb[q]);
            }
        }
        workgroupBarrier();
        multiply_tiles(ids, &acc);
        workgroupBarrier();
    }
    // Epilogue: bias, store z, ReLU, output-layer partial per row into tile_a, viewed as
    // [TILE rows][LANES lanes] floats (TILE·LANES ≤ TILE·DEPTH).
    for (var r = 0u; r < BLOCK; r++) {
        let row = row0 + pos.y * BLOCK + r;
        var out = 0.0;
        for (var q = 0u; q < BLOCK; q++) {
            let j = col0 + pos.x * BLOCK + q;
            if (j < k) {
                let zz = block_at(&acc, r, q) + head[j];
                if (row < dims.rows) {
                    z[row * k + j] = zz;
                }
                out += head[k + j] * max(zz, 0.0);
            }
        }
        let slot = (pos.y * BLOCK + r) * LANES + pos.x;
        tile_a[slot / 4u][slot % 4u] = out;
    }
    workgroupBarrier();
    for (var r = li; r < tile; r += invocations()) {
        var total = 0.0;
        for (var t = 0u; t < LANES; t++) {
            let slot = r * LANES + t;
            total += tile_a[slot / 4u][slot % 4u];
        }
        if (row0 + r < dims.rows) {
            partial_out[wid.y * dims.rows + row0 + r] = total;
        }
    }
}
