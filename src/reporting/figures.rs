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

/// Advantage against d, one line per learner, with 95% error bars.
pub fn advantage_plot(dir: &Path, advantages: &[Advantage]) -> DrawResult {
    if advantages.is_empty() {
        return Ok(());
    }
    let max_d = advantages.iter().map(|a| a.d).max().unwrap_or(1) as f64;
    let path = dir.join("advantage.svg");
    let root = SVGBackend::new(&path, (640, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("distinguishing advantage vs d (95% intervals)", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d((1f64..max_d * 1.5).log_scale(), -0.3f64..1.1f64)?;
    chart.configure_mesh().x_desc("d").y_desc("advantage").draw()?;
    let mut learners: Vec<&str> = advantages.iter().map(|a| a.learner.as_str()).collect();
    learners.sort_unstable();
    learners.dedup();
    for (i, learner) in learners.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let mut points: Vec<&Advantage> = advantages.iter().filter(|a| a.learner == *learner).collect();
        points.sort_by_key(|a| a.d);
        let jitter = 1.0 + 0.02 * i as f64;
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|a| (a.d as f64 * jitter, a.advantage)),
                color.stroke_width(2),
            ))?
            .label(*learner)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|a| {
            let x = a.d as f64 * jitter;
            ErrorBar::new_vertical(x, a.advantage - a.ci95, a.advantage, a.advantage + a.ci95, color.filled(), 6)
        }))?;
    }
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw()?;
    root.present()?;
    Ok(())
}
