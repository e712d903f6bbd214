//! The emulator's socket layer: an accept thread, one thread per connection up to a cap,
//! request heads parsed by `httparse`, bodies framed by `Content-Length` or chunked coding
//! (chunk sizes parsed by `httparse`), timeouts on every socket, and answers written straight
//! to the socket, so faults can cut a body short or close without answering.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use super::journal::LoggedRequest;
use super::ops::{self, Answer};
use super::render::error;
use super::{Shared, lock};

/// The largest request head (request line and headers) read; past it, 431.
const MAX_HEAD_BYTES: usize = 32 * 1024;
/// The most header fields a request may have; past it, 431.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line (with extensions) or trailer section accepted.
const MAX_CHUNK_LINE: usize = 4 * 1024;
/// A body left unread after the answer is read to its end, so the connection can serve
/// another request, only when at most this much of it is left.
const DRAIN_LIMIT: u64 = 64 * 1024;
const BUFFER_BYTES: usize = 64 * 1024;

/// The live connections: counts, the cap, and a handle on each socket to close it at stop.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    accepted: AtomicUsize,
    active: AtomicUsize,
    next_id: AtomicU64,
    stopping: AtomicBool,
    live: Mutex<HashMap<u64, TcpStream>>,
}

impl Connections {
    /// How many TCP connections clients have opened so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Takes a slot for `stream` when fewer than `cap` connections are being served.
    fn admit(self: &Arc<Self>, stream: &TcpStream, cap: usize) -> Option<Slot> {
        let taken = self
            .active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < cap).then_some(n + 1)
            });
        taken.ok()?;
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(handle) = stream.try_clone() {
            lock(&self.live).insert(id, handle);
        }
        Some(Slot {
            connections: Arc::clone(self),
            id,
        })
    }

    /// Stops accepting (the caller wakes the accept thread) and closes every live connection.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for (_, stream) in std::mem::take(&mut *lock(&self.live)) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// One served connection; dropping it (also when its thread unwinds) frees the slot.
struct Slot {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.connections.live).remove(&self.id);
        self.connections.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts the accept thread on `listener`.
pub(crate) fn start(listener: TcpListener, shared: Arc<Shared>) -> io::Result<JoinHandle<()>> {
    let port = listener.local_addr()?.port();
    thread::Builder::new()
        .name(format!("emu-{port}-accept"))
        .spawn(move || accept_loop(&listener, &shared, port))
}

/// Accepts until stopped. An error (out of descriptors, a thread that cannot start) costs one
/// connection and a short pause, never the server.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, port: u16) {
    let connections = &shared.connections;
    let mut pause = Duration::from_millis(5);
    loop {
        let accepted = listener.accept();
        if connections.stopping.load(Ordering::SeqCst) {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => {
                pause = Duration::from_millis(5);
                stream
            }
            Err(e) => {
                log::warn!("emulator: accept failed: {e}");
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
                continue;
            }
        };
        connections.accepted.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(shared.config.write_timeout));
        let Some(slot) = connections.admit(&stream, shared.config.max_connections) else {
            refuse(stream, "Too many connections");
            continue;
        };
        let spare = stream.try_clone();
        let for_thread = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("emu-{port}-conn"))
            .spawn(move || {
                let _slot = slot;
                serve(&for_thread, stream);
            });
        if let Err(e) = spawned {
            log::warn!("emulator: cannot start a connection thread: {e}");
            if let Ok(stream) = spare {
                refuse(stream, "Cannot serve another connection now");
            }
        }
    }
}

/// Answers 503 at once and closes: the server is at its connection cap.
fn refuse(mut stream: TcpStream, message: &str) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let body = error(503, message).to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(format!("{head}{body}").as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
}

