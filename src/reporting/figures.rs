//! SVG figures of sweeps (plotters): per learner a success heatmap over d × σ, and the
//! distinguishing advantage against d with 95% error bars.

use std::path::Path;

use plotters::prelude::*;

use super::summary::{Advantage, PointSummary};

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// One heatmap per (learner, data, noise model) of the success rate over d × σ.
pub fn success_heatmaps(dir: &Path, summaries: &[PointSummary]) -> DrawResult {
    let mut panels: Vec<(String, String, String)> =
        summaries.iter().map(|s| (s.learner.clone(), s.data.clone(), s.noise.clone())).collect();
    panels.dedup();
    panels.sort();
    panels.dedup();
    for (learner, data, noise) in panels {
        let cells: Vec<&PointSummary> =
            summaries.iter().filter(|s| s.learner == learner && s.data == data && s.noise == noise).collect();
        let mut ds: Vec<usize> = cells.iter().map(|s| s.d).collect();
        ds.sort_unstable();
        ds.dedup();
        let mut sigmas: Vec<(super::summary::OrderedF64, String)> =
            cells.iter().map(|s| (s.sigma_order, s.sigma.clone())).collect();
        sigmas.sort();
        sigmas.dedup_by(|a, b| a.1 == b.1);
        let name = format!("success-{learner}-{data}-{noise}.svg");
        let path = dir.join(name);
        let root =
            SVGBackend::new(&path, (120 + 90 * ds.len() as u32, 90 + 40 * sigmas.len() as u32)).into_drawing_area();
        root.fill(&WHITE)?;
        let (nx, ny) = (ds.len() as i32, sigmas.len() as i32);
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{learner}: learned fraction ({data}, {noise} noise)"), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d((0..nx - 1).into_segmented(), (0..ny - 1).into_segmented())?;
        let label_of = |v: &SegmentValue<i32>, names: &dyn Fn(usize) -> Option<String>| match v {
            SegmentValue::CenterOf(i) => names(*i as usize).unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("d")
            .y_desc("σ")
            .x_labels(ds.len() + 1)
            .y_labels(sigmas.len() + 1)
            .x_label_formatter(&|v| label_of(v, &|i| ds.get(i).map(|d| d.to_string())))
            .y_label_formatter(&|v| label_of(v, &|i| sigmas.get(i).map(|s| s.1.clone())))
            .draw()?;
        for s in &cells {
            let x = ds.iter().position(|d| *d == s.d).expect("listed") as i32;
            let y = sigmas.iter().position(|v| v.1 == s.sigma).expect("listed") as i32;
            let shade = RGBColor((255.0 * (1.0 - s.success_rate)) as u8, (120.0 + 100.0 * s.success_rate) as u8, 90);
            let corners = [
                (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
            ];
            chart.draw_series([Rectangle::new(corners, shade.filled())])?;
            chart.draw_series([Text::new(
                format!("{}/{}", s.learned, s.runs),
                (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                ("sans-serif", 13).into_font().color(&BLACK).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                )),
            )])?;
        }
        root.present()?;
    }
    Ok(())
}

/// Advantage against d with 95% Newcombe intervals: one panel per regime ("valid" where the
/// reduction's guarantee holds, "no guarantee" elsewhere), the dimensions as evenly spaced
/// categories, each learner offset within its category with its own colour and marker, and the
/// legend in a strip of its own below the panels, so that no learner hides another.
pub fn advantage_plot(dir: &Path, advantages: &[Advantage]) -> DrawResult {
    if advantages.is_empty() {
        return Ok(());
    }
    let mut regimes: Vec<&str> = advantages.iter().map(|a| a.regime.as_str()).collect();
    regimes.sort_unstable_by(|a, b| b.cmp(a)); // "valid" first
    regimes.dedup();
    let mut learners: Vec<&str> = advantages.iter().map(|a| a.learner.as_str()).collect();
    learners.sort_unstable();
    learners.dedup();
    let mut dims: Vec<usize> = advantages.iter().map(|a| a.d).collect();
    dims.sort_unstable();
    dims.dedup();
    let path = dir.join("advantage.svg");
    let root = SVGBackend::new(&path, (420 * regimes.len() as u32 + 40, 470)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plots, legend) = root.split_vertically(400);
    let slot = 0.7 / learners.len() as f64;
    for (panel, regime) in plots.split_evenly((1, regimes.len())).iter().zip(&regimes) {
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("advantage, {regime} regime (95% intervals)"), ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(-0.5f64..dims.len() as f64 - 0.5, -0.35f64..1.1f64)?;
        let label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-9 && i >= 0.0 {
                dims.get(i as usize).map_or(String::new(), |d| d.to_string())
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("d")
            .y_desc("P(CLWE | CLWE) − P(CLWE | null)")
            .x_labels(dims.len())
            .x_label_formatter(&label)
            .disable_x_mesh()
            .draw()?;
        chart.draw_series(LineSeries::new([(-0.5, 0.0), (dims.len() as f64 - 0.5, 0.0)], BLACK.mix(0.4)))?;
        for (i, learner) in learners.iter().enumerate() {
            let color = learner_color(i);
            let offset = -0.35 + slot * (i as f64 + 0.5);
            let points: Vec<(f64, &Advantage)> = advantages
                .iter()
                .filter(|a| a.learner == *learner && a.regime == *regime)
                .map(|a| (dims.iter().position(|&d| d == a.d).unwrap_or(0) as f64 + offset, a))
                .collect();
            chart.draw_series(points.iter().map(|(x, a)| {
                ErrorBar::new_vertical(*x, a.ci95_low, a.advantage, a.ci95_high, color.stroke_width(2), 6)
            }))?;
            for (x, a) in &points {
                draw_marker(chart.plotting_area(), i, (*x, a.advantage), color)?;
            }
        }
    }
    // The legend: one entry per learner, in a row under the panels.
    let width = legend.dim_in_pixel().0 as i32;
    let step = (width - 40) / learners.len().max(1) as i32;
    for (i, learner) in learners.iter().enumerate() {
        let color = learner_color(i);
        let x = 30 + step * i as i32;
        draw_marker(&legend, i, (x, 30), color)?;
        legend.draw(&Text::new(learner.to_string(), (x + 12, 23), ("sans-serif", 14)))?;
    }
    root.present()?;
    Ok(())
}

/// Distinct, print-safe colours (Tableau 10), one per learner.
const LEARNER_COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// The colour of learner `i`.
fn learner_color(i: usize) -> RGBAColor {
    LEARNER_COLORS[i % LEARNER_COLORS.len()].to_rgba()
}

/// Draws learner `i`'s marker (shapes cycle: circle, triangle, cross, square) at `at` on `area`
/// (data coordinates in the panels, pixels in the legend).
fn draw_marker<CT>(area: &DrawingArea<SVGBackend<'_>, CT>, i: usize, at: CT::From, color: RGBAColor) -> DrawResult
where
    CT: plotters::coord::CoordTranslate,
    CT::From: Clone,
{
    match i % 4 {
        0 => area.draw(&Circle::new(at, 5, color.filled()))?,
        1 => area.draw(&TriangleMarker::new(at, 6, color.filled()))?,
        2 => area.draw(&Cross::new(at, 5, color.stroke_width(2)))?,
        _ => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], color.filled())))?,
    }
    Ok(())
}
