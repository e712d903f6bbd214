//! Downloads: a [`Download`] that streams the body as `impl Read`, checks that it is the
//! stored file (no content coding, no unasked-for part, the announced length), and can be
//! saved atomically (temporary file beside the target, synced, then renamed), resuming with
//! `Range` after a broken connection when the server allows it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ureq::BodyReader;
use ureq::http::{HeaderMap, HeaderValue, Method, Version, header};

use crate::client::{FilesClient, check_id};
use crate::codec::content_disposition::ContentDisposition;
use crate::error::{Error, Result, TransportError, redact};
use crate::progress::{Progress, ProgressFn};
use crate::transport::{Call, Replay, Reply};

const COPY_BUFFER: usize = 256 * 1024;
/// How much a download writes before it asks the OS to start putting it on disk.
const WRITEBACK_STEP: u64 = 8 * 1024 * 1024;

/// A file's content, streamed from the server as it is read.
///
/// It is `Read + Send`. A body that ends before its announced length fails with an
/// [`io::Error`] of kind `UnexpectedEof` wrapping [`Error::Truncated`], never with a short
/// read that looks complete; `?` turns any read error back into the crate's [`Error`].
///
/// ```
/// use std::io::Read;
/// # use openrouter_files::{FilesClient};
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::builder().seed_file("report.csv", b"a,b\n1,2\n".to_vec()).start()?;
/// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
/// # let id = client.list().page()?.data.remove(0).id;
/// let mut body = client.download(&id)?;
/// assert_eq!(body.content_length(), Some(8));
/// let mut first = [0u8; 4];
/// body.read_exact(&mut first)?; // an io::Error becomes openrouter_files::Error
/// assert_eq!(&first, b"a,b\n");
/// # Ok::<(), openrouter_files::Error>(())
/// ```
pub struct Download {
    body: Progress<BodyReader<'static>, ProgressFn<'static>>,
    len: Option<u64>,
    content_type: Option<String>,
    filename: Option<String>,
    /// The request path, for errors.
    path: String,
    /// What a resumed request must match.
    resume: Resume,
    /// The answer that started it.
    pub(crate) answered: crate::answer::Received,
}

/// What a download said about resuming it: whether it takes `Range`, and the validators a
/// later part must carry to be a part of the same file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Resume {
    /// The answer was a `206 Partial Content`.
    partial: bool,
    accepts_ranges: bool,
    etag: Option<String>,
    last_modified: Option<String>,
    /// `Content-Range` of a `206` answer.
    content_range: Option<String>,
}

impl Resume {
    fn from_answer(status: u16, headers: &HeaderMap) -> Resume {
        let text = |name| {
            headers
                .get(name)
                .map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        };
        Resume {
            partial: status == 206,
            accepts_ranges: text(header::ACCEPT_RANGES)
                .is_some_and(|v| v.eq_ignore_ascii_case("bytes")),
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
            content_range: text(header::CONTENT_RANGE),
        }
    }

    /// The `If-Range` value for a resumed request: a strong `ETag`, else `Last-Modified`.
    fn if_range(&self) -> Option<HeaderValue> {
        let strong = self.etag.as_deref().filter(|e| !e.starts_with("W/"));
        HeaderValue::from_str(strong.or(self.last_modified.as_deref())?).ok()
    }

    /// Whether `part`, the answer to `Range: bytes=<from>-`, continues the file this one
    /// started: a `206` whose `Content-Range` is exactly `bytes from-(total-1)/total` and whose
    /// validators are those of the first answer.
    fn continued_by(&self, part: &Resume, from: u64, total: u64) -> bool {
        let range = format!("bytes {from}-{}/{total}", total.saturating_sub(1));
        part.partial
            && part.content_range.as_deref() == Some(range.as_str())
            && part.etag == self.etag
            && part.last_modified == self.last_modified
    }
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_length", &self.len)
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .field("received", &self.body.done())
            .finish()
    }
}

crate::answer::answered!(Download);

