//! A local, faithful OpenRouter Files API server for demos and tests.
//!
//! It runs on `127.0.0.1` on background threads, needs no account and no network, and speaks the
//! API as the official OpenAPI documents describe it: bearer auth, the spec's error shape, cursor
//! pagination, workspaces, streamed multipart uploads with the 100 MB limit, content-based file
//! types, and raw downloads of server-created files. Tests can inject faults and read a log of
//! every request.
//!
//! ```
//! use openrouter_files_emulator::Emulator;
//!
//! let server = Emulator::builder().seed_file("report.txt", b"hello".to_vec()).start()?;
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! assert!(server.base_url().ends_with("/api/v1"));
//! // Point a client at `server.base_url()` with `server.api_key()`.
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The server stops when the [`Emulator`] is dropped.
//!
//! # How it serves
//!
//! Each connection gets its own thread, up to [`EmulatorBuilder::max_connections`] (default
//! 256), and an accept error (out of file descriptors, a thread that cannot start) costs that
//! one connection, never the server. Request heads are parsed with `httparse`, bodies come by
//! `Content-Length` or chunked, and uploads stream to disk ([`EmulatorBuilder::storage_dir`];
//! a full disk is answered 507): memory stays bounded whatever the clients send. The log of
//! [`Emulator::requests`] keeps the last [`DEFAULT_REQUEST_LOG_LIMIT`] requests (configurable);
//! totals are counters.
//!
//! # Slow, idle and hostile clients
//!
//! - **Every wait is bounded.** Each read and write waits at most the socket timeouts
//!   ([`EmulatorBuilder::read_timeout`], [`EmulatorBuilder::write_timeout`]); a request head
//!   must arrive whole within the read timeout.
//! - **A request must keep a pace.** After a grace of [`DEFAULT_RATE_GRACE`], a request's head
//!   and body must average at least [`DEFAULT_MIN_RATE`] bytes a second (Apache
//!   `mod_reqtimeout`'s `MinRate`), else it is answered 408 and its connection closed, so a body
//!   trickled a byte at a time holds its connection for about the grace, not for ever
//!   ([`EmulatorBuilder::min_rate`]); [`EmulatorBuilder::request_timeout`] adds a bound on the
//!   whole request.
//! - **Slow clients never lock others out.** When every connection is taken, a new one is
//!   served in place of one that gives way: a connection lingering after its answer, else the
//!   one idle the longest (kept alive between requests, at any age, as a client must expect;
//!   a new one silent for a second), else the one receiving a request or sending an answer
//!   that has lately (over the last few seconds, across its requests:
//!   [`EmulatorBuilder::rate_window`]) moved bytes that way the slowest below the rate rule
//!   (a fast start buys time under the rule, not a slot). Only when none may is the new
//!   connection answered 503 at once and closed.
//! - **Early answers are read.** An answer sent while the client is still sending its body
//!   (413 over the limit, 401, 400, 404) is followed by a *lingering close* (RFC 9112 §9.6,
//!   nginx `lingering_close`): the server half-closes, then reads and discards what still
//!   comes for up to 10 s in all (2 s between reads, 256 MiB at most) before it closes, so the
//!   client reads the answer instead of a connection reset.
//! - **Storage is never reached through a link.** The storage directory is a new one of the
//!   emulator's own, made private to this user and held open as a directory handle; on Unix
//!   every file in it is created relative to that handle with `O_CREAT | O_EXCL | O_NOFOLLOW`
//!   under an unpredictable name, opened with `O_NOFOLLOW`, and removed with `unlinkat`, entry
//!   by entry, never recursively and never through a link. A directory swapped for a symlink
//!   while the server runs (by another user who can write its parent) changes nothing: uploads
//!   still go to the directory that was made, nothing outside it is written, and on drop it is
//!   emptied (and removed, when its name still is its own).
//!
//! Beyond the API, `GET /_emulator/stats` (no auth) answers
//! `{"connections": N, "requests": M}`, for programs that run the emulator in another process,
//! such as the benchmark: connections accepted and requests answered before this one.
//!
//! # An independent judge
//!
//! This crate does not depend on the `openrouter-files` client, and shares no code with it:
//! its dates, `Content-Disposition` handling and id rules are its own, written apart on
//! purpose, so a bug in the client's codecs cannot hide behind the same bug here. Any HTTP
//! client can use it: the official Python and TypeScript SDKs are tested against it.
//!
//! # Versioning
//!
//! The crate follows semver on its own (0.x: a minor release may break). The HTTP behaviour it
//! emulates follows the official OpenAPI documents.
#![deny(missing_docs)]

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod dir;
mod fault;
mod http;
mod journal;
mod multipart;
mod ops;
mod pace;
mod range;
mod render;
mod request;
mod sniff;
mod store;
mod wire;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use fault::Faults;
use http::Connections;
use journal::Journal;
use store::{Scope, Store};

