//! `get`: downloads to standard output (never a terminal), to one file, or into a directory;
//! files are written atomically by the library, and every error names the real path.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use indicatif::ProgressBar;
use openrouter_files::{Download, Error, FileMetadata, FilesClient};

use super::select::{self, Targets};
use super::transfer::{self, Job, Plan};
use super::{dry_run, get_named};
use crate::args::Get;
use crate::failure::{Exit, Failure, Tally};
use crate::ids::ids;
use crate::interrupt;
use crate::output::{CopyError, Out};
use crate::report::{Report, follow};

/// The most ids one `get` takes (they are all known before the first download starts).
const MAX_IDS: usize = 100_000;

pub fn get(
    client: &FilesClient,
    args: &Get,
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    let chosen = select::targets(client, &args.ids, &args.named.select, false, "get")?;
    let known: HashMap<String, FileMetadata> = match &chosen {
        Targets::Files(files) => files.iter().map(|f| (f.id.clone(), f.clone())).collect(),
        Targets::Ids(_) => HashMap::new(),
    };
    if matches!(&chosen, Targets::Files(files) if files.is_empty()) {
        return Ok(()); // the filters selected nothing
    }
    let wanted = at_most_max_ids(&chosen)?;
    // The directories `-d` created, removed again (when still empty) if the command fails.
    let Some((targets, created)) = destinations(client, args, wanted, &known, report, out)? else {
        return Ok(()); // written to standard output, or previewed
    };
    let Some(targets) = get_named::prepare(client, targets, &args.named, &known, report, out)?
    else {
        return Ok(());
    };
    interrupt::watch();
    for (_, target) in &targets {
        interrupt::download_target(target);
    }
    let plan = Plan {
        jobs: args.transfer.jobs.into(),
        keep_going: args.transfer.continue_on_error,
        verb: "downloaded",
        command: "get",
    };
    let batch = targets
        .into_iter()
        .map(|(id, target)| Job {
            label: id.clone(),
            size: None,
            task: (id, target),
        })
        .collect();
    let result = transfer::run(
        client,
        &plan,
        batch,
        Tally::default(),
        report,
        |client, (id, target): &(String, PathBuf), bar| fetch(client, id, target, bar),
        |_| Ok(()),
    );
    if result.is_err() {
        // Deepest first; `remove_dir` leaves a directory that holds a file.
        for dir in &created {
            let _ = std::fs::remove_dir(dir);
        }
    }
    result
}

/// Each wanted id with the path it is saved to, and the directories `-d` created for them.
type Destinations = (Vec<(String, PathBuf)>, Vec<PathBuf>);

/// Where each wanted file goes (`-o PATH`, `-d DIR` by id or by name), and the directories
/// `-d` created; `None` when the one file went to standard output (or its dry run was shown).
fn destinations(
    client: &FilesClient,
    args: &Get,
    wanted: Vec<String>,
    known: &HashMap<String, FileMetadata>,
    report: &Report,
    out: &mut Out,
) -> Result<Option<Destinations>, Failure> {
    let mut created = Vec::new();
    let targets = match (&args.output, &args.dir) {
        (Some(path), _) => {
            let [id] = wanted.as_slice() else {
                return Err(Failure::usage("-o saves one file: use -d DIR for several"));
            };
            check_file_target(path)?;
            vec![(id.clone(), path.clone())]
        }
        (None, Some(dir)) if args.named.by_name => {
            get_named::by_name(client, dir, &wanted, known, args.named.dry_run.dry_run)?
        }
        (None, Some(dir)) => {
            let targets = wanted
                .into_iter()
                .map(|id| check_file_name(&id).map(|()| (id.clone(), dir.join(&id))))
                .collect::<Result<_, _>>()?;
            created = make_dir(dir)?;
            targets
        }
        (None, None) => {
            let [id] = wanted.as_slice() else {
                return Err(Failure::usage("several files need -d DIR to be saved into"));
            };
            if args.named.dry_run.dry_run {
                dry_run::transfer(out, report.json(), "download", id, "-", None)?;
            } else {
                to_stdout(client, id, report, out)?;
            }
            return Ok(None);
        }
    };
    Ok(Some((targets, created)))
}

