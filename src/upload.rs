//! Uploads: sources (a path, bytes, or a reader of known length) streamed as a one-file
//! multipart form with an exact `Content-Length`, after the size checks the API would make.

use std::cell::RefCell;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use ureq::http::Method;

use crate::client::FilesClient;
use crate::codec::multipart::{FilePart, guess_content_type};
use crate::error::{Error, Result};
use crate::model::FileMetadata;
use crate::progress::{ExactLen, Progress};
use crate::recover::{self, Search, Uploaded};
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
    find_lost: bool,
    /// Files the caller accounts for, never taken for this upload when its answer is lost.
    pub(crate) known: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
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
            find_lost: true,
            known: None,
        }
    }

    /// Whether to look for the file when the upload's answer is lost after the body was sent
    /// (default: yes). See [`FilesClient::upload_detailed`]. Without it, such an upload is an
    /// error and never sent again.
    pub fn find_lost(mut self, find: bool) -> Self {
        self.find_lost = find;
        self
    }

    /// Sends the file under another name (one without `%22`, `%0D` or `%0A`, which the
    /// server would read as escapes: see [`FilesClient::upload`]).
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
        check_filename(&self.filename)?;
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

/// What [`FilesClient::send_finding_lost`] needs to look for an upload whose answer was lost.
struct Lost<'a> {
    /// The name sent.
    filename: &'a str,
    /// The file's length.
    len: u64,
    /// Whether to look at all ([`Upload::find_lost`]).
    find_lost: bool,
    /// Ids the caller already knows, which are never taken for this upload.
    known: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

/// Refuses a file name the server cannot store as it is: an empty one, or one holding a
/// form-data escape (`%22`, `%0D`, `%0A`) that the server would read as `"`, CR or LF (`%`
/// itself has no escape), so the file would be stored under another name.
pub(crate) fn check_filename(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::InvalidInput("the upload has no file name".into()));
    }
    if let Some(escape) = crate::codec::content_disposition::literal_form_escape(name) {
        return Err(Error::InvalidInput(format!(
            "{name} holds `{escape}`, which the server reads as an escaped character (form-data \
             names escape `\"`, CR and LF so, and `%` has no escape): it would be stored under \
             another name; send it under another with `Upload::filename`"
        )));
    }
    Ok(())
}

impl FilesClient {
    /// Uploads a file and returns its metadata. The body streams in constant memory with an
    /// exact `Content-Length`; empty files, files over [`FilesClient::upload_limit`] and names
    /// holding `%22`, `%0D` or `%0A` (which a form-data server reads as `"`, CR, LF, so the
    /// file would be stored under another name) are refused with [`Error::InvalidInput`]
    /// before anything is sent. An answer lost after the body was sent is looked for
    /// as [`FilesClient::upload_detailed`] says.
    pub fn upload(&self, upload: Upload<'_>) -> Result<FileMetadata> {
        self.upload_detailed(upload).map(|u| u.file)
    }