/// The upload limit of the API unless [`EmulatorBuilder::upload_limit`] sets another: 100 MB,
/// read as 100,000,000 bytes (the OpenAPI documents' `maxLength` of the file part).
pub const DEFAULT_UPLOAD_LIMIT: u64 = 100_000_000;
pub use fault::{AimedFault, Fault, Route};
pub use journal::LoggedRequest;
pub use store::DEFAULT_WORKSPACE;

/// The API key the emulator accepts unless [`EmulatorBuilder::api_key`] sets another.
pub const DEFAULT_API_KEY: &str = "sk-or-emulator-key";

/// How many connections are served at once unless [`EmulatorBuilder::max_connections`] sets
/// another number.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// How many requests [`Emulator::requests`] keeps unless
/// [`EmulatorBuilder::request_log_limit`] sets another number.
pub const DEFAULT_REQUEST_LOG_LIMIT: usize = 1000;

/// The read and write timeout on every socket unless [`EmulatorBuilder::read_timeout`] and
/// [`EmulatorBuilder::write_timeout`] set others.
pub const DEFAULT_SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// The least average rate, in bytes per second, a request (head and body) must keep once
/// [`DEFAULT_RATE_GRACE`] has passed, unless [`EmulatorBuilder::min_rate`] sets another: Apache
/// `mod_reqtimeout`'s `body=20,MinRate=500`.
pub const DEFAULT_MIN_RATE: u64 = 500;

/// How long a request may take before the rate rule applies, unless
/// [`EmulatorBuilder::min_rate`] sets another.
pub const DEFAULT_RATE_GRACE: Duration = Duration::from_secs(20);

/// At the connection cap, how far back a connection's recent rate is measured (over the last
/// one to two of these) unless [`EmulatorBuilder::rate_window`] sets another.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(2);

/// Which published version of the Files API the emulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ApiVersion {
    /// The first document (2026-07-19): `file_` ids, no `_shape`, no `provider`.
    V2026_07_19,
    /// The current document (2026-08-22): `or_file_` ids, `_shape`, `provider`, `order`,
    /// `after`/`after_id`/`before_id`.
    #[default]
    V2026_08_22,
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    config: Config,
    port: u16,
    seeds: Vec<(String, String, Vec<u8>)>,
}

/// The settings the serving threads read.
#[derive(Clone)]
pub(crate) struct Config {
    api_key: String,
    upload_limit: u64,
    version: ApiVersion,
    accept_any_content: bool,
    range_requests: bool,
    latency: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
    min_rate: u64,
    rate_grace: Duration,
    request_timeout: Option<Duration>,
    rate_window: Duration,
    max_connections: usize,
    request_log_limit: usize,
    storage_dir: Option<PathBuf>,
}

impl Config {
    /// The limits requests are read under.
    pub(crate) fn rules(&self) -> pace::Rules {
        pace::Rules {
            read_timeout: self.read_timeout,
            min_rate: self.min_rate,
            grace: self.rate_grace,
            request_timeout: self.request_timeout,
            rate_window: self.rate_window,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &"[redacted]")
            .field("upload_limit", &self.upload_limit)
            .field("version", &self.version)
            .field("accept_any_content", &self.accept_any_content)
            .field("range_requests", &self.range_requests)
            .field("latency", &self.latency)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("min_rate", &self.min_rate)
            .field("rate_grace", &self.rate_grace)
            .field("request_timeout", &self.request_timeout)
            .field("rate_window", &self.rate_window)
            .field("max_connections", &self.max_connections)
            .field("request_log_limit", &self.request_log_limit)
            .field("storage_dir", &self.storage_dir)
            .finish()
    }
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            config: Config {
                api_key: DEFAULT_API_KEY.to_string(),
                upload_limit: DEFAULT_UPLOAD_LIMIT,
                version: ApiVersion::default(),
                accept_any_content: false,
                range_requests: false,
                latency: Duration::ZERO,
                read_timeout: DEFAULT_SOCKET_TIMEOUT,
                write_timeout: DEFAULT_SOCKET_TIMEOUT,
                min_rate: DEFAULT_MIN_RATE,
                rate_grace: DEFAULT_RATE_GRACE,
                request_timeout: None,
                rate_window: DEFAULT_RATE_WINDOW,
                max_connections: DEFAULT_MAX_CONNECTIONS,
                request_log_limit: DEFAULT_REQUEST_LOG_LIMIT,
                storage_dir: None,
            },
            port: 0,
            seeds: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// The only API key the server accepts (default [`DEFAULT_API_KEY`]).
    pub fn api_key(mut self, key: &str) -> Self {
        self.config.api_key = key.to_string();
        self
    }

