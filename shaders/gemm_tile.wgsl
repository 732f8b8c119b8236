// The register-blocked micro-kernel shared by the two matrix products of a step.
// A workgroup of 16×16 invocations computes a 64×64 output tile; each invocation a 4×4 block
// held in four vec4 accumulators. Operand tiles of depth 16 are staged in workgroup memory as
// vec4 rows, tile_a[k·16 + m/4] = A(k, m..m+3), tile_b[k·16 + n/4] = B(k, n..n+3), so the inner
// loop does two vec4 loads per 16 FMAs.

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;
const LANES_PER_SIDE: u32 = 16u;

var<workgroup> tile_a: array<vec4<f32>, 256>;
var<workgroup> tile_b: array<vec4<f32>, 256>;

fn multiply_tiles(tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
    for (var k = 0u; k < DEPTH; k++) {
        let a = tile_a[k * LANES_PER_SIDE + ty];
        let b = tile_b[k * LANES_PER_SIDE + tx];
        (*acc)[0] = fma(vec4<f32>(a.x), b, (*acc)[0]);
        (*acc)[1] = fma(vec4<f32>(a.y), b, (*acc)[1]);
        (*acc)[2] = fma(vec4<f32>(a.z), b, (*acc)[2]);
        (*acc)[3] = fma(vec4<f32>(a.w), b, (*acc)[3]);
    }
}
