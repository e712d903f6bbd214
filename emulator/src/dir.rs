//! The store's own directory, opened once and held as a handle: every file in it is made,
//! opened, renamed and removed relative to that handle, never by a path that a link planted
//! later could redirect.
//!
//! On Unix the directory is made with `mkdirat` in its parent (held open too), opened with
//! `O_DIRECTORY | O_NOFOLLOW` and checked to be this user's and private; files are created with
//! `O_CREAT | O_EXCL | O_NOFOLLOW` under unpredictable names, opened with `O_NOFOLLOW`, and
//! removed with `unlinkat`, entry by entry, with no recursion and no link followed. Swapping
//! the directory's path for a symlink while the server runs changes nothing: the handle still
//! names the directory that was made. Elsewhere the same rules are kept as far as `std` reaches
//! (`create_new`, unpredictable names).

use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How many names are tried for the directory, and for a temporary file, before giving up.
const ATTEMPTS: u32 = 64;

/// The store's directory, held open.
pub(crate) struct StorageDir {
    /// The absolute path it was made at (for display; never used to reach its files on Unix).
    path: PathBuf,
    #[cfg(unix)]
    parent: std::os::fd::OwnedFd,
    #[cfg(unix)]
    dir: std::os::fd::OwnedFd,
}

/// 128 unpredictable bits as 32 hex digits: the process's random SipHash keys (the OS's
/// randomness, via `RandomState`) over a counter and the clock.
pub(crate) fn random_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let word = |salt: u64| {
        let mut hasher = std::hash::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        hasher.finish()
    };
    format!("{prefix}{:016x}{:016x}", word(1), word(2))
}

impl StorageDir {
    /// The absolute path the directory was made at.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
mod unix {
    use super::*;
    use rustix::fs::{AtFlags, Mode, OFlags};
    use std::os::fd::{AsFd, OwnedFd};

    impl StorageDir {
        /// Makes a new directory of its own in `parent`, private to this user, and holds it
        /// open. A name already taken (maybe a planted symlink) is skipped, never used.
        pub(crate) fn create(parent: &Path) -> io::Result<StorageDir> {
            let parent_path = std::path::absolute(parent)?;
            let parent = rustix::fs::open(
                &parent_path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            for _ in 0..ATTEMPTS {
                let name = random_name("openrouter-files-emulator-");
                match rustix::fs::mkdirat(&parent, name.as_str(), Mode::RWXU) {
                    Ok(()) => {}
                    Err(rustix::io::Errno::EXIST) => continue,
                    Err(e) => return Err(e.into()),
                }
                let dir = open_own(&parent, &name)?;
                return Ok(StorageDir {
                    path: parent_path.join(name),
                    parent,
                    dir,
                });
            }
            Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "every name tried was taken",
            ))
        }

        /// Creates a new file named `name` for reading and writing, private to this user; an
        /// entry already there, a symlink included, is an error.
        pub(crate) fn create_new(&self, name: &str) -> io::Result<File> {
            let flags =
                OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(&self.dir, name, flags, Mode::RUSR | Mode::WUSR)?;
            Ok(File::from(fd))
        }

        /// Opens the file `name` for reading; a symlink is an error.
        pub(crate) fn open(&self, name: &str) -> io::Result<File> {
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            Ok(File::from(rustix::fs::openat(
                &self.dir,
                name,
                flags,
                Mode::empty(),
            )?))
        }

        /// Renames `from` to `to`, both in this directory.
        pub(crate) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
            Ok(rustix::fs::renameat(&self.dir, from, &self.dir, to)?)
        }

        /// Removes the entry `name` (a file, or a symlink itself: never what it points to).
        pub(crate) fn remove(&self, name: &str) -> io::Result<()> {
            Ok(rustix::fs::unlinkat(&self.dir, name, AtFlags::empty())?)
        }

        /// Removes every entry of the directory (empty subdirectories included, nothing
        /// recursively, no link followed), then the directory itself when its name in the
        /// parent still is this directory.
        pub(crate) fn remove_all(&self) {
            if let Ok(entries) = rustix::fs::Dir::read_from(&self.dir) {
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    if name == c"." || name == c".." {
                        continue;
                    }
                    if rustix::fs::unlinkat(&self.dir, name, AtFlags::empty()).is_err() {
                        let _ = rustix::fs::unlinkat(&self.dir, name, AtFlags::REMOVEDIR);
                    }
                }
            }
            let Some(name) = self.path.file_name() else {
                return;
            };
            let same = |a: &rustix::fs::Stat, b: &rustix::fs::Stat| {
                a.st_dev == b.st_dev && a.st_ino == b.st_ino
            };
            let there = rustix::fs::statat(&self.parent, name, AtFlags::SYMLINK_NOFOLLOW);
            let own = rustix::fs::fstat(&self.dir);
            if let (Ok(there), Ok(own)) = (there, own) {
                if same(&there, &own) {
                    let _ = rustix::fs::unlinkat(&self.parent, name, AtFlags::REMOVEDIR);
                } else {
                    log::warn!(
                        "emulator: {} was replaced while the server ran; left in place",
                        self.path.display()
                    );
                }
            }
        }
    }

    /// Opens the directory just made as `name` in `parent`, refusing a symlink and anything
    /// not this user's private directory (one swapped in between the two calls).
    fn open_own(parent: &OwnedFd, name: &str) -> io::Result<OwnedFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let dir = rustix::fs::openat(parent.as_fd(), name, flags, Mode::empty())?;
        let stat = rustix::fs::fstat(&dir)?;
        let private = stat.st_mode & 0o077 == 0;
        if stat.st_uid != rustix::process::geteuid().as_raw() || !private {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{name} was replaced by another user's directory as it was made"),
            ));
        }
        Ok(dir)
    }
}

#[cfg(not(unix))]
mod portable {
    use super::*;

    impl StorageDir {
        /// Makes a new directory of its own in `parent`; a name already taken is skipped.
        pub(crate) fn create(parent: &Path) -> io::Result<StorageDir> {
            let parent = std::path::absolute(parent)?;
            for _ in 0..ATTEMPTS {
                let path = parent.join(random_name("openrouter-files-emulator-"));
                match std::fs::create_dir(&path) {
                    Ok(()) => return Ok(StorageDir { path }),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
            }
            Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "every name tried was taken",
            ))
        }

        /// Creates a new file named `name`; an entry already there is an error.
        pub(crate) fn create_new(&self, name: &str) -> io::Result<File> {
            File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(self.path.join(name))
        }

        /// Opens the file `name` for reading.
        pub(crate) fn open(&self, name: &str) -> io::Result<File> {
            File::open(self.path.join(name))
        }

        /// Renames `from` to `to`, both in this directory.
        pub(crate) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
            std::fs::rename(self.path.join(from), self.path.join(to))
        }

        /// Removes the entry `name`.
        pub(crate) fn remove(&self, name: &str) -> io::Result<()> {
            std::fs::remove_file(self.path.join(name))
        }

        /// Removes the directory and its entries (std's removal does not follow links).
        pub(crate) fn remove_all(&self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
