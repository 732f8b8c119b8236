//! What the machine can hold: available memory and free disk space, checked against a command's
//! estimate before any work, so an impossible size fails at once with exit code 2 and the
//! estimate, instead of an allocation abort or a half-written 40 TB file. Also whether a process
//! still runs (to tell a stale temporary file from one being written).

use std::path::Path;

use indicatif::HumanBytes;

use crate::params::ParamError;

/// Memory available to a new allocation, where the platform says; read once per process (a
/// grid validates every point against it before any work).
pub fn available_memory() -> Option<u64> {
    static AVAILABLE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let mut system = sysinfo::System::new().ok()?;
        system.refresh_memory();
        Some(system.available_memory()).filter(|&m| m > 0)
    })
}

/// Free space for unprivileged users on the file system holding `path` (or its nearest existing
/// ancestor), where the platform says.
pub fn available_disk(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| !p.as_os_str().is_empty() && p.exists()).unwrap_or(Path::new("."));
    fs4::available_space(existing).ok()
}

/// `Ok` when `bytes` fits the available memory (or the platform does not say).
pub fn ensure_memory(flags: &str, bytes: u64) -> Result<(), ParamError> {
    match available_memory() {
        Some(available) if bytes > available => Err(ParamError {
            name: flags.into(),
            value: format!("sizes needing about {}", HumanBytes(bytes)),
            expected: format!("sizes that fit the {} of memory available", HumanBytes(available)),
        }),
        _ => Ok(()),
    }
}

/// `Ok` when `bytes` fit the free disk space under `path` (or the platform does not say).
pub fn ensure_disk(flags: &str, path: &Path, bytes: u64) -> Result<(), ParamError> {
    match available_disk(path) {
        Some(available) if bytes > available => Err(ParamError {
            name: flags.into(),
            value: format!("an output of about {}", HumanBytes(bytes)),
            expected: format!("an output that fits the {} free under {}", HumanBytes(available), path.display()),
        }),
        _ => Ok(()),
    }
}

/// Whether process `pid` is running (true when the platform cannot tell).
pub fn process_alive(pid: u32) -> bool {
    let Ok(mut system) = sysinfo::System::new() else { return true };
    let pid = sysinfo::Pid::from_u32(pid);
    system.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[pid]), true);
    system.process(pid).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_refused_and_small_ones_pass() {
        assert!(available_memory().is_some_and(|m| m > 1 << 20));
        assert!(ensure_memory("--width", 1 << 20).is_ok());
        let err = ensure_memory("--width", u64::MAX).unwrap_err();
        assert_eq!(err.name, "--width");
        assert!(err.to_string().contains("memory available"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        assert!(ensure_disk("--n", &dir.path().join("a/b.npy"), 1 << 10).is_ok());
        assert!(ensure_disk("--n", &dir.path().join("a/b.npy"), u64::MAX).unwrap_err().to_string().contains("free"));
    }

    #[test]
    fn this_process_is_alive_and_an_unused_pid_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX - 7));
    }
}
