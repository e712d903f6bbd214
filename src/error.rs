//! The crate's error type: one [`Error`] for every operation, with an [`ApiError`] inside when
//! the server answered with a failure status.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

mod transport;

pub use transport::TransportError;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a Files API call.
///
/// Match on the variant for the cases you branch on, or use the helpers: [`Error::status`],
/// [`Error::request_id`], [`Error::is_retryable`]. The API key never appears in any message:
/// it is also removed from every string the server sent that an error keeps (message,
/// metadata, body snippet, redirect location).
///
/// ```
/// use openrouter_files::{ApiErrorKind, Error, FilesClient};
/// # let server = openrouter_files_emulator::Emulator::start()?;
/// # let client = FilesClient::builder()
/// #     .api_key(server.api_key())
/// #     .base_url(server.base_url())
/// #     .build()?;
///
/// match client.retrieve("or_file_does_not_exist") {
///     Ok(meta) => println!("{} is {} bytes", meta.filename, meta.size_bytes),
///     Err(Error::Api(api)) if api.kind() == ApiErrorKind::NotFound => {
///         // "GET /files/or_file_does_not_exist: HTTP 404: …"
///         assert_eq!(api.method(), "GET");
///         assert_eq!(api.path(), "/files/or_file_does_not_exist");
///     }
///     Err(e) if e.is_retryable() => eprintln!("try again later: {e}"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A [`Download`](crate::Download) is read through [`std::io::Read`], so its errors arrive as
/// [`io::Error`]; `?` turns them back into this type (`impl From<io::Error> for Error`), so a
/// short body is [`Error::Truncated`] again, not an opaque I/O error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// Caught locally, before anything was sent: a limit outside 1..=1000, an empty id, a
    /// workspace that is not a UUID, a file that is empty or over the upload limit.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The request did not complete: connection, DNS, TLS, timeout (a
    /// [deadline](crate::FilesClientBuilder::deadline) included) or an HTTP protocol error.
    #[error(transparent)]
    Transport(TransportError),
    /// The proxy refused to open a tunnel to the server: it answered `CONNECT` with a failure
    /// status (407 when it wants credentials, 502 when it cannot reach the server, 403 when
    /// its rules forbid it) or did not answer. It names the proxy (`scheme://host:port`, never
    /// its credentials), not the server, which was never reached.
    #[error("{method} {path}: the proxy {proxy} refused the tunnel: {reason}")]
    Proxy {
        /// The HTTP method of the call.
        method: &'static str,
        /// The request path of the call, without the query string.
        path: String,
        /// The proxy, as `scheme://host:port`.
        proxy: String,
        /// The proxy's status, when it answered.
        status: Option<u16>,
        /// What the proxy did.
        reason: String,
    },
    /// The server answered with a redirect the client does not follow: a 301, 302 or 303 to
    /// an upload or a delete (following it would change the method and report the wrong
    /// outcome), a 307 or 308 with a body that cannot be sent again, a move from `https` to
    /// `http`, a `Location` that is missing, not an http(s) URL or contains the API key, or
    /// too many redirects.
    #[error("{method} {path}: not following the {status} redirect to {location:?}: {reason}")]
    Redirect {
        /// The HTTP method of the call.
        method: &'static str,
        /// The request path of the call, without the query string.
        path: String,
        /// The redirect status (301, 302, 303, 307 or 308).
        status: u16,
        /// The `Location` the server named (empty when it named none).
        location: String,
        /// Why it was not followed.
        reason: &'static str,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.as_ref().map_or("I/O error".to_string(), |p| p.display().to_string()))]
    Io {
        /// The file involved, when there is one.
        path: Option<PathBuf>,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A 2xx response whose body is not what the API documents.
    #[error("unexpected response to {what}: {source} (body starts: {snippet:?})")]
    Decode {
        /// The operation whose response could not be read.
        what: &'static str,
        /// The start of the body as received, lossily decoded.
        snippet: String,
        /// What the JSON decoder reported.
        #[source]
        source: serde_json::Error,
    },
    /// The server broke the API's rules in a way that is not a decoding error, such as a list
    /// cursor that repeats, or a download that is not the stored file: sent in a
    /// `Content-Encoding` the client did not ask for, or with a status other than `200` (a
    /// `206 Partial Content` only when the client asked for a range).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A 2xx answer about another file than the one the call named: a delete confirmed, or a
    /// retrieve answered, for another id (`file_X` for `or_file_X` is the same file, in the
    /// first API version's style). Nothing is reported done for the file asked for.
    #[error("{method} {path}: the answer names file {answered:?}, not the {asked:?} asked for")]
    OtherFile {
        /// The HTTP method of the call.
        method: &'static str,
        /// The request path of the call, without the query string.
        path: String,
        /// The id the call named.
        asked: String,
        /// The id the answer named (its start, without the API key).
        answered: String,
    },
    /// A download ended before the length the server announced.
    #[error("download truncated: expected {expected} bytes, received {received}")]
    Truncated {
        /// The announced `Content-Length`.
        expected: u64,
        /// The bytes received before the connection ended.
        received: u64,
    },
    /// The client could not be built: missing API key, unusable base URL or header value.
    #[error("configuration error: {0}")]
    Config(String),
    /// Nothing was sent for this call because its [`Batch`](crate::Batch) stopped first (an
    /// error with [`stop_on_error`](crate::Batch::stop_on_error), the
    /// [`cancel_flag`](crate::Batch::cancel_flag), or a panic) while the call waited for the
    /// batch's shared `Retry-After` pause.
    #[error("cancelled: the batch stopped before this request was sent")]
    Cancelled,
    /// An upload's answer was lost after the server may have stored it, and several files in
    /// the workspace could be it, or the only one is older than the upload (maybe an earlier
    /// upload of the same name and size): none was taken, and the upload was not sent again. See
    /// [`FilesClient::upload_detailed`](crate::FilesClient::upload_detailed).
    #[error("the answer to the upload of {filename:?} was lost and {} stored files may be it: {}", candidates.len(), candidates.join(", "))]
    LostUpload {
        /// The name the upload was sent with.
        filename: String,
        /// The ids of the files that may be the upload.
        candidates: Vec<String>,
        /// The failure that lost the answer.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// The HTTP status, when the server answered with a failure status.
    pub fn status(&self) -> Option<u16> {
        self.api().map(ApiError::status)
    }

    /// The server's request id for the failed call, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(ApiError::request_id)
    }

    /// The [`ApiError`] inside, when the server answered with a failure status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// Whether trying the same call again later may succeed: connection failures, timeouts,
    /// truncated downloads, and the statuses 408, 429 and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => api.kind().is_retryable(),
            Error::Transport(transport) => transport.is_retryable(),
            Error::Truncated { .. } => true,
            _ => false,
        }
    }

    /// The [`TransportError`] inside, when the request did not complete.
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            Error::Transport(transport) => Some(transport),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<Option<PathBuf>>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Unwraps this crate's error when `error` carries one (as a [`Download`](crate::Download)'s
/// read errors do), the way ureq and csv treat their own errors. Any other I/O error becomes
/// [`Error::Io`] without a path: none is invented.
///
/// ```
/// use std::io;
/// use openrouter_files::Error;
///
/// let truncated = io::Error::from(Error::Truncated { expected: 10, received: 4 });
/// assert!(matches!(Error::from(truncated), Error::Truncated { expected: 10, received: 4 }));
/// let local = io::Error::new(io::ErrorKind::PermissionDenied, "no");
/// assert!(matches!(Error::from(local), Error::Io { path: None, .. }));
/// ```
impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        if error.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            let inner = error.into_inner().expect("checked above");
            return *inner.downcast::<Error>().expect("checked above");
        }
        Error::Io {
            path: None,
            source: error,
        }
    }
}

