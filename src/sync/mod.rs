//! One-way sync of a local folder to the workspace, exact across re-runs and interruptions:
//! [`FolderSync`] plans ([`SyncPlan`]) from the folder and a manifest of what it owns, and
//! applies the plan, recording an intent before each upload and the result after it.
//!
//! # Promises
//!
//! - A file is uploaded when new or changed (size and mtime as a quick check, SHA-256 to
//!   confirm); an unchanged folder sends no write.
//! - A changed file's previous upload is deleted after the new one is stored, never before.
//! - With [`FolderSync::delete`], files the manifest owns whose local path is gone are
//!   deleted. A file the manifest does not own is never touched. The manifest is trusted as
//!   the record of what the sync owns; as a guard against one edited by hand or forged, a
//!   file is deleted for a path only when its stored name is the name sent for that path (or
//!   its base name): one more `GET` per deletion. (The previous id of a changed file, kept
//!   without its path, is deleted as recorded.)
//! - A run killed at any instant (SIGKILL included) and run again ends with exactly one
//!   stored file per local file: an upload whose intent is recorded and whose result is not
//!   is looked for (as for a lost answer, see [`FilesClient::upload_detailed`]) and adopted
//!   when found, sent again when not.
//!
//! Each file is sent under its path relative to the folder, with `/` separators
//! (`reports/q1.csv`), so files of the same name in different folders stay apart. One sync
//! per manifest at a time: [`FolderSync::plan`] takes a lock (`flock`, on Unix) on a file
//! `.NAME.lock` beside the manifest `NAME`, held until the plan is applied or dropped, and a
//! second run on the same manifest meanwhile is refused ([`Error::InvalidInput`]). The lock
//! file is removed when the lock is released. A manifest that is not a regular file (a FIFO, a device) is refused
//! before it is read.
//!
//! # The manifest
//!
//! An append-only journal in JSON lines: each record is made durable (`fsync`) before the
//! step it announces or after the one it confirms, and the file is rewritten atomically
//! (temporary file beside it, `fsync`, rename) at the end of a run, as its state alone.
//!
//! Records (one JSON object per line, `op` says which):
//!
//! | `op` | fields | meaning |
//! |---|---|---|
//! | `intent` | `path`, `name`, `size`, `sha256`, `started` | an upload of `path` sent as `name` is about to begin (`started`: Unix seconds) |
//! | `put` | `path`, `id`, `size`, `mtime_ns`, `sha256`, `uploaded_at`, `replaces`? | `path` is stored as `id`; the intent is done; `replaces` is the previous id of a changed file, still to delete |
//! | `abandon` | `path` | the pending intent of `path` was not stored |
//! | `deleted` | `id` | a replaced id is deleted |
//! | `orphan` | `id` | an owned id still to delete (what `replaces` left, after a rewrite) |
//! | `forget` | `path` | `path` is gone locally and its file deleted |
//!
//! Replaying the records in order gives one entry per local path ([`ManifestEntry`]: id,
//! size, mtime, SHA-256, uploaded-at), the intents still pending, and the ids still to
//! delete. A run killed while writing leaves at most a torn last line, dropped on the next
//! load; any other line that cannot be read stops the sync with an error.

mod lock;
mod manifest;
mod plan;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::batch::{Batch, BatchItem, BatchProgress, BatchReport, Outcome};
use crate::client::FilesClient;
use crate::error::{Error, Result};
use crate::model::FileMetadata;
use crate::recover::{may_have_stored, same_upload_name};
use crate::upload::Upload;
pub use manifest::ManifestEntry;
use manifest::{Manifest, Record};
pub use plan::{LocalFile, SyncAction, SyncPlan, walk_folder};
use plan::{mtime_ns, sha256_file, unix_now};

/// What one applied [`SyncAction`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SyncDone {
    /// The stored file, for an upload or an adoption.
    pub file: Option<FileMetadata>,
    /// For an upload: its answer was lost and the file was found instead of confirmed.
    pub found: bool,
}

/// The result of [`FolderSync::apply`]: one item per action, in plan order.
pub type SyncReport = BatchReport<SyncAction, SyncDone>;

