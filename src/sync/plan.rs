//! What a sync will do: the local folder walked, compared with the manifest (size and mtime as
//! a quick check, SHA-256 to confirm), and the pending intents of an interrupted run resolved
//! by looking for their files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::manifest::{Intent, Manifest};
use crate::client::FilesClient;
use crate::error::{Error, Result};
use crate::model::FileMetadata;
use crate::recover;

/// One step of a [`SyncPlan`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SyncAction {
    /// Upload a local file that is new or changed; `replaces` is the id of the previous
    /// upload of a changed file, deleted once the new one is stored.
    Upload {
        /// The path relative to the folder, with `/` separators (also the name it is sent as).
        path: String,
        /// The file on disk.
        local: PathBuf,
        /// Its size now.
        size: u64,
        /// The id it replaces, for a changed file.
        replaces: Option<String>,
    },
    /// Delete a file the manifest owns whose local path is gone (with
    /// [`FolderSync::delete`](crate::FolderSync::delete)).
    Delete {
        /// The local path that is gone.
        path: String,
        /// The id to delete.
        id: String,
    },
    /// Delete a previous upload of a changed file that an interrupted run left.
    DeleteReplaced {
        /// The id to delete.
        id: String,
    },
    /// An upload an interrupted run began is stored: record it, send nothing.
    Adopt {
        /// The local path.
        path: String,
        /// The stored file found.
        file: Box<FileMetadata>,
    },
    /// An upload an interrupted run began was not stored: forget the intent, send nothing
    /// (the file is then planned like any other).
    Abandon {
        /// The local path.
        path: String,
    },
    /// A file whose mtime changed but whose content did not: record the new mtime only.
    Touch {
        /// The local path.
        path: String,
        /// The new mtime, in nanoseconds since the Unix epoch.
        mtime_ns: u64,
    },
}

impl SyncAction {
    /// True for the steps that send a write to the workspace (uploads and deletes).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            SyncAction::Upload { .. }
                | SyncAction::Delete { .. }
                | SyncAction::DeleteReplaced { .. }
        )
    }
}

/// What [`FolderSync::plan`](crate::FolderSync::plan) found to do; show it, then hand it to
/// [`FolderSync::apply`](crate::FolderSync::apply).
#[derive(Debug)]
pub struct SyncPlan {
    pub(crate) manifest: Manifest,
    pub(crate) actions: Vec<SyncAction>,
    pub(crate) unchanged: usize,
}

impl SyncPlan {
    /// The steps, in the order they are applied: manifest-only steps, leftover deletions,
    /// uploads (in path order), then deletions of files whose local path is gone.
    pub fn actions(&self) -> &[SyncAction] {
        &self.actions
    }

    /// How many local files are already stored as they are.
    pub fn unchanged(&self) -> usize {
        self.unchanged
    }

    /// The bytes the uploads will send.
    pub fn upload_bytes(&self) -> u64 {
        self.actions
            .iter()
            .map(|a| match a {
                SyncAction::Upload { size, .. } => *size,
                _ => 0,
            })
            .sum()
    }

    /// True when applying the plan would send no write.
    pub fn is_write_free(&self) -> bool {
        !self.actions.iter().any(SyncAction::writes)
    }
}

/// A regular file found under a folder by [`walk_folder`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalFile {
    /// The path relative to the folder, with `/` separators.
    pub path: String,
    /// The file on disk.
    pub local: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its modification time, in nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: u64,
}

/// Every regular file under `root`, in path order: what a sync of `root` would consider.
/// Symbolic links are left out unless `follow_symlinks` (a dangling one is left out anyway); a
/// name that is not UTF-8 is [`Error::InvalidInput`], since it could not be sent or recorded
/// faithfully.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("walk-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join("sub"))?;
/// # std::fs::write(dir.join("a.txt"), "a")?;
/// # std::fs::write(dir.join("sub/b.txt"), "bb")?;
/// let files = openrouter_files::sync::walk_folder(&dir, false)?;
/// let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
/// assert_eq!(paths, ["a.txt", "sub/b.txt"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn walk_folder(root: &Path, follow_symlinks: bool) -> Result<Vec<LocalFile>> {
    walk(root, follow_symlinks, &[])
}

