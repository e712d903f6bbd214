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
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // The count keeps names apart when cases running at once make them in the same instant.
    let made = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "openrouter-files-emulator-test-{}-{name}-{nanos}-{made}",
        std::process::id()
    ));
    std::fs::create_dir(&dir).unwrap();
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

/// How many cases of a generated suite run at once (`EMULATOR_HOSTILE_PARALLEL`, else 4):
/// each opens a server, threads and sockets of its own, so a large `EMULATOR_HOSTILE_CASES`
/// runs in lanes of this many rather than all at once.
pub fn parallel() -> usize {
    std::env::var("EMULATOR_HOSTILE_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
        .max(1)
}

/// How many lanes [`run_cases`] runs `cases` cases in.
pub fn lanes(cases: usize) -> usize {
    parallel().min(cases.max(1))
}

/// Runs the cases `0..cases` of the generated suite `suite` in lanes ([`parallel`] of them at
/// most), each lane on its own thread running its cases (`lane`, `lane + lanes`, ...)
/// one after the other as `case(lane, case)`; so a suite whose cases mostly wait takes about
/// the time of its slowest lane. Every case runs even when one fails; then the test fails
/// naming each failed case, its message and the seed.
pub fn run_cases(suite: &str, (cases, seed): (usize, u64), case: impl Fn(usize, usize) + Sync) {
    let lanes = lanes(cases);
    let failed: Vec<(usize, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..lanes)
            .map(|lane| {
                let case = &case;
                scope.spawn(move || {
                    let mut failed = Vec::new();
                    for n in (lane..cases).step_by(lanes) {
                        let run = std::panic::AssertUnwindSafe(|| case(lane, n));
                        if let Err(panic) = std::panic::catch_unwind(run) {
                            let message = panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "a panic without a message".to_string());
                            failed.push((n, message));
                        }
                    }
                    failed
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a lane of cases"))
            .collect()
    });
    if !failed.is_empty() {
        let mut failed = failed;
        failed.sort_by_key(|(n, _)| *n);
        let list: Vec<String> = failed
            .iter()
            .map(|(n, message)| format!("case {n}: {message}"))
            .collect();
        panic!(
            "{suite}: {} of {cases} cases failed (EMULATOR_HOSTILE_SEED={seed}):\n{}",
            failed.len(),
            list.join("\n")
        );
    }
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

/// The rate window ([`openrouter_files_emulator::EmulatorBuilder::rate_window`]) of the servers
/// whose cap is held by clients that slowed down: a quarter of the default, so what recent
/// bytes show is the slowing alone after a second, not four. The rule they are judged by is
/// the same; only its time scale is shorter.
pub const RATE_WINDOW: std::time::Duration = std::time::Duration::from_millis(500);

/// Past two [`RATE_WINDOW`]s, with 1.5 s to spare (more than the generated suites had when
/// the windows took 4 s of a 5 s wait) for threads to start and bursts to be read on a loaded
/// machine: what recent bytes show is then what the clients do now.
pub const PAST_TWO_WINDOWS: std::time::Duration =
    std::time::Duration::from_millis(2 * RATE_WINDOW.as_millis() as u64 + 1500);

/// Waits until `at_least` has passed since `since` and `count()` has stayed the same for
/// `quiet` (failing after a minute): the answers it counts have stalled, however long a
/// loaded machine took to fill the socket buffers of clients that read nothing.
pub fn wait_for_quiet(
    count: impl Fn() -> usize,
    since: std::time::Instant,
    at_least: std::time::Duration,
    quiet: std::time::Duration,
) {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut last, mut changed) = (count(), Instant::now());
    while since.elapsed() < at_least || changed.elapsed() < quiet {
        assert!(Instant::now() < deadline, "answers never stalled: {last}");
        std::thread::sleep(Duration::from_millis(20));
        let now = count();
        if now != last {
            (last, changed) = (now, Instant::now());
        }
    }
}

/// The query of the listings a [`Hold::Pipelined`] client asks for, so the log tells its
/// answers from others'.
pub const PIPELINED_QUERY: &str = "limit=999";

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
    /// `n` pipelined listings (of [`PIPELINED_QUERY`]) whose answers are never read.
    Pipelined { n: usize },
}

/// Lets the clients of [`hold`] go before their deadline, once a test has seen what it needed.
#[derive(Debug, Clone, Default)]
pub struct Release(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Release {
    /// Every holder given this lets go of its connection within about a second.
    pub fn now(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn given(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A client of `addr` that holds a connection as `how` says until `until`, until `release`
/// is given, or until the server closes it; its thread ends by then (every write gives up
/// after a second).
pub fn hold(
    addr: std::net::SocketAddr,
    key: &str,
    how: Hold,
    until: std::time::Instant,
    release: &Release,
) -> std::thread::JoinHandle<()> {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let listing = format!(
        "GET /api/v1/files?limit=1000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n"
    );
    let key = key.to_string();
    let release = release.clone();
    std::thread::spawn(move || {
        let holding = || Instant::now() < until && !release.given();
        let mut stream = connect(addr);
        stream
            .set_write_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let wait_out = |stream: std::net::TcpStream| {
            while holding() {
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(stream);
        };
        match how {
            Hold::KeepAlive { split, mid, after } => {
                let (first, second) = listing.split_at(split.min(listing.len()));
                while holding() {
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
                let listing = listing.replace("limit=1000", PIPELINED_QUERY);
                let many = listing.repeat(n);
                let mut rest = many.as_bytes();
                while !rest.is_empty() && holding() {
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