/// Wraps this crate's error in an [`io::Error`] of a matching kind (`UnexpectedEof` for
/// [`Error::Truncated`], `TimedOut` for a timeout, the original kind for [`Error::Io`]);
/// `impl From<io::Error> for Error` gets it back. [`Error::Cancelled`] is `Other`, never
/// `Interrupted`: `read_to_end`, `read_exact` and `io::copy` retry an `Interrupted` read, and a
/// cancelled call would be retried forever.
impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        let kind = match &error {
            Error::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            Error::Io { source, .. } => source.kind(),
            Error::Transport(transport) => transport.io_kind(),
            Error::InvalidInput(_) | Error::Config(_) => io::ErrorKind::InvalidInput,
            Error::Decode { .. } | Error::Protocol(_) | Error::OtherFile { .. } => {
                io::ErrorKind::InvalidData
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}

/// Removes `secret` from text the server sent, so that a server echoing the API key cannot
/// put it into an error message, a log line or `Debug` output.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        return text.to_string();
    }
    text.replace(secret, "[redacted]")
}

/// [`redact`] for text cut short at its end: a start of `secret` (3 bytes or more) that the
/// cut left at the end is removed too.
pub(crate) fn redact_cut(text: &str, secret: &str) -> String {
    let mut text = redact(text, secret);
    if let Some(k) = (3..secret.len())
        .rev()
        .find(|&k| secret.is_char_boundary(k) && text.ends_with(&secret[..k]))
    {
        text.truncate(text.len() - k);
        text.push_str("[redacted]");
    }
    text
}

/// [`redact`] applied to every string (keys and values) inside a JSON value.
pub(crate) fn redact_json(value: Value, secret: &str) -> Value {
    match value {
        Value::String(s) => Value::String(redact(&s, secret)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| redact_json(v, secret)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (redact(&k, secret), redact_json(v, secret)))
                .collect(),
        ),
        other => other,
    }
}

