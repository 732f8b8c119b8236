//! `clwe-bench report`: criterion's results (`target/criterion/**/new/{benchmark,estimates}.json`)
//! turned into one markdown table and one CSV per backend: median time with its 95% interval,
//! throughput in GFLOP/s (G normals/s for `generate`) and GB/s from the work and bytes each
//! benchmark declares, and % of the backend's measured peak (the `calibration` group: best GEMM
//! FLOP/s and copy bandwidth), with machine and adapter metadata on top; and a figure of step
//! throughput against k' per backend.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::write_file_atomically;
use super::roofline::Datasheet;
use super::summary::write_csv;
use super::table::markdown_table;
use crate::backends::BackendInfo;

/// One benchmark's median and declared throughput.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// Criterion group (`forward`, `step-fresh`, `calibration`, …).
    pub group: String,
    /// Function id (`cpu`, `wgpu-device`, `wgpu-wall`).
    pub function: String,
    /// Parameter string (`d64_k256_B4096`, `gemm-2048`, …).
    pub parameter: String,
    /// Median time per iteration, ns.
    pub median_ns: f64,
    /// Lower end of its 95% interval, ns.
    pub lower_ns: f64,
    /// Upper end, ns.
    pub upper_ns: f64,
    /// Declared work per iteration (FLOPs; normals for `generate`).
    pub work: Option<f64>,
    /// Declared bytes per iteration.
    pub bytes: Option<f64>,
}

impl Measurement {
    /// The backend family: `cpu` or `wgpu`.
    pub fn backend(&self) -> &str {
        self.function.split('-').next().unwrap_or(&self.function)
    }

    /// `amount` per nanosecond; none when the median is not a positive time (criterion can
    /// report 0 ns for work it optimised away), so no rate is ever infinite.
    fn per_ns(&self, amount: Option<f64>) -> Option<f64> {
        amount.filter(|_| self.median_ns.is_finite() && self.median_ns > 0.0).map(|a| a / self.median_ns)
    }

    /// Work per second in units of 10⁹.
    pub fn giga_work_per_s(&self) -> Option<f64> {
        self.per_ns(self.work)
    }

    /// What the declared work counts: FLOPs, normals drawn (`generate`), or training steps
    /// (`sgd-verdict`); nothing for copies and the lattice attack.
    pub fn unit(&self) -> Option<&'static str> {
        match self.group.as_str() {
            "generate" => Some("normals"),
            "sgd-verdict" => Some("steps"),
            "lll" => None,
            _ if self.parameter.starts_with("copy") => None,
            _ => Some("FLOP"),
        }
    }

    /// Throughput in the unit's natural scale: GFLOP/s, G normals/s, or steps/s.
    pub fn throughput(&self) -> Option<(f64, &'static str)> {
        let per_ns = self.per_ns(self.work)?;
        match self.unit()? {
            "FLOP" => Some((per_ns, "GFLOP/s")),
            "normals" => Some((per_ns, "G normals/s")),
            unit => Some((per_ns * 1e9, if unit == "steps" { "steps/s" } else { unit })),
        }
    }

    /// Bytes per second in GB/s.
    pub fn gb_per_s(&self) -> Option<f64> {
        self.per_ns(self.bytes)
    }
}

#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

fn find_benchmarks(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") && path.join("benchmark.json").exists() {
                out.push(path);
            } else {
                find_benchmarks(&path, out)?;
            }
        }
    }
    Ok(())
}

/// Every measurement under a criterion output directory, sorted.
pub fn read_criterion(dir: &Path) -> std::io::Result<Vec<Measurement>> {
    let mut dirs = Vec::new();
    find_benchmarks(dir, &mut dirs)?;
    let mut out = Vec::new();
    for d in dirs {
        let bench: BenchmarkJson =
            serde_json::from_slice(&std::fs::read(d.join("benchmark.json"))?).map_err(std::io::Error::other)?;
        let est: Estimates =
            serde_json::from_slice(&std::fs::read(d.join("estimates.json"))?).map_err(std::io::Error::other)?;
        let (work, bytes) = match &bench.throughput {
            Some(t) => {
                let field = |outer: &str, inner: Option<&str>| {
                    let v = t.get(outer)?;
                    inner.map_or(Some(v), |i| v.get(i)).and_then(serde_json::Value::as_f64)
                };
                (
                    field("ElementsAndBytes", Some("elements")).or_else(|| field("Elements", None)),
                    field("ElementsAndBytes", Some("bytes")).or_else(|| field("Bytes", None)),
                )
            }
            None => (None, None),
        };
        out.push(Measurement {
            group: bench.group_id,
            function: bench.function_id.unwrap_or_default(),
            parameter: bench.value_str.unwrap_or_default(),
            median_ns: est.median.point_estimate,
            lower_ns: est.median.confidence_interval.lower_bound,
            upper_ns: est.median.confidence_interval.upper_bound,
            work,
            bytes,
        });
    }
    out.sort_by(|a, b| (&a.function, &a.group, &a.parameter).cmp(&(&b.function, &b.group, &b.parameter)));
    Ok(out)
}

