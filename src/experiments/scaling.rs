//! The scaling study (`clwe-bench sweep scaling`, SPEC §10 experiment 4): training-step
//! throughput against the width k' at fixed d, and against d at fixed k', on every backend
//! present; a table per backend with the fitted cost-growth exponent (slope of log time per step
//! against log k' or log d; 1 is ideal for a step costing 4·B·d·k'), and log–log SVG figures
//! with the ideal slope drawn. `clwe-bench sweep scaling` runs it through the result store, with
//! the same resume, restart, lock and fingerprint rules as every sweep.

use std::path::Path;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::bench_step::{StepData, Variant, bench_config, bench_step, median};
use super::store::{DirRows, Mode, ResultsFile, Store, StoreGrid, StoredRow};
use crate::backends::{BackendInfo, Engine};
use crate::error::{Error, Result};
use crate::reporting::atomic::write_file_atomically;
use crate::reporting::table::markdown_table;

/// Which axis a point varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// k' varies at fixed d.
    Width,
    /// d varies at fixed k'.
    Dimension,
}

/// One measured point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingRow {
    /// The backend and adapter.
    pub backend: BackendInfo,
    /// The axis.
    pub axis: Axis,
    /// d.
    pub d: usize,
    /// k'.
    pub k: usize,
    /// B.
    pub batch: usize,
    /// Median seconds per step (fresh samples) over 3 repeats.
    pub seconds_per_step: f64,
    /// GFLOP/s on 4·B·d·k'.
    pub gflops: f64,
    /// Median device seconds per step, where measured.
    pub device_seconds_per_step: Option<f64>,
}

impl StoredRow for ScalingRow {
    fn key(&self) -> String {
        point_key(&self.backend, (self.axis, self.d, self.k, self.batch))
    }
}

/// One point of the study on one backend.
fn point_key(backend: &BackendInfo, (axis, d, k, batch): (Axis, usize, usize, usize)) -> String {
    format!("{}|{}|{axis:?}|{d}|{k}|{batch}", backend.backend, backend.adapter)
}

/// The study's grid: its full size, or the tiny one of smoke runs (`CLWE_BENCH_GRID=smoke`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingGrid {
    /// Always `scaling`.
    pub name: String,
    /// Whether this is the smoke-sized study.
    pub smoke: bool,
}

impl ScalingGrid {
    /// The study, full or smoke-sized.
    pub fn new(smoke: bool) -> Self {
        Self { name: "scaling".into(), smoke }
    }
}

impl StoreGrid for ScalingGrid {
    fn is_published(file: &str) -> bool {
        file == "scaling.md" || (file.starts_with("scaling-") && file.ends_with(".svg"))
    }
}

/// The points: k' ∈ {256 … 4096} at d = 256 and d ∈ {64 … 1024} at k' = 1024, B = 4096 (a tiny
/// version for smoke runs).
pub fn points(smoke: bool) -> Vec<(Axis, usize, usize, usize)> {
    if smoke {
        return vec![
            (Axis::Width, 8, 16, 256),
            (Axis::Width, 8, 32, 256),
            (Axis::Dimension, 8, 16, 256),
            (Axis::Dimension, 16, 16, 256),
        ];
    }
    let widths = [256, 512, 1024, 2048, 4096].map(|k| (Axis::Width, 256, k, 4096));
    let dims = [64, 128, 256, 512, 1024].map(|d| (Axis::Dimension, d, 1024, 4096));
    widths.into_iter().chain(dims).collect()
}

/// Measures every point of `grid` not yet in `dir` on each engine, then writes the tables and
/// figures. `report` is called with a line per finished point.
pub fn run_scaling(
    dir: &Path,
    grid: &ScalingGrid,
    mode: Mode,
    engines: &[Box<dyn Engine>],
    mut report: impl FnMut(&str),
) -> Result<usize> {
    let store = Store::open::<_, ScalingRow>(dir, grid, ResultsFile::Main, mode)?;
    let done = DirRows::<ScalingRow>::read(dir)?.done_keys();
    let mut ran = 0;
    for engine in engines {
        let info = engine.info();
        for point in points(grid.smoke) {
            let (axis, d, k, batch) = point;
            if done.contains(&point_key(&info, point)) {
                continue;
            }
            let config = bench_config(d, k, batch, StepData::Fresh)?;
            let fresh = [Variant { engine: engine.as_ref(), data: StepData::Fresh }];
            // One timed step sizes the repeats to about 0.3 s each (at least one step).
            let probe = bench_step(&fresh, (d, k, batch), 1, 1, 1, |_| {})?;
            let steps = ((0.3 * probe[0].steps_per_s).ceil() as u64).clamp(1, 200);
            let records = bench_step(&fresh, (d, k, batch), 1, steps, 3, |_| {})?;
            let seconds_per_step = median(&records.iter().map(|r| 1.0 / r.steps_per_s).collect::<Vec<_>>());
            let device: Vec<f64> = records.iter().filter_map(|r| r.device_seconds.map(|s| s / steps as f64)).collect();
            let row = ScalingRow {
                backend: info.clone(),
                axis,
                d,
                k,
                batch,
                seconds_per_step,
                gflops: config.step_flops() / seconds_per_step / 1e9,
                device_seconds_per_step: (!device.is_empty()).then(|| median(&device)),
            };
            store.append(&row)?;
            report(&format!(
                "{} {:?} d={d} k'={k} B={batch}: {:.4} s/step, {:.1} GFLOP/s",
                info.backend, axis, seconds_per_step, row.gflops
            ));
            ran += 1;
        }
    }
    let rows = DirRows::<ScalingRow>::read(dir)?.unique_rows();
    write_scaling_report(dir, &rows).map_err(Error::io(dir))?;
    Ok(ran)
}