/// The kind of a failure status, for branching without remembering numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400: invalid parameters or body.
    BadRequest,
    /// 401: missing or wrong API key.
    Unauthorized,
    /// 403: the key may not do this.
    Forbidden,
    /// 404: no such file (in this workspace).
    NotFound,
    /// 408: the server gave up waiting for the request.
    RequestTimeout,
    /// 413: the upload is too large.
    PayloadTooLarge,
    /// 429: rate limited; see [`ApiError::retry_after`].
    RateLimited,
    /// 500 and other 5xx not listed here.
    Server,
    /// 502: the upstream provider failed.
    BadGateway,
    /// 503: temporarily unavailable.
    Unavailable,
    /// 504: the upstream timed out.
    GatewayTimeout,
    /// Any other status.
    Other,
}

impl ApiErrorKind {
    /// The kind for an HTTP status.
    pub fn from_status(status: u16) -> ApiErrorKind {
        match status {
            400 => ApiErrorKind::BadRequest,
            401 => ApiErrorKind::Unauthorized,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            408 => ApiErrorKind::RequestTimeout,
            413 => ApiErrorKind::PayloadTooLarge,
            429 => ApiErrorKind::RateLimited,
            502 => ApiErrorKind::BadGateway,
            503 => ApiErrorKind::Unavailable,
            504 => ApiErrorKind::GatewayTimeout,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }

    /// Whether the status says the request was not acted on and may be sent again as it is:
    /// 408, 429 and 503. Even an upload is sent again after one of these; after another
    /// failure status that may pass when tried again (500, 502, 504), the request may have
    /// taken effect.
    pub(crate) fn says_not_done(self) -> bool {
        matches!(
            self,
            ApiErrorKind::RequestTimeout | ApiErrorKind::RateLimited | ApiErrorKind::Unavailable
        )
    }

    /// Whether a call that failed this way may succeed if tried again.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ApiErrorKind::RequestTimeout
                | ApiErrorKind::RateLimited
                | ApiErrorKind::Server
                | ApiErrorKind::BadGateway
                | ApiErrorKind::Unavailable
                | ApiErrorKind::GatewayTimeout
        )
    }
}

/// A failure status from the server, with everything it said about it and the call it
/// answered.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) code: Option<i64>,
    pub(crate) message: String,
    pub(crate) metadata: Option<Value>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body_snippet: Option<String>,
    pub(crate) attempts: u32,
    /// Whether an earlier try of the call may have reached the server and taken effect: its
    /// answer was lost, or was a failure status other than 408, 429 or 503 (which say the
    /// request was not acted on).
    pub(crate) earlier_try_may_have_acted: bool,
}

impl ApiError {
    /// The HTTP method of the failed call.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The request path of the failed call (`/files/<id>`), without host or query string.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The kind of failure, from the status.
    pub fn kind(&self) -> ApiErrorKind {
        ApiErrorKind::from_status(self.status)
    }

    /// The `code` in the server's error body, when it sent the documented JSON shape.
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// The server's message, or a description of the status when the body had none.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `metadata` object in the server's error body, if any.
    pub fn metadata(&self) -> Option<&Value> {
        self.metadata.as_ref()
    }

    /// The request id header the server sent (`x-request-id` and similar), if any.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How long the server asked the client to wait (`Retry-After`, `retry-after-ms`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The start (at most 1 KiB) of a body that was not the documented JSON error shape, such
    /// as an HTML page from a proxy.
    pub fn body_snippet(&self) -> Option<&str> {
        self.body_snippet.as_deref()
    }

    /// How many times the call was tried before this answer (1 when it was not retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: HTTP {}: {}",
            self.method, self.path, self.status, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if let Some(wait) = self.retry_after {
            write!(f, " (retry after {} s)", wait.as_secs_f64())?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(api: ApiError) -> Error {
        Error::Api(Box::new(api))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_call_read_through_io_ends_the_read_instead_of_spinning() {
        struct Cancelled(u32);
        impl io::Read for Cancelled {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                assert!(
                    self.0 < 100,
                    "std retried the cancelled read {} times",
                    self.0
                );
                Err(io::Error::from(Error::Cancelled))
            }
        }
        let mut reader = Cancelled(0);
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert_ne!(err.kind(), io::ErrorKind::Interrupted);
        assert!(matches!(Error::from(err), Error::Cancelled));
        assert_eq!(reader.0, 1);
    }

    #[test]
    fn a_cut_that_halves_the_secret_leaves_no_start_of_it() {
        let secret = "sk-or-v1-0123456789";
        assert_eq!(redact_cut("body sk-or-v1-01234", secret), "body [redacted]");
        assert_eq!(
            redact_cut("sk-or-v1-0123456789 and sk-o", secret),
            "[redacted] and [redacted]"
        );
        assert_eq!(
            redact_cut("ends in sk", secret),
            "ends in sk",
            "2 bytes say nothing"
        );
        assert_eq!(redact_cut("plain", secret), "plain");
        assert_eq!(redact("plain", ""), "plain");
    }

    #[test]
    fn retryable_statuses_are_408_429_and_every_5xx() {
        for status in [408, 429, 500, 501, 502, 503, 504, 599] {
            assert!(ApiErrorKind::from_status(status).is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 413, 422, 499] {
            assert!(
                !ApiErrorKind::from_status(status).is_retryable(),
                "{status}"
            );
        }
    }
}
