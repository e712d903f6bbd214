//! Helpers for the emulator's own tests: a plain HTTP client (ureq, not the openrouter-files
//! client, which this crate does not depend on), scratch directories and test bytes.
#![allow(dead_code)]

/// A raw ureq agent that hands back every status as a response.
pub fn raw_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A small text file's worth of bytes the API accepts.
pub fn text(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// A fresh temporary directory for one test, removed with what it holds when dropped.
pub fn temp_dir(name: &str) -> TestDir {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = std::env::temp_dir().join(format!(
        "openrouter-files-emulator-test-{}-{name}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TestDir(dir)
}

/// A directory [`temp_dir`] made; it derefs to its path and is removed on drop.
#[derive(Debug)]
pub struct TestDir(std::path::PathBuf);

impl std::ops::Deref for TestDir {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TestDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// splitmix64: a small seeded generator, so a failing case of a generated suite can be
/// replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// How many cases a generated suite runs (`EMULATOR_HOSTILE_CASES`, else `default`) and its
/// seed (`EMULATOR_HOSTILE_SEED`, else the clock's), printed so a failure can be replayed.
pub fn settings(suite: &str, default: usize) -> (usize, u64) {
    let cases = std::env::var("EMULATOR_HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let seed = std::env::var("EMULATOR_HOSTILE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("{suite}: {cases} cases, EMULATOR_HOSTILE_SEED={seed}");
    (cases, seed)
}

/// A connection to `addr` whose reads give up after 15 s.
pub fn connect(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    stream
}

/// Reads one answer's status line; None when the connection ends (or resets) first.
pub fn read_status(stream: &mut std::net::TcpStream) -> Option<u16> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n") {
        match std::io::Read::read(stream, &mut byte) {
            Ok(1) => got.push(byte[0]),
            Ok(_) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                panic!("no answer and no close within the timeout")
            }
            Err(_) => return None,
        }
    }
    let line = String::from_utf8_lossy(&got);
    line.split(' ').nth(1)?.parse().ok()
}

/// The head of an upload of `len` body bytes.
pub fn upload_head(key: &str, len: u64) -> String {
    format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {len}\r\n\r\n"
    )
}

/// How a hostile client holds a connection to the emulator.
#[derive(Debug, Clone)]
pub enum Hold {
    /// Keep-alive listings, each sent in two writes (`split` bytes, then the rest `mid`
    /// later), read, then a wait of `after`.
    KeepAlive {
        split: usize,
        mid: std::time::Duration,
        after: std::time::Duration,
    },
    /// A download of the file `id` (large) whose answer is never read.
    NeverRead { id: String },
    /// `n` pipelined listings whose answers are never read.
    Pipelined { n: usize },
}

/// A client of `addr` that holds a connection as `how` says until `until` or until the
/// server closes it; its thread ends by then (every write gives up after a second).
pub fn hold(
    addr: std::net::SocketAddr,
    key: &str,
    how: Hold,
    until: std::time::Instant,
) -> std::thread::JoinHandle<()> {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let listing = format!(
        "GET /api/v1/files?limit=1000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n"
    );
    let key = key.to_string();
    std::thread::spawn(move || {
        let mut stream = connect(addr);
        stream
            .set_write_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let wait_out = |stream: std::net::TcpStream| {
            while Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(stream);
        };
        match how {
            Hold::KeepAlive { split, mid, after } => {
                let (first, second) = listing.split_at(split.min(listing.len()));
                while Instant::now() < until {
                    let sent = stream.write_all(first.as_bytes()).is_ok() && {
                        std::thread::sleep(mid);
                        stream.write_all(second.as_bytes()).is_ok()
                    };
                    if !sent || read_status(&mut stream) != Some(200) {
                        return;
                    }
                    // The rest of the answer: a listing of up to 1000 small files.
                    let _ = stream.read(&mut [0u8; 256 * 1024]);
                    std::thread::sleep(after);
                }
            }
            Hold::NeverRead { id } => {
                let request = format!(
                    "GET /api/v1/files/{id}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n"
                );
                let _ = stream.write_all(request.as_bytes());
                wait_out(stream);
            }
            Hold::Pipelined { n } => {
                let many = listing.repeat(n);
                let mut rest = many.as_bytes();
                while !rest.is_empty() && Instant::now() < until {
                    match stream.write(rest) {
                        Ok(0) => break,
                        Ok(k) => rest = &rest[k..],
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => break,
                    }
                }
                wait_out(stream);
            }
        }
    })
}