/// A socket and the bytes read from it but not used yet.
struct Inbound {
    stream: TcpStream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Inbound {
    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Reads more bytes after the buffered ones; 0 at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "buffer full"));
        }
        loop {
            match self.stream.read(&mut self.buf[self.end..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
            }
        }
    }

    /// Reads into `out`, from the buffer first; an end of stream is an error here, because
    /// callers know how many bytes they are owed.
    fn read_owed(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.buffered().is_empty() && self.fill()? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed the connection inside a body",
            ));
        }
        let n = out.len().min(self.buffered().len());
        out[..n].copy_from_slice(&self.buffered()[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// A request head, owned.
struct Head {
    method: String,
    target: String,
    http10: bool,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the client lets the connection live after this request.
    fn keep_alive(&self) -> bool {
        if self.http10 {
            self.has_token("Connection", "keep-alive")
        } else {
            !self.has_token("Connection", "close")
        }
    }
}

/// Why no request head could be read.
enum HeadError {
    /// The connection ended or idled out between requests: close quietly.
    Closed,
    /// Too long: 431.
    TooLarge,
    /// Not HTTP/1.x: 400.
    Malformed,
    /// Started but not finished in time: 408.
    TimedOut,
}

/// Serves requests on one connection until it closes, idles out or errs.
fn serve(shared: &Shared, stream: TcpStream) {
    let mut conn = Inbound {
        stream,
        buf: vec![0; BUFFER_BYTES].into_boxed_slice(),
        start: 0,
        end: 0,
    };
    loop {
        let head = match read_head(&mut conn, shared.config.read_timeout) {
            Ok(head) => head,
            Err(HeadError::Closed) => break,
            Err(HeadError::TooLarge) => {
                simple(&mut conn, 431, "Request header fields too large");
                break;
            }
            Err(HeadError::Malformed) => {
                simple(&mut conn, 400, "Malformed request");
                break;
            }
            Err(HeadError::TimedOut) => {
                simple(&mut conn, 408, "Request timeout");
                break;
            }
        };
        let _ = conn
            .stream
            .set_read_timeout(Some(shared.config.read_timeout));
        if !serve_one(shared, &mut conn, &head) {
            break;
        }
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}

/// Reads one request head; the whole head must arrive within `timeout` of the call.
fn read_head(conn: &mut Inbound, timeout: Duration) -> Result<Head, HeadError> {
    let deadline = Instant::now() + timeout;
    loop {
        if !conn.buffered().is_empty() {
            let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut fields);
            match request.parse(conn.buffered()) {
                Ok(httparse::Status::Complete(n)) if n > MAX_HEAD_BYTES => {
                    return Err(HeadError::TooLarge);
                }
                Ok(httparse::Status::Complete(n)) => {
                    let head = Head {
                        method: request.method.unwrap_or("").to_string(),
                        target: request.path.unwrap_or("").to_string(),
                        http10: request.version == Some(0),
                        headers: request
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_string(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect(),
                    };
                    conn.consume(n);
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) if conn.buffered().len() >= MAX_HEAD_BYTES => {
                    return Err(HeadError::TooLarge);
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
                Err(_) => return Err(HeadError::Malformed),
            }
        }
        let started = !conn.buffered().is_empty();
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(if started {
                HeadError::TimedOut
            } else {
                HeadError::Closed
            });
        }
        let _ = conn.stream.set_read_timeout(Some(left));
        match conn.fill() {
            Ok(0) => return Err(HeadError::Closed),
            Ok(_) => {}
            Err(e) if is_timeout(&e) && started => return Err(HeadError::TimedOut),
            Err(_) => return Err(HeadError::Closed),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
}

/// The body framing of `head` (RFC 9112 §6), or the status to refuse it with.
fn framing(head: &Head) -> Result<Framing, (u16, &'static str)> {
    let codings: Vec<&str> = head
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Transfer-Encoding"))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let lengths: Vec<&str> = head
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .collect();
    if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err((400, "Both Transfer-Encoding and Content-Length"));
        }
        return match codings.as_slice() {
            [c] if c.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
            _ => Err((501, "Only the chunked transfer coding is supported")),
        };
    }
    let Some(first) = lengths.first() else {
        return Ok(Framing::Length(0));
    };
    let valid = |v: &&str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    if !lengths.iter().all(valid) || lengths.iter().any(|v| v != first) {
        return Err((400, "Invalid Content-Length"));
    }
    first
        .parse()
        .map(Framing::Length)
        .map_err(|_| (400, "Invalid Content-Length"))
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk, with this many bytes left.
    Data(u64),
    /// After a chunk's data, before its CRLF.
    DataEnd,
    /// After the last chunk and the trailers.
    Done,
}

/// A request body read from the connection; counts what it reads and sends
/// `100 Continue` the first time it is read when the client waits for one.
struct Body<'a> {
    conn: &'a mut Inbound,
    framing: Framing,
    left: u64,
    chunk: Chunk,
    read: u64,
    continue_pending: bool,
}

impl Body<'_> {
    fn is_done(&self) -> bool {
        match self.framing {
            Framing::Length(_) => self.left == 0,
            Framing::Chunked => self.chunk == Chunk::Done,
        }
    }

    /// Reads what is left of a small body, so the connection can serve another request;
    /// true when the body is read to its end.
    fn drain(&mut self) -> bool {
        if self.is_done() {
            return true;
        }
        if self.continue_pending {
            return false; // The client has not sent it and waits.
        }
        if matches!(self.framing, Framing::Length(_)) && self.left > DRAIN_LIMIT {
            return false;
        }
        let drained = io::copy(&mut (&mut *self).take(DRAIN_LIMIT), &mut io::sink());
        drained.is_ok() && self.is_done()
    }

    fn invalid(why: &'static str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, why)
    }

    /// Buffers at least one more byte of a chunk-size line or the trailers, which may not
    /// grow past `MAX_CHUNK_LINE` (`too_long` says which).
    fn more(&mut self, too_long: &'static str) -> io::Result<()> {
        let have = self.conn.buffered().len();
        if have >= MAX_CHUNK_LINE {
            return Err(Self::invalid(too_long));
        }
        self.want(have + 1)
    }

    /// Makes at least `n` bytes buffered.
    fn want(&mut self, n: usize) -> io::Result<()> {
        while self.conn.buffered().len() < n {
            if self.conn.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection inside a chunked body",
                ));
            }
        }
        Ok(())
    }

    /// Reads from a chunked body.
    fn read_chunked(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.chunk {
                Chunk::Done => return Ok(0),
                Chunk::Size => match httparse::parse_chunk_size(self.conn.buffered()) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.conn.consume(used);
                        self.chunk = if size == 0 {
                            self.skip_trailers()?;
                            Chunk::Done
                        } else {
                            Chunk::Data(size)
                        };
                    }
                    Ok(httparse::Status::Partial) => self.more("chunk-size line too long")?,
                    Err(_) => return Err(Self::invalid("invalid chunk size")),
                },
                Chunk::Data(left) => {
                    let want = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = self.conn.read_owed(&mut out[..want])?;
                    let left = left - n as u64;
                    self.chunk = if left == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left)
                    };
                    return Ok(n);
                }
                Chunk::DataEnd => {
                    self.want(2)?;
                    if !self.conn.buffered().starts_with(b"\r\n") {
                        return Err(Self::invalid("chunk data longer than its size"));
                    }
                    self.conn.consume(2);
                    self.chunk = Chunk::Size;
                }
            }
        }
    }

    /// Reads the trailer section after the last chunk (its fields are ignored).
    fn skip_trailers(&mut self) -> io::Result<()> {
        loop {
            let mut fields = [httparse::EMPTY_HEADER; 16];
            match httparse::parse_headers(self.conn.buffered(), &mut fields) {
                Ok(httparse::Status::Complete((used, _))) => {
                    self.conn.consume(used);
                    return Ok(());
                }
                Ok(httparse::Status::Partial) => self.more("trailers too long")?,
                Err(_) => return Err(Self::invalid("invalid trailers")),
            }
        }
    }
}

