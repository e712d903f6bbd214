//! The sync manifest: an append-only JSON-lines journal of what a sync owns in the workspace,
//! each record made durable (`fsync`) before the step it announces or after the one it
//! confirms, and rewritten atomically (temporary file, `fsync`, rename) when a run ends.
//!
//! The format is documented in the parent module.
//!
//! Replaying the records in order gives one entry per local path (id, size, mtime, SHA-256,
//! uploaded-at), the intents still pending and the ids still to delete. A run killed at any
//! instant leaves at most a torn last line, which is dropped on the next load.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::lock::ManifestLock;
use crate::error::{Error, Result};

/// What the manifest holds for one local path: the file it is stored as and the local
/// state it was uploaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestEntry {
    /// The id of the stored file.
    pub id: String,
    /// The local size when uploaded.
    pub size: u64,
    /// The local modification time when uploaded, in nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    /// The SHA-256 of the content uploaded, in lower-case hex.
    pub sha256: String,
    /// When the upload was recorded, in seconds since the Unix epoch.
    pub uploaded_at: u64,
}

/// An upload begun and not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Intent {
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
    pub(crate) started: u64,
}

/// One line of the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Record {
    Intent {
        path: String,
        name: String,
        size: u64,
        sha256: String,
        started: u64,
    },
    Put {
        path: String,
        id: String,
        size: u64,
        mtime_ns: u64,
        sha256: String,
        uploaded_at: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<String>,
    },
    Abandon {
        path: String,
    },
    Deleted {
        id: String,
    },
    Orphan {
        id: String,
    },
    Forget {
        path: String,
    },
}

/// The manifest's state, and the file it is appended to.
#[derive(Debug)]
pub(crate) struct Manifest {
    path: PathBuf,
    pub(crate) entries: BTreeMap<String, ManifestEntry>,
    pub(crate) intents: BTreeMap<String, Intent>,
    /// Owned ids still to delete (previous ids of changed files).
    pub(crate) orphans: BTreeSet<String>,
    file: Option<File>,
    /// Held while this state may be applied: one sync per manifest at a time.
    _lock: ManifestLock,
}

impl Manifest {
    /// Reads the manifest at `path` (none yet: empty). A torn last line (a run killed while
    /// writing it) is dropped, from the file too, so appends start on a line of their own;
    /// any other line that cannot be read is an error, since guessing could lose a file.
    /// Anything but a regular file (a FIFO would block, a device never end) is an error, and
    /// so is a manifest another run holds (see the `lock` module).
    pub(crate) fn load(path: &Path) -> Result<Manifest> {
        let existing = open_regular(path)?;
        let mut manifest = Manifest {
            path: path.to_path_buf(),
            entries: BTreeMap::new(),
            intents: BTreeMap::new(),
            orphans: BTreeSet::new(),
            file: None,
            _lock: ManifestLock::take(path)?,
        };
        let mut text = String::new();
        match existing {
            Some(mut file) => {
                file.read_to_string(&mut text)
                    .map_err(|e| Error::io(path.to_path_buf(), e))?;
            }
            None => return Ok(manifest),
        }
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        for (number, line) in text[..whole].lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(line).map_err(|e| {
                Error::InvalidInput(format!(
                    "{} line {}: not a manifest record: {e}",
                    path.display(),
                    number + 1
                ))
            })?;
            manifest.replay(record);
        }
        if whole < text.len() {
            log::debug!("dropping a torn last line of {}", path.display());
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path.to_path_buf(), e))?;
            file.set_len(whole as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(path.to_path_buf(), e))?;
        }
        Ok(manifest)
    }

    /// Every id the manifest owns: those of its entries and those still to delete.
    pub(crate) fn owns(&self, id: &str) -> bool {
        self.orphans.contains(id) || self.entries.values().any(|e| e.id == id)
    }

    /// Writes `record` as one line and makes it durable, then applies it.
    pub(crate) fn append(&mut self, record: Record) -> Result<()> {
        let path = self.path.clone();
        let io = |e| Error::io(path.clone(), e);
        if self.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(io)?;
            self.file = Some(file);
        }
        let mut line = serde_json::to_vec(&record).expect("a record serializes");
        line.push(b'\n');
        let file = self.file.as_mut().expect("opened above");
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(io)?;
        self.replay(record);
        Ok(())
    }

    /// Rewrites the manifest as its state alone (one `put` per entry, the pending intents
    /// and orphans), atomically: a temporary file beside it, synced, renamed over it.
    pub(crate) fn compact(&mut self) -> Result<()> {
        let io = |e| Error::io(self.path.clone(), e);
        let mut text = Vec::new();
        for record in self.records() {
            serde_json::to_writer(&mut text, &record).expect("a record serializes");
            text.push(b'\n');
        }
        let temp = temp_path(&self.path);
        // A new file, never one found there (a link planted there is not followed).
        match std::fs::remove_file(&temp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io)?;
        file.write_all(&text)
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        std::fs::rename(&temp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename is durable once the directory is.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        self.file = None;
        Ok(())
    }

    /// The state as records, in path order.
    fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let entries = self.entries.iter().map(|(path, e)| Record::Put {
            path: path.clone(),
            id: e.id.clone(),
            size: e.size,
            mtime_ns: e.mtime_ns,
            sha256: e.sha256.clone(),
            uploaded_at: e.uploaded_at,
            replaces: None,
        });
        let intents = self.intents.iter().map(|(path, i)| Record::Intent {
            path: path.clone(),
            name: i.name.clone(),
            size: i.size,
            sha256: i.sha256.clone(),
            started: i.started,
        });
        let orphans = self
            .orphans
            .iter()
            .map(|id| Record::Orphan { id: id.clone() });
        entries.chain(intents).chain(orphans)
    }

    fn replay(&mut self, record: Record) {
        match record {
            Record::Intent {
                path,
                name,
                size,
                sha256,
                started,
            } => {
                let intent = Intent {
                    name,
                    size,
                    sha256,
                    started,
                };
                self.intents.insert(path, intent);
            }
            Record::Put {
                path,
                id,
                size,
                mtime_ns,
                sha256,
                uploaded_at,
                replaces,
            } => {
                self.intents.remove(&path);
                self.orphans.remove(&id);
                self.orphans.extend(replaces.filter(|old| *old != id));
                let entry = ManifestEntry {
                    id,
                    size,
                    mtime_ns,
                    sha256,
                    uploaded_at,
                };
                self.entries.insert(path, entry);
            }
            Record::Abandon { path } => {
                self.intents.remove(&path);
            }
            Record::Deleted { id } => {
                self.orphans.remove(&id);
            }
            Record::Orphan { id } => {
                self.orphans.insert(id);
            }
            Record::Forget { path } => {
                self.entries.remove(&path);
            }
        }
    }
}

