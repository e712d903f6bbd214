//! Reading requests off a socket: a buffered connection, request heads parsed by `httparse`
//! within a deadline and a size cap, and bodies framed by `Content-Length` or chunked coding
//! (chunk sizes parsed by `httparse`), every part of them bounded, in size and in time: every
//! read waits at most the read timeout, and a request must keep the [`Rules`]' pace.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::pace::{Activity, Flow, Phase, Rules};

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

/// A socket and the bytes read from it but not used yet, read under the [`Rules`].
pub(super) struct Inbound {
    pub(super) stream: TcpStream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    rules: Rules,
    /// When the current request began (its first byte) and how many bytes it has sent.
    request: Option<(Instant, u64)>,
    /// The whole head must arrive by then.
    head_deadline: Option<Instant>,
    /// The client ended the stream, or a read failed or timed out: nothing more will come.
    pub(super) ended: bool,
    /// A request head has been read on this connection.
    served: bool,
    pub(super) activity: Arc<Activity>,
}

impl Inbound {
    pub(super) fn new(stream: TcpStream, rules: Rules, activity: Arc<Activity>) -> Inbound {
        Inbound {
            stream,
            buf: vec![0; BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
            rules,
            request: None,
            head_deadline: None,
            ended: false,
            served: false,
            activity,
        }
    }

    /// Starts waiting for the next request: its clock starts with its first byte (now, if
    /// some are buffered already).
    fn next_request(&mut self) {
        let now = Instant::now();
        self.request = (!self.buffered().is_empty()).then_some((now, 0));
        self.activity.begin(self.phase(), now);
    }

    /// What the connection is doing while it waits to read.
    fn phase(&self) -> Phase {
        match (self.request.is_some(), self.served) {
            (true, _) => Phase::Receiving,
            (false, true) => Phase::Idle,
            (false, false) => Phase::New,
        }
    }

    /// How long the next read may wait: the read timeout, cut by the deadlines. None when a
    /// hard deadline (the head's, the whole request's) has passed. Past the rate rule's, the
    /// read still takes bytes the client already sent (the server, not the client, may have
    /// spent the time, as under an injected delay): only a client with nothing to give fails.
    fn wait(&self) -> Option<Duration> {
        let now = Instant::now();
        let left = |deadline: Instant| deadline.saturating_duration_since(now);
        let started = self.request.map(|(started, _)| started);
        let hard = [
            self.head_deadline,
            started.and_then(|s| self.rules.whole_deadline(s)),
        ];
        let mut wait = self.rules.read_timeout;
        for deadline in hard.into_iter().flatten() {
            wait = wait.min(left(deadline));
        }
        if wait.is_zero() {
            return None;
        }
        let by_rate = self
            .request
            .and_then(|(started, bytes)| self.rules.rate_deadline(started, bytes));
        if let Some(deadline) = by_rate {
            wait = wait.min(left(deadline).max(Duration::from_millis(1)));
        }
        Some(wait)
    }

    /// Reads from the socket under the rules, keeping the request's clock.
    fn read_paced(&mut self, at: usize) -> io::Result<usize> {
        let Some(wait) = self.wait() else {
            self.ended = true;
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request did not arrive in time",
            ));
        };
        self.stream.set_read_timeout(Some(wait))?;
        self.activity.enter(self.phase());
        let read = loop {
            match self.stream.read(&mut self.buf[at..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        if let Ok(n) = read {
            let fresh = self.request.is_none();
            let (started, bytes) = self.request.get_or_insert((Instant::now(), 0));
            *bytes += n as u64;
            if fresh {
                self.activity.begin(Phase::Busy, *started);
            } else {
                self.activity.enter(Phase::Busy);
            }
            self.activity.moved(Flow::In, n as u64);
        }
        self.ended |= !matches!(read, Ok(n) if n > 0);
        read
    }

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
        let n = self.read_paced(self.end)?;
        self.end += n;
        Ok(n)
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
pub(super) struct Head {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) http10: bool,
    pub(super) headers: Vec<(String, String)>,
}

impl Head {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
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
    pub(super) fn keep_alive(&self) -> bool {
        if self.http10 {
            self.has_token("Connection", "keep-alive")
        } else {
            !self.has_token("Connection", "close")
        }
    }
}

/// Why no request head could be read.
pub(super) enum HeadError {
    /// The connection ended or idled out between requests: close quietly.
    Closed,
    /// Too long: 431.
    TooLarge,
    /// Not HTTP/1.x: 400.
    Malformed,
    /// Started but not finished in time: 408.
    TimedOut,
}

/// Reads one request head; the whole head must arrive within the read timeout of the call,
/// and keep the request's pace.
pub(super) fn read_head(conn: &mut Inbound) -> Result<Head, HeadError> {
    conn.next_request();
    conn.head_deadline = Instant::now().checked_add(conn.rules.read_timeout);
    let head = read_head_by_deadline(conn);
    conn.head_deadline = None;
    head
}

fn read_head_by_deadline(conn: &mut Inbound) -> Result<Head, HeadError> {
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
                    conn.served = true;
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
pub(super) enum Framing {
    Length(u64),
    Chunked,
}

/// The body framing a request's `headers` give (RFC 9112 §6), or the status to refuse it
/// with.
pub(super) fn framing(headers: &[(String, String)]) -> Result<Framing, (u16, &'static str)> {
    let codings: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Transfer-Encoding"))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let lengths: Vec<&str> = headers
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
pub(super) struct Body<'a> {
    conn: &'a mut Inbound,
    framing: Framing,
    left: u64,
    chunk: Chunk,
    read: u64,
    continue_pending: bool,
}

impl<'a> Body<'a> {
    /// The body `framing` delimits on `conn`; `expects_continue` when the client sent
    /// `Expect: 100-continue`.
    pub(super) fn new(conn: &'a mut Inbound, framing: Framing, expects_continue: bool) -> Body<'a> {
        Body {
            conn,
            framing,
            left: match framing {
                Framing::Length(n) => n,
                Framing::Chunked => 0,
            },
            chunk: Chunk::Size,
            read: 0,
            continue_pending: expects_continue && framing != Framing::Length(0),
        }
    }

    /// Body bytes read so far.
    pub(super) fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Whether the body has been read to its end.
    pub(super) fn is_done(&self) -> bool {
        match self.framing {
            Framing::Length(_) => self.left == 0,
            Framing::Chunked => self.chunk == Chunk::Done,
        }
    }

    /// Reads what is left of a small body, so the connection can serve another request;
    /// true when the body is read to its end.
    pub(super) fn drain(&mut self) -> bool {
        if self.is_done() {
            return true;
        }
        if self.continue_pending {
            return false; // The client has not sent it and waits.
        }
        if self.conn.ended {
            return false; // A read failed or timed out: another would only wait again.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(headers: &[(&str, &str)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn framing_follows_rfc_9112() {
        assert_eq!(framing(&fields(&[])), Ok(Framing::Length(0)));
        assert_eq!(
            framing(&fields(&[("content-length", "12")])),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            framing(&fields(&[("Transfer-Encoding", "chunked")])),
            Ok(Framing::Chunked)
        );
        for bad in [
            vec![("Content-Length", "-1")],
            vec![("Content-Length", "1"), ("Content-Length", "2")],
            vec![("Content-Length", "99999999999999999999999")],
            vec![("Content-Length", "+5")],
            vec![("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
        ] {
            assert_eq!(framing(&fields(&bad)).map_err(|e| e.0), Err(400), "{bad:?}");
        }
        assert_eq!(
            framing(&fields(&[("Transfer-Encoding", "gzip, chunked")])).map_err(|e| e.0),
            Err(501)
        );
    }
}
