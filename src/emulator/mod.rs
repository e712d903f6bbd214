//! A local, faithful OpenRouter Files API server for demos and tests (feature `emulator`).
//!
//! It runs on `127.0.0.1` on background threads, needs no account and no network, and speaks the
//! API as the official OpenAPI documents describe it: bearer auth, the spec's error shape, cursor
//! pagination, workspaces, streamed multipart uploads with the 100 MB limit, content-based file
//! types, and raw downloads of server-created files. Tests can inject faults and read a log of
//! every request.
//!
//! ```
//! use openrouter_files::emulator::Emulator;
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
//! Beyond the API, `GET /_emulator/stats` (no auth) answers
//! `{"connections": N, "requests": M}`, for programs that run the emulator in another process,
//! such as the benchmark. The stats request itself is counted too.

mod handler;
mod multipart;
mod proxy;
mod sniff;
mod store;

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use proxy::Relay;
use store::{Scope, Store};

pub use store::DEFAULT_WORKSPACE;

/// The upload limit of the real API: 100 MB, read as 100,000,000 bytes.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 100_000_000;

/// The API key the emulator accepts unless [`EmulatorBuilder::api_key`] sets another.
pub const DEFAULT_API_KEY: &str = "sk-or-emulator-key";

const WORKERS: usize = 8;

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

/// A misbehaviour to inject with [`Emulator::inject`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status, extra headers, and a body (the spec's error shape by default).
    Status {
        /// The HTTP status code.
        status: u16,
        /// Extra response headers, such as `Retry-After`.
        headers: Vec<(String, String)>,
        /// The raw body; `None` sends `{"error":{"code":status,"message":…}}`.
        body: Option<String>,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// For a download: send the headers with the full `Content-Length`, then only this many
    /// bytes of the body, then close the connection. Other requests pass this fault by.
    TruncateDownload {
        /// How many body bytes to send before closing.
        after_bytes: u64,
    },
    /// Close the connection without answering.
    DropConnection,
}

impl Fault {
    /// A [`Fault::Status`] with the spec's error body and no extra headers.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a response header to a [`Fault::Status`]; other faults are returned unchanged.
    pub fn with_header(mut self, name: &str, value: &str) -> Fault {
        if let Fault::Status { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// Replaces the body of a [`Fault::Status`]; other faults are returned unchanged.
    pub fn with_body(mut self, text: &str) -> Fault {
        if let Fault::Status { body, .. } = &mut self {
            *body = Some(text.to_string());
        }
        self
    }
}

/// One request as the emulator saw it, from [`Emulator::requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// `GET`, `POST`, `DELETE`…
    pub method: String,
    /// The path, still percent-encoded, such as `/api/v1/files/or_file_1`.
    pub path: String,
    /// The raw query string without `?`, if there was one.
    pub query: Option<String>,
    /// The status sent; 0 when the connection was dropped without an answer.
    pub status: u16,
    /// Body bytes read from the client.
    pub request_bytes: u64,
    /// Body bytes sent to the client.
    pub response_bytes: u64,
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    api_key: String,
    upload_limit: u64,
    version: ApiVersion,
    accept_any_content: bool,
    port: u16,
    seeds: Vec<(String, String, Vec<u8>)>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            api_key: DEFAULT_API_KEY.to_string(),
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            version: ApiVersion::default(),
            accept_any_content: false,
            port: 0,
            seeds: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// The only API key the server accepts (default [`DEFAULT_API_KEY`]).
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = key.to_string();
        self
    }

    /// The largest upload accepted, in bytes (default [`DEFAULT_UPLOAD_LIMIT`]).
    pub fn upload_limit(mut self, bytes: u64) -> Self {
        self.upload_limit = bytes;
        self
    }

