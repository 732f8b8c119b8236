//! The lattice frontier (`clwe-bench sweep lll-frontier`, SPEC §10.6): where the attack of
//! `crate::attack` stops working, in triangle mode (planted labels, noise σ) and CLWE mode
//! (noise β, lattice convention), measured on the result store.
//!
//! Two measurements per (mode, d), each on the same `instances` independent instances:
//! - **N_min**, noiseless: the smallest precision at which the attack verifies the secret, by
//!   bisection between 1 bit and the noiseless default (`attack::minimal_precision`).
//! - **noise cells**: the attack as shipped (precision scanned for the noise) at noise 2^−k,
//!   k on a grid of `step_bits`. The cells start at the multiple of `step_bits` nearest the
//!   median N_min (the frontier sits there: a relation drowned by noise 2^−k needs N ≲ k, and
//!   LLL needs N ≳ N_min) and the `window` cells either side, and grow one cell at a time, at
//!   most `extend` per side, until a cell with ≥ 50% success sits next to a cell with less.
//!   The cells are chosen from finished rows only, so a resumed run picks the same ones.
//!
//! σ_max(d) is the largest noise on the grid with ≥ 50% success (a Wilson interval on each
//! rate); log₂(1/σ_max) is fitted against d·log₂d and against d², residuals and the better fit
//! reported. Shards split the (mode, d) groups, largest first onto the least-loaded shard.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::store::{DirRows, Mode, ResultsFile, Store, StoreGrid, StoredRow};
use super::sweep::Shard;
use crate::attack::{AttackInstance, AttackMode, AttackReport, attack, default_precision, minimal_precision};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::params::{NoiseModel, Problem};
use crate::reporting::atomic::write_file_atomically;
use crate::reporting::figures::powers;
use crate::reporting::fit::{Line, least_squares};
use crate::reporting::summary::{Z95, wilson, write_csv};
use crate::reporting::table::markdown_table;

/// The preset's grid, recorded in `grid.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontierGrid {
    /// Always `lll-frontier`.
    pub name: String,
    /// Input dimensions in triangle mode.
    pub triangle_d: Vec<usize>,
    /// Input dimensions in CLWE mode.
    pub clwe_d: Vec<usize>,
    /// Independent instances per cell (the same ones in every cell of a (mode, d)).
    pub instances: u32,
    /// The seed of the instances.
    pub seed: u64,
    /// Spacing of the noise grid, in bits of log₂(1/noise).
    pub step_bits: u32,
    /// Cells either side of the median N_min measured first.
    pub window: u32,
    /// Cells at most added per side to bracket the 50% point.
    pub extend: u32,
}

impl FrontierGrid {
    /// The preset, or its smoke-sized version (`CLWE_BENCH_GRID=smoke`).
    pub fn preset(smoke: bool) -> Self {
        let (triangle_d, clwe_d, instances) = if smoke {
            (vec![2, 4, 8], vec![2, 8], 3)
        } else {
            (vec![2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48], vec![2, 4, 8, 12, 16, 24, 32, 48, 64, 80, 96], 10)
        };
        Self { name: "lll-frontier".into(), triangle_d, clwe_d, instances, seed: 0, step_bits: 5, window: 1, extend: 4 }
    }

    /// Every (mode, d) group.
    fn groups(&self) -> Vec<(AttackMode, usize)> {
        let triangle = self.triangle_d.iter().map(|&d| (AttackMode::Triangle, d));
        triangle.chain(self.clwe_d.iter().map(|&d| (AttackMode::Clwe, d))).collect()
    }

    /// The groups `shard` runs: by estimated cost (dimension³ · default precision), largest
    /// first, each onto the shard with the least estimated work so far.
    fn groups_of(&self, shard: Option<Shard>) -> Vec<(AttackMode, usize)> {
        let Some(shard) = shard else { return self.groups() };
        shard.balanced(self.groups(), |&(mode, d)| {
            let dim = mode.dimension(d) as f64;
            dim.powi(3) * f64::from(default_precision(mode, d, 2.0 * (d as f64).sqrt()))
        })
    }
}

