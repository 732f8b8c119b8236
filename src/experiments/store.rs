//! The result store of every sweep-like command (learner sweeps, the scaling study, `merge`):
//! a directory of JSONL results files, one per writer, with these guarantees.
//!
//! - **A process writes only its own file**: `runs.jsonl`, or `runs.shard-I-of-N.jsonl` for
//!   `--shard I/N`. Each finished run is appended as one line and flushed to disk before the
//!   next starts; every other file in the directory is only read.
//! - **Nothing finished is lost**: a line cut off by a kill (the last line, without its newline)
//!   is dropped; any other unreadable line is moved to the writer's `*.rejected.jsonl` with a
//!   warning naming the file and line, never silently discarded, and never truncates what
//!   follows. A last row that lacks its newline gets one before anything is appended.
//! - **Nothing is run twice**: resuming reads every results file in the directory, so a point
//!   finished by any shard is skipped.
//! - **One writer per file**: an OS advisory lock (released when the process dies, so `kill -9`
//!   leaves no stale lock): an unsharded sweep holds the directory exclusively, shards share it
//!   and each holds its own file. A second writer exits 2 naming the holder's pid.
//! - **One grid per directory**: `grid.toml` records the canonical grid (budgets and options
//!   included) and its fingerprint; a different grid is refused with exit 2 and what differs.
//!   `--restart` removes the old grid's results, tables and figures.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::sweep::Shard;
use crate::error::{Error, Result};
use crate::params::ParamError;
use crate::reporting::atomic::write_file_atomically;

/// The grid file of a results directory.
pub const GRID_FILE: &str = "grid.toml";
/// The directory lock (exclusive for an unsharded writer, shared by shards).
const DIR_LOCK: &str = ".clwe-bench.lock";

/// How a sweep treats a directory that already holds results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Refuse if this writer's file already holds runs.
    Fresh,
    /// Continue: skip every point finished in any results file of the directory.
    Resume,
    /// Discard the directory's results, tables and figures first (unsharded only).
    Restart,
}

/// One results file of a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResultsFile {
    /// `runs.jsonl`: an unsharded sweep's, or `merge`'s output.
    Main,
    /// `runs.shard-I-of-N.jsonl`.
    Shard(Shard),
}

impl ResultsFile {
    /// The writer of `shard`.
    pub fn of(shard: Option<Shard>) -> Self {
        shard.map_or(Self::Main, Self::Shard)
    }

    /// Its file name.
    pub fn name(self) -> String {
        self.with_suffix("jsonl")
    }

    /// Where its unreadable lines are kept.
    pub fn rejected_name(self) -> String {
        self.with_suffix("rejected.jsonl")
    }

    fn with_suffix(self, suffix: &str) -> String {
        match self {
            Self::Main => format!("runs.{suffix}"),
            Self::Shard(s) => format!("runs.shard-{}-of-{}.{suffix}", s.index, s.count),
        }
    }

    /// The results file called `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        if name == "runs.jsonl" {
            return Some(Self::Main);
        }
        let (i, n) = name.strip_prefix("runs.shard-")?.strip_suffix(".jsonl")?.split_once("-of-")?;
        let shard = format!("{i}/{n}").parse().ok()?;
        (Self::Shard(shard).name() == name).then_some(Self::Shard(shard))
    }
}

impl std::fmt::Display for ResultsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// A row a store holds.
pub trait StoredRow: Serialize + DeserializeOwned {
    /// The grid point it belongs to.
    fn key(&self) -> String;
    /// Whether it finishes its point (a failed run does not: resuming tries it again).
    fn is_done(&self) -> bool {
        true
    }
}

/// A grid a store records and fingerprints.
pub trait StoreGrid: Serialize + DeserializeOwned {
    /// Whether `file` is one of the tables or figures this grid's results publish.
    fn is_published(file: &str) -> bool;

    /// The canonical text of the grid (what `grid.toml` holds).
    fn canonical(&self) -> String {
        toml::to_string(self).expect("grids serialise to TOML")
    }

