//! The request head held back to leave with the first body bytes, seen from the wire: a
//! server that records exactly what arrives checks that every head is sent once, before its
//! body, and never lost or glued to the next request, whatever the body source or the server
//! does.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{client_at, fast_retries, scripted::file_json, text};
use openrouter_files::{Error, RetryPolicy, Upload};

const KEY: &str = "sk-or-test";

/// One request as it arrived: its connection, head and body.
#[derive(Debug, Clone)]
struct Arrived {
    connection: usize,
    head: String,
    body: Vec<u8>,
}

/// How the server answers a request once it has its head.
#[derive(Clone, Copy)]
enum Answer {
    /// Reads the body, answers 200 with a file, keeps the connection.
    Ok,
    /// Answers `413` before reading the body and closes.
    EarlyAndClose,
}

/// A server that records every request byte for byte and answers by `script(n)`.
fn server(script: fn(usize) -> Answer) -> (String, Arc<Mutex<Vec<Arrived>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    thread::spawn(move || {
        let requests = Arc::new(Mutex::new(0usize));
        for (connection, stream) in listener.incoming().take(20).enumerate() {
            let (sink, requests) = (Arc::clone(&sink), Arc::clone(&requests));
            thread::spawn(move || {
                let stream = stream.unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                while let Some(head) = read_head(&mut reader) {
                    let n = {
                        let mut r = requests.lock().unwrap();
                        *r += 1;
                        *r - 1
                    };
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    match script(n) {
                        Answer::Ok => {
                            let mut body = vec![0; len];
                            if reader.read_exact(&mut body).is_err() {
                                sink.lock().unwrap().push(Arrived {
                                    connection,
                                    head,
                                    body: Vec::new(),
                                });
                                return;
                            }
                            sink.lock().unwrap().push(Arrived {
                                connection,
                                head,
                                body,
                            });
                            let json = file_json("file-1");
                            let answer = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}",
                                json.len()
                            );
                            if writer.write_all(answer.as_bytes()).is_err() {
                                return;
                            }
                        }
                        Answer::EarlyAndClose => {
                            sink.lock().unwrap().push(Arrived {
                                connection,
                                head,
                                body: Vec::new(),
                            });
                            let body = r#"{"error":{"code":413,"message":"too large"}}"#;
                            let _ = writer.write_all(format!(
                                "HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            ).as_bytes());
                            let _ = writer.shutdown(std::net::Shutdown::Both);
                            return;
                        }
                    }
                }
            });
        }
    });
    (base, log)
}

/// The head of the next request, or `None` when the connection ends first.
fn read_head(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            return Some(head);
        }
    }
}

/// Whether `body` is exactly a one-file form holding `file`, framed by the boundary `head`
/// announced.
fn holds_file_once(head: &str, body: &[u8], file: &[u8]) -> bool {
    let Some(boundary) = head
        .split_once("boundary=")
        .map(|(_, b)| b.lines().next().unwrap())
    else {
        return false;
    };
    let Some(start) = body.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let tail = format!("\r\n--{boundary}--\r\n");
    body.starts_with(format!("--{boundary}\r\n").as_bytes())
        && body[start + 4..] == [file, tail.as_bytes()].concat()
}

#[test]
fn every_head_arrives_once_before_its_body_at_sizes_around_the_gathering_limit() {
    let (base, log) = server(|_| Answer::Ok);
    let client = client_at(&base, KEY, RetryPolicy::none());
    let sizes = [1, 1000, 64 * 1024 - 200, 64 * 1024, 64 * 1024 + 1, 300_000];
    for &size in &sizes {
        let file = text(size);
        client.upload(Upload::bytes("a.txt", file)).unwrap();
        // A request without a body on the same pooled connection is not held back.
        client.retrieve("file-1").unwrap();
    }
    let log = log.lock().unwrap();
    assert_eq!(log.len(), sizes.len() * 2, "{log:?}");
    for (pair, &size) in log.chunks(2).zip(&sizes) {
        assert!(
            pair[0].head.starts_with("POST /api/v1/files HTTP/1.1\r\n"),
            "{:?}",
            pair[0].head
        );
        assert!(
            holds_file_once(&pair[0].head, &pair[0].body, &text(size)),
            "upload of {size} bytes"
        );
        assert!(
            pair[1]
                .head
                .starts_with("GET /api/v1/files/file-1 HTTP/1.1\r\n"),
            "{:?}",
            pair[1].head
        );
        assert!(pair[1].body.is_empty());
    }
    assert!(
        log.iter().all(|a| a.connection == 0),
        "one pooled connection"
    );
}