impl StoreGrid for FrontierGrid {
    fn is_published(file: &str) -> bool {
        matches!(file, "frontier.md" | "cells.csv") || (file.starts_with("frontier-") && file.ends_with(".svg"))
    }
}

/// One attack of the study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontierRow {
    /// Triangle or CLWE.
    pub mode: AttackMode,
    /// Input dimension.
    pub d: usize,
    /// Instance index.
    pub instance: u32,
    /// The noise is 2^−k for `Some(k)` (σ in triangle mode, β in CLWE mode); `None` is the
    /// noiseless N_min measurement.
    pub noise_bits: Option<u32>,
    /// The smallest precision that verified (noiseless rows; `None`: not even the default).
    pub n_min: Option<u32>,
    /// Whether a secret was verified (noise cells: by the scanning attack).
    pub verified: bool,
    /// Wall-clock seconds of the attack.
    pub seconds: f64,
    /// The attack's report (every N tried, samples, stages).
    pub report: AttackReport,
}

impl StoredRow for FrontierRow {
    fn key(&self) -> String {
        key(self.mode, self.d, self.noise_bits, self.instance)
    }
}

fn key(mode: AttackMode, d: usize, noise_bits: Option<u32>, instance: u32) -> String {
    format!("{mode:?}|{d}|{}|{instance}", noise_bits.map_or("noiseless".into(), |k| k.to_string()))
}

/// The problem of one cell: noise 2^−k in σ (triangle) or β (CLWE), γ = 2√d.
fn problem(grid: &FrontierGrid, mode: AttackMode, d: usize, noise_bits: Option<u32>) -> Result<Problem> {
    let noise = noise_bits.map_or(0.0, |k| 2f64.powi(-(k as i32)));
    let (beta, sigma) = if mode == AttackMode::Clwe { (noise, 0.0) } else { (0.0, noise) };
    Ok(Problem::new(d, None, Some(beta), Some(sigma), NoiseModel::Gaussian, grid.seed)?)
}

/// Runs one point: N_min by bisection when noiseless, else the scanning attack.
fn run_point(
    grid: &FrontierGrid,
    mode: AttackMode,
    d: usize,
    noise_bits: Option<u32>,
    instance: u32,
) -> Result<FrontierRow> {
    let p = problem(grid, mode, d, noise_bits)?;
    let clock = std::time::Instant::now();
    let (n_min, report) = match noise_bits {
        None => {
            let mut attack = AttackInstance::new(mode, &p, instance, false, default_precision(mode, d, p.gamma))?;
            let n = minimal_precision(&mut attack, 1, Deadline::NONE)?;
            (n, attack.report)
        }
        Some(_) => (None, attack(mode, &p, instance, false, crate::attack::Precision::Scan, Deadline::NONE)?),
    };
    // Noiseless: N_min exists exactly when the first try, at the default precision, verified.
    let (verified, seconds) = (report.verified, clock.elapsed().as_secs_f64());
    Ok(FrontierRow { mode, d, instance, noise_bits, n_min, verified, seconds, report })
}

/// Successes and runs of one noise cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cell {
    successes: usize,
    runs: usize,
}

impl Cell {
    fn passes(self) -> bool {
        2 * self.successes >= self.runs && self.runs > 0
    }
}

/// The noise cells of one group so far: k → its counts.
fn cells(rows: &[&FrontierRow]) -> BTreeMap<u32, Cell> {
    let mut cells: BTreeMap<u32, Cell> = BTreeMap::new();
    for r in rows {
        if let Some(k) = r.noise_bits {
            let c = cells.entry(k).or_default();
            c.runs += 1;
            c.successes += usize::from(r.verified);
        }
    }
    cells
}

