//! `put -r DIR` and `put --skip-existing`: folders expanded into the regular files they hold
//! (symbolic links only with `--follow-symlinks`), and files the workspace already holds
//! under the same name and size left out after one listing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use openrouter_files::{FileMetadata, FilesClient};
use serde_json::Value;

use super::transfer::Job;
use crate::failure::Failure;
use crate::job_args::PutFolders;
use crate::output::Out;
use crate::report::Report;
use crate::text::answer_line;

/// `paths` with each folder replaced, under `-r`, by the files under it in path order.
pub fn expand(
    paths: &[PathBuf],
    folders: &PutFolders,
    is_stdin: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, Failure> {
    let mut expanded = Vec::new();
    for path in paths {
        if folders.recursive && !is_stdin(path) && path.is_dir() {
            let files = openrouter_files::sync::walk_folder(path, folders.follow_symlinks)
                .map_err(|e| Failure::usage(e.to_string()).about(&path.display().to_string()))?;
            expanded.extend(files.into_iter().map(|f| f.local));
        } else {
            expanded.push(path.clone());
        }
    }
    Ok(expanded)
}

/// The metadata of a stored file as one JSON line, with the local `path` it came from (and
/// `"skipped": "exists"` for one left out as already stored) and the request id.
pub fn with_path(meta: &FileMetadata, path: &Path, skipped: bool) -> String {
    let mut value = serde_json::to_value(meta).unwrap_or_default();
    if let Value::Object(map) = &mut value {
        map.insert("path".into(), path.display().to_string().into());
        if skipped {
            map.insert("skipped".into(), "exists".into());
        }
    }
    answer_line(&value, meta.request_id())
}

/// `batch` without the jobs whose file is already stored (same name, same size); each one
/// left out is printed as the stored file's metadata with `"skipped": "exists"` and its path.
pub fn skip_existing<T>(
    client: &FilesClient,
    batch: Vec<Job<T>>,
    name: impl Fn(&T) -> String,
    report: &Report,
    out: &mut Out,
) -> Result<Vec<Job<T>>, Failure> {
    let mut stored: HashMap<(String, u64), FileMetadata> = HashMap::new();
    for file in client.list() {
        let file = file?;
        stored
            .entry((file.filename.clone(), file.size_bytes))
            .or_insert(file);
    }
    let mut to_send = Vec::new();
    for job in batch {
        let found = job
            .size
            .and_then(|size| stored.get(&(name(&job.task), size)));
        match found {
            Some(meta) => {
                let line = with_path(meta, Path::new(&job.label), true);
                report.suspend(|| out.line(&line))?;
            }
            None => to_send.push(job),
        }
    }
    Ok(to_send)
}
