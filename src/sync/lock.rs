//! One sync per manifest at a time: an advisory lock (`flock`) on a file beside the manifest,
//! held from [`FolderSync::plan`](crate::FolderSync::plan) until the plan is applied or dropped.
//! Two runs on one manifest at once would both upload what neither has recorded yet.
//!
//! The lock file (`.NAME.lock` beside the manifest `NAME`) is removed when the lock is
//! released. A run that locked a lock file another run had just removed would hold nothing,
//! so a lock counts only when the file locked is still the one at the path. Where `flock` is
//! not available (not Unix), no lock is taken.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held lock on a manifest; released (and its file removed) when dropped.
#[derive(Debug)]
pub(crate) struct ManifestLock {
    held: Option<(File, PathBuf)>,
}

/// Where the lock of the manifest at `manifest` is taken.
pub(crate) fn lock_path(manifest: &Path) -> PathBuf {
    super::manifest::sibling(manifest, "lock")
}

impl ManifestLock {
    /// Takes the lock of the manifest at `manifest` without waiting: held by another run, it
    /// is [`Error::InvalidInput`] naming the manifest. A manifest whose folder is missing
    /// takes none (it cannot be written either).
    pub(crate) fn take(manifest: &Path) -> Result<ManifestLock> {
        let path = lock_path(manifest);
        let busy = || {
            Error::InvalidInput(format!(
                "another sync is using the manifest {} (it holds {}); one sync per manifest \
                 at a time",
                manifest.display(),
                path.display()
            ))
        };
        if cfg!(not(unix)) {
            return Ok(ManifestLock { held: None });
        }
        // A lock file removed by its holder between our open and our lock is tried again.
        for _ in 0..3 {
            let file = match OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
            {
                Ok(file) => file,
                // No folder for the manifest: nothing can be recorded, so nothing applied
                // (the first record fails, naming the manifest); a plan can still be shown.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(ManifestLock { held: None });
                }
                Err(e) => return Err(Error::io(path, e)),
            };
            match lock(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Err(busy()),
                Err(e) => return Err(Error::io(path, e)),
            }
            if still_at(&file, &path) {
                return Ok(ManifestLock {
                    held: Some((file, path)),
                });
            }
        }
        Err(busy())
    }
}

impl Drop for ManifestLock {
    fn drop(&mut self) {
        // Removed while still locked, so no run can lock this file once it is gone.
        if let Some((file, path)) = self.held.take() {
            let _ = std::fs::remove_file(&path);
            drop(file);
        }
    }
}

/// An exclusive `flock` on `file`, not waiting.
#[cfg(unix)]
fn lock(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock(2) takes the descriptor of a file we hold open and plain flags.
    let done = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn lock(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// Whether `file` is still the file at `path` (not removed, not replaced).
#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(there)) => held.dev() == there.dev() && held.ino() == there.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_file: &File, _path: &Path) -> bool {
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_manifest_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("manifest-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = dir.join("m.jsonl");
        let first = ManifestLock::take(&manifest).unwrap();
        assert!(matches!(
            ManifestLock::take(&manifest),
            Err(Error::InvalidInput(m)) if m.contains("another sync")
        ));
        drop(first);
        assert!(!lock_path(&manifest).exists(), "the lock file is removed");
        let again = ManifestLock::take(&manifest).unwrap();
        // A lock on a file no longer at the path is not taken for the lock.
        let stale = OpenOptions::new()
            .read(true)
            .open(lock_path(&manifest))
            .unwrap();
        drop(again);
        assert!(!still_at(&stale, &lock_path(&manifest)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
