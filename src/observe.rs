//! Watching the calls a client makes: an [`Observer`] is told about every try of every call
//! (method, path, status, try number, duration, bytes, request id, proxy, and whether and why
//! it is retried), as `curl -v` shows them. It never sees the key or any credentials: only the
//! API path (no host, no query), and texts the crate already keeps free of the key.

use std::sync::Arc;
use std::time::Duration;

/// One try of a call, as an [`Observer`] sees it once the try has ended (its response head
/// received, or its failure known).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Attempt<'a> {
    /// The HTTP method (`GET`, `POST`, `DELETE`).
    pub method: &'a str,
    /// The API path below the base URL (`/files/or_file_…`), without the query string.
    pub path: &'a str,
    /// Which try of the call this was, from 1.
    pub attempt: u32,
    /// The HTTP status of the answer; `None` when none arrived (a connection, TLS, proxy or
    /// timeout failure, or a redirect the client would not follow).
    pub status: Option<u16>,
    /// From the start of the try to its answer's head (or its failure), redirects included.
    pub duration: Duration,
    /// The request body's length in bytes (0 for calls without a body).
    pub bytes_sent: u64,
    /// The answer's `Content-Length`, when it announced one (a download's body is read later).
    pub bytes_announced: Option<u64>,
    /// The server's request id, when it sent one.
    pub request_id: Option<&'a str>,
    /// The proxy the try went through, as `scheme://host:port` (never its credentials): that
    /// of its last request when it followed a redirect to a host the proxy settings treat
    /// differently.
    pub proxy: Option<&'a str>,
    /// Why the try failed, when it did.
    pub error: Option<String>,
    /// When the call will be tried again: how long it waits first. `None` when this try was
    /// the last (it succeeded, or its failure ends the call). In a batch, when the server
    /// asked for the wait (`Retry-After`), the batch's shared pause is already closed for it.
    pub retry_in: Option<Duration>,
}

impl Attempt<'_> {
    /// Whether the try got a 2xx answer.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Told about every try of every call a client makes; set with
/// [`FilesClientBuilder::observer`](crate::FilesClientBuilder::observer). Any
/// `Fn(&Attempt) + Send + Sync` closure is one. It runs on the thread making the call, before
/// the call goes on: keep it quick. A panic in it is the caller's, as one in the caller's own
/// code: it unwinds out of the call (in a [`Batch`](crate::Batch), the batch stops and the
/// panic is resumed on the thread that ran it), leaves no temporary file behind, and the
/// client stays usable.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use openrouter_files::{Attempt, FilesClient};
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::start()?;
///
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let seen = Arc::clone(&lines);
/// let client = FilesClient::builder()
/// #   .api_key(server.api_key())
/// #   .base_url(server.base_url())
///     .observer(move |a: &Attempt<'_>| {
///         seen.lock().unwrap().push(format!(
///             "{} {} try {}: {:?} in {:?}, request id {:?}",
///             a.method, a.path, a.attempt, a.status, a.duration, a.request_id
///         ));
///     })
///     .build()?;
/// client.list().page()?;
/// assert!(lines.lock().unwrap()[0].starts_with("GET /files try 1: Some(200)"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Observer: Send + Sync {
    /// Called once per try, when it has ended.
    fn attempt(&self, attempt: &Attempt<'_>);
}

impl<F: Fn(&Attempt<'_>) + Send + Sync> Observer for F {
    fn attempt(&self, attempt: &Attempt<'_>) {
        self(attempt)
    }
}

/// The observer a client holds, shared by its clones.
pub(crate) type SharedObserver = Arc<dyn Observer>;

/// One try in progress, for the report the observer gets when it ends.
pub(crate) struct Try<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) number: u32,
    pub(crate) started: std::time::Instant,
    /// The proxy of the try's latest request (a redirect may change it).
    pub(crate) proxy: std::cell::Cell<Option<&'a str>>,
    /// The key, removed from the request id an answer names.
    pub(crate) secret: &'a str,
}

/// How a try ended.
pub(crate) enum Ended<'a> {
    /// With a 2xx answer.
    Answered(&'a ureq::http::Response<ureq::Body>),
    /// With this error (the server's failure status, or no answer).
    Failed(&'a crate::Error),
}

impl Try<'_> {
    /// Tells `observer` (if any) how this try ended, with `sent` body bytes, and whether the
    /// call waits `retry_in` before its next try.
    pub(crate) fn report(
        &self,
        observer: Option<&SharedObserver>,
        ended: Ended<'_>,
        sent: u64,
        retry_in: Option<Duration>,
    ) {
        let Some(observer) = observer else { return };
        let (status, announced, request_id, error) = match ended {
            Ended::Answered(response) => (
                Some(response.status().as_u16()),
                response.body().content_length(),
                crate::answer::request_id(response.headers(), self.secret),
                None,
            ),
            Ended::Failed(error) => (
                error.status(),
                None,
                error.request_id().map(str::to_string),
                Some(error.to_string()),
            ),
        };
        observer.attempt(&Attempt {
            method: self.method,
            path: self.path,
            attempt: self.number,
            status,
            duration: self.started.elapsed(),
            bytes_sent: sent,
            bytes_announced: announced,
            request_id: request_id.as_deref(),
            proxy: self.proxy.get(),
            error,
            retry_in,
        });
    }
}