    /// The largest upload accepted, in bytes (default [`DEFAULT_UPLOAD_LIMIT`], the limit the
    /// client enforces too).
    pub fn upload_limit(mut self, bytes: u64) -> Self {
        self.config.upload_limit = bytes;
        self
    }

    /// The directory under which uploaded bytes are kept (default: [`std::env::temp_dir`]).
    ///
    /// It must exist: [`start`](EmulatorBuilder::start) fails, naming it, when it does not or
    /// is not a directory. The emulator makes a new subdirectory of its own there, under an
    /// unpredictable name (on Unix readable by this user only; never one already there), holds
    /// it open, makes every file relative to that handle without following links, and empties
    /// and removes only that, at once, when it is dropped. Point it at a larger disk when tests upload many
    /// large files; an upload that finds the disk full is answered `507 Insufficient Storage`.
    ///
    /// ```
    /// use openrouter_files_emulator::Emulator;
    ///
    /// let dir = std::env::temp_dir().join(format!("emulator-doc-{}", std::process::id()));
    /// std::fs::create_dir(&dir)?;
    /// let server = Emulator::builder().storage_dir(&dir).start()?;
    /// assert_eq!(std::fs::read_dir(&dir)?.count(), 1); // the server's own subdirectory
    /// drop(server);
    /// assert_eq!(std::fs::read_dir(&dir)?.count(), 0);
    /// # std::fs::remove_dir(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn storage_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.storage_dir = Some(dir.into());
        self
    }

    /// The API version to emulate (default: the current one).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.config.version = version;
        self
    }

    /// Accept uploads of any content as `application/octet-stream` instead of refusing types
    /// the API does not support.
    pub fn accept_any_content(mut self, yes: bool) -> Self {
        self.config.accept_any_content = yes;
        self
    }

    /// Serve byte ranges of downloads (default off, as the real API documents none). When on,
    /// downloads send `Accept-Ranges: bytes`, an `ETag` and a `Last-Modified`, and a single
    /// range (`bytes=N-`, `bytes=N-M`, `bytes=-N`) is answered 206 with its `Content-Range`.
    /// Per RFC 9110, a range past the end is 416 with `Content-Range: bytes */SIZE`; a range
    /// that cannot be parsed, several ranges, or an `If-Range` that does not match get the
    /// whole file.
    ///
    /// ```
    /// # use openrouter_files_emulator::Emulator;
    /// let server = Emulator::builder().range_requests(true).start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn range_requests(mut self, yes: bool) -> Self {
        self.config.range_requests = yes;
        self
    }

    /// Waits this long before every answer (default none), to stand in for a network's round
    /// trip in benchmarks.
    pub fn latency(mut self, delay: Duration) -> Self {
        self.config.latency = delay;
        self
    }

    /// How long a socket may wait for the client (default [`DEFAULT_SOCKET_TIMEOUT`]): an idle
    /// kept-alive connection closes after it, a request head must arrive whole within it (408
    /// otherwise), and a body that stalls that long fails its request (408). A body that keeps
    /// coming, but too slowly, is bounded by the rate rule ([`EmulatorBuilder::min_rate`]).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.config.read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a write to a client that reads nothing may block (default
    /// [`DEFAULT_SOCKET_TIMEOUT`]); the connection closes after it.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.config.write_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The rate rule (default [`DEFAULT_MIN_RATE`] bytes per second after
    /// [`DEFAULT_RATE_GRACE`]): a request may take `grace`, plus one second for every
    /// `bytes_per_second` bytes of its head and body received, before the next byte must
    /// have come; past that it is answered 408 and its connection closed (Apache
    /// `mod_reqtimeout`'s `MinRate`). A trickle of a few bytes a second thus holds a
    /// connection for about `grace`, never for as long as it likes; a fair upload of any size
    /// is never cut. `0` turns the rule off (the read timeout still bounds every wait).
    ///
    /// ```
    /// use std::time::Duration;
    /// use openrouter_files_emulator::Emulator;
    ///
    /// let strict = Emulator::builder().min_rate(10_000, Duration::from_secs(5)).start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn min_rate(mut self, bytes_per_second: u64, grace: Duration) -> Self {
        self.config.min_rate = bytes_per_second;
        self.config.rate_grace = grace;
        self
    }

    /// The longest a whole request (head and body) may take to arrive, whatever its rate
    /// (default: none, the rate rule bounds it); past it, 408.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.request_timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        self
    }

    /// How many connections are served at once, each on its own thread (default
    /// [`DEFAULT_MAX_CONNECTIONS`]). When all are taken, a new connection is served in place
    /// of one that gives way: one lingering after its answer, else the one idle the longest
    /// (kept alive between requests, at any age; a new one once silent for a second), else
    /// the connection whose request or answer has moved the slowest below the rate rule over
    /// the last one to two rate windows ([`EmulatorBuilder::rate_window`]; two to four seconds
    /// by default), across its requests; when none may, the new connection is answered 503 at
    /// once and closed. Slow or idle clients thus never lock well-behaved ones out.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n.max(1);
        self
    }

    /// How far back a connection's recent rate is measured when every connection is taken
    /// (default [`DEFAULT_RATE_WINDOW`], 2 s): over the last one to two of these, across its
    /// requests. A connection receiving a request or sending an answer gives way to a new one
    /// when it has moved bytes slower than the rate rule ([`EmulatorBuilder::min_rate`]) over
    /// that span, whatever it sent before: a fast start buys time under the rule, not a slot.
    ///
    /// Only the time scale of that judgement changes, not the rule: a shorter window lets a
    /// connection that slowed down give way sooner (tests of slow clients use it to wait less),
    /// a longer one judges over a longer past. The rate rule itself, the second a new
    /// connection keeps before it may give way, and every timeout are unchanged. At least 1 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// use openrouter_files_emulator::Emulator;
    ///
    /// let quick = Emulator::builder()
    ///     .max_connections(4)
    ///     .rate_window(Duration::from_millis(500))
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn rate_window(mut self, window: Duration) -> Self {
        self.config.rate_window = window.max(Duration::from_millis(1));
        self
    }

    /// How many requests [`Emulator::requests`] keeps, the newest (default
    /// [`DEFAULT_REQUEST_LOG_LIMIT`]); older ones are forgotten so memory stays bounded. Totals
    /// are counted apart ([`Emulator::requests_served`]).
    pub fn request_log_limit(mut self, n: usize) -> Self {
        self.config.request_log_limit = n;
        self
    }

    /// The loopback port to listen on (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Adds a server-created (downloadable) file to the default workspace.
    pub fn seed_file(self, filename: &str, bytes: Vec<u8>) -> Self {
        self.seed_file_in(DEFAULT_WORKSPACE, filename, bytes)
    }

    /// Adds a server-created (downloadable) file to `workspace`.
    pub fn seed_file_in(mut self, workspace: &str, filename: &str, bytes: Vec<u8>) -> Self {
        self.seeds
            .push((workspace.to_string(), filename.to_string(), bytes));
        self
    }

    /// Binds `127.0.0.1` and starts serving on background threads.
    pub fn start(self) -> io::Result<Emulator> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(self.config)?);
        let accept = http::start(listener, Arc::clone(&shared))?;
        let emulator = Emulator {
            base_url: format!("http://{addr}/api/v1"),
            addr,
            shared,
            accept: Some(accept),
        };
        for (workspace, filename, bytes) in self.seeds {
            emulator.seed_file_in(&workspace, &filename, &bytes)?;
        }
        Ok(emulator)
    }
}

