//! The one path every call takes: URL building with percent-encoded segments and query, the
//! auth and default headers, per-call timeouts, the retry loop, and status-to-error mapping.

use std::io::Read;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use ureq::http::{self, Method, Response};
use ureq::{Body, RequestExt, SendBody};

use crate::client::FilesClient;
use crate::error::{ApiError, Error, Result};
use crate::retry;

/// The most of an error body the client reads.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// The most of an error body kept as a snippet.
const SNIPPET_LIMIT: usize = 1024;
/// The most of a JSON success body the client reads (a page of 1000 files is ~300 KB).
const JSON_BODY_LIMIT: u64 = 64 * 1024 * 1024;

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
}

impl Reply {
    /// Wraps an error that happened while reading this reply's body.
    pub(crate) fn transport_error(&self, source: ureq::Error) -> Error {
        Error::Transport {
            method: self.method,
            path: self.path.clone(),
            source: Box::new(source),
        }
    }
}

impl FilesClient {
    /// Sends `call`, retrying per the client's policy. `body` is asked for a fresh body before
    /// each try. Returns the 2xx response, or the error of the last try.
    pub(crate) fn execute<'a>(
        &self,
        call: &Call<'_>,
        mut body: Option<&mut dyn FnMut() -> Result<Outgoing<'a>>>,
    ) -> Result<Reply> {
        let path = api_path(call);
        let url = self.url(&path, call)?;
        let policy = self.options.retry;
        let mut attempts = 0;
        loop {
            attempts += 1;
            if let Some(gate) = &self.options.gate {
                gate.wait();
            }
            let outgoing = match body.as_deref_mut() {
                Some(make) => Some(make()?),
                None => None,
            };
            let (retryable, wait_hint, error) = match self.attempt(call, &url, outgoing) {
                Ok(response) if response.status().is_success() => {
                    return Ok(Reply {
                        response,
                        method: method_name(&call.method),
                        path,
                    });
                }
                Ok(response) => {
                    let api = api_error(response, attempts);
                    let retryable = match call.replay {
                        Replay::Idempotent => api.kind().is_retryable(),
                        Replay::Upload => matches!(api.status, 408 | 429 | 503),
                        Replay::Never => false,
                    };
                    (retryable, api.retry_after, Error::from(api))
                }
                Err(source) => {
                    let retryable = match call.replay {
                        Replay::Idempotent => retry::is_retryable_transport(&source),
                        Replay::Upload => retry::failed_before_sending(&source),
                        Replay::Never => false,
                    };
                    let error = Error::Transport {
                        method: method_name(&call.method),
                        path: path.clone(),
                        source: Box::new(source),
                    };
                    (retryable, None, error)
                }
            };
            if !retryable || attempts > policy.max_retries() {
                return Err(error);
            }
            let Some(wait) = policy.delay(attempts - 1, wait_hint) else {
                return Err(error);
            };
            if let (Some(gate), Some(_)) = (&self.options.gate, wait_hint) {
                gate.hold_for(wait);
            }
            log::debug!(
                "retrying {} {path} after {} (attempt {attempts} of {}), waiting {wait:?}",
                call.method,
                error
                    .status()
                    .map_or_else(|| "a transport error".to_string(), |s| format!("HTTP {s}")),
                policy.max_retries() + 1,
            );
            std::thread::sleep(wait);
        }
    }

    fn attempt(
        &self,
        call: &Call<'_>,
        url: &str,
        outgoing: Option<Outgoing<'_>>,
    ) -> Result<Response<Body>, ureq::Error> {
        let mut request = http::Request::builder()
            .method(call.method.clone())
            .uri(url);
        request = request.header(http::header::AUTHORIZATION, self.shared.auth.clone());
        for (name, value) in self.shared.headers.iter().chain(&self.options.headers) {
            request = request.header(name, value);
        }
        if call.identity {
            request = request.header(http::header::ACCEPT_ENCODING, "identity");
        }
        match outgoing {
            Some(outgoing) => {
                let mut reader = outgoing.reader;
                let request = request
                    .header(http::header::CONTENT_TYPE, outgoing.content_type)
                    .header(http::header::CONTENT_LENGTH, outgoing.len);
                self.run(request, SendBody::from_reader(&mut *reader))
            }
            None => self.run(request, SendBody::none()),
        }
    }

    /// Sends a request with this scope's timeouts through the shared agent.
    fn run(
        &self,
        request: http::request::Builder,
        body: SendBody<'_>,
    ) -> Result<Response<Body>, ureq::Error> {
        let timeouts = &self.options.timeouts;
        request
            .body(body)?
            .with_agent(&self.shared.agent)
            .configure()
            .timeout_connect(timeouts.connect)
            .timeout_recv_response(timeouts.response)
            .timeout_per_read(timeouts.stall)
            .timeout_per_write(timeouts.stall)
            .run()
    }

    /// The full URL of `call` at `path`, after checking what can be checked locally.
    fn url(&self, path: &str, call: &Call<'_>) -> Result<String> {
        let mut url = format!("{}{path}", self.shared.base_url);
        let mut query: Vec<(&str, &str)> =
            call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(workspace) = &self.options.workspace {
            if !is_uuid(workspace) {
                return Err(Error::InvalidInput(format!(
                    "workspace {workspace:?} is not a UUID"
                )));
            }
            query.push(("workspace_id", workspace));
        }
        if let Some(provider) = &self.options.provider {
            query.push(("provider", provider.as_str()));
        }
        for (i, (key, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            push_encoded(&mut url, key);
            url.push('=');
            push_encoded(&mut url, value);
        }
        Ok(url)
    }
}