impl Download {
    /// The announced length (`Content-Length`), when the server sent one; the body is checked
    /// against it.
    pub fn content_length(&self) -> Option<u64> {
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
    /// removed and whatever was at `path` before is untouched; a file replaced keeps its
    /// permission bits. Returns the bytes written. (This reads one response; to retry and
    /// resume a broken transfer, use [`FilesClient::download_to`].)
    pub fn save_to(mut self, path: impl AsRef<Path>) -> Result<u64> {
        write_atomically(path.as_ref(), |file, temp| self.copy_into(file, temp))
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
                Err(e) => return Err(Error::from(e)),
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

    /// The crate error for a failed body read, as an `io::Error` that `?` unwraps again.
    fn read_error(&self, error: io::Error) -> io::Error {
        let received = self.body.done();
        let error = match self.len {
            Some(expected) if error.kind() == io::ErrorKind::UnexpectedEof => {
                Error::Truncated { expected, received }
            }
            _ => Error::Transport(TransportError::new(
                "GET",
                self.path.clone(),
                None,
                ureq::Error::from(error),
            )),
        };
        io::Error::from(error)
    }
}

impl Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.body.read(buf) {
            Ok(0) if !buf.is_empty() && self.len.is_some_and(|len| self.body.done() < len) => {
                Err(io::Error::from(Error::Truncated {
                    expected: self.len.unwrap_or(0),
                    received: self.body.done(),
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.read_error(e)),
            ok => ok,
        }
    }
}

/// Creates a temporary file beside `target`, lets `fill` write it, then syncs it and renames
/// it over `target`; on failure removes it, and on a panic in `fill` (an observer's, a
/// callback's) too. A `target` that exists lends its permissions.
fn write_atomically(
    target: &Path,
    fill: impl FnOnce(&mut File, &Path) -> Result<u64>,
) -> Result<u64> {
    if target.file_name().is_none() {
        let why = "the target names no file (it is empty or ends in `..` or `/`)";
        return Err(Error::io(
            target.to_path_buf(),
            io::Error::new(io::ErrorKind::InvalidInput, why),
        ));
    }
    let path = temp_path_beside(target);
    // Declared before the file, so dropped after it: closed first, then removed.
    let mut temp = Temporary(None);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Error::io(path.clone(), e))?;
    // Ours from here on: removed unless renamed into place, also when `fill` panics.
    temp.0 = Some(path.clone());
    let written = keep_permissions(target, &file)
        .map_err(|e| Error::io(path.clone(), e))
        .and_then(|()| fill(&mut file, &path))?;
    file.sync_all().map_err(|e| Error::io(path.clone(), e))?;
    drop(file);
    std::fs::rename(&path, target).map_err(|e| Error::io(target.to_path_buf(), e))?;
    temp.0 = None;
    sync_parent(target);
    Ok(written)
}

/// The temporary file a write created and has not yet renamed into place, removed when
/// dropped.
struct Temporary(Option<PathBuf>);

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Gives `file` the permission bits of `target`, when `target` exists.
fn keep_permissions(target: &Path, file: &File) -> io::Result<()> {
    match std::fs::metadata(target) {
        Ok(meta) if meta.is_file() => file.set_permissions(meta.permissions()),
        _ => Ok(()),
    }
}

/// The longest file name, in bytes, of the common file systems (ext4, XFS, Btrfs, ZFS, APFS;
/// NTFS counts 255 UTF-16 units, never more than the bytes).
const NAME_MAX: usize = 255;

/// A temporary file name may always be this long, even beside a target with a shorter name.
const SHORT_NAME: usize = 64;

/// A name for the temporary file of a download into `target`: hidden, in the same directory
/// (so the final rename cannot cross file systems), and unique.
///
/// Its form is `.PREFIX.PID-DIGITS.part` (the CLI's Ctrl-C sweep reads it): `PREFIX` is the
/// target's name, cut on a character boundary so that the whole name fits in [`NAME_MAX`]
/// bytes and is no longer than the target's own name when that is longer than [`SHORT_NAME`]
/// (so any name the file system accepts for the target, it accepts for the temporary file).
/// `DIGITS` is a counter (two threads saving the same target at once never collide) followed
/// by 10 random digits (a file left by an earlier process with the same id is not met).
fn temp_path_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let random = crate::rand::random_u64() % 10_000_000_000;
    let tail = format!(".{}-{seq}{random:010}.part", std::process::id());
    let limit = name.len().clamp(SHORT_NAME, NAME_MAX);
    let mut room = limit.saturating_sub(1 + tail.len()).min(name.len());
    while !name.is_char_boundary(room) {
        room -= 1;
    }
    target.with_file_name(format!(".{}{tail}", &name[..room]))
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
    ContentDisposition::parse(&String::from_utf8_lossy(value))
        .filename()
        .map(str::to_string)
}

impl FilesClient {
    /// Starts downloading a file's content (only server-created files are downloadable).
    /// The body is read as you read the [`Download`]; nothing is buffered whole.
    ///
    /// The client asks for the bytes as stored (`Accept-Encoding: identity`); an answer in
    /// another `Content-Encoding`, a `206 Partial Content` it did not ask for, or any other
    /// 2xx than `200` fails with [`Error::Protocol`] rather than deliver something other
    /// than the file. When another crate in the build turns on ureq's `gzip` or `brotli`
    /// feature, ureq inflates such answers and hides their coding; the client then also
    /// refuses an answer that announces no `Content-Length`, since it could be one of them.
    pub fn download(&self, file_id: &str) -> Result<Download> {
        check_id(file_id)?;
        self.open_download(file_id, None)
    }

