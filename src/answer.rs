//! What a successful answer said besides its body: the request id and the response headers,
//! kept on every result ([`FileMetadata::response`](crate::FileMetadata::response),
//! [`Page::response`](crate::Page::response), [`FileDeleted::response`](crate::FileDeleted::response),
//! [`Download::response`](crate::Download::response)) so support can find a call that
//! seemed lost, as openai-python's `_request_id` does.

use std::fmt;
use std::sync::Arc;

use ureq::http::HeaderMap;

use crate::error::redact;

/// The request id an answer names, under any of the usual header names, cut at 1 KiB as any
/// value kept, redacted.
pub(crate) fn request_id(headers: &HeaderMap, secret: &str) -> Option<String> {
    [
        "x-request-id",
        "request-id",
        "x-openrouter-request-id",
        "cf-ray",
    ]
    .iter()
    .find_map(|name| headers.get(*name)?.to_str().ok())
    .map(|id| redact(cut(id), secret))
}

/// `value` without what follows its first [`MAX_VALUE`] characters.
fn cut(value: &str) -> &str {
    value
        .char_indices()
        .nth(MAX_VALUE)
        .map_or(value, |(i, _)| &value[..i])
}

/// The most headers kept from one answer, and the longest value kept (longer ones are cut).
const MAX_HEADERS: usize = 64;
const MAX_VALUE: usize = 1024;

/// The answer to one successful call: its status, request id, how many tries it took, and
/// its response headers (names in lower case; `Set-Cookie` left out; at most 64, each value
/// cut at 1 KiB; the API key removed from every value).
///
/// ```
/// # use openrouter_files::FilesClient;
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::start()?;
/// # let client = FilesClient::builder()
/// #     .api_key(server.api_key())
/// #     .base_url(server.base_url())
/// #     .build()?;
/// let meta = client.upload(openrouter_files::Upload::bytes("a.txt", "abc"))?;
/// let answer = meta.response().expect("a file from the server");
/// println!("uploaded as request {:?}", answer.request_id());
/// assert_eq!(answer.status(), 200);
/// assert_eq!(answer.header("content-type"), Some("application/json"));
/// # assert!(answer.request_id().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseInfo {
    status: u16,
    request_id: Option<String>,
    attempts: u32,
    headers: Vec<(String, String)>,
}

impl ResponseInfo {
    /// Reads what matters from `headers` of an answer with `status`, after `attempts` tries.
    pub(crate) fn new(status: u16, source: &HeaderMap, attempts: u32, secret: &str) -> Self {
        let headers = source
            .iter()
            .filter(|(name, _)| *name != ureq::http::header::SET_COOKIE)
            .take(MAX_HEADERS)
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes());
                (name.as_str().to_string(), redact(cut(&value), secret))
            })
            .collect();
        ResponseInfo {
            status,
            request_id: request_id(source, secret),
            attempts,
            headers,
        }
    }

    /// The HTTP status of the answer (a 2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The server's request id (`X-Request-Id`, `Request-Id`, `X-OpenRouter-Request-Id` or
    /// `CF-Ray`), the one support asks for; cut at 1 KiB as any value kept.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many tries the call took (1 when it was not retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header kept, in the order received, names in lower case.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// Where a result keeps its [`ResponseInfo`]. It takes no part in equality: two answers that
/// describe the same file are equal, whichever request brought them.
#[derive(Clone, Default)]
pub(crate) struct Received(pub(crate) Option<Arc<ResponseInfo>>);

impl Received {
    pub(crate) fn get(&self) -> Option<&ResponseInfo> {
        self.0.as_deref()
    }
}

impl From<Arc<ResponseInfo>> for Received {
    fn from(info: Arc<ResponseInfo>) -> Received {
        Received(Some(info))
    }
}

impl PartialEq for Received {
    fn eq(&self, _: &Received) -> bool {
        true
    }
}

impl Eq for Received {}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get().and_then(ResponseInfo::request_id) {
            Some(id) => write!(f, "{id:?}"),
            None => f.write_str("None"),
        }
    }
}

/// The accessors every result that came from the server has.
macro_rules! answered {
    ($($ty:ty),*) => {$(
        impl $ty {
            /// The answer this came from: status, request id, tries and headers. `None` for
            /// one built locally (`new`) or read back from JSON. For a download resumed by
            /// [`download_to`](crate::FilesClient::download_to), the answer that started it.
            pub fn response(&self) -> Option<&$crate::answer::ResponseInfo> {
                self.answered.get()
            }

            /// The server's request id for the call this came from, the one support asks
            /// for (shorthand for `response()?.request_id()`).
            pub fn request_id(&self) -> Option<&str> {
                self.response()?.request_id()
            }
        }
    )*};
}

pub(crate) use answered;