/// The median N_min of a group's noiseless rows (a failure counts as above every N).
fn median_n_min(rows: &[&FrontierRow]) -> Option<u32> {
    let mut n: Vec<u32> = rows.iter().filter(|r| r.noise_bits.is_none()).map(|r| r.n_min.unwrap_or(u32::MAX)).collect();
    n.sort_unstable();
    n.get(n.len().saturating_sub(1) / 2).copied().filter(|&m| m != u32::MAX)
}

/// The noise cells a group needs given its finished rows: the window around the median N_min,
/// then one more cell on the side that lacks a bracket, within `extend` cells per side.
fn cells_needed(grid: &FrontierGrid, rows: &[&FrontierRow]) -> Vec<u32> {
    let Some(median) = median_n_min(rows) else { return Vec::new() };
    let step = grid.step_bits;
    let centre = (median + step / 2) / step * step;
    let lowest = centre.saturating_sub(step * (grid.window + grid.extend)).max(step);
    let highest = centre + step * (grid.window + grid.extend);
    let mut needed: Vec<u32> =
        (0..=2 * grid.window).map(|j| centre + step * j).filter_map(|k| k.checked_sub(step * grid.window)).collect();
    needed.retain(|&k| k >= step);
    let measured = cells(rows);
    let complete = |k: &u32| measured.get(k).is_some_and(|c| c.runs == grid.instances as usize);
    if !needed.iter().all(complete) {
        return needed;
    }
    loop {
        let done: Vec<(u32, Cell)> = needed.iter().map(|k| (*k, measured[k])).collect();
        if bracket(&done, step).is_some() {
            return needed;
        }
        // No adjacent fail/pass pair: all pass → larger noise (smaller k); else smaller noise.
        let next = if done.iter().all(|(_, c)| c.passes()) {
            needed[0].checked_sub(step).filter(|&k| k >= lowest)
        } else {
            Some(needed[needed.len() - 1] + step).filter(|&k| k <= highest)
        };
        match next {
            Some(k) => {
                needed.push(k);
                needed.sort_unstable();
                if !complete(&k) {
                    return needed;
                }
            }
            None => return needed,
        }
    }
}

/// The frontier among measured cells (ascending k): the smallest k whose cell passes with the
/// next larger noise (k − step) measured and failing.
fn bracket(cells: &[(u32, Cell)], step: u32) -> Option<u32> {
    cells.iter().find_map(|&(k, c)| {
        let above = cells.iter().find(|(j, _)| k >= step && *j == k - step);
        (c.passes() && above.is_some_and(|(_, a)| !a.passes())).then_some(k)
    })
}

/// Runs every missing point of `grid` (this shard's groups) into `dir`, then writes the tables
/// and figure from every results file there. `report` gets a line per finished point.
pub fn run_frontier(
    dir: &Path,
    grid: &FrontierGrid,
    shard: Option<Shard>,
    mode: Mode,
    mut report: impl FnMut(&str),
) -> Result<usize> {
    let file = shard.map_or(ResultsFile::Main, ResultsFile::Shard);
    let store = Store::open::<_, FrontierRow>(dir, grid, file, mode)?;
    let mut rows = DirRows::<FrontierRow>::read(dir)?.unique_rows();
    let mut ran = 0;
    for (attack_mode, d) in grid.groups_of(shard) {
        let mut run = |noise_bits: Option<u32>, instance: u32, rows: &mut Vec<FrontierRow>| -> Result<()> {
            if rows.iter().any(|r| r.key() == key(attack_mode, d, noise_bits, instance)) {
                return Ok(());
            }
            let row = run_point(grid, attack_mode, d, noise_bits, instance)?;
            store.append(&row)?;
            report(&format!(
                "{attack_mode:?} d={d} {} #{instance}: {} ({:.1} s)",
                noise_bits.map_or("noiseless".into(), |k| format!("noise 2^-{k}")),
                match (noise_bits, row.n_min) {
                    (None, Some(n)) => format!("N_min = {n}"),
                    (None, None) => "not verified at the default precision".into(),
                    (Some(_), _) => format!("verified {}", row.verified),
                },
                row.seconds
            ));
            rows.push(row);
            ran += 1;
            Ok(())
        };
        for instance in 0..grid.instances {
            run(None, instance, &mut rows)?;
        }
        loop {
            let group: Vec<&FrontierRow> = rows.iter().filter(|r| (r.mode, r.d) == (attack_mode, d)).collect();
            let done = cells(&group);
            let missing = cells_needed(grid, &group)
                .into_iter()
                .find(|k| done.get(k).is_none_or(|c| c.runs < grid.instances as usize));
            let Some(k) = missing else { break };
            for instance in 0..grid.instances {
                run(Some(k), instance, &mut rows)?;
            }
        }
    }
    // Every file again: shards running side by side finish at different times, and the last
    // one to finish publishes the whole study.
    publish(dir, grid, &DirRows::<FrontierRow>::read(dir)?.unique_rows())?;
    Ok(ran)
}

