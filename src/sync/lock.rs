//! One sync per manifest at a time: an advisory lock (`flock`) on a file beside the manifest,
//! held from [`FolderSync::plan`](crate::FolderSync::plan) until the plan is applied or dropped.
//! Two runs on one manifest at once would both upload what neither has recorded yet.
//!
//! The lock file (`.NAME.lock` beside the manifest `NAME`) is left in place: removing it
//! would let a third run lock a new file while a second still waits on the old one. Where
//! `flock` is not available (not Unix), no lock is taken.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held lock on a manifest; released when dropped (the file is closed).
#[derive(Debug)]
pub(crate) struct ManifestLock {
    _file: Option<File>,
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
        if cfg!(not(unix)) {
            return Ok(ManifestLock { _file: None });
        }
        let file = match OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(file) => file,
            // No folder for the manifest: nothing can be recorded, so nothing applied (the
            // first record fails, naming the manifest); a plan can still be shown.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ManifestLock { _file: None });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        lock(&file).map_err(|e| {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                Error::InvalidInput(format!(
                    "another sync is using the manifest {} (it holds {}); one sync per \
                     manifest at a time",
                    manifest.display(),
                    path.display()
                ))
            } else {
                Error::io(path.clone(), e)
            }
        })?;
        Ok(ManifestLock { _file: Some(file) })
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
        ManifestLock::take(&manifest).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
