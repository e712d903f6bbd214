//! Uploads: sources (a path, bytes, or a reader of known length) streamed as a one-file
//! multipart form with an exact `Content-Length`, after the size checks the API would make.

use std::cell::RefCell;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use ureq::http::Method;

use crate::client::FilesClient;
use crate::codec::multipart::{FilePart, guess_content_type};
use crate::error::{Error, Result};
use crate::model::FileMetadata;
use crate::progress::{ExactLen, Progress};
use crate::transport::{Call, Outgoing, Replay, read_checked_answer};

/// What to upload, and how to report progress.
///
/// An `Upload` is `Send` and `Sync`, so it can be built on one thread and sent from another;
/// that is why a reader and a progress callback must be `Send`.
///
/// ```
/// # use openrouter_files::{FilesClient};
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::start()?;
/// # let client = FilesClient::builder()
/// #     .api_key(server.api_key())
/// #     .base_url(server.base_url())
/// #     .build()?;
/// # let dir = std::env::temp_dir().join(format!("upload-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("report.pdf");
/// # std::fs::write(&path, b"%PDF-1.4\n")?;
/// use openrouter_files::Upload;
///
/// let from_disk = client.upload(Upload::path(&path))?;
/// assert_eq!(from_disk.filename, "report.pdf");
/// let from_memory = client.upload(Upload::bytes("notes.md", "# Notes\n"))?;
/// let csv = std::io::Cursor::new("a,b\n1,2\n");
/// let from_reader = client.upload(
///     Upload::reader("data.csv", csv, 8)
///         .on_progress(|sent, total| eprintln!("{sent} of {total:?}")),
/// )?;
/// assert_eq!(from_reader.size_bytes, 8);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Upload<'a> {
    filename: String,
    source: Source<'a>,
    content_type: Option<String>,
    progress: Option<UploadProgress<'a>>,
}

/// An upload's progress callback. The mutex is never contended (an upload is sent by value);
/// it makes `Upload` `Sync` without asking the callback to be.
type UploadProgress<'a> = Mutex<Box<dyn FnMut(u64, Option<u64>) + Send + 'a>>;

enum Source<'a> {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
    /// A one-shot reader (taken when sent) and its length; the mutex is there for `Sync`, as
    /// for the progress callback.
    Reader(Mutex<Option<Box<dyn Read + Send + 'a>>>, u64),
}