/// State shared by the serving threads.
pub(crate) struct Shared {
    config: Config,
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    journal: Journal,
    connections: Arc<Connections>,
}

impl Shared {
    /// The state of a server with these settings and an empty store.
    fn new(config: Config) -> io::Result<Shared> {
        let id_prefix = match config.version {
            ApiVersion::V2026_07_19 => "file_",
            ApiVersion::V2026_08_22 => "or_file_",
        };
        Ok(Shared {
            journal: Journal::new(config.request_log_limit),
            store: Mutex::new(Store::new(config.storage_dir.as_deref(), id_prefix)?),
            faults: Mutex::new(Faults::default()),
            connections: Arc::new(Connections::default()),
            config,
        })
    }
}

/// Locks a mutex, recovering the data if a thread panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running emulator; dropping it stops the server, closes its connections and deletes its
/// files.
pub struct Emulator {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator with the default settings on a free port.
    pub fn start() -> io::Result<Emulator> {
        EmulatorBuilder::default().start()
    }

    /// A builder for an emulator with other settings.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL to give a client: `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The directory this server keeps uploaded bytes in: its own subdirectory of
    /// [`EmulatorBuilder::storage_dir`], removed when the server is dropped.
    ///
    /// ```
    /// use openrouter_files_emulator::Emulator;
    ///
    /// let server = Emulator::start()?;
    /// let path = server.storage_path();
    /// assert!(path.is_dir());
    /// drop(server);
    /// assert!(!path.exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn storage_path(&self) -> PathBuf {
        lock(&self.shared.store).dir().to_path_buf()
    }

    /// Empties and removes the storage directory now, through the handle the server holds (no
    /// link followed, nothing outside it touched), and stores nothing after: an upload still
    /// coming is answered 500, a seed fails. For a process about to end without dropping the
    /// emulator, as on a signal; dropping does the same.
    ///
    /// ```
    /// use openrouter_files_emulator::Emulator;
    ///
    /// let server = Emulator::start()?;
    /// server.remove_storage();
    /// assert!(!server.storage_path().exists());
    /// assert!(server.seed_file_in("ws", "late.txt", b"x").is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn remove_storage(&self) {
        lock(&self.shared.store).close();
    }

    /// The socket address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the emulator accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.config.api_key
    }

    /// Answers the next `times` requests it applies to with `fault`: any API request for a
    /// bare [`Fault`], requests to one operation for a fault aimed with [`Fault::on`]. Faults
    /// queue up in the order they are injected; see [`Fault`] for what each does.
    pub fn inject(&self, fault: impl Into<AimedFault>, times: usize) {
        lock(&self.shared.faults).push(fault.into(), times);
    }

    /// Adds a server-created (downloadable) file while running; returns its id.
    pub fn seed_file_in(
        &self,
        workspace: &str,
        filename: &str,
        bytes: &[u8],
    ) -> io::Result<String> {
        self.seed_reader_in(workspace, filename, bytes)
    }

    /// Adds a server-created (downloadable) file whose bytes are streamed from `source`, so a
    /// large seed never sits in memory; returns its id.
    pub fn seed_reader_in(
        &self,
        workspace: &str,
        filename: &str,
        mut source: impl io::Read,
    ) -> io::Result<String> {
        // The temporary file is removed when `temp` is dropped, unless stored: a seed that
        // failed leaves no partial bytes taking the disk.
        let (temp, mut file) = lock(&self.shared.store).temp()?;
        io::copy(&mut source, &mut file)?;
        let mime = sniff::detect(&file)?.unwrap_or("application/octet-stream");
        let scope = Scope {
            workspace: workspace.to_string(),
            provider: None,
        };
        let mut store = lock(&self.shared.store);
        let file = store.insert(scope, filename.to_string(), mime.to_string(), &temp, true)?;
        Ok(file.id)
    }

    /// The requests served most recently, oldest first: at most the
    /// [`request_log_limit`](EmulatorBuilder::request_log_limit).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.journal.recent()
    }

    /// Forgets the requests logged so far ([`Emulator::requests_served`] keeps counting).
    pub fn clear_requests(&self) {
        self.shared.journal.clear();
    }

    /// How many requests have been answered (or dropped by a fault) since the start. Only
    /// requests whose head could be read count: a malformed or oversized head (400, 431), a
    /// head that timed out (408) and a connection refused at the cap (503) are answered but
    /// neither counted nor logged.
    pub fn requests_served(&self) -> u64 {
        self.shared.journal.total()
    }

    /// How many TCP connections clients have opened to the emulator.
    pub fn connections_accepted(&self) -> usize {
        self.shared.connections.accepted()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.connections.stop();
        let _ = TcpStream::connect(self.addr); // wakes the accept thread
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        // Now, not when the last serving thread lets go of the store: the process may end first.
        lock(&self.shared.store).close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_window_defaults_to_two_seconds_and_is_at_least_a_millisecond() {
        let rules = |builder: EmulatorBuilder| builder.config.rules();
        assert_eq!(rules(Emulator::builder()).rate_window, DEFAULT_RATE_WINDOW);
        let short = Emulator::builder().rate_window(Duration::from_millis(300));
        assert_eq!(rules(short).rate_window, Duration::from_millis(300));
        let zero = Emulator::builder().rate_window(Duration::ZERO);
        assert_eq!(rules(zero).rate_window, Duration::from_millis(1));
    }
}