/// A body source that fails before its first byte.
struct Broken;

impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
}

#[test]
fn a_body_source_failing_before_its_first_byte_leaves_no_head_behind() {
    let (base, log) = server(|_| Answer::Ok);
    let client = client_at(&base, KEY, RetryPolicy::none());
    client.retrieve("file-1").unwrap(); // a pooled connection to reuse
    let err = client
        .upload(Upload::reader("a.txt", Broken, 10))
        .unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    client.retrieve("file-1").unwrap();
    client.upload(Upload::bytes("b.txt", text(10))).unwrap();
    let log = log.lock().unwrap();
    let heads: Vec<&str> = log.iter().map(|a| a.head.lines().next().unwrap()).collect();
    assert_eq!(
        heads,
        [
            "GET /api/v1/files/file-1 HTTP/1.1",
            "GET /api/v1/files/file-1 HTTP/1.1",
            "POST /api/v1/files HTTP/1.1"
        ],
        "the failed upload's head was sent, or glued to the next request: {log:?}"
    );
    assert!(
        log.iter()
            .all(|a| a.head.matches("HTTP/1.1\r\n").count() == 1)
    );
}

/// A body source that fails after `left` bytes.
struct FailsAfter {
    left: usize,
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.left);
        buf[..n].fill(b'x');
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_connection_that_failed_mid_body_is_not_reused() {
    let (base, log) = server(|_| Answer::Ok);
    let client = client_at(&base, KEY, RetryPolicy::none());
    let source = FailsAfter { left: 300_000 };
    let err = client
        .upload(Upload::reader("a.txt", source, 1_000_000))
        .unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    client.retrieve("file-1").unwrap();
    // The server logs the failed request when it sees that connection end, maybe later.
    for _ in 0..500 {
        if log.lock().unwrap().len() >= 2 {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let mut log = log.lock().unwrap().clone();
    log.sort_by_key(|a| a.connection);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].head.starts_with("POST /api/v1/files HTTP/1.1\r\n"));
    assert!(
        log[0].body.is_empty(),
        "the half body never completed a request"
    );
    assert!(
        log[1]
            .head
            .starts_with("GET /api/v1/files/file-1 HTTP/1.1\r\n")
    );
    assert_ne!(log[0].connection, log[1].connection);
}

#[test]
fn a_server_answering_before_the_body_and_closing_is_an_answer_not_a_hang() {
    let (base, log) = server(|n| {
        if n == 0 {
            Answer::EarlyAndClose
        } else {
            Answer::Ok
        }
    });
    let client = client_at(&base, KEY, fast_retries(2));
    let file = text(2 * 1024 * 1024);
    let err = client.upload(Upload::bytes("big.txt", file)).unwrap_err();
    // Either the 413 (if it was read) or the broken pipe; never a success, never a hang, and
    // never retried (the server may have kept a part).
    assert!(
        err.status() == Some(413) || matches!(err, Error::Transport { .. }),
        "{err}"
    );
    client
        .upload(Upload::bytes("small.txt", text(100)))
        .unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[1].head.starts_with("POST /api/v1/files HTTP/1.1\r\n"));
    assert!(holds_file_once(&log[1].head, &log[1].body, &text(100)));
    assert_ne!(
        log[0].connection, log[1].connection,
        "the closed connection was not reused"
    );
}
