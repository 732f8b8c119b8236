// The tiling shared by the two matrix products of a step, in variants chosen per adapter and
// shape by the tuner (GemmVariant in src/backends/gpu/kernels/mod.rs): a workgroup of
// LANES×LANES invocations computes a TILE×TILE output tile, TILE = LANES·BLOCK, each invocation
// a BLOCK×BLOCK register block (BLOCK 4 or 8) held in BLOCK²/4 vec4 accumulators. Operand tiles
// of depth 16 are staged in workgroup memory as vec4 rows, tile_a[k·TILE/4 + m/4] = A(k, m..m+3),
// tile_b[k·TILE/4 + n/4] = B(k, n..n+3). The inner product over a staged tile, `multiply_tiles`,
// and the invocation's identity, `Ids`, come from gemm_shared.wgsl (operands from workgroup
// memory) or gemm_subgroup.wgsl (A shared through subgroup shuffles).

override LANES: u32 = 16u;
override BLOCK: u32 = 4u;
// Lanes of one workgroup row within one subgroup, min(16, the adapter's subgroup size), set by
// the host for gemm_subgroup.wgsl (GemmVariant::constants). Declared here, before the
// override-sized arrays: naga 30 panics on a named override declared after them.
override GROUP: u32 = 8u;

const DEPTH: u32 = 16u;
// Accumulators of the largest block (8×8); smaller blocks leave the rest unused, and the
// compiler drops them once BLOCK is a constant.
const MAX_ACC: u32 = 16u;

var<workgroup> tile_a: array<vec4<f32>, LANES * BLOCK * DEPTH / 4u>;
var<workgroup> tile_b: array<vec4<f32>, LANES * BLOCK * DEPTH / 4u>;

fn tile_edge() -> u32 {
    return LANES * BLOCK;
}

// Invocations of the workgroup. Workgroups are one-dimensional (naga allows subgroup builtins
// only there); invocation li stands at (lane_x, lane_y) = (li mod LANES, li / LANES) of the tile.
fn invocations() -> u32 {
    return LANES * LANES;
}

fn lane_x(li: u32) -> u32 {
    return li % LANES;
}

fn lane_y(li: u32) -> u32 {
    return li / LANES;
}

// Stores element (k, m) of a staged operand tile.
fn stage_a(k: u32, m: u32, value: f32) {
    tile_a[k * (tile_edge() / 4u) + m / 4u][m % 4u] = value;
}

fn stage_b(k: u32, n: u32, value: f32) {
    tile_b[k * (tile_edge() / 4u) + n / 4u][n % 4u] = value;
}

// Element (r, q) of the invocation's register block, r and q in 0..BLOCK.
fn block_at(acc: ptr<function, array<vec4<f32>, MAX_ACC>>, r: u32, q: u32) -> f32 {
    return (*acc)[r * (BLOCK / 4u) + q / 4u][q % 4u];
}