/// One line of the N_min table.
struct NMin {
    mode: AttackMode,
    d: usize,
    values: Vec<Option<u32>>,
    seconds: f64,
}

/// The frontier of one group.
struct Frontier {
    mode: AttackMode,
    d: usize,
    cells: Vec<(u32, Cell)>,
    /// k of σ_max = 2^−k, when bracketed.
    k: Option<u32>,
}

/// Nearest-rank quantile q of sorted values (failures sort last).
fn quantile(sorted: &[Option<u32>], q: f64) -> String {
    if sorted.is_empty() {
        return "–".into();
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].map_or("> default".into(), |n| n.to_string())
}

/// A least-squares line y = a + b·x with its residuals.
struct Fit {
    a: f64,
    b: f64,
    residuals: Vec<f64>,
    rms: f64,
}

/// The fit with its residuals, from three points on (two always fit exactly).
fn fit_line(points: &[(f64, f64)]) -> Option<Fit> {
    if points.len() < 3 {
        return None;
    }
    let Line { a, b } = least_squares(points)?;
    let residuals: Vec<f64> = points.iter().map(|(x, y)| y - (a + b * x)).collect();
    let rms = (residuals.iter().map(|r| r * r).sum::<f64>() / points.len() as f64).sqrt();
    Some(Fit { a, b, residuals, rms })
}