/// A backend's measured peaks (from the `calibration` group).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Peaks {
    /// Best GEMM, GFLOP/s.
    pub gflops: Option<f64>,
    /// Copy bandwidth, GB/s.
    pub gb_per_s: Option<f64>,
}

/// Peaks per backend family.
pub fn peaks(measurements: &[Measurement]) -> BTreeMap<String, Peaks> {
    let mut out: BTreeMap<String, Peaks> = BTreeMap::new();
    for m in measurements.iter().filter(|m| m.group == "calibration") {
        let p = out.entry(m.backend().to_string()).or_default();
        let best = |old: Option<f64>, new: Option<f64>| match (old, new) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if m.parameter.starts_with("gemm") {
            p.gflops = best(p.gflops, m.giga_work_per_s());
        } else if m.parameter.starts_with("copy") {
            p.gb_per_s = best(p.gb_per_s, m.gb_per_s());
        }
    }
    out
}

/// (d, k', B) from a parameter string `d{d}_k{k}_B{b}`.
pub fn shape(parameter: &str) -> Option<(u64, u64, u64)> {
    let mut it = parameter.split('_');
    let d = it.next()?.strip_prefix('d')?.parse().ok()?;
    let k = it.next()?.strip_prefix('k')?.parse().ok()?;
    let b = it.next()?.strip_prefix('B')?.parse().ok()?;
    Some((d, k, b))
}

/// Machine and adapter facts printed above each table.
pub fn metadata(backends: &[BackendInfo]) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut s = format!(
        "- machine: {} ({cores} hardware threads)\n- clwe-bench {}, wgpu {}\n- report written {} (UTC, from the system clock)\n",
        crate::backends::cpu::cpu_model(),
        crate::experiments::runs::version(),
        env!("CLWE_BENCH_WGPU_VERSION"),
        utc_now()
    );
    for b in backends {
        s += &format!("- backend `{}`: {} [{}; {}; driver {}]\n", b.backend, b.adapter, b.api, b.device_type, b.driver);
        if !b.gemm.is_empty() {
            s += &format!("  - products (GEMM variant per shape class): {}\n", b.gemm);
        }
    }
    s
}

/// The current UTC time as `YYYY-MM-DD hh:mm`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

/// The columns of a timing table.
const HEADERS: [&str; 18] = [
    "benchmark",
    "id",
    "case",
    "d",
    "k'",
    "B",
    "median ms",
    "95% CI ms",
    "throughput",
    "unit",
    "GB/s",
    "% peak FLOP/s",
    "% peak GB/s",
    "GFLOP/iter",
    "MB/iter",
    "FLOP/byte",
    "roofline GFLOP/s (datasheet)",
    "% roofline",
];

/// The [`HEADERS`] cells of `m`, against its family's measured `peak` and, for a GPU in the
/// datasheet table, its roofline.
fn row(m: &Measurement, peak: Peaks, sheet: Option<Datasheet>) -> Vec<String> {
    let (d, k, b) = shape(&m.parameter).map_or((String::new(), String::new(), String::new()), |(d, k, b)| {
        (d.to_string(), k.to_string(), b.to_string())
    });
    let throughput = m.throughput();
    let counts_flops = m.unit() == Some("FLOP");
    let flops = m.giga_work_per_s().filter(|_| counts_flops);
    let intensity = m.work.zip(m.bytes).filter(|(_, b)| *b > 0.0 && counts_flops).map(|(w, b)| w / b);
    let roofline = sheet.zip(intensity).map(|(s, i)| super::roofline::ceiling_gflops(s, i));
    vec![
        m.group.clone(),
        m.function.clone(),
        if d.is_empty() { m.parameter.clone() } else { String::new() },
        d,
        k,
        b,
        format!("{:.4}", m.median_ns / 1e6),
        format!("[{:.4}, {:.4}]", m.lower_ns / 1e6, m.upper_ns / 1e6),
        throughput.map_or("–".into(), |(v, _)| format!("{v:.3}")),
        throughput.map_or("–".into(), |(_, unit)| unit.to_string()),
        opt(m.gb_per_s().filter(|b| *b > 0.0), 2),
        opt(flops.zip(peak.gflops).map(|(c, p)| 100.0 * c / p), 1),
        opt(m.gb_per_s().zip(peak.gb_per_s).map(|(c, p)| 100.0 * c / p), 1),
        opt(m.work.filter(|_| counts_flops).map(|w| w / 1e9), 3),
        opt(m.bytes.map(|b| b / 1e6), 3),
        opt(intensity, 2),
        opt(roofline, 0),
        opt(flops.zip(roofline).map(|(c, r)| 100.0 * c / r), 1),
    ]
}

