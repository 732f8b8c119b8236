//! The compute-to-learn figures: samples to learn against γ_s² (one per learner), FLOPs to
//! learn against d, and the width needed against d beside SPEC §9's heuristic.

use std::path::Path;

use plotters::prelude::*;

use super::{
    Arm, ComputeGrid, ComputeRow, LevelSummary, censored_median, ladders, median_misalignment, predicted_width,
};
use crate::reporting::figures::{DrawResult, learner_color, legend_box, powers};

/// Every figure of the study.
pub(super) fn draw(dir: &Path, grid: &ComputeGrid, levels: &[LevelSummary], rows: &[ComputeRow]) -> DrawResult {
    for &learner in &grid.learners {
        let of: Vec<&LevelSummary> = levels.iter().filter(|l| l.learner == learner).collect();
        samples_figure(dir, grid, learner.name(), &of)?;
        flops_figure(dir, grid, learner.name(), &of)?;
    }
    width_figure(dir, grid, rows)
}

/// A line's legend entry.
fn legend(color: RGBAColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
}

/// Key points of a log axis over [low, high] (powers of 10, or of 2 on a short range).
fn log_keys(low: f64, high: f64) -> Vec<f64> {
    let tens = powers(10.0, low, high);
    if tens.len() >= 3 { tens } else { powers(2.0, low, high) }
}