/// The manifest at `path` opened for reading (None when there is none yet), refusing
/// anything but a regular file before reading a byte. Opened without blocking, so a FIFO
/// with no writer is refused instead of waited on.
fn open_regular(path: &Path) -> Result<Option<File>> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path.to_path_buf(), e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| Error::io(path.to_path_buf(), e))?;
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "{} is not a regular file; a sync manifest must be one",
            path.display()
        )));
    }
    Ok(Some(file))
}

/// Where [`Manifest::compact`] writes before renaming over the manifest at `path`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    sibling(path, "tmp")
}

/// The hidden file `.NAME.EXT` beside the manifest `NAME` at `path`.
pub(crate) fn sibling(path: &Path, ext: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "manifest".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(path: &str, id: &str, replaces: Option<&str>) -> Record {
        Record::Put {
            path: path.into(),
            id: id.into(),
            size: 1,
            mtime_ns: 2,
            sha256: "ab".into(),
            uploaded_at: 3,
            replaces: replaces.map(str::to_string),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "openrouter-files-manifest-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("m.jsonl")
    }

    #[test]
    fn records_replay_into_entries_intents_and_orphans_and_survive_a_rewrite() {
        let path = scratch("replay");
        let mut m = Manifest::load(&path).unwrap();
        m.append(Record::Intent {
            path: "a".into(),
            name: "a".into(),
            size: 1,
            sha256: "ab".into(),
            started: 9,
        })
        .unwrap();
        m.append(put("a", "or_1", None)).unwrap();
        m.append(put("a", "or_2", Some("or_1"))).unwrap();
        m.append(Record::Intent {
            path: "b".into(),
            name: "b".into(),
            size: 1,
            sha256: "cd".into(),
            started: 9,
        })
        .unwrap();
        let check = |m: &Manifest| {
            assert_eq!(m.entries["a"].id, "or_2");
            assert!(m.owns("or_1") && m.owns("or_2") && !m.owns("or_3"));
            assert_eq!(m.intents.keys().collect::<Vec<_>>(), ["b"]);
        };
        check(&m);
        drop(m); // and its lock
        let mut m = Manifest::load(&path).unwrap(); // the journal, replayed
        check(&m);
        m.compact().unwrap();
        drop(m);
        let mut again = Manifest::load(&path).unwrap();
        check(&again);
        again.append(Record::Deleted { id: "or_1".into() }).unwrap();
        again.append(Record::Forget { path: "a".into() }).unwrap();
        drop(again);
        let last = Manifest::load(&path).unwrap();
        assert!(last.entries.is_empty() && last.orphans.is_empty());
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_the_next_append_starts_clean() {
        let path = scratch("torn");
        let mut m = Manifest::load(&path).unwrap();
        m.append(put("a", "or_1", None)).unwrap();
        drop(m);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"op":"put","path":"b","id":"or_"#)
            .unwrap();
        let mut m = Manifest::load(&path).unwrap();
        assert_eq!(m.entries.len(), 1);
        m.append(put("c", "or_3", None)).unwrap();
        drop(m);
        let m = Manifest::load(&path).unwrap();
        assert_eq!(m.entries.keys().collect::<Vec<_>>(), ["a", "c"]);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error() {
        let path = scratch("bad");
        std::fs::write(&path, "not json\n{\"op\":\"forget\",\"path\":\"a\"}\n").unwrap();
        assert!(matches!(
            Manifest::load(&path),
            Err(Error::InvalidInput(m)) if m.contains("line 1")
        ));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