/// The sentence saying where the roofline columns come from.
fn roofline_note(sheet: Option<Datasheet>) -> String {
    match sheet {
        Some(s) => format!(
            "Roofline: min(FP32 peak, FLOP/byte × bandwidth) from the {} datasheet ({} TFLOP/s FP32, {} GB/s; \
             vendor figures, not measured here).",
            s.name, s.fp32_tflops, s.gb_per_s
        ),
        None => "Roofline: no datasheet for this adapter in `reporting::roofline` (columns left empty).".into(),
    }
}

/// Writes `timings-<backend>.{md,csv}` under `out` for every backend family measured; returns
/// the files written.
pub fn write_report(
    measurements: &[Measurement],
    backends: &[BackendInfo],
    out: &Path,
) -> std::io::Result<Vec<PathBuf>> {
    let peaks = peaks(measurements);
    let mut families: Vec<&str> = measurements.iter().map(Measurement::backend).collect();
    families.sort_unstable();
    families.dedup();
    let mut written = Vec::new();
    for family in families {
        let peak = peaks.get(family).copied().unwrap_or_default();
        let mine: Vec<BackendInfo> = backends.iter().filter(|b| b.backend == family).cloned().collect();
        let sheet = mine.iter().find_map(|b| super::roofline::datasheet(&b.adapter));
        let measured: Vec<&Measurement> = measurements.iter().filter(|m| m.backend() == family).collect();
        let rows: Vec<Vec<String>> = measured.iter().map(|m| row(m, peak, sheet)).collect();
        let md = format!(
            "# Timings: {family}\n\n{}- measured peaks (calibration group): {} GFLOP/s (GEMM), {} GB/s (copy)\n\n\
             FLOPs: a step is 4·B·d·k' (two B×d×k' products), forward and backward 2·B·d·k' each, \
             evaluation one forward product; elementwise work is not counted. `wgpu-device` = GPU timestamps, \
             `wgpu-wall` = wall clock to completion. {}\n\n{}",
            metadata(&mine),
            opt(peak.gflops, 1),
            opt(peak.gb_per_s, 1),
            roofline_note(sheet),
            markdown_table(&HEADERS, &rows)
        );
        let md_path = out.join(format!("timings-{family}.md"));
        write_file_atomically(&md_path, md.as_bytes())?;
        let csv_path = out.join(format!("timings-{family}.csv"));
        let headed: Vec<Vec<String>> =
            std::iter::once(HEADERS.map(String::from).to_vec()).chain(rows.iter().cloned()).collect();
        write_csv(&csv_path, &headed)?;
        written.extend([md_path, csv_path]);
        let svg_path = out.join(format!("step-throughput-{family}.svg"));
        if step_figure(&svg_path, family, &measured, peak.gflops).map_err(|e| std::io::Error::other(e.to_string()))? {
            written.push(svg_path);
        }
    }
    Ok(written)
}