/// A sync of a local folder to the workspace, made by [`FilesClient::sync`].
///
/// ```
/// # use openrouter_files::FilesClient;
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::start()?;
/// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
/// # let dir = std::env::temp_dir().join(format!("sync-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join("sub"))?;
/// std::fs::write(dir.join("a.txt"), "alpha")?;
/// std::fs::write(dir.join("sub/b.txt"), "beta")?;
/// let manifest = dir.with_extension("manifest.jsonl");
/// let sync = client.sync(&dir, &manifest).delete(true);
/// let plan = sync.plan()?;
/// assert_eq!(plan.actions().len(), 2); // two uploads
/// let report = client.sync(&dir, &manifest).apply(plan);
/// assert!(report.is_success());
/// // Nothing changed: nothing to do.
/// assert!(client.sync(&dir, &manifest).plan()?.actions().is_empty());
/// # std::fs::remove_dir_all(&dir)?; std::fs::remove_file(&manifest)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FolderSync<'a> {
    client: &'a FilesClient,
    root: PathBuf,
    manifest: PathBuf,
    delete: bool,
    follow_symlinks: bool,
    /// Runs the uploads and deletes, with the caller's concurrency, flag and progress.
    batch: Batch<'a>,
}

impl std::fmt::Debug for FolderSync<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderSync")
            .field("root", &self.root)
            .field("manifest", &self.manifest)
            .field("delete", &self.delete)
            .field("follow_symlinks", &self.follow_symlinks)
            .field("batch", &self.batch)
            .finish()
    }
}

impl FilesClient {
    /// A sync of the folder `dir` to this client's workspace, recorded in the manifest at
    /// `manifest` (created on the first run; keep it outside `dir`, or it is left out of the
    /// sync). See [`FolderSync`].
    pub fn sync(&self, dir: impl AsRef<Path>, manifest: impl AsRef<Path>) -> FolderSync<'_> {
        FolderSync {
            client: self,
            root: dir.as_ref().to_path_buf(),
            manifest: manifest.as_ref().to_path_buf(),
            delete: false,
            follow_symlinks: false,
            batch: self.batch(),
        }
    }
}

impl<'a> FolderSync<'a> {
    /// Deletes the files the manifest owns whose local path is gone (default: no).
    pub fn delete(mut self, delete: bool) -> Self {
        self.delete = delete;
        self
    }

    /// Follows symbolic links to files and folders (default: no, they are left out).
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        self.follow_symlinks = follow;
        self
    }

    /// How many uploads and deletes run at once (see [`Batch::concurrency`](crate::Batch::concurrency)).
    pub fn concurrency(mut self, workers: usize) -> Self {
        self.batch = self.batch.concurrency(workers);
        self
    }

    /// A flag that stops the sync: no new upload or delete starts once it is set; what ran
    /// is recorded, and a re-run finishes the job.
    pub fn cancel_flag(mut self, flag: &'a AtomicBool) -> Self {
        self.batch = self.batch.cancel_flag(flag);
        self
    }

    /// Progress of the uploads and deletes: files and bytes, with their totals.
    pub fn on_progress(mut self, callback: impl FnMut(&BatchProgress) + Send + 'a) -> Self {
        self.batch = self.batch.on_progress(callback);
        self
    }

    /// What the sync would do. Reads the folder and the manifest; lists the workspace only
    /// when an interrupted run left intents to resolve. Sends no write.
    pub fn plan(&self) -> Result<SyncPlan> {
        let meta = std::fs::metadata(&self.root).map_err(|e| Error::io(self.root.clone(), e))?;
        if !meta.is_dir() {
            return Err(Error::InvalidInput(format!(
                "{} is not a folder",
                self.root.display()
            )));
        }
        let manifest = Manifest::load(&self.manifest)?;
        let skip = [
            self.manifest.clone(),
            manifest::temp_path(&self.manifest),
            lock::lock_path(&self.manifest),
        ];
        let files = plan::walk(&self.root, self.follow_symlinks, &skip)?;
        plan::plan(self.client, manifest, files, self.delete)
    }

    /// Applies `plan`: manifest-only steps first, then the uploads and deletes on
    /// [`FolderSync::concurrency`] workers. Each item of the report says how its step ended;
    /// a failed step is left for the next run to finish.
    pub fn apply(self, plan: SyncPlan) -> SyncReport {
        let SyncPlan {
            manifest, actions, ..
        } = plan;
        let manifest = Mutex::new(manifest);
        let (local, remote): (Vec<_>, Vec<_>) = actions.into_iter().partition(|a| !a.writes());
        let mut items: Vec<BatchItem<SyncAction, SyncDone>> = local
            .into_iter()
            .map(|action| {
                let outcome = match record_only(&manifest, &action) {
                    Ok(done) => Outcome::Done(done),
                    Err(error) => Outcome::Failed(error),
                };
                BatchItem {
                    input: action,
                    outcome,
                }
            })
            .collect();
        let bytes: u64 = remote
            .iter()
            .map(|a| match a {
                SyncAction::Upload { size, .. } => *size,
                _ => 0,
            })
            .sum();
        let follow = self.follow_symlinks;
        let report = self
            .batch
            .run_counting(remote, Some(bytes), |client, action, add| {
                write(client, &manifest, action, follow, add)
            });
        items.extend(report.into_items());
        let mut manifest = lock(&manifest);
        if let Err(e) = manifest.compact() {
            log::warn!("could not rewrite the sync manifest (its journal stands): {e}");
        }
        BatchReport { items }
    }
}

