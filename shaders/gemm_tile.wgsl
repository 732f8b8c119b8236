// The register-blocked micro-kernel shared by the two matrix products of a step, in variants
// chosen per adapter and shape by the tuner (GemmVariant in src/backends/gpu/kernels/mod.rs):
// a workgroup of LANES×LANES invocations computes a TILE×TILE output tile, TILE = LANES·BLOCK,
// each invocation a BLOCK×BLOCK register block (BLOCK 4 or 8) held in BLOCK²/4 vec4 accumulators.
// Operand tiles of depth 16 are staged in workgroup memory as vec4 rows,
// tile_a[k·TILE/4 + m/4] = A(k, m..m+3), tile_b[k·TILE/4 + n/4] = B(k, n..n+3), so the inner
// loop does BLOCK/2 vec4 loads per BLOCK² FMAs (2 per 16 at BLOCK 4, 4 per 64 at BLOCK 8).

override LANES: u32 = 16u;
override BLOCK: u32 = 4u;

const DEPTH: u32 = 16u;
// Accumulators of the largest block (8×8); smaller blocks leave the rest unused, and the
// compiler drops them once BLOCK is a constant.
const MAX_ACC: u32 = 16u;

var<workgroup> tile_a: array<vec4<f32>, LANES * BLOCK * DEPTH / 4u>;
var<workgroup> tile_b: array<vec4<f32>, LANES * BLOCK * DEPTH / 4u>;

fn tile_edge() -> u32 {
    return LANES * BLOCK;
}

// Invocations of the workgroup.
fn invocations() -> u32 {
    return LANES * LANES;
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

// acc[r·BLOCK/4 + h] += A(k, ty·BLOCK + r) · B(k, tx·BLOCK + 4h .. 4h+3) over the tile's depth.
fn multiply_tiles(tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, MAX_ACC>>) {
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
