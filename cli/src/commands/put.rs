//! `put`: uploads files (or standard input, spooled to a temporary file first so its size is
//! known and a retry can read it again), after checking every local file before sending.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use openrouter_files::{FileMetadata, FilesClient, Upload};
use tempfile::NamedTempFile;

use super::transfer::{self, Job, Plan};
use super::{dry_run, put_folder};
use crate::args::Put;
use crate::failure::{Failure, Tally};
use crate::interrupt;
use crate::output::Out;
use crate::report::{Report, follow};
use crate::text::answer_line;

/// A file to upload: where it is, and the name to store it under if not its own.
struct Item {
    path: PathBuf,
    name: Option<String>,
}

impl Item {
    /// The name the file is stored under.
    fn stored_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }
}

pub fn put(
    client: &FilesClient,
    args: &Put,
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    let from_stdin = check_arguments(args)?;
    let limit = client.upload_limit();
    let mut tally = Tally::default();
    let folders = &args.folders;
    let paths = put_folder::expand(&args.paths, folders, is_stdin)?;
    let mut batch = checked_jobs(&paths, args, limit, report, &mut tally)?;
    // Standard input is read only once every named file has passed its checks.
    let spooled = if from_stdin == 1 {
        let (spool, job) = stdin_job(limit, args)?;
        batch.push(job);
        Some(spool)
    } else {
        None
    };
    if folders.skip_existing {
        batch = put_folder::skip_existing(client, batch, |item| item.stored_name(), report, out)?;
    }
    if folders.dry_run.dry_run {
        for job in &batch {
            let name = job.task.stored_name();
            dry_run::transfer(out, report.json(), "upload", &job.label, &name, job.size)?;
        }
        drop(spooled);
        return Ok(());
    }
    let recursive = folders.recursive;
    let plan = Plan {
        jobs: args.transfer.jobs.into(),
        keep_going: args.transfer.continue_on_error,
        verb: "uploaded",
        command: "put",
    };
    let result = transfer::run(
        client,
        &plan,
        batch,
        tally,
        report,
        |client, item: &Item, bar| Ok((send(client, item, bar)?, item.path.clone())),
        |(meta, path)| {
            // With -r, each line also says which local file it came from.
            let line = if recursive {
                put_folder::with_path(&meta, &path, false)
            } else {
                answer_line(&meta, meta.request_id())
            };
            report.suspend(|| out.line(&line))
        },
    );
    drop(spooled);
    result
}

/// Standard input spooled to a temporary file (kept until the upload ends) and its job.
fn stdin_job(limit: u64, args: &Put) -> Result<(NamedTempFile, Job<Item>), Failure> {
    let spool = spool_stdin(limit)?;
    let size = spool.as_file().metadata().ok().map(|m| m.len());
    let job = Job {
        label: "-".into(),
        size,
        task: Item {
            path: spool.path().to_path_buf(),
            name: args.name.clone(),
        },
    };
    Ok((spool, job))
}

/// Uploads one item, with progress on `bar`.
fn send(client: &FilesClient, item: &Item, bar: &ProgressBar) -> Result<FileMetadata, Failure> {
    let mut upload = Upload::path(&item.path).on_progress(follow(bar));
    if let Some(name) = &item.name {
        upload = upload.filename(name);
    }
    Ok(client.upload(upload)?)
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The usage rules of `put`'s paths and `--name`; how many paths are `-` (0 or 1).
fn check_arguments(args: &Put) -> Result<usize, Failure> {
    let from_stdin = args.paths.iter().filter(|p| is_stdin(p)).count();
    if from_stdin > 1 {
        return Err(Failure::usage(
            "put: `-` (standard input) can be given once",
        ));
    }
    if args.name.is_some() && args.paths.len() > 1 {
        return Err(Failure::usage(
            "put: --name names one file; give a single PATH",
        ));
    }
    if from_stdin == 1 && args.name.is_none() {
        return Err(Failure::usage(
            "put -: give the name to store standard input under with --name",
        ));
    }
    Ok(from_stdin)
}

/// A job for each named file that passes its checks; one that does not fails the command, or
/// with `--continue-on-error` is reported and counted.
fn checked_jobs(
    paths: &[PathBuf],
    args: &Put,
    limit: u64,
    report: &Report,
    tally: &mut Tally,
) -> Result<Vec<Job<Item>>, Failure> {
    let mut batch = Vec::new();
    for path in paths.iter().filter(|p| !is_stdin(p)) {
        let label = path.display().to_string();
        match check_file(path, limit) {
            Ok(size) => batch.push(Job {
                label,
                size: Some(size),
                task: Item {
                    path: path.clone(),
                    name: args.name.clone(),
                },
            }),
            Err(failure) if args.transfer.continue_on_error => {
                let failure = failure.about(&label);
                report.error(&failure);
                tally.failed(failure);
            }
            Err(failure) => return Err(failure.about(&label)),
        }
    }
    Ok(batch)
}

/// The size of the file at `path`, if the API would take it: a readable regular file, not
/// empty, at most `limit` bytes.
fn check_file(path: &Path, limit: u64) -> Result<u64, Failure> {
    let meta = std::fs::metadata(path).map_err(|e| Failure::usage(format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(Failure::usage(
            "a directory: use -r (--recursive) to upload the files it holds",
        ));
    }
    if !meta.is_file() {
        return Err(Failure::usage("not a regular file"));
    }
    File::open(path).map_err(|e| Failure::usage(format!("cannot read: {e}")))?;
    match meta.len() {
        0 => Err(Failure::usage(
            "the file is empty; the API refuses empty files",
        )),
        n if n > limit => Err(Failure::usage(format!(
            "the file is {n} bytes, over the upload limit of {limit} bytes"
        ))),
        n => Ok(n),
    }
}

/// Standard input copied into a temporary file, refused when empty or over `limit` bytes
/// (reading stops one byte past the limit).
fn spool_stdin(limit: u64) -> Result<NamedTempFile, Failure> {
    let spool_error = |e: io::Error| {
        Failure::usage(format!(
            "cannot keep standard input in a temporary file: {e}"
        ))
    };
    interrupt::watch();
    let mut spool = NamedTempFile::new().map_err(spool_error)?;
    interrupt::temporary_file(spool.path());
    let copied = io::copy(&mut io::stdin().lock().take(limit + 1), spool.as_file_mut())
        .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
    spool.as_file_mut().flush().map_err(spool_error)?;
    spool.as_file_mut().rewind().map_err(spool_error)?;
    match copied {
        0 => Err(Failure::usage("standard input is empty; the API refuses empty files").about("-")),
        n if n > limit => Err(Failure::usage(format!(
            "standard input is over the upload limit of {limit} bytes"
        ))
        .about("-")),
        _ => Ok(spool),
    }
}