fn lock(manifest: &Mutex<Manifest>) -> MutexGuard<'_, Manifest> {
    manifest.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Applies a step that changes the manifest only.
fn record_only(manifest: &Mutex<Manifest>, action: &SyncAction) -> Result<SyncDone> {
    let mut m = lock(manifest);
    let done = |file| SyncDone { file, found: false };
    match action {
        SyncAction::Adopt { path, file } => {
            let Some(intent) = m.intents.get(path).cloned() else {
                return Err(Error::InvalidInput(format!(
                    "no intent for {path} to adopt"
                )));
            };
            let replaces = m.entries.get(path).map(|e| e.id.clone());
            m.append(Record::Put {
                path: path.clone(),
                id: file.id.clone(),
                size: intent.size,
                mtime_ns: 0,
                sha256: intent.sha256,
                uploaded_at: unix_now(),
                replaces,
            })?;
            Ok(done(Some(FileMetadata::clone(file))))
        }
        SyncAction::Abandon { path } => {
            m.append(Record::Abandon { path: path.clone() })?;
            Ok(done(None))
        }
        SyncAction::Touch { path, mtime_ns } => {
            let Some(entry) = m.entries.get(path).cloned() else {
                return Err(Error::InvalidInput(format!("no entry for {path} to touch")));
            };
            m.append(Record::Put {
                path: path.clone(),
                id: entry.id,
                size: entry.size,
                mtime_ns: *mtime_ns,
                sha256: entry.sha256,
                uploaded_at: entry.uploaded_at,
                replaces: None,
            })?;
            Ok(done(None))
        }
        _ => Err(Error::InvalidInput("not a manifest-only step".into())),
    }
}

/// Applies a step that writes to the workspace.
fn write(
    client: &FilesClient,
    manifest: &Mutex<Manifest>,
    action: &SyncAction,
    follow_symlinks: bool,
    add_bytes: &(dyn Fn(u64) + Sync),
) -> Result<SyncDone> {
    let done = SyncDone {
        file: None,
        found: false,
    };
    match action {
        SyncAction::Upload {
            path,
            local,
            replaces,
            ..
        } => {
            let local = Local {
                path,
                file: local,
                follow_symlinks,
            };
            upload(client, manifest, &local, replaces.as_deref(), add_bytes)
        }
        SyncAction::Delete { path, id } => {
            check_stored_as(client, id, path)?;
            delete_owned(client, manifest, id)?;
            lock(manifest).append(Record::Forget { path: path.clone() })?;
            Ok(done)
        }
        SyncAction::DeleteReplaced { id } => {
            delete_owned(client, manifest, id)?;
            Ok(done)
        }
        _ => Err(Error::InvalidInput("not a step that writes".into())),
    }
}

/// A local file to upload: its path in the folder, on disk, and whether links are followed.
struct Local<'p> {
    path: &'p str,
    file: &'p Path,
    follow_symlinks: bool,
}

