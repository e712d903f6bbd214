//! The emulator's socket layer: an accept thread, one thread per connection up to a cap (where
//! an idle or too slow connection gives way to a new one), timeouts and a pace on every socket,
//! requests read by [`request`](super::request), and answers written straight to the socket,
//! so faults can cut a body short or close without answering. A connection closed while its
//! client may still be sending lingers first, so the client reads its answer.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use super::{Shared, lock};
use crate::journal::LoggedRequest;
use crate::ops::{self, Answer};
use crate::pace::{self, Activity, Flow, Phase, Rules};
use crate::render::error;
use crate::request::{Body, Framing, Head, HeadError, Inbound, framing, read_head};

/// After an answer sent while the client may still be sending, how long the server goes on
/// reading and discarding, in all and between two reads, and how much at most (nginx's
/// `lingering_time` and `lingering_timeout`; the size covers any upload the API accepts).
const LINGER_TIME: Duration = Duration::from_secs(10);
const LINGER_IDLE: Duration = Duration::from_secs(2);
const LINGER_BYTES: u64 = 256 * 1024 * 1024;

/// The live connections: counts, the cap, and a handle on each socket to close it at stop or
/// when it gives way to a new one.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    accepted: AtomicUsize,
    active: AtomicUsize,
    next_id: AtomicU64,
    stopping: AtomicBool,
    live: Mutex<HashMap<u64, Live>>,
}

/// A served connection's socket and what it is doing.
#[derive(Debug)]
struct Live {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Connections {
    /// How many TCP connections clients have opened so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Takes a slot for `stream` when fewer than `cap` connections are being served, or when
    /// one of them gives way ([`pace::victim`]: lingering, idle, or slower than the rate
    /// rule): that one is closed, and until its thread has ended the count may pass the cap,
    /// never twice it.
    fn admit(self: &Arc<Self>, stream: &TcpStream, cap: usize, rules: &Rules) -> Option<Slot> {
        let take = |limit: usize| {
            self.active
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < limit).then_some(n + 1)
                })
                .is_ok()
        };
        if !take(cap) {
            self.shed(rules)?;
            if !take(cap.saturating_mul(2)) {
                return None;
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let activity = Arc::new(Activity::new(rules.rate_window));
        if let Ok(handle) = stream.try_clone() {
            let live = Live {
                stream: handle,
                activity: Arc::clone(&activity),
            };
            lock(&self.live).insert(id, live);
        }
        Some(Slot {
            connections: Arc::clone(self),
            id,
            activity,
        })
    }

    /// Closes the live connection that gives way first, if one may.
    fn shed(&self, rules: &Rules) -> Option<()> {
        let mut live = lock(&self.live);
        let id = pace::victim(live.iter().map(|(id, l)| (*id, &*l.activity)), rules)?;
        let victim = live.remove(&id)?;
        drop(live);
        log::info!("emulator: a slow or idle connection gave way to a new one");
        let _ = victim.stream.shutdown(Shutdown::Both);
        Some(())
    }

    /// Stops accepting (the caller wakes the accept thread) and closes every live connection.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for (_, live) in std::mem::take(&mut *lock(&self.live)) {
            let _ = live.stream.shutdown(Shutdown::Both);
        }
    }
}

