//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during `get` and `put`, and to stop `emulator`: the
//! temporary files this process made (and the emulator's storage) are removed, then the process
//! dies of the signal, as a shell expects (status 130 for Ctrl-C).
//!
//! The signal handler itself only writes to a pipe (signal-hook's self-pipe); the removal runs
//! on an ordinary thread that reads it. The library writes a download into
//! `.NAME.PID-DIGITS.part` beside its target (`NAME` cut short when the target's name is long)
//! and removes it on any error, but a signal ends the process before that can run: this thread
//! removes, beside each registered target, the temporary files of this process's id whose
//! `NAME` begins the target's. A transfer that creates its temporary file in the
//! instant between that sweep and the process's end can still leave it.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Download targets, by directory, files to remove outright (a spooled standard input), and
/// removals to run (the `emulator` command's storage, emptied through its directory handle).
#[derive(Default)]
struct Leftovers {
    targets: BTreeMap<PathBuf, BTreeSet<OsString>>,
    files: BTreeSet<PathBuf>,
    actions: Vec<Box<dyn Fn() + Send>>,
}

static LEFTOVERS: Mutex<Leftovers> = Mutex::new(Leftovers {
    targets: BTreeMap::new(),
    files: BTreeSet::new(),
    actions: Vec::new(),
});

fn leftovers() -> std::sync::MutexGuard<'static, Leftovers> {
    LEFTOVERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A signal came: the process is removing its leftovers and will die of it.
static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Never returns once a signal came (the process dies of it in a moment); returns at once
/// otherwise. For a command about to fail: its failure may be the sweep's doing (the
/// emulator's storage taken away while seeding), and the process must end as the signal says,
/// not with that failure's message and status.
pub fn yield_to_signal() {
    if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

/// Starts watching for the signals (once per process; later calls do nothing).
pub fn watch() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use signal_hook::iterator::Signals;
        static STARTED: std::sync::Once = std::sync::Once::new();
        STARTED.call_once(|| {
            // Without the watcher, a signal just ends the process as it did before.
            let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    SIGNALLED.store(true, std::sync::atomic::Ordering::SeqCst);
                    sweep();
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
        });
    }
}

/// Registers `target`, a file a download is about to be saved to.
pub fn download_target(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    leftovers()
        .targets
        .entry(dir.to_path_buf())
        .or_default()
        .insert(name.to_os_string());
}

/// Registers `path`, a temporary file to remove if the process is interrupted.
pub fn temporary_file(path: &Path) {
    leftovers().files.insert(path.to_path_buf());
}

/// Registers `action`, a removal to run if the process is interrupted (before the files).
#[cfg(feature = "emulator")]
pub fn on_interrupt(action: impl Fn() + Send + 'static) {
    leftovers().actions.push(Box::new(action));
}

/// Runs the registered removals, then removes the registered files and the temporary files
/// of the registered targets.
fn sweep() {
    let leftovers = leftovers();
    for action in &leftovers.actions {
        action();
    }
    for file in &leftovers.files {
        let _ = std::fs::remove_file(file);
    }
    let pid = format!(".{}-", std::process::id());
    for (dir, names) in &leftovers.targets {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            let Some(name) = temporary_of(&file_name, &pid) else {
                continue;
            };
            // The library cuts a long target name to fit the temporary file's.
            if names.iter().any(|n| n.to_string_lossy().starts_with(name)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The target name (or the start of it that the library kept) of the library's temporary
/// file `file_name` (`.NAME.PID-DIGITS.part`) when `pid` (`.PID-`) is this process's.
fn temporary_of<'a>(file_name: &'a str, pid: &str) -> Option<&'a str> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(".part")?;
    let (name, digits) = inner.rsplit_once(pid)?;
    let ours = !name.is_empty() && !digits.is_empty();
    (ours && digits.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_processs_temporary_files_are_recognised() {
        assert_eq!(temporary_of(".x.bin.42-1234.part", ".42-"), Some("x.bin"));
        assert_eq!(temporary_of(".a.42-.42-7.part", ".42-"), Some("a.42-"));
        assert_eq!(temporary_of(".x.bin.43-1234.part", ".42-"), None);
        assert_eq!(temporary_of("x.bin.42-1234.part", ".42-"), None);
        assert_eq!(temporary_of(".x.bin.42-12a.part", ".42-"), None);
        assert_eq!(temporary_of("..42-12.part", ".42-"), None);
        assert_eq!(temporary_of(".x.42-.part", ".42-"), None);
    }
}
