// multiply_tiles with the A operand shared through subgroup shuffles (16×16 lanes, 4×4 blocks):
// the GROUP lanes of a workgroup row that share a subgroup each read DEPTH/GROUP of the row's
// A values from workgroup memory once per tile, and every depth step takes its A value from the
// lane holding it by subgroupShuffle, so only B is read from workgroup memory in the inner loop
// (1 vec4 load and 1 vec4 shuffle per 16 FMAs, against 2 loads). It assumes the subgroups of a
// workgroup are runs of consecutive local_invocation_index; the tuner checks each variant's
// step against the default's and drops one that disagrees. GROUP is declared in gemm_tile.wgsl.

// The invocation, as the product kernels' entry points receive it.
struct Ids {
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_invocation_id) sid: u32,
}

// acc[r] += A(k, ty·4 + r) · B(k, tx·4 .. tx·4+3) over the tile's depth (BLOCK = 4).
fn multiply_tiles(ids: Ids, acc: ptr<function, array<vec4<f32>, MAX_ACC>>) {
    let tx = lane_x(ids.li);
    let ty = lane_y(ids.li);
    let row = tile_edge() / 4u;
    let pos = tx % GROUP;
    let first_lane = ids.sid - pos;
    // This lane's share of the row's A: depths pos, pos + GROUP, … (DEPTH/GROUP ≤ 4 of them).
    var mine: array<vec4<f32>, 4>;
    for (var q = 0u; q < DEPTH / GROUP; q++) {
        mine[q] = tile_a[(pos + q * GROUP) * row + ty];
    }
    for (var k = 0u; k < DEPTH; k++) {
        let a = subgroupShuffle(mine[k / GROUP], first_lane + k % GROUP);
        let b = tile_b[k * row + tx];
        (*acc)[0] = fma(vec4<f32>(a.x), b, (*acc)[0]);
        (*acc)[1] = fma(vec4<f32>(a.y), b, (*acc)[1]);
        (*acc)[2] = fma(vec4<f32>(a.z), b, (*acc)[2]);
        (*acc)[3] = fma(vec4<f32>(a.w), b, (*acc)[3]);
    }
}