/// A law's name and its regressor x(d).
type Law = (&'static str, fn(f64) -> f64);

/// The two laws fitted: log₂(1/σ_max) against d·log₂d and against d².
const LAWS: [Law; 2] = [("d·log₂d", |d| d * d.log2()), ("d²", |d| d * d)];

fn summarise(grid: &FrontierGrid, rows: &[FrontierRow]) -> (Vec<NMin>, Vec<Frontier>) {
    let mut n_min = Vec::new();
    let mut frontiers = Vec::new();
    for (mode, d) in grid.groups() {
        let group: Vec<&FrontierRow> = rows.iter().filter(|r| (r.mode, r.d) == (mode, d)).collect();
        let mut values: Vec<Option<u32>> = group.iter().filter(|r| r.noise_bits.is_none()).map(|r| r.n_min).collect();
        if values.is_empty() {
            continue;
        }
        values.sort_by_key(|v| v.unwrap_or(u32::MAX));
        let seconds = group.iter().map(|r| r.seconds).sum();
        n_min.push(NMin { mode, d, values, seconds });
        let cells: Vec<(u32, Cell)> = cells(&group).into_iter().collect();
        let k = bracket(&cells, grid.step_bits);
        frontiers.push(Frontier { mode, d, cells, k });
    }
    (n_min, frontiers)
}

/// Writes `frontier.md`, `cells.csv` and one figure per mode.
fn publish(dir: &Path, grid: &FrontierGrid, rows: &[FrontierRow]) -> Result<()> {
    let (n_min, frontiers) = summarise(grid, rows);
    let mut md = format!(
        "# The lattice frontier\n\n`clwe-bench sweep lll-frontier` (grid fingerprint {}): {} independent instances \
         per (mode, d), seed {}, γ = 2√d; the same instances in every noise cell of a (mode, d) (common random \
         numbers across noise levels). Triangle mode attacks planted labels with noise σ; CLWE mode attacks CLWE \
         samples with noise β (lattice convention, standard deviation β/√(2π)). LLL with δ = 0.99. CPU time of \
         all rows: {:.0} s.\n\n",
        grid.fingerprint(),
        grid.instances,
        grid.seed,
        rows.iter().map(|r| r.seconds).sum::<f64>()
    );
    md += &n_min_section(&n_min);
    md += &sigma_max_section(&frontiers, grid.step_bits);
    md += "\n## Fitted laws\n\nlog₂(1/σ_max) = a + b·x by least squares over the bracketed d, for x = d·log₂d and \
           x = d²; residuals in bits.\n\n";
    for mode in [AttackMode::Triangle, AttackMode::Clwe] {
        md += &fit_section(mode, &frontiers);
        draw_figure(dir, mode, &frontiers_of(&frontiers, mode), &n_min_medians(&n_min, mode), grid.step_bits)
            .map_err(|e| Error::io(dir)(std::io::Error::other(e.to_string())))?;
    }
    write_csv(&dir.join("cells.csv"), &cell_rows(&frontiers)).map_err(Error::io(dir))?;
    write_file_atomically(&dir.join("frontier.md"), md.as_bytes()).map_err(Error::io(dir))
}

/// The table of N_min(d), the smallest precision that verifies without noise.
fn n_min_section(n_min: &[NMin]) -> String {
    let body: Vec<Vec<String>> = n_min
        .iter()
        .map(|m| {
            vec![
                m.mode.name().into(),
                m.d.to_string(),
                m.mode.dimension(m.d).to_string(),
                m.values.len().to_string(),
                quantile(&m.values, 0.5),
                quantile(&m.values, 0.9),
                default_precision(m.mode, m.d, 2.0 * (m.d as f64).sqrt()).to_string(),
                format!("{:.1}", m.seconds),
            ]
        })
        .collect();
    "## N_min(d): the smallest precision that verifies, noiseless\n\nBisection between 1 bit and the \
     noiseless default (each N_min verifies and N_min − 1 does not); nearest-rank percentiles.\n\n"
        .to_string()
        + &markdown_table(
            &["mode", "d", "lattice dim", "instances", "N_min median", "N_min p90", "default N", "CPU s (all cells)"],
            &body,
        )
}

/// The table of σ_max(d), with the success rates either side of it.
fn sigma_max_section(frontiers: &[Frontier], step_bits: u32) -> String {
    let wilson_text = |c: Cell| {
        let (lo, hi) = wilson(c.successes, c.runs, Z95);
        format!("{}/{} [{:.2}, {:.2}]", c.successes, c.runs, lo, hi)
    };
    let body: Vec<Vec<String>> = frontiers
        .iter()
        .map(|f| {
            let at = |k: u32| f.cells.iter().find(|(j, _)| *j == k).map(|(_, c)| *c);
            let (value, rate, above) = match f.k {
                Some(k) => (
                    format!("2^-{k}"),
                    at(k).map_or("–".into(), wilson_text),
                    at(k - step_bits).map_or("–".into(), wilson_text),
                ),
                None => (unbracketed(f), "–".into(), "–".into()),
            };
            vec![f.mode.name().into(), f.d.to_string(), value, rate, above]
        })
        .collect();
    format!(
        "\n## σ_max(d): the largest noise with ≥ 50% success\n\nNoise 2^−k on a {step_bits}-bit grid; the scanning \
         attack (as the `lll` learner runs it). σ_max (β_max in CLWE mode) is the largest noise whose cell verifies on \
         at least half the instances while the next larger noise does not; 95% Wilson intervals on both rates. \
         Every measured cell is in cells.csv.\n\n"
    ) + &markdown_table(&["mode", "d", "σ_max", "success at σ_max [95%]", "success at 2^step·σ_max [95%]"], &body)
}

/// One mode's fits of [`LAWS`] to log₂(1/σ_max) over its bracketed dimensions: the residuals
/// per d, each law's line and RMS, and which fits better.
fn fit_section(mode: AttackMode, frontiers: &[Frontier]) -> String {
    let points: Vec<(usize, f64)> =
        frontiers.iter().filter(|f| f.mode == mode).filter_map(|f| f.k.map(|k| (f.d, f64::from(k)))).collect();
    let fits: Option<Vec<(&str, Fit)>> = LAWS
        .iter()
        .map(|(name, x)| Some((*name, fit_line(&points.iter().map(|(d, y)| (x(*d as f64), *y)).collect::<Vec<_>>())?)))
        .collect();
    let title = format!("### {} mode\n\n", mode.name());
    let Some(fits) = fits else {
        return title + "Fewer than three bracketed dimensions: no fit.\n\n";
    };
    let mut body: Vec<Vec<String>> = points
        .iter()
        .enumerate()
        .map(|(i, (d, y))| {
            let mut row = vec![d.to_string(), format!("{y:.0}")];
            row.extend(fits.iter().map(|(_, f)| format!("{:+.1}", f.residuals[i])));
            row
        })
        .collect();
    let mut summary = vec!["fit".to_string(), String::new()];
    summary.extend(fits.iter().map(|(_, f)| format!("{:.2} + {:.4}·x, RMS {:.1}", f.a, f.b, f.rms)));
    body.push(summary);
    let headers: Vec<String> = ["d".into(), "log₂(1/σ_max)".into()]
        .into_iter()
        .chain(fits.iter().map(|(name, _)| format!("residual, x = {name}")))
        .collect();
    let best = fits.iter().min_by(|a, b| a.1.rms.total_cmp(&b.1.rms)).expect("two laws");
    title
        + &markdown_table(&headers.iter().map(String::as_str).collect::<Vec<_>>(), &body)
        + &format!("\nBetter fit: x = {} (smaller RMS residual).\n\n", best.0)
}

/// One measured noise cell of a (mode, d), as a row of `cells.csv`.
#[derive(Serialize)]
struct CellRow {
    mode: AttackMode,
    d: usize,
    noise_bits: u32,
    successes: usize,
    runs: usize,
    #[serde(serialize_with = "three_decimals")]
    rate: f64,
    #[serde(serialize_with = "three_decimals")]
    wilson95_low: f64,
    #[serde(serialize_with = "three_decimals")]
    wilson95_high: f64,
}

/// A rate as the table prints it, to three decimals.
fn three_decimals<S: serde::Serializer>(value: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{value:.3}"))
}

/// Every measured cell with its success rate and 95% Wilson interval (the rows of cells.csv).
fn cell_rows(frontiers: &[Frontier]) -> Vec<CellRow> {
    frontiers
        .iter()
        .flat_map(|f| {
            f.cells.iter().map(|&(noise_bits, c)| {
                let (wilson95_low, wilson95_high) = wilson(c.successes, c.runs, Z95);
                let rate = c.successes as f64 / c.runs as f64;
                CellRow {
                    mode: f.mode,
                    d: f.d,
                    noise_bits,
                    successes: c.successes,
                    runs: c.runs,
                    rate,
                    wilson95_low,
                    wilson95_high,
                }
            })
        })
        .collect()
}

/// What can be said of a group without a bracket.
fn unbracketed(f: &Frontier) -> String {
    match (f.cells.first(), f.cells.iter().all(|(_, c)| c.passes())) {
        (None, _) => "not measured".into(),
        (Some((k, _)), true) => format!("≥ 2^-{k} (every cell ≥ 50%)"),
        (Some(_), false) => match f.cells.iter().find(|(_, c)| c.passes()) {
            Some((k, _)) => format!("≈ 2^-{k} (rates not monotone)"),
            None => format!("< 2^-{} (every cell < 50%)", f.cells[f.cells.len() - 1].0),
        },
    }
}

/// (d, k of σ_max, k of the failing cell above it) of a mode's bracketed groups.
fn frontiers_of(frontiers: &[Frontier], mode: AttackMode) -> Vec<(usize, u32)> {
    frontiers.iter().filter(|f| f.mode == mode).filter_map(|f| f.k.map(|k| (f.d, k))).collect()
}

/// (d, median N_min) of a mode.
fn n_min_medians(n_min: &[NMin], mode: AttackMode) -> Vec<(usize, u32)> {
    n_min
        .iter()
        .filter(|m| m.mode == mode)
        .filter_map(|m| m.values.get((m.values.len() - 1) / 2).copied().flatten().map(|n| (m.d, n)))
        .collect()
}

/// `frontier-<mode>.svg`: log₂(1/σ_max) against d on log–log axes, each point with the bar up
/// to the failing cell above it, the median N_min, both fitted laws, and the paper's hard
/// regimes σ = 1/d and σ = 2^(−d^η), η = 0.25 and 0.49.
fn draw_figure(
    dir: &Path,
    mode: AttackMode,
    frontier: &[(usize, u32)],
    medians: &[(usize, u32)],
    step: u32,
) -> crate::reporting::figures::DrawResult {
    use plotters::prelude::*;
    if frontier.is_empty() {
        return Ok(());
    }
    let d_max = frontier.iter().chain(medians).map(|p| p.0).max().expect("non-empty") as f64;
    let k_max = frontier.iter().chain(medians).map(|p| p.1).max().expect("non-empty") as f64;
    let name = mode.name();
    let path = dir.join(format!("frontier-{name}.svg"));
    let root = SVGBackend::new(&path, (640, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let noise = if mode == AttackMode::Clwe { "β" } else { "σ" };
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("lattice attack, {name} mode: largest noise {noise}_max with ≥ 50% success"),
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (1.5f64..d_max * 1.3).log_scale().with_key_points(powers(2.0, 1.5, d_max * 1.3)),
            (0.3f64..k_max * 2.0).log_scale().with_key_points(powers(10.0, 0.3, k_max * 2.0)),
        )?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("d")
        .y_desc(format!("log₂(1/{noise})"))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let dense: Vec<f64> = (0..=100).map(|i| 1.5 * (d_max * 1.3 / 1.5).powf(f64::from(i) / 100.0)).collect();
    let mut curve = |label: String,
                     color: RGBColor,
                     dashed: bool,
                     f: &dyn Fn(f64) -> f64|
     -> crate::reporting::figures::DrawResult {
        let points: Vec<(f64, f64)> = dense.iter().map(|&d| (d, f(d))).filter(|p| p.1 > 0.3).collect();
        let style = color.stroke_width(if dashed { 1 } else { 2 });
        chart
            .draw_series(LineSeries::new(points, style))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
        Ok(())
    };
    let palette = [RGBColor(78, 121, 167), RGBColor(242, 142, 43)];
    for ((law, x), color) in LAWS.iter().zip(palette) {
        let points: Vec<(f64, f64)> = frontier.iter().map(|(d, k)| (x(*d as f64), f64::from(*k))).collect();
        if let Some(f) = fit_line(&points) {
            curve(format!("fit: {:.1} + {:.3}·{law}", f.a, f.b), color, false, &|d| f.a + f.b * x(d))?;
        }
    }
    let grey = RGBColor(120, 120, 120);
    curve(format!("{noise} = 1/d"), grey, true, &|d| d.log2())?;
    curve(format!("{noise} = 2^(−d^0.49)"), RGBColor(89, 161, 79), true, &|d| d.powf(0.49))?;
    curve(format!("{noise} = 2^(−d^0.25)"), RGBColor(176, 122, 161), true, &|d| d.powf(0.25))?;
    let red = RGBColor(225, 87, 89);
    chart
        .draw_series(frontier.iter().map(|&(d, k)| {
            let (hi, lo) = (f64::from(k), f64::from(k.saturating_sub(step)).max(0.3));
            ErrorBar::new_vertical(d as f64, lo, hi, hi, red.stroke_width(2), 6)
        }))?
        .label(format!("{noise}_max, bar to the failing cell"))
        .legend(move |(x, y)| Circle::new((x + 8, y), 3, red.filled()));
    chart.draw_series(frontier.iter().map(|&(d, k)| Circle::new((d as f64, f64::from(k)), 3, red.filled())))?;
    chart
        .draw_series(medians.iter().map(|&(d, n)| Cross::new((d as f64, f64::from(n)), 4, BLACK.stroke_width(1))))?
        .label("median N_min (noiseless)")
        .legend(|(x, y)| Cross::new((x + 8, y), 4, BLACK.stroke_width(1)));
    crate::reporting::figures::legend_box(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(successes: usize, runs: usize) -> Cell {
        Cell { successes, runs }
    }

    #[test]
    fn the_bracket_is_a_passing_cell_below_a_failing_one() {
        let cells = [(20, cell(1, 10)), (25, cell(5, 10)), (30, cell(10, 10))];
        assert_eq!(bracket(&cells, 5), Some(25));
        assert_eq!(bracket(&cells[1..], 5), None, "no failing cell measured above");
        assert_eq!(bracket(&[(20, cell(1, 10)), (30, cell(10, 10))], 5), None, "not adjacent");
    }

    #[test]
    fn a_fitted_line_recovers_its_law_with_zero_residuals() {
        let points: Vec<(f64, f64)> = [2.0, 4.0, 8.0, 16.0].iter().map(|&x| (x, 3.0 + 0.5 * x)).collect();
        let f = fit_line(&points).unwrap();
        assert!((f.a - 3.0).abs() < 1e-12 && (f.b - 0.5).abs() < 1e-12 && f.rms < 1e-12);
        assert!(fit_line(&points[..2]).is_none());
    }

    fn row(d: usize, noise_bits: Option<u32>, instance: u32, n_min: Option<u32>, verified: bool) -> FrontierRow {
        let report = AttackReport { verified, ..AttackReport::new(AttackMode::Triangle, d) };
        FrontierRow { mode: AttackMode::Triangle, d, instance, noise_bits, n_min, verified, seconds: 0.0, report }
    }

    #[test]
    fn cells_start_at_the_median_n_min_and_grow_until_bracketed() {
        let grid = FrontierGrid { instances: 2, ..FrontierGrid::preset(true) };
        let mut rows = vec![row(8, None, 0, Some(41), true), row(8, None, 1, Some(44), true)];
        let needed = |rows: &[FrontierRow]| cells_needed(&grid, &rows.iter().collect::<Vec<_>>());
        assert_eq!(needed(&rows), vec![35, 40, 45], "centre 41 → 40, one cell either side");
        for k in [35, 40, 45] {
            rows.extend((0..2).map(|i| row(8, Some(k), i, None, true)));
        }
        assert_eq!(needed(&rows), vec![30, 35, 40, 45], "every cell passes: one larger noise");
        rows.extend((0..2).map(|i| row(8, Some(30), i, None, false)));
        assert_eq!(needed(&rows), vec![30, 35, 40, 45], "bracketed: nothing more");
        let failing = vec![row(8, None, 0, None, false), row(8, None, 1, None, false)];
        assert!(needed(&failing).is_empty(), "no median N_min, no noise cells");
    }

    #[test]
    fn shards_split_the_groups_exactly() {
        let grid = FrontierGrid::preset(false);
        let mut all: Vec<(AttackMode, usize)> =
            (0..3).flat_map(|i| grid.groups_of(Some(Shard { index: i, count: 3 }))).collect();
        let mut expected = grid.groups();
        let order = |g: &(AttackMode, usize)| (g.0 as u8, g.1);
        all.sort_by_key(order);
        expected.sort_by_key(order);
        assert_eq!(all, expected);
    }
}
