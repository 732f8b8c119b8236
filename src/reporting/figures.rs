//! SVG figures of sweeps (plotters): per learner a success heatmap over d × σ, and the
//! distinguishing advantage against d with 95% error bars.

use std::path::Path;

use plotters::prelude::*;

use super::summary::{Advantage, PointSummary, Regime};
use crate::learners::LearnerKind;

/// What drawing a figure returns.
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws a chart's legend (framed, on a translucent white box) at `position`.
pub fn legend_box<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, position: SeriesLabelPosition) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart.configure_series_labels().position(position).border_style(BLACK).background_style(WHITE.mix(0.9)).draw()?;
    Ok(())
}

/// The powers of `base` within [low, high], as axis key points.
pub fn powers(base: f64, low: f64, high: f64) -> Vec<f64> {
    (-4..40).map(|e| base.powi(e)).filter(|v| (low..=high).contains(v)).collect()
}

/// One heatmap per (learner, data, noise model) of the success rate: a column per d, a row per
/// σ (per (σ, β) pair where β varies). Cells live on a continuous [0, columns] × [0, rows] grid,
/// so a single row or column is as tall or wide as any other, and the canvas never shrinks below
/// its title, which names the learner's budget (`budget(learner)`).
pub fn success_heatmaps(dir: &Path, summaries: &[PointSummary], budget: &dyn Fn(LearnerKind) -> String) -> DrawResult {
    let panel = |s: &PointSummary| (s.learner, s.data, s.noise);
    let mut panels: Vec<_> = summaries.iter().map(panel).collect();
    panels.sort_unstable();
    panels.dedup();
    for (learner, data, noise) in panels {
        let cells: Vec<&PointSummary> = summaries.iter().filter(|s| panel(s) == (learner, data, noise)).collect();
        let mut ds: Vec<usize> = cells.iter().map(|s| s.d).collect();
        ds.sort_unstable();
        ds.dedup();
        let mut betas: Vec<&str> = cells.iter().map(|s| s.beta.as_str()).collect();
        betas.sort_unstable();
        betas.dedup();
        let row_name = |s: &PointSummary| {
            if betas.len() > 1 { format!("σ={}, β={}", s.sigma, s.beta) } else { s.sigma.clone() }
        };
        let mut rows: Vec<(super::summary::OrderedF64, String)> =
            cells.iter().map(|s| (s.sigma_order, row_name(s))).collect();
        rows.sort(); // by σ, then name; a form such as 1/d has a value per d, so keep each name once
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.1.clone()));
        let (name, data, noise) = (learner.name(), data.name(), noise.name());
        let path = dir.join(format!("success-{name}-{data}-{noise}.svg"));
        let label_width = if betas.len() > 1 { 150 } else { 70 };
        let caption = format!("{name} ({data}, {noise} noise): learned fraction — {}", budget(learner));
        let caption_width = 7 * caption.chars().count() as u32 + 40;
        let size = (
            (label_width + 60 + 90 * ds.len() as u32).max(420).max(caption_width),
            (100 + 40 * rows.len() as u32).max(180),
        );
        let root = SVGBackend::new(&path, size).into_drawing_area();
        root.fill(&WHITE)?;
        let (nx, ny) = (ds.len() as f64, rows.len() as f64);
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 13))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0f64..nx, 0f64..ny)?;
        let centre_name = |v: f64, names: &dyn Fn(usize) -> Option<String>| {
            let i = (v - 0.5).round();
            if (v - 0.5 - i).abs() < 1e-9 && i >= 0.0 { names(i as usize).unwrap_or_default() } else { String::new() }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("d")
            .y_desc(if betas.len() > 1 { "σ, β" } else { "σ" })
            .x_labels(2 * ds.len() + 1)
            .y_labels(2 * rows.len() + 1)
            .x_label_formatter(&|v| centre_name(*v, &|i| ds.get(i).map(|d| d.to_string())))
            .y_label_formatter(&|v| centre_name(*v, &|i| rows.get(i).map(|r| r.1.clone())))
            .draw()?;
        for s in &cells {
            let x = ds.iter().position(|d| *d == s.d).expect("listed") as f64;
            let y = rows.iter().position(|r| r.1 == row_name(s)).expect("listed") as f64;
            let shade = RGBColor((255.0 * (1.0 - s.success_rate)) as u8, (120.0 + 100.0 * s.success_rate) as u8, 90);
            chart.draw_series([Rectangle::new([(x, y), (x + 1.0, y + 1.0)], shade.filled())])?;
            chart.draw_series([Text::new(
                format!("{}/{}", s.learned, s.runs),
                (x + 0.5, y + 0.5),
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
    let mut regimes: Vec<Regime> = advantages.iter().map(|a| a.regime).collect();
    regimes.sort_unstable(); // valid first
    regimes.dedup();
    let mut learners: Vec<LearnerKind> = advantages.iter().map(|a| a.learner).collect();
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
            .caption(format!("advantage, {} regime (95% intervals)", regime.name()), ("sans-serif", 15))
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
        legend.draw(&Text::new(learner.name(), (x + 12, 23), ("sans-serif", 14)))?;
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

/// `traces-<learner>.svg` for each student learner whose runs carry training traces: held-out r
/// against training samples (log scale), one line per run, coloured by d (a legend entry per d).
pub fn trace_plots(dir: &Path, rows: &[crate::experiments::runs::RunRecord]) -> DrawResult {
    use crate::learners::Details;
    let traced: Vec<(LearnerKind, usize, &[crate::learners::students::TracePoint])> = rows
        .iter()
        .filter_map(|r| match &r.details {
            Details::Student(s) if !s.trace.is_empty() => Some((r.spec.learner, r.spec.d, s.trace.as_slice())),
            _ => None,
        })
        .collect();
    let mut learners: Vec<LearnerKind> = traced.iter().map(|t| t.0).collect();
    learners.sort_unstable();
    learners.dedup();
    for learner in learners {
        let runs: Vec<_> = traced.iter().filter(|t| t.0 == learner).collect();
        let learner = learner.name();
        let mut dims: Vec<usize> = runs.iter().map(|t| t.1).collect();
        dims.sort_unstable();
        dims.dedup();
        let points = runs.iter().flat_map(|t| t.2.iter());
        let (s_min, s_max, r_min, r_max) = points.fold((f64::MAX, 1.0f64, -0.1f64, 0.1f64), |(s0, s1, lo, hi), p| {
            let s = p.samples.max(1) as f64;
            (s0.min(s), s1.max(s), lo.min(p.r), hi.max(p.r))
        });
        let x_range = (s_min / 1.5)..(s_max * 1.5);
        let path = dir.join(format!("traces-{learner}.svg"));
        let root = SVGBackend::new(&path, (640, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{learner}: held-out r = Δ/Var f during training"), ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(x_range.clone().log_scale(), (r_min - 0.05)..(r_max + 0.05))?;
        chart
            .configure_mesh()
            .x_desc("training samples")
            .y_desc("r")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart.draw_series(LineSeries::new([(x_range.start, 0.0), (x_range.end, 0.0)], BLACK.mix(0.4)))?;
        for (i, d) in dims.iter().enumerate() {
            let color = learner_color(i);
            for (n, run) in runs.iter().filter(|t| t.1 == *d).enumerate() {
                let line = run.2.iter().map(|p| (p.samples.max(1) as f64, p.r));
                let series = chart.draw_series(LineSeries::new(line, color.stroke_width(1)))?;
                if n == 0 {
                    series
                        .label(format!("d = {d}"))
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
                }
            }
        }
        legend_box(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()?;
    }
    Ok(())
}

/// The colour of learner `i`.
pub(crate) fn learner_color(i: usize) -> RGBAColor {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporting::summary::test_summary;

    fn cell(d: usize, beta: &str, learned: usize) -> PointSummary {
        test_summary(LearnerKind::Adam, crate::sampling::DataKind::Planted, d, beta, learned)
    }

    /// The (width, height) of every filled rectangle in an SVG file.
    fn rects(svg: &str) -> Vec<(f64, f64)> {
        let attr = |tag: &str, name: &str| {
            let at = tag.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3)?;
            tag[at..].split('"').next()?.parse::<f64>().ok()
        };
        svg.split("<rect").skip(1).filter_map(|t| Some((attr(t, "width")?, attr(t, "height")?))).collect()
    }

    #[test]
    fn a_single_row_or_column_draws_full_cells_one_row_per_sigma_beta_pair() {
        let dir = tempfile::tempdir().unwrap();
        // One σ (a form whose value differs per d), two β: two rows, not one per d and β value.
        let cells: Vec<PointSummary> =
            [2, 4, 8].iter().flat_map(|&d| [cell(d, "2^-24/d", 1), cell(d, "1/d", 0)]).collect();
        let budget = |learner: LearnerKind| format!("{} budget: 1000 steps", learner.name());
        success_heatmaps(dir.path(), &cells, &budget).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("success-adam-planted-gaussian.svg")).unwrap();
        let full: Vec<(f64, f64)> = rects(&svg).into_iter().filter(|(w, h)| *w > 20.0 && *h > 20.0).collect();
        assert!(full.len() >= 6, "six cells of real size: {:?}", rects(&svg));
        assert_eq!(svg.matches("σ=1/d, β=2^-24/d").count(), 1, "one row per (σ, β) pair");
        assert!(svg.contains("adam budget: 1000 steps"), "the title carries the budget");
        // A single cell (one d, one σ) is drawn too.
        let one = tempfile::tempdir().unwrap();
        success_heatmaps(one.path(), &[cell(2, "1/d", 4)], &budget).unwrap();
        let svg = std::fs::read_to_string(one.path().join("success-adam-planted-gaussian.svg")).unwrap();
        assert!(rects(&svg).iter().any(|(w, h)| *w > 100.0 && *h > 50.0), "{:?}", rects(&svg));
    }
}