impl std::fmt::Debug for Upload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Path(p) => format!("path {}", p.display()),
            Source::Bytes(b) => format!("{} bytes", b.len()),
            Source::Reader(_, len) => format!("reader of {len} bytes"),
        };
        f.debug_struct("Upload")
            .field("filename", &self.filename)
            .field("source", &source)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl<'a> Upload<'a> {
    /// The file at `path`, named by its file name. It is read as it is sent, and read again
    /// if the upload is retried. (The lifetime is free: a path borrows nothing, so its
    /// progress callback may borrow from the caller.)
    pub fn path(path: impl AsRef<Path>) -> Upload<'a> {
        let path = path.as_ref().to_path_buf();
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Upload::new(filename, Source::Path(path))
    }

    /// Bytes already in memory, uploaded as `filename`.
    pub fn bytes(filename: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Upload<'a> {
        Upload::new(filename.into(), Source::Bytes(bytes.into().into()))
    }

    /// Exactly `len` bytes from `reader`, uploaded as `filename`. A reader that ends early
    /// fails the upload instead of hanging it. A reader cannot be replayed, so this upload is
    /// never retried.
    pub fn reader(
        filename: impl Into<String>,
        reader: impl Read + Send + 'a,
        len: u64,
    ) -> Upload<'a> {
        Upload::new(
            filename.into(),
            Source::Reader(Mutex::new(Some(Box::new(reader))), len),
        )
    }

    fn new(filename: String, source: Source<'a>) -> Upload<'a> {
        Upload {
            filename,
            source,
            content_type: None,
            progress: None,
        }
    }

    /// Sends the file under another name.
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = name.into();
        self
    }

    /// The part's `Content-Type` (default: guessed from the file name, else
    /// `application/octet-stream`). The server detects the type from the content anyway.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Calls `callback(bytes sent, Some(total))` as the file is sent: every 256 KiB and at
    /// the end.
    pub fn on_progress(mut self, callback: impl FnMut(u64, Option<u64>) + Send + 'a) -> Self {
        self.progress = Some(Mutex::new(Box::new(callback)));
        self
    }

    /// The size of the source, checked against what the API accepts.
    fn checked_len(&self, limit: u64) -> Result<u64> {
        if self.filename.trim().is_empty() {
            return Err(Error::InvalidInput("the upload has no file name".into()));
        }
        let len = match &self.source {
            Source::Path(path) => {
                let meta = std::fs::metadata(path).map_err(|e| Error::io(path.clone(), e))?;
                if !meta.is_file() {
                    return Err(Error::InvalidInput(format!(
                        "{} is not a regular file",
                        path.display()
                    )));
                }
                meta.len()
            }
            Source::Bytes(bytes) => bytes.len() as u64,
            Source::Reader(_, len) => *len,
        };
        if len == 0 {
            return Err(Error::InvalidInput(format!(
                "{} is empty; the API rejects empty files",
                self.filename
            )));
        }
        if len > limit {
            return Err(Error::InvalidInput(format!(
                "{} is {len} bytes, over the upload limit of {limit} bytes",
                self.filename
            )));
        }
        Ok(len)
    }
}

impl FilesClient {
    /// Uploads a file and returns its metadata. The body streams in constant memory with an
    /// exact `Content-Length`; empty files and files over [`FilesClient::upload_limit`] are
    /// refused before anything is sent.
    pub fn upload(&self, upload: Upload<'_>) -> Result<FileMetadata> {
        let len = upload.checked_len(self.shared.upload_limit)?;
        let Upload {
            filename,
            mut source,
            content_type,
            progress,
        } = upload;
        let content_type = content_type.unwrap_or_else(|| guess_content_type(&filename).into());
        let part = FilePart::new(&filename, &content_type);
        let replay = match source {
            Source::Reader(..) => Replay::Never,
            _ => Replay::Upload,
        };
        let progress = progress.map(|p| {
            Rc::new(RefCell::new(
                p.into_inner().unwrap_or_else(PoisonError::into_inner),
            ))
        });
        let mut next_body = || -> Result<Outgoing<'_>> {
            let file: Box<dyn Read + '_> = match &mut source {
                Source::Path(path) => {
                    Box::new(File::open(&*path).map_err(|e| Error::io(path.clone(), e))?)
                }
                Source::Bytes(bytes) => Box::new(Cursor::new(Arc::clone(bytes))),
                Source::Reader(reader, _) => reader
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .ok_or_else(|| {
                        Error::InvalidInput("a reader upload cannot be sent twice".into())
                    })?,
            };
            let report = progress.clone().map(|p| move |d, t| (p.borrow_mut())(d, t));
            let file = Progress::new(ExactLen::new(file, len), Some(len), report);
            Ok(Outgoing {
                reader: part.body(file, len),
                len: part.body_len(len),
                content_type: part.content_type(),
            })
        };
        let call = Call {
            method: Method::POST,
            segments: &[],
            query: Vec::new(),
            replay,
            identity: false,
        };
        let reply = self.transport().execute(&call, Some(&mut next_body))?;
        read_checked_answer(reply, "upload", crate::client::file_object)
    }

    /// Uploads the file at `path` under its own name. Shorthand for
    /// `upload(Upload::path(path))`.
    pub fn upload_path(&self, path: impl AsRef<Path>) -> Result<FileMetadata> {
        self.upload(Upload::path(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Upload<'static>>();
        check::<Upload<'_>>();
    }
}
