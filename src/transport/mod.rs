//! The one path every call takes, below the façade and above ureq, split by job:
//!
//! - [`url`]: the request URL, segments and query percent-encoded, checked locally;
//! - [`request`]: the request loop (headers, timeouts, the retry rules, the shared pause);
//! - [`redirect`]: which redirects are followed, by the crate's own rules;
//! - [`response`]: status-to-error mapping and reading JSON bodies, bounded and redacted;
//! - [`answered`]: the answer (request id, headers, tries) kept on each result;
//! - [`inflate`]: whether this build's ureq inflates answers (a download check).
//!
//! It reads the client's settings ([`config`](crate::config)) through [`Transport`], never the
//! façade itself.

use std::io::Read;
use std::sync::Arc;

use ureq::Body;
use ureq::http::{Method, Response};

use crate::config::{Options, Shared};
use crate::error::{Error, TransportError};

mod answered;
pub(crate) mod inflate;
mod redirect;
mod request;
mod response;
mod url;

pub(crate) use answered::{read_answer, read_checked_answer};
pub(crate) use response::{read_checked_json, read_json, shown, snippet};

/// The settings one call is sent with: what every clone of the client shares and what its
/// scope changed.
pub(crate) struct Transport<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) options: &'a Options,
}

/// Whether a call may be sent again after a failure, and under which conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// list, retrieve, delete, download: any retryable failure.
    Idempotent,
    /// An upload whose source can be read again: only failures where the server cannot have
    /// stored the file (nothing sent, 408, 429, 503).
    Upload,
    /// An upload from a one-shot reader: never.
    Never,
}

/// A request body with an exact length.
pub(crate) struct Outgoing<'a> {
    pub(crate) reader: Box<dyn Read + 'a>,
    pub(crate) len: u64,
    pub(crate) content_type: String,
}

/// One Files API call, before it is sent.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// Path segments after `files`, each sent as exactly one segment.
    pub(crate) segments: &'a [&'a str],
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) replay: Replay,
    /// Asks for the body as stored (`Accept-Encoding: identity`), so its length can be checked.
    pub(crate) identity: bool,
}

/// A 2xx response and the call it answered (for error messages).
pub(crate) struct Reply {
    pub(crate) response: Response<Body>,
    pub(crate) method: &'static str,
    pub(crate) path: String,
    /// The API key, to remove from anything the server sent that an error keeps.
    pub(crate) secret: Arc<str>,
    /// How many tries the call took.
    pub(crate) attempts: u32,
}

impl Reply {
    /// Wraps an error that happened while reading this reply's body.
    pub(crate) fn transport_error(&self, source: ureq::Error) -> Error {
        Error::Transport(TransportError::new(
            self.method,
            self.path.clone(),
            None,
            source,
        ))
    }

    /// A [`Error::Decode`] for a body that is not what `what` returns, its snippet redacted.
    pub(crate) fn decode_error(
        &self,
        what: &'static str,
        raw: &[u8],
        source: serde_json::Error,
    ) -> Error {
        Error::Decode {
            what,
            snippet: snippet(raw, &self.secret),
            source,
        }
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        _ => "HTTP",
    }
}
