//! Downloads: a [`Download`] that streams the body as `impl Read`, checks its length, and can
//! be saved atomically (temporary file beside the target, synced, then renamed).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ureq::BodyReader;
use ureq::http::Method;

use crate::client::{FilesClient, check_id};
use crate::error::{Error, Result};
use crate::progress::{Progress, ProgressFn};
use crate::transport::{Call, Replay};

const COPY_BUFFER: usize = 256 * 1024;
/// How much a download writes before it asks the OS to start putting it on disk.
const WRITEBACK_STEP: u64 = 8 * 1024 * 1024;

/// A file's content, streamed from the server as it is read.
///
/// It is `Read + Send`. A body that ends before its announced length fails with an
/// [`io::Error`] of kind `UnexpectedEof` wrapping [`Error::Truncated`], never with a short
/// read that looks complete.
///
/// ```no_run
/// use std::io::Read;
/// # let client = openrouter_files::FilesClient::from_env()?;
/// let mut body = client.download("or_file_011CNha8iCJcU1wXNR6q4V8w")?;
/// println!("{:?} bytes of {:?}", body.len(), body.content_type());
/// let mut first = [0u8; 16];
/// body.read_exact(&mut first).map_err(openrouter_files::Error::from_read)?;
/// # Ok::<(), openrouter_files::Error>(())
/// ```
pub struct Download {
    body: Progress<BodyReader<'static>, ProgressFn<'static>>,
    len: Option<u64>,
    content_type: Option<String>,
    filename: Option<String>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("len", &self.len)
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .field("received", &self.body.done())
            .finish()
    }
}

impl Download {
    /// The announced length (`Content-Length`), when the server sent one.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    /// The `Content-Type` the server sent.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The file name from `Content-Disposition`, if the server sent one.
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }

    /// How many bytes have been read so far.
    pub fn received(&self) -> u64 {
        self.body.done()
    }

    /// Calls `callback(bytes received, total if known)` as the body is read: every 256 KiB
    /// and at the end.
    pub fn on_progress(mut self, callback: impl FnMut(u64, Option<u64>) + Send + 'static) -> Self {
        self.body.set_callback(Box::new(callback));
        self
    }

    /// Writes the whole body to `path` atomically: into a temporary file in the same
    /// directory, synced, then renamed over `path`. On any failure the temporary file is
    /// removed and whatever was at `path` before is untouched. Returns the bytes written.
    pub fn save_to(mut self, path: impl AsRef<Path>) -> Result<u64> {
        let target = path.as_ref();
        let temp = temp_path_beside(target);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| Error::io(temp.clone(), e))?;
        let result = self.copy_into(&mut file, &temp).and_then(|written| {
            file.sync_all().map_err(|e| Error::io(temp.clone(), e))?;
            drop(file);
            std::fs::rename(&temp, target).map_err(|e| Error::io(target.to_path_buf(), e))?;
            sync_parent(target);
            Ok(written)
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }

    fn copy_into(&mut self, file: &mut File, temp: &Path) -> Result<u64> {
        let mut buf = vec![0u8; COPY_BUFFER];
        let mut written = 0u64;
        let mut handed_to_disk = 0u64;
        loop {
            let n = match self.read(&mut buf) {
                Ok(0) => return Ok(written),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::from_read(e)),
            };
            file.write_all(&buf[..n])
                .map_err(|e| Error::io(temp.to_path_buf(), e))?;
            written += n as u64;
            if written - handed_to_disk >= WRITEBACK_STEP {
                start_writeback(file, handed_to_disk, written - handed_to_disk);
                handed_to_disk = written;
            }
        }
    }
}

impl Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let truncated = |received| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                Error::Truncated {
                    expected: self.len.unwrap_or(0),
                    received,
                },
            )
        };
        match self.body.read(buf) {
            Ok(0) if !buf.is_empty() && self.len.is_some_and(|len| self.body.done() < len) => {
                Err(truncated(self.body.done()))
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.len.is_some() => {
                Err(truncated(self.body.done()))
            }
            other => other,
        }
    }
}

impl Error {
    /// Turns an error from reading a [`Download`] back into this crate's error:
    /// [`Error::Truncated`] for a short body, [`Error::Transport`] for a timeout or a broken
    /// connection.
    pub fn from_read(error: io::Error) -> Error {
        let is_ours = error.get_ref().is_some_and(|inner| inner.is::<Error>());
        if is_ours {
            if let Some(inner) = error.into_inner()
                && let Ok(ours) = inner.downcast::<Error>()
            {
                return *ours;
            }
            return Error::Protocol("download failed".into());
        }
        Error::Transport {
            method: "GET",
            path: "/files/…/content".into(),
            source: Box::new(ureq::Error::from(error)),
        }
    }
}

/// A name for the temporary file of a download into `target`, in the same directory so the
/// final rename cannot cross file systems.
fn temp_path_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    target.with_file_name(format!(".{name}.{}-{nanos}.part", std::process::id()))
}

/// Asks the OS to start writing a range of the file to disk now, without waiting, so that the
/// final `fsync` has little left to do and the disk works while the network does.
fn start_writeback(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid descriptor; the call only starts writeback of the given range.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                offset as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// Makes the rename durable where the platform allows it.
fn sync_parent(target: &Path) {
    #[cfg(unix)]
    if let Some(dir) = target.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// The file name in a `Content-Disposition` header, with browser escapes undone.
fn disposition_filename(value: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(value);
    let (_, rest) = text.split_once("filename=")?;
    let name = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').map_or(quoted, |(n, _)| n),
        None => rest.split(';').next().unwrap_or("").trim(),
    };
    Some(crate::multipart::unescape(name))
}

impl FilesClient {
    /// Starts downloading a file's content (only server-created files are downloadable).
    /// The body is read as you read the [`Download`]; nothing is buffered whole.
    pub fn download(&self, file_id: &str) -> Result<Download> {
        check_id(file_id)?;
        let call = Call {
            method: Method::GET,
            segments: &[file_id, "content"],
            query: Vec::new(),
            replay: Replay::Idempotent,
            identity: true,
        };
        let reply = self.execute(&call, None)?;
        let headers = reply.response.headers();
        let content_type = headers
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let filename = headers
            .get("content-disposition")
            .and_then(|v| disposition_filename(v.as_bytes()));
        let len = reply.response.body().content_length();
        let body = reply.response.into_body().into_reader();
        Ok(Download {
            body: Progress::new(body, len, None),
            len,
            content_type,
            filename,
        })
    }

    /// Downloads a file's content to `path` atomically (see [`Download::save_to`]) and
    /// returns the number of bytes written.
    ///
    /// ```no_run
    /// # let client = openrouter_files::FilesClient::from_env()?;
    /// let bytes = client.download_to("or_file_011CNha8iCJcU1wXNR6q4V8w", "out.bin")?;
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn download_to(&self, file_id: &str, path: impl AsRef<Path>) -> Result<u64> {
        self.download(file_id)?.save_to(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_names_are_unescaped() {
        assert_eq!(
            disposition_filename(b"attachment; filename=\"a%22b.txt\"").as_deref(),
            Some("a\"b.txt")
        );
        assert_eq!(
            disposition_filename(b"attachment; filename=x.bin").as_deref(),
            Some("x.bin")
        );
        assert_eq!(disposition_filename(b"inline"), None);
    }

    #[test]
    fn temp_files_sit_beside_the_target() {
        let temp = temp_path_beside(Path::new("/data/out.bin"));
        assert_eq!(temp.parent(), Some(Path::new("/data")));
        assert!(
            temp.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".out.bin.")
        );
    }
}
