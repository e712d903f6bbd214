//! A scripted HTTP/1.1 server on 127.0.0.1 for byte-level tests: each accepted connection is
//! handed to a test-supplied closure with the parsed request, which writes whatever raw bytes
//! the test wants (or stalls, or closes). It counts accepted connections.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// One request as received: the head and the body bytes.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub method: String,
    pub target: String,
    /// Header lines as (lower-case name, value), in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the handler wants done with the connection after it answered.
pub enum Next {
    /// Keep reading requests on this connection.
    KeepAlive,
    /// Close it.
    Close,
}

type Handler = dyn Fn(usize, &Received, &mut TcpStream) -> Next + Send + Sync;

/// A running scripted server.
pub struct Scripted {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Received>>>,
}

impl Scripted {
    /// Starts a server; `handler(n, request, stream)` answers the n-th request (0-based,
    /// counted across connections).
    pub fn start(
        handler: impl Fn(usize, &Received, &mut TcpStream) -> Next + Send + Sync + 'static,
    ) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let counter = Arc::new(AtomicUsize::new(0));
        let (acc, reqs) = (Arc::clone(&accepted), Arc::clone(&requests));
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                // Answers are written in pieces (head, then body): without this, each waits
                // ~40 ms for the client's delayed ACK, which made the generated suites slow.
                let _ = stream.set_nodelay(true);
                acc.fetch_add(1, Ordering::SeqCst);
                let (handler, reqs, counter) = (
                    Arc::clone(&handler),
                    Arc::clone(&reqs),
                    Arc::clone(&counter),
                );
                thread::spawn(move || serve(stream, &*handler, &reqs, &counter));
            }
        });
        Scripted {
            addr,
            accepted,
            requests,
        }
    }

    /// `http://127.0.0.1:PORT` plus `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    handler: &Handler,
    requests: &Mutex<Vec<Received>>,
    counter: &AtomicUsize,
) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        requests.lock().unwrap().push(request.clone());
        let n = counter.fetch_add(1, Ordering::SeqCst);
        match handler(n, &request, &mut writer) {
            Next::KeepAlive => continue,
            Next::Close => {
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut received = Received {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if let Some(len) = received.header("content-length") {
        let len: usize = len.parse().ok()?;
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        received.body = body;
    } else if received.header("transfer-encoding") == Some("chunked") {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            received.body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(received)
}

/// A server that answers every request with the raw bytes `answer`, then closes.
pub fn answer_and_close(answer: &'static [u8]) -> Scripted {
    Scripted::start(move |_, _, s| {
        let _ = s.write_all(answer);
        Next::Close
    })
}

/// Writes a response with `Content-Length` set to the body's length; `extra_headers` are
/// whole lines, each ending in CRLF.
pub fn respond(stream: &mut TcpStream, status: u16, extra_headers: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// Writes a complete response with a JSON body.
pub fn json(stream: &mut TcpStream, status: u16, extra_headers: &str, body: &str) {
    let headers = format!("Content-Type: application/json\r\n{extra_headers}");
    respond(stream, status, &headers, body.as_bytes());
}

/// Writes an empty redirect response to `location`.
pub fn redirect(stream: &mut TcpStream, status: u16, location: &str) {
    respond(stream, status, &format!("Location: {location}\r\n"), b"");
}

/// Writes a complete error response in the spec's shape.
pub fn api_error(stream: &mut TcpStream, status: u16, extra_headers: &str, message: &str) {
    let body = format!(r#"{{"error":{{"code":{status},"message":"{message}"}}}}"#);
    json(stream, status, extra_headers, &body);
}

/// A file body in the current API's shape.
pub fn file_json(id: &str) -> String {
    format!(
        r#"{{"_shape":"openrouter","id":"{id}","type":"file","filename":"a.txt","mime_type":"text/plain","size_bytes":3,"created_at":"2025-01-01T00:00:00Z","downloadable":true}}"#
    )
}