/// GFLOP/s of the step benchmarks against k' (log scale), one line per (benchmark id, d, B),
/// with the calibrated peak as a horizontal line. Returns whether there was anything to draw.
fn step_figure(
    path: &Path,
    family: &str,
    rows: &[&Measurement],
    peak: Option<f64>,
) -> Result<bool, Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let mut lines: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for m in rows.iter().filter(|m| m.group.starts_with("step-")) {
        if let (Some((d, k, b)), Some(g)) = (shape(&m.parameter), m.giga_work_per_s()) {
            lines.entry(format!("{} {} d={d} B={b}", m.group, m.function)).or_default().push((k as f64, g));
        }
    }
    if lines.is_empty() {
        return Ok(false);
    }
    let points = lines.values().flatten();
    let (x0, x1) = points.clone().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let y1 = points.fold(peak.unwrap_or(0.0), |a, p| a.max(p.1));
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{family}: training-step throughput (4·B·d·k' FLOPs per step)"), ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d((x0 / 1.2..x1 * 1.2).log_scale(), 0f64..y1 * 1.1)?;
    chart.configure_mesh().x_desc("k'").y_desc("GFLOP/s").draw()?;
    for (i, (name, mut pts)) in lines.into_iter().enumerate() {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
    }
    if let Some(p) = peak {
        chart
            .draw_series(LineSeries::new([(x0 / 1.2, p), (x1 * 1.2, p)], BLACK.mix(0.4)))?
            .label("calibrated peak")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.mix(0.4)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 10))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()?;
    root.present()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shapes_and_dates() {
        assert_eq!(shape("d64_k256_B4096"), Some((64, 256, 4096)));
        assert_eq!(shape("gemm-2048"), None);
        assert_eq!(utc_now().len(), 16);
    }

    #[test]
    fn reads_criterion_output_and_computes_throughput_and_peaks() {
        let dir = tempfile::tempdir().unwrap();
        let put = |group: &str, function: &str, value: &str, median: f64, throughput: &str| {
            let d = dir.path().join(group).join(function).join(value).join("new");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(
                d.join("benchmark.json"),
                format!(r#"{{"group_id":"{group}","function_id":"{function}","value_str":"{value}","throughput":{throughput}}}"#),
            )
            .unwrap();
            let est = format!(
                r#"{{"median":{{"point_estimate":{median},"standard_error":1.0,"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}}}}}}"#,
                median * 0.9,
                median * 1.1
            );
            std::fs::write(d.join("estimates.json"), est).unwrap();
        };
        put(
            "step-fresh",
            "cpu",
            "d64_k256_B4096",
            1e6,
            r#"{"ElementsAndBytes":{"elements":268435456,"bytes":4000000}}"#,
        );
        put("calibration", "cpu", "gemm-2048", 5e7, r#"{"ElementsAndBytes":{"elements":17179869184,"bytes":0}}"#);
        put("calibration", "cpu", "copy-256MiB", 1e7, r#"{"ElementsAndBytes":{"elements":0,"bytes":536870912}}"#);
        let m = read_criterion(dir.path()).unwrap();
        assert_eq!(m.len(), 3);
        let step = m.iter().find(|m| m.group == "step-fresh").unwrap();
        assert!((step.giga_work_per_s().unwrap() - 268.435456).abs() < 1e-9);
        let p = peaks(&m)["cpu"];
        assert!((p.gflops.unwrap() - 343.59738368).abs() < 1e-9);
        assert!((p.gb_per_s.unwrap() - 53.6870912).abs() < 1e-9);
        let files = write_report(&m, &[], dir.path()).unwrap();
        assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "svg")), "{files:?}");
        let md = std::fs::read_to_string(&files[0]).unwrap();
        assert!(
            md.contains("| step-fresh | cpu |  | 64 | 256 | 4096 | 1.0000 | [0.9000, 1.1000] | 268.435 | GFLOP/s |"),
            "{md}"
        );
        assert!(md.contains("| 78.1 |"), "% of peak: 268.4/343.6 = 78.1%\n{md}");

        // On a GPU with a datasheet, each kernel gets its roofline: 268 435 456 FLOPs over 4 MB is
        // 67.1 FLOP/byte, above an H100's ridge (66 900 / 3 350 ≈ 20), so the ceiling is its FP32 peak.
        let info = |backend: &str, adapter: &str| crate::backends::BackendInfo {
            backend: backend.into(),
            adapter: adapter.into(),
            api: "vulkan".into(),
            device_type: "DiscreteGpu".into(),
            driver: "test".into(),
            gemm: "16x16 lanes, 8x8 blocks, 128x128 tiles (tuned)".into(),
        };
        let gpu: Vec<Measurement> =
            m.iter().map(|x| Measurement { function: x.function.replace("cpu", "wgpu-device"), ..x.clone() }).collect();
        let gpu_dir = dir.path().join("gpu");
        std::fs::create_dir_all(&gpu_dir).unwrap();
        let files = write_report(&gpu, &[info("wgpu", "NVIDIA H100 80GB HBM3")], &gpu_dir).unwrap();
        let md = std::fs::read_to_string(&files[0]).unwrap();
        assert!(md.contains("| 0.268 | 4.000 | 67.11 | 66900 | 0.4 |"), "roofline columns\n{md}");
        assert!(
            md.contains("H100 datasheet (66.9 TFLOP/s FP32, 3350 GB/s; vendor figures, not measured here)"),
            "{md}"
        );

        // A median of 0 ns (work optimised away) has no rate; the report and its figure finish.
        put("step-fixed", "cpu", "d64_k512_B4096", 0.0, r#"{"ElementsAndBytes":{"elements":268435456,"bytes":4}}"#);
        let m = read_criterion(dir.path()).unwrap();
        let zero = m.iter().find(|m| m.group == "step-fixed").unwrap();
        assert_eq!((zero.giga_work_per_s(), zero.throughput(), zero.gb_per_s()), (None, None, None));
        let (tx, rx) = std::sync::mpsc::channel();
        let out = dir.path().join("zero");
        std::thread::spawn(move || tx.send(write_report(&m, &[], &out).map(|f| f.len())).unwrap());
        let written = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the report finishes");
        assert!(written.unwrap() >= 2);
    }
}
