//! Atomic output: every file is written to a temporary file in its destination directory and
//! renamed into place, so an interrupted or failed command never leaves partial output. The
//! temporary files of this process are registered, so SIGINT, SIGTERM and SIGHUP remove them
//! ([`remove_pending_files`], called by the CLI's signal handler); their names carry the pid, so
//! those left by a `kill -9` are removed the next time a file is written into that directory.
//! Output paths are checked before any work ([`check_output_file`], [`check_output_dir`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::NamedTempFile;

use crate::error::Error;
use crate::resources::process_alive;

/// Prefix of every temporary file; the pid and a random part follow.
const TEMP_PREFIX: &str = ".clwe-bench-";
/// Suffix of every temporary file.
const TEMP_SUFFIX: &str = ".tmp";

/// The temporary files this process is writing.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary file this process is writing (for signal handlers).
pub fn remove_pending_files() {
    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    for path in pending.iter() {
        let _ = std::fs::remove_file(path);
    }
}

/// An output file under construction; nothing appears at `path` until [`Self::commit`].
pub struct PendingFile {
    path: PathBuf,
    temp: Option<NamedTempFile>,
}

impl PendingFile {
    /// A temporary file next to `path` (its directory must exist).
    pub fn new(path: &Path) -> io::Result<Self> {
        let dir = parent_dir(path);
        remove_stale_temporaries(dir);
        let mut builder = tempfile::Builder::new();
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        builder.prefix(&prefix).suffix(TEMP_SUFFIX);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let temp = builder.tempfile_in(dir)?;
        PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(temp.path().to_path_buf());
        Ok(Self { path: path.to_path_buf(), temp: Some(temp) })
    }

    fn temp(&self) -> &NamedTempFile {
        self.temp.as_ref().expect("present until commit")
    }

    /// A buffered writer into the temporary file.
    pub fn writer(&self) -> io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(1 << 20, self.temp().as_file().try_clone()?))
    }

    /// Flushes to disk and renames into place.
    pub fn commit(mut self) -> io::Result<()> {
        let temp = self.temp.take().expect("present until commit");
        unregister(temp.path());
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            unregister(temp.path());
        }
    }
}

fn unregister(path: &Path) {
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| p != path);
}

/// The directory a file `path` goes into.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the temporary files in `dir` whose writing process no longer runs.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else { continue };
        if pid != std::process::id() && !process_alive(pid) && std::fs::remove_file(entry.path()).is_ok() {
            eprintln!("removed {} (left by process {pid}, which no longer runs)", entry.path().display());
        }
    }
}

/// The pid in a temporary file's name `.clwe-bench-<pid>-<random>.tmp`.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    rest.split_once('-')?.0.parse().ok()
}

/// Checks, before any work, that a file can be written at `path` (named by `flag`): its
/// directory exists and is writable, and `path` is not a directory.
pub fn check_output_file(flag: &str, path: &Path) -> Result<(), Error> {
    let fail = |reason: String| Error::Output { flag: flag.into(), path: path.to_path_buf(), reason };
    if path.is_dir() {
        return Err(fail("it is a directory; give a file name".into()));
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(fail(format!("the directory {} does not exist", dir.display())));
    }
    probe(dir).map_err(|e| fail(e.to_string()))
}

/// Checks, before any work, that files can be written in directory `dir` (named by `flag`),
/// creating it if needed.
pub fn check_output_dir(flag: &str, dir: &Path) -> Result<(), Error> {
    let fail = |reason: String| Error::Output { flag: flag.into(), path: dir.to_path_buf(), reason };
    if dir.exists() && !dir.is_dir() {
        return Err(fail("it is a file, not a directory".into()));
    }
    std::fs::create_dir_all(dir).and_then(|()| probe(dir)).map_err(|e| fail(e.to_string()))
}

/// Creates and removes a temporary file in `dir`.
fn probe(dir: &Path) -> io::Result<()> {
    tempfile::Builder::new().prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX).tempfile_in(dir).map(drop)
}

/// Writes `contents` to `path` atomically, creating its directory if needed.
pub fn write_file_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let pending = PendingFile::new(path)?;
    let mut w = pending.writer()?;
    w.write_all(contents)?;
    w.flush()?;
    drop(w);
    pending.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let pending = PendingFile::new(&path).unwrap();
        let mut w = pending.writer().unwrap();
        w.write_all(b"hello").unwrap();
        w.flush().unwrap();
        assert!(!path.exists());
        drop(w);
        pending.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn pending_files_are_registered_until_committed_and_removed_on_signal_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let pending = PendingFile::new(&dir.path().join("big.npy")).unwrap();
        let temp = pending.temp().path().to_path_buf();
        assert!(temp.exists());
        remove_pending_files(); // what the SIGINT/SIGTERM/SIGHUP handler does
        assert!(!temp.exists());
        drop(pending);
        assert!(!PENDING.lock().unwrap().contains(&temp));
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(format!("{TEMP_PREFIX}{}-abc{TEMP_SUFFIX}", u32::MAX - 7));
        let live = dir.path().join(format!("{TEMP_PREFIX}1-abc{TEMP_SUFFIX}")); // pid 1 always runs
        std::fs::write(&dead, b"half").unwrap();
        std::fs::write(&live, b"half").unwrap();
        write_file_atomically(&dir.path().join("out.txt"), b"x").unwrap();
        assert!(!dead.exists() && live.exists());
    }

    #[test]
    fn output_paths_are_checked_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_output_file("--out", &dir.path().join("a.npy")).is_ok());
        for bad in [dir.path().to_path_buf(), dir.path().join("missing/a.npy")] {
            let err = check_output_file("--out", &bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
            assert!(err.to_string().starts_with("cannot write --out"), "{err}");
        }
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        assert_eq!(check_output_dir("--out", &file).unwrap_err().exit_code(), 2);
        assert!(check_output_dir("--out", &dir.path().join("new/sub")).is_ok());
        assert_eq!(std::fs::read_dir(dir.path().join("new/sub")).unwrap().count(), 0, "the probe leaves nothing");
    }

    #[test]
    fn dropped_pending_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pending = PendingFile::new(&dir.path().join("x")).unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
