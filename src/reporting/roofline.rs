//! The roofline of a GPU from its datasheet: a kernel doing F FLOPs over B bytes (arithmetic
//! intensity I = F/B) can at best run at min(peak FP32 FLOP/s, I · memory bandwidth). The
//! figures are the vendors' datasheet numbers for common GPUs — not measurements — matched by a
//! substring of the adapter's name; `report` prints the ceiling beside each measured kernel.

/// A GPU's datasheet peaks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Datasheet {
    /// Substring of the adapter name that identifies the GPU (the first match wins).
    pub name: &'static str,
    /// FP32 peak, TFLOP/s (non-tensor, boost clock).
    pub fp32_tflops: f64,
    /// Memory bandwidth, GB/s.
    pub gb_per_s: f64,
}

/// Datasheet figures, most specific names first.
pub const DATASHEETS: [Datasheet; 12] = [
    Datasheet { name: "H200", fp32_tflops: 67.0, gb_per_s: 4800.0 },
    Datasheet { name: "H100 PCIe", fp32_tflops: 51.2, gb_per_s: 2000.0 },
    Datasheet { name: "H100", fp32_tflops: 66.9, gb_per_s: 3350.0 },
    Datasheet { name: "A100-SXM4-80GB", fp32_tflops: 19.5, gb_per_s: 2039.0 },
    Datasheet { name: "A100", fp32_tflops: 19.5, gb_per_s: 1555.0 },
    Datasheet { name: "L40S", fp32_tflops: 91.6, gb_per_s: 864.0 },
    Datasheet { name: "L40", fp32_tflops: 90.5, gb_per_s: 864.0 },
    Datasheet { name: "L4", fp32_tflops: 30.3, gb_per_s: 300.0 },
    Datasheet { name: "RTX 4090", fp32_tflops: 82.6, gb_per_s: 1008.0 },
    Datasheet { name: "RTX 3090", fp32_tflops: 35.6, gb_per_s: 936.0 },
    Datasheet { name: "Apple M2", fp32_tflops: 3.6, gb_per_s: 100.0 },
    Datasheet { name: "Apple M1", fp32_tflops: 2.6, gb_per_s: 68.3 },
];

/// The datasheet of an adapter, if its name is in the table.
pub fn datasheet(adapter: &str) -> Option<Datasheet> {
    DATASHEETS.iter().copied().find(|s| adapter.contains(s.name))
}

/// The roofline ceiling, GFLOP/s, at arithmetic intensity `flop_per_byte`.
pub fn ceiling_gflops(sheet: Datasheet, flop_per_byte: f64) -> f64 {
    (sheet.fp32_tflops * 1e3).min(flop_per_byte * sheet.gb_per_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_is_bandwidth_bound_below_the_ridge_and_compute_bound_above() {
        let h100 = datasheet("NVIDIA H100 80GB HBM3").unwrap();
        assert_eq!(h100.name, "H100");
        let ridge = h100.fp32_tflops * 1e3 / h100.gb_per_s; // ≈ 20 FLOP/byte
        assert!((ceiling_gflops(h100, ridge / 2.0) - h100.fp32_tflops * 1e3 / 2.0).abs() < 1e-6);
        assert_eq!(ceiling_gflops(h100, ridge * 10.0), h100.fp32_tflops * 1e3);
        assert_eq!(datasheet("NVIDIA H100 PCIe").unwrap().gb_per_s, 2000.0, "the specific name first");
        assert_eq!(datasheet("llvmpipe (LLVM 15.0.6, 256 bits)"), None);
    }

    #[test]
    fn no_gpu_takes_the_datasheet_of_a_name_inside_its_own() {
        // Each name is matched before any shorter name it contains ("L40" before "L4").
        for (i, sheet) in DATASHEETS.iter().enumerate() {
            for earlier in &DATASHEETS[..i] {
                assert!(!sheet.name.contains(earlier.name), "{} is listed after {}", sheet.name, earlier.name);
            }
            assert_eq!(datasheet(&format!("NVIDIA {} (vulkan)", sheet.name)), Some(*sheet));
        }
        assert_eq!(datasheet("NVIDIA L40").unwrap().fp32_tflops, 90.5);
    }
}