    /// Sends the download request, from byte `from` on when given (`Range: bytes=from-`).
    fn open_download(&self, file_id: &str, from: Option<(u64, &Resume)>) -> Result<Download> {
        let call = Call {
            method: Method::GET,
            segments: &[file_id, "content"],
            query: Vec::new(),
            replay: Replay::Idempotent,
            identity: true,
        };
        let mut extra = Vec::new();
        if let Some((offset, origin)) = from {
            let range = HeaderValue::from_str(&format!("bytes={offset}-")).expect("digits");
            extra.push((header::RANGE, range));
            // A server that has changed the file then sends all of it (200), not a part.
            if let Some(validator) = origin.if_range() {
                extra.push((header::IF_RANGE, validator));
            }
        }
        let reply = self.transport().execute_with(&call, None, &extra)?;
        self.check_download(&reply, from.is_some())?;
        let headers = reply.response.headers();
        // Server text kept by the crate never holds the key (it would show in `Debug`).
        let key = &self.shared.key;
        let content_type = headers
            .get("content-type")
            .map(|v| redact(&String::from_utf8_lossy(v.as_bytes()), key));
        let filename = headers
            .get("content-disposition")
            .and_then(|v| disposition_filename(v.as_bytes()))
            .map(|name| redact(&name, key));
        let resume = Resume::from_answer(reply.response.status().as_u16(), headers);
        let received = crate::answer::Received::from(reply.info());
        let len = reply.response.body().content_length();
        let path = reply.path;
        let body = reply.response.into_body().into_reader();
        Ok(Download {
            body: Progress::new(body, len, None),
            len,
            content_type,
            filename,
            path,
            resume,
            answered: received,
        })
    }