    /// A short fingerprint of the canonical grid (SHA-256, 16 hex digits).
    fn fingerprint(&self) -> String {
        Sha256::digest(self.canonical().as_bytes())[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A row as read, with the exact bytes of its line (rows are copied, never re-serialised:
/// a float read back need not print the same).
#[derive(Clone, Debug)]
pub struct Kept<R> {
    /// The parsed row.
    pub row: R,
    /// Its line, without the newline.
    pub line: Vec<u8>,
}

/// The rows of every results file of a directory, read without writing anything.
pub struct DirRows<R> {
    /// Each results file with its readable rows, in file-name order (`runs.jsonl` first).
    pub files: Vec<(ResultsFile, Vec<Kept<R>>)>,
}

impl<R: StoredRow> DirRows<R> {
    /// Every results file of `dir` (none if it does not exist). Unreadable lines are reported on
    /// stderr and skipped; a torn last line is skipped silently.
    pub fn read(dir: &Path) -> Result<Self> {
        let mut files = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self { files }),
            Err(e) => return Err(Error::io(dir)(e)),
        };
        for entry in entries {
            let name = entry.map_err(Error::io(dir))?.file_name();
            if let Some(file) = name.to_str().and_then(ResultsFile::parse) {
                let path = dir.join(file.name());
                let lines = read_lines::<R>(&path)?;
                for bad in &lines.rejected {
                    eprintln!("warning: {}:{}: unreadable row skipped ({})", path.display(), bad.line, bad.error);
                }
                files.push((file, lines.rows));
            }
        }
        files.sort_by_key(|(f, _)| *f);
        Ok(Self { files })
    }

    /// Each point's row once: the first finished row seen, else the first failed one.
    pub fn unique(self) -> Vec<Kept<R>> {
        let done = self.done_keys();
        let mut seen = HashSet::new();
        self.files
            .into_iter()
            .flat_map(|(_, rows)| rows)
            .filter(|k| (k.row.is_done() || !done.contains(&k.row.key())) && seen.insert(k.row.key()))
            .collect()
    }

    /// Each point's row once (see [`Self::unique`]), parsed.
    pub fn unique_rows(self) -> Vec<R> {
        self.unique().into_iter().map(|k| k.row).collect()
    }

    /// Keys of the points some file finishes.
    pub fn done_keys(&self) -> HashSet<String> {
        self.files.iter().flat_map(|(_, rows)| rows).filter(|k| k.row.is_done()).map(|k| k.row.key()).collect()
    }

    /// Whether no file holds a row.
    pub fn is_empty(&self) -> bool {
        self.files.iter().all(|(_, rows)| rows.is_empty())
    }
}

/// A line that is not a row.
struct Rejected {
    /// 1-based line number.
    line: usize,
    /// The line's bytes (without the newline).
    text: Vec<u8>,
    /// Why it does not parse.
    error: String,
}

/// What a results file holds.
struct Lines<R> {
    rows: Vec<Kept<R>>,
    rejected: Vec<Rejected>,
    /// Bytes of a torn last line (no newline, not a row).
    torn: u64,
    /// The last row lacks its newline.
    unterminated: bool,
}

fn read_lines<R: DeserializeOwned>(path: &Path) -> Result<Lines<R>> {
    let mut bytes = Vec::new();
    File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(Error::io(path))?;
    let mut out = Lines { rows: Vec::new(), rejected: Vec::new(), torn: 0, unterminated: false };
    let ends_with_newline = bytes.last().is_none_or(|&b| b == b'\n');
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let count = lines.len() - usize::from(ends_with_newline); // split leaves "" after a final \n
    for (i, line) in lines[..count].iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let last = i + 1 == count;
        match serde_json::from_slice::<R>(line) {
            Ok(row) => {
                out.rows.push(Kept { row, line: line.to_vec() });
                out.unterminated = last && !ends_with_newline;
            }
            Err(_) if last && !ends_with_newline => out.torn = line.len() as u64,
            Err(e) => out.rejected.push(Rejected { line: i + 1, text: line.to_vec(), error: e.to_string() }),
        }
    }
    Ok(out)
}

/// A directory a process writes its own results file in, under lock.
pub struct Store {
    dir: PathBuf,
    file: ResultsFile,
    path: PathBuf,
    _locks: [File; 2],
}

impl Store {
    /// Opens `dir` for `grid` as writer `file`: takes the locks, applies `mode`, checks the
    /// grid, repairs this writer's own file (torn tail, missing newline, unreadable lines kept
    /// aside) and records the grid. Nothing else in the directory is written.
    pub fn open<G: StoreGrid, R: StoredRow>(dir: &Path, grid: &G, file: ResultsFile, mode: Mode) -> Result<Self> {
        if mode == Mode::Restart && file != ResultsFile::Main {
            return Err(ParamError {
                name: "--restart".into(),
                value: "with --shard".into(),
                expected: "no --shard: --restart clears the whole directory, which other shards may be writing; \
                           restart once without --shard, or use a new --out"
                    .into(),
            }
            .into());
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::Output {
            flag: "--out".into(),
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let locks = lock(dir, file)?;
        if mode == Mode::Restart {
            clear::<G>(dir)?;
        }
        check_grid::<G, R>(dir, grid)?;
        let store = Self { dir: dir.to_path_buf(), file, path: dir.join(file.name()), _locks: locks };
        let own = store.repair::<R>()?;
        if mode == Mode::Fresh && own > 0 {
            return Err(ParamError {
                name: "--out".into(),
                value: dir.display().to_string(),
                expected: format!(
                    "a directory without this sweep's results ({} already holds {own} runs): pass --resume to \
                     continue it, or --restart to discard it",
                    store.path.display()
                ),
            }
            .into());
        }
        let grid_path = dir.join(GRID_FILE);
        if !grid_path.exists() {
            write_file_atomically(&grid_path, grid_file_text(grid).as_bytes()).map_err(Error::io(&grid_path))?;
        }
        Ok(store)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This writer's results file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one row to this writer's file and flushes it to disk before returning.
    pub fn append<R: StoredRow>(&self, row: &R) -> Result<()> {
        let mut line = serde_json::to_vec(row).map_err(|e| Error::io(&self.path)(e.into()))?;
        line.push(b'\n');
        let mut f = OpenOptions::new().create(true).append(true).open(&self.path).map_err(Error::io(&self.path))?;
        f.write_all(&line).and_then(|()| f.sync_data()).map_err(Error::io(&self.path))
    }

    /// Replaces this writer's file with `rows`, their lines copied byte for byte, atomically.
    pub fn write_all<R>(&self, rows: &[Kept<R>]) -> Result<()> {
        let text: Vec<u8> = rows.iter().flat_map(|k| k.line.iter().copied().chain([b'\n'])).collect();
        write_file_atomically(&self.path, &text).map_err(Error::io(&self.path))
    }

    /// Makes this writer's file safe to append to; returns the rows it holds.
    fn repair<R: StoredRow>(&self) -> Result<usize> {
        if !self.path.exists() {
            return Ok(0);
        }
        let lines = read_lines::<R>(&self.path)?;
        let io = Error::io(&self.path);
        if !lines.rejected.is_empty() {
            let aside = self.dir.join(self.file.rejected_name());
            let mut kept = OpenOptions::new().create(true).append(true).open(&aside).map_err(Error::io(&aside))?;
            for bad in &lines.rejected {
                eprintln!(
                    "warning: {}:{}: unreadable row moved to {} ({})",
                    self.path.display(),
                    bad.line,
                    aside.display(),
                    bad.error
                );
                kept.write_all(&bad.text).and_then(|()| kept.write_all(b"\n")).map_err(Error::io(&aside))?;
            }
            kept.sync_data().map_err(Error::io(&aside))?;
            self.write_all(&lines.rows)?; // the readable rows, each on its own line
        } else if lines.torn > 0 {
            let f = OpenOptions::new().write(true).open(&self.path).map_err(&io)?;
            let len = f.metadata().map_err(&io)?.len();
            f.set_len(len - lines.torn).and_then(|()| f.sync_data()).map_err(&io)?;
        } else if lines.unterminated {
            let mut f = OpenOptions::new().append(true).open(&self.path).map_err(&io)?;
            f.write_all(b"\n").and_then(|()| f.sync_data()).map_err(&io)?;
        }
        Ok(lines.rows.len())
    }
}

/// `grid.toml`: the fingerprint as a comment, then the canonical grid.
fn grid_file_text<G: StoreGrid>(grid: &G) -> String {
    format!("# clwe-bench grid, fingerprint {}\n{}", grid.fingerprint(), grid.canonical())
}

/// Takes the directory lock (exclusive for `runs.jsonl`, shared for a shard) and this writer's
/// own lock, recording this process's pid in the latter.
fn lock(dir: &Path, file: ResultsFile) -> Result<[File; 2]> {
    let open = |path: &Path| {
        OpenOptions::new().create(true).truncate(false).read(true).write(true).open(path).map_err(|e| Error::Output {
            flag: "--out".into(),
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })
    };
    let dir_lock = open(&dir.join(DIR_LOCK))?;
    let taken = match file {
        ResultsFile::Main => dir_lock.try_lock(),
        ResultsFile::Shard(_) => dir_lock.try_lock_shared(),
    };
    if taken.is_err() {
        return Err(Error::Busy { path: dir.to_path_buf(), holder: holders(dir) });
    }
    let own_path = dir.join(own_lock_name(file));
    let mut own = open(&own_path)?;
    if own.try_lock().is_err() {
        return Err(Error::Busy { path: dir.join(file.name()), holder: holders(dir) });
    }
    let io = Error::io(&own_path);
    own.set_len(0).map_err(&io)?;
    own.rewind().and_then(|()| write!(own, "{}", std::process::id())).map_err(&io)?;
    Ok([dir_lock, own])
}

fn own_lock_name(file: ResultsFile) -> String {
    format!(".{}.lock", file.name())
}

/// The pids recorded by the writers that hold locks in `dir`.
fn holders(dir: &Path) -> String {
    let mut pids: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(".runs") && n.ends_with(".lock")))
        .filter_map(|e| {
            let f = File::open(e.path()).ok()?;
            if f.try_lock_shared().is_ok() {
                return None; // nobody holds it: a lock file left by a finished process
            }
            let mut pid = String::new();
            BufReader::new(f).read_line(&mut pid).ok()?;
            Some(format!("pid {}", pid.trim()))
        })
        .collect();
    pids.sort();
    if pids.is_empty() { "pid unknown".into() } else { pids.join(", ") }
}

/// `--restart`: removes every results, rejected and grid file and the grid's tables and figures.
fn clear<G: StoreGrid>(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let ours = ResultsFile::parse(name).is_some()
            || (name.starts_with("runs") && name.ends_with(".rejected.jsonl"))
            || name == GRID_FILE
            || G::is_published(name);
        if ours {
            std::fs::remove_file(&path).map_err(Error::io(&path))?;
            eprintln!("--restart: removed {}", path.display());
        }
    }
    Ok(())
}

/// Refuses a directory whose recorded grid differs from `grid`, or, where no grid is recorded
/// (results written before grids were), whose rows are not all points of `grid`.
fn check_grid<G: StoreGrid, R: StoredRow>(dir: &Path, grid: &G) -> Result<()> {
    match recorded_grid::<G>(dir)? {
        Some(old) => {
            let (old, new) = (old.canonical(), grid.canonical());
            if old != new {
                return Err(Error::GridMismatch { dir: dir.to_path_buf(), differences: differences(&old, &new) });
            }
        }
        None => {
            let rows = DirRows::<R>::read(dir)?;
            if !rows.is_empty() {
                return Err(Error::GridMismatch {
                    dir: dir.to_path_buf(),
                    differences: format!("it holds runs but no {GRID_FILE}"),
                });
            }
        }
    }
    Ok(())
}

/// The grid recorded in `dir/grid.toml`, if any.
pub fn recorded_grid<G: StoreGrid>(dir: &Path) -> Result<Option<G>> {
    let path = dir.join(GRID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map(Some).map_err(|e| Error::GridMismatch {
            dir: dir.to_path_buf(),
            differences: format!("its {GRID_FILE} is not a grid of this kind: {}", e.message()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&path)(e)),
    }
}

/// The top-level fields in which two canonical grids differ, as `field: old → new`.
pub fn differences(old: &str, new: &str) -> String {
    let (a, b) = (
        toml::from_str::<toml::Table>(old).unwrap_or_default(),
        toml::from_str::<toml::Table>(new).unwrap_or_default(),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: Option<&toml::Value>| v.map_or("(none)".to_string(), |v| v.to_string());
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {} → {}", show(a.get(k)), show(b.get(k))))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct TestRow {
        key: u32,
        done: bool,
    }
    impl StoredRow for TestRow {
        fn key(&self) -> String {
            self.key.to_string()
        }
        fn is_done(&self) -> bool {
            self.done
        }
    }
    #[derive(Serialize, Deserialize)]
    struct TestGrid {
        name: String,
        instances: u32,
    }
    impl StoreGrid for TestGrid {
        fn is_published(file: &str) -> bool {
            file == "summary.md"
        }
    }

    fn grid(instances: u32) -> TestGrid {
        TestGrid { name: "t".into(), instances }
    }

    fn row(key: u32) -> String {
        format!("{{\"key\":{key},\"done\":true}}\n")
    }

    #[test]
    fn results_file_names_round_trip_and_nothing_else_parses() {
        for file in [ResultsFile::Main, ResultsFile::Shard("2/5".parse().unwrap())] {
            assert_eq!(ResultsFile::parse(&file.name()), Some(file));
            assert_eq!(ResultsFile::parse(&file.rejected_name()), None);
        }
        for name in ["runs.shard-5-of-5.jsonl", "runs.shard-01-of-5.jsonl", "scaling.jsonl", "runs.jsonl.tmp"] {
            assert_eq!(ResultsFile::parse(name), None, "{name}");
        }
    }

    #[test]
    fn a_bad_middle_line_is_kept_aside_and_the_rows_after_it_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.jsonl");
        let text: String = (0..5).map(row).chain(["garbage\n".into()]).chain((5..11).map(row)).collect();
        std::fs::write(&path, text).unwrap();
        std::fs::write(dir.path().join(GRID_FILE), grid(1).canonical()).unwrap();
        let store = Store::open::<_, TestRow>(dir.path(), &grid(1), ResultsFile::Main, Mode::Resume).unwrap();
        let rows = DirRows::<TestRow>::read(store.dir()).unwrap().unique();
        assert_eq!(rows.len(), 11, "every readable row is kept");
        let text: String = (0..5).map(row).chain((5..11).map(row)).collect();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "and kept byte for byte");
        let aside = std::fs::read_to_string(dir.path().join("runs.rejected.jsonl")).unwrap();
        assert_eq!(aside, "garbage\n");
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_an_unterminated_row_gets_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.jsonl");
        std::fs::write(dir.path().join(GRID_FILE), grid(1).canonical()).unwrap();
        std::fs::write(&path, format!("{}{{\"key\":1,\"do", row(0))).unwrap();
        drop(Store::open::<_, TestRow>(dir.path(), &grid(1), ResultsFile::Main, Mode::Resume).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), row(0));
        std::fs::write(&path, row(0).trim_end()).unwrap();
        let store = Store::open::<_, TestRow>(dir.path(), &grid(1), ResultsFile::Main, Mode::Resume).unwrap();
        store.append(&TestRow { key: 1, done: true }).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), row(0) + &row(1));
    }

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_and_shards_share() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open::<_, TestRow>(dir.path(), &grid(1), ResultsFile::Main, Mode::Resume).unwrap();
        let second = Store::open::<_, TestRow>(dir.path(), &grid(1), ResultsFile::Main, Mode::Resume);
        let err = second.err().expect("refused");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        let shard = |s: &str| ResultsFile::Shard(s.parse().unwrap());
        let a = Store::open::<_, TestRow>(dir.path(), &grid(1), shard("0/2"), Mode::Resume).unwrap();
        let _b = Store::open::<_, TestRow>(dir.path(), &grid(1), shard("1/2"), Mode::Resume).unwrap();
        assert!(Store::open::<_, TestRow>(dir.path(), &grid(1), shard("0/2"), Mode::Resume).is_err());
        assert!(Store::open::<_, TestRow>(dir.path(), &grid(1), ResultsFile::Main, Mode::Resume).is_err());
        drop(a);
    }

    #[test]
    fn another_grid_is_refused_naming_what_differs_and_restart_clears_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open::<_, TestRow>(dir.path(), &grid(2), ResultsFile::Main, Mode::Fresh).unwrap();
        store.append(&TestRow { key: 0, done: true }).unwrap();
        std::fs::write(dir.path().join("summary.md"), "old table").unwrap();
        drop(store);
        let err = Store::open::<_, TestRow>(dir.path(), &grid(4), ResultsFile::Main, Mode::Resume).err().unwrap();
        assert!(err.to_string().contains("instances: 2 → 4"), "{err}");
        assert_eq!(err.exit_code(), 2);
        let store = Store::open::<_, TestRow>(dir.path(), &grid(4), ResultsFile::Main, Mode::Restart).unwrap();
        assert!(!dir.path().join("summary.md").exists() && !store.path().exists());
        let recorded = std::fs::read_to_string(dir.path().join(GRID_FILE)).unwrap();
        assert!(recorded.contains(&grid(4).fingerprint()) && recorded.contains("instances = 4"), "{recorded}");
    }

    #[test]
    fn unique_prefers_a_finished_row_to_a_failed_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("runs.jsonl"), "{\"key\":1,\"done\":false}\n{\"key\":1,\"done\":true}\n")
            .unwrap();
        let rows = DirRows::<TestRow>::read(dir.path()).unwrap().unique_rows();
        assert_eq!(rows, vec![TestRow { key: 1, done: true }]);
    }
}
