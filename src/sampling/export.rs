//! Sample files: `.npy` (float64, C order, shape (n, d+1), or (n, d) for hCLWE and its null)
//! or `.csv` (header `y0..`/`x0..`, then `z`/`label`), plus `FILE.secret.json` on request.
//! Rows are generated in parallel in fixed-size chunks and written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;
use rayon::prelude::*;
use serde::Serialize;

use super::{Distribution, Sampler};
use crate::error::Error;
use crate::params::{NoiseModel, ParamError, ensure};
use crate::reporting::atomic::PendingFile;

/// Largest number of rows one file may hold.
pub const MAX_ROWS: u64 = 1 << 40;
/// Values generated per parallel chunk (32 MiB of f64).
const CHUNK_VALUES: usize = 1 << 22;

/// The number type of the written values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Dtype {
    /// float64 (`<f8`).
    #[default]
    F64,
    /// float32 (`<f4`), rounded to nearest.
    F32,
}

/// Which rows and columns of a sampler go to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    /// First sample index.
    pub start: u64,
    /// Rows.
    pub n: u64,
    /// Whether the label column (when the distribution has one) is written.
    pub labels: bool,
    /// The number type.
    pub dtype: Dtype,
}

impl Selection {
    /// The columns written per row for `sampler`.
    pub fn columns(&self, sampler: &Sampler) -> usize {
        if self.labels { sampler.row_len() } else { sampler.problem().d }
    }
}

/// The file format, from the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// NumPy `.npy`, float64.
    Npy,
    /// Comma-separated values with a header row.
    Csv,
}

impl Format {
    /// The format named by `path`'s extension.
    pub fn from_path(path: &Path) -> Result<Self, ParamError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("npy") => Ok(Self::Npy),
            Some("csv") => Ok(Self::Csv),
            _ => Err(ParamError {
                name: "--out".into(),
                value: path.display().to_string(),
                expected: "a file name ending in .npy or .csv".into(),
            }),
        }
    }
}

/// What `FILE.secret.json` holds: the secret and every parameter needed to reproduce the file.
#[derive(Debug, Serialize)]
pub struct SecretRecord<'a> {
    /// The distribution drawn.
    pub distribution: Distribution,
    /// The secret direction w (unit vector).
    pub w: &'a [f64],
    /// Input dimension.
    pub d: usize,
    /// γ, lattice convention.
    pub gamma: f64,
    /// γ_s = γ/√(2π), standard convention.
    pub gamma_s: f64,
    /// β, lattice convention.
    pub beta: f64,
    /// β_s = β/√(2π).
    pub beta_s: f64,
    /// σ, standard convention.
    pub sigma: f64,
    /// The label-noise model.
    pub noise: NoiseModel,
    /// The run seed.
    pub seed: u64,
    /// The teacher's cap M (planted rows).
    pub cap_m: u32,
    /// The teacher's width k = 4M + 1.
    pub width_k: usize,
    /// Rows in the file.
    pub n: u64,
    /// How to read the numbers.
    pub convention: &'static str,
}

/// Writes the rows `sel` picks from `sampler` to `path` (format from the extension), and the
/// secret to `path.secret.json` when `with_secret`; both appear only if both were written
/// completely.
pub fn write_samples(sampler: &Sampler, sel: Selection, path: &Path, with_secret: bool) -> Result<(), Error> {
    validate_rows(sel.n)?;
    let n = sel.n;
    let format = Format::from_path(path)?;
    let data = PendingFile::new(path).map_err(Error::io(path))?;
    write_rows(sampler, sel, format, &data).map_err(Error::io(path))?;
    let secret_path = secret_path(path);
    let secret = if with_secret {
        let pending = PendingFile::new(&secret_path).map_err(Error::io(&secret_path))?;
        let mut w = pending.writer().map_err(Error::io(&secret_path))?;
        serde_json::to_writer_pretty(&mut w, &secret_record(sampler, n))
            .map_err(|e| Error::io(&secret_path)(e.into()))?;
        w.flush().map_err(Error::io(&secret_path))?;
        Some(pending)
    } else {
        None
    };
    // The secret first: if the data's rename then fails, the secret is removed again, so the
    // two appear together or not at all.
    if let Some(pending) = secret {
        pending.commit().map_err(Error::io(&secret_path))?;
    }
    data.commit().map_err(|e| {
        if with_secret {
            let _ = std::fs::remove_file(&secret_path);
        }
        Error::io(path)(e)
    })
}

/// The size of `n` rows of `row_len` numbers in `format`, about (CSV: ~24 characters a number).
pub fn estimated_bytes(format: Format, n: u64, row_len: usize) -> u64 {
    let per_value = match format {
        Format::Npy => 8,
        Format::Csv => 24,
    };
    128u64.saturating_add(n.saturating_mul(row_len as u64).saturating_mul(per_value))
}

