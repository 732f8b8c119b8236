// multiply_tiles with both operands read from workgroup memory: BLOCK/2 vec4 loads per BLOCK²
// FMAs (2 per 16 at BLOCK 4, 4 per 64 at BLOCK 8).

// The invocation, as the product kernels' entry points receive it.
struct Ids {
    @builtin(local_invocation_index) li: u32,
}

// acc[r·BLOCK/4 + h] += A(k, ty·BLOCK + r) · B(k, tx·BLOCK + 4h .. 4h+3) over the tile's depth.
fn multiply_tiles(ids: Ids, acc: ptr<function, array<vec4<f32>, MAX_ACC>>) {
    let tx = lane_x(ids.li);
    let ty = lane_y(ids.li);
    let quads = BLOCK / 4u;
    let row = tile_edge() / 4u;
    for (var k = 0u; k < DEPTH; k++) {
        for (var p = 0u; p < quads; p++) {
            let a = tile_a[k * row + ty * quads + p];
            for (var h = 0u; h < quads; h++) {
                let b = tile_b[k * row + tx * quads + h];
                let r = 4u * p * quads + h;
                (*acc)[r] = fma(vec4<f32>(a.x), b, (*acc)[r]);
                (*acc)[r + quads] = fma(vec4<f32>(a.y), b, (*acc)[r + quads]);
                (*acc)[r + 2u * quads] = fma(vec4<f32>(a.z), b, (*acc)[r + 2u * quads]);
                (*acc)[r + 3u * quads] = fma(vec4<f32>(a.w), b, (*acc)[r + 3u * quads]);
            }
        }
    }
}