    /// The API version to emulate (default: the current one).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.version = version;
        self
    }

    /// Accept uploads of any content as `application/octet-stream` instead of refusing types
    /// the API does not support.
    pub fn accept_any_content(mut self, yes: bool) -> Self {
        self.accept_any_content = yes;
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
        let id_prefix = match self.version {
            ApiVersion::V2026_07_19 => "file_",
            ApiVersion::V2026_08_22 => "or_file_",
        };
        let listener = TcpListener::bind(("127.0.0.1", self.port))?;
        let listen_addr = listener.local_addr()?;
        let inner = TcpListener::bind("127.0.0.1:0")?;
        no_delay(&inner);
        let server = tiny_http::Server::from_listener(inner, None).map_err(io::Error::other)?;
        let upstream = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("emulator: no TCP address"))?;
        let relay = Relay::start(listener, upstream)?;
        let shared = Arc::new(Shared {
            api_key: self.api_key,
            upload_limit: self.upload_limit,
            version: self.version,
            accept_any_content: self.accept_any_content,
            store: Mutex::new(Store::new(id_prefix)?),
            faults: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
            relay,
        });
        let emulator_seeds = self.seeds;
        let server = Arc::new(server);
        let workers = (0..WORKERS)
            .map(|i| {
                let (server, shared) = (Arc::clone(&server), Arc::clone(&shared));
                std::thread::Builder::new()
                    .name(format!("emulator-worker-{i}"))
                    .spawn(move || {
                        while let Ok(request) = server.recv() {
                            handler::handle(&shared, request);
                        }
                    })
            })
            .collect::<io::Result<Vec<_>>>()?;
        let emulator = Emulator {
            base_url: format!("http://{listen_addr}/api/v1"),
            listen_addr,
            shared,
            server,
            workers,
        };
        for (workspace, filename, bytes) in emulator_seeds {
            emulator.seed_file_in(&workspace, &filename, &bytes)?;
        }
        Ok(emulator)
    }
}

/// Turns off Nagle's algorithm on a listening socket; Linux passes the setting on to the
/// sockets it accepts. tiny_http writes a response head and body separately, and without
/// this the body waits for the peer's delayed ACK (40 ms) on a kept-alive connection.
fn no_delay(listener: &TcpListener) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: a valid socket descriptor and a pointer to a c_int of the size given.
        unsafe {
            libc::setsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(unix))]
    let _ = listener;
}

/// State shared by the worker threads.
pub(crate) struct Shared {
    api_key: String,
    upload_limit: u64,
    version: ApiVersion,
    accept_any_content: bool,
    store: Mutex<Store>,
    faults: Mutex<VecDeque<(Fault, usize)>>,
    log: Mutex<Vec<LoggedRequest>>,
    relay: Arc<Relay>,
}

/// Locks a mutex, recovering the data if a worker panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running emulator; dropping it stops the server and deletes its files.
pub struct Emulator {
    base_url: String,
    listen_addr: SocketAddr,
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
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

    /// The socket address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.listen_addr
    }

    /// The API key the emulator accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// Answers the next `times` requests (for [`Fault::TruncateDownload`]: downloads) with
    /// `fault`. Faults queue up in the order they are injected.
    pub fn inject(&self, fault: Fault, times: usize) {
        if times > 0 {
            lock(&self.shared.faults).push_back((fault, times));
        }
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
        let path = lock(&self.shared.store).temp_path();
        io::copy(&mut source, &mut std::fs::File::create(&path)?)?;
        let mut store = lock(&self.shared.store);
        let mime = sniff::detect(&path)?.unwrap_or("application/octet-stream");
        let scope = Scope {
            workspace: workspace.to_string(),
            provider: None,
        };
        let file = store.insert(scope, filename.to_string(), mime.to_string(), &path, true)?;
        Ok(file.id)
    }

    /// Every request served so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the requests logged so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// How many TCP connections clients have opened to the emulator.
    pub fn connections_accepted(&self) -> usize {
        self.shared.relay.accepted()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.relay.stop(self.listen_addr);
        for _ in &self.workers {
            self.server.unblock();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
