// (a) Gaussian batches: x[r, c] = normal c of sample r of the input stream, one invocation per
// (row, block of 4 coordinates). Plus the raw Philox words, for the bit-exactness test.

@compute @workgroup_size(256)
fn gaussian_batch(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
                  @builtin(num_workgroups) groups: vec3<u32>) {
    let id = flat_id(wid, lid, groups, 256u);
    let blocks = (dims.d + 3u) / 4u;
    if (id >= dims.rows * blocks) {
        return;
    }
    let r = id / blocks;
    let c0 = (id % blocks) * 4u;
    let n = normals4(stream_counter(sample_index(r), c0 / 4u, dims.input_tag), dims.key);
    let row = x_row(r) * dims.d;
    for (var q = 0u; q < 4u; q++) {
        if (c0 + q < dims.d) {
            x[row + c0 + q] = n[q];
        }
    }
}

// x[4r .. 4r+3] = the words of counter (block = dims.chunk_offset, index = dims.base + r, dims.input_tag).
@compute @workgroup_size(256)
fn philox_words(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
                @builtin(num_workgroups) groups: vec3<u32>) {
    let r = flat_id(wid, lid, groups, 256u);
    if (r >= dims.rows) {
        return;
    }
    let w = philox4x32_10(stream_counter(add_index(dims.base, r), dims.chunk_offset, dims.input_tag), dims.key);
    for (var q = 0u; q < 4u; q++) {
        x[4u * r + q] = bitcast<f32>(w[q]);
    }
}