/// `samples-to-learn-<learner>.svg`: every learned instance, the median per level joined per d,
/// and from each d's first median a dashed line of SPEC §9's slope for the initial neuron best
/// aligned with w, 4π²(1 − ρ²_max) (the random-direction slope 4π²(1 − 1/d) is off the chart).
fn samples_figure(dir: &Path, grid: &ComputeGrid, learner: &str, levels: &[&LevelSummary]) -> DrawResult {
    let points: Vec<(f64, f64)> =
        levels.iter().flat_map(|l| l.samples.iter().flatten().map(move |&s| (l.gamma_s * l.gamma_s, s))).collect();
    if points.is_empty() {
        return Ok(());
    }
    let x_max = levels.iter().map(|l| l.gamma_s * l.gamma_s).fold(0.0, f64::max) * 1.05;
    let (y_min, y_max) = points.iter().fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let (y_lo, y_hi) = (y_min / 2.0, y_max * 4.0);
    let path = dir.join(format!("samples-to-learn-{learner}.svg"));
    let root = SVGBackend::new(&path, (640, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{learner}: samples to weakly learn (B = {}, C = {:.1e}; dashed: 4π²(1−ρ²_max))",
                grid.batch, grid.cap_flops
            ),
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, (y_lo..y_hi).log_scale().with_key_points(log_keys(y_lo, y_hi)))?;
    chart.configure_mesh().x_desc("γ_s²").y_desc("samples (T·B)").y_label_formatter(&|v| format!("{v:.0e}")).draw()?;
    for (i, &d) in grid.d.iter().enumerate() {
        let color = learner_color(i);
        let of: Vec<&LevelSummary> = levels.iter().copied().filter(|l| l.d == d).collect();
        let medians: Vec<(f64, f64)> =
            of.iter().filter_map(|l| censored_median(&l.samples).map(|m| (l.gamma_s * l.gamma_s, m))).collect();
        chart.draw_series(
            of.iter()
                .flat_map(|l| l.samples.iter().flatten().map(|&s| (l.gamma_s * l.gamma_s, s)))
                .map(|p| Circle::new(p, 2, color.mix(0.5).filled())),
        )?;
        if let Some(&(x0, y0)) = medians.first() {
            chart
                .draw_series(LineSeries::new(medians.clone(), color.stroke_width(2)))?
                .label(format!("d = {d}"))
                .legend(legend(color));
            // SPEC §9's slope for the best-aligned initial neuron, through the first median.
            let Some(median) = median_misalignment(&of) else { continue };
            let slope = 4.0 * std::f64::consts::PI.powi(2) * median;
            let x1 = (x0 + (y_hi / y0).ln() / slope).min(x_max);
            chart.draw_series(DashedLineSeries::new(
                [(x0, y0), (x1, y0 * (slope * (x1 - x0)).exp())],
                4,
                4,
                color.stroke_width(1),
            ))?;
        }
    }
    legend_box(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present()?;
    Ok(())
}

/// `flops-to-learn-<learner>.svg`: the median FLOPs to learn against d, a line per γ form, and
/// the cap.
fn flops_figure(dir: &Path, grid: &ComputeGrid, learner: &str, levels: &[&LevelSummary]) -> DrawResult {
    let d_max = *grid.d.iter().max().expect("validated") as f64;
    let low = levels.iter().filter_map(|l| censored_median(&l.flops)).fold(grid.cap_flops, f64::min) / 2.0;
    let high = grid.cap_flops * 4.0;
    let path = dir.join(format!("flops-to-learn-{learner}.svg"));
    let root = SVGBackend::new(&path, (640, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{learner}: FLOPs to weakly learn (median; k' = {}·k, B = {})", grid.width_ratio, grid.batch),
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(1.5f64..d_max + 0.5, (low..high).log_scale().with_key_points(log_keys(low, high)))?;
    chart
        .configure_mesh()
        .x_desc("d")
        .y_desc("FLOPs (4·B·d·k'·T)")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()?;
    let cap = RGBColor(120, 120, 120).to_rgba();
    chart
        .draw_series(DashedLineSeries::new(
            [(1.5, grid.cap_flops), (d_max + 0.5, grid.cap_flops)],
            6,
            4,
            cap.stroke_width(1),
        ))?
        .label("cap C")
        .legend(legend(cap));
    for (i, &c) in grid.gamma.iter().enumerate() {
        let line: Vec<(f64, f64)> = levels
            .iter()
            .filter(|l| l.c == c)
            .filter_map(|l| censored_median(&l.flops).map(|f| (l.d as f64, f)))
            .collect();
        if line.is_empty() {
            continue;
        }
        let color = learner_color(i);
        chart.draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)))?
            .label(format!("γ = {c}·2√d"))
            .legend(legend(color));
    }
    legend_box(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

/// `width-needed.svg`: the smallest k' at which half the instances learned (an open triangle at
/// the widest k' tried where none did) beside (8πd)^((d−1)/2).
fn width_figure(dir: &Path, grid: &ComputeGrid, rows: &[ComputeRow]) -> DrawResult {
    let scan = &grid.width_scan;
    let Some(&d_max) = scan.d.iter().max() else { return Ok(()) };
    let mut marks = Vec::new();
    for (i, &learner) in grid.learners.iter().enumerate() {
        for &d in &scan.d {
            let cells: Vec<_> =
                scan.ratios.iter().map(|&r| ladders(rows, Arm::Student, learner, d, scan.gamma, r)).collect();
            let needed =
                cells.iter().find(|c| !c.is_empty() && 2 * c.iter().filter(|l| l.learned()).count() >= c.len());
            let widest = cells.iter().rev().find_map(|c| c.first().map(|l| l.width));
            match (needed.and_then(|c| c.first()), widest) {
                (Some(l), _) => marks.push((i, d as f64, l.width as f64, true)),
                (None, Some(w)) => marks.push((i, d as f64, w as f64, false)),
                (None, None) => {}
            }
        }
    }
    let high = marks.iter().map(|m| m.2).fold(predicted_width(d_max, 1.0), f64::max) * 4.0;
    let path = dir.join("width-needed.svg");
    let root = SVGBackend::new(&path, (640, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("width needed at γ = {}·2√d (filled: ≥ half learned; open: none of the widths)", scan.gamma),
            ("sans-serif", 14),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(
            1.5f64..d_max as f64 + 0.5,
            (1f64..high).log_scale().with_key_points(log_keys(1.0, high)),
        )?;
    chart.configure_mesh().x_desc("d").y_desc("k'").y_label_formatter(&|v| format!("{v:.0e}")).draw()?;
    let grey = RGBColor(90, 90, 90).to_rgba();
    // The heuristic at real d (a smooth curve through predicted_width's values).
    let curve = |e: f64| -> Vec<(f64, f64)> {
        (0..=40)
            .map(|i| 1.5 + (d_max as f64 - 1.0) * f64::from(i) / 40.0)
            .map(|d| (d, (8.0 * std::f64::consts::PI * d / e).powf((d - 1.0) / 2.0).max(1.0)))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(curve(100f64.ln()), grey.stroke_width(1)))?
        .label("(8πd/ln 100)^((d−1)/2): a neuron explaining 1%")
        .legend(legend(grey));
    chart
        .draw_series(DashedLineSeries::new(curve(1.0), 4, 4, grey.stroke_width(1)))?
        .label("(8πd)^((d−1)/2): SPEC §9")
        .legend(legend(grey));
    for (i, &learner) in grid.learners.iter().enumerate() {
        let color = learner_color(i);
        let mine: Vec<_> = marks.iter().filter(|m| m.0 == i).collect();
        // Learners side by side (sgd left of d, adam right), so equal widths do not hide each other.
        let shift = (i as f64 - 0.5) * 0.08;
        chart
            .draw_series(mine.iter().map(|m| {
                let style = if m.3 { color.filled() } else { color.stroke_width(2) };
                TriangleMarker::new((m.1 + shift, m.2), 6, style)
            }))?
            .label(learner.name())
            .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 5, color.filled()));
    }
    legend_box(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}
