// (c) Student forward: Z = X·Vᵀ + b as a 64×64-tiled, 4×4 register-blocked product, with the
// epilogue fused: z is stored for the backward pass, and each workgroup writes its partial
// output Σ_{j in tile} a_j ReLU(z_ij) per row (reduced in a fixed order, no atomics).
// Grid: (row tiles, neuron tiles).

@compute @workgroup_size(16, 16)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
           @builtin(local_invocation_index) li: u32) {
    let row0 = wid.x * TILE;
    let col0 = wid.y * TILE;
    let d = dims.d;
    let k = dims.width;
    var acc: array<vec4<f32>, 4>;
    // Each invocation stages 4 consecutive coordinates of one row of X and one row of V.
    let load_row = li / 4u;
    let load_k = (li % 4u) * 4u;
    for (var k0 = 0u; k0 < d; k0 += DEPTH) {
        var xa = vec4<f32>(0.0);
        if (row0 + load_row < dims.rows) {
            xa = load_x4(row0 + load_row, k0 + load_k);
        }
        var vb = vec4<f32>(0.0);
        let j = col0 + load_row;
        if (j < k) {
            for (var q = 0u; q < 4u; q++) {
                if (k0 + load_k + q < d) {
                    vb[q] = v[j * d + k0 + load_k + q];
                }
            }
        }
        for (var q = 0u; q < 4u; q++) {
            tile_a[(load_k + q) * LANES_PER_SIDE + load_row / 4u][load_row % 4u] = xa[q];
            tile_b[(load_k + q) * LANES_PER_SIDE + load_row / 4u][load_row % 4u] = vb[q];
        }
        workgroupBarrier();
        multiply_tiles(lid.x, lid.y, &acc);
        workgroupBarrier();
    }
    // Epilogue: bias, store z, ReLU, output-layer partial per row.
    for (var r = 0u; r < 4u; r++) {
        let row = row0 + lid.y * 4u + r;
        var out = 0.0;
        for (var q = 0u; q < 4u; q++) {
            let j = col0 + lid.x * 4u + q;
            if (j < k) {
                let zz = acc[r][q] + head[j];
                if (row < dims.rows) {
                    z[row * k + j] = zz;
                }
                out += head[k + j] * max(zz, 0.0);
            }
        }
        let slot = (lid.y * 4u + r) * LANES_PER_SIDE + lid.x; // row-major [64 rows][16 lanes]
        tile_a[slot / 4u][slot % 4u] = out;
    }
    workgroupBarrier();
    if (li < TILE) {
        var total = 0.0;
        for (var t = 0u; t < LANES_PER_SIDE; t++) {
            let slot = li * LANES_PER_SIDE + t;
            total += tile_a[slot / 4u][slot % 4u];
        }
        if (row0 + li < dims.rows) {
            partial_out[wid.y * dims.rows + row0 + li] = total;
        }
    }
}
