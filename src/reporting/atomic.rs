//! Atomic output: every file is written to a temporary file in its destination directory and
//! renamed into place, so an interrupted or failed command never leaves partial output.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// An output file under construction; nothing appears at `path` until [`Self::commit`].
pub struct PendingFile {
    path: PathBuf,
    temp: NamedTempFile,
}

impl PendingFile {
    /// A temporary file next to `path` (its directory must exist).
    pub fn new(path: &Path) -> io::Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".clwe-bench-").suffix(".tmp");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let temp = builder.tempfile_in(dir)?;
        Ok(Self { path: path.to_path_buf(), temp })
    }

    /// A buffered writer into the temporary file.
    pub fn writer(&self) -> io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(1 << 20, self.temp.as_file().try_clone()?))
    }

    /// Flushes to disk and renames into place.
    pub fn commit(self) -> io::Result<()> {
        self.temp.as_file().sync_all()?;
        self.temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
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
    fn dropped_pending_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pending = PendingFile::new(&dir.path().join("x")).unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