/// Makes `dir` if it does not exist, with its missing parents; returns the directories it
/// made, deepest first. An existing path that is not a directory is refused.
fn make_dir(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    if dir.is_dir() {
        return Ok(Vec::new());
    }
    if dir.exists() {
        return Err(Failure::usage(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::usage(format!(
            "cannot create the directory {}: {e}",
            dir.display()
        ))
    })?;
    Ok(missing)
}

/// Streams one file to standard output, unless it is a terminal.
fn to_stdout(
    client: &FilesClient,
    id: &str,
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    if out.is_terminal() {
        return Err(Failure::usage(
            "not writing a file's content to a terminal: redirect standard output, or use -o PATH",
        ));
    }
    let bar = report.bar(&format!("get {id}"), None);
    let mut download = client
        .download(id)
        .map_err(|e| Failure::from(e).about(id))?
        .on_progress(follow(&bar));
    match out.copy_from(&mut download) {
        Ok(()) => {
            bar.finish();
            Ok(())
        }
        Err(CopyError::Input(e)) => Err(Failure::from(Error::from(e)).about(id)),
        Err(CopyError::Output(failure)) => Err(failure),
    }
}

/// `-o PATH` must name a file in a directory that exists.
fn check_file_target(path: &Path) -> Result<(), Failure> {
    if path.is_dir() {
        return Err(Failure::usage(format!(
            "{} is a directory: use -d DIR to save into it",
            path.display()
        )));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(Failure::usage(format!(
            "cannot save to {}: {} is not a directory",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// The longest id `-d` saves under its own name: a file name has at most 255 bytes on most
/// file systems (the library's temporary file name is never longer than the target's).
const MAX_FILE_NAME: usize = 255;

/// With `-d`, a file is named by its id: one plain path component, short enough.
fn check_file_name(id: &str) -> Result<(), Failure> {
    let plain = !id.is_empty()
        && id.len() <= MAX_FILE_NAME
        && id != "."
        && id != ".."
        && !id.contains(['/', '\\'])
        && !id.chars().any(char::is_control);
    if plain {
        Ok(())
    } else {
        Err(Failure::usage("this id cannot be used as a file name").about(id))
    }
}

/// Whether `target` exists and is neither a regular file nor a directory (a device such as
/// `/dev/null`, a FIFO, a socket), links followed. Such a target is written through: renaming
/// a temporary file over it would replace the device or FIFO itself.
fn is_special(target: &Path) -> bool {
    std::fs::metadata(target).is_ok_and(|meta| !meta.is_file() && !meta.is_dir())
}

/// The ids chosen, read and checked, refused past [`MAX_IDS`].
fn at_most_max_ids(chosen: &Targets) -> Result<Vec<String>, Failure> {
    let mut wanted = Vec::new();
    for id in ids(&chosen.ids()) {
        wanted.push(id?);
        if wanted.len() > MAX_IDS {
            return Err(Failure::usage(format!("get takes at most {MAX_IDS} ids")));
        }
    }
    Ok(wanted)
}

/// Downloads file `id` to `target`, with progress on `bar`.
fn fetch(client: &FilesClient, id: &str, target: &Path, bar: &ProgressBar) -> Result<(), Failure> {
    let download = client.download(id)?.on_progress(follow(bar));
    if is_special(target) {
        return write_through(download, target);
    }
    // `save_to` reads one answer, with progress; a transfer that breaks is handed to
    // `download_to`, which tries again within the client's retry policy and resumes with a
    // range where the server allows (without progress: the bar waits).
    let saved = match download.save_to(target) {
        Err(error) if error.is_retryable() => client.download_to(id, target),
        saved => saved,
    };
    saved.map(drop).map_err(|e| write_failure(e, target))
}

/// Copies `download` into the existing, non-regular file `target`.
fn write_through(mut download: Download, target: &Path) -> Result<(), Failure> {
    let cannot_write = |e: io::Error| {
        Failure::new(
            Exit::Other,
            "local",
            format!("cannot write {}: {e}", target.display()),
        )
    };
    let mut file = OpenOptions::new()
        .write(true)
        .open(target)
        .map_err(cannot_write)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match download.read(&mut buf) {
            Ok(0) => return file.flush().map_err(cannot_write),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::from(Error::from(e))),
        };
        file.write_all(&buf[..n]).map_err(cannot_write)?;
    }
}

/// A failure to write the downloaded file, named by the target path (never by the temporary
/// file the library writes first).
fn write_failure(error: Error, target: &Path) -> Failure {
    match error {
        Error::Io { source, .. } => Failure::new(
            Exit::Other,
            "local",
            format!("cannot write {}: {source}", target.display()),
        ),
        other => Failure::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_failure_names_the_target_and_not_the_temporary_file() {
        let error = Error::Io {
            path: Some(PathBuf::from("/data/.x.bin.7219-123.part")),
            source: std::io::Error::other("No space left on device"),
        };
        let failure = write_failure(error, Path::new("/data/x.bin"));
        assert_eq!(
            failure.message,
            "cannot write /data/x.bin: No space left on device"
        );
    }

    #[test]
    fn only_plain_ids_name_files_in_a_directory() {
        for id in ["or_file_1", "file_abc", "a.b"] {
            assert!(check_file_name(id).is_ok(), "{id}");
        }
        let long = "a".repeat(MAX_FILE_NAME + 1);
        for id in ["", ".", "..", "../x", "a/b", "a\\b", "a\u{1b}b", &long] {
            assert!(check_file_name(id).is_err(), "{id:?}");
        }
    }
}