/// The request path below the base URL, segments encoded; also what logs and errors show
/// (no host, no query, no key).
fn api_path(call: &Call<'_>) -> String {
    let mut path = String::from("/files");
    for segment in call.segments {
        path.push('/');
        push_segment(&mut path, segment);
    }
    path
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        _ => "HTTP",
    }
}

/// True for the 8-4-4-4-12 hexadecimal form of a UUID.
pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Appends `text` percent-encoded: everything but RFC 3986 unreserved characters.
fn push_encoded(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Appends one path segment; `.` and `..` are encoded too, so they cannot climb the path.
fn push_segment(out: &mut String, segment: &str) {
    if segment.bytes().all(|b| b == b'.') {
        out.push_str(&"%2E".repeat(segment.len()));
    } else {
        push_encoded(out, segment);
    }
}

#[derive(Deserialize)]
struct WireError {
    error: WireErrorData,
}

#[derive(Deserialize)]
struct WireErrorData {
    code: Option<serde_json::Value>,
    message: Option<String>,
    metadata: Option<serde_json::Value>,
}

/// Reads (at most 64 KiB of) a failure response into an [`ApiError`].
fn api_error(response: Response<Body>, attempts: u32) -> ApiError {
    let status = response.status().as_u16();
    let headers = response.headers();
    let request_id = [
        "x-request-id",
        "request-id",
        "x-openrouter-request-id",
        "cf-ray",
    ]
    .iter()
    .find_map(|name| headers.get(*name)?.to_str().ok())
    .map(str::to_string);
    let retry_after = retry::retry_after(headers);
    let mut raw = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(ERROR_BODY_LIMIT)
        .read_to_end(&mut raw);
    let parsed = serde_json::from_slice::<WireError>(&raw)
        .ok()
        .filter(|w| w.error.message.is_some());
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unexpected status");
    match parsed {
        Some(wire) => ApiError {
            status,
            code: wire.error.code.and_then(|c| c.as_i64()),
            message: wire.error.message.unwrap_or_default(),
            metadata: wire.error.metadata.filter(|m| !m.is_null()),
            request_id,
            retry_after,
            body_snippet: None,
            attempts,
        },
        None => ApiError {
            status,
            code: None,
            message: reason.to_string(),
            metadata: None,
            request_id,
            retry_after,
            body_snippet: Some(snippet(&raw)).filter(|s| !s.is_empty()),
            attempts,
        },
    }
}

/// The start of a body, lossily decoded, for error messages.
pub(crate) fn snippet(raw: &[u8]) -> String {
    let cut = &raw[..raw.len().min(SNIPPET_LIMIT)];
    String::from_utf8_lossy(cut).trim().to_string()
}

/// Reads a 2xx JSON body to the end (so the connection can be reused) and decodes it.
pub(crate) fn read_json<T: DeserializeOwned>(mut reply: Reply, what: &'static str) -> Result<T> {
    let raw = reply
        .response
        .body_mut()
        .with_config()
        .limit(JSON_BODY_LIMIT)
        .read_to_vec()
        .map_err(|source| reply.transport_error(source))?;
    serde_json::from_slice(&raw).map_err(|source| Error::Decode {
        what,
        snippet: snippet(&raw),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_their_place() {
        let mut s = String::new();
        push_segment(&mut s, "../x");
        assert_eq!(s, "..%2Fx");
        s.clear();
        push_segment(&mut s, "..");
        assert_eq!(s, "%2E%2E");
        s.clear();
        push_segment(&mut s, "a/b c?d#é");
        assert_eq!(s, "a%2Fb%20c%3Fd%23%C3%A9");
    }

    #[test]
    fn uuids_are_checked_by_shape() {
        assert!(is_uuid("a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"));
        assert!(!is_uuid("a103d8b6-42f0-4e50-9a3c"));
        assert!(!is_uuid("g103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"));
        assert!(!is_uuid(""));
    }
}