    /// Refuses an answer that is not the stored bytes: another content coding, or a part the
    /// client did not ask for.
    fn check_download(&self, reply: &Reply, asked_for_range: bool) -> Result<()> {
        let headers = reply.response.headers();
        let refuse = |what: String| {
            Err(Error::Protocol(format!(
                "{} {}: {what}",
                reply.method, reply.path
            )))
        };
        for coding in headers.get_all(header::CONTENT_ENCODING) {
            let coding = String::from_utf8_lossy(coding.as_bytes());
            let coding = coding.trim();
            if !coding.eq_ignore_ascii_case("identity") {
                let coding = crate::transport::snippet(coding.as_bytes(), &self.shared.key);
                return refuse(format!(
                    "the server sent the file in Content-Encoding {coding:?} although the client asked for the stored bytes (identity)"
                ));
            }
        }
        if reply.response.version() == Version::HTTP_10
            && headers.contains_key(header::TRANSFER_ENCODING)
        {
            // HTTP/1.0 has no chunked coding: the body runs to the close, framing included,
            // and where the file ends cannot be told.
            return refuse("the server framed an HTTP/1.0 answer with Transfer-Encoding".into());
        }
        match reply.response.status().as_u16() {
            200 => {}
            206 if asked_for_range => {}
            206 => {
                return refuse(
                    "the server answered 206 Partial Content to a request for the whole file"
                        .into(),
                );
            }
            status => {
                return refuse(format!(
                    "the server answered {status}, which carries no file content"
                ));
            }
        }
        if reply.response.body().content_length().is_none()
            && crate::transport::inflate::ureq_inflates()
        {
            // ureq may have inflated this answer and removed its Content-Encoding (it then
            // reports no length): the bytes could not be told from the stored ones.
            refuse(
                "the answer announces no Content-Length, and this build's ureq inflates \
                 answers in gzip or br and then hides their Content-Encoding (its `gzip` or \
                 `brotli` feature is on in the dependency tree), so the bytes could not be told \
                 from the stored ones"
                    .into(),
            )
        } else {
            Ok(())
        }
    }

    /// Downloads a file's content to `path` atomically (see [`Download::save_to`]) and
    /// returns the number of bytes written.
    ///
    /// A transfer that breaks (a truncated body, a reset, a stall) is tried again within the
    /// client's [`RetryPolicy`](crate::RetryPolicy) and [deadline](FilesClient::with_deadline).
    /// When the server announced `Accept-Ranges: bytes`, the next request asks only for the
    /// missing bytes, and its answer is used only when it is a `206` whose `Content-Range`
    /// continues the file exactly and whose `ETag` and `Last-Modified` are those of the first
    /// answer; otherwise the download starts over.
    ///
    /// ```
    /// # use openrouter_files::{FilesClient};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::builder().seed_file("report.csv", b"a,b\n1,2\n".to_vec()).start()?;
    /// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
    /// # let id = client.list().page()?.data.remove(0).id;
    /// # let dir = std::env::temp_dir().join(format!("orf-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let out = dir.join("out.csv");
    /// let bytes = client.download_to(&id, &out)?;
    /// assert_eq!(bytes, 8);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn download_to(&self, file_id: &str, path: impl AsRef<Path>) -> Result<u64> {
        let started = Instant::now();
        // The temporary file first: a target that cannot be written (no such directory, no
        // file name) fails before anything is sent.
        write_atomically(path.as_ref(), |file, temp| {
            let first = self.download(file_id)?;
            self.fill(file_id, first, file, temp, started)
        })
    }

    /// The next answer after a transfer of a `total`-byte file (as `origin` announced it)
    /// broke after `written` bytes, and whether it continues the file (`true`) or starts it
    /// over (`false`). It continues only when the server offers ranges and answers with
    /// exactly the missing part of the same file; a `200` to the range request is the whole
    /// file again, and any other part is dropped for a fresh request.
    ///
    /// Each request runs under what is left until `deadline` when it starts.
    fn reopen(
        &self,
        file_id: &str,
        origin: &Resume,
        total: Option<u64>,
        written: u64,
        deadline: Option<Instant>,
    ) -> Result<(Download, bool)> {
        let open = |from| self.until(deadline).open_download(file_id, from);
        let Some(total) = total.filter(|&t| origin.accepts_ranges && 0 < written && written < t)
        else {
            return Ok((open(None)?, false));
        };
        let part = open(Some((written, origin)))?;
        if !part.resume.partial {
            return Ok((part, false));
        }
        if origin.continued_by(&part.resume, written, total) && part.len == Some(total - written) {
            return Ok((part, true));
        }
        Ok((open(None)?, false))
    }

