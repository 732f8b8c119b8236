//! The crate's one error type, grouped by theme, and the one place that decides whose fault an
//! error is: bad input or a bad output path (the user's: exit code 2, reported before any work)
//! or a failure at run time (exit code 1). [`Error::is_bad_input`] matches every variant by
//! name, so a new variant cannot be added without deciding which it is.

use std::path::{Path, PathBuf};

use crate::math::lll::LatticeError;
use crate::params::ParamError;

/// Everything that can go wrong in clwe-bench.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ── bad input (exit code 2) ─────────────────────────────────────────────────────────────
    /// A parameter outside its valid range.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// An output path that cannot be written (checked before any work).
    #[error("cannot write {flag} {path}: {reason}")]
    Output {
        /// The flag that named the path.
        flag: String,
        /// The path.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Another clwe-bench process holds the results directory or file.
    #[error("{path} is in use by another clwe-bench process ({holder}); wait for it or use another --out")]
    Busy {
        /// The locked directory or file.
        path: PathBuf,
        /// Who holds it (pids where known).
        holder: String,
    },
    /// A results directory that holds another grid's results.
    #[error("{dir} holds results of a different grid ({differences}); use another --out, or --restart to discard them")]
    GridMismatch {
        /// The results directory.
        dir: PathBuf,
        /// What differs, in words.
        differences: String,
    },

    // ── lattices (bad input or run time, by kind) ───────────────────────────────────────────
    /// Lattice parsing or reduction.
    #[error(transparent)]
    Lattice(#[from] LatticeError),

    // ── compute engines (run time) ──────────────────────────────────────────────────────────
    /// No wgpu adapter, or none with compute shaders.
    #[error("no usable wgpu adapter: {0}")]
    NoAdapter(String),
    /// Device creation, shader validation or pipeline creation failed.
    #[error("wgpu device error: {0}")]
    Device(String),
    /// The device was lost or a submission failed while running.
    #[error("wgpu device lost or failed while running: {0}")]
    DeviceLost(String),

    // ── learners (run time) ─────────────────────────────────────────────────────────────────
    /// A numerical method failed (a singular system, a least-squares solve that did not converge).
    #[error("{0}")]
    Numerical(String),

    // ── sweeps (run time) ───────────────────────────────────────────────────────────────────
    /// More runs failed than `--max-failures` allows; finished runs are kept.
    #[error(
        "{failed} runs failed (more than --max-failures {limit}); finished runs are kept: fix the cause and rerun with --resume"
    )]
    TooManyFailures {
        /// Failed runs so far.
        failed: usize,
        /// The limit.
        limit: usize,
    },

    // ── files (run time) ────────────────────────────────────────────────────────────────────
    /// Reading or writing a file failed during the work.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A result with the crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the user's input or output path is at fault (exit code 2) rather than something
    /// at run time (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Param(_) | Self::Output { .. } | Self::Busy { .. } | Self::GridMismatch { .. } => true,
            Self::Lattice(e) => e.is_bad_input(),
            Self::NoAdapter(_)
            | Self::Device(_)
            | Self::DeviceLost(_)
            | Self::Numerical(_)
            | Self::TooManyFailures { .. }
            | Self::Io { .. } => false,
        }
    }

    /// The process exit code for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.is_bad_input() { 2 } else { 1 }
    }

    /// Wraps an I/O error on `path` (for `map_err`).
    pub fn io(path: &Path) -> impl Fn(std::io::Error) -> Self + '_ {
        move |source| Self::Io { path: path.to_path_buf(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_maps_to_exit_code_2_and_run_time_failures_to_1() {
        let param = Error::from(ParamError { name: "--d".into(), value: "0".into(), expected: "d >= 1".into() });
        let output = Error::Output { flag: "--out".into(), path: "/x".into(), reason: "read-only".into() };
        let parse = Error::from(LatticeError::Parse("no ]".into()));
        assert_eq!([param.exit_code(), output.exit_code(), parse.exit_code()], [2, 2, 2]);
        let io = Error::io(Path::new("/x"))(std::io::Error::other("disk full"));
        assert_eq!([io.exit_code(), Error::DeviceLost("gone".into()).exit_code()], [1, 1]);
        assert_eq!(io.to_string(), "/x: disk full", "the OS error appears once");
    }
}