/// One served connection; dropping it (also when its thread unwinds) frees the slot.
struct Slot {
    connections: Arc<Connections>,
    id: u64,
    activity: Arc<Activity>,
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
        let rules = shared.config.rules();
        let Some(slot) = connections.admit(&stream, shared.config.max_connections, &rules) else {
            refuse(stream, "Too many connections");
            continue;
        };
        let spare = stream.try_clone();
        let for_thread = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("emu-{port}-conn"))
            .spawn(move || {
                let activity = Arc::clone(&slot.activity);
                let _slot = slot;
                serve(&for_thread, stream, activity);
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

/// What follows a request on its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The next request.
    Serve,
    /// Close now: the client sent all it had, or nothing more will come.
    Close,
    /// Close after [`linger`]: the client may still be sending.
    Linger,
}

/// Serves requests on one connection until it closes, idles out or errs.
fn serve(shared: &Shared, stream: TcpStream, activity: Arc<Activity>) {
    let mut conn = Inbound::new(stream, shared.config.rules(), activity);
    let next = loop {
        let head = match read_head(&mut conn) {
            Ok(head) => head,
            Err(HeadError::Closed) => break Next::Close,
            Err(HeadError::TooLarge) => {
                simple(&mut conn, 431, "Request header fields too large");
                break Next::Linger;
            }
            Err(HeadError::Malformed) => {
                simple(&mut conn, 400, "Malformed request");
                break Next::Linger;
            }
            Err(HeadError::TimedOut) => {
                simple(&mut conn, 408, "Request timeout");
                break Next::Close;
            }
        };
        match serve_one(shared, &mut conn, &head) {
            Next::Serve => {}
            next => break next,
        }
    };
    if next == Next::Linger && !conn.ended {
        linger(&mut conn);
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}

/// Half-closes, then reads and discards what the client still sends, for a bounded time and
/// size, so a client still sending a body it was answered early for (413, 401) reads that
/// answer instead of losing it to a reset (RFC 9112 §9.6; nginx `lingering_close`).
fn linger(conn: &mut Inbound) {
    conn.activity.begin(Phase::Lingering, Instant::now());
    if conn.stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let until = Instant::now() + LINGER_TIME;
    let mut discarded = 0u64;
    let mut buf = [0u8; 16 * 1024];
    while discarded < LINGER_BYTES {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero()
            || conn
                .stream
                .set_read_timeout(Some(left.min(LINGER_IDLE)))
                .is_err()
        {
            break;
        }
        match conn.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => discarded += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

/// Serves one request whose head is read; says what follows it.
fn serve_one(shared: &Shared, conn: &mut Inbound, head: &Head) -> Next {
    let framing = match framing(&head.headers) {
        Ok(framing) => framing,
        Err((status, message)) => {
            simple(conn, status, message);
            return Next::Linger;
        }
    };
    let target = origin_form(&head.target);
    let (path, query) = path_and_query(target);
    let expects_continue = head
        .header("Expect")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    let mut body = Body::new(&mut *conn, framing, expects_continue);
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
    let read_whole = body.drain();
    let keep = read_whole && head.keep_alive() && !matches!(answer, Answer::Drop);
    let request_bytes = body.bytes_read();
    conn.activity.enter(Phase::Busy);
    let after = if keep {
        Next::Serve
    } else if read_whole || matches!(answer, Answer::Drop) {
        Next::Close
    } else {
        Next::Linger
    };
    let delivery = Delivery {
        keep,
        http10: head.http10,
        body: head.method != "HEAD",
    };
    if !shared.config.latency.is_zero() {
        thread::sleep(shared.config.latency);
    }
    // The entry is logged just before the answer is written, so a client that has its answer
    // always finds its request in the log.
    let answer_bytes = if delivery.body {
        response_bytes(&answer)
    } else {
        0
    };
    shared
        .journal
        .record(logged(head, target, &answer, request_bytes, answer_bytes));
    match write_answer(conn, answer, delivery) {
        Ok(()) => after,
        Err(_) => Next::Close,
    }
}

/// A request target's path and query (without its `?`).
fn path_and_query(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// The request log's entry for a request to `target` and its answer.
fn logged(
    head: &Head,
    target: &str,
    answer: &Answer,
    request_bytes: u64,
    response_bytes: u64,
) -> LoggedRequest {
    let (path, query) = path_and_query(target);
    LoggedRequest {
        method: head.method.clone(),
        path: path.to_string(),
        query: query.map(str::to_string),
        status: answer.status(),
        request_bytes,
        response_bytes,
    }
}

/// The path and query of a request target; an absolute-form target (`http://host/path`),
/// which servers must accept (RFC 9112 §3.2.2), loses its scheme and authority.
fn origin_form(target: &str) -> &str {
    let Some((scheme, rest)) = target.split_once("://") else {
        return target;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return target;
    }
    rest.find(['/', '?']).map_or("/", |i| &rest[i..])
}

/// How an answer goes out.
#[derive(Debug, Clone, Copy)]
struct Delivery {
    /// The connection stays open after it.
    keep: bool,
    /// The client speaks HTTP/1.0, so a kept connection is announced with
    /// `Connection: keep-alive`.
    http10: bool,
    /// The body is sent (not for `HEAD`).
    body: bool,
}

fn response_bytes(answer: &Answer) -> u64 {
    match answer {
        Answer::Json(_, value) => value.to_string().len() as u64,
        Answer::Raw(_, _, body) => body.len() as u64,
        Answer::File { len, truncate, .. } => truncate.map_or(*len, |t| t.min(*len)),
        Answer::Drop => 0,
    }
}

/// How much of a file is read before it is written to the socket.
const SEND_BUFFER: usize = 64 * 1024;

/// A socket an answer is written to, keeping its connection's [`Activity`]: a client that
/// reads the answer slower than the rate rule (or not at all) gives way at the cap, as one
/// that sends its request too slowly does, instead of holding its slot for as long as each
/// write may block.
struct Sending<'a> {
    stream: &'a TcpStream,
    activity: &'a Activity,
}

impl<'a> Sending<'a> {
    fn new(stream: &'a TcpStream, activity: &'a Activity) -> Sending<'a> {
        activity.begin(Phase::Sending, Instant::now());
        Sending { stream, activity }
    }
}

impl Write for Sending<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.stream.write(buf)?;
        self.activity.moved(Flow::Out, n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// A short JSON error, then the connection closes.
fn simple(conn: &mut Inbound, status: u16, message: &str) {
    let delivery = Delivery {
        keep: false,
        http10: false,
        body: true,
    };
    let _ = write_answer(conn, Answer::Json(status, error(status, message)), delivery);
}

/// A fresh `X-Request-Id`, as the real API sends with every answer.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("req_emu_{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The reason phrase of a status (RFC 9110 §15), empty for one without a standard phrase: the
/// phrase is optional on the wire, and clients must not depend on it.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "",
    }
}

/// The status line and headers of an answer.
fn head_bytes(status: u16, headers: &[(String, String)], len: u64, delivery: Delivery) -> Vec<u8> {
    let reason = reason_phrase(status);
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nDate: {}\r\nX-Request-Id: {}\r\nContent-Length: {len}\r\n",
        crate::wire::http_date(SystemTime::now()),
        request_id(),
    );
    for (name, value) in headers {
        let clean = |s: &str| !s.bytes().any(|b| b == b'\r' || b == b'\n');
        if clean(name) && clean(value) && !name.eq_ignore_ascii_case("content-length") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if !delivery.keep {
        head.push_str("Connection: close\r\n");
    } else if delivery.http10 {
        head.push_str("Connection: keep-alive\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Writes `answer` as `delivery` says; a fault's truncation or
/// drop closes the connection.
fn write_answer(conn: &mut Inbound, answer: Answer, delivery: Delivery) -> io::Result<()> {
    let stream = &conn.stream;
    // Every byte of an answer goes through the tracking, so one the client does not read
    // (a download, or answers to requests it pipelined) gives way at the cap.
    let mut sending = Sending::new(stream, &conn.activity);
    match answer {
        Answer::Json(status, value) => {
            let body = value.to_string().into_bytes();
            let headers = [("Content-Type".to_string(), "application/json".to_string())];
            let mut out = head_bytes(status, &headers, body.len() as u64, delivery);
            if delivery.body {
                out.extend_from_slice(&body);
            }
            sending.write_all(&out)
        }
        Answer::Raw(status, headers, body) => {
            let mut out = head_bytes(status, &headers, body.len() as u64, delivery);
            if delivery.body {
                out.extend_from_slice(&body);
            }
            sending.write_all(&out)
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
            let delivery = Delivery {
                keep: delivery.keep && truncate.is_none(),
                ..delivery
            };
            sending.write_all(&head_bytes(status, &headers, len, delivery))?;
            if !delivery.body {
                return Ok(());
            }
            if offset > 0 {
                io::Seek::seek(&mut file, io::SeekFrom::Start(offset))?;
            }
            let send = truncate.map_or(len, |t| t.min(len));
            let mut out = io::BufWriter::with_capacity(SEND_BUFFER, &mut sending);
            let sent = io::copy(&mut file.take(send), &mut out)?;
            out.flush()?;
            drop(out);
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