impl Read for Body<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.is_done() {
            return Ok(0);
        }
        if self.continue_pending {
            self.continue_pending = false;
            self.conn
                .stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let n = match self.framing {
            Framing::Length(_) => {
                let want = out
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                let n = self.conn.read_owed(&mut out[..want])?;
                self.left -= n as u64;
                n
            }
            Framing::Chunked => self.read_chunked(out)?,
        };
        self.read += n as u64;
        Ok(n)
    }
}

/// Serves one request whose head is read; false when the connection must close after it.
fn serve_one(shared: &Shared, conn: &mut Inbound, head: &Head) -> bool {
    let framing = match framing(head) {
        Ok(framing) => framing,
        Err((status, message)) => {
            simple(conn, status, message);
            return false;
        }
    };
    let (path, query) = match head.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (head.target.as_str(), None),
    };
    let expects_continue = head
        .header("Expect")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    let mut body = Body {
        conn: &mut *conn,
        framing,
        left: match framing {
            Framing::Length(n) => n,
            Framing::Chunked => 0,
        },
        chunk: Chunk::Size,
        read: 0,
        continue_pending: expects_continue && framing != Framing::Length(0),
    };
    let answer = ops::answer(
        shared,
        &mut ops::Request {
            method: &head.method,
            path,
            query,
            headers: &head.headers,
            body_len: match framing {
                Framing::Length(n) => Some(n),
                Framing::Chunked => None,
            },
            body: &mut body,
        },
    );
    let keep = body.drain() && head.keep_alive() && !matches!(answer, Answer::Drop);
    let request_bytes = body.read;
    if !shared.config.latency.is_zero() {
        thread::sleep(shared.config.latency);
    }
    // The entry is logged just before the answer is written, so a client that has its answer
    // always finds its request in the log.
    shared.journal.record(LoggedRequest {
        method: head.method.clone(),
        path: path.to_string(),
        query: query.map(str::to_string),
        status: answer.status(),
        request_bytes,
        response_bytes: response_bytes(&answer),
    });
    write_answer(conn, answer, keep).is_ok() && keep
}