/// Least-squares slope of ln y against ln x.
pub fn log_log_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = points.iter().map(|(x, y)| (x.ln(), y.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = lx.iter().map(|x| (x - mx).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

fn write_scaling_report(dir: &Path, rows: &[ScalingRow]) -> std::io::Result<()> {
    let mut groups: Vec<(String, String, Axis)> =
        rows.iter().map(|r| (r.backend.backend.clone(), r.backend.adapter.clone(), r.axis)).collect();
    groups.sort_by(|a, b| (&a.0, &a.1, a.2 as u8).cmp(&(&b.0, &b.1, b.2 as u8)));
    groups.dedup();
    let mut md = String::from(
        "# Scaling: training-step throughput against k' and d\n\nFresh samples every step (SPEC §7 step), \
         medians of 3 repeats; FLOPs 4·B·d·k' per step. The fitted exponent is the least-squares slope of \
         log(time per step) against log k' (or log d): 1 means cost grows in proportion, as the FLOP count does; \
         below 1, fixed costs still matter at the small end.\n\n",
    );
    for (backend, adapter, axis) in groups {
        let mut sel: Vec<&ScalingRow> = rows
            .iter()
            .filter(|r| r.backend.backend == backend && r.backend.adapter == adapter && r.axis == axis)
            .collect();
        sel.sort_by_key(|r| (r.k, r.d));
        let x = |r: &ScalingRow| if axis == Axis::Width { r.k as f64 } else { r.d as f64 };
        let slope = log_log_slope(&sel.iter().map(|r| (x(r), r.seconds_per_step)).collect::<Vec<_>>());
        let axis_name = if axis == Axis::Width { "k'" } else { "d" };
        let products = sel.last().map(|r| &r.backend.gemm).filter(|g| !g.is_empty());
        md += &format!(
            "## {backend} ({adapter}): varying {axis_name}\n\n{}fitted exponent: {}\n\n",
            products.map_or(String::new(), |g| format!("products: {g}\n\n")),
            slope.map_or("–".into(), |s| format!("{s:.2}"))
        );
        let body: Vec<Vec<String>> = sel
            .iter()
            .map(|r| {
                vec![
                    r.d.to_string(),
                    r.k.to_string(),
                    r.batch.to_string(),
                    format!("{:.3}", 1e3 * r.seconds_per_step),
                    format!("{:.1}", r.gflops),
                    r.device_seconds_per_step.map_or("–".into(), |s| format!("{:.3}", 1e3 * s)),
                ]
            })
            .collect();
        md += &markdown_table(&["d", "k'", "B", "ms/step", "GFLOP/s", "device ms/step"], &body);
        md.push('\n');
        let file =
            dir.join(format!("scaling-{backend}-{}.svg", if axis == Axis::Width { "width" } else { "dimension" }));
        draw_log_log(
            &file,
            &format!("{backend} ({adapter}): time per step vs {axis_name}"),
            axis_name,
            &sel.iter().map(|r| (x(r), r.seconds_per_step)).collect::<Vec<_>>(),
        )
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    write_file_atomically(&dir.join("scaling.md"), md.as_bytes())
}

fn draw_log_log(
    path: &Path,
    title: &str,
    x_name: &str,
    points: &[(f64, f64)],
) -> Result<(), Box<dyn std::error::Error>> {
    if points.is_empty() {
        return Ok(());
    }
    let (x0, x1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let root = SVGBackend::new(path, (560, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d((x0 / 1.3..x1 * 1.3).log_scale(), (y0 / 2.0..y1 * 2.0).log_scale())?;
    chart.configure_mesh().x_desc(x_name).y_desc("seconds per step").draw()?;
    chart
        .draw_series(LineSeries::new(points.iter().copied(), BLUE.stroke_width(2)))?
        .label("measured")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
    chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, BLUE.filled())))?;
    // The ideal slope 1 through the first point.
    let ideal = [(x0, points[0].1), (x1, points[0].1 * x1 / x0)];
    chart
        .draw_series(LineSeries::new(ideal, BLACK.mix(0.5)))?
        .label("ideal slope 1")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.mix(0.5)));
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn slope_of_a_power_law() {
        let pts: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0].iter().map(|&x: &f64| (x, 3.0 * x.powf(1.5))).collect();
        assert!((super::log_log_slope(&pts).unwrap() - 1.5).abs() < 1e-12);
        assert_eq!(super::log_log_slope(&pts[..1]), None);
    }
}
