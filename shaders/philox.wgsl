// Philox4x32-10 (Salmon et al., SC'11) and the f32 Box–Muller transform, operation for operation
// the same as src/math/philox.rs and src/math/fastmath.rs. WGSL has no 64-bit integers, so the
// 32×32→64-bit products are formed from 16-bit halves.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// (high word, low word) of a·b.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_lo = a_hi * b_lo;
    let middle = (lo_lo >> 16u) + (lo_hi & 0xFFFFu) + (hi_lo & 0xFFFFu);
    let high = a_hi * b_hi + (lo_hi >> 16u) + (hi_lo >> 16u) + (middle >> 16u);
    return vec2<u32>(high, a * b);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var round = 0u; round < 10u; round++) {
        if (round > 0u) {
            k += vec2<u32>(PHILOX_W0, PHILOX_W1);
        }
        let p0 = mulhilo(PHILOX_M0, c.x);
        let p1 = mulhilo(PHILOX_M1, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    }
    return c;
}

// (x + 1)/2³² truncated to 24 significant bits, from exact operations only: in [2⁻³², 1].
fn uniform_f32(x: u32) -> f32 {
    let v = x + 1u;
    if (v == 0u) {
        return 1.0;
    }
    let lz = countLeadingZeros(v);
    let mantissa = (v << lz) >> 8u;
    return f32(mantissa) * bitcast<f32>((103u - lz) << 23u);
}

fn fast_ln(u: f32) -> f32 {
    let bits = bitcast<u32>(u);
    var e = i32((bits >> 23u) & 0xFFu) - 127;
    var m = bitcast<f32>((bits & 0x007FFFFFu) | 0x3F800000u);
    if (m > 1.41421356) {
        m = m * 0.5;
        e = e + 1;
    }
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    let series = 1.0 + f2 * (1.0 / 3.0 + f2 * (1.0 / 5.0 + f2 * (1.0 / 7.0 + f2 * (1.0 / 9.0))));
    return f32(e) * 0.693147181 + 2.0 * f * series;
}

// (sin 2πx, cos 2πx) for x ≥ 0.
fn sincos_2pi(x: f32) -> vec2<f32> {
    let quarter_turns = floor(x * 4.0 + 0.5);
    let r = x - quarter_turns * 0.25;
    let q = u32(quarter_turns) & 3u;
    let t = r * 6.28318531;
    let t2 = t * t;
    let s = t * (1.0 + t2 * (-1.0 / 6.0 + t2 * (1.0 / 120.0 + t2 * (-1.0 / 5040.0 + t2 * (1.0 / 362880.0)))));
    let c = 1.0 + t2 * (-0.5 + t2 * (1.0 / 24.0 + t2 * (-1.0 / 720.0 + t2 * (1.0 / 40320.0))));
    // Rotate by q quarter turns without branches (multiplying by ±1 is exact).
    let odd = (q & 1u) == 1u;
    let sin_sign = 1.0 - 2.0 * f32((q >> 1u) & 1u);
    let cos_sign = 1.0 - 2.0 * f32(((q + 1u) >> 1u) & 1u);
    return vec2<f32>(sin_sign * select(s, c, odd), cos_sign * select(c, s, odd));
}

fn box_muller(w0: u32, w1: u32) -> vec2<f32> {
    let r = sqrt(-2.0 * fast_ln(uniform_f32(w0)));
    let sc = sincos_2pi(uniform_f32(w1));
    return vec2<f32>(r * sc.y, r * sc.x);
}

// The four normals of one Philox block.
fn normals4(counter: vec4<u32>, key: vec2<u32>) -> vec4<f32> {
    let w = philox4x32_10(counter, key);
    return vec4<f32>(box_muller(w.x, w.y), box_muller(w.z, w.w));
}

// 64-bit sample index as (low, high) words: base + offset.
fn add_index(base: vec2<u32>, offset: u32) -> vec2<u32> {
    let lo = base.x + offset;
    return vec2<u32>(lo, base.y + select(0u, 1u, lo < offset));
}

// The counter of `block` of sample `index` in the stream tagged `tag` (see src/sampling/streams.rs).
fn stream_counter(index: vec2<u32>, block: u32, tag: u32) -> vec4<u32> {
    return vec4<u32>(block, index.x, index.y, tag);
}