fn response_bytes(answer: &Answer) -> u64 {
    match answer {
        Answer::Json(_, value) => value.to_string().len() as u64,
        Answer::Raw(_, _, body) => body.len() as u64,
        Answer::File { len, truncate, .. } => truncate.map_or(*len, |t| t.min(*len)),
        Answer::Drop => 0,
    }
}

/// A short JSON error, then the connection closes.
fn simple(conn: &mut Inbound, status: u16, message: &str) {
    let _ = write_answer(conn, Answer::Json(status, error(status, message)), false);
}

/// A fresh `X-Request-Id`, as the real API sends with every answer.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("req_emu_{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The status line and headers of an answer.
fn head_bytes(status: u16, headers: &[(String, String)], len: u64, keep: bool) -> Vec<u8> {
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nDate: {}\r\nX-Request-Id: {}\r\nContent-Length: {len}\r\n",
        crate::date::format_http_date(SystemTime::now()),
        request_id(),
    );
    for (name, value) in headers {
        let clean = |s: &str| !s.bytes().any(|b| b == b'\r' || b == b'\n');
        if clean(name) && clean(value) && !name.eq_ignore_ascii_case("content-length") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if !keep {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Writes `answer`; a fault's truncation or drop closes the connection.
fn write_answer(conn: &mut Inbound, answer: Answer, keep: bool) -> io::Result<()> {
    let stream = &mut conn.stream;
    match answer {
        Answer::Json(status, value) => {
            let body = value.to_string().into_bytes();
            let headers = [("Content-Type".to_string(), "application/json".to_string())];
            let mut out = head_bytes(status, &headers, body.len() as u64, keep);
            out.extend_from_slice(&body);
            stream.write_all(&out)
        }
        Answer::Raw(status, headers, body) => {
            let mut out = head_bytes(status, &headers, body.len() as u64, keep);
            out.extend_from_slice(&body);
            stream.write_all(&out)
        }
        Answer::Drop => stream.shutdown(Shutdown::Both),
        Answer::File {
            status,
            headers,
            mut file,
            offset,
            len,
            truncate,
        } => {
            let keep = keep && truncate.is_none();
            stream.write_all(&head_bytes(status, &headers, len, keep))?;
            if offset > 0 {
                io::Seek::seek(&mut file, io::SeekFrom::Start(offset))?;
            }
            let send = truncate.map_or(len, |t| t.min(len));
            let sent = io::copy(&mut file.take(send), stream)?;
            if truncate.is_some() {
                stream.shutdown(Shutdown::Both)?;
            } else if sent < len {
                // The file is shorter than its record: the client must not wait for the rest.
                stream.shutdown(Shutdown::Both)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)]) -> Head {
        Head {
            method: "POST".into(),
            target: "/".into(),
            http10: false,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        assert_eq!(framing(&head(&[])), Ok(Framing::Length(0)));
        assert_eq!(
            framing(&head(&[("content-length", "12")])),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            framing(&head(&[("Transfer-Encoding", "chunked")])),
            Ok(Framing::Chunked)
        );
        for bad in [
            vec![("Content-Length", "-1")],
            vec![("Content-Length", "1"), ("Content-Length", "2")],
            vec![("Content-Length", "99999999999999999999999")],
            vec![("Content-Length", "+5")],
            vec![("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
        ] {
            assert_eq!(framing(&head(&bad)).map_err(|e| e.0), Err(400), "{bad:?}");
        }
        assert_eq!(
            framing(&head(&[("Transfer-Encoding", "gzip, chunked")])).map_err(|e| e.0),
            Err(501)
        );
    }
}