    /// This client with what is left until `deadline` as its deadline (nothing left: a zero
    /// deadline, so the next call fails with a timeout before sending).
    fn until(&self, deadline: Option<Instant>) -> FilesClient {
        match deadline {
            Some(at) => self.with_deadline(at.saturating_duration_since(Instant::now())),
            None => self.clone(),
        }
    }

    /// Copies `download` into `file`, retrying and resuming a broken transfer.
    fn fill(
        &self,
        file_id: &str,
        mut download: Download,
        file: &mut File,
        temp: &Path,
        started: Instant,
    ) -> Result<u64> {
        let policy = self.options.retry;
        let deadline = self
            .options
            .timeouts
            .deadline
            .and_then(|d| started.checked_add(d));
        // The answer that began the file now in `file`, and how much of it is there.
        let mut origin = download.resume.clone();
        let mut total = download.len;
        let mut written = 0u64;
        let mut retries = 0;
        loop {
            let error = match download.copy_into(file, temp) {
                Ok(n) => return Ok(written + n),
                Err(error) => error,
            };
            written += download.received();
            if !error.is_retryable() || retries >= policy.max_retries() {
                return Err(error);
            }
            let Some(wait) = policy.delay(retries, None) else {
                return Err(error);
            };
            retries += 1;
            // The rest of the call runs under what is left of the deadline.
            if !crate::retry::may_wait(wait, deadline) {
                return Err(error);
            }
            log::debug!(
                "download of {} broke after {written} bytes ({error}); trying again in {wait:?}",
                download.path,
            );
            std::thread::sleep(wait);
            let (next, resumed) = self.reopen(file_id, &origin, total, written, deadline)?;
            if !resumed {
                file.set_len(0)
                    .and_then(|()| file.rewind())
                    .map_err(|e| Error::io(temp.to_path_buf(), e))?;
                written = 0;
                origin = next.resume.clone();
                total = next.len;
            }
            download = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name of a temporary file beside `target`.
    fn temp_name(target: &Path) -> String {
        let temp = temp_path_beside(target);
        temp.file_name().unwrap().to_str().unwrap().to_owned()
    }

    #[test]
    fn temp_paths_beside_one_target_never_repeat() {
        let target = Path::new("/tmp/x.bin");
        let paths: std::collections::HashSet<_> =
            (0..1000).map(|_| temp_path_beside(target)).collect();
        assert_eq!(paths.len(), 1000);
        let name = temp_name(target);
        let digits = name
            .strip_prefix(&format!(".x.bin.{}-", std::process::id()))
            .and_then(|rest| rest.strip_suffix(".part"))
            .unwrap();
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{name}");
    }

    #[test]
    fn temp_names_fit_beside_a_target_of_any_length_cut_on_a_character_boundary() {
        let pid = format!(".{}-", std::process::id());
        for name in [
            "a".repeat(255),
            "é".repeat(127) + "x",
            "x".to_string() + &"€".repeat(84),
            "😀".repeat(63),
            "b".repeat(100),
            "c".repeat(60),
            "short.txt".to_string(),
        ] {
            let temp = temp_name(&Path::new("/data").join(&name));
            let limit = name.len().clamp(SHORT_NAME, NAME_MAX);
            assert!(temp.len() <= limit, "{} > {limit}: {temp}", temp.len());
            let (prefix, digits) = temp
                .strip_prefix('.')
                .and_then(|t| t.strip_suffix(".part"))
                .and_then(|t| t.rsplit_once(&pid))
                .unwrap();
            assert!(name.starts_with(prefix) && !prefix.is_empty(), "{temp}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{temp}");
            if name.len() < 10 {
                assert_eq!(prefix, name, "a short name is kept whole");
            }
        }
    }

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
        assert_eq!(
            disposition_filename(b"attachment; filename=\"back\\\\slash \\\"q\\\".txt\"")
                .as_deref(),
            Some("back\\slash \"q\".txt")
        );
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