/// [`walk_folder`], leaving out `skip` (the manifest and its temporary file).
pub(crate) fn walk(root: &Path, follow_symlinks: bool, skip: &[PathBuf]) -> Result<Vec<LocalFile>> {
    // Compared by canonical path, and only for entries of the same file name.
    let skip: Vec<PathBuf> = skip
        .iter()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .collect();
    let is_skipped = |local: &Path| {
        skip.iter().any(|s| {
            s.file_name() == local.file_name() && local.canonicalize().is_ok_and(|l| l == *s)
        })
    };
    // Folders already walked, so links that lead back up (followed only when asked) end.
    let mut seen = std::collections::HashSet::new();
    let mut files = Vec::new();
    let mut dirs = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = dirs.pop() {
        if follow_symlinks && !seen.insert(dir.canonicalize().unwrap_or_else(|_| dir.clone())) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(dir.clone(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir.clone(), e))?;
            let local = entry.path();
            let name = entry.file_name().into_string().map_err(|name| {
                Error::InvalidInput(format!(
                    "{}: a name that is not UTF-8 ({name:?}) cannot be synced",
                    dir.display()
                ))
            })?;
            let path = format!("{prefix}{name}");
            let kind = entry.file_type().map_err(|e| Error::io(local.clone(), e))?;
            let meta = if kind.is_symlink() {
                if !follow_symlinks {
                    continue;
                }
                match std::fs::metadata(&local) {
                    Ok(meta) => meta,
                    Err(_) => continue, // a dangling link names nothing to upload
                }
            } else {
                entry.metadata().map_err(|e| Error::io(local.clone(), e))?
            };
            if meta.is_dir() {
                dirs.push((local, format!("{path}/")));
            } else if meta.is_file() && !is_skipped(&local) {
                files.push(LocalFile {
                    path,
                    local,
                    size: meta.len(),
                    mtime_ns: mtime_ns(meta.modified().ok()),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// A modification time in nanoseconds since the epoch (0 when unknown or before it).
pub(crate) fn mtime_ns(time: Option<SystemTime>) -> u64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Seconds since the epoch now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The SHA-256 of the file at `path`, in lower-case hex.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path.to_path_buf(), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io(path.to_path_buf(), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Plans a sync of `files` against `manifest`, in four steps: pending intents resolved (one
/// listing, only when there are some), local files compared with their entries, leftovers of
/// replaced uploads, and with `delete` the owned files whose local path is gone.
pub(crate) fn plan(
    client: &FilesClient,
    manifest: Manifest,
    files: Vec<LocalFile>,
    delete: bool,
) -> Result<SyncPlan> {
    let mut actions = resolve_intents(client, &manifest)?;
    let adopted: BTreeMap<String, String> = actions
        .iter()
        .filter_map(|a| match a {
            SyncAction::Adopt { path, file } => Some((path.clone(), file.id.clone())),
            _ => None,
        })
        .collect();
    let Compared {
        uploads,
        touches,
        unchanged,
    } = compare(&files, &manifest, &adopted);
    actions.extend(touches);
    let leftovers = leftovers(&manifest, &actions);
    actions.extend(leftovers);
    actions.extend(uploads);
    if delete {
        actions.extend(deletions(&files, &manifest, &adopted));
    }
    Ok(SyncPlan {
        manifest,
        actions,
        unchanged,
    })
}

/// Adopt or abandon each pending intent. One listing resolves them all: found once, adopted;
/// not found, abandoned; found several times, or one stored file found for two intents, the
/// sync stops and names them (guessing could lose a file).
fn resolve_intents(client: &FilesClient, manifest: &Manifest) -> Result<Vec<SyncAction>> {
    let mut actions = Vec::new();
    let listed: Vec<FileMetadata> = if manifest.intents.is_empty() {
        Vec::new()
    } else {
        crate::list_all::every_file(client, None).collect::<Result<_>>()?
    };
    let found_for: Vec<(&String, &Intent, Vec<&FileMetadata>)> = manifest
        .intents
        .iter()
        .map(|(path, intent)| {
            let since = UNIX_EPOCH + Duration::from_secs(intent.started);
            let found = listed
                .iter()
                .filter(|f| recover::may_be(f, &intent.name, intent.size, since))
                .filter(|f| !manifest.owns(&f.id))
                .collect();
            (path, intent, found)
        })
        .collect();
    // One stored file found for two intents (a server that keeps base names only, say) is
    // neither's for sure: adopting it for both would leave a local file without a copy.
    for (path, intent, found) in &found_for {
        let shared: Vec<&str> = found_for
            .iter()
            .filter(|(other, _, theirs)| {
                other != path && theirs.iter().any(|t| found.iter().any(|f| f.id == t.id))
            })
            .map(|(other, _, _)| other.as_str())
            .collect();
        if let Some(other) = shared.first() {
            return Err(Error::LostUpload {
                filename: intent.name.clone(),
                candidates: found.iter().map(|f| f.id.clone()).collect(),
                source: Box::new(Error::InvalidInput(format!(
                    "interrupted syncs began uploading {path} and {other}, recorded no \
                     result, and one stored file may be either"
                ))),
            });
        }
    }
    for (path, intent, mut found) in found_for {
        match found.len() {
            0 => actions.push(SyncAction::Abandon { path: path.clone() }),
            1 => actions.push(SyncAction::Adopt {
                path: path.clone(),
                file: Box::new(found.remove(0).clone()),
            }),
            _ => {
                return Err(Error::LostUpload {
                    filename: intent.name.clone(),
                    candidates: found.iter().map(|f| f.id.clone()).collect(),
                    source: Box::new(Error::InvalidInput(format!(
                        "an interrupted sync began uploading {path} and recorded no result"
                    ))),
                });
            }
        }
    }
    Ok(actions)
}

/// What comparing the local files with the manifest gives.
struct Compared {
    uploads: Vec<SyncAction>,
    touches: Vec<SyncAction>,
    unchanged: usize,
}

/// Each local file against its entry (or the intent `adopted` took up): size and mtime as the
/// quick check, SHA-256 to confirm a change.
fn compare(
    files: &[LocalFile],
    manifest: &Manifest,
    adopted: &BTreeMap<String, String>,
) -> Compared {
    let adopted = |path: &str| adopted.get(path).cloned();
    let mut uploads = Vec::new();
    let mut touches = Vec::new();
    let mut unchanged = 0;
    for file in files {
        // An adopted intent is compared by content: it uploaded what it had hashed.
        let adopted_id = adopted(&file.path);
        let known = match (&adopted_id, manifest.entries.get(&file.path)) {
            (Some(id), _) => manifest
                .intents
                .get(&file.path)
                .map(|i| (id.clone(), i.size, None, i.sha256.clone())),
            (None, Some(e)) => Some((e.id.clone(), e.size, Some(e.mtime_ns), e.sha256.clone())),
            (None, None) => None,
        };
        let upload = |replaces| SyncAction::Upload {
            path: file.path.clone(),
            local: file.local.clone(),
            size: file.size,
            replaces,
        };
        let Some((id, size, mtime, sha256)) = known else {
            uploads.push(upload(None));
            continue;
        };
        if size == file.size && mtime == Some(file.mtime_ns) {
            unchanged += 1;
        } else if size == file.size
            // One that cannot be read now is planned as changed: its upload fails that item
            // (before anything is recorded or sent), not the whole plan.
            && sha256_file(&file.local).is_ok_and(|now| now == sha256)
        {
            unchanged += 1;
            touches.push(SyncAction::Touch {
                path: file.path.clone(),
                mtime_ns: file.mtime_ns,
            });
        } else {
            uploads.push(upload(Some(id)));
        }
    }
    Compared {
        uploads,
        touches,
        unchanged,
    }
}

/// The ids to delete as leftovers: the manifest's orphans, and the entries an adopted upload
/// replaces.
fn leftovers(manifest: &Manifest, actions: &[SyncAction]) -> Vec<SyncAction> {
    // An adopted upload replaces the entry it found: the old id is deleted like a leftover.
    let replaced_by_adoption: Vec<String> = actions
        .iter()
        .filter_map(|a| match a {
            SyncAction::Adopt { path, file } => manifest
                .entries
                .get(path)
                .filter(|e| e.id != file.id)
                .map(|e| e.id.clone()),
            _ => None,
        })
        .collect();
    manifest
        .orphans
        .iter()
        .cloned()
        .chain(replaced_by_adoption)
        .map(|id| SyncAction::DeleteReplaced { id })
        .collect()
}

/// With `--delete`: the files the manifest owns whose local path is gone.
fn deletions(
    files: &[LocalFile],
    manifest: &Manifest,
    adopted: &BTreeMap<String, String>,
) -> Vec<SyncAction> {
    let mut actions = Vec::new();
    let adopted = |path: &str| adopted.get(path).cloned();
    let local: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let owned_paths: BTreeSet<&String> = manifest
        .entries
        .keys()
        .chain(manifest.intents.keys())
        .collect();
    for path in owned_paths {
        if local.contains(path.as_str()) {
            continue;
        }
        let current = adopted(path).or_else(|| manifest.entries.get(path).map(|e| e.id.clone()));
        if let Some(id) = current {
            actions.push(SyncAction::Delete {
                path: path.clone(),
                id,
            });
        }
    }
    actions
}