impl Local<'_> {
    /// The file's metadata now, refusing what the plan would have left out: a link (unless
    /// links are followed) or anything but a regular file, put there since the plan was made.
    /// (A folder on the way replaced by a link is not checked.)
    fn metadata(&self) -> Result<std::fs::Metadata> {
        let io = |e| Error::io(self.file.to_path_buf(), e);
        let meta = std::fs::symlink_metadata(self.file).map_err(io)?;
        let meta = if !meta.file_type().is_symlink() {
            meta
        } else if self.follow_symlinks {
            std::fs::metadata(self.file).map_err(io)?
        } else {
            return Err(Error::InvalidInput(format!(
                "{} became a symbolic link after the sync was planned; links are not followed",
                self.path
            )));
        };
        if !meta.is_file() {
            return Err(Error::InvalidInput(format!(
                "{} is no longer a regular file",
                self.path
            )));
        }
        Ok(meta)
    }
}

/// Uploads one file between its intent and its result, then deletes what it replaces.
fn upload(
    client: &FilesClient,
    manifest: &Mutex<Manifest>,
    local: &Local<'_>,
    replaces: Option<&str>,
    add_bytes: &(dyn Fn(u64) + Sync),
) -> Result<SyncDone> {
    let (path, meta) = (local.path, local.metadata()?);
    let local = local.file;
    // Refused before anything is recorded or sent, as the upload itself would refuse it.
    crate::upload::check_filename(path)?;
    let limit = client.upload_limit();
    if meta.len() == 0 || meta.len() > limit {
        return Err(Error::InvalidInput(format!(
            "{path} is {} bytes; the API takes 1 to {limit}",
            meta.len()
        )));
    }
    let sha256 = sha256_file(local)?;
    lock(manifest).append(Record::Intent {
        path: path.to_string(),
        name: path.to_string(),
        size: meta.len(),
        sha256: sha256.clone(),
        started: unix_now(),
    })?;
    let owned = |id: &str| lock(manifest).owns(id);
    let mut last = 0;
    let mut upload = Upload::path(local)
        .filename(path)
        .on_progress(move |sent, _| {
            add_bytes(sent.saturating_sub(last));
            last = sent;
        });
    upload.known = Some(&owned);
    let uploaded = match client.upload_detailed(upload) {
        Ok(uploaded) => uploaded,
        Err(error) => {
            if !may_have_stored(&error) && !matches!(error, Error::LostUpload { .. }) {
                lock(manifest).append(Record::Abandon {
                    path: path.to_string(),
                })?;
            }
            return Err(error);
        }
    };
    lock(manifest).append(Record::Put {
        path: path.to_string(),
        id: uploaded.file.id.clone(),
        size: meta.len(),
        mtime_ns: mtime_ns(meta.modified().ok()),
        sha256,
        uploaded_at: unix_now(),
        replaces: replaces.map(str::to_string),
    })?;
    if let Some(old) = replaces {
        delete_owned(client, manifest, old)?;
    }
    Ok(SyncDone {
        file: Some(uploaded.file),
        found: uploaded.found,
    })
}

/// Before deleting `id` for the local `path` that is gone: the stored file must carry the
/// name the sync sent for `path` (or its base name), so a manifest line naming another file
/// (edited by hand, or forged) cannot delete it. Already gone is fine.
fn check_stored_as(client: &FilesClient, id: &str, path: &str) -> Result<()> {
    match client.retrieve(id) {
        Ok(file) if !same_upload_name(&file.filename, path) => Err(Error::InvalidInput(format!(
            "the manifest says {path} is stored as {id}, but {id} is named {:?}: not deleted",
            file.filename
        ))),
        Ok(_) => Ok(()),
        Err(Error::Api(api)) if api.status() == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes a file the manifest owns (already gone counts as deleted) and records it.
fn delete_owned(client: &FilesClient, manifest: &Mutex<Manifest>, id: &str) -> Result<()> {
    match client.delete(id) {
        Ok(_) => {}
        Err(Error::Api(api)) if api.status() == 404 => {}
        Err(e) => return Err(e),
    }
    lock(manifest).append(Record::Deleted { id: id.to_string() })
}