/// Checks a row count `n` (`--n`) against 1..=[`MAX_ROWS`].
pub fn validate_rows(n: u64) -> Result<(), ParamError> {
    ensure((1..=MAX_ROWS).contains(&n), "--n", n, &format!("an integer in 1..={MAX_ROWS}"))
}

/// Checks a first sample index (`--start`) against 0..=[`MAX_ROWS`].
pub fn check_start(start: u64) -> Result<(), ParamError> {
    ensure(start <= MAX_ROWS, "--start", start, &format!("an integer in 0..={MAX_ROWS}"))
}

/// `FILE.secret.json` for `FILE`.
pub fn secret_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".secret.json");
    PathBuf::from(s)
}

fn secret_record(sampler: &Sampler, n: u64) -> SecretRecord<'_> {
    let p = sampler.problem();
    SecretRecord {
        distribution: sampler.kind(),
        w: sampler.secret(),
        d: p.d,
        gamma: p.gamma,
        gamma_s: p.gamma_s(),
        beta: p.beta,
        beta_s: p.beta_s(),
        sigma: p.sigma,
        noise: p.noise,
        seed: p.seed,
        cap_m: sampler.cap().cap(),
        width_k: sampler.cap().width(),
        n,
        convention: if sampler.kind().lattice_convention() {
            "lattice: y ~ N(0, I/(2π)), z = (γ⟨w,y⟩ + e) mod 1, e ~ N(0, β²/(2π)); x = √(2π)·y"
        } else {
            "standard: x ~ N(0, I), label = φ(γ_s⟨w,x⟩) + ξ with γ_s = γ/√(2π), Var ξ = σ²"
        },
    }
}

fn column_names(sampler: &Sampler, sel: Selection) -> Vec<String> {
    let lattice = sampler.kind().lattice_convention();
    let prefix = if lattice { "y" } else { "x" };
    let mut names: Vec<String> = (0..sampler.problem().d).map(|i| format!("{prefix}{i}")).collect();
    if sel.labels && sampler.kind().has_label() {
        names.push(if lattice { "z" } else { "label" }.into());
    }
    names
}

fn write_rows(sampler: &Sampler, sel: Selection, format: Format, out: &PendingFile) -> std::io::Result<()> {
    let columns = sel.columns(sampler);
    let mut writer = out.writer()?;
    match (format, sel.dtype) {
        (Format::Npy, Dtype::F64) => {
            let shape = [sel.n, columns as u64];
            let mut npy = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut writer).begin_nd()?;
            for_each_chunk(sampler, sel, |chunk| npy.extend(chunk.iter().copied()))?;
            npy.finish()?;
        }
        (Format::Npy, Dtype::F32) => {
            let shape = [sel.n, columns as u64];
            let mut npy = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut writer).begin_nd()?;
            for_each_chunk(sampler, sel, |chunk| npy.extend(chunk.iter().map(|&v| v as f32)))?;
            npy.finish()?;
        }
        (Format::Csv, dtype) => {
            let mut csv = csv::Writer::from_writer(&mut writer);
            csv.write_record(column_names(sampler, sel))?;
            for_each_chunk(sampler, sel, |chunk| {
                chunk.chunks(columns).try_for_each(|row| match dtype {
                    Dtype::F64 => Ok(csv.serialize(row)?),
                    Dtype::F32 => Ok(csv.serialize(row.iter().map(|&v| v as f32).collect::<Vec<f32>>())?),
                })
            })?;
            csv.flush()?;
        }
    }
    writer.flush()
}

/// Generates the rows of `sel` in parallel, a chunk at a time, and hands each chunk (the
/// selected columns only) to `sink`.
fn for_each_chunk(
    sampler: &Sampler,
    sel: Selection,
    mut sink: impl FnMut(&[f64]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let (row_len, columns) = (sampler.row_len(), sel.columns(sampler));
    let rows_per_chunk = (CHUNK_VALUES / row_len).max(1) as u64;
    let mut buffer = vec![0.0f64; rows_per_chunk.min(sel.n) as usize * row_len];
    let mut kept = Vec::with_capacity(rows_per_chunk.min(sel.n) as usize * columns);
    for first in (0..sel.n).step_by(rows_per_chunk as usize) {
        let chunk = &mut buffer[..rows_per_chunk.min(sel.n - first) as usize * row_len];
        let start = sel.start + first;
        chunk.par_chunks_mut(row_len).enumerate().for_each(|(i, row)| sampler.fill_row(start + i as u64, row));
        if columns == row_len {
            sink(chunk)?;
        } else {
            kept.clear();
            kept.extend(chunk.chunks(row_len).flat_map(|row| &row[..columns]));
            sink(&kept)?;
        }
    }
    Ok(())
}