    /// [`FilesClient::upload`], saying whether the server confirmed the upload or its answer
    /// was lost and the file was found in the workspace ([`Uploaded::found`]).
    ///
    /// When the answer may have been lost after the server stored the file (the body was
    /// sent, then a reset, a timeout, or a 5xx other than 503), the client lists the
    /// workspace once for files created since the attempt began (less
    /// [`LOST_UPLOAD_CLOCK_SKEW`](crate::LOST_UPLOAD_CLOCK_SKEW)) with the size sent and the
    /// name sent or its base name. Exactly one: it is the upload. None: the upload is sent
    /// again when its source can be read again (a path or bytes) and the retry policy allows,
    /// else the error is returned. Several: [`Error::LostUpload`], listing them. Turn it off
    /// with [`Upload::find_lost`].
    ///
    /// The search cannot tell the upload from another file of the same name and size created
    /// in that window (the API keeps no checksum): if the request never reached the server and
    /// such a file exists, that file is returned as found. When you upload one name and size
    /// repeatedly on purpose, turn the search off ([`FilesClient::sync`] leaves out the files
    /// its manifest owns instead).
    ///
    /// ```
    /// # use openrouter_files::{FilesClient, Upload};
    /// # use openrouter_files_emulator::{Emulator, Fault, Route};
    /// let server = Emulator::start()?;
    /// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
    /// // The server stores the file, then a gateway answers 502.
    /// server.inject(Fault::StatusAfterRunning(502).on(Route::Upload), 1);
    /// let uploaded = client.upload_detailed(Upload::bytes("notes.md", "# Notes\n"))?;
    /// assert!(uploaded.found);
    /// assert_eq!(client.list().files().count(), 1); // stored once, not twice
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload_detailed(&self, upload: Upload<'_>) -> Result<Uploaded> {
        let len = upload.checked_len(self.shared.upload_limit)?;
        let Upload {
            filename,
            mut source,
            content_type,
            progress,
            find_lost,
            known,
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
        self.send_finding_lost(
            &call,
            &mut next_body,
            replay,
            Lost {
                filename: &filename,
                len,
                find_lost,
                known,
            },
        )
    }

    /// Sends an upload; when its answer may have been lost after the body went out (and
    /// `lost.find_lost`), looks for it before deciding: found, it is the result; not stored,
    /// it is sent again while the retry policy allows and the source can be read again.
    fn send_finding_lost<'a>(
        &self,
        call: &Call<'_>,
        next_body: &mut dyn FnMut() -> Result<Outgoing<'a>>,
        replay: Replay,
        lost: Lost<'_>,
    ) -> Result<Uploaded> {
        let Lost {
            filename,
            len,
            find_lost,
            known,
        } = lost;
        let policy = self.options.retry;
        let rounds = match replay {
            Replay::Upload => policy.max_retries().saturating_add(1),
            _ => 1,
        };
        let known = known.unwrap_or(&|_| false);
        let mut round = 0;
        loop {
            round += 1;
            let started = SystemTime::now();
            let error = match self
                .transport()
                .execute(call, Some(next_body))
                .and_then(|reply| read_checked_answer(reply, "upload", crate::client::file_object))
            {
                Ok(file) => return Ok(Uploaded { file, found: false }),
                Err(error) if find_lost && recover::may_have_stored(&error) => error,
                Err(error) => return Err(error),
            };
            let wait = policy.delay(round - 1, None).filter(|_| round < rounds);
            match recover::search(self, filename, len, started, known, error) {
                Ok(Search::Found(file)) => return Ok(Uploaded { file, found: true }),
                Ok(Search::NotStored(error)) => match wait {
                    // In a batch, through its shared pause, which ends when the batch stops.
                    Some(wait) if self.transport().pause(wait, None) => {
                        log::debug!("the upload of {filename} was not stored; sending it again");
                    }
                    _ => return Err(error),
                },
                Err(error) => return Err(error),
            }
        }
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

    /// A name holding `%22`, `%0D` or `%0A` was sent as it is and stored as `"`, CR or LF
    /// (`50%22.txt` became `50".txt`, `a%0Ab.txt` a name with a line break), reported as a
    /// success: it is refused before anything is sent now.
    #[test]
    fn a_name_holding_a_form_escape_is_refused_before_sending() {
        for name in ["50%22.txt", "a%0Ab.txt", "%0D"] {
            let upload = Upload::bytes(name, b"hello".to_vec());
            let refused = upload.checked_len(100);
            assert!(
                matches!(&refused, Err(Error::InvalidInput(m)) if m.contains(name)),
                "{name}: {refused:?}"
            );
        }
        for name in ["100%.txt", "a%0ab.txt", "%2522.txt", "50%.txt"] {
            assert!(
                Upload::bytes(name, b"hello".to_vec())
                    .checked_len(100)
                    .is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn upload_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Upload<'static>>();
        check::<Upload<'_>>();
    }
}
